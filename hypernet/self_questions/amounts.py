"""How many, how much, how long: questions whose answer is a number with its noun or unit."""
from __future__ import annotations

import re

from hypernet.self_questions.clause import Clause, clause_heads, head_for
from hypernet.self_questions.phrases import ask_about, clean_question, invert, object_end, phrase
from hypernet.self_questions.tokens import Tok, is_year
from hypernet.self_questions.words import (AUX, CLAUSE_BREAK, COUNT_PLURALS, DET, MEASURE_ADJ, MONEY, NUMBER_WORDS,
                                           PERCENT, PREPS, QUANT, QUANT_PAIRS, QUANT_WORDS, TIME_UNITS, UNITS)


def noun_after(toks: list[Tok], k: int) -> tuple[int, str] | None:
    """After a number at token k-1: one past its noun phrase and the noun's kind ("count", "money",
    "time", "percent", "unit"), e.g. "1,206 employees", "450 euros", "64 metres", "square kilometres",
    "23 doctoral students". The phrase ends at its first head noun (a plural or a unit)."""
    def kind(m: int) -> str | None:
        w = toks[m].low
        if w in MONEY:
            return "money"
        if w in TIME_UNITS:
            return "time"
        if w in PERCENT:
            return "percent"
        if w in UNITS:
            return "unit"
        if w in COUNT_PLURALS or w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 2:
            return "count"
        return None
    m = k
    while m < len(toks) and m - k < 3 and re.fullmatch(r"[a-z][a-z/-]*|[A-Z]{1,3}|[kMG]?W[h]?", toks[m].word) \
            and toks[m].low not in PREPS | CLAUSE_BREAK | DET | AUX | MEASURE_ADJ:
        found = kind(m)
        if found and toks[m].low not in ("square", "cubic"):
            return m + 1, found
        if toks[m].pause or toks[m].word.endswith("ed"):
            return None
        m += 1
    return None


def number_at(toks: list[Tok], k: int) -> int | None:
    """One past the number (or range "28 to 34") that starts at token k."""
    w = toks[k].word
    num = re.fullmatch(r"[$£€]?\d[\d,]*(?:\.\d+)?", w) or toks[k].low in NUMBER_WORDS
    if not num or is_year(w) and k > 0 and toks[k - 1].low in ("in", "since", "of", "from", "until", "by"):
        return None
    if k > 0 and (toks[k - 1].word[:1].isupper() and toks[k - 1].low not in QUANT | {"about", "over"}
                  and k - 1 > 0 or toks[k - 1].low in ("no", "no.", "number", "page", "room", "grade", "level")):
        return None  # "GEO 215", "Room 3", "K7": a name, not a quantity
    end = k + 1
    if end + 1 < len(toks) and toks[end].low in ("to", "and", "-", "or") \
            and re.fullmatch(r"\d[\d,.]*", toks[end + 1].word):
        end += 2
    return end


def how_items(cl: Clause, subj: str | None):
    """How many, how much, how long: each number with its noun ("1,206 employees", "450 euros",
    "16 weeks of paid leave") asked through the verb that governs it or the subject it counts."""
    toks = cl.toks
    heads = clause_heads(cl) if subj else []
    for k in range(cl.subj[0], len(toks)):
        end = number_at(toks, k)
        if not end or toks[k - 1].pause and k > cl.subj[0] and k < cl.rest:
            continue
        quantity = _quantity(toks, k, end)
        if quantity is None:
            continue
        n_end, kind, unit_end, noun_text = quantity
        q_start = _hedge_start(toks, k)
        answer = (toks[k].start, toks[unit_end - 1].end) if kind != "count" else (toks[k].start, toks[end - 1].end)
        # The number inside the subject: "About 8478 staff work for Wux" -> "How many staff work for Wux?"
        if cl.subj[0] <= k < cl.subj[1] and kind == "count" and q_start == cl.subj[0] and n_end == cl.subj[1]:
            q = _counted_subject_question(cl, noun_text)
            if q:
                yield "how", q, *answer
            continue
        if not subj or k < cl.rest:
            continue
        # "The ship is 64 metres long" -> "How long is the ship?"
        if cl.verb is None and cl.aux and kind in ("unit", "time") and n_end < len(toks) \
                and toks[n_end].low in MEASURE_ADJ and q_start == cl.rest:
            q = clean_question(f"How {toks[n_end].low} {toks[cl.aux[0]].low} {subj}")
            yield "how", q, toks[k].start, toks[n_end - 1].end
            continue
        if kind == "time" and toks[q_start - 1].low == "for":  # "ran for 12 years" -> "How long did it run?"
            head = head_for(cl, heads, q_start - 1)
            q = ask_about(cl, head, subj, "How long", q_start - 1) if head else None
            if q:
                yield "how", q, toks[k].start, toks[n_end - 1].end
            continue
        q = _object_question(cl, subj, heads, q_start, n_end, kind, noun_text)
        if q:
            yield "how", q, *answer


def _quantity(toks: list[Tok], k: int, end: int) -> tuple[int, str, int, str] | None:
    """For the number at tokens k..end: one past its noun phrase, the noun's kind, one past the
    unit, and the noun phrase as question text; None when no noun says what the number counts."""
    money_sign = toks[k].word[:1] in "$£€"
    noun = noun_after(toks, end)
    if money_sign:
        noun = (end, "money")
    if noun is None:
        return None  # "The room seats 48": no noun to ask about
    n_end, kind = noun
    unit_end = n_end
    noun_text = phrase(toks, end, n_end)
    if n_end + 1 < len(toks) and toks[n_end].low == "of" and kind in ("time", "unit") and not toks[n_end - 1].pause:
        m = n_end + 1  # "16 weeks of paid leave": the unit counts the thing after "of"
        while m < len(toks) and m - n_end <= 3 and toks[m].word.isalpha() and toks[m].word.islower() \
                and toks[m].low not in PREPS | CLAUSE_BREAK | DET:
            m += 1
            if toks[m - 1].pause:
                break
        if m > n_end + 1:
            noun_text = phrase(toks, end, m)
            kind, unit_end, n_end = "unit", n_end, m
    if n_end < len(toks) and toks[n_end].low in ("more", "less", "higher", "lower", "fewer", "of") \
            and kind != "count":
        return None
    return n_end, kind, unit_end, noun_text


def _hedge_start(toks: list[Tok], k: int) -> int:
    """Where the number at token k starts once its hedge is included: "about", "up to", "more than"."""
    q_start = k
    while q_start > 0 and not toks[q_start - 1].pause:
        w, before = toks[q_start - 1].low, toks[q_start - 2].low if q_start > 1 else ""
        if w in QUANT_WORDS:
            q_start -= 1
        elif q_start > 1 and f"{before} {w}" in QUANT_PAIRS:
            q_start -= 2
        else:
            break
    return q_start


def _counted_subject_question(cl: Clause, noun_text: str) -> str | None:
    """ "About 8478 staff work for Wux" -> "How many staff work for Wux?" """
    toks = cl.toks
    obj_end = object_end(toks, cl.rest)
    if not (obj_end > cl.rest or cl.rest == len(toks)):
        return None
    group = " ".join(toks[m].low if m != cl.verb else toks[m].word
                     for m in sorted(cl.aux + cl.advs + ([cl.verb] if cl.verb is not None else [])))
    return clean_question(f"How many {noun_text} {group} {phrase(toks, cl.rest, obj_end)}")


def _object_question(cl: Clause, subj: str, heads, q_start: int, n_end: int, kind: str,
                     noun_text: str) -> str | None:
    """The number as the verb's object: "Bellhaven had 8,412 residents at the 2021 census" ->
    "How many residents did Bellhaven have at the 2021 census?"."""
    toks = cl.toks
    price_prep = ""  # "is priced at $91" -> "How much is it priced?"; "sold for" -> "... sold for?"
    if kind == "money" and toks[q_start - 1].low in ("at", "for") and not toks[q_start - 1].pause:
        price_prep, q_start = toks[q_start - 1].low, q_start - 1
    head = head_for(cl, heads, q_start, limit=4)
    if not head or head[0] != q_start - 1 and not (head[0] == cl.verb and q_start == cl.rest):
        return None
    if head[1] == "main" and cl.verb is None:
        return None  # "Its length is 38 km": asked by the copula rule
    tail_end = n_end
    if n_end < len(toks) and toks[n_end].low in PREPS - {"of"} and not toks[n_end - 1].pause:
        tail_end = object_end(toks, n_end, limit=6)
    tail = phrase(toks, n_end, tail_end)
    if any(number_at(toks, m) for m in range(n_end, tail_end)) and kind != "count":
        tail = ""
    wh = {"count": f"How many {noun_text}", "money": "How much", "percent": "How much",
          "time": "How long", "unit": f"How many {noun_text}"}[kind]
    if kind == "unit" and toks[head[0]].low in ("weighs", "weighed", "weigh", "costs", "cost"):
        wh = "How much"
    if head[1] == "main" and cl.verb is not None and cl.verb_form == "have" and not cl.aux:
        return clean_question(f"{wh} {invert(cl, subj)} {tail}")
    q = ask_about(cl, head, subj, wh, head[0] + 1, asks_object=True)
    ending = " for" if price_prep == "for" else ""
    return q[:-1] + ending + (f" {tail}?" if tail else "?") if q else None
