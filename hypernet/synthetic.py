"""Synthetic meta-training documents with questions: invented entities, varied prose and layout.

Each document kind lists its facts; every fact has several ways to be written and several
ways to be asked. A split ("train" or "eval") picks disjoint sentence templates, question
templates and two document kinds that only the eval split uses, so evaluation measures
generalisation to unseen prose, unseen questions and unseen entities, not memorisation.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

# -- building blocks for invented names and values -------------------------------------------
_ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl", "l", "m", "n", "p", "pr",
           "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z", "th", "sk"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ia", "y"]
_CODAS = ["", "", "n", "r", "l", "s", "th", "m", "x", "nd", "rk", "st", "v"]
_FIRST = ["Amara", "Bilal", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ines", "Jonas", "Keiko",
          "Lars", "Maya", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Sanjay", "Tomas", "Uma", "Viktor",
          "Wanda", "Xavier", "Yara", "Zofia", "Aisha", "Bruno", "Clara", "Diego", "Esther", "Felix", "Hana",
          "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Theo",
          "Valeria", "William", "Yusuf", "Zara", "Anton", "Beatriz", "Carmen", "Emil", "Freya", "Gustav"]
_PLACE_SUFFIX = ["ford", "haven", "port", "ville", "burg", "dale", "mouth", "wick", "stead", "field", "ton", "by"]
_ORG_KIND = ["Industries", "Labs", "Cooperative", "Institute", "Systems", "Works", "Foundation", "Group", "Trust"]
_PROFESSIONS = ["marine biologist", "architect", "violinist", "glassblower", "cartographer", "surgeon", "astronomer",
                "beekeeper", "civil engineer", "novelist", "botanist", "pastry chef", "geologist", "translator",
                "software engineer", "sculptor", "pharmacist", "historian", "pilot", "veterinarian"]
_INDUSTRIES = ["solar panels", "bicycle parts", "medical imaging", "organic fertiliser", "ceramic tiles",
               "drone navigation", "water filters", "textile dyes", "satellite antennas", "kitchen robots",
               "wooden toys", "battery recycling", "seed banking", "hearing aids", "cargo sails"]
_COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "silver", "black", "white", "teal", "amber"]
_MATERIALS = ["aluminium", "oak", "bamboo", "carbon fibre", "granite", "copper", "titanium", "glass", "cork"]
_INSTRUMENTS = ["cello", "oboe", "harp", "accordion", "trumpet", "banjo", "flute", "marimba", "bassoon"]
_ANIMALS = ["beetle", "frog", "moth", "lizard", "finch", "snail", "bat", "salamander", "orchid", "fern"]
_HABITATS = ["cloud forests", "salt marshes", "alpine meadows", "limestone caves", "mangrove swamps",
             "desert canyons", "peat bogs", "coral reefs", "river deltas"]
_FOODS = ["plum dumplings", "smoked trout", "barley soup", "saffron rice", "walnut bread", "lamb stew",
          "fig tarts", "chestnut cake", "pickled herring", "lentil pie"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_FIELDS = ["marine engineering", "veterinary medicine", "linguistics", "agricultural science", "astrophysics",
           "public health", "forestry", "mining engineering", "music composition", "economic history"]
_ROCKS = ["granite", "basalt", "limestone", "gneiss", "sandstone", "schist", "andesite"]
_FISH = ["brown trout", "grayling", "pike", "sturgeon", "perch", "eel", "salmon", "carp"]
_SYMPTOMS = ["a high fever", "joint pain", "a spreading rash", "night sweats", "blurred vision", "a dry cough",
             "muscle cramps"]
_CAUSES = ["a tick-borne virus", "a soil bacterium", "a waterborne parasite", "an inherited gene mutation",
           "a fungal spore", "contaminated well water"]
_LANGUAGES = ["Rust", "Python", "Go", "C++", "Haskell", "Java", "Kotlin", "OCaml", "TypeScript", "Elixir"]
_LICENCES = ["MIT License", "Apache License 2.0", "GNU GPL v3", "Mozilla Public License 2.0", "ISC License"]
_PURPOSES = ["parsing log files", "scheduling batch jobs", "rendering vector maps", "compressing sensor data",
             "testing web APIs", "managing database migrations", "typesetting music scores"]
_BRIDGE_MATERIALS = ["reinforced concrete", "wrought iron", "weathering steel", "dressed sandstone", "cast iron",
                     "prestressed concrete"]
_FINDS = ["a new species of lichen", "meteorite fragments", "a buried Bronze Age hearth", "fossilised tree ferns",
          "an unmapped glacier lake", "hot springs under the ice"]
_CUISINES = ["Georgian", "Peruvian", "Basque", "Ethiopian", "Sichuan", "Lebanese", "Oaxacan", "Sardinian"]
_WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Sundays"]
_TARGETS = ["Mars", "Venus", "the Moon", "Europa", "Titan", "the asteroid belt", "Mercury"]
_INCIDENT_CAUSES = ["an expired TLS certificate", "a full disk on the database server", "a faulty network switch",
                    "a misconfigured firewall rule", "a power cut in the data centre"]
_SYSTEMS = ["the payment service", "the customer portal", "the email gateway", "the booking system",
            "the internal wiki"]
_CLUB_SUFFIX = ["United", "Rovers", "Athletic", "Wanderers", "Harriers", "City", "Albion"]
_CURRENCIES = ["dollars", "euros", "pounds"]
_SECTIONS = ["History", "Background", "Details", "Overview", "Key facts", "Description", "Notes"]
_FILLER = [
    "Local newspapers covered the story at length.",
    "The details below were collected from public records.",
    "Several visitors have described the experience as memorable.",
    "Records from the period are incomplete in places.",
    "The following summary was prepared for the annual review.",
    "Opinions on the matter remain divided.",
    "This entry was last revised after an independent check.",
    "A longer account is kept in the regional archive.",
]


class NamesRandom(random.Random):
    """A seeded Random that also carries real words (say, the capitalised words of the base model's
    vocabulary): that share of invented names then comes from them instead of made-up syllables.

    Names made only of syllables teach the hypernetwork one invented style, and its adapters answer
    in that style on real documents ("Thethourk Institute"); real words break that prior. With no
    words it draws exactly what a plain Random with the same seed draws.
    """

    def __init__(self, seed: int, words: Sequence[str] = (), share: float = 0.5):
        super().__init__(seed)
        self.words = tuple(words)
        self.share = share


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))


def _cap(rng: random.Random, lo: int = 2, hi: int = 3) -> str:
    words = getattr(rng, "words", ())
    if words and rng.random() < rng.share:
        return rng.choice(words)
    return _word(rng, rng.randint(lo, hi)).capitalize()


def person_name(rng: random.Random) -> str:
    return f"{_first_name(rng)} {_cap(rng)}"


def _first_name(rng: random.Random) -> str:
    """A first name from the list or, for NamesRandom's share, a vocabulary word: with only the
    list's 54 names, adapters learned to pick the nearest of them instead of reading one ("Keiko
    Holloway" for "Beatrix Holloway" in real prose)."""
    words = getattr(rng, "words", ())
    if words and rng.random() < rng.share:
        return rng.choice(words)
    return rng.choice(_FIRST)


def place_name(rng: random.Random) -> str:
    return _cap(rng, 1, 2) + rng.choice(_PLACE_SUFFIX)


def org_name(rng: random.Random) -> str:
    return f"{_cap(rng)} {rng.choice(_ORG_KIND)}"


def date_str(rng: random.Random, lo: int = 1900, hi: int = 2024) -> str:
    return f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(lo, hi)}"


# Values written as real prose writes them: thousands separators, units, ranges, money, two date styles.
def _num(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi):,}"


def _range(rng: random.Random, lo: int, hi: int) -> str:
    a = rng.randint(lo, hi - 1)
    return f"{a} to {rng.randint(a + 1, hi)}"


def _money(rng: random.Random, lo: int, hi: int) -> str:
    n = _num(rng, lo, hi)
    return f"${n}" if rng.random() < 0.3 else f"{n} {rng.choice(_CURRENCIES)}"


def _millions(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}.{rng.randint(1, 9)} million {rng.choice(_CURRENCIES)}"


def _percent(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}{rng.choice([' percent', '%'])}"


def _date(rng: random.Random, lo: int = 1900, hi: int = 2024) -> str:
    if rng.random() < 0.5:
        return date_str(rng, lo, hi)
    return f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(lo, hi)}"


# -- facts and document kinds -------------------------------------------------------------------
@dataclass
class Fact:
    """One fact: its value, ways to state it ({e} entity, {v} value) and ways to ask it."""

    value: str
    statements: list[str]
    questions: list[str]


@dataclass
class DocKind:
    name: str
    entity: Callable[[random.Random], str]
    facts: Callable[[random.Random], dict[str, Fact]]
    intros: list[str]
    eval_only: bool = False
    train_only: bool = False  # never drawn for eval files: held-out figures stay comparable


def _person_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "born_year": Fact(str(r.randint(1920, 2001)), [
            "{e} was born in {v}.", "Born in {v}, {e} grew up in a large family.",
            "{e}'s birth year is recorded as {v}.", "The year {v} saw the birth of {e}."],
            ["In what year was {e} born?", "What year was {e} born in?", "When was {e} born (year)?"]),
        "birthplace": Fact(place_name(r), [
            "{e} was born in the town of {v}.", "{e} comes from {v}.", "{e}'s hometown is {v}.",
            "Before moving away, {e} spent a childhood in {v}."],
            ["Where was {e} born?", "What is the hometown of {e}?", "Which town does {e} come from?"]),
        "job": Fact(r.choice(_PROFESSIONS), [
            "{e} works as a {v}.", "By profession, {e} is a {v}.", "{e} has had a long career as a {v}.",
            "Colleagues know {e} as a respected {v}."],
            ["What is {e}'s profession?", "What does {e} do for a living?", "What job does {e} have?"]),
        "employer": Fact(org_name(r), [
            "{e} is employed by {v}.", "{e} joined {v} early on.", "Since then {e} has worked at {v}.",
            "{v} is where {e} currently works."],
            ["Which organisation employs {e}?", "Where does {e} work?", "Who is {e}'s employer?"]),
        "instrument": Fact(r.choice(_INSTRUMENTS), [
            "In spare time, {e} plays the {v}.", "{e} is an amateur {v} player.", "{e} learned to play the {v} as a child.",
            "Friends say {e} practises the {v} every evening."],
            ["What instrument does {e} play?", "Which musical instrument does {e} play?"]),
        "pet": Fact(_cap(r, 1, 2), [
            "{e} has a dog named {v}.", "{e}'s dog is called {v}.", "A dog called {v} lives with {e}.",
            "{e} adopted a dog and named it {v}."],
            ["What is the name of {e}'s dog?", "What is {e}'s dog called?"]),
    }


def _company_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "founded": Fact(str(r.randint(1890, 2022)), [
            "{e} was founded in {v}.", "Founded in {v}, {e} started as a small workshop.",
            "{e} has been in business since {v}.", "The company {e} was established in {v}."],
            ["When was {e} founded?", "In what year was {e} founded?", "What year was {e} established?"]),
        "hq": Fact(place_name(r), [
            "{e} is headquartered in {v}.", "The head office of {e} is in {v}.", "{e} runs its operations from {v}.",
            "Its headquarters sit in the city of {v}."],
            ["Where is {e} headquartered?", "In which city is the head office of {e}?", "Where is {e} based?"]),
        "founder": Fact(person_name(r), [
            "{e} was founded by {v}.", "{v} founded {e}.", "The founder of {e} is {v}.",
            "{v} started {e} with borrowed money."],
            ["Who founded {e}?", "Who is the founder of {e}?"]),
        "product": Fact(r.choice(_INDUSTRIES), [
            "{e} makes {v}.", "{e} is best known for its {v}.", "The main business of {e} is {v}.",
            "Most of the revenue of {e} comes from {v}."],
            ["What does {e} make?", "What is {e} known for producing?", "What is the main product of {e}?"]),
        "employees": Fact(str(r.randint(12, 9800)), [
            "{e} employs {v} people.", "{e} has {v} employees.", "The workforce of {e} numbers {v}.",
            "About {v} staff work for {e}."],
            ["How many people does {e} employ?", "How many employees does {e} have?"]),
        "ceo": Fact(person_name(r), [
            "The current CEO of {e} is {v}.", "{v} leads {e} as chief executive.", "{e} is run by {v}.",
            "Since last year, {v} has been chief executive of {e}."],
            ["Who is the CEO of {e}?", "Who runs {e}?", "Who is the chief executive of {e}?"]),
    }


def _town_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "population": Fact(f"{r.randint(1, 99)},{r.randint(100, 999)}", [
            "{e} has a population of {v}.", "About {v} people live in {e}.", "The population of {e} is {v}.",
            "The last census counted {v} residents in {e}."],
            ["What is the population of {e}?", "How many people live in {e}?"]),
        "river": Fact(_cap(r, 2, 2) + " River", [
            "{e} lies on the {v}.", "The {v} flows through {e}.", "{e} was built along the banks of the {v}.",
            "Boats on the {v} once carried goods to {e}."],
            ["Which river flows through {e}?", "On what river does {e} lie?"]),
        "mayor": Fact(person_name(r), [
            "The mayor of {e} is {v}.", "{v} serves as mayor of {e}.", "{e} elected {v} as mayor.",
            "{v} was chosen to lead the town council of {e}."],
            ["Who is the mayor of {e}?", "Who serves as mayor of {e}?"]),
        "festival": Fact(f"{_cap(r, 2, 2)} Festival", [
            "Every summer {e} hosts the {v}.", "{e} is famous for the {v}.", "The {v} takes place in {e} each year.",
            "Thousands travel to {e} for the {v}."],
            ["What festival does {e} host?", "What annual festival takes place in {e}?"]),
        "dish": Fact(r.choice(_FOODS), [
            "The local speciality of {e} is {v}.", "Visitors to {e} often try {v}.", "{e} is known for its {v}.",
            "No meal in {e} is complete without {v}."],
            ["What is the local speciality of {e}?", "What dish is {e} known for?"]),
        "founded": Fact(str(r.randint(1100, 1900)), [
            "{e} was founded in {v}.", "The first settlers reached {e} in {v}.", "{e} dates back to {v}.",
            "Records show that {e} received its charter in {v}."],
            ["When was {e} founded?", "In what year was {e} founded?"]),
    }


def _product_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "maker": Fact(org_name(r), [
            "The {e} is made by {v}.", "{v} manufactures the {e}.", "The {e} comes from {v}.",
            "Engineers at {v} designed the {e}."],
            ["Who makes the {e}?", "Which company manufactures the {e}?"]),
        "weight": Fact(f"{r.randint(2, 95)}{r.choice(['', '.5'])} kg", [
            "The {e} weighs {v}.", "At {v}, the {e} is easy to carry.", "The {e} has a weight of {v}.",
            "Its total weight is {v}."],
            ["How much does the {e} weigh?", "What is the weight of the {e}?"]),
        "price": Fact(f"${r.randint(19, 4999)}", [
            "The {e} sells for {v}.", "The {e} costs {v}.", "The retail price of the {e} is {v}.",
            "Shops list the {e} at {v}."],
            ["How much does the {e} cost?", "What is the price of the {e}?"]),
        "color": Fact(r.choice(_COLORS), [
            "The {e} is sold in {v}.", "The {e} comes in {v} only.", "Its casing is {v}.",
            "Buyers can only order the {e} in {v}."],
            ["What color is the {e}?", "In what color is the {e} sold?"]),
        "material": Fact(r.choice(_MATERIALS), [
            "The frame of the {e} is made of {v}.", "The {e} is built from {v}.", "Its body uses {v}.",
            "Designers chose {v} for the frame of the {e}."],
            ["What material is the {e} made of?", "What is the frame of the {e} made of?"]),
        "released": Fact(date_str(r, 1990, 2025), [
            "The {e} was released on {v}.", "The {e} went on sale on {v}.", "Launch day for the {e} was {v}.",
            "The first units of the {e} shipped on {v}."],
            ["When was the {e} released?", "On what date did the {e} go on sale?"]),
    }


def _species_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "habitat": Fact(r.choice(_HABITATS), [
            "The {e} lives in {v}.", "The {e} is found only in {v}.", "Its habitat is {v}.",
            "Researchers look for the {e} in {v}."],
            ["Where does the {e} live?", "What is the habitat of the {e}?"]),
        "discoverer": Fact(person_name(r), [
            "The {e} was first described by {v}.", "{v} discovered the {e}.", "The {e} was discovered by {v}.",
            "Credit for finding the {e} goes to {v}."],
            ["Who discovered the {e}?", "Who first described the {e}?"]),
        "length": Fact(f"{r.randint(2, 90)} millimetres", [
            "Adults of the {e} reach {v} in length.", "The {e} grows to {v}.", "The {e} measures about {v}.",
            "A typical {e} is {v} long."],
            ["How long is the {e}?", "What length does the {e} reach?"]),
        "diet": Fact(r.choice(["nectar", "algae", "small insects", "fallen fruit", "moss", "seeds", "plankton"]), [
            "The {e} feeds on {v}.", "Its diet consists of {v}.", "The {e} survives mostly on {v}.",
            "Observers have watched the {e} eating {v}."],
            ["What does the {e} eat?", "What does the {e} feed on?"]),
        "year": Fact(str(r.randint(1790, 2023)), [
            "The {e} was described in {v}.", "Scientists named the {e} in {v}.", "The first record of the {e} dates from {v}.",
            "The {e} entered the catalogue in {v}."],
            ["When was the {e} described?", "In what year was the {e} named?"]),
    }


def _event_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "date": Fact(date_str(r, 1950, 2025), [
            "The {e} took place on {v}.", "The {e} was held on {v}.", "On {v}, the {e} began.",
            "The {e} is remembered for the day it happened: {v}."],
            ["When did the {e} take place?", "On what date was the {e} held?"]),
        "venue": Fact(place_name(r), [
            "The {e} was held in {v}.", "{v} hosted the {e}.", "The {e} took place in {v}.",
            "Organisers chose {v} as the venue for the {e}."],
            ["Where was the {e} held?", "Which town hosted the {e}?"]),
        "winner": Fact(person_name(r), [
            "The {e} was won by {v}.", "{v} won the {e}.", "First prize at the {e} went to {v}.",
            "The winner of the {e} was {v}."],
            ["Who won the {e}?", "Who took first prize at the {e}?"]),
        "attendance": Fact(str(r.randint(150, 60000)), [
            "The {e} drew {v} spectators.", "Attendance at the {e} reached {v}.", "{v} people attended the {e}.",
            "Ticket records show {v} visitors at the {e}."],
            ["How many people attended the {e}?", "What was the attendance at the {e}?"]),
        "organiser": Fact(org_name(r), [
            "The {e} was organised by {v}.", "{v} organised the {e}.", "Organisation of the {e} fell to {v}.",
            "{v} ran the {e} for the first time."],
            ["Who organised the {e}?", "Which group organised the {e}?"]),
    }


# The kinds below name several other people, places and organisations per document, so the reader has
# to bind each name to its relation (founder vs president, rival vs home club) rather than grab any name.
def _university_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "founded": Fact(str(r.randint(1450, 1995)), [
            "{e} was founded in {v}.", "Founded in {v}, {e} began with a single faculty.",
            "{e} received its charter in {v}.", "Teaching at {e} started in {v}.",
            "The university traces its origins to {v}."],
            ["When was {e} founded?", "In what year was {e} founded?", "What year did {e} receive its charter?"]),
        "founder": Fact(person_name(r), [
            "{e} was founded by {v}.", "{v} founded {e} with a bequest of land.", "The founder of {e} was {v}.",
            "{v}, a local merchant, paid for the first buildings of {e}.",
            "It was {v} who persuaded the city to establish the university."],
            ["Who founded {e}?", "Who was the founder of {e}?", "Whose money established {e}?"]),
        "city": Fact(place_name(r), [
            "{e} is located in {v}.", "The main campus of {e} lies in {v}.", "{e} is based in the city of {v}.",
            "Most students of {e} live in {v}.", "{v} has been home to the university since its foundation."],
            ["Where is {e} located?", "In which city is the main campus of {e}?", "Which city is {e} based in?"]),
        "students": Fact(_num(r, 1200, 48000), [
            "{e} has {v} students.", "About {v} students are enrolled at {e}.", "Enrolment at {e} stands at {v}.",
            "{e} teaches some {v} students each year.", "The student body numbers {v}."],
            ["How many students does {e} have?", "How many students are enrolled at {e}?",
             "What is the enrolment at {e}?"]),
        "president": Fact(person_name(r), [
            "The current president of {e} is {v}.", "{v} serves as president of {e}.",
            "{e} is led by its president, {v}.", "{v} was appointed president of {e} after a long search.",
            "The head of the university today is {v}."],
            ["Who is the president of {e}?", "Who leads {e}?", "Who heads {e} today?"]),
        "known_for": Fact(r.choice(_FIELDS), [
            "{e} is best known for {v}.", "{e} has a strong reputation in {v}.",
            "Research at {e} focuses on {v}.", "Applicants choose {e} mainly for its {v} programme.",
            "Its strongest department is {v}."],
            ["What is {e} best known for?", "Which field is {e} known for?",
             "In which field does {e} have its strongest reputation?"]),
        "rival": Fact(f"University of {place_name(r)}", [
            "The main rival of {e} is the {v}.", "{e} has a long rivalry with the {v}.",
            "Every spring {e} and the {v} hold a rowing race.", "Students of {e} compete each year against the {v}.",
            "Its oldest sporting rival is the {v}."],
            ["Which university is the rival of {e}?", "Who is the main rival of {e}?",
             "Which university does {e} compete against?"]),
        "endowment": Fact(_millions(r, 12, 950), [
            "{e} has an endowment of {v}.", "The endowment of {e} is worth {v}.",
            "{e} manages an endowment of some {v}.", "Gifts have grown the endowment of {e} to {v}.",
            "Its endowment was last valued at {v}."],
            ["How large is the endowment of {e}?", "What is the endowment of {e} worth?",
             "What is the value of the endowment of {e}?"]),
    }


def _river_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "length": Fact(f"{_num(r, 40, 2900)} km" if r.random() < 0.6 else f"{r.randint(12, 99)}.{r.randint(1, 9)} km", [
            "The {e} is {v} long.", "The {e} runs for {v} from source to mouth.",
            "With a length of {v}, the {e} is the longest river in the province.", "The {e} flows for {v}.",
            "Its total length is {v}."],
            ["How long is the {e}?", "What is the length of the {e}?", "How many kilometres long is the {e}?"]),
        "source": Fact(f"Mount {_cap(r, 2, 2)}", [
            "The {e} rises on {v}.", "The source of the {e} is on {v}.", "The {e} begins as a spring high on {v}.",
            "Snowmelt from {v} feeds the upper {e}.", "Its source lies on {v}."],
            ["Where does the {e} rise?", "Where is the source of the {e}?", "On which mountain does the {e} begin?"]),
        "mouth": Fact(f"Lake {_cap(r, 2, 2)}" if r.random() < 0.5 else f"{_cap(r, 2, 2)} Bay", [
            "The {e} empties into {v}.", "The {e} flows into {v}.", "At its mouth the {e} meets {v}.",
            "The {e} ends in {v}.", "Eventually the river drains into {v}."],
            ["Where does the {e} flow into?", "Into what does the {e} empty?", "Where does the {e} end?"]),
        "tributary": Fact(f"{_cap(r, 2, 2)} River", [
            "The main tributary of the {e} is the {v}.", "The {v} joins the {e} below the gorge.",
            "The {e} is fed by the {v}.", "The largest stream feeding the {e} is the {v}.",
            "Its chief tributary is the {v}."],
            ["What is the main tributary of the {e}?", "Which river joins the {e}?",
             "What is the chief tributary of the {e}?"]),
        "largest_city": Fact(place_name(r), [
            "The largest city on the {e} is {v}.", "{v} is the largest city on the {e}.",
            "The {e} passes through {v}, its largest city.",
            "More people live in {v} than anywhere else along the {e}.", "The biggest town on its banks is {v}."],
            ["What is the largest city on the {e}?", "Which city is the largest on the {e}?",
             "Which is the biggest town along the {e}?"]),
        "basin": Fact(f"{_num(r, 300, 98000)} square kilometres", [
            "The {e} drains a basin of {v}.", "The drainage basin of the {e} covers {v}.",
            "The catchment of the {e} covers {v}.", "Rain falling on {v} of land ends up in the {e}.",
            "Its basin measures {v}."],
            ["How large is the basin of the {e}?", "What area does the {e} drain?",
             "What is the size of the catchment of the {e}?"]),
        "fish": Fact(r.choice(_FISH), [
            "The {e} is known for its {v}.", "Anglers come to the {e} for {v}.",
            "The commonest fish in the {e} is the {v}.", "Fishermen on the {e} mostly catch {v}.",
            "The river's waters hold large numbers of {v}."],
            ["What fish is the {e} known for?", "Which fish do anglers catch in the {e}?",
             "What is the commonest fish in the {e}?"]),
        "discharge": Fact(f"{_num(r, 8, 4200)} cubic metres per second", [
            "The average discharge of the {e} is {v}.", "The {e} carries {v} on average.",
            "On average {v} of water pass through the lower {e}.", "At its mouth, the {e} discharges about {v}.",
            "Its mean flow is {v}."],
            ["What is the average discharge of the {e}?", "How much water does the {e} carry?",
             "What is the mean flow of the {e}?"]),
    }


def _mountain_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "height": Fact(f"{_num(r, 900, 8400)} metres", [
            "{e} rises to {v}.", "{e} is {v} high.", "The summit of {e} stands at {v} above sea level.",
            "At {v}, {e} is the highest point in the region.", "Its summit reaches {v}."],
            ["How high is {e}?", "What is the height of {e}?", "How tall is {e}?"]),
        "range": Fact(f"{_cap(r, 2, 2)} {r.choice(['Range', 'Mountains', 'Hills'])}", [
            "{e} belongs to the {v}.", "{e} is part of the {v}.", "{e} is the highest summit of the {v}.",
            "{e} stands at the northern end of the {v}.", "Geologists group it with the rest of the {v}."],
            ["Which range does {e} belong to?", "What mountain range is {e} part of?", "In which range is {e}?"]),
        "first_ascent": Fact(str(r.randint(1780, 1990)), [
            "{e} was first climbed in {v}.", "The first ascent of {e} was made in {v}.",
            "Nobody reached the top of {e} until {v}.", "In {v}, climbers stood on the summit of {e} for the first time.",
            "The summit was first reached in {v}."],
            ["When was {e} first climbed?", "In what year was the first ascent of {e}?",
             "What year did climbers first reach the top of {e}?"]),
        "first_climber": Fact(person_name(r), [
            "{e} was first climbed by {v}.", "{v} made the first ascent of {e}.",
            "The first person to reach the summit of {e} was {v}.", "{v} led the party that first climbed {e}.",
            "Credit for the first ascent goes to {v}."],
            ["Who first climbed {e}?", "Who made the first ascent of {e}?",
             "Who was the first to reach the summit of {e}?"]),
        "nearest_town": Fact(place_name(r), [
            "The nearest town to {e} is {v}.", "Climbers usually start from {v}, below {e}.",
            "{v} lies at the foot of {e}.", "Most routes up {e} begin in {v}.", "The closest settlement is {v}."],
            ["What is the nearest town to {e}?", "Which town lies at the foot of {e}?",
             "Where do climbs of {e} usually start?"]),
        "rock": Fact(r.choice(_ROCKS), [
            "{e} is made mostly of {v}.", "The summit of {e} is formed of {v}.", "The rock of {e} is mainly {v}.",
            "Climbers on {e} find good holds in the {v}.", "The upper slopes are bare {v}."],
            ["What rock is {e} made of?", "What is the main rock of {e}?", "What is the summit of {e} formed of?"]),
        "climb_time": Fact(f"{_range(r, 3, 14)} hours", [
            "A round trip to the top of {e} takes {v}.", "Climbing {e} takes {v}.",
            "Most parties need {v} to climb {e}.", "Allow {v} for the ascent of {e}.",
            "The normal route needs {v} there and back."],
            ["How long does it take to climb {e}?", "How many hours does the ascent of {e} take?",
             "How long is a round trip up {e}?"]),
    }


def _disease_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "cause": Fact(r.choice(_CAUSES), [
            "{e} is caused by {v}.", "The cause of {e} is {v}.", "Doctors trace {e} to {v}.",
            "Most cases of {e} result from {v}.", "Its underlying cause is {v}."],
            ["What causes {e}?", "What is the cause of {e}?", "What is {e} caused by?"]),
        "symptom": Fact(r.choice(_SYMPTOMS), [
            "The first symptom of {e} is usually {v}.", "Patients with {e} typically develop {v}.",
            "{e} begins with {v}.", "The most common sign of {e} is {v}.", "Most patients first notice {v}."],
            ["What is the first symptom of {e}?", "What symptom do patients with {e} develop?",
             "What is the most common sign of {e}?"]),
        "incubation": Fact(f"{_range(r, 2, 21)} days", [
            "The incubation period of {e} is {v}.", "Symptoms of {e} appear {v} after exposure.",
            "{e} incubates for {v}.", "It takes {v} for {e} to show itself.",
            "Signs of illness follow exposure by {v}."],
            ["What is the incubation period of {e}?", "How long after exposure do symptoms of {e} appear?",
             "How long does {e} incubate?"]),
        "described_by": Fact(person_name(r), [
            "{e} was first described by {v}.", "{v} first described {e}.", "The physician {v} identified {e}.",
            "The first account of {e} was written by {v}.", "Credit for identifying the condition goes to {v}."],
            ["Who first described {e}?", "Who identified {e}?", "Who wrote the first account of {e}?"]),
        "described": Fact(str(r.randint(1850, 2015)), [
            "{e} was first described in {v}.", "{e} was identified in {v}.",
            "The first case of {e} was recorded in {v}.",
            "Since {v}, doctors have recognised {e} as a distinct illness.", "Its first description dates from {v}."],
            ["When was {e} first described?", "In what year was {e} identified?",
             "When was the first case of {e} recorded?"]),
        "treatment_centre": Fact(f"{place_name(r)} {r.choice(['General Hospital', 'Royal Infirmary', 'University Clinic'])}", [
            "The leading centre for {e} is {v}.", "Most patients with {e} are treated at {v}.",
            "{v} runs the largest clinic for {e}.", "Specialists at {v} treat most cases of {e}.",
            "The main treatment centre is {v}."],
            ["Which hospital is the leading centre for {e}?", "Where are most patients with {e} treated?",
             "Which hospital treats most cases of {e}?"]),
        "treatment": Fact(_word(r, 2) + r.choice(["mycin", "vir", "zole", "pril", "mab"]), [
            "{e} is treated with {v}.", "The standard treatment for {e} is {v}.", "Doctors prescribe {v} for {e}.",
            "Most patients with {e} recover after a course of {v}.", "The usual drug is {v}."],
            ["How is {e} treated?", "What drug is used to treat {e}?", "What is the standard treatment for {e}?"]),
        "mortality": Fact(_percent(r, 1, 40), [
            "{e} kills {v} of untreated patients.", "The death rate of {e} is {v} without treatment.",
            "Without treatment, {v} of people with {e} die.", "Untreated, {e} is fatal in {v} of cases.",
            "Mortality among untreated patients is {v}."],
            ["What is the death rate of untreated {e}?", "What share of untreated patients die of {e}?",
             "How deadly is {e} without treatment?"]),
    }


def _club_facts(r: random.Random) -> dict[str, Fact]:
    first, second = r.sample(_COLORS, 2)
    return {
        "founded": Fact(str(r.randint(1860, 2010)), [
            "{e} was founded in {v}.", "{e} was formed in {v}.", "{e} played its first match in {v}.",
            "The club {e} dates from {v}.", "Formed in {v}, the club turned professional a decade later."],
            ["When was {e} founded?", "In what year was {e} formed?", "What year does {e} date from?"]),
        "stadium": Fact(f"{_cap(r, 2, 2)} {r.choice(['Park', 'Stadium', 'Ground', 'Arena'])}", [
            "{e} plays its home games at {v}.", "The home ground of {e} is {v}.",
            "{v} has been home to {e} for decades.", "Fans of {e} fill {v} every other Saturday.",
            "Home matches are played at {v}."],
            ["Where does {e} play its home games?", "What is the home ground of {e}?",
             "What is the name of the stadium of {e}?"]),
        "capacity": Fact(_num(r, 2000, 65000), [
            "The stadium of {e} holds {v} spectators.", "The ground of {e} has a capacity of {v}.",
            "Up to {v} fans can watch {e} at home.", "Home games of {e} can draw {v} people.",
            "The ground seats {v}."],
            ["How many spectators does the stadium of {e} hold?", "What is the capacity of the ground of {e}?",
             "How many fans can watch {e} at home?"]),
        "head_coach": Fact(person_name(r), [
            "The head coach of {e} is {v}.", "{v} coaches {e}.", "{e} is managed by {v}.",
            "{v} took charge of {e} two seasons ago.", "The team's manager is {v}."],
            ["Who is the head coach of {e}?", "Who manages {e}?", "Who coaches {e}?"]),
        "captain": Fact(person_name(r), [
            "The captain of {e} is {v}.", "{v} captains {e}.", "{v} wears the armband for {e}.",
            "{e} is captained by {v}.", "The side is led on the pitch by {v}."],
            ["Who is the captain of {e}?", "Who captains {e}?", "Who leads {e} on the pitch?"]),
        "rival": Fact(f"{place_name(r)} {r.choice(_CLUB_SUFFIX)}", [
            "The fiercest rival of {e} is {v}.", "Matches between {e} and {v} are the highlight of the season.",
            "{e} and {v} have been rivals for a century.", "No fixture matters more to {e} than the one against {v}.",
            "Its local derby is against {v}."],
            ["Who is the main rival of {e}?", "Which club is the fiercest rival of {e}?",
             "Which team are the derby opponents of {e}?"]),
        "titles": Fact(str(r.randint(2, 30)), [
            "{e} has won the league {v} times.", "{e} has {v} league titles.",
            "The trophy cabinet of {e} holds {v} league titles.", "In total {e} has been champion {v} times.",
            "The club has claimed {v} championships."],
            ["How many league titles has {e} won?", "How many times has {e} won the league?",
             "How many championships does {e} have?"]),
        "colours": Fact(f"{first} and {second}", [
            "{e} plays in {v}.", "The colours of {e} are {v}.", "The shirts of {e} are {v}.",
            "Supporters of {e} wear {v}.", "The team's kit is {v}."],
            ["What are the colours of {e}?", "What colours does {e} play in?", "What colour is the kit of {e}?"]),
    }


def _software_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "language": Fact(r.choice(_LANGUAGES), [
            "{e} is written in {v}.", "{e} is implemented in {v}.", "The code of {e} is written in {v}.",
            "Most of {e} is {v} code.", "Its source code is in {v}."],
            ["What language is {e} written in?", "In which programming language is {e} implemented?",
             "What programming language is {e} written in?"]),
        "creator": Fact(person_name(r), [
            "{e} was created by {v}.", "{v} wrote the first version of {e}.", "{v} started {e} as a side project.",
            "The original author of {e} is {v}.", "The project was begun by {v}."],
            ["Who created {e}?", "Who wrote the first version of {e}?", "Who is the original author of {e}?"]),
        "first_release": Fact(_date(r, 1995, 2024), [
            "{e} was first released on {v}.", "The first public release of {e} came out on {v}.",
            "Version 1.0 of {e} appeared on {v}.", "{e} has been public since {v}.",
            "Its first release is dated {v}."],
            ["When was {e} first released?", "On what date did {e} first appear?",
             "When did the first release of {e} come out?"]),
        "latest_version": Fact(f"{r.randint(1, 9)}.{r.randint(0, 24)}.{r.randint(0, 9)}", [
            "The latest release of {e} is version {v}.", "{e} is now at version {v}.",
            "Version {v} of {e} is the current stable release.", "The current version of {e} is {v}.",
            "The newest stable release is {v}."],
            ["What is the latest version of {e}?", "What is the current release of {e}?",
             "Which version of {e} is the current stable release?"]),
        "licence": Fact(r.choice(_LICENCES), [
            "{e} is released under the {v}.", "{e} is distributed under the {v}.", "The licence of {e} is the {v}.",
            "Anyone may reuse {e} under the terms of the {v}.", "The code is published under the {v}."],
            ["What licence is {e} released under?", "Under which licence is {e} distributed?",
             "What is the licence of {e}?"]),
        "maintainer": Fact(org_name(r), [
            "{e} is maintained by {v}.", "Development of {e} is funded by {v}.", "{v} maintains {e}.",
            "{v} took over maintenance of {e} a few years ago.", "Today the project is looked after by {v}."],
            ["Who maintains {e}?", "Which organisation maintains {e}?", "Who looks after {e} today?"]),
        "contributors": Fact(_num(r, 12, 4800), [
            "{e} has {v} contributors.", "More than {v} people have contributed to {e}.",
            "The code of {e} comes from {v} contributors.", "{v} developers have contributed to {e}.",
            "Its contributor count stands at {v}."],
            ["How many contributors does {e} have?", "How many people have contributed to {e}?",
             "How many developers have worked on {e}?"]),
        "purpose": Fact(r.choice(_PURPOSES), [
            "{e} is a tool for {v}.", "{e} is used for {v}.", "Developers use {e} for {v}.",
            "{e} was built for {v}.", "The library exists for {v}."],
            ["What is {e} used for?", "What is {e} a tool for?", "What was {e} built for?"]),
    }


def _bridge_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "length": Fact(f"{_num(r, 40, 3800)} metres", [
            "{e} is {v} long.", "{e} has a total length of {v}.", "{e} spans {v}.",
            "From end to end, {e} measures {v}.", "The structure stretches {v}."],
            ["How long is {e}?", "What is the length of {e}?", "What is the total length of {e}?"]),
        "opened": Fact(_date(r, 1820, 2023), [
            "{e} opened on {v}.", "{e} was opened to traffic on {v}.", "The first vehicles crossed {e} on {v}.",
            "{e} was inaugurated on {v}.", "Traffic began using it on {v}."],
            ["When did {e} open?", "On what date was {e} opened?", "When was {e} opened to traffic?"]),
        "engineer": Fact(person_name(r), [
            "{e} was designed by {v}.", "{v} was the engineer of {e}.", "The engineer {v} drew the plans for {e}.",
            "{v} designed {e}.", "Its designer was the engineer {v}."],
            ["Who designed {e}?", "Who was the engineer of {e}?", "Which engineer designed {e}?"]),
        "builder": Fact(org_name(r), [
            "{e} was built by {v}.", "{v} built {e}.", "Construction of {e} was carried out by {v}.",
            "{v} won the contract to build {e}.", "The builders were {v}."],
            ["Who built {e}?", "Which company built {e}?", "Who carried out the construction of {e}?"]),
        "crosses": Fact(f"{_cap(r, 2, 2)} River", [
            "{e} crosses the {v}.", "{e} carries the road over the {v}.", "{e} spans the {v}.",
            "{e} links the two banks of the {v}.", "Below the deck flows the {v}."],
            ["What river does {e} cross?", "Which river does {e} span?", "What does {e} cross?"]),
        "cost": Fact(_millions(r, 2, 900), [
            "{e} cost {v} to build.", "Building {e} cost {v}.", "The final cost of {e} was {v}.",
            "{e} was completed for {v}.", "The total bill came to {v}."],
            ["How much did {e} cost?", "What was the cost of building {e}?", "How much did it cost to build {e}?"]),
        "material": Fact(r.choice(_BRIDGE_MATERIALS), [
            "{e} is built of {v}.", "{e} is made of {v}.", "The main material of {e} is {v}.",
            "The arches of {e} are {v}.", "The builders used {v} throughout."],
            ["What is {e} made of?", "What material is {e} built from?", "What is the main material of {e}?"]),
        "daily_traffic": Fact(f"{_num(r, 800, 160000)} vehicles", [
            "{e} carries {v} a day.", "About {v} cross {e} each day.", "Daily traffic on {e} is {v}.",
            "On a typical day {v} use {e}.", "Counts show {v} crossing every day."],
            ["How many vehicles cross {e} each day?", "What is the daily traffic on {e}?",
             "How much traffic does {e} carry per day?"]),
    }


def _expedition_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "leader": Fact(person_name(r), [
            "The {e} was led by {v}.", "{v} led the {e}.", "The leader of the {e} was {v}.",
            "{v} organised and led the {e}.", "Command of the party lay with {v}."],
            ["Who led the {e}?", "Who was the leader of the {e}?", "Who was in charge of the {e}?"]),
        "doctor": Fact(person_name(r), [
            "The doctor of the {e} was {v}.", "{v} served as doctor on the {e}.",
            "Medical care on the {e} was the job of {v}.", "{v} joined the {e} as its physician.",
            "The party's physician was {v}."],
            ["Who was the doctor of the {e}?", "Who served as physician on the {e}?",
             "Who looked after the health of the {e}?"]),
        "sponsor": Fact(org_name(r), [
            "The {e} was funded by {v}.", "{v} paid for the {e}.", "The main sponsor of the {e} was {v}.",
            "Money for the {e} came from {v}.", "Its costs were met by {v}."],
            ["Who funded the {e}?", "Who was the sponsor of the {e}?", "Which organisation paid for the {e}?"]),
        "departed": Fact(_date(r, 1870, 2020), [
            "The {e} set out on {v}.", "The {e} left port on {v}.", "On {v}, the {e} departed.",
            "The {e} began on {v}.", "The party sailed on {v}."],
            ["When did the {e} set out?", "On what date did the {e} depart?", "When did the {e} begin?"]),
        "destination": Fact(f"{_cap(r, 2, 2)} {r.choice(['Glacier', 'Island', 'Plateau', 'Basin', 'Archipelago'])}", [
            "The {e} explored {v}.", "The goal of the {e} was {v}.", "The {e} travelled to {v}.",
            "The {e} spent two seasons surveying {v}.", "Its destination was {v}."],
            ["Where did the {e} go?", "What did the {e} explore?", "What was the destination of the {e}?"]),
        "members": Fact(str(r.randint(4, 60)), [
            "The {e} had {v} members.", "{v} people took part in the {e}.", "The party of the {e} numbered {v}.",
            "The {e} set out with {v} members.", "The team counted {v} people in all."],
            ["How many members did the {e} have?", "How many people took part in the {e}?",
             "How large was the party of the {e}?"]),
        "duration": Fact(f"{r.randint(3, 30)} months" if r.random() < 0.5 else f"{r.randint(20, 400)} days", [
            "The {e} lasted {v}.", "The {e} spent {v} in the field.", "The {e} returned after {v}.",
            "In all, the {e} took {v}.", "The journey took {v} from start to finish."],
            ["How long did the {e} last?", "How long was the {e} in the field?", "How long did the {e} take?"]),
        "finding": Fact(r.choice(_FINDS), [
            "The {e} discovered {v}.", "The most important find of the {e} was {v}.",
            "The {e} is remembered for finding {v}.", "Members of the {e} came back with reports of {v}.",
            "Its chief discovery was {v}."],
            ["What did the {e} discover?", "What was the main find of the {e}?",
             "What is the {e} remembered for finding?"]),
    }


def _album_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "artist": Fact(person_name(r), [
            "{e} is an album by {v}.", "{v} recorded {e}.", "{e} was written and sung by {v}.",
            "{e} is the third studio album by {v}.", "The record is credited to {v}."],
            ["Who recorded {e}?", "Who is {e} an album by?", "Which artist made {e}?"]),
        "producer": Fact(person_name(r), [
            "{e} was produced by {v}.", "{v} produced {e}.", "The producer of {e} was {v}.",
            "{v} sat behind the mixing desk for {e}.", "Production duties fell to {v}."],
            ["Who produced {e}?", "Who was the producer of {e}?", "Who handled production of {e}?"]),
        "label": Fact(f"{_cap(r, 2, 2)} Records", [
            "{e} was released by {v}.", "{e} came out on {v}.", "{v} issued {e}.", "{v} put out {e}.",
            "The label behind it was {v}."],
            ["Which label released {e}?", "On what label did {e} come out?", "What record label issued {e}?"]),
        "released": Fact(_date(r, 1960, 2024), [
            "{e} was released on {v}.", "{e} reached shops on {v}.", "The release date of {e} was {v}.",
            "Fans first heard {e} on {v}.", "It appeared in stores on {v}."],
            ["When was {e} released?", "What is the release date of {e}?", "On what date did {e} come out?"]),
        "tracks": Fact(str(r.randint(6, 18)), [
            "{e} has {v} tracks.", "{e} contains {v} songs.", "There are {v} tracks on {e}.",
            "The track list of {e} runs to {v} songs.", "The record holds {v} songs."],
            ["How many tracks does {e} have?", "How many songs are on {e}?", "How many tracks are on {e}?"]),
        "running_time": Fact(f"{r.randint(28, 79)} minutes", [
            "{e} runs for {v}.", "{e} is {v} long.", "The total running time of {e} is {v}.",
            "All together, {e} lasts {v}.", "Its running time is {v}."],
            ["How long is {e}?", "What is the running time of {e}?", "How many minutes long is {e}?"]),
        "recorded_in": Fact(place_name(r), [
            "{e} was recorded in {v}.", "The sessions for {e} took place in {v}.",
            "{v} is where {e} was recorded.", "Recording of {e} took place in a farmhouse near {v}.",
            "The sessions were held in {v}."],
            ["Where was {e} recorded?", "In which town was {e} recorded?", "Where did the recording of {e} take place?"]),
        "sales": Fact(f"{_num(r, 5, 2500)},000 copies", [
            "{e} has sold {v}.", "Sales of {e} passed {v}.", "{e} went on to sell {v}.",
            "By now {e} has sold {v} worldwide.", "Buyers have taken home {v} of it."],
            ["How many copies has {e} sold?", "How many copies of {e} were sold?", "What are the sales of {e}?"]),
    }


def _restaurant_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "head_chef": Fact(person_name(r), [
            "The head chef of {e} is {v}.", "{v} runs the kitchen at {e}.", "{v} cooks at {e}.",
            "Chef {v} leads the kitchen of {e}.", "In the kitchen, {v} is in charge."],
            ["Who is the head chef of {e}?", "Who runs the kitchen at {e}?", "Who is in charge of the kitchen at {e}?"]),
        "owner": Fact(person_name(r), [
            "{e} is owned by {v}.", "{v} owns {e}.", "The owner of {e} is {v}.", "{v} bought {e} from its founders.",
            "The restaurant belongs to {v}."],
            ["Who owns {e}?", "Who is the owner of {e}?", "To whom does {e} belong?"]),
        "cuisine": Fact(r.choice(_CUISINES), [
            "{e} serves {v} food.", "{e} specialises in {v} cooking.", "The menu at {e} is {v}.",
            "Diners come to {e} for {v} dishes.", "The cooking is broadly {v}."],
            ["What kind of food does {e} serve?", "What cuisine does {e} specialise in?",
             "What style of cooking does {e} offer?"]),
        "signature_dish": Fact(r.choice(_FOODS), [
            "The signature dish of {e} is {v}.", "{e} is famous for its {v}.", "Regulars at {e} order the {v}.",
            "The most popular dish at {e} is {v}.", "The house speciality is {v}."],
            ["What is the signature dish of {e}?", "What dish is {e} famous for?",
             "What is the house speciality at {e}?"]),
        "seats": Fact(str(r.randint(18, 160)), [
            "{e} seats {v} diners.", "{e} has {v} seats.", "There are {v} covers at {e}.",
            "The dining room of {e} holds {v} guests.", "The room fits {v} people."],
            ["How many seats does {e} have?", "How many diners does {e} seat?", "How many guests can {e} hold?"]),
        "location": Fact(place_name(r), [
            "{e} is in {v}.", "{e} stands on the harbour front in {v}.", "You will find {e} in the old town of {v}.",
            "{e} is located in {v}.", "The address is in central {v}."],
            ["Where is {e}?", "In which town is {e}?", "Where is {e} located?"]),
        "tasting_menu": Fact(_money(r, 25, 240), [
            "The tasting menu at {e} costs {v}.", "{e} charges {v} for its tasting menu.",
            "A tasting menu at {e} is {v}.", "Dinner from the tasting menu at {e} costs {v}.",
            "The set menu is priced at {v}."],
            ["How much is the tasting menu at {e}?", "What does the tasting menu at {e} cost?",
             "What is the price of the tasting menu at {e}?"]),
        "closed": Fact(r.choice(_WEEKDAYS), [
            "{e} is closed on {v}.", "{e} does not open on {v}.", "On {v}, {e} stays closed.",
            "{e} opens every day except {v}.", "The kitchen rests on {v}."],
            ["On which day is {e} closed?", "When is {e} closed?", "Which day does {e} not open?"]),
    }


def _mission_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "launched": Fact(_date(r, 1962, 2025), [
            "{e} was launched on {v}.", "{e} lifted off on {v}.", "The launch of {e} took place on {v}.",
            "On {v}, {e} left the launch pad.", "Lift-off came on {v}."],
            ["When was {e} launched?", "On what date did {e} lift off?", "What was the launch date of {e}?"]),
        "launch_site": Fact(place_name(r), [
            "{e} was launched from {v}.", "{e} lifted off from the spaceport at {v}.",
            "The launch site of {e} was {v}.", "{v} was chosen as the launch site for {e}.",
            "The rocket left from {v}."],
            ["Where was {e} launched from?", "What was the launch site of {e}?", "From where did {e} lift off?"]),
        "rocket": Fact(f"{_cap(r, 2, 2)} {r.choice(['II', 'III', 'IV', 'Heavy'])}", [
            "{e} flew on a {v} rocket.", "A {v} rocket carried {e} into space.", "{e} was launched on a {v}.",
            "The launch vehicle for {e} was a {v}.", "It rode into orbit on a {v}."],
            ["What rocket launched {e}?", "Which launch vehicle carried {e}?", "What rocket did {e} fly on?"]),
        "agency": Fact(org_name(r), [
            "{e} is operated by {v}.", "{v} runs {e}.", "{e} is a mission of {v}.", "{v} built and operates {e}.",
            "The mission belongs to {v}."],
            ["Who operates {e}?", "Which organisation runs {e}?", "Whose mission is {e}?"]),
        "principal_investigator": Fact(person_name(r), [
            "The principal investigator of {e} is {v}.", "{v} leads the science team of {e}.",
            "The science of {e} is directed by {v}.", "{v} proposed {e} and leads its science team.",
            "Its lead scientist is {v}."],
            ["Who is the principal investigator of {e}?", "Who leads the science team of {e}?",
             "Who is the lead scientist of {e}?"]),
        "mass": Fact(f"{_num(r, 80, 9500)} kg", [
            "{e} has a mass of {v}.", "{e} weighed {v} at launch.", "At launch {e} weighed {v}.",
            "The spacecraft {e} weighs {v}.", "Fully fuelled, it weighed {v}."],
            ["What is the mass of {e}?", "How much did {e} weigh at launch?", "How heavy is {e}?"]),
        "target": Fact(r.choice(_TARGETS), [
            "{e} was sent to study {v}.", "The target of {e} is {v}.", "{e} is bound for {v}.",
            "{e} was designed to observe {v}.", "Its destination is {v}."],
            ["What is the target of {e}?", "What was {e} sent to study?", "Where is {e} going?"]),
        "cost": Fact(_millions(r, 40, 990), [
            "{e} cost {v}.", "The budget of {e} was {v}.", "{e} was built for {v}.",
            "The total cost of {e} came to {v}.", "The price tag was {v}."],
            ["How much did {e} cost?", "What was the budget of {e}?", "What was the total cost of {e}?"]),
    }


def _incident_facts(r: random.Random) -> dict[str, Fact]:
    hours = r.randint(0, 11)
    return {
        "date": Fact(_date(r, 2005, 2025), [
            "{e} occurred on {v}.", "{e} happened on {v}.", "{e} was logged on {v}.",
            "The outage recorded as {e} began on {v}.", "The problem started on {v}."],
            ["When did {e} occur?", "On what date did {e} happen?", "When did {e} begin?"]),
        "reported_by": Fact(person_name(r), [
            "{e} was reported by {v}.", "{v} reported {e}.", "{v} first noticed the problem behind {e}.",
            "The first report of {e} came from {v}.", "The alarm was raised by {v}."],
            ["Who reported {e}?", "Who first noticed {e}?", "Who raised the alarm for {e}?"]),
        "incident_lead": Fact(person_name(r), [
            "{v} led the response to {e}.", "The response to {e} was coordinated by {v}.",
            "{v} was the incident lead for {e}.", "{e} was handled by {v}.", "Coordination fell to {v}."],
            ["Who led the response to {e}?", "Who was the incident lead for {e}?",
             "Who coordinated the response to {e}?"]),
        "system": Fact(r.choice(_SYSTEMS), [
            "{e} affected {v}.", "During {e}, {v} was unavailable.", "{e} took down {v}.",
            "Users of {v} were hit by {e}.", "The affected service was {v}."],
            ["Which system did {e} affect?", "What was unavailable during {e}?", "What service did {e} take down?"]),
        "duration": Fact(f"{hours} hours {r.randint(5, 55)} minutes" if hours > 1 else f"{r.randint(12, 59)} minutes", [
            "{e} lasted {v}.", "The outage in {e} went on for {v}.", "Service was restored after {v}.",
            "{e} was resolved after {v}.", "Recovery took {v} in all."],
            ["How long did {e} last?", "How long was the outage in {e}?", "After how long was {e} resolved?"]),
        "root_cause": Fact(r.choice(_INCIDENT_CAUSES), [
            "{e} was caused by {v}.", "The root cause of {e} was {v}.", "Engineers traced {e} to {v}.",
            "Investigation of {e} pointed to {v}.", "The review blamed {v}."],
            ["What caused {e}?", "What was the root cause of {e}?", "What was {e} traced to?"]),
        "customers_affected": Fact(_num(r, 40, 250000), [
            "{e} affected {v} customers.", "About {v} customers were affected by {e}.", "{e} hit {v} customers.",
            "{v} customers could not log in during {e}.", "In total {v} customers were affected."],
            ["How many customers did {e} affect?", "How many customers were affected by {e}?",
             "How many customers were hit by {e}?"]),
        "error_rate": Fact(_percent(r, 2, 95), [
            "At its peak, {e} caused {v} of requests to fail.", "The error rate during {e} reached {v}.",
            "{v} of requests failed during {e}.", "Errors peaked at {v} during {e}.",
            "The failure rate topped out at {v}."],
            ["What error rate did {e} reach?", "What share of requests failed during {e}?",
             "How high did the error rate get during {e}?"]),
    }


def _ship_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "captain": Fact(person_name(r), [
            "The {e} is commanded by {v}.", "{v} is the captain of the {e}.", "Captain {v} sails the {e}.",
            "Command of the {e} passed to {v}."],
            ["Who is the captain of the {e}?", "Who commands the {e}?"]),
        "home_port": Fact(place_name(r), [
            "The home port of the {e} is {v}.", "The {e} is registered in {v}.", "The {e} sails from {v}.",
            "Between voyages the {e} returns to {v}."],
            ["What is the home port of the {e}?", "Where is the {e} registered?"]),
        "launched": Fact(str(r.randint(1880, 2023)), [
            "The {e} was launched in {v}.", "The {e} entered service in {v}.", "The {e} first sailed in {v}.",
            "Shipwrights completed the {e} in {v}."],
            ["When was the {e} launched?", "In what year did the {e} enter service?"]),
        "crew": Fact(str(r.randint(4, 480)), [
            "The {e} carries a crew of {v}.", "{v} sailors serve aboard the {e}.", "The crew of the {e} numbers {v}.",
            "A full complement on the {e} is {v} people."],
            ["How many crew does the {e} carry?", "How large is the crew of the {e}?"]),
    }


def _book_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "author": Fact(person_name(r), [
            "{e} was written by {v}.", "{v} wrote {e}.", "The author of {e} is {v}.", "{e} is a novel by {v}."],
            ["Who wrote {e}?", "Who is the author of {e}?"]),
        "published": Fact(str(r.randint(1850, 2024)), [
            "{e} was published in {v}.", "{e} first appeared in {v}.", "The first edition of {e} came out in {v}.",
            "Readers first saw {e} in {v}."],
            ["When was {e} published?", "In what year did {e} first appear?"]),
        "setting": Fact(place_name(r), [
            "{e} is set in {v}.", "The story of {e} takes place in {v}.", "{e} follows a family living in {v}.",
            "Most chapters of {e} unfold in {v}."],
            ["Where is {e} set?", "In which town does {e} take place?"]),
        "protagonist": Fact(person_name(r), [
            "The hero of {e} is {v}.", "{e} tells the story of {v}.", "The main character of {e} is {v}.",
            "Readers follow {v} through {e}."],
            ["Who is the main character of {e}?", "Who is the hero of {e}?"]),
        "pages": Fact(str(r.randint(90, 1200)), [
            "{e} runs to {v} pages.", "{e} has {v} pages.", "The hardback of {e} is {v} pages long.",
            "At {v} pages, {e} is a long read."],
            ["How many pages does {e} have?", "How long is {e} in pages?"]),
    }


# -- arbitrary attributes, and questions in words the templates do not use (training only) -------
# The adapters answer questions in the training templates' words far better than in unseen words
# (shipped weights, 40 fresh documents of the training kinds: 0.31 exact with training questions,
# 0.21 with the held-out question of each fact, whatever the document's phrasing). Real readers ask
# in their own words about relations no template lists, so training also asks through generic
# forms built from each fact's noun, and one kind holds arbitrary attributes.
_GENERIC_STATEMENTS = ["The {n} of {e} is {v}.", "For {e}, the {n} is {v}.", "{v} is the {n} of {e}.",
                       "{e}'s {n} is {v}.", "Records list {v} as the {n} of {e}.", "As for the {n} of {e}, it is {v}."]
_GENERIC_QUESTIONS = ["What is the {n} of {e}?", "What is {e}'s {n}?", "Name the {n} of {e}.", "Give the {n} of {e}.",
                      "Tell me the {n} of {e}.", "{e}: what is the {n}?", "Which {n} does the text give for {e}?",
                      "What {n} is listed for {e}?", "The {n} of {e} is what?", "Do you know the {n} of {e}?"]
# Frames around any question; {q} as asked, {lq} with a leading question word lower-cased.
_QUESTION_FRAMES = ["According to the text, {lq}", "Based on the document, {lq}", "{q} Answer briefly.",
                    "Quick question: {q}", "Question: {q}", "I need to know: {lq}", "{q} Just the answer, please.",
                    "From what you read, {lq}"]
_QUESTION_WORDS = {"What", "Who", "Where", "When", "Which", "How", "In", "On", "Why", "Name", "Give", "Tell", "Do"}
_FACT_NOUNS = {
    "person": {"born_year": "birth year", "birthplace": "birthplace", "job": "profession", "employer": "employer",
               "instrument": "instrument", "pet": "dog's name"},
    "company": {"founded": "founding year", "hq": "headquarters", "founder": "founder", "product": "main product",
                "employees": "number of employees", "ceo": "chief executive"},
    "town": {"population": "population", "river": "river", "mayor": "mayor", "festival": "festival",
             "dish": "local speciality", "founded": "founding year"},
    "product": {"maker": "maker", "weight": "weight", "price": "price", "color": "colour", "material": "material",
                "released": "release date"},
    "species": {"habitat": "habitat", "discoverer": "discoverer", "length": "length", "diet": "diet",
                "year": "year of description"},
    "event": {"date": "date", "venue": "venue", "winner": "winner", "attendance": "attendance", "organiser": "organiser"},
    "university": {"founded": "founding year", "founder": "founder", "city": "city", "students": "number of students",
                   "president": "president", "known_for": "best-known field", "rival": "rival",
                   "endowment": "endowment"},
    "river": {"length": "length", "source": "source", "mouth": "mouth", "tributary": "main tributary",
              "largest_city": "largest city", "basin": "basin area", "fish": "best-known fish",
              "discharge": "average discharge"},
    "mountain": {"height": "height", "range": "range", "first_ascent": "year of the first ascent",
                 "first_climber": "first climber", "nearest_town": "nearest town", "rock": "rock",
                 "climb_time": "climbing time"},
    "disease": {"cause": "cause", "symptom": "first symptom", "incubation": "incubation period",
                "described_by": "first describer", "described": "year of first description",
                "treatment_centre": "leading treatment centre", "treatment": "treatment", "mortality": "death rate"},
    "club": {"founded": "founding year", "stadium": "stadium", "capacity": "stadium capacity",
             "head_coach": "head coach", "captain": "captain", "rival": "main rival", "titles": "number of league titles",
             "colours": "colours"},
    "software": {"language": "programming language", "creator": "creator", "first_release": "first release date",
                 "latest_version": "latest version", "licence": "licence", "maintainer": "maintainer",
                 "contributors": "number of contributors", "purpose": "purpose"},
    "bridge": {"length": "length", "opened": "opening date", "engineer": "designer", "builder": "builder",
               "crosses": "river it crosses", "cost": "cost", "material": "material",
               "daily_traffic": "daily traffic"},
    "expedition": {"leader": "leader", "doctor": "doctor", "sponsor": "sponsor", "departed": "departure date",
                   "destination": "destination", "members": "number of members", "duration": "duration",
                   "finding": "main finding"},
    "album": {"artist": "artist", "producer": "producer", "label": "label", "released": "release date",
              "tracks": "number of tracks", "running_time": "running time", "recorded_in": "recording location",
              "sales": "sales"},
    "restaurant": {"head_chef": "head chef", "owner": "owner", "cuisine": "cuisine", "signature_dish": "signature dish",
                   "seats": "number of seats", "location": "location", "tasting_menu": "tasting menu price",
                   "closed": "closing day"},
    "mission": {"launched": "launch date", "launch_site": "launch site", "rocket": "rocket", "agency": "operator",
                "principal_investigator": "principal investigator", "mass": "mass", "target": "target",
                "cost": "cost"},
    "incident": {"date": "date", "reported_by": "reporter", "incident_lead": "response lead",
                 "system": "affected system", "duration": "duration", "root_cause": "root cause",
                 "customers_affected": "number of affected customers", "error_rate": "peak error rate"},
    "job": {"salary": "salary", "hiring_manager": "hiring manager", "location": "place of work",
            "closing_date": "closing date", "hours": "weekly hours", "degree": "required degree", "team_size": "team size"},
    "booking": {"traveller": "traveller", "origin": "departure city", "destination": "destination",
                "departure": "departure date", "hotel": "hotel", "flight": "flight number", "total": "total price",
                "nights": "number of nights"},
    "case": {"judge": "judge", "court": "court", "decided": "date of judgment", "damages": "damages awarded",
             "claimant_lawyer": "claimant's lawyer", "hearing_days": "length of the hearing in days", "filed": "filing year"},
    "trial": {"drug": "drug", "participants": "number of participants", "investigator": "chief investigator",
              "sponsor": "sponsor", "sites": "number of sites", "outcome": "primary outcome", "duration": "duration"},
    "tenancy": {"landlord": "landlord", "tenant": "tenant", "rent": "monthly rent", "deposit": "deposit",
                "start": "start date", "term": "term", "notice": "notice period", "agent": "letting agent"},
}
_LANGS = ["Portuguese", "Finnish", "Swahili", "Dutch", "Korean", "Welsh", "Catalan", "Tagalog", "Hungarian"]
_ATTRIBUTES: list[tuple[str, Callable[[random.Random], str]]] = [
    ("owner", person_name), ("manager", person_name), ("architect", person_name), ("patron", person_name),
    ("founding member", person_name), ("sponsor", org_name), ("supplier", org_name), ("operator", org_name),
    ("location", place_name), ("registered office", place_name), ("nearest station", lambda r: f"{place_name(r)} Station"),
    ("code name", _cap), ("nickname", lambda r: _cap(r, 1, 2)),
    ("reference number", lambda r: f"{r.choice('ABCDEFGHKLMNPRSTVWXZ')}{r.randint(100, 9999)}-{r.randint(10, 99)}"),
    ("budget", lambda r: _millions(r, 1, 900)), ("annual cost", lambda r: _money(r, 200, 90000)),
    ("floor area", lambda r: f"{_num(r, 40, 90000)} square metres"), ("depth", lambda r: f"{r.randint(2, 900)} metres"),
    ("top speed", lambda r: f"{r.randint(12, 320)} km/h"), ("capacity", lambda r: f"{_num(r, 20, 60000)} people"),
    ("opening year", lambda r: str(r.randint(1850, 2024))), ("completion date", _date), ("last inspection", _date),
    ("main colour", lambda r: r.choice(_COLORS)), ("main material", lambda r: r.choice(_MATERIALS)),
    ("motto", lambda r: f"{_cap(r, 1, 2)} and {_cap(r, 1, 2)}"),
    ("postcode", lambda r: f"{r.choice('BCDFGHKLMNPRSTW')}{r.choice('BCDFGHKLMNPRSTW')}{r.randint(1, 29)} "
                           f"{r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}"),
    ("phone extension", lambda r: str(r.randint(100, 9999))), ("number of floors", lambda r: str(r.randint(2, 88))),
    ("rating", lambda r: f"{r.randint(1, 5)} stars"), ("mascot", lambda r: f"a {r.choice(_COLORS)} {r.choice(_ANIMALS)}"),
    ("working language", lambda r: r.choice(_LANGS)), ("success rate", lambda r: _percent(r, 3, 99)),
]


def _record_facts(r: random.Random) -> dict[str, Fact]:
    """Six to eight arbitrary attributes, stated and asked only in the generic forms."""
    picked = r.sample(_ATTRIBUTES, r.randint(6, 8))
    return {noun: Fact(value(r), [t.replace("{n}", noun) for t in _GENERIC_STATEMENTS],
                       [t.replace("{n}", noun) for t in _GENERIC_QUESTIONS]) for noun, value in picked}


# -- everyday records (training only): the kinds of text a knowledge base holds besides articles ----
# Job adverts, travel bookings, court rulings, trial summaries and tenancies: several people and
# organisations per document in roles that only the text tells apart, values in record formats.
# Train-only and drawn with the paraphrased questions (like "record"), so the eval files and the
# plain training draws stay as they were.
_DRUG_SUFFIX = ["mab", "tinib", "vir", "zole", "pril", "stat", "dronate"]
_OUTCOMES = ["blood pressure after six months", "time to relapse", "hospital admissions", "tumour size",
             "lung function", "daily pain scores", "HbA1c levels", "walking distance"]
_ROLES = ["field technician", "data analyst", "staff nurse", "site manager", "payroll officer", "sous chef",
          "lab assistant", "bus driver", "graphic designer", "warehouse supervisor"]


def _code(r: random.Random, letters: int, digits: int) -> str:
    return "".join(r.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(letters)) + str(r.randint(10 ** (digits - 1), 10 ** digits - 1))


def _job_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "salary": Fact(_money(r, 18000, 96000), [
            "{e} pays {v} a year.", "The salary for {e} is {v}.", "Pay: {v} per year for {e}.",
            "Whoever takes {e} will earn {v} a year.", "{e} comes with a salary of {v}."],
            ["What does {e} pay?", "What is the salary for {e}?", "How much does {e} pay a year?"]),
        "hiring_manager": Fact(person_name(r), [
            "Applications for {e} go to {v}.", "{v} is the hiring manager for {e}.", "The successful candidate for {e} will report to {v}.",
            "Contact {v} with questions about {e}.", "{v} will interview candidates for {e}."],
            ["Who is the hiring manager for {e}?", "Who do applications for {e} go to?", "Who will {e} report to?"]),
        "location": Fact(place_name(r), [
            "{e} is based in {v}.", "The place of work for {e} is {v}.", "{e} involves working from the office in {v}.",
            "Candidates for {e} must be able to travel to {v}.", "{e} sits in the team in {v}."],
            ["Where is {e} based?", "What is the place of work for {e}?", "In which town is {e}?"]),
        "closing_date": Fact(_date(r, 2019, 2027), [
            "Applications for {e} close on {v}.", "The closing date for {e} is {v}.", "Apply for {e} by {v}.",
            "{e} will stop taking applications on {v}.", "No applications for {e} are accepted after {v}."],
            ["When do applications for {e} close?", "What is the closing date for {e}?", "By when must one apply for {e}?"]),
        "hours": Fact(f"{r.randint(16, 45)} hours a week", [
            "{e} is {v}.", "The hours for {e} are {v}.", "{e} is contracted at {v}.",
            "Working time for {e}: {v}.", "Expect {v} in {e}."],
            ["How many hours is {e}?", "What are the hours for {e}?", "How many hours a week does {e} involve?"]),
        "degree": Fact(r.choice(_FIELDS), [
            "{e} requires a degree in {v}.", "Candidates for {e} need a qualification in {v}.",
            "A background in {v} is essential for {e}.", "Applicants to {e} should hold a degree in {v}.",
            "Only graduates in {v} will be considered for {e}."],
            ["What degree does {e} require?", "What qualification do candidates for {e} need?",
             "What must applicants to {e} have studied?"]),
        "team_size": Fact(str(r.randint(3, 60)), [
            "{e} joins a team of {v}.", "The team behind {e} has {v} people.", "{e} is one of {v} posts in the team.",
            "Whoever fills {e} will work alongside {v} colleagues.", "The department of {e} counts {v} staff."],
            ["How large is the team of {e}?", "How many people are in the team for {e}?", "How many colleagues does {e} have?"]),
    }


def _booking_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "traveller": Fact(person_name(r), [
            "{e} is in the name of {v}.", "The passenger on {e} is {v}.", "{v} made {e}.",
            "{e} was booked for {v}.", "Traveller: {v} ({e})."],
            ["Who is {e} for?", "In whose name is {e}?", "Who is the passenger on {e}?"]),
        "origin": Fact(place_name(r), [
            "{e} departs from {v}.", "The journey in {e} starts in {v}.", "Outbound for {e}: from {v}.",
            "{e} begins at {v} airport.", "The trip booked as {e} leaves from {v}."],
            ["Where does {e} depart from?", "Where does the journey in {e} start?", "From which city does {e} leave?"]),
        "destination": Fact(place_name(r), [
            "{e} flies to {v}.", "The destination of {e} is {v}.", "{e} ends in {v}.",
            "Arrival for {e}: {v}.", "The traveller on {e} is heading to {v}."],
            ["Where does {e} go?", "What is the destination of {e}?", "Where does {e} end?"]),
        "departure": Fact(_date(r, 2018, 2027), [
            "{e} departs on {v}.", "The outbound flight of {e} is on {v}.", "{e} starts on {v}.",
            "Travel date for {e}: {v}.", "The trip in {e} begins on {v}."],
            ["When does {e} depart?", "On what date does {e} start?", "What is the travel date of {e}?"]),
        "hotel": Fact(f"the {_cap(r, 2, 2)} Hotel", [
            "{e} includes a stay at {v}.", "Accommodation for {e}: {v}.", "The hotel on {e} is {v}.",
            "Guests on {e} stay at {v}.", "{e} reserves a room at {v}."],
            ["Which hotel is included in {e}?", "Where does the traveller on {e} stay?", "What is the hotel on {e}?"]),
        "flight": Fact(_code(r, 2, 3 + r.randint(0, 1)), [
            "{e} is on flight {v}.", "The flight number for {e} is {v}.", "{e} travels on flight {v}.",
            "Flight {v} carries the traveller on {e}.", "Boarding pass for {e}: flight {v}."],
            ["What is the flight number of {e}?", "Which flight is {e} on?", "On what flight does {e} travel?"]),
        "total": Fact(_money(r, 90, 9000), [
            "{e} cost {v} in total.", "The total price of {e} is {v}.", "{v} was paid for {e}.",
            "Total charged for {e}: {v}.", "The invoice for {e} comes to {v}."],
            ["How much did {e} cost?", "What is the total price of {e}?", "What was paid for {e}?"]),
        "nights": Fact(str(r.randint(1, 21)), [
            "{e} covers {v} nights.", "The stay in {e} lasts {v} nights.", "{e} books {v} nights in all.",
            "Nights booked under {e}: {v}.", "The hotel holds {e} for {v} nights."],
            ["How many nights does {e} cover?", "How long is the stay in {e}, in nights?", "How many nights are booked under {e}?"]),
    }


def _case_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "judge": Fact(person_name(r), [
            "{e} was heard by Judge {v}.", "The judge in {e} was {v}.", "Judge {v} presided over {e}.",
            "{v} gave judgment in {e}.", "Presiding in {e}: {v}."],
            ["Who was the judge in {e}?", "Who heard {e}?", "Which judge presided over {e}?"]),
        "court": Fact(f"{place_name(r)} County Court", [
            "{e} was heard at {v}.", "{e} came before {v}.", "The venue of {e} was {v}.",
            "{v} dealt with {e}.", "{e} was listed at {v}."],
            ["Which court heard {e}?", "Where was {e} heard?", "Before which court did {e} come?"]),
        "decided": Fact(_date(r, 1990, 2026), [
            "{e} was decided on {v}.", "Judgment in {e} was given on {v}.", "The ruling in {e} came on {v}.",
            "{e} ended with a ruling on {v}.", "Date of judgment in {e}: {v}."],
            ["When was {e} decided?", "On what date was judgment given in {e}?", "When did the ruling in {e} come?"]),
        "damages": Fact(_money(r, 500, 900000), [
            "The court in {e} awarded damages of {v}.", "{e} ended with {v} in damages.", "Damages in {e} came to {v}.",
            "The claimant in {e} was awarded {v}.", "An award of {v} was made in {e}."],
            ["How much was awarded in {e}?", "What damages were awarded in {e}?", "What did the claimant in {e} receive?"]),
        "claimant_lawyer": Fact(person_name(r), [
            "The claimant in {e} was represented by {v}.", "{v} acted for the claimant in {e}.",
            "Counsel for the claimant in {e} was {v}.", "{v} argued the claimant's side of {e}.",
            "For the claimant in {e}: {v}."],
            ["Who represented the claimant in {e}?", "Who acted for the claimant in {e}?", "Who was counsel for the claimant in {e}?"]),
        "hearing_days": Fact(str(r.randint(1, 40)), [
            "The hearing of {e} lasted {v} days.", "{e} took {v} days in court.", "{e} was argued over {v} days.",
            "Hearing length in {e}: {v} days.", "The trial of {e} ran for {v} days."],
            ["How many days did the hearing of {e} last?", "How long did {e} take in court, in days?",
             "Over how many days was {e} argued?"]),
        "filed": Fact(str(r.randint(1985, 2025)), [
            "{e} was filed in {v}.", "The claim in {e} was issued in {v}.", "{e} began in {v}.",
            "Proceedings in {e} started in {v}.", "{e} dates from {v}."],
            ["When was {e} filed?", "In what year was the claim in {e} issued?", "When did {e} begin?"]),
    }


def _trial_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "drug": Fact(_word(r, 2) + r.choice(_DRUG_SUFFIX), [
            "{e} tests {v}.", "The drug studied in {e} is {v}.", "{e} compares {v} with a placebo.",
            "Patients in {e} receive {v}.", "{e} is a study of {v}."],
            ["Which drug does {e} test?", "What drug is studied in {e}?", "What do patients in {e} receive?"]),
        "participants": Fact(_num(r, 40, 12000), [
            "{e} enrolled {v} participants.", "{v} patients took part in {e}.", "{e} recruited {v} people.",
            "The sample of {e} numbers {v}.", "Enrolment in {e} reached {v}."],
            ["How many participants did {e} enrol?", "How many patients took part in {e}?", "How many people did {e} recruit?"]),
        "investigator": Fact(person_name(r), [
            "{e} is led by {v}.", "The chief investigator of {e} is {v}.", "{v} runs {e}.",
            "{v} designed {e}.", "Principal investigator of {e}: {v}."],
            ["Who leads {e}?", "Who is the chief investigator of {e}?", "Who runs {e}?"]),
        "sponsor": Fact(org_name(r), [
            "{e} is funded by {v}.", "The sponsor of {e} is {v}.", "{v} pays for {e}.",
            "{e} receives its funding from {v}.", "Funding for {e} comes from {v}."],
            ["Who funds {e}?", "Who is the sponsor of {e}?", "Who pays for {e}?"]),
        "sites": Fact(str(r.randint(2, 140)), [
            "{e} runs at {v} hospitals.", "{e} recruits at {v} sites.", "Patients join {e} at {v} centres.",
            "{v} clinics take part in {e}.", "{e} spans {v} hospitals."],
            ["At how many hospitals does {e} run?", "How many sites does {e} recruit at?", "How many centres take part in {e}?"]),
        "outcome": Fact(r.choice(_OUTCOMES), [
            "The primary outcome of {e} is {v}.", "{e} measures {v}.", "{e} was designed to change {v}.",
            "Success in {e} is judged by {v}.", "The main endpoint of {e} is {v}."],
            ["What is the primary outcome of {e}?", "What does {e} measure?", "What is the main endpoint of {e}?"]),
        "duration": Fact(f"{r.randint(4, 160)} weeks", [
            "{e} follows patients for {v}.", "Treatment in {e} lasts {v}.", "{e} runs for {v}.",
            "Each patient stays in {e} for {v}.", "The follow-up in {e} is {v}."],
            ["How long does {e} follow patients?", "How long does treatment in {e} last?", "How long does {e} run?"]),
    }


def _tenancy_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "landlord": Fact(person_name(r), [
            "The landlord of {e} is {v}.", "{v} lets {e}.", "{e} is owned and let by {v}.",
            "{v} is named as landlord for {e}.", "Landlord for {e}: {v}."],
            ["Who is the landlord of {e}?", "Who lets {e}?", "Who owns {e}?"]),
        "tenant": Fact(person_name(r), [
            "The tenant of {e} is {v}.", "{v} rents {e}.", "{e} is let to {v}.",
            "{v} signed for {e}.", "Tenant for {e}: {v}."],
            ["Who is the tenant of {e}?", "Who rents {e}?", "To whom is {e} let?"]),
        "rent": Fact(_money(r, 300, 6000), [
            "The rent for {e} is {v} a month.", "{e} costs {v} per month.", "Monthly rent on {e}: {v}.",
            "The tenant of {e} pays {v} each month.", "{e} is let at {v} a month."],
            ["What is the rent for {e}?", "How much does {e} cost per month?", "What is the monthly rent on {e}?"]),
        "deposit": Fact(_money(r, 300, 9000), [
            "The deposit for {e} is {v}.", "A deposit of {v} was paid for {e}.", "{e} required a deposit of {v}.",
            "Deposit held for {e}: {v}.", "{v} is held as the deposit on {e}."],
            ["How much is the deposit for {e}?", "What deposit was paid for {e}?", "What deposit does {e} require?"]),
        "start": Fact(_date(r, 2010, 2027), [
            "{e} starts on {v}.", "The tenancy of {e} begins on {v}.", "{e} runs from {v}.",
            "Move-in date for {e}: {v}.", "Keys to {e} are handed over on {v}."],
            ["When does {e} start?", "When does the tenancy of {e} begin?", "What is the move-in date for {e}?"]),
        "term": Fact(f"{r.choice([6, 12, 18, 24, 36])} months", [
            "{e} is for a fixed term of {v}.", "The term of {e} is {v}.", "{e} lasts {v}.",
            "{e} is agreed for {v}.", "Length of {e}: {v}."],
            ["How long is the term of {e}?", "For how long is {e} agreed?", "What is the fixed term of {e}?"]),
        "notice": Fact(f"{r.randint(1, 12)} weeks", [
            "Either side must give {v} notice to end {e}.", "The notice period for {e} is {v}.",
            "Ending {e} requires {v} notice.", "{e} can be ended with {v} notice.", "Notice on {e}: {v}."],
            ["What is the notice period for {e}?", "How much notice is needed to end {e}?", "How much notice ends {e}?"]),
        "agent": Fact(org_name(r), [
            "{e} is managed by {v}.", "The letting agent for {e} is {v}.", "{v} handles repairs at {e}.",
            "{v} manages {e} for the landlord.", "Agent for {e}: {v}."],
            ["Who manages {e}?", "Who is the letting agent for {e}?", "Who handles repairs at {e}?"]),
    }


def paraphrased_question(rng: random.Random, question: str, noun: str | None, entity: str, held_out: str) -> str:
    """A training question in other words: a generic form from the fact's noun (when it has one)
    and/or a frame around it; never the fact's held-out (eval) question `held_out`."""
    if noun and rng.random() < 0.6:
        generic = rng.choice(_GENERIC_QUESTIONS).format(n=noun, e=entity)
        question = generic if generic != held_out else question
    if rng.random() < 0.5:
        first, _, rest = question.partition(" ")
        lowered = first.lower() + " " + rest if first in _QUESTION_WORDS else question
        framed = rng.choice(_QUESTION_FRAMES).format(q=question, lq=lowered)
        question = framed if framed != held_out else question
    return question


def _title(r: random.Random) -> str:
    return "The " + r.choice(["Quiet", "Last", "Hidden", "Silver", "Broken", "Northern", "Distant"]) + " " + _cap(r, 2, 2)


DOC_KINDS: list[DocKind] = [
    DocKind("person", person_name, _person_facts,
            ["{e} is a well-known figure in the region.", "This is a short biography of {e}.", "Profile: {e}."]),
    DocKind("company", org_name, _company_facts,
            ["{e} is a private company.", "Company overview: {e}.", "This profile describes {e}."]),
    DocKind("town", place_name, _town_facts,
            ["{e} is a small town.", "A guide to {e}.", "{e} is a market town with a long history."]),
    DocKind("product", lambda r: f"{_cap(r, 2, 2)} {r.choice(['X', 'Pro', 'Mini', 'S', 'Max'])}{r.randint(1, 99)}", _product_facts,
            ["Product sheet: {e}.", "The {e} is a consumer product.", "This page describes the {e}."]),
    DocKind("species", lambda r: f"{_cap(r, 2, 2).lower()} {r.choice(_ANIMALS)}", _species_facts,
            ["The {e} is a rare species.", "Species account: {e}.", "Field notes on the {e}."]),
    DocKind("event", lambda r: f"{_cap(r, 2, 2)} {r.choice(['Marathon', 'Chess Open', 'Regatta', 'Science Fair', 'Cup'])}", _event_facts,
            ["Report on the {e}.", "The {e} is an annual competition.", "Results of the {e}."]),
    DocKind("university", lambda r: r.choice([f"University of {place_name(r)}", f"{_cap(r)} College",
                                              f"{place_name(r)} Institute of Technology"]), _university_facts,
            ["{e} is a public research university.", "{e} is one of the oldest universities in the country.",
             "This article is about {e}."]),
    DocKind("river", lambda r: f"{_cap(r, 2, 2)} River", _river_facts,
            ["The {e} is a river in the north of the country.", "The {e} is a major river.",
             "This article describes the {e}."]),
    DocKind("mountain", lambda r: f"Mount {_cap(r)}" if r.random() < 0.5 else f"{_cap(r)} Peak", _mountain_facts,
            ["{e} is a mountain in the northern highlands.", "{e} is a prominent peak.", "Climbing guide: {e}."]),
    DocKind("disease", lambda r: f"{_cap(r, 2, 2)} {r.choice(['fever', 'syndrome', 'disease'])}", _disease_facts,
            ["{e} is a rare illness.", "Patient information: {e}.", "{e} is a medical condition first seen in rural areas."]),
    DocKind("club", lambda r: f"{place_name(r)} {r.choice(_CLUB_SUFFIX)}", _club_facts,
            ["{e} is a professional football club.", "Club history: {e}.", "{e} is a football club with a loyal following."]),
    DocKind("software", lambda r: _cap(r, 2, 3), _software_facts,
            ["{e} is an open-source software project.", "Project overview: {e}.", "{e} is a free software library."]),
    DocKind("bridge", lambda r: f"{_cap(r, 2, 2)} Bridge", _bridge_facts,
            ["{e} is a road bridge.", "{e} is a listed structure.", "History of {e}."]),
    DocKind("expedition", lambda r: f"{_cap(r, 2, 2)} Expedition", _expedition_facts,
            ["The {e} was a scientific expedition.", "Expedition report: the {e}.",
             "The {e} is remembered as one of the great journeys of its time."]),
    DocKind("album", lambda r: f"{_cap(r, 2, 2)} {r.choice(['Nights', 'Letters', 'Tapes', 'Sessions', 'Weather', 'Rooms'])}",
            _album_facts, ["{e} is a studio album.", "Album review: {e}.", "{e} is a record that divided critics."]),
    DocKind("restaurant", lambda r: f"{_cap(r, 2, 2)} {r.choice(['Kitchen', 'Bistro', 'Tavern', 'Grill', 'Brasserie'])}",
            _restaurant_facts, ["{e} is a restaurant.", "Restaurant review: {e}.", "{e} is a family-run restaurant."]),
    DocKind("mission", lambda r: f"{_cap(r, 2, 2)} {r.randint(1, 9)}", _mission_facts,
            ["{e} is a robotic space mission.", "Mission summary: {e}.", "{e} is an uncrewed spacecraft."]),
    # Record-like reports: an identifier, not a name, is the entity.
    DocKind("incident", lambda r: f"Incident {r.choice(['INC', 'OPS', 'SEC', 'NET'])}-{r.randint(100, 9999)}",
            _incident_facts, ["Post-incident report for {e}.", "{e} was a service outage.",
                              "This review covers {e}."]),
    # Arbitrary attributes of anything, in the generic forms only: relations no template lists.
    DocKind("record", lambda r: f"{_cap(r, 2, 2)} {r.choice(['Project', 'House', 'Estate', 'Programme', 'Station', 'Collection', 'Fund', 'Depot', 'Works'])}",
            _record_facts, ["Record: {e}.", "Fact sheet for {e}.", "{e} is listed in the register."], train_only=True),
    DocKind("job", lambda r: f"the {r.choice(_ROLES)} role at {org_name(r)}", _job_facts,
            ["Job advert: {e}.", "{e} is open to applicants.", "We are recruiting for {e}."], train_only=True),
    DocKind("booking", lambda r: f"booking {_code(r, 3, 4)}", _booking_facts,
            ["Travel confirmation for {e}.", "Itinerary: {e}.", "This email confirms {e}."], train_only=True),
    DocKind("case", lambda r: f"{_cap(r, 2, 2)} v {_cap(r, 2, 3)}", _case_facts,
            ["Case summary: {e}.", "{e} was a civil claim.", "Law report: {e}."], train_only=True),
    DocKind("trial", lambda r: f"the {_code(r, 4, 1)} trial", _trial_facts,
            ["Trial summary: {e}.", "{e} is a randomised controlled study.", "Study record for {e}."], train_only=True),
    DocKind("tenancy", lambda r: f"{r.randint(1, 240)} {_cap(r, 2, 2)} {r.choice(['Road', 'Street', 'Lane', 'Close'])}",
            _tenancy_facts, ["Tenancy agreement: {e}.", "This agreement covers {e}.", "Letting details for {e}."],
            train_only=True),
    # Kinds the eval split alone uses: unseen entities, facts and phrasing.
    DocKind("ship", lambda r: f"{_cap(r, 2, 2)} {r.choice(['Star', 'Dawn', 'Spirit', 'Wind'])}", _ship_facts,
            ["The {e} is a merchant vessel.", "Vessel record: {e}."], eval_only=True),
    DocKind("book", _title, _book_facts,
            ["{e} is a novel.", "Book notes: {e}."], eval_only=True),
]


@dataclass
class QA:
    q: str
    a: str


@dataclass
class SyntheticDoc:
    id: str
    kind: str
    text: str
    qa: list[QA] = field(default_factory=list)
    gold_only: bool = False  # train on the gold answers alone: the teacher cannot be trusted on these

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "text": self.text, "qa": [{"q": x.q, "a": x.a} for x in self.qa]})


def _pick(templates: list[str], split: str, rng: random.Random) -> str:
    """Train sees all but the last template; eval sees only the last (unseen phrasing)."""
    if split == "eval" and len(templates) > 1:
        return templates[-1]
    return rng.choice(templates[:-1] if len(templates) > 1 else templates)


def _layout(rng: random.Random, entity: str, intro: str, sentences: list[str], facts: dict[str, Fact]) -> str:
    """Prose paragraphs most of the time; sometimes a list, a record, or a markdown article."""
    style = rng.random()
    if style < 0.6:
        cut = rng.randint(1, max(1, len(sentences) - 1))
        return intro + " " + " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    if style < 0.72:
        return intro + "\n\n" + "\n".join(f"- {s}" for s in sentences)
    if style < 0.85:
        lines = [f"{k.replace('_', ' ').capitalize()}: {f.value}" for k, f in facts.items()]
        rng.shuffle(lines)
        return f"{entity}\n" + "\n".join(lines) + "\n\n" + " ".join(sentences[: max(1, len(sentences) // 2)])
    # Real documents are often markdown articles: a title heading, then paragraphs or titled sections.
    cut = rng.randint(1, max(1, len(sentences) - 1))
    section = f"## {rng.choice(_SECTIONS)}\n\n" if rng.random() < 0.6 else ""
    return (f"# {entity[0].upper()}{entity[1:]}\n\n{intro} " + " ".join(sentences[:cut]) + "\n\n" + section
            + " ".join(sentences[cut:]))


def make_doc(rng: random.Random, split: str = "train", kind: DocKind | None = None, doc_id: str = "",
             n_questions: int = 4, paraphrase: float = 0.0) -> SyntheticDoc:
    """One document and its questions. `paraphrase` (training only): the share of questions asked
    in other words (`paraphrased_question`); 0 draws exactly what earlier versions drew."""
    if split == "eval":
        kinds = [k for k in DOC_KINDS if not k.train_only]
    else:
        kinds = [k for k in DOC_KINDS if not k.eval_only and (paraphrase > 0 or not k.train_only)]
    kind = kind or rng.choice(kinds)
    entity = kind.entity(rng)
    facts = kind.facts(rng)
    names = list(facts)
    rng.shuffle(names)
    names = names[: rng.randint(max(3, len(names) - 2), len(names))]
    facts = {k: facts[k] for k in names}
    sentences = [_pick(f.statements, split, rng).format(e=entity, v=f.value) for f in facts.values()]
    for _ in range(rng.randint(0, 2)):
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(_FILLER))
    sentences = [s[0].upper() + s[1:] for s in sentences]
    intro = rng.choice(kind.intros).format(e=entity)
    intro = intro[0].upper() + intro[1:]
    text = _layout(rng, entity, intro, sentences, facts)
    asked = rng.sample(names, min(n_questions, len(names)))
    qa = [QA(_pick(facts[k].questions, split, rng).format(e=entity), facts[k].value) for k in asked]
    if split == "train" and paraphrase > 0:
        nouns = _FACT_NOUNS.get(kind.name, {})
        for x, k in zip(qa, asked):
            if rng.random() < paraphrase:
                x.q = paraphrased_question(rng, x.q, nouns.get(k), entity, facts[k].questions[-1].format(e=entity))
    return SyntheticDoc(doc_id or f"{split}-{kind.name}-{rng.getrandbits(40):010x}", kind.name, text, qa)


def make_long_doc(rng: random.Random, n_parts: int, split: str = "eval", doc_id: str = "",
                  paraphrase: float = 0.0) -> SyntheticDoc:
    """A long document of several independent sections (for chunking), questions from each."""
    parts = [make_doc(rng, split, n_questions=2, paraphrase=paraphrase) for _ in range(n_parts)]
    text = "\n\n".join(p.text for p in parts)
    qa = [q for p in parts for q in p.qa]
    return SyntheticDoc(doc_id or f"{split}-long{n_parts}-{rng.getrandbits(40):010x}", "long", text, qa)


def write_jsonl(docs: list[SyntheticDoc], path: str) -> None:
    with open(path, "w") as fh:
        for d in docs:
            fh.write(d.to_json() + "\n")
