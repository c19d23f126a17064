"""Who or what a sentence is about: the document's subject from its title, people's names, and a
clause subject as it reads inside a question (pronouns resolved through the context)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hypernet.self_questions.clause import Clause
from hypernet.self_questions.phrases import phrase
from hypernet.self_questions.sentences import MARKER
from hypernet.self_questions.words import (AUX, BAD_PRONOUNS, DAYS, DET, GENERIC_TITLE, MONTHS, NUMBER_WORDS, ORG_WORDS,
                                           PREPS, QUANT, ROLE_LABELS, TITLES)


def title_subject(title: str, text_lower: frozenset[str] = frozenset()) -> str | None:
    """The thing a record or article is about, from its title line: "Company overview: Wux
    Systems." -> "Wux Systems"; "RV Holm: a research vessel" -> "RV Holm"; "The Tarrow Bridge" ->
    "the Tarrow Bridge"; "Amber-throated tree frog (Hyla)" -> "the amber-throated tree frog"."""
    title = re.sub(r"\s*\([^)]*\)", "", MARKER.sub("", title)).strip().rstrip(".:")
    if ": " in title:
        left, right = title.split(": ", 1)
        first = right.split()[0] if right.split() else ""
        if first.lower() in ("a", "an"):
            title = left
        elif first[:1].isupper() or first[:1].isdigit():
            title = right
        elif left.lower() in GENERIC_TITLE:
            title = "the " + right
        else:
            title = left
    title = re.sub(r"\s+\d{1,2}$", "", title.split(", ")[0].strip())  # "Dunmore Harriers 3, Kelsby Rovers 1"
    words = title.split()
    if not words or len(words) > 7 or any(w.lower() in AUX for w in words):
        return None
    if words[0].lower() in ("a", "an"):
        of = re.search(r"\bof ((?:[A-Z][\w'’-]*\s?)+)$", title)
        return of.group(1).strip() if of else None
    if words[0].lower() == "the":
        return "the " + " ".join(words[1:]) if len(words) > 1 else None
    content = [w for w in words[1:] if w.lower() not in PREPS | DET | {"and", "or", "&"}]
    if all(w[:1].isupper() or w[:1].isdigit() for w in content):
        return title  # a name: "Veltrano Robotics", "Kestrel K7 Commuter E-Bike"
    if len(words) > 5:
        return None  # a headline or a description, not a name
    first = words[0]
    if first.lower() in text_lower:  # "Amber-throated tree frog": a common noun phrase
        first = first[:1].lower() + first[1:]
    return " ".join(["the", first] + words[1:])


def role_noun(word: str) -> bool:
    """A noun for what a person does: "author", "keeper", "violinist", "librarian"."""
    return word in ROLE_LABELS or len(word) > 4 and word.endswith(("er", "or", "ist", "ian"))


def person_like(words: list[str]) -> bool:
    """Two to four capitalised words that name a person, not a place or an organisation."""
    names = [w for w in words if w.lower() not in TITLES]
    if not 2 <= len(names) <= 4:
        return False
    for w in names:
        low = w.lower()
        if not re.fullmatch(r"[A-Z][^\W\d_]*(?:['’.-][^\W\d_]*)*", w) or low.rstrip("s") in ORG_WORDS \
                or low in NUMBER_WORDS | ORG_WORDS | MONTHS | DAYS | DET:
            return False
    return True


@dataclass
class Context:
    """What pronouns point to: the section's subject and the person last named as a subject."""
    topic: str | None = None
    person: str | None = None


@dataclass(frozen=True)
class Doc:
    text: str
    lower: frozenset[str]  # words written in lower case somewhere: "Construction" is a common noun
    mid_caps: frozenset[str]  # capitalised words seen inside a sentence: "Bellhaven" is a name

    @classmethod
    def of(cls, text: str) -> "Doc":
        return cls(text, frozenset(re.findall(r"\b[a-z][\w'’-]*", text)),
                   frozenset(re.findall(r"(?<=[\w,;] )[A-Z][\w'’-]*", text)))


def subject_text(cl: Clause, ctx: Context, doc: Doc) -> str | None:
    """The clause subject as it reads inside a question: pronouns resolved, "Its X" -> "the X of T",
    a sentence-initial common word lower-cased; None when it cannot be said without the document."""
    toks, (a, b) = cl.toks, cl.subj
    words = [t.raw for t in toks[a:b]]
    words[-1] = phrase(toks, b - 1, b)
    first = toks[a].low
    if b - a == 1 and first in ("it", "she", "he"):
        return ctx.topic if first == "it" else ctx.person
    if first in ("its", "her", "his") and b - a >= 2:
        owner = ctx.topic if first == "its" else ctx.person
        if not owner:
            return None
        rest = words[1:]
        if any(w.lower() in BAD_PRONOUNS for w in rest):
            return None
        return f"the {' '.join(rest)} of {owner}"
    for m in range(a + 1, b - 1):
        if toks[m].low == "its" and ctx.topic and toks[m + 1].word.isalpha() and m + 2 == b:
            words[m - a:] = [f"the {toks[m + 1].word} of {ctx.topic}"]
            break
    if any(w.lower() in BAD_PRONOUNS for w in words):
        return None
    if first in DET | QUANT or a == cl.lead and first in doc.lower and toks[a].word not in doc.mid_caps:
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)
