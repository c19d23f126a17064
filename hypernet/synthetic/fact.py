"""A fact of a synthetic document: what it is called, its value, and how it is written and asked."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fact:
    """One fact: the noun that names it in the generic questions ("birth year"; None: asked only in
    its own templates), its value, ways to state it ({e} entity, {v} value) and ways to ask it."""

    noun: str | None
    value: str
    statements: list[str]
    questions: list[str]
