"""All task families, in one list, and the lookup by name."""
from __future__ import annotations

from hypernet.tasks.families_answer import ANSWER_FAMILIES
from hypernet.tasks.families_eval import EVAL_FAMILIES
from hypernet.tasks.families_form import FORM_FAMILIES
from hypernet.tasks.family import SPLITS, TaskFamily

TASK_FAMILIES: list[TaskFamily] = [*FORM_FAMILIES, *ANSWER_FAMILIES, *EVAL_FAMILIES]
FAMILY_BY_NAME: dict[str, TaskFamily] = {f.name: f for f in TASK_FAMILIES}
assert len(FAMILY_BY_NAME) == len(TASK_FAMILIES), "two task families share a name"


def families_for(split: str) -> list[TaskFamily]:
    """The families a split draws from: training never sees the eval-only ones; eval sees them all."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return [f for f in TASK_FAMILIES if split == "eval" or not f.eval_only]
