"""A task family: its description wordings (split between train and eval), how it draws its params and
inputs, and the checker that judges an output."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

SPLITS = ("train", "eval")


def _join(items: list[str], last: str) -> str:
    """"a", "a and b", "a, b and c" (with "or" for `last="or"`)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def slot_text(params: dict) -> dict[str, str]:
    """The strings a description template can name, from the task's params: a scalar param as itself; a
    list param `x` as `{x}` ("a, b and c"), `{x_or}` ("a, b or c"), `{x_quoted}` and `{x_quoted_or}`
    (each item in double quotes)."""
    slots: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, list):
            quoted = [f'"{v}"' for v in value]
            slots.update({name: _join(value, "and"), f"{name}_or": _join(value, "or"),
                          f"{name}_quoted": _join(quoted, "and"), f"{name}_quoted_or": _join(quoted, "or")})
        else:
            slots[name] = str(value)
    return slots


def _no_params(rng: random.Random) -> dict:
    return {}


@dataclass
class TaskFamily:
    """One kind of task. `descriptions` are templates in varied words whose slots name the params (see
    `slot_text`); the last `eval_descriptions` of them are the eval split's alone, and an `eval_only`
    family is never drawn for training at all. `params(rng)` draws a task's JSON-able params,
    `inputs(rng, params)` one input, and `check(output, params)` says whether an output followed the task."""

    name: str
    descriptions: list[str]
    inputs: Callable[[random.Random, dict], str]
    check: Callable[[str, dict], bool]
    params: Callable[[random.Random], dict] = field(default=_no_params)
    # Writes a plain reply in the task's form (hypernet.tasks.references); None: no rule can.
    reference: Callable[[str, str, dict], str | None] | None = None
    eval_only: bool = False
    eval_descriptions: int = 2

    def __post_init__(self):
        if not self.eval_only and not 0 < self.eval_descriptions < len(self.descriptions):
            raise ValueError(f"family {self.name}: eval_descriptions={self.eval_descriptions} must leave both "
                             f"splits some of its {len(self.descriptions)} descriptions")
        if len(set(self.descriptions)) != len(self.descriptions):
            raise ValueError(f"family {self.name}: a description template is listed twice")

    def wordings(self, split: str) -> list[str]:
        """The description templates `split` may use."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
        if self.eval_only:
            if split == "train":
                raise ValueError(f"family {self.name} is eval-only")
            return list(self.descriptions)
        cut = len(self.descriptions) - self.eval_descriptions
        return self.descriptions[cut:] if split == "eval" else self.descriptions[:cut]

    def describe(self, template: str, params: dict) -> str:
        """A description: the template with its slots filled from the params."""
        return template.format(**slot_text(params))
