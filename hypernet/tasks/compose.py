"""Composition: a document's adapter and a task's adapter as one (`hypernet.tasks.fit.fit_composition`: the
projection of `hypernet.lora.compose`, then fitted for `ComposeConfig.steps`), measured on both jobs at once.

For each (document, task) pair, five shares:
- doc_alone, doc_composed: the document's questions answered correctly (`is_correct`) under the document
  adapter alone and under the composition, both with the question prompt (the question is about the document);
- task_alone, task_composed: the task's inputs whose outputs its checker accepts, under the task adapter alone
  and under the composition, both with the task prompt;
- task_on_answers: the checker on the composed answers to the document's questions, the product case (one
  call answers about the document in the task's way).
"""
from __future__ import annotations

from typing import Callable

import torch

from hypernet.config import ComposeConfig
from hypernet.lora import LoraTensors
from hypernet.prompts import QUESTION_TURNS, is_correct, question_prompt
from hypernet.tasks.evaluate import generate_outputs, task_prompts
from hypernet.tasks.examples import TaskExample
from hypernet.tasks.fit import fit_composition

SHARES = ("doc_alone", "doc_composed", "task_alone", "task_composed", "task_on_answers")


def pair_verdicts(doc: dict, task: TaskExample, doc_lora: LoraTensors, task_lora: LoraTensors, model, tok, *,
                  doc_scale: float, task_scale: float, compose_cfg: ComposeConfig, max_new_tokens: int = 48,
                  autocast: torch.dtype | None = None) -> dict[str, list[bool]]:
    """One pair's verdicts, per share of SHARES (one per question or per task input)."""
    both = fit_composition(model, tok, doc_lora, task_lora, doc["text"], compose_cfg, doc_scale=doc_scale,
                           task_scale=task_scale, autocast=autocast)
    questions = [question_prompt(qa["q"]) for qa in doc["qa"]]
    golds = [qa["a"] for qa in doc["qa"]]

    def answers(lora: LoraTensors) -> list[str]:
        return generate_outputs(model, tok, questions, lora=lora, max_new_tokens=max_new_tokens, turns=QUESTION_TURNS)

    def outputs(lora: LoraTensors) -> list[str]:
        return generate_outputs(model, tok, task_prompts(task, "adapter"), lora=lora, max_new_tokens=max_new_tokens)

    composed = answers(both)
    return {"doc_alone": [is_correct(a, g) for a, g in zip(answers(doc_lora), golds)],
            "doc_composed": [is_correct(a, g) for a, g in zip(composed, golds)],
            "task_alone": [bool(task.check(o)) for o in outputs(task_lora)],
            "task_composed": [bool(task.check(o)) for o in outputs(both)],
            "task_on_answers": [bool(task.check(a)) for a in composed]}


def evaluate_composition(pairs: list[tuple[dict, TaskExample]], model, tok, *,
                         doc_adapter_for: Callable[[dict], LoraTensors],
                         task_adapter_for: Callable[[TaskExample], LoraTensors], doc_scale: float, task_scale: float,
                         compose_cfg: ComposeConfig = ComposeConfig(), max_new_tokens: int = 48,
                         autocast: torch.dtype | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Every pair's verdicts; the report holds each share over all pairs and by task family, and one row per pair.
    `pairs` are (eval record {"id", "text", "qa"}, task); the adapter makers take one of each. A fitted
    composition reads the record's text (its self-made questions), never its questions."""
    tally: dict[str, dict[str, list[int]]] = {}  # "all" or a family -> share -> [accepted, judged]
    rows = []
    for i, (doc, task) in enumerate(pairs):
        verdicts = pair_verdicts(doc, task, doc_adapter_for(doc), task_adapter_for(task), model, tok,
                                 doc_scale=doc_scale, task_scale=task_scale, compose_cfg=compose_cfg,
                                 max_new_tokens=max_new_tokens, autocast=autocast)
        for key in ("all", task.family):
            for share, seen in verdicts.items():
                counts = tally.setdefault(key, {}).setdefault(share, [0, 0])
                counts[0] += sum(seen)
                counts[1] += len(seen)
        rows.append({"doc_id": doc["id"], "task_id": task.id, "family": task.family,
                     **{share: sum(seen) / len(seen) for share, seen in verdicts.items() if seen}})
        if progress:
            progress(f"[{i + 1}/{len(pairs)}] {doc['id']} + {task.family}: {_shares(tally['all'])}")
    return {"n_pairs": len(pairs), "doc_scale": doc_scale, "task_scale": task_scale, "compose_steps": compose_cfg.steps,
            **_shares(tally.get("all", {})),
            "by_family": {f: _shares(t) for f, t in sorted(tally.items()) if f != "all"}, "pairs": rows}


def _shares(counts: dict[str, list[int]]) -> dict[str, float]:
    return {share: ok / n for share, (ok, n) in counts.items() if n}
