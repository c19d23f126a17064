"""The item both kinds of self-made question produce."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SelfQuestion:
    question: str
    answer: str
    form: str = "blank"  # which rule made it: "blank", or a natural form ("field", "when", "who", ...)


def answered_twice(asked: Iterable[tuple[str, str]]) -> set[str]:
    """The prompts among (prompt, answer) pairs that the document answers in two ways ("What is the
    stadium?" of two clubs): such an item teaches neither answer."""
    answers: dict[str, set[str]] = {}
    for prompt, answer in asked:
        answers.setdefault(prompt, set()).add(answer)
    return {prompt for prompt, found in answers.items() if len(found) > 1}


def spread(items: Sequence, limit: int) -> list:
    """`limit` of `items` evenly spaced over them, in order: a budget smaller than what a document offers
    covers all of it (every entity of a many-entity document) instead of its first part."""
    if len(items) <= limit:
        return list(items)
    return [items[(2 * i + 1) * len(items) // (2 * limit)] for i in range(limit)]


def within(rounds: list[list[SelfQuestion]], limit: int, spread_out: bool) -> list[SelfQuestion]:
    """The first `limit` items of `rounds` (each a pass over the document, in its order), or, when the
    first round alone is longer than the limit and `spread_out`, that round spread over the document."""
    if spread_out and rounds and len(rounds[0]) > limit:
        return spread(rounds[0], limit)
    return [item for round_ in rounds for item in round_][:limit]
