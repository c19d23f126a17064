"""Fitting a composition: a document's adapter and a task's adapter made to work as one.

Side by side (`hypernet.lora.compose`), the two adapters write into the same upper layers, and each takes
over some of the other's job: the composed model answers fewer of the document's questions and follows the
task on fewer inputs than either adapter alone (docs/benchmarks.md). `fit_composition` then takes a few
optimizer steps on the task's part of the composition, the document's part held as published, so that the
composition
- answers questions the system makes up from the document (`hypernet.self_questions`) as the document
  adapter alone answers them: its top-k on its own greedy answers,
- predicts the document's own text as the document adapter alone does (what the adapter holds beyond
  those few questions), and
- continues generic inputs (`hypernet.tasks.inputs.any_input`) as the task adapter alone does: its top-k
  on its own greedy outputs.
Each question's and input's target runs one turn marker past its answer or output, so that the
composition also stops where each adapter alone stops (without it, the document adapter goes on with the
document's lines after a task's output). Neither the questions a document will be asked nor a task's own
inputs are read. The student's softmax runs over a shortlist: the teachers' top-k and the `vocab_common`
most frequent tokens.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from hypernet.activations import under_autocast
from hypernet.config import ComposeConfig
from hypernet.distill import bos_ids, final_hidden, lm_logits, pad_rows, qa_tokens
from hypernet.lora import LoraTensors, applied, concat_ranks, project_off
from hypernet.prompts import QUESTION_TURNS, TASK_TURNS, question_prompt, task_student_prompt
from hypernet.self_questions import natural_questions, self_questions
from hypernet.tasks.distill import output_tokens
from hypernet.tasks.evaluate import generate_outputs
from hypernet.tasks.inputs import any_input


@dataclass
class _Targets:
    """Rows to read under the composition, the positions whose next token is scored, and there the
    teacher's top-k token ids and probabilities (renormalised over the k)."""

    rows: list[list[int]]
    positions: list[list[int]]
    top_ids: torch.Tensor  # (P, k)
    top_p: torch.Tensor  # (P, k)


def fit_composition(model, tok, doc: LoraTensors, task: LoraTensors, doc_text: str, cfg: ComposeConfig, *,
                    doc_scale: float = 1.0, task_scale: float = 1.0,
                    autocast: torch.dtype | None = None) -> LoraTensors:
    """The composition of `doc` (the document's adapter, `doc_text` its document) and `task`, fitted for
    `cfg.steps` steps; with 0 steps, `hypernet.lora.compose`'s projection as is. The result holds the
    document's factors first, unchanged, then the task's."""
    doc_part = concat_ranks([(doc, doc_scale)])
    task_part = concat_ranks([(project_off(task, doc), task_scale)])
    if not cfg.steps:
        return concat_ranks([(doc_part, 1.0), (task_part, 1.0)])
    device = next(model.parameters()).device
    doc_part, task_part, task = doc_part.to(device), task_part.to(device), task.to(device)
    makers = [(1.0, lambda: _question_targets(model, tok, doc_part, doc_text, cfg)),
              (cfg.text_weight, lambda: _text_targets(model, tok, doc_part, doc_text, cfg)),
              (cfg.task_weight, lambda: _input_targets(model, tok, task, cfg))]
    # A target of weight 0 is never made: no teacher pass, no generation.
    weighted = [(w, t) for w, make in makers if w > 0 and (t := make()) is not None]
    if not weighted:  # nothing to fit to: every weight 0 and no questions to make
        return concat_ranks([(doc_part, 1.0), (task_part, 1.0)]).to("cpu")
    weights, targets = [w for w, _ in weighted], [t for _, t in weighted]
    shortlist = torch.unique(torch.cat([torch.arange(min(cfg.vocab_common, model.lm_head.weight.shape[0])),
                                        *(t.top_ids.flatten().cpu() for t in targets)])).to(device)
    column = torch.full((model.lm_head.weight.shape[0],), -1, dtype=torch.long, device=device)
    column[shortlist] = torch.arange(len(shortlist), device=device)
    head = model.lm_head.weight.detach()[shortlist]
    head = head.to(autocast) if autocast is not None else head.float()
    moving = {t: (a.detach().float().clone().requires_grad_(), b.detach().float().clone().requires_grad_())
              for t, (a, b) in task_part.factors.items()}
    opt = torch.optim.AdamW([x for ab in moving.values() for x in ab], lr=cfg.lr,
                            betas=(cfg.adam_beta1, cfg.adam_beta2), weight_decay=0.0)
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / (cfg.warmup + 1))
        opt.zero_grad(set_to_none=True)
        both = concat_ranks([(doc_part, 1.0), (LoraTensors(moving), 1.0)])
        loss = sum(w * _loss(model, tok, both, t, head, column, autocast) for w, t in zip(weights, targets))
        loss.backward()
        opt.step()
    fitted = LoraTensors({t: (a.detach(), b.detach()) for t, (a, b) in moving.items()})
    return concat_ranks([(doc_part, 1.0), (fitted, 1.0)]).to("cpu")


def _question_targets(model, tok, doc: LoraTensors, text: str, cfg: ComposeConfig) -> _Targets | None:
    """The document adapter's own answers to questions made up from its document (blanks where the text
    gives no natural question), each followed by the next question's turn marker."""
    made = natural_questions(text, cfg.questions) or self_questions(text, cfg.questions)
    if not made:
        return None
    answers = generate_outputs(model, tok, [question_prompt(q.question) for q in made], lora=doc,
                               max_new_tokens=cfg.answer_tokens, turns=QUESTION_TURNS)
    turn = tok(QUESTION_TURNS[0], add_special_tokens=False).input_ids
    tokens = [qa_tokens(tok, q.question, a) for q, a in zip(made, answers)]
    pairs = [(bos_ids(tok) + prompt, ans + turn) for prompt, ans in tokens]
    return _targets_under(model, doc, pairs, cfg, tok)


def _text_targets(model, tok, doc: LoraTensors, text: str, cfg: ComposeConfig) -> _Targets | None:
    """The document adapter's next-token distribution over the document's first `text_tokens` tokens: what
    it holds of the text beyond the few questions made up from it."""
    ids = tok(text, add_special_tokens=False).input_ids[:cfg.text_tokens]
    if len(ids) < 2:
        return None
    return _targets_under(model, doc, [(bos_ids(tok) + ids[:1], ids[1:])], cfg, tok)


def _input_targets(model, tok, task: LoraTensors, cfg: ComposeConfig) -> _Targets:
    """The task adapter's own outputs on generic inputs, each followed by the next input's turn marker."""
    rng = random.Random(cfg.seed)
    inputs = [any_input(rng) for _ in range(cfg.inputs)]
    prompts = [task_student_prompt(x) for x in inputs]
    outputs = generate_outputs(model, tok, prompts, lora=task, max_new_tokens=cfg.output_tokens)
    turn = tok(TASK_TURNS[0], add_special_tokens=False).input_ids
    pairs = [(tok(p).input_ids, output_tokens(tok, o) + turn) for p, o in zip(prompts, outputs)]
    return _targets_under(model, task, pairs, cfg, tok)


@torch.no_grad()
def _targets_under(model, lora: LoraTensors, pairs: list[tuple[list[int], list[int]]], cfg: ComposeConfig,
                   tok) -> _Targets:
    """(prompt, continuation) token pairs read under the teacher adapter: its top-k at each continuation token."""
    device = next(model.parameters()).device
    rows = [p + c for p, c in pairs]
    positions = [list(range(len(p) - 1, len(p) + len(c) - 1)) for p, c in pairs]
    ids, mask = pad_rows(rows, tok)
    with applied(model, lora):
        hidden = final_hidden(model, ids.to(device), mask.to(device))
    top = torch.log_softmax(lm_logits(model, _at(hidden, positions)), dim=-1).topk(cfg.top_k, dim=-1)
    return _Targets(rows, positions, top.indices, torch.softmax(top.values, dim=-1))


def _at(hidden: torch.Tensor, positions: list[list[int]]) -> torch.Tensor:
    """The hidden states at each row's listed positions, rows in turn: (P, H)."""
    at = torch.tensor([(r, p) for r, ps in enumerate(positions) for p in ps], device=hidden.device)
    return hidden[at[:, 0], at[:, 1]]


def _loss(model, tok, lora: LoraTensors, t: _Targets, head: torch.Tensor, column: torch.Tensor,
          autocast: torch.dtype | None) -> torch.Tensor:
    """Cross-entropy of the composition's shortlist distribution to the teacher's top-k, per scored token."""
    device = head.device
    ids, mask = pad_rows(t.rows, tok)
    with applied(model, lora), under_autocast(device.type, autocast):
        hidden = final_hidden(model, ids.to(device), mask.to(device))
    logp = torch.log_softmax(lm_logits(model, _at(hidden, t.positions), head), dim=-1)
    return -(t.top_p.to(device) * logp.gather(1, column[t.top_ids.to(device)])).sum(-1).mean()
