"""Text-to-LoRA evaluation: how often the outputs follow the task, by mode and by how new the task is.

Modes, all generating greedily and briefly, one batch per task (its inputs):
- base: the input alone, no adapter (how often the model follows the task by chance);
- context: the description before the input (the teacher; the ceiling the adapter aims at);
- adapter: the input alone under the adapter made from the description (`adapter_for`).

Outputs are cleaned with `clean_task_output` and judged by the task's checker. A task is in one group:
`train` (a training-split task: a family and a wording training uses), `unseen_wording` (an eval-split
task of a family training uses, in a wording it never shows) or `unseen_family` (an eval-only family).
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from transformers import StoppingCriteria

from hypernet.lora import LoraTensors, applied
from hypernet.prompts import TASK_TURNS, clean_task_output, task_context_prompt, task_student_prompt
from hypernet.tasks.examples import TaskExample, read_jsonl
from hypernet.tasks.families import FAMILY_BY_NAME

TASK_MODES = ("base", "context", "adapter")
GROUPS = ("train", "unseen_wording", "unseen_family")


class NewExampleStarted(StoppingCriteria):
    """Stops a row once `clean_task_output` would cut its text: the model has begun an example of its own."""

    def __init__(self, tokenizer, prompt_len: int, turns: tuple[str, ...] = TASK_TURNS):
        self.tokenizer, self.prompt_len, self.turns = tokenizer, prompt_len, turns

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        return torch.tensor([clean_task_output(t, self.turns) != t.strip() for t in texts], device=input_ids.device)


def task_prompts(example: TaskExample, mode: str) -> list[str]:
    """One prompt per input: the description before it in `context` mode, the input alone otherwise."""
    if mode not in TASK_MODES:
        raise ValueError(f"unknown task mode {mode!r}; choose from {TASK_MODES}")
    if mode == "context":
        return [task_context_prompt(example.description, x) for x in example.inputs]
    return [task_student_prompt(x) for x in example.inputs]


@torch.inference_mode()
def generate_outputs(model, tok, prompts: list[str], *, lora: LoraTensors | None = None,
                     max_new_tokens: int = 48, turns: tuple[str, ...] = TASK_TURNS) -> list[str]:
    """Greedy continuations of the prompts, as one left-padded batch (under `lora` when given), cleaned
    (`turns`: the line openings that end an output; question prompts pass hypernet.prompts.QUESTION_TURNS)."""
    device = next(model.parameters()).device
    enc = tok(prompts, return_tensors="pt", padding=True, padding_side="left").to(device)
    width = enc.input_ids.shape[1]
    kwargs = dict(max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                  stopping_criteria=[NewExampleStarted(tok, width, turns)])
    if lora is None:
        out = model.generate(**enc, **kwargs)
    else:
        with applied(model, lora.to(device)):
            out = model.generate(**enc, **kwargs)
    return [clean_task_output(t, turns) for t in tok.batch_decode(out[:, width:], skip_special_tokens=True)]


def task_outputs(model, tok, example: TaskExample, *, mode: str, lora: LoraTensors | None = None,
                 max_new_tokens: int = 48) -> list[str]:
    """The cleaned greedy output for each of the task's inputs in `mode` (`lora` is the adapter mode's adapter)."""
    if (mode == "adapter") != (lora is not None):
        raise ValueError(f"mode {mode!r}: an adapter is given in adapter mode and only there")
    return generate_outputs(model, tok, task_prompts(example, mode), lora=lora, max_new_tokens=max_new_tokens)


def task_group(example: TaskExample) -> str:
    """The example's group (see the module docstring)."""
    if FAMILY_BY_NAME[example.family].eval_only:
        return "unseen_family"
    return "unseen_wording" if example.split == "eval" else "train"


def check_modes(modes: list[str]) -> None:
    """ValueError naming the modes that are not TASK_MODES."""
    unknown = set(modes) - set(TASK_MODES)
    if unknown:
        raise ValueError(f"unknown task modes {sorted(unknown)}; choose from {TASK_MODES}")


def evaluate_tasks(examples: list[TaskExample], modes: list[str], model, tok, *,
                   adapter_for: Callable[[TaskExample], LoraTensors] | None = None, max_new_tokens: int = 48,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Every input of every task in each mode; per mode the share of outputs the checkers accept, over all,
    per group and per family, and the ratio to `context`. `adapter_for(task)` makes the adapter mode's adapter.
    The report's `outputs` holds one row per input with each mode's output and verdict."""
    check_modes(modes)
    if "adapter" in modes and adapter_for is None:
        raise ValueError("the adapter mode needs adapter_for (a task -> its adapter)")
    counts = {m: {} for m in modes}  # mode -> key -> [accepted, outputs]
    rows = []
    for i, example in enumerate(examples):
        task_rows = [{"id": example.id, "family": example.family, "group": task_group(example), "input": x}
                     for x in example.inputs]
        for mode in modes:
            lora = adapter_for(example) if mode == "adapter" else None
            outputs = task_outputs(model, tok, example, mode=mode, lora=lora, max_new_tokens=max_new_tokens)
            for row, output in zip(task_rows, outputs):
                ok = bool(example.check(output))
                row[mode], row[mode + "_ok"] = output, ok
                for key in ("all", "group:" + row["group"], "family:" + example.family):
                    tally = counts[mode].setdefault(key, [0, 0])
                    tally[0] += ok
                    tally[1] += 1
        rows += task_rows
        if progress:
            done = {m: f"{c['all'][0]}/{c['all'][1]}" for m, c in counts.items()}
            progress(f"[{i + 1}/{len(examples)}] {example.id}: {done}")
    return _report(examples, counts, rows)


def _report(examples: list[TaskExample], counts: dict, rows: list[dict]) -> dict:
    """Per mode: `accepted` (share over all outputs), `by_group`, `by_family`, `outputs`; `ratio_to_context`."""
    report: dict = {"n_tasks": len(examples), "n_outputs": len(rows)}
    for mode, tally in counts.items():
        share = {key: ok / n for key, (ok, n) in tally.items()}
        report[mode] = {
            "accepted": share.get("all", 0.0), "outputs": tally.get("all", [0, 0])[1],
            "by_group": {g: share["group:" + g] for g in GROUPS if "group:" + g in share},
            "by_family": {k.split(":", 1)[1]: v for k, v in sorted(share.items()) if k.startswith("family:")}}
    context = report.get("context", {}).get("accepted")
    for mode in counts:
        if mode != "context" and context:
            report[mode]["ratio_to_context"] = report[mode]["accepted"] / context
    report["outputs"] = rows
    return report


def evaluate_task_file(path: str, modes: list[str], *, base_model_spec: str, task_hypernet_path: str,
                       limit: int | None = None, device: str = "cpu", max_new_tokens: int = 48,
                       progress: Callable[[str], None] | None = None) -> dict:
    """Load the models, evaluate a task file (`write_jsonl`'s), return the JSON report (with the seconds
    each task adapter took to make, the model loaded)."""
    from hypernet import base_model
    from hypernet.generate import AdapterGenerator
    from hypernet.model import HyperNetwork, checkpoint_id

    check_modes(modes)
    tasks = read_jsonl(path)[:limit] if limit else read_jsonl(path)
    if not tasks:
        raise ValueError(f"{path}: no tasks")
    model, tok, ref = base_model.load(base_model_spec, device=device)
    seconds: list[float] = []
    adapter_for = None
    if "adapter" in modes:
        gen = AdapterGenerator(model, tok, HyperNetwork.load(task_hypernet_path))

        def adapter_for(task: TaskExample) -> LoraTensors:
            started = time.perf_counter()
            lora = gen.generate([task.description])[0].lora
            seconds.append(time.perf_counter() - started)
            return lora

    report = evaluate_tasks(tasks, modes, model, tok, adapter_for=adapter_for, max_new_tokens=max_new_tokens,
                            progress=progress)
    report["data"] = path
    report["base_model"] = {"id": ref.model_id, "revision": ref.revision}
    if seconds:
        report["task_hypernet"] = {"id": checkpoint_id(task_hypernet_path), "path": task_hypernet_path}
        report["adapter"]["seconds_per_adapter"] = sum(seconds) / len(seconds)
    return report
