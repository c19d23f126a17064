"""Questions from "Label: value" lines: "Weight: 21.4 kg" asks "What is the weight of <subject>?"."""
from __future__ import annotations

import re

from hypernet.self_questions.subjects import person_like, role_noun
from hypernet.self_questions.tokens import date_end, tokens
from hypernet.self_questions.verbs import PARTICIPLE, PAST_OF, THIRD, guess_base
from hypernet.self_questions.words import AUX, DET, FIELD_SKIP, GENERIC_TITLE, MONTHS, PREPS, ROLE_LABELS


def field_items(sentence: str, subject: str | None):
    """ "Weight: 21.4 kg including battery" -> "What is the weight of <subject>?" and "What is the
    weight?"; a role asks "Who" ("Author: ..."), a participle asks when, where or who
    ("Opened: 7 May 1931" -> "When was <subject> opened?"). Yields (form, question, answer start,
    answer end) with the answer's offsets in the sentence, as every rule does."""
    parsed = _label_and_value(sentence)
    if parsed is None:
        return
    words, value, value_start = parsed
    span = value_start, value_start + len(value)
    lows = [w.lower() for w in words]
    if lows[0] in PARTICIPLE or lows[0].endswith("ed") and guess_base(lows[0]):
        yield from _participle_items(lows, value, subject, span)  # "Opened: ...", "Built by: ..."
    elif not (len(words) == 1 and lows[0] in THIRD):  # "Crosses: ..." reads as a verb
        yield from _noun_items(words, value, subject, span)


def _label_and_value(sentence: str) -> tuple[list[str], str, int] | None:
    """The label's words, the value cut to what answers it, and where the value starts; None when
    the line is no field (a heading, a note, prose after a label, a value too long to ask for)."""
    m = re.match(r"^([A-Z][\w '/-]{0,40}?):\s+(\S.*?)[.;]?\s*$", sentence)
    if not m:
        return None
    label, value_start = m.group(1).strip(), m.start(2)
    words = label.split()
    lows = [w.lower() for w in words]
    if not 1 <= len(words) <= 5 or re.search(r"\d", label) or label.lower() in GENERIC_TITLE \
            or lows[0] in PREPS | FIELD_SKIP or any(w in DET | AUX for w in lows):
        return None
    value = m.group(2)
    if not re.match(r"[\w$£€]", value) or value[:1].islower() and len(value.split()) > 6:
        return None  # "Ecology: the frog lives in bromeliads, laying ...": prose after a label
    bare = re.sub(r"\s*\([^)]*\)", "", value)
    if re.search(r",\s+[A-Z][^,]*(?:,|\band\s)", bare):  # a list of names: the whole list or nothing
        value = value if "(" not in value and len(value.split()) <= 8 else ""
    else:
        cut = re.search(r"\s\(|;\s|,\s", value)
        if cut and not re.search(r",\s[^,]*\b(?:and|or)\s", value[cut.start():]):
            value = value[:cut.start()]
    value = value.rstrip(" .,;:")
    vwords = value.split()
    if not 1 <= len(vwords) <= 8 or any(w.lower() in AUX for w in vwords):
        return None
    return words, value, value_start


def _participle_items(lows: list[str], value: str, subject: str | None, span: tuple[int, int]):
    """ "Opened: 7 May 1931" asks when, "Built in: Leith" where, "Designed by: Ada Holm" who."""
    if not subject or len(lows) > 2:
        return
    prep = lows[1] if len(lows) == 2 else ""
    vwords = value.split()
    date = date_end(tokens(value), 0)
    if prep in ("", "on", "in") and date and (value[:1].isdigit() or vwords[0].lower().rstrip(".") in MONTHS):
        yield "field", f"When was {subject} {lows[0]}?", *span
    elif prep in ("in", "at") and value[:1].isupper():
        yield "field", f"Where was {subject} {lows[0]}?", *span
    elif prep == "by" and value[:1].isupper():
        base = PARTICIPLE.get(lows[0]) or guess_base(lows[0])
        yield "field", f"Who {PAST_OF.get(base, lows[0])} {subject}?", *span


def _noun_items(words: list[str], value: str, subject: str | None, span: tuple[int, int]):
    """A noun label asks what (or who, for a role) it is, of the subject and alone; a plural label
    with a bare number asks how many."""
    lows = [w.lower() for w in words]
    lab = " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in words)
    head = lows[lows.index("of") - 1] if "of" in lows[1:] else lows[-1]
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is", "ics")) and len(head) > 3
    who = head in ROLE_LABELS or head == "name" and len(words) > 1 and lows[-2] in ROLE_LABELS \
        or role_noun(head) and person_like(value.split())
    wh = "Who" if who else "What"
    be = "are" if plural else "is"
    if plural and re.fullmatch(r"\d[\d,]*", value) and "of" not in lows:  # "Students: 45,663"
        if subject:
            yield "field", f"How many {lab} does {subject} have?", *span
        yield "field", f"What is the number of {lab}?", *span
        return
    if "of" in lows or not subject:
        yield "field", f"{wh} {be} the {lab}?", *span
    else:
        yield "field", f"{wh} {be} the {lab} of {subject}?", *span
        yield "field", f"{wh} {be} the {lab}?", *span
