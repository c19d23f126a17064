"""Verb forms from the lexicon in `words`: past tense, participle and third person, and back to the base."""
from __future__ import annotations

import re

from hypernet.self_questions.words import DOUBLING, IRREGULAR, NOT_VERB_ED, REGULAR


def _past_regular(base: str) -> str:
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "o", "u"):
        return base[:-1] + "ied"
    if base in DOUBLING:
        return base + base[-1] + "ed"
    return base + "ed"


def third_person(base: str) -> str:
    if base in ("have", "be"):
        return {"have": "has", "be": "is"}[base]
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "o", "u"):
        return base[:-1] + "ies"
    return base + "s"


BASES = REGULAR | frozenset(IRREGULAR)
PAST: dict[str, str] = {}  # past tense -> base
PARTICIPLE: dict[str, str] = {}  # past participle -> base
for _b in REGULAR:
    PAST[_past_regular(_b)] = PARTICIPLE[_past_regular(_b)] = _b
for _b, (_p, _pp) in IRREGULAR.items():
    PAST.setdefault(_p, _b)
    PARTICIPLE.setdefault(_pp, _b)
PAST.update({"travelled": "travel", "cancelled": "cancel", "labelled": "label", "modelled": "model"})
PARTICIPLE.update({"travelled": "travel", "cancelled": "cancel", "labelled": "label", "modelled": "model",
                   "gotten": "get", "borne": "bear"})
THIRD = {third_person(b): b for b in BASES}
PAST_OF = {b: IRREGULAR[b][0] if b in IRREGULAR else _past_regular(b) for b in BASES}


def guess_base(past: str) -> str | None:
    """The base of a regular past form outside the lexicon ("renovated" -> "renovate"), or None
    where the spelling leaves it open ("abandoned": "abandon" or "abandone"?)."""
    if not past.endswith("ed") or len(past) < 5 or past in NOT_VERB_ED:
        return None
    stem = past[:-2]
    if past.endswith("ied"):
        return stem[:-1] + "y"
    if past.endswith("eed"):
        return past[:-1]  # agreed -> agree
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "bgmnprt":
        return stem[:-1]  # shipped -> ship
    if stem[-2:] in ("ss", "ll", "ff", "zz", "dd") or stem[-1] in "wxyhfk" and not stem.endswith("ak"):
        return stem
    if past in ("focused", "biased", "bathed"):
        return {"focused": "focus", "biased": "bias", "bathed": "bathe"}[past]
    if re.search(r"(?:[^aeiou][aiou][dgmbzkr]|[cvzu]|dg|[^aeiou]at|[^aeiou]ut|[aeiou]s|[rnpl]s|[^aeiou]l|rg|ang"
                 r"|[^aeiou]in|uir|[^aeiou]y[^aeiou])$", stem):
        return stem + "e"  # created, moved, closed, retired, graded, settled, merged, changed
    if re.search(r"(?:[^aeiou][aeiou]{2}[^aeiou]|[^aeiou]{2}|[^aeiou][aeiou]?[nr]|en|er|on|[^aeiou]?[aeiou]t)$", stem):
        return stem if not stem.endswith(("ot", "it", "et", "on", "ap", "op")) else None
    return None
