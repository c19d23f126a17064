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
