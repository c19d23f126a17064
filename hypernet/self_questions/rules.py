"""The clause rules: when, who, where, born and "its X is Y" questions, each yielding (form,
question, answer start, answer end) with the answer a span of the sentence."""
from __future__ import annotations

import re

from hypernet.self_questions.clause import Clause, clause_heads, head_for, verb_at
from hypernet.self_questions.phrases import ask_about, cap_run, clean_question, object_end, phrase
from hypernet.self_questions.subjects import person_like, role_noun
from hypernet.self_questions.tokens import Tok, date_end, is_year
from hypernet.self_questions.verbs import PAST_OF, third_person
from hypernet.self_questions.words import (CLAUSE_BREAK, COPULA, DAYS, DET, DONE_ONCE, MEASURE_ADJ, MONTHS, PARTICLES,
                                           PLACE_NOUNS, PLACE_VERBS, PREPS, ROLE_LABELS, SUBJECT_PRONOUNS, TITLES,
                                           UNITS)


def when_items(cl: Clause, subj: str):
    """A date the clause or one of its verbs is dated by: "In 2015 Sorvik moved to Copenhagen",
    "The bridge was opened on 7 May 1931" -> "When ...?" (and "In what year ...?" for a bare year)."""
    toks = cl.toks
    if cl.lead_date:  # "In 2015 Sorvik moved to Copenhagen" -> "When did Sorvik move to Copenhagen?"
        a, b = cl.lead_date
        end = object_end(toks, cl.rest)
        if cl.verb is not None and end > cl.rest and not any(date_end(toks, m) for m in range(cl.rest, end)):
            q = ask_about(cl, (cl.verb, "main"), subj, "When", end)
            if q:
                yield "when", q, toks[a].start, toks[b - 1].end
                if b - a == 1 and is_year(toks[a].word):
                    yield "when", "In what year" + q[4:], toks[a].start, toks[b - 1].end
    heads = clause_heads(cl)
    k = 1
    while k < len(toks):
        end = date_end(toks, k) if toks[k - 1].low in ("in", "on", "at") else None
        if not end:
            k += 1
            continue
        head = head_for(cl, heads, k - 1)
        if head and not (end + 1 < len(toks) and toks[end].low in ("and", "to", "or") and not toks[end - 1].pause
                         and (date_end(toks, end + 1) or toks[end + 1].word[:1].isdigit())):
            wh = "At what time" if toks[k - 1].low == "at" else "When"
            if wh == "When" or re.match(r"\d", toks[k].word):
                q = ask_about(cl, head, subj, wh, k - 1)
                if q:
                    a = k + 1 if toks[k].low == "the" else k
                    yield "when", q, toks[a].start, toks[end - 1].end
                    if end - a == 1 and is_year(toks[a].word) and wh == "When":
                        yield "when", "In what year" + q[4:], toks[a].start, toks[end - 1].end
        k = end


def _agent(toks: list[Tok], k: int) -> tuple[int, int] | None:
    """The named agent after "by" at token k-1: "by the engineer Eleanor Whitcombe" -> Eleanor Whitcombe."""
    m = k
    while m < len(toks) and m - k < 4 and not toks[m].cap and toks[m].word.isalpha() and not toks[m - 1].pause:
        m += 1
    if m >= len(toks) or not toks[m].cap or toks[m].low in MONTHS | DAYS:
        return None
    end = cap_run(toks, m, len(toks))
    if end == m or toks[m].low in TITLES and end - m == 1:
        return None
    if end < len(toks) and not toks[end - 1].pause and toks[end].word.isalpha() and toks[end].word.islower() \
            and toks[end].low not in PREPS | CLAUSE_BREAK and not verb_at(toks, end, after_aux=True):
        if end - m > 1 or m > k:
            return None  # "the Peene shipyard": the name is a modifier, the head is a common noun
        end += 1  # "Loyalist settlers"
        if end < len(toks) and toks[end].word.islower() and toks[end].low not in PREPS | CLAUSE_BREAK \
                and not verb_at(toks, end, after_aux=True) and not toks[end - 1].pause:
            return None
    return m, end


def who_items(cl: Clause, subj: str | None):
    """The named agent of a passive verb, or a named person as the subject: "Who designed ...?"."""
    toks = cl.toks
    # Passive with a named agent: "It was designed by Eleanor Whitcombe" -> "Who designed the Tarrow Bridge?"
    if subj:
        for h, kind in clause_heads(cl):
            v = verb_at(toks, h, after_aux=True)
            passive = kind == "reduced" or cl.aux and toks[cl.aux[-1]].low in COPULA and v and v[0] in ("ed", "pp")
            if not passive or not v or v[0] not in ("ed", "pp"):
                continue
            by = next((m for m in range(h + 1, min(len(toks), h + 8)) if toks[m].low == "by"), None)
            if by is None or any(toks[m].pause or toks[m].low in CLAUSE_BREAK for m in range(h, by)):
                continue
            particle = toks[h + 1].low if by == h + 2 and toks[h + 1].low in PARTICLES else ""
            if by > h + 1 and not particle and toks[h + 1].low not in PREPS:
                continue
            span = _agent(toks, by + 1)
            if not span:
                continue
            base = v[1]
            dated = any(date_end(toks, m) for m in range(h + 1, by))
            present = kind != "reduced" and toks[cl.aux[0]].low in ("is", "are") or \
                kind == "reduced" and not dated and cl.aux and toks[cl.aux[0]].low in ("is", "are") \
                and base not in DONE_ONCE
            if kind == "main" and len(cl.aux) > 1 and toks[cl.aux[0]].low in ("has", "have"):
                verb = f"has {toks[h].low}"
            else:
                verb = third_person(base) if present else PAST_OF.get(base, toks[h].low)
            advs = " ".join(toks[m].low for m in cl.advs) if kind == "main" else ""
            q = clean_question(f"Who {advs} {verb} {particle} {subj}")
            a, b = span
            yield "who", q, toks[a].start, toks[b - 1].end
    # A named person or team as the subject: "Nikolai Quounsta started Wux Systems with borrowed money."
    a, b = cl.subj
    names = [t.word for t in toks[a:b]]
    if cl.verb is not None and person_like(names) and not toks[b - 1].pause and cl.rest < len(toks):
        start = a + next(i for i, w in enumerate(names) if w.lower() not in TITLES)
        end = object_end(toks, cl.rest)
        if end > cl.rest and not any(t.low in SUBJECT_PRONOUNS for t in toks[cl.rest:end]):
            group = " ".join(toks[m].low if m != cl.verb else toks[m].raw.rstrip(",;:")
                             for m in sorted(cl.aux + cl.advs + [cl.verb]))
            q = clean_question(f"Who {group} {phrase(toks, cl.rest, end)}")
            yield "who", q, toks[start].start, toks[b - 1].end


def where_items(cl: Clause, subj: str):
    """A named place after a verb of being somewhere: "The club is based in Manby" -> "Where is the club based?"."""
    toks = cl.toks
    for h, kind in clause_heads(cl):
        v = verb_at(toks, h, after_aux=True)
        base = v[1] if v else None
        if base not in PLACE_VERBS or kind == "reduced":
            continue
        for p in range(h + 1, min(len(toks), h + 5)):
            if toks[p - 1].pause and p > h + 1:
                break
            if toks[p].low not in ("in", "at", "near", "on", "into") or p + 1 >= len(toks):
                continue
            m = p + 1
            if toks[m].low == "the" and m + 3 < len(toks) and toks[m + 1].low in PLACE_NOUNS \
                    and toks[m + 2].low == "of":  # "in the city of Manby"
                m += 3
            elif toks[m].low == "the":
                m += 1
            if m >= len(toks) or not toks[m].cap or toks[m].low in MONTHS | DAYS or date_end(toks, m):
                break
            end = cap_run(toks, m, len(toks))
            if end == m or end < len(toks) and toks[end].word.islower() \
                    and toks[end].low not in PREPS | CLAUSE_BREAK \
                    and not toks[end - 1].pause:
                break
            if toks[p].low == "on" and base not in ("lie", "sit", "stand", "live", "build", "rise") \
                    or (toks[p].low == "into") != (base in ("drain", "flow", "empty")):
                break
            q = ask_about(cl, (h, kind), subj, "Where", p)
            if q:
                yield "where", q, toks[m].start, toks[end - 1].end
            break


def born_items(cl: Clause, subj: str | None, names: str | None):
    """ "Imelda Sorvik (born 12 March 1971 in Tromso, Norway)" -> when and where she was born."""
    toks = cl.toks
    who = names or subj
    if not who:
        return
    for a, b in cl.extras:
        if toks[a].low != "born":
            continue
        d = date_end(toks, a + 1)
        if d:
            yield "when", clean_question(f"When was {who} born"), toks[a + 1].start, toks[d - 1].end
        for p in range(a + 1, b - 1):
            if toks[p].low == "in" and toks[p + 1].cap and not date_end(toks, p + 1):
                end = cap_run(toks, p + 1, b)
                if end > p + 1:
                    yield "where", clean_question(f"Where was {who} born"), toks[p + 1].start, toks[end - 1].end
                break


def copula_items(cl: Clause, subj: str):
    """ "Its chief tributary is the Jizov River." -> "What is the chief tributary of <topic>?" """
    toks = cl.toks
    if cl.verb is not None or len(cl.aux) != 1 or toks[cl.aux[0]].low not in ("is", "are", "was", "were"):
        return
    a, b = cl.subj
    first = toks[a].low
    if first not in ("its", "her", "his", "the") or not 2 + (first == "the") <= b - a <= 6 or cl.extras or not subj:
        return
    of = next((m for m in range(a, b) if toks[m].low == "of"), b)
    if any(re.search(r"\d", t.word) for t in toks[a:b]) or (first == "the" and any(t.cap for t in toks[a + 1:of])):
        return
    k = cl.rest
    if k >= len(toks) or toks[k].low in ("a", "an"):
        return
    v0 = k + 1 if toks[k].low == "the" else k
    if v0 >= len(toks):
        return
    if toks[v0].cap and toks[v0].low not in DET:  # a name: "the Jizov River", "Dorothy Quill"
        end = cap_run(toks, v0, len(toks))
        if end + 1 == len(toks) and not toks[end - 1].pause and toks[end].word.isalpha() and toks[end].word.islower():
            end += 1  # "the Brennick K2 saw": a name and its head noun
    elif re.match(r"[$£€]?\d", toks[v0].word):  # a quantity: "38.1 km", "3,428 cubic metres per second"
        end = v0
        while end < len(toks) and end - v0 < 5 and (
                end == v0 or toks[end].word.isalpha() and (toks[end].word.islower() or toks[end].low in UNITS)
                and toks[end].low not in CLAUSE_BREAK | MEASURE_ADJ):
            end += 1
            if toks[end - 1].pause:
                break
    else:
        return
    if end == v0 or end < len(toks) and not toks[end - 1].pause and toks[end].low not in ("in", "on", "at", "of"):
        return
    head = toks[of - 1].low.removesuffix("'s")
    who = person_like([t.word for t in toks[v0:end]]) and (head in ROLE_LABELS or role_noun(head))
    wh = "Who" if who else "What"
    yield "what", clean_question(f"{wh} {toks[cl.aux[0]].low} {subj}"), toks[v0].start, toks[end - 1].end
