"""A sentence read as one clause: an optional leading adverbial ("In 2015", "Since last year,"), a
subject, a verb group (auxiliaries, adverbs, a main verb) and the rest; and the verbs that share
its subject."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hypernet.self_questions.tokens import Tok, date_end, tokens
from hypernet.self_questions.verbs import BASES, PARTICIPLE, PAST, THIRD, guess_base
from hypernet.self_questions.words import ADV, AUX, CLAUSE_BREAK, COPULA, COUNT_PLURALS, DET, NEG, PREPS, SUBORDINATE


def verb_at(toks: list[Tok], k: int, after_aux: bool = False) -> tuple[str, str] | None:
    """(form, base) when token k reads as a verb here: form is "aux", "ed" (past or participle),
    "past", "pp" (participle only), "3sg" or "base". The context keeps nouns out: no verb follows
    a determiner, and a bare base form only follows a plural noun ("Members pay") or an auxiliary."""
    w = toks[k].low
    if not w.isalpha() or (toks[k].cap and k > 0 and w not in AUX):
        return None
    prev = toks[k - 1].low if k > 0 else ""
    if w in AUX:
        return "aux", {"is": "be", "are": "be", "was": "be", "were": "be", "am": "be", "been": "be",
                       "being": "be", "has": "have", "had": "have", "does": "do", "did": "do"}.get(w, w)
    if prev in DET or re.fullmatch(r"[\d,.]+", prev or "x") and not toks[k - 1].pause:
        return None
    past, pp = w in PAST, w in PARTICIPLE
    if past and pp:
        return "ed", PAST[w]
    if pp and (after_aux or w not in BASES):
        return "pp", PARTICIPLE[w]
    if past and w not in BASES:
        return "past", PAST[w]
    if w in THIRD and k > 0:
        return "3sg", THIRD[w]
    if w in BASES and (after_aux or k > 0 and (prev.endswith("s") and not prev.endswith("ss")
                                               or prev in COUNT_PLURALS or prev in ADV)):
        return "base", w
    if w.endswith("ed") and k > 0:
        base = guess_base(w)
        return ("ed", base) if base else None
    return None


@dataclass
class Clause:
    toks: list[Tok]
    lead: int  # where the clause starts (after a leading adverbial)
    lead_date: tuple[int, int] | None  # "In 2015 ..." : the date's token range
    subj: tuple[int, int]  # token range of the subject
    aux: list[int]  # auxiliaries, in order
    advs: list[int]  # adverbs inside the verb group
    verb: int | None  # the main verb (None: a copula with no participle, "X is Y")
    verb_form: str  # "aux" for copula/possession, else the verb_at form
    base: str  # the main verb's base ("be" for a copula)
    rest: int  # the first token after the verb group
    extras: list[tuple[int, int]]  # appositives and brackets cut out of the subject
    lead_part: bool = False  # the clause follows a participle phrase: "Formed in 1873, the club ..."
    heads: list[tuple[int, str]] | None = None  # clause_heads, once found


def _leading(toks: list[Tok]) -> tuple[int, tuple[int, int] | None] | None:
    """Where the clause starts once a leading adverbial is skipped, and the date it names."""
    first = toks[0].low
    if (first in PARTICIPLE or guess_base(first)) and len(toks) > 2 and toks[1].low in PREPS:
        for k in range(1, min(len(toks) - 1, 10)):
            if toks[k].pause:
                return k + 1, None
        return None
    if first in ("in", "on", "at", "by", "after", "before", "during", "since", "from", "until", "following",
                 "today", "now", "later", "then", "eventually", "currently", "originally", "recently",
                 "meanwhile", "initially", "finally", "earlier", "yesterday", "tomorrow"):
        for k in range(min(len(toks), 8)):
            if toks[k].pause:
                end = date_end(toks, 1) if len(toks) > 1 and first in ("in", "on") else None
                return k + 1, ((1, end) if end == k + 1 else None)
        if first in ("in", "on") and len(toks) > 2:
            end = date_end(toks, 1)
            if end:
                return end, (1, end)
        if first in ADV or first in ("today", "meanwhile", "yesterday", "tomorrow"):
            return 1, None
        return None
    return 0, None


def _subject(toks: list[Tok], i: int) -> tuple[int, list[tuple[int, int]]] | None:
    """Where the subject that starts at token i ends, and the asides cut out of it (appositives,
    brackets); None where a subordinate word or a negation comes first, or an aside does not close."""
    k, extras = i, []
    while k < len(toks):
        tok = toks[k]
        if tok.raw.startswith("(") and k > i:  # a bracket inside the subject: "(born 1971 in Troms)"
            close = next((m for m in range(k, min(len(toks), k + 16)) if ")" in toks[m].raw), None)
            if close is None:
                return None
            extras.append((k, close + 1))
            k = close + 1
            continue
        if tok.low in SUBORDINATE and k > i or tok.low in NEG:
            return None
        if k > i and (verb_at(toks, k) or tok.low in ADV and k + 1 < len(toks) and verb_at(toks, k + 1)):
            return k, extras
        if tok.pause and k > i:  # "The lighthouse, built in 1874, was ..." : an appositive
            close = next((m for m in range(k + 1, min(len(toks), k + 16)) if toks[m].pause), None)
            if close is None or close + 1 >= len(toks) or not (verb_at(toks, close + 1) or toks[close + 1].low in ADV):
                return None
            if any(toks[m].low in NEG for m in range(k + 1, close + 1)):
                return None
            extras.append((k + 1, close + 1))
            return close + 1, extras
        k += 1
    return None


def _verb_group(toks: list[Tok], k: int) -> tuple[list[int], list[int], int] | None:
    """The auxiliaries and adverbs from token k on, and the first token after them; None at a negation."""
    aux, advs = [], []
    while k < len(toks):
        w = toks[k].low
        if w in NEG:
            return None
        if w in AUX and not (aux and w in ("have", "do") and toks[k - 1].low not in AUX - COPULA):
            aux.append(k)
        elif w in ADV or (w.endswith("ly") and len(w) > 4 and aux):
            advs.append(k)
        else:
            break
        k += 1
    return aux, advs, k


def parse_clause(sentence: str) -> Clause | None:
    """The sentence read as one clause, or None where it does not parse as one."""
    toks = tokens(sentence)
    if len(toks) < 3:
        return None
    lead = _leading(toks)
    if lead is None:
        return None
    i, lead_date = lead
    subject = _subject(toks, i)
    if subject is None:
        return None
    subj_end, extras = subject
    subj_last = min((s for s, _ in extras), default=subj_end)
    if not 1 <= subj_last - i <= 8 or toks[subj_last - 1].low in DET | PREPS:
        return None
    group = _verb_group(toks, subj_end)
    if group is None:
        return None
    aux, advs, k = group
    verb, form, base = None, "aux", "be"
    if k < len(toks) and (v := verb_at(toks, k, after_aux=bool(aux))) and v[0] != "aux":
        if aux and toks[aux[-1]].low in COPULA and v[0] in ("base", "3sg"):
            v = None  # "is home to": a noun after a copula
        if v:
            verb, form, base = k, v[0], v[1]
            k += 1
    if verb is None:
        if not aux:
            return None
        base = verb_at(toks, aux[-1])[1]
        if base not in ("be", "have"):
            return None
        if base == "have":
            verb, form, aux = aux[-1], "have", aux[:-1]
    lead_part = i > 0 and not lead_date and toks[0].low not in PREPS | ADV \
        and (toks[0].low in PARTICIPLE or bool(guess_base(toks[0].low)))
    return Clause(toks, i, lead_date, (i, subj_last), aux, advs, verb, form, base, k, extras, lead_part)


def clause_heads(cl: Clause) -> list[tuple[int, str]]:
    """Verbs that share the clause subject: the main verb, verbs after "and" of the same kind
    ("was designed ... and opened"), and participles that describe the subject (", built in 1874,"
    right after it, or after "X is a ...,": "is a community orchestra ..., founded in 1987")."""
    if cl.heads is None:
        cl.heads = _find_heads(cl)
    return cl.heads


def _find_heads(cl: Clause) -> list[tuple[int, str]]:
    toks = cl.toks
    heads = [(cl.verb if cl.verb is not None else cl.aux[-1], "main")]
    if cl.lead_part:
        heads.append((0, "reduced"))
    for a, _ in cl.extras:
        v = verb_at(toks, a, after_aux=True)
        if v and v[0] in ("ed", "pp") and a + 1 < len(toks) and toks[a + 1].low in PREPS:
            heads.append((a, "reduced"))
    main_form = cl.verb_form
    describes = cl.verb is None and cl.aux and toks[cl.aux[-1]].low in COPULA and cl.rest < len(toks) \
        and toks[cl.rest].low in ("a", "an", "the")
    for k in range(cl.rest, len(toks)):
        prev = toks[k - 1]
        v = verb_at(toks, k, after_aux=True)
        if not v or v[0] == "aux":
            continue
        if prev.low == "and" and not prev.pause and (main_form in ("ed", "past", "pp") and v[0] in ("ed", "past", "pp")
                                                     or v[0] in ("3sg", "past") or main_form == v[0] == "base"):
            heads.append((k, "and"))
        elif describes and v[0] in ("ed", "pp") and k + 1 < len(toks) and toks[k + 1].low in PREPS \
                and (prev.pause and not prev.raw.endswith(")") or _bare_noun_phrase(toks, cl.rest, k)):
            heads.append((k, "reduced"))
    return sorted(heads)


def _bare_noun_phrase(toks: list[Tok], start: int, end: int) -> bool:
    """Whether toks[start:end] is one noun phrase a participle can follow with no comma ("a passenger
    ferry operated by ...", "a rowing club in Leeds founded in ..."): no pause, verb, clause word or
    "of", which would let the participle describe another noun ("the son of a man killed by ...")."""
    return all(not t.pause and t.low not in CLAUSE_BREAK and t.low != "of"
               and (m == start or not verb_at(toks, m) or t.low.endswith("ing"))
               for m, t in enumerate(toks[start:end], start))


def head_for(cl: Clause, heads, k: int, limit: int = 8) -> tuple[int, str] | None:
    """The verb that governs token k: the nearest head before it with no pause or other verb between."""
    best = None
    for h, kind in heads:
        if h < k and k - h <= limit:
            best = (h, kind)
    if best is None:
        return None
    h = best[0]
    for m in range(h, k):
        if cl.toks[m].pause and m != k - 1 or m > h and cl.toks[m].low in CLAUSE_BREAK:
            return None
    if any(m > h and verb_at(cl.toks, m, after_aux=True) and cl.toks[m].low not in PREPS for m in range(h + 1, k)):
        return None
    return best
