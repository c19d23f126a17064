"""A sentence as tokens (word, offsets, whether a pause follows) and the dates among them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hypernet.self_questions.words import ABBREVIATIONS, COUNT_PLURALS, MONEY, MONTHS, TIME_UNITS, UNITS


@dataclass(frozen=True)
class Tok:
    raw: str  # as written, punctuation and all
    word: str  # without edge punctuation
    start: int  # where `word` sits in the sentence
    end: int
    pause: bool  # a comma, semicolon, colon or closing bracket ends the token: a phrase boundary
    low: str = ""  # `word` lower-cased
    cap: bool = False  # `word` starts with a capital


def tokens(sentence: str) -> list[Tok]:
    toks = []
    for m in re.finditer(r"\S+", sentence):
        raw, start = m.group(), m.start()
        lead = len(raw) - len(raw.lstrip("\"'([“‘"))
        core = raw[lead:]
        if core.lower() not in ABBREVIATIONS:
            core = core.rstrip(".,;:!?)]\"'”’")
        if not core:
            continue
        pause = bool(re.search(r"[,;:)\]]\W*$", raw)) or raw.endswith(("—", "–"))
        toks.append(Tok(raw, core, start + lead, start + lead + len(core), pause, core.lower(), core[:1].isupper()))
    return toks


def is_year(word: str) -> bool:
    return bool(re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", word))


def date_end(toks: list[Tok], k: int) -> int | None:
    """Index one past the date that starts at token k ("1927", "6 June 1927", "October 11, 2000",
    "January 2025", "22 March", "the 1950s", "09:14"), or None."""
    n, w = len(toks), toks[k].low

    def month(i):
        return i < n and toks[i].low.rstrip(".") in MONTHS and toks[i].cap

    def day(i):
        return i < n and re.fullmatch(r"[0-3]?\d(?:st|nd|rd|th)?", toks[i].low) is not None

    def year(i):
        return i < n and is_year(toks[i].word)
    if re.fullmatch(r"[0-2]?\d[:.][0-5]\d(?:\s*[ap]\.?m\.?)?|[01]?\d\s*[ap]\.?m\.?", w):
        return k + 1
    if day(k) and month(k + 1):
        return k + 3 if year(k + 2) and not toks[k + 1].pause else k + 2
    if month(k):
        if day(k + 1):
            return k + 3 if year(k + 2) else (k + 2 if toks[k].word != "May" else None)
        if year(k + 1):
            return k + 2
        return k + 1 if k > 0 and toks[k - 1].low in ("in", "during", "since", "until") else None
    if re.fullmatch(r"1[0-9]{3}s|20[0-9]0s", w):
        return k + 1
    if w == "the" and k + 1 < n and re.fullmatch(r"1[0-9]{3}s|20[0-9]0s", toks[k + 1].low):
        return k + 2
    if year(k) and not (k + 1 < n and toks[k + 1].low in UNITS | MONEY | TIME_UNITS | COUNT_PLURALS):
        return k + 1
    return None
