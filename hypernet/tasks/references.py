"""Reference outputs: a reply rewritten so that it follows a task, by rule, for the families whose form a
rule can give (letter case, prefix, sign-off, wrapper, bullets, word limit, JSON keys, ISO dates).

They are the training targets when the base model, even with the description in its prompt, does not
follow the task (the 270M model follows almost none; docs/tasks.md): the student learns to give its
own plain reply (what the base model says to the input alone) in the task's form. Each function is
`reference(reply, input_text, params) -> str | None`; None when no output can be made (a date the
input does not hold). Every output they make passes the family's checker (tests/hypernet/test_tasks.py).
"""
from __future__ import annotations

import datetime
import json
import re

from hypernet.synthetic.words import MONTHS

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _plain(reply: str, input_text: str) -> str:
    """The reply's first line, or the input when the reply holds no letter or digit."""
    line = reply.strip().split("\n", 1)[0].strip()
    return line if any(c.isalnum() for c in line) else input_text.strip()


def upper_case(reply: str, input_text: str, params: dict) -> str:
    return _plain(reply, input_text).upper()


def lower_case(reply: str, input_text: str, params: dict) -> str:
    return _plain(reply, input_text).lower()


def prefix(reply: str, input_text: str, params: dict) -> str:
    return f"{params['prefix'].strip()} {_plain(reply, input_text)}"


def sign_off(reply: str, input_text: str, params: dict) -> str:
    return f"{_plain(reply, input_text)}\n{params['sign_off'].strip()}"


def wrap(reply: str, input_text: str, params: dict) -> str:
    return f"{params['open']}{_plain(reply, input_text)}{params['close']}"


def _parts(text: str, n: int) -> list[str]:
    """`text` cut into `n` non-empty parts: by sentence when it has exactly that many, else by words
    (a word repeated when there are fewer words than parts)."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) == n:
        return sentences
    words = text.split() or ["-"]
    words = (words * n)[:max(n, len(words))]
    size, extra = divmod(len(words), n)
    parts, at = [], 0
    for i in range(n):
        step = size + (i < extra)
        parts.append(" ".join(words[at:at + step]))
        at += step
    return parts


def bullets(reply: str, input_text: str, params: dict) -> str:
    return "\n".join(f"- {part}" for part in _parts(_plain(reply, input_text), params["items"]))


def max_words(reply: str, input_text: str, params: dict) -> str:
    return " ".join(_plain(reply, input_text).split()[: params["limit"]])


def json_keys(reply: str, input_text: str, params: dict) -> str:
    keys = params["keys"]
    return json.dumps(dict(zip(keys, _parts(_plain(reply, input_text), len(keys)), strict=True)))


_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?(?: of)? ([A-Z][a-z]+),? (\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Z][a-z]+) (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b")


def iso_date(reply: str, input_text: str, params: dict) -> str | None:
    """The input's date (day month year, or month day year, written out) as YYYY-MM-DD."""
    for pattern, order in ((_DAY_MONTH_YEAR, (0, 1, 2)), (_MONTH_DAY_YEAR, (1, 0, 2))):
        match = pattern.search(input_text)
        if match:
            day, month, year = (match.group(i + 1) for i in order)
            if month in MONTHS:
                try:
                    return datetime.date(int(year), MONTHS.index(month) + 1, int(day)).isoformat()
                except ValueError:
                    return None
    return None
