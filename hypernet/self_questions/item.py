"""The item both kinds of self-made question produce."""
from __future__ import annotations

from collections.abc import Iterable
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



def within(rounds: list[list[SelfQuestion]], limit: int, spread_out: bool) -> list[SelfQuestion]:
    """The first `limit` items of `rounds` (each a pass over the document, in its order), or, when the
    first round alone is longer than the limit and `spread_out`, `limit` of that round evenly spaced over
    the document: a budget smaller than what it offers then covers all of it, not its first part."""
    first = rounds[0] if rounds else []
    if spread_out and len(first) > limit:
        return [first[(2 * i + 1) * len(first) // (2 * limit)] for i in range(limit)]
    return [item for round_ in rounds for item in round_][:limit]
