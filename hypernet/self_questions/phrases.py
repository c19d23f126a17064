"""Building a wh-question from a clause: token spans as question text, the object after a verb, and
the clause inverted around its subject ("When was the bridge opened?")."""
from __future__ import annotations

import re

from hypernet.self_questions.clause import Clause, verb_at
from hypernet.self_questions.tokens import Tok
from hypernet.self_questions.words import CLAUSE_BREAK, COPULA, DET, INTRANSITIVE, SUBJECT_PRONOUNS


def cap_run(toks: list[Tok], k: int, end: int) -> int:
    """One past the run of capitalised words starting at k ("Duke of Kentmere", "Mount Gecend")."""
    m = k
    while m < end and (toks[m].cap or toks[m].word[:1].isdigit() and m > k
                       or toks[m].low in ("of", "de", "da", "van", "von", "del", "la", "le", "and", "&", "the")
                       and m + 1 < end and toks[m + 1].cap and m > k and not toks[m - 1].pause):
        m += 1
        if toks[m - 1].pause:
            break
    while m > k and not toks[m - 1].cap:
        m -= 1
    return m


def phrase(toks: list[Tok], a: int, b: int) -> str:
    """Tokens a..b as question text: spacing normalised, the last token's trailing punctuation dropped."""
    if a >= b:
        return ""
    text = " ".join(t.raw for t in toks[a:b])
    return re.sub(r"[\s,;:.!?]+$", "", text.rstrip(")\"'”’") if "(" not in text else text)


def invert(cl: Clause, subj: str) -> str:
    """The clause as the rest of a wh-question about its object: "was the bridge opened",
    "did the shipyard close", "has Sorvik supervised"."""
    toks = cl.toks
    advs = " ".join(toks[k].low for k in cl.advs)
    if cl.aux:
        first, more = toks[cl.aux[0]].low, " ".join(toks[k].low for k in cl.aux[1:])
        verb = toks[cl.verb].low if cl.verb is not None and cl.verb_form != "have" else \
            ("have" if cl.verb_form == "have" else "")
        return " ".join(x for x in (first, subj, more, advs, verb) if x)
    if cl.verb_form == "have" and cl.verb is not None:
        form = toks[cl.verb].low
        do = {"has": "does", "have": "do", "had": "did"}[form]
        return " ".join(x for x in (do, subj, advs, "have") if x)
    form = cl.verb_form
    if form in ("ed", "past"):
        do = "did"
    elif form == "3sg":
        do = "does"
    elif form == "base":
        do = "do"
    else:
        return ""
    return " ".join(x for x in (do, subj, advs, cl.base) if x)


def object_end(toks: list[Tok], a: int, limit: int = 10) -> int:
    """One past the object that starts at token a: up to a pause, a clause break, or `limit` words;
    a itself when there is none (the verb ends a phrase, or a clause break follows it)."""
    if a == 0 or a >= len(toks) or toks[a - 1].pause or toks[a].low in CLAUSE_BREAK:
        return a
    m = a
    while m < len(toks) and m - a < limit:
        if toks[m].low in CLAUSE_BREAK:
            break
        m += 1
        if toks[m - 1].pause:
            break
    return m if m - a < limit or m == len(toks) else a


def clean_question(question: str) -> str:
    """Spacing folded, a capital first, a question mark last."""
    question = " ".join(question.split())
    return question[:1].upper() + question[1:] + "?"


def ask_about(cl: Clause, head: tuple[int, str], subj: str, wh: str, obj_end: int,
              asks_object: bool = False) -> str | None:
    """ "<wh> <inverted clause with head as its verb> <words from head to obj_end>?"
    asks_object: the wh-phrase stands for the verb's object ("How many buildings did she design?")."""
    toks = cl.toks
    h, kind = head
    obj = phrase(toks, h + 1, obj_end)
    if any(t.low in SUBJECT_PRONOUNS for t in toks[h + 1:obj_end]):
        return None
    v = verb_at(toks, h, after_aux=True)
    active = kind != "reduced" and not cl.aux and v is not None and v[0] in ("ed", "past")
    if active and not obj and not asks_object and v[1] not in INTRANSITIVE:
        return None  # "A house built in 1936": a participle, not "the house built (something)"
    if kind == "main":
        inv = invert(cl, subj)
        if not inv:
            return None
        if cl.verb is None:  # "Her best-known voyage was in 2006" -> "When was her best-known voyage?"
            return clean_question(f"{wh} {toks[cl.aux[0]].low} {subj} {obj}")
        return clean_question(f"{wh} {inv} {obj}")
    if v is None:
        return None
    passive_main = cl.aux and cl.verb_form in ("ed", "pp") and toks[cl.aux[-1]].low in COPULA
    takes_object = h + 1 < len(toks) and toks[h + 1].low in DET
    if kind == "reduced" or passive_main and v[0] in ("ed", "pp") and not takes_object:
        be = toks[cl.aux[0]].low if cl.aux and kind == "and" else "was"
        return clean_question(f"{wh} {be} {subj} {toks[h].low} {obj}")
    do = {"ed": "did", "past": "did", "3sg": "does", "base": "do"}.get(v[0])
    if do is None or cl.aux and not passive_main:
        return None
    return clean_question(f"{wh} {do} {subj} {v[1]} {obj}")
