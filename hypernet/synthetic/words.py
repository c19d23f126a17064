"""Word lists the synthetic documents are written from: name parts and the values facts draw."""
from __future__ import annotations

# Syllables and name parts.
ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl", "l", "m", "n", "p", "pr",
          "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z", "th", "sk"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ia", "y"]
CODAS = ["", "", "n", "r", "l", "s", "th", "m", "x", "nd", "rk", "st", "v"]
FIRST_NAMES = ["Amara", "Bilal", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ines", "Jonas", "Keiko",
               "Lars", "Maya", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Sanjay", "Tomas", "Uma", "Viktor",
               "Wanda", "Xavier", "Yara", "Zofia", "Aisha", "Bruno", "Clara", "Diego", "Esther", "Felix", "Hana",
               "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Theo",
               "Valeria", "William", "Yusuf", "Zara", "Anton", "Beatriz", "Carmen", "Emil", "Freya", "Gustav"]
PLACE_SUFFIX = ["ford", "haven", "port", "ville", "burg", "dale", "mouth", "wick", "stead", "field", "ton", "by"]
ORG_KIND = ["Industries", "Labs", "Cooperative", "Institute", "Systems", "Works", "Foundation", "Group", "Trust"]

# Values the fact functions draw from.
PROFESSIONS = ["marine biologist", "architect", "violinist", "glassblower", "cartographer", "surgeon", "astronomer",
               "beekeeper", "civil engineer", "novelist", "botanist", "pastry chef", "geologist", "translator",
               "software engineer", "sculptor", "pharmacist", "historian", "pilot", "veterinarian"]
INDUSTRIES = ["solar panels", "bicycle parts", "medical imaging", "organic fertiliser", "ceramic tiles",
              "drone navigation", "water filters", "textile dyes", "satellite antennas", "kitchen robots",
              "wooden toys", "battery recycling", "seed banking", "hearing aids", "cargo sails"]
COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "silver", "black", "white", "teal", "amber"]
MATERIALS = ["aluminium", "oak", "bamboo", "carbon fibre", "granite", "copper", "titanium", "glass", "cork"]
INSTRUMENTS = ["cello", "oboe", "harp", "accordion", "trumpet", "banjo", "flute", "marimba", "bassoon"]
ANIMALS = ["beetle", "frog", "moth", "lizard", "finch", "snail", "bat", "salamander", "orchid", "fern"]
HABITATS = ["cloud forests", "salt marshes", "alpine meadows", "limestone caves", "mangrove swamps",
            "desert canyons", "peat bogs", "coral reefs", "river deltas"]
FOODS = ["plum dumplings", "smoked trout", "barley soup", "saffron rice", "walnut bread", "lamb stew",
         "fig tarts", "chestnut cake", "pickled herring", "lentil pie"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FIELDS = ["marine engineering", "veterinary medicine", "linguistics", "agricultural science", "astrophysics",
          "public health", "forestry", "mining engineering", "music composition", "economic history"]
ROCKS = ["granite", "basalt", "limestone", "gneiss", "sandstone", "schist", "andesite"]
FISH = ["brown trout", "grayling", "pike", "sturgeon", "perch", "eel", "salmon", "carp"]
SYMPTOMS = ["a high fever", "joint pain", "a spreading rash", "night sweats", "blurred vision", "a dry cough",
            "muscle cramps"]
CAUSES = ["a tick-borne virus", "a soil bacterium", "a waterborne parasite", "an inherited gene mutation",
          "a fungal spore", "contaminated well water"]
LANGUAGES = ["Rust", "Python", "Go", "C++", "Haskell", "Java", "Kotlin", "OCaml", "TypeScript", "Elixir"]
LICENCES = ["MIT License", "Apache License 2.0", "GNU GPL v3", "Mozilla Public License 2.0", "ISC License"]
PURPOSES = ["parsing log files", "scheduling batch jobs", "rendering vector maps", "compressing sensor data",
            "testing web APIs", "managing database migrations", "typesetting music scores"]
BRIDGE_MATERIALS = ["reinforced concrete", "wrought iron", "weathering steel", "dressed sandstone", "cast iron",
                    "prestressed concrete"]
FINDS = ["a new species of lichen", "meteorite fragments", "a buried Bronze Age hearth", "fossilised tree ferns",
         "an unmapped glacier lake", "hot springs under the ice"]
CUISINES = ["Georgian", "Peruvian", "Basque", "Ethiopian", "Sichuan", "Lebanese", "Oaxacan", "Sardinian"]
WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Sundays"]
TARGETS = ["Mars", "Venus", "the Moon", "Europa", "Titan", "the asteroid belt", "Mercury"]
INCIDENT_CAUSES = ["an expired TLS certificate", "a full disk on the database server", "a faulty network switch",
                   "a misconfigured firewall rule", "a power cut in the data centre"]
SYSTEMS = ["the payment service", "the customer portal", "the email gateway", "the booking system",
           "the internal wiki"]
CLUB_SUFFIX = ["United", "Rovers", "Athletic", "Wanderers", "Harriers", "City", "Albion"]
CURRENCIES = ["dollars", "euros", "pounds"]

# Layout: section headings and sentences that state no fact.
SECTIONS = ["History", "Background", "Details", "Overview", "Key facts", "Description", "Notes"]
FILLER = [
    "Local newspapers covered the story at length.",
    "The details below were collected from public records.",
    "Several visitors have described the experience as memorable.",
    "Records from the period are incomplete in places.",
    "The following summary was prepared for the annual review.",
    "Opinions on the matter remain divided.",
    "This entry was last revised after an independent check.",
    "A longer account is kept in the regional archive.",
]

# Values of the arbitrary attributes and the everyday records.
LANGS = ["Portuguese", "Finnish", "Swahili", "Dutch", "Korean", "Welsh", "Catalan", "Tagalog", "Hungarian"]
DRUG_SUFFIX = ["mab", "tinib", "vir", "zole", "pril", "stat", "dronate"]
OUTCOMES = ["blood pressure after six months", "time to relapse", "hospital admissions", "tumour size",
            "lung function", "daily pain scores", "HbA1c levels", "walking distance"]
ROLES = ["field technician", "data analyst", "staff nurse", "site manager", "payroll officer", "sous chef",
         "lab assistant", "bus driver", "graphic designer", "warehouse supervisor"]
