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
    return f"{rng.choice(_FIRST)} {_cap(rng)}"


def place_name(rng: random.Random) -> str:
    return _cap(rng, 1, 2) + rng.choice(_PLACE_SUFFIX)


def org_name(rng: random.Random) -> str:
    return f"{_cap(rng)} {rng.choice(_ORG_KIND)}"


def date_str(rng: random.Random, lo: int = 1900, hi: int = 2024) -> str:
    return f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(lo, hi)}"


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

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "text": self.text, "qa": [{"q": x.q, "a": x.a} for x in self.qa]})


def _pick(templates: list[str], split: str, rng: random.Random) -> str:
    """Train sees all but the last template; eval sees only the last (unseen phrasing)."""
    if split == "eval" and len(templates) > 1:
        return templates[-1]
    return rng.choice(templates[:-1] if len(templates) > 1 else templates)


def _layout(rng: random.Random, entity: str, intro: str, sentences: list[str], facts: dict[str, Fact]) -> str:
    """Prose paragraphs most of the time; sometimes a record-like layout."""
    style = rng.random()
    if style < 0.7:
        cut = rng.randint(1, max(1, len(sentences) - 1))
        return intro + " " + " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    if style < 0.85:
        return intro + "\n\n" + "\n".join(f"- {s}" for s in sentences)
    lines = [f"{k.replace('_', ' ').capitalize()}: {f.value}" for k, f in facts.items()]
    rng.shuffle(lines)
    return f"{entity}\n" + "\n".join(lines) + "\n\n" + " ".join(sentences[: max(1, len(sentences) // 2)])


def make_doc(rng: random.Random, split: str = "train", kind: DocKind | None = None, doc_id: str = "",
             n_questions: int = 4) -> SyntheticDoc:
    kinds = [k for k in DOC_KINDS if (k.eval_only is False or split == "eval")]
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
    return SyntheticDoc(doc_id or f"{split}-{kind.name}-{rng.getrandbits(40):010x}", kind.name, text, qa)


def make_long_doc(rng: random.Random, n_parts: int, split: str = "eval", doc_id: str = "") -> SyntheticDoc:
    """A long document of several independent sections (for chunking), questions from each."""
    parts = [make_doc(rng, split, n_questions=2) for _ in range(n_parts)]
    text = "\n\n".join(p.text for p in parts)
    qa = [q for p in parts for q in p.qa]
    return SyntheticDoc(doc_id or f"{split}-long{n_parts}-{rng.getrandbits(40):010x}", "long", text, qa)


def write_jsonl(docs: list[SyntheticDoc], path: str) -> None:
    with open(path, "w") as fh:
        for d in docs:
            fh.write(d.to_json() + "\n")
