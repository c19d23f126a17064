"""A one-line description (an option's, a docstring's) as question text: its first clause, its verb
phrase in the third person ("prints sizes ...") and the object of its leading verb (the gold answer to
"what does X do")."""
from __future__ import annotations

import re


_VERBS = set("""
accept add allow append apply assume build calculate call cancel change check clear close collect combine
compare compile compute configure convert copy count create decode delete deallocate define describe
detect disable discard display draw dump enable encode ensure escape evaluate exclude execute exit expand
export extend extract fetch fill find flush force format generate get give handle hide ignore import include
increment initialize initialise insert install invoke iterate join keep kill limit list load lock look make
manipulate map mark match merge modify move normalize normalise omit open output overwrite parse pass pause
perform place prefix prepare preserve prevent print process produce prompt put query quote raise read
receive record redirect reduce register reject reload remove rename render repeat replace report request
reset resolve restore retrieve return reverse run save scan search seed select send separate set show skip
sort specify split start stop store strip suppress switch take tell terminate test trace translate treat
truncate try turn unpack unset update use validate verify wait walk warn wrap write yield zero
""".split())


def _third_person(word: str) -> str:
    if word in ("do", "go"):
        return word + "es"
    if re.search(r"(s|sh|ch|x|z)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def verb_phrase(desc: str) -> str:
    """A description as a third-person verb phrase, from its first clause: "print sizes in
    powers of 1000" -> "prints sizes in powers of 1000"; "do not list implied entries" -> "does not
    list implied entries". "" when it does not start with a known verb or has under 3 or over 14 words."""
    words = first_clause(desc).rstrip(".:;, ").split()
    if not 3 <= len(words) <= 14:
        return ""
    first = words[0].lower()
    if first == "don't" or (first == "do" and words[1].lower() == "not"):
        return " ".join(["does not"] + words[1 if first == "don't" else 2:])
    if first not in _VERBS:
        return ""
    return " ".join([_third_person(first)] + words[1:])


_BOUNDARY = {"and", "or", "to", "in", "on", "for", "from", "with", "by", "as", "at", "if", "when", "where",
             "which", "that", "instead", "into", "than", "but", "using", "via", "after", "before", "without",
             "so", "then", "per", "between", "about", "over", "under", "within", "across", "through", "like",
             "is", "are", "will", "can", "may", "unless", "while", "until", "since", "whose", "how", "what"}
_PARTICLES = {"out", "together", "up", "down", "off", "back", "away"}
_WORD_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9'/.+-]*")


def object_phrase(desc: str) -> str:
    """What a description's leading verb acts on, as the gold answer to "what does X do":
    "Return a shell-escaped version of the string *s*" -> "shell-escaped version of the string".
    The first words after the verb (and an article), up to a preposition or conjunction,
    punctuation or five words; "" when the description does not start with a known verb or the
    phrase is shorter than two words. The verb is left out because answers conjugate it ("returns")."""
    words = first_clause(desc).split()
    if len(words) < 3 or words[0].lower() not in _VERBS:
        return ""
    rest = words[1:]
    if rest[0].lower() in _PARTICLES:  # "write out a file", "add together the stats"
        rest = rest[1:]
    if rest and rest[0].lower() in ("a", "an", "the"):
        rest = rest[1:]
    out = []
    for w in rest:
        core = w.rstrip(",;:.")
        if core.lower() in _BOUNDARY or not _WORD_OK.fullmatch(core):
            break
        out.append(core)
        if core != w or len(out) == 5:
            break
    while out and out[-1].lower() in ("of", "the", "a", "an", "all", "each", "any"):
        out.pop()
    return " ".join(out) if len(out) >= 2 else ""


def first_clause(desc: str) -> str:
    s = re.split(r"(?<=[a-z0-9)])\. |; ", desc, maxsplit=1)[0].rstrip(".")
    return s
