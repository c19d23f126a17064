"""Task examples: a family's description in one of the split's wordings, its params and a few inputs,
drawn from a seed; and the JSONL file that holds them, one example a line."""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass

from hypernet.tasks.families import FAMILY_BY_NAME, families_for
from hypernet.tasks.family import TaskFamily


@dataclass
class TaskExample:
    """One task: what it says in words (`description`), the params its checker reads, the inputs to apply
    it to, its family's name, an id and the split it was drawn for. `check(output)` judges one output
    for any of the inputs."""

    description: str
    params: dict
    inputs: list[str]
    family: str
    id: str = ""
    split: str = "train"

    def check(self, output: str) -> bool:
        """Whether `output` follows the task (the family's checker; see hypernet.tasks.checks)."""
        return FAMILY_BY_NAME[self.family].check(output, self.params)

    def reference(self, reply: str, input_text: str) -> str | None:
        """`reply` (a plain answer to `input_text`) in the task's form, by its family's rule (None: no rule)."""
        rule = FAMILY_BY_NAME[self.family].reference
        return rule(reply, input_text, self.params) if rule else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "TaskExample":
        row = json.loads(line)
        if row.get("family") not in FAMILY_BY_NAME:
            raise ValueError(f"unknown task family {row.get('family')!r} (known: {sorted(FAMILY_BY_NAME)})")
        return cls(**row)


def _inputs(rng: random.Random, family: TaskFamily, params: dict, n: int) -> list[str]:
    """`n` inputs, distinct where the generator allows it (a few redraws, then repeats are kept)."""
    inputs: list[str] = []
    for _ in range(20 * n):
        text = family.inputs(rng, params)
        if text not in inputs:
            inputs.append(text)
        if len(inputs) == n:
            return inputs
    return (inputs * n)[:n]


def make_task(rng_or_seed: random.Random | int | str, split: str = "train", family: str | None = None,
              n_inputs: int = 4) -> TaskExample:
    """One task of `split` ("train" or "eval"): a family the split may use (or the one named), params,
    a description in one of the split's wordings, and `n_inputs` inputs. The same seed gives the same task."""
    rng = rng_or_seed if isinstance(rng_or_seed, random.Random) else random.Random(rng_or_seed)
    allowed = families_for(split)
    if family is None:
        fam = rng.choice(allowed)
    elif FAMILY_BY_NAME.get(family) in allowed:
        fam = FAMILY_BY_NAME[family]
    else:
        raise ValueError(f"family {family!r} is not one the {split} split uses: {[f.name for f in allowed]}")
    params = fam.params(rng)
    description = fam.describe(rng.choice(fam.wordings(split)), params)
    inputs = _inputs(rng, fam, params, n_inputs)
    return TaskExample(description, params, inputs, fam.name, f"{split}-{fam.name}-{rng.getrandbits(40):010x}", split)


def write_jsonl(tasks: list[TaskExample], path: str) -> None:
    """One task a line: id, split, family, description, params and inputs."""
    with open(path, "w", encoding="utf-8") as fh:
        for task in tasks:
            fh.write(task.to_json() + "\n")


def read_jsonl(path: str) -> list[TaskExample]:
    """The tasks `write_jsonl` wrote (blank lines skipped)."""
    with open(path, encoding="utf-8") as fh:
        return [TaskExample.from_json(line) for line in fh if line.strip()]
