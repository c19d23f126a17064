"""Context distillation: teacher targets (document in the prompt) and the student loss.

Teacher: the frozen base model reads `BOS + document`, then each question with its answer;
its top-k next-token distribution on the answer tokens is the target. The same prefix
forward yields the activations the hypernetwork reads, so one teacher pass serves both.
Student: the base model with the generated LoRA, the question and answer, no document.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hypernet.activations import layer_inputs, layer_inputs_and_final
from hypernet.chunking import chunk_ids
from hypernet.generate import encode_batch
from hypernet.lora import LoraTensors, applied, combine_chunks, decoder_layers, pad_rank
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
    # (Q,) per question, where its answer starts in a one-chunk document (-1: not found verbatim,
    # or several chunks); the retrieval loss teaches the copy heads to read there.
    answer_doc_pos: torch.Tensor | None = None
    # (1,) bool, True: the gold answer is the target and the teacher's top-k is ignored. For documents
    # whose questions the teacher mostly misses (real prose with blanks: it answers 0.10 of them in
    # context), where distillation would teach its misses.
    gold_only: torch.Tensor | None = None

    def is_gold_only(self) -> bool:
        return self.gold_only is not None and bool(self.gold_only.any())


def bos_ids(tok) -> list[int]:
    """The tokenizer's start-of-text token as a list: empty for tokenizers without one."""
    return [tok.bos_token_id] if tok.bos_token_id is not None else []


def qa_tokens(tok, question: str, answer: str) -> tuple[list[int], list[int]]:
    """A question's prompt tokens and its answer's, the answer ended by a line break as taught."""
    prompt = tok(question_prompt(question), add_special_tokens=False).input_ids
    ans = tok(" " + answer.strip() + "\n", add_special_tokens=False).input_ids
    return prompt, ans


def find_answer(doc_ids: list[int], tok, answer: str) -> int:
    """Where the answer's tokens first occur in the document's (-1: nowhere verbatim)."""
    for text in (" " + answer.strip(), answer.strip()):
        needle = tok(text, add_special_tokens=False).input_ids
        n = len(needle)
        for i in range(len(doc_ids) - n + 1) if n else ():
            if doc_ids[i:i + n] == needle:
                return i
    return -1


def teacher_example(model, tok, text: str, qa: list[tuple[str, str]], *, chunk_len: int, max_chunks: int,
                    top_k: int = 16) -> Example:
    """One document's teacher pass, as CPU tensors (for caching; see teacher_examples)."""
    ex = teacher_examples(model, tok, [(text, qa, chunk_len)], max_chunks=max_chunks, top_k=top_k)[0]
    return example_to(ex, torch.device("cpu"))


@torch.no_grad()
def teacher_examples(model, tok, docs: list[tuple[str, list[tuple[str, str]], int]], *, max_chunks: int,
                     top_k: int = 16) -> list[Example]:
    """Teacher passes for several documents `(text, qa, chunk_len)` in one padded batch.

    Each document is one sequence `BOS doc \n\n Q1 A1 \n\n Q2 A2 ...`. Causal attention keeps the
    document positions blind to the questions after them, so for a one-chunk document the same
    pass gives the hypernetwork's activations too; documents of several chunks get one more batched
    pass over their chunks. (Later questions see earlier answers: a mild few-shot effect that
    steadies the answer format.) Right padding leaves every real position as it would be alone.
    Tensors stay on the model's device.
    """
    device = next(model.parameters()).device
    bos = bos_ids(tok)
    sep = tok("\n\n", add_special_tokens=False).input_ids
    plans = []
    for text, qa, chunk_len in docs:
        doc_ids = tok(text.strip(), add_special_tokens=False).input_ids
        teacher = bos + doc_ids
        student_rows, t_pos, s_pos, gold = [], [], [], []
        for row, (q, a) in enumerate(qa):
            prompt, ans = qa_tokens(tok, q, a)
            teacher = teacher + sep + prompt
            s_row = bos + prompt
            for j, token in enumerate(ans):
                t_pos.append(len(teacher) + j - 1)
                s_pos.append((row, len(s_row) + j - 1))
                gold.append(token)
            teacher = teacher + ans
            student_rows.append(s_row + ans)
        chunks = chunk_ids(doc_ids, chunk_len, max_chunks)
        found = [find_answer(doc_ids, tok, a) if len(chunks) == 1 else -1 for _q, a in qa]
        plans.append((doc_ids, chunks, teacher, student_rows, t_pos, s_pos, gold, found))
    t_ids, t_mask = pad_rows([p[2] for p in plans], tok)
    acts, hidden = layer_inputs_and_final(model, t_ids.to(device), t_mask.to(device))  # (N, L, T, H), (N, T, H)
    rows = torch.tensor([i for i, p in enumerate(plans) for _ in p[4]], device=device)
    cols = torch.tensor([c for p in plans for c in p[4]], device=device)
    logits = lm_logits(model, hidden[rows, cols])  # (P_all, V): the LM head on answer positions only
    top = torch.log_softmax(logits, dim=-1).topk(top_k, dim=-1)
    multi = [c for p in plans if len(p[1]) > 1 for c in p[1]]
    many = None
    if multi:
        ids, mask, _ = encode_batch(multi, tok, device)
        many = layer_inputs(model, ids, mask)  # (C, L, T, H)
    out, k, first = [], 0, 0
    for i, (doc_ids, chunks, _teacher, student_rows, t_pos, s_pos, gold, found) in enumerate(plans):
        if len(chunks) == 1:
            chunk_acts = [acts[i, :, len(bos): len(bos) + len(doc_ids)].float().clone()]
        else:
            chunk_acts = [many[k + j, :, len(bos): len(bos) + len(c)].float().clone() for j, c in enumerate(chunks)]
            k += len(chunks)
        s_ids, s_mask = pad_rows(student_rows, tok)
        n = len(t_pos)
        out.append(Example(chunk_acts, s_ids.to(device), s_mask.to(device), torch.tensor(s_pos, device=device),
                           torch.tensor(gold, device=device), top.indices[first:first + n].clone(),
                           top.values[first:first + n].clone(), torch.tensor(found, device=device)))
        first += n
    return out


def mark_gold_only(ex: Example) -> Example:
    """The example with the gold answers as its only target (see Example.gold_only)."""
    return dataclasses.replace(ex, gold_only=torch.ones(1, dtype=torch.bool, device=ex.answer_ids.device))


def example_to(ex: Example, device: torch.device) -> Example:
    """The example with every tensor on `device` (no copies when it is there already)."""
    moved = {}
    for f in dataclasses.fields(ex):
        value = getattr(ex, f.name)
        if isinstance(value, list):
            moved[f.name] = [v.to(device) for v in value]
        else:
            moved[f.name] = None if value is None else value.to(device)
    return Example(**moved)


def pad_rows(rows: list[list[int]], tok) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token rows into (ids, attention mask)."""
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id or 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def final_hidden(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    inner = getattr(model, "model", model)
    return inner(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state


def lm_logits(model, hidden: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """LM head on selected positions only (the vocabulary is 262k wide), in float32 unless `weight`
    (the head's weight in another dtype, made once by the caller) says otherwise.

    A bfloat16 base model (on GPUs) would round logits of ~20 to steps of 0.125: too coarse for
    the teacher's top-k distribution the student is distilled on.
    """
    head = model.lm_head
    if weight is not None:
        logits = F.linear(hidden.to(weight.dtype), weight).float()
    else:
        logits = F.linear(hidden.float(), head.weight.float(), None if head.bias is None else head.bias.float())
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def adapters_for(hypernet: HyperNetwork, docs_chunk_acts: list[list[torch.Tensor]], trace: bool = False):
    """One adapter per document, from all documents' chunks in one hypernetwork batch.

    Returns the combined adapters and the per-chunk LoRAs of all documents (for the L1 term), and
    with `trace` the copy heads' CopyTrace over the chunks in the same order.
    """
    flat = [a for chunks in docs_chunk_acts for a in chunks]
    first = flat[0]
    width = max(a.shape[1] for a in flat)
    acts = first.new_zeros(len(flat), first.shape[0], width, first.shape[2])
    mask = torch.zeros(len(flat), width, dtype=torch.long, device=first.device)
    for i, a in enumerate(flat):
        acts[i, :, : a.shape[1]] = a
        mask[i, : a.shape[1]] = 1
    per_chunk, copy_trace = hypernet(acts, mask, trace=True) if trace else (hypernet(acts, mask), None)
    bias, rule = hypernet.bias_lora(), hypernet.cfg.chunk_combine
    adapters, k = [], 0
    for chunks in docs_chunk_acts:
        adapters.append(combine_chunks(per_chunk[k:k + len(chunks)], bias, rule))
        k += len(chunks)
    return (adapters, per_chunk, copy_trace) if trace else (adapters, per_chunk)


def student_loss(model, hypernet: HyperNetwork, ex: Example | list[Example], *, ce_weight: float = 0.5,
                 l1_weight: float = 1e-4, retrieval_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """KL to the teacher's top-k on answer tokens + CE on the gold tokens + L1 on the factors
    (+ `retrieval_weight` x the retrieval loss, see `retrieval_loss`). On the tokens of a gold-only
    example (`Example.gold_only`) the gold token stands in for the teacher: its KL term is the CE.

    `ex` is one document's example or several: the documents' adapters come from one
    hypernetwork batch and their questions run as one student batch, each row with its own
    document's adapter. Means are over all answer tokens of the batch.
    """
    examples = ex if isinstance(ex, list) else [ex]
    retrieve = retrieval_weight > 0
    if retrieve and hypernet.cfg.first_target_layer:
        raise ValueError("the retrieval loss reads every layer: it needs first_target_layer 0")
    if retrieve and not hypernet.cfg.copy_path:
        raise ValueError("the retrieval loss trains the copy heads: it needs a hypernetwork with copy_path")
    traced = adapters_for(hypernet, [e.chunk_acts for e in examples], trace=retrieve)
    adapters, per_chunk = traced[:2]
    if len(examples) == 1:
        lora, ids, mask, pos = adapters[0], examples[0].student_ids, examples[0].student_mask, examples[0].answer_pos
    else:  # one student batch: rows of all documents, right-padded to the widest
        width = max(e.student_ids.shape[1] for e in examples)
        ids = torch.cat([F.pad(e.student_ids, (0, width - e.student_ids.shape[1])) for e in examples])
        mask = torch.cat([F.pad(e.student_mask, (0, width - e.student_mask.shape[1])) for e in examples])
        offsets = torch.tensor([0] + [e.student_ids.shape[0] for e in examples]).cumsum(0).tolist()
        pos = torch.cat([e.answer_pos + e.answer_pos.new_tensor([offsets[i], 0]) for i, e in enumerate(examples)])
        rank = max(a.rank for a in adapters)  # documents of more chunks have more rank rows: zero-pad
        padded = [pad_rank(a, rank) for a in adapters]
        lora = [padded[i] for i, e in enumerate(examples) for _ in range(e.student_ids.shape[0])]
    target = hypernet.cfg.targets[0].name
    # The layers below first_target_layer have zero factors: detached, so the backward stops above them.
    with applied(model, lora, frozen_below=hypernet.cfg.first_target_layer), \
            _captured_inputs(model, target, enabled=retrieve) as queries:
        hidden = final_hidden(model, ids, mask)
    logits = lm_logits(model, hidden[pos[:, 0], pos[:, 1]])  # (P, V)
    logp = torch.log_softmax(logits, dim=-1)
    topk_ids = torch.cat([e.teacher_topk_ids for e in examples])
    t_prob = torch.softmax(torch.cat([e.teacher_topk_logp for e in examples]).float(), dim=-1)  # renormalised
    answer_ids = torch.cat([e.answer_ids for e in examples])
    ce_per_token = F.nll_loss(logp, answer_ids, reduction="none")
    kd_per_token = -(t_prob * logp.gather(-1, topk_ids)).sum(-1)
    # Built on the device from the flags themselves: asking each example is_gold_only() would sync a GPU per document.
    gold_only = torch.cat([e.gold_only.bool().expand(len(e.answer_ids)) if e.gold_only is not None
                           else torch.zeros_like(e.answer_ids, dtype=torch.bool) for e in examples])
    kd = torch.where(gold_only, ce_per_token, kd_per_token).mean()
    ce = ce_per_token.mean()
    l1 = sum(a.abs().mean() + b.abs().mean() for c in per_chunk for a, b in c.factors.values())
    if len(examples) > 1:
        l1 = l1 / len(examples)  # the L1 weight stays per document
    loss = kd + ce_weight * ce + l1_weight * l1
    extra = {}
    if retrieve:
        first_pos = _first_answer_positions(pos, ids.shape[0])
        asked = torch.stack([q[torch.arange(ids.shape[0]), first_pos] for q in queries], dim=1)  # (rows, L, d_in)
        ret, extra = retrieval_loss(hypernet, traced[2], examples, asked.detach(), target)
        loss = loss + retrieval_weight * ret
    with torch.no_grad():
        acc = (logp.argmax(-1) == answer_ids).float().mean().item()
    return loss, {"loss": loss.item(), "kd": kd.item(), "ce": ce.item(), "token_acc": acc, **extra}


def retrieval_loss(hypernet: HyperNetwork, copy_trace, examples: list[Example], asked: torch.Tensor, target: str,
                   temperature: float = 0.1) -> tuple[torch.Tensor, dict[str, float]]:
    """Teach the copy heads where a document's answers are and which question state reads them.

    Context distillation alone rewards a right answer only once attention, key and value are all
    right together, a conjunction that training rarely stumbles on. Here two direct signals, for
    every question whose answer occurs verbatim in a one-chunk document, at
    the upper two thirds of the layers: (1) some rank row attends to the position just before the
    answer, or with copy_next to the answer's first token (`select`: minus the best row's log weight
    there); (2) among all positions of the document,
    the target module's input at the question's answer position (`asked`, (rows, L, d_in)) is
    nearest, in cosine, to that position's key (`key`: cross-entropy over positions).
    """
    head = hypernet.copy_heads[target.replace(".", "__")]
    first_layer = hypernet.cfg.n_layers // 3
    chunk, row, select, key, top1, n = 0, 0, 0.0, 0.0, 0.0, 0
    for e in examples:
        n_rows, n_chunks = e.student_ids.shape[0], len(e.chunk_acts)
        where = e.answer_doc_pos if e.answer_doc_pos is not None else torch.full((n_rows,), -1)
        ok = (where > 0).nonzero().flatten().tolist()  # the answer needs a position before it
        if n_chunks == 1 and ok:
            # The position a row should read: the one before the answer, whose residual predicts it;
            # with copy_next the answer's own first token (keyed on the one before, written as itself).
            t = where[ok].to(asked.device) - 1 + int(head.next_token)  # (Q,)
            length = int(copy_trace.mask[chunk].sum())
            normed = copy_trace.normed[chunk:chunk + 1, first_layer:, :length]  # (1, L', T, H)
            keys = head.position_keys(normed, first_layer)[0]  # (L', T, d_in)
            q = asked[[row + i for i in ok], first_layer:]  # (Q, L', d_in), in the base model's dtype
            cos = torch.einsum("qld,ltd->qlt", F.normalize(q.to(keys.dtype), dim=-1), F.normalize(keys, dim=-1))
            logits = (cos / temperature).flatten(0, 1)  # (Q*L', T)
            labels = t[:, None].expand(-1, cos.shape[1]).flatten()
            key = key + F.cross_entropy(logits, labels, reduction="sum")
            top1 = top1 + (logits.argmax(-1) == labels).float().sum()
            log_attention = copy_trace.attention[target][chunk, first_layer:, :, :length]  # (L', R, T)
            select = select - log_attention[:, :, t].amax(dim=1).sum()  # the best row, per layer and question
            n += labels.numel()
        chunk, row = chunk + n_chunks, row + n_rows
    if not n:
        return asked.new_zeros(()), {}
    key, select = key / n, select / n
    metrics = {"retrieval_key": key.item(), "retrieval_select": select.item(), "retrieval_top1": float(top1) / n}
    return key + select, metrics


def _first_answer_positions(answer_pos: torch.Tensor, n_rows: int) -> torch.Tensor:
    """(rows,) for each student row, the position whose logits predict its first answer token."""
    first = torch.full((n_rows,), -1, dtype=torch.long, device=answer_pos.device)
    for r, p in reversed(answer_pos.tolist()):
        first[r] = p
    return first


@contextlib.contextmanager
def _captured_inputs(model, target: str, enabled: bool = True):
    """Inputs to `target` in every decoder layer during the block (a list filled layer by layer)."""
    captured: list[torch.Tensor] = []
    handles = [] if not enabled else [
        layer.get_submodule(target).register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
        for layer in decoder_layers(model)]
    try:
        yield captured
    finally:
        for h in handles:
            h.remove()
