"""Text-to-LoRA teacher targets: the records the document trainer consumes (`hypernet.distill.Example`),
with the task's description where the document goes.

Teacher: the base model with the description before the input (`task_context_prompt`), answering with
its own greedy output; its top-k next-token distribution on that output's tokens is the target. Student:
the input alone (`task_student_prompt`) and the same output, under the adapter the hypernetwork makes
from the description. Only outputs the task's checker accepts become targets, so the student never
learns the teacher's failures; a task none of whose outputs passes gives no example.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from hypernet.activations import layer_inputs
from hypernet.distill import Example, final_hidden, lm_logits, mark_gold_only, pad_rows
from hypernet.generate import encode_batch
from hypernet.prompts import task_context_prompt, task_student_prompt
from hypernet.tasks.evaluate import generate_outputs
from hypernet.tasks.examples import TaskExample


def _per_task(tasks: list[TaskExample], flat: list[str]) -> list[list[str]]:
    """One batch's outputs (every task's inputs in turn) split back per task."""
    out, at = [], 0
    for task in tasks:
        out.append(flat[at:at + len(task.inputs)])
        at += len(task.inputs)
    return out


def output_tokens(tok, output: str, stop: bool = False) -> list[int]:
    """An output's tokens as the student is taught them: after a space, ended by a line break (as answers
    are) and, with `stop`, by the end-of-sequence token, so that generation ends with the output."""
    ids = tok(" " + output.strip() + "\n", add_special_tokens=False).input_ids
    return ids + [tok.eos_token_id] if stop and tok.eos_token_id is not None else ids


def accepted(task: TaskExample, outputs: list[str]) -> list[tuple[str, str]]:
    """(input, output) for each input whose output the task's checker accepts."""
    return [(x, out) for x, out in zip(task.inputs, outputs, strict=True) if task.check(out)]


@dataclass
class _Rows:
    """One task's accepted (input, output) pairs as token rows; positions are [row of this task, position
    whose logits predict an output token], in the teacher's rows and in the student's."""

    description: list[int]
    teacher_rows: list[list[int]] = field(default_factory=list)
    teacher_pos: list[tuple[int, int]] = field(default_factory=list)
    student_rows: list[list[int]] = field(default_factory=list)
    student_pos: list[tuple[int, int]] = field(default_factory=list)
    gold: list[int] = field(default_factory=list)


def _rows(tok, task: TaskExample, pairs: list[tuple[str, str]], stop: bool = False) -> _Rows | None:
    """The task's rows (None when no pair was accepted)."""
    if not pairs:
        return None
    rows = _Rows(tok(task.description.strip(), add_special_tokens=False).input_ids)
    for row, (x, output) in enumerate(pairs):
        answer = output_tokens(tok, output, stop)
        teacher = tok(task_context_prompt(task.description, x)).input_ids
        student = tok(task_student_prompt(x)).input_ids
        rows.teacher_pos += [(row, len(teacher) + j - 1) for j in range(len(answer))]
        rows.student_pos += [(row, len(student) + j - 1) for j in range(len(answer))]
        rows.gold += answer
        rows.teacher_rows.append(teacher + answer)
        rows.student_rows.append(student + answer)
    return rows


def _teacher_topk(model, tok, kept: list[_Rows], top_k: int):
    """The teacher's top-k (ids, log-probs), each (P_all, K), on the output tokens of all tasks' rows, from
    one padded batch (the LM head on those positions only)."""
    device = next(model.parameters()).device
    ids, mask = pad_rows([r for rows in kept for r in rows.teacher_rows], tok)
    hidden = final_hidden(model, ids.to(device), mask.to(device))  # (R, T, H)
    at, first_row = [], 0
    for rows in kept:
        at += [(first_row + row, col) for row, col in rows.teacher_pos]
        first_row += len(rows.teacher_rows)
    at = torch.tensor(at, device=device)  # (P_all, 2): [row among all tasks' rows, position]
    top = torch.log_softmax(lm_logits(model, hidden[at[:, 0], at[:, 1]]), dim=-1).topk(top_k, dim=-1)
    return top.indices, top.values


@torch.no_grad()
def task_teacher_examples(model, tok, tasks: list[TaskExample], *, top_k: int = 16, max_new_tokens: int = 48,
                          outputs: list[list[str]] | None = None, stop: bool = False) -> list[Example | None]:
    """One `Example` per task (None where the checker accepted none of its outputs), in the tasks' order.

    `outputs`: the teacher's cleaned outputs per task and input, when already made (the evaluation's
    context mode makes the same ones); otherwise they are generated here. `stop`: the targets end with the
    end-of-sequence token (`output_tokens`). The hypernetwork's activations
    are the layer inputs over the description's tokens, read as `AdapterGenerator` reads a one-chunk
    document. The accepted rows of all tasks go through the teacher as one padded batch, each
    `BOS description \\n\\n Input: x \\n Output: y \\n`. Tensors stay on the model's device.
    """
    device = next(model.parameters()).device
    if outputs is None:
        outputs = _per_task(tasks, generate_outputs(
            model, tok, [task_context_prompt(t.description, x) for t in tasks for x in t.inputs],
            max_new_tokens=max_new_tokens))
    plans = [_rows(tok, task, accepted(task, outs), stop) for task, outs in zip(tasks, outputs, strict=True)]
    kept = [p for p in plans if p is not None]
    if not kept:
        return [None] * len(tasks)
    ids, mask, _ = encode_batch([rows.description for rows in kept], tok, device)
    acts = layer_inputs(model, ids, mask)  # (N, L, T, H)
    bos = int(tok.bos_token_id is not None)
    topk_ids, topk_logp = _teacher_topk(model, tok, kept, top_k)
    out, first, k = [], 0, 0
    for rows in plans:
        if rows is None:
            out.append(None)
            continue
        s_ids, s_mask = pad_rows(rows.student_rows, tok)
        n, n_rows = len(rows.gold), len(rows.student_rows)
        chunk = acts[k, :, bos: bos + len(rows.description)].float().clone()  # (L, T_desc, H)
        out.append(Example([chunk], s_ids.to(device), s_mask.to(device), torch.tensor(rows.student_pos, device=device),
                           torch.tensor(rows.gold, device=device), topk_ids[first:first + n].clone(),
                           topk_logp[first:first + n].clone(), torch.full((n_rows,), -1, device=device)))
        first, k = first + n, k + 1
    return out


@torch.no_grad()
def task_reference_examples(model, tok, tasks: list[TaskExample], *, top_k: int = 16,
                            max_new_tokens: int = 32) -> list[Example | None]:
    """Like `task_teacher_examples`, with the family's reference outputs as gold-only targets: the base
    model's own plain reply to each input (no description, one batch for all tasks), rewritten in the
    task's form by rule (`TaskExample.reference`). For a base model that does not follow descriptions in
    its prompt, so that the student learns the form the teacher would not show. A task whose family has
    no rule gives no example."""
    replies = _per_task(tasks, generate_outputs(
        model, tok, [task_student_prompt(x) for task in tasks for x in task.inputs], max_new_tokens=max_new_tokens))
    outputs = [[task.reference(reply, x) or "" for reply, x in zip(rs, task.inputs)] for task, rs in zip(tasks, replies)]
    made = task_teacher_examples(model, tok, tasks, top_k=top_k, outputs=outputs, stop=True)
    return [mark_gold_only(ex) if ex is not None else None for ex in made]
