"""Synthetic documents: a kind's facts written in a split's templates, laid out as prose, a list, a
record or a markdown article, with questions about some of the facts."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.kinds import DOC_KINDS, DocKind
from hypernet.synthetic.paraphrase import paraphrased_question
from hypernet.synthetic.words import FILLER, SECTIONS


@dataclass
class QA:
    q: str
    a: str


@dataclass
class SyntheticDoc:
    id: str
    kind: str
    text: str
    qa: list[QA] = field(default_factory=list)
    gold_only: bool = False  # train on the gold answers alone: the teacher cannot be trusted on these

    def record(self) -> dict:
        """The eval format's record: {"id", "text", "qa": [{"q", "a"}]}."""
        return {"id": self.id, "text": self.text, "qa": [{"q": x.q, "a": x.a} for x in self.qa]}

    def to_json(self) -> str:
        return json.dumps(self.record())


def _pick(templates: list[str], split: str, rng: random.Random) -> str:
    """Train sees all but the last template; eval sees only the last (unseen phrasing)."""
    if split == "eval" and len(templates) > 1:
        return templates[-1]
    return rng.choice(templates[:-1] if len(templates) > 1 else templates)


def _layout(rng: random.Random, entity: str, intro: str, sentences: list[str], facts: dict[str, Fact]) -> str:
    """Prose paragraphs most of the time; sometimes a list, a record, or a markdown article."""
    style = rng.random()
    if style < 0.6:
        cut = rng.randint(1, max(1, len(sentences) - 1))
        return intro + " " + " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    if style < 0.72:
        return intro + "\n\n" + "\n".join(f"- {s}" for s in sentences)
    if style < 0.85:
        lines = [f"{k.replace('_', ' ').capitalize()}: {f.value}" for k, f in facts.items()]
        rng.shuffle(lines)
        return f"{entity}\n" + "\n".join(lines) + "\n\n" + " ".join(sentences[: max(1, len(sentences) // 2)])
    # Real documents are often markdown articles: a title heading, then paragraphs or titled sections.
    cut = rng.randint(1, max(1, len(sentences) - 1))
    section = f"## {rng.choice(SECTIONS)}\n\n" if rng.random() < 0.6 else ""
    return (f"# {entity[0].upper()}{entity[1:]}\n\n{intro} " + " ".join(sentences[:cut]) + "\n\n" + section
            + " ".join(sentences[cut:]))


def make_doc(rng: random.Random, split: str = "train", kind: DocKind | None = None, doc_id: str = "",
             n_questions: int = 4, paraphrase: float = 0.0) -> SyntheticDoc:
    """One document and its questions. `paraphrase` (training only): the share of questions asked
    in other words (`paraphrased_question`); at 0 it draws nothing extra from `rng`."""
    if split == "eval":
        kinds = [k for k in DOC_KINDS if not k.train_only]
    else:
        kinds = [k for k in DOC_KINDS if not k.eval_only and (paraphrase > 0 or not k.train_only)]
    kind = kind or rng.choice(kinds)
    entity = kind.entity(rng)
    facts = kind.facts(rng)
    names = list(facts)
    rng.shuffle(names)
    names = names[: rng.randint(max(3, len(names) - 2), len(names))]
    facts = {k: facts[k] for k in names}
    sentences = [_pick(f.statements, split, rng).format(e=entity, v=f.value) for f in facts.values()]
    for _ in range(rng.randint(0, 2)):
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(FILLER))
    sentences = [s[0].upper() + s[1:] for s in sentences]
    intro = rng.choice(kind.intros).format(e=entity)
    intro = intro[0].upper() + intro[1:]
    text = _layout(rng, entity, intro, sentences, facts)
    asked = rng.sample(names, min(n_questions, len(names)))
    qa = [QA(_pick(facts[k].questions, split, rng).format(e=entity), facts[k].value) for k in asked]
    if split == "train" and paraphrase > 0:
        for x, k in zip(qa, asked):
            if rng.random() < paraphrase:
                x.q = paraphrased_question(rng, x.q, facts[k].noun, entity, facts[k].questions[-1].format(e=entity))
    return SyntheticDoc(doc_id or f"{split}-{kind.name}-{rng.getrandbits(40):010x}", kind.name, text, qa)


def make_long_doc(rng: random.Random, n_parts: int, split: str = "eval", doc_id: str = "",
                  paraphrase: float = 0.0) -> SyntheticDoc:
    """A long document of several independent sections (for chunking), questions from each."""
    parts = [make_doc(rng, split, n_questions=2, paraphrase=paraphrase) for _ in range(n_parts)]
    text = "\n\n".join(p.text for p in parts)
    qa = [q for p in parts for q in p.qa]
    return SyntheticDoc(doc_id or f"{split}-long{n_parts}-{rng.getrandbits(40):010x}", "long", text, qa)


def write_jsonl(docs: list[SyntheticDoc], path: str) -> None:
    """One document a line: id, text and its questions with answers."""
    with open(path, "w") as fh:
        for d in docs:
            fh.write(d.to_json() + "\n")
