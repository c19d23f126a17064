"""The two kinds together: blanks and natural questions interleaved, and what a document offers of each."""
from __future__ import annotations

from hypernet.self_questions.blanks import self_questions
from hypernet.self_questions.item import SelfQuestion
from hypernet.self_questions.natural import candidates, natural_questions
from hypernet.self_questions.sentences import sentences


def mixed_questions(text: str, limit: int) -> list[SelfQuestion]:
    """Natural questions and blanks interleaved, natural first: n, b, n, b, ...; when one kind runs
    out the other fills the rest of the limit. Deterministic."""
    natural, blanks = natural_questions(text, limit), self_questions(text, limit)
    items: list[SelfQuestion] = []
    for i in range(max(len(natural), len(blanks))):
        items += natural[i:i + 1] + blanks[i:i + 1]
    return items[:limit]


def question_yield(text: str) -> dict:
    """How many items a document offers with no limit: its sentences, blanks, natural questions
    (every phrasing), natural facts (answer spans asked about: first phrasings only), and the
    natural questions by form."""
    big = 1 << 30
    natural = natural_questions(text, big)
    by_form: dict[str, int] = {}
    for item in natural:
        by_form[item.form] = by_form.get(item.form, 0) + 1
    return {"sentences": len(sentences(text)), "blanks": len(self_questions(text, big)),
            "natural": len(natural), "natural_facts": len(candidates(text)), "by_form": dict(sorted(by_form.items()))}
