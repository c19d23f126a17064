"""Context distillation: teacher targets (document in the prompt) and the student loss.

Teacher: the frozen base model reads `BOS + document`, then each question with its answer;
its top-k next-token distribution on the answer tokens is the target. The same prefix
forward yields the activations the hypernetwork reads, so one teacher pass serves both.
Student: the base model with the generated LoRA, the question and answer, no document.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hypernet.activations import layer_inputs, layer_inputs_and_final
from hypernet.chunking import chunk_ids
from hypernet.generate import encode_batch
from hypernet.lora import LoraTensors, applied, combine_chunks
from hypernet.model import HyperNetwork
from hypernet.prompts import question_prompt


@dataclass
class Example:
    """Everything one training step needs for one document; all CPU tensors, cacheable."""

    chunk_acts: list[torch.Tensor]  # per chunk (L, T_c, H) layer inputs over the chunk's tokens (BOS dropped)
    student_ids: torch.Tensor  # (Q, S) BOS + question prompt + answer, right-padded
    student_mask: torch.Tensor  # (Q, S)
    answer_pos: torch.Tensor  # (P, 2) [row, position whose logits predict an answer token]
    answer_ids: torch.Tensor  # (P,) gold answer tokens
    teacher_topk_ids: torch.Tensor  # (P, K)
    teacher_topk_logp: torch.Tensor  # (P, K)


def _qa_tokens(tok, question: str, answer: str) -> tuple[list[int], list[int]]:
    prompt = tok(question_prompt(question), add_special_tokens=False).input_ids
    ans = tok(" " + answer.strip() + "\n", add_special_tokens=False).input_ids
    return prompt, ans


@torch.no_grad()
def teacher_example(model, tok, text: str, qa: list[tuple[str, str]], *, chunk_len: int, max_chunks: int,
                    top_k: int = 16) -> Example:
    """One teacher pass: `BOS doc \n\n Q1 A1 \n\n Q2 A2 ...` in a single sequence.

    Causal attention keeps the document positions blind to the questions after them, so for a
    one-chunk document the same pass gives the hypernetwork's activations too. (Later
    questions see earlier answers: a mild few-shot effect that steadies the answer format.)
    """
    device = next(model.parameters()).device
    doc_ids = tok(text.strip(), add_special_tokens=False).input_ids
    chunks = chunk_ids(doc_ids, chunk_len, max_chunks)
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    sep = tok("\n\n", add_special_tokens=False).input_ids
    teacher = bos + doc_ids
    student_rows, t_pos, s_pos, gold = [], [], [], []
    for row, (q, a) in enumerate(qa):
        prompt, ans = _qa_tokens(tok, q, a)
        teacher = teacher + sep + prompt
        s_row = bos + prompt
        for j, token in enumerate(ans):
            t_pos.append(len(teacher) + j - 1)
            s_pos.append((row, len(s_row) + j - 1))
            gold.append(token)
        teacher = teacher + ans
        student_rows.append(s_row + ans)
    t_ids = torch.tensor([teacher], device=device)
    acts, hidden = layer_inputs_and_final(model, t_ids, torch.ones_like(t_ids))
    if len(chunks) == 1:
        chunk_acts = [acts[0, :, len(bos): len(bos) + len(doc_ids)].float().cpu()]
    else:
        ids, mask, _ = encode_batch(chunks, tok, device)
        many = layer_inputs(model, ids, mask)  # (C, L, T, H)
        chunk_acts = [many[i, :, len(bos): len(bos) + len(c)].float().cpu().clone() for i, c in enumerate(chunks)]
    logits = _lm_logits(model, hidden[0, torch.tensor(t_pos, device=device)])  # (P, V)
    top = torch.log_softmax(logits.float(), dim=-1).topk(top_k, dim=-1)
    s_ids, s_mask = _pad(student_rows, tok)
    return Example(chunk_acts, s_ids, s_mask, torch.tensor(s_pos), torch.tensor(gold),
                   top.indices.cpu(), top.values.cpu())


def _pad(rows: list[list[int]], tok) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id or 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def _final_hidden(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    inner = getattr(model, "model", model)
    return inner(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state


def _lm_logits(model, hidden: torch.Tensor) -> torch.Tensor:
    """LM head on selected positions only (the vocabulary is 262k wide)."""
    logits = model.lm_head(hidden)
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def adapter_for(hypernet: HyperNetwork, chunk_acts: list[torch.Tensor]) -> tuple[LoraTensors, list[LoraTensors]]:
    """Differentiable document adapter from cached chunk activations (all chunks in one batch)."""
    width = max(a.shape[1] for a in chunk_acts)
    acts = torch.zeros(len(chunk_acts), chunk_acts[0].shape[0], width, chunk_acts[0].shape[2])
    mask = torch.zeros(len(chunk_acts), width, dtype=torch.long)
    for i, a in enumerate(chunk_acts):
        acts[i, :, : a.shape[1]] = a
        mask[i, : a.shape[1]] = 1
    per_chunk = hypernet(acts, mask)
    return combine_chunks(per_chunk, hypernet.bias_lora(), hypernet.cfg.chunk_combine), per_chunk


def student_loss(model, hypernet: HyperNetwork, ex: Example, *, ce_weight: float = 0.5,
                 l1_weight: float = 1e-4) -> tuple[torch.Tensor, dict[str, float]]:
    """KL to the teacher's top-k on answer tokens + CE on the gold tokens + L1 on the factors."""
    lora, per_chunk = adapter_for(hypernet, ex.chunk_acts)
    with applied(model, lora):
        hidden = _final_hidden(model, ex.student_ids, ex.student_mask)
    logits = _lm_logits(model, hidden[ex.answer_pos[:, 0], ex.answer_pos[:, 1]])  # (P, V)
    logp = torch.log_softmax(logits.float(), dim=-1)
    t_prob = torch.softmax(ex.teacher_topk_logp, dim=-1)  # renormalised over the top-k
    kd = -(t_prob * logp.gather(-1, ex.teacher_topk_ids)).sum(-1).mean()
    ce = F.nll_loss(logp, ex.answer_ids)
    l1 = sum(a.abs().mean() + b.abs().mean() for c in per_chunk for a, b in c.factors.values())
    loss = kd + ce_weight * ce + l1_weight * l1
    with torch.no_grad():
        acc = (logp.argmax(-1) == ex.answer_ids).float().mean().item()
    return loss, {"loss": loss.item(), "kd": kd.item(), "ce": ce.item(), "token_acc": acc}
