"""The item both kinds of self-made question produce."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelfQuestion:
    question: str
    answer: str
    form: str = "blank"  # which rule made it: "blank", or a natural form ("field", "when", "who", ...)
