"""Checkers: each decides from the output alone (and the task's params) whether the task was followed.

Every checker is `check(output, params) -> bool`. They judge the form the task asks for, never whether
the content is right or relevant: "OK." passes the upper-case task, "7" the number task whatever was asked.
Leading and trailing white space is ignored everywhere; otherwise they are strict, because "nothing else"
is part of most tasks (a label followed by an explanation is not the label alone).
"""
from __future__ import annotations

import datetime
import json
import re

from hypernet.tasks.words import STOP_WORDS

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.S)


def upper_case(output: str, params: dict) -> bool:
    """At least one letter, and no lower-case letter anywhere."""
    text = output.strip()
    return any(c.isalpha() for c in text) and not any(c.islower() for c in text)


def lower_case(output: str, params: dict) -> bool:
    """At least one letter, and no capital anywhere."""
    text = output.strip()
    return any(c.isalpha() for c in text) and not any(c.isupper() for c in text)


def title_case(output: str, params: dict) -> bool:
    """Two words or more, each word that starts with a letter starts with a capital, and not all capitals."""
    words = [w.lstrip("\"'([-*") for w in output.split()]
    words = [w for w in words if w and w[0].isalpha()]
    return len(words) >= 2 and all(w[0].isupper() for w in words) and any(c.islower() for c in output)


def _rest_after(text: str, start: str) -> str | None:
    """What follows `start` at the beginning of `text`, or None when `text` does not start with it."""
    return text[len(start):] if text.startswith(start) else None


def starts_with_prefix(output: str, params: dict) -> bool:
    """Starts with `params["prefix"]` exactly (case and punctuation), with some answer after it."""
    rest = _rest_after(output.strip(), params["prefix"].strip())
    return rest is not None and bool(rest.strip())


def _ends_with(text: str, end: str) -> bool:
    """`text` ends with `end` and has something before it."""
    return text.endswith(end) and bool(text[: len(text) - len(end)].strip())


def signs_off(output: str, params: dict) -> bool:
    """Ends with `params["sign_off"]` after some reply; a final full stop or exclamation mark is allowed."""
    text, sign_off = output.strip(), params["sign_off"].strip()
    return _ends_with(text, sign_off) or _ends_with(text.rstrip(".!"), sign_off)


def ends_with_tag(output: str, params: dict) -> bool:
    """Ends with `params["tag"]` exactly, after some reply."""
    return _ends_with(output.strip(), params["tag"].strip())


def wrapped(output: str, params: dict) -> bool:
    """Starts with `params["open"]`, ends with `params["close"]`, something inside."""
    text, opening, closing = output.strip(), params["open"], params["close"]
    inside = text[len(opening): len(text) - len(closing)] if len(text) > len(opening) + len(closing) else ""
    return text.startswith(opening) and text.endswith(closing) and bool(inside.strip())


def json_with_keys(output: str, params: dict) -> bool:
    """One JSON object (a ```json fence around it is allowed) whose keys are exactly `params["keys"]`."""
    text = output.strip()
    fenced = _FENCE.fullmatch(text)
    try:
        obj = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and sorted(obj) == sorted(params["keys"])


def one_label(output: str, params: dict) -> bool:
    """Exactly one of `params["labels"]`, in any letter case, a final full stop allowed."""
    answer = output.strip().rstrip(".").strip().lower()
    return answer in {label.lower() for label in params["labels"]}


def at_most_words(output: str, params: dict) -> bool:
    """Between one and `params["limit"]` words (runs of non-space characters)."""
    return 1 <= len(output.split()) <= params["limit"]


def number_only(output: str, params: dict) -> bool:
    """A number alone: optional sign, digits (thousands commas allowed), optional decimals; a final full
    stop allowed. No units, no words."""
    return re.fullmatch(_NUMBER, output.strip().rstrip(".")) is not None


def number_with_unit(output: str, params: dict) -> bool:
    """A number followed by `params["unit"]` (a space between allowed, letter case ignored), nothing else."""
    pattern = rf"{_NUMBER}\s?{re.escape(params['unit'])}"
    return re.fullmatch(pattern, output.strip().rstrip("."), re.IGNORECASE) is not None


def iso_date(output: str, params: dict) -> bool:
    """A real calendar date as YYYY-MM-DD alone (a final full stop allowed)."""
    text = output.strip().rstrip(".")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _lines(output: str) -> list[str]:
    return [line.strip() for line in output.strip().splitlines() if line.strip()]


def bullet_list(output: str, params: dict) -> bool:
    """Exactly `params["items"]` non-empty lines, each "- " and some text."""
    lines = _lines(output)
    return len(lines) == params["items"] and all(line.startswith("- ") and line[2:].strip() for line in lines)


def numbered_list(output: str, params: dict) -> bool:
    """Exactly `params["items"]` non-empty lines numbered "1. ", "2. ", ... in order, each with some text."""
    lines = _lines(output)
    return len(lines) == params["items"] and all(
        (rest := _rest_after(line, f"{i}. ")) is not None and rest.strip() for i, line in enumerate(lines, 1))


def yes_or_no(output: str, params: dict) -> bool:
    """The word yes or the word no alone, any letter case, a final full stop or exclamation mark allowed."""
    return output.strip().rstrip(".!").strip().lower() in {"yes", "no"}


def language_votes(text: str) -> dict[str, int]:
    """How many of the text's words are grammatical words of each language (hypernet.tasks.words.STOP_WORDS)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {language: sum(w in stops for w in words) for language, stops in STOP_WORDS.items()}


def in_language(output: str, params: dict) -> bool:
    """Written in `params["language"]` ("French", "Spanish"), judged by a vote of grammatical words: at
    least two of that language's, and more than all other languages' together.

    What this can and cannot tell: it reads only short function words ("est", "pour", "los", "para"), so
    it rejects a correct answer with fewer than two of them ("Non." or "Paris, la capitale."), accepts
    any text that strings such words together whatever it means, and does not notice English content
    words in a French sentence. Words two of the languages share are left out of the vote; languages
    outside the lists (Italian, Portuguese) are not told apart from the ones it knows. It is a
    cheap proxy for "the output is in that language", good enough to rank modes against each other.
    """
    votes = language_votes(output)
    own = votes[params["language"].lower()]
    return own >= 2 and own > sum(v for language, v in votes.items() if language != params["language"].lower())
