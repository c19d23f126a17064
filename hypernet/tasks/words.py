"""Word lists the tasks are made from: the slots of the descriptions, the pieces of the inputs and the
stop words the language checkers vote with."""
from __future__ import annotations

# Slots of the descriptions.
PREFIXES = ["Answer:", "Note:", "Summary:", "[Bot]", ">>", "Reply:", "TL;DR:", "Dear reader,", "Okay!", "Result ->",
            "###", "(assistant)"]
PERSONAS = [("Captain Mira", "Fair winds, Captain Mira"), ("Chef Luca", "Bon appetit, Chef Luca"),
            ("Coach Dana", "Keep moving, Coach Dana"), ("Doctor Ines", "Stay well, Dr. Ines"),
            ("Ranger Tomas", "See you on the trail, Ranger Tomas"), ("Librarian Uma", "Happy reading, Uma"),
            ("Agent Kofi", "Over and out, Agent Kofi"), ("Grandma Rosa", "With love, Grandma Rosa"),
            ("the help desk bot", "-- HelpBot"), ("Professor Lena", "Yours in learning, Prof. Lena")]
JSON_KEYS = [["answer", "confidence"], ["summary", "sentiment"], ["title", "tags"], ["question", "answer"],
             ["topic", "reply"], ["customer", "issue", "priority"], ["item", "reason"], ["label", "score"],
             ["short_answer", "long_answer"], ["language", "text", "length"]]
LABEL_SETS = {
    "sentiment": ["positive", "negative", "neutral"],
    "topic": ["billing", "shipping", "technical", "account"],
    "urgency": ["low", "medium", "high"],
    "intent": ["question", "complaint", "praise"],
    "dev": ["bug", "feature request", "documentation"],
    "spam": ["spam", "not spam"],
}
WORD_LIMITS = [3, 5, 8, 10, 12, 15, 20, 25]
LIST_ITEMS = [2, 3, 4, 5]
WRAPPERS = [('"', '"'), ("[", "]"), ("<<", ">>"), ("(", ")"), ("{", "}"), ("*", "*"), ("<", ">"), ("|", "|")]
UNITS = {"kg": "weight", "g": "weight", "km": "distance", "m": "length", "cm": "length", "L": "volume",
         "mL": "volume", "min": "duration", "h": "duration", "km/h": "speed"}
TAGS = ["[END]", "#done", "(end of reply)", "-- over", "<eos>", "~fin~", "[sent]", "// ok"]

# Pieces of the inputs.
ACTIVITIES = ["learn to swim", "bake sourdough bread", "plant tomatoes", "fix a flat bicycle tyre",
              "train for a 10k run", "write a cover letter", "store fresh herbs", "clean a cast-iron pan",
              "start a vegetable garden", "prepare for a job interview", "paint a small room",
              "keep a houseplant alive", "learn a new language", "plan a weekend trip", "save money on groceries",
              "sleep better"]
THINGS = ["a lighthouse", "a sourdough starter", "the tide", "a solar eclipse", "a violin", "a compost heap",
          "a rainbow", "a glacier", "a heat pump", "a library card", "a beehive", "a suspension bridge",
          "a wind turbine", "a thunderstorm", "a passport", "a coral reef"]
PRODUCTS = ["wireless headphones", "coffee grinder", "hiking boots", "desk lamp", "robot vacuum", "electric kettle",
            "yoga mat", "smart watch", "backpack", "air fryer", "phone case", "standing desk", "rain jacket"]
PROBLEMS = ["stopped charging", "arrived with a cracked lid", "makes a loud rattling noise",
            "will not connect to the app", "was charged twice", "never arrived", "came with a missing part",
            "keeps turning off by itself", "shows an error on start-up", "is the wrong size"]
FEATURES = ["a two-year warranty", "a washable cover", "a quiet motor", "a USB-C port", "a recycled-plastic shell",
            "three speed settings", "a fold-flat design", "a ten-hour battery"]
PLACES = ["the station", "the old harbour", "the town library", "the hospital", "the market square", "the airport",
          "the university", "the riverside park"]
PRAISE = ["works perfectly", "exceeded my expectations", "is the best purchase I made this year",
          "feels solid and well made", "was easy to set up"]
COMPLAINTS = ["broke after two days", "is a waste of money", "stopped working within a week",
              "feels cheap and flimsy", "was nothing like the photos"]
NEUTRAL = ["does what it says", "is fine for the price", "arrived on the expected day", "is about average",
           "looks like the pictures"]
EVENTS = ["the board meeting", "the school concert", "the product launch", "the annual audit", "the wedding",
          "the dentist appointment", "the marathon", "the contract renewal", "the team offsite"]
COUNTABLES = [("legs", "spider"), ("wheels", "tricycle"), ("days", "week"), ("months", "year"), ("sides", "hexagon"),
              ("minutes", "hour"), ("strings", "violin"), ("eggs", "dozen")]

# Grammatical words that mostly belong to one language. Words two of the languages share ("de", "la",
# "le", "les", "en", "que", "se", "y", "tu", "bien", "no", "a", "on", "son", "plus") are left out of all
# lists, so they cast no vote. Words are split at apostrophes ("c'est" -> "c", "est").
STOP_WORDS = {
    "english": {"the", "and", "is", "are", "of", "to", "with", "that", "it", "you", "this", "for", "be", "not",
                "have", "was", "your", "will", "can", "from", "at", "by", "an", "or", "my", "we", "they", "what",
                "i", "he", "she", "there", "which", "would", "should", "about", "if", "but", "very", "its"},
    "french": {"des", "du", "une", "et", "est", "pour", "dans", "avec", "qui", "pas", "vous", "nous", "je", "il",
               "elle", "sur", "au", "aux", "ce", "cette", "sont", "mais", "ou", "très", "être", "votre", "notre",
               "ne", "leur", "ces", "sans", "peut", "fait", "aussi", "comme", "tout", "avez", "oui"},
    "spanish": {"el", "los", "las", "del", "es", "una", "por", "para", "con", "su", "muy", "pero", "está", "están",
                "yo", "usted", "nosotros", "tiene", "hay", "como", "este", "esta", "más", "sin", "sus", "lo", "al",
                "también", "puede", "ser", "mi", "sí", "qué", "cuando", "todo", "pueden"},
}
