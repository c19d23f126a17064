"""A document of the real-text eval file and the question filter every source shares: an answer is a
1-5 word span that occurs verbatim in its document, at least 3 characters once normalised, not in the
question; a document keeps 2-4 questions with distinct answers."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from hypernet.prompts import normalise_answer


class SourceMissing(RuntimeError):
    pass


@dataclass
class Record:
    id: str
    source: str
    kind: str
    text: str
    qa: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "text": self.text, "qa": self.qa, "source": self.source,
                           "kind": self.kind}, ensure_ascii=False)


def _ok_answer(answer: str, question: str, text: str) -> bool:
    a = normalise_answer(answer)
    return (answer in text and len(a) >= 3 and a not in normalise_answer(question)
            and 1 <= len(answer.split()) <= 5)


def finish(rec: Record, candidates: list[tuple[str, str]], rng: random.Random) -> Record | None:
    """Keep 2-4 good questions (distinct answers, distinct questions), drawn by `rng`."""
    seen_q, seen_a, good = set(), set(), []
    for q, a in candidates:
        if _ok_answer(a, q, rec.text) and q not in seen_q and normalise_answer(a) not in seen_a:
            seen_q.add(q)
            seen_a.add(normalise_answer(a))
            good.append({"q": q, "a": a})
    if len(good) < 2:
        return None
    rec.qa = rng.sample(good, min(4, len(good)))
    return rec


def unique(values: list[str]) -> set[str]:
    """The values that occur exactly once."""
    return {v for v in values if values.count(v) == 1}
