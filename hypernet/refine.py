"""Refinement: a few optimizer steps that improve a generated adapter on its own document.

The hypernetwork's one-pass adapter is the starting point; `refine` then trains its factors on
the document alone, never on the questions it will be asked:
- questions the system makes up from the document (`hypernet.self_questions`), answered by the
  in-context teacher in one cached pass; where the teacher's greedy answer is the span a natural
  question was made from, the student matches the teacher's top-k there, and where it is not, the
  student learns the span (`RefineConfig.missed_questions`);
- fill-in-the-blank items, trained on the gold span (the teacher misses many blanks);
- next-token prediction on a window of the text.
The student's softmax runs over a shortlist of the vocabulary (`_Shortlist`): on a CPU, passes over
262k-wide logits cost more than the rest of the step.
Many documents refine together: one forward/backward per step over all their rows, each row
under its own document's adapter, so a batch costs one model pass per step.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from hypernet.activations import under_autocast
from hypernet.config import RefineConfig
from hypernet.distill import bos_ids, final_hidden, lm_logits, pad_rows, qa_tokens
from hypernet.lora import LoraTensors, applied, pad_rank
from hypernet.self_questions import SelfQuestion, natural_questions, self_questions

@dataclass
class Item:
    """One question row of a document: prompt + answer tokens and its target."""

    ids: list[int]  # BOS + question prompt + answer
    first: int  # index of the first answer token in `ids`
    gold: bool  # True: gold-span CE; False: the teacher's top-k below
    topk_ids: torch.Tensor | None = None  # (n_answer, K)
    topk_logp: torch.Tensor | None = None


@dataclass
class Prepared:
    """A document's refinement data: the teacher's pass done once (cacheable)."""

    text_ids: list[int]
    items: list[Item]
    made: int  # natural questions made up
    kept: int  # of them, the ones the teacher answered with their own span
    units: int = 1  # the document's length in `RefineConfig.unit_tokens`: its budgets per step scale with it


@torch.no_grad()
def prepare(model, tok, texts: list[str], cfg: RefineConfig,
            questions: list[list[SelfQuestion]] | None = None, autocast: torch.dtype | None = None) -> list[Prepared]:
    """Make up each document's questions and run the in-context teacher once over all of them.

    `questions` replaces the made-up natural questions (the oracle ceiling passes the eval's own);
    those are kept whatever the teacher answers, as the teacher's answers are the target.
    """
    device = next(model.parameters()).device
    bos, sep = bos_ids(tok), tok("\n\n", add_special_tokens=False).input_ids
    seqs, plans = [], []
    for d, text in enumerate(texts):
        doc_ids = tok(text.strip(), add_special_tokens=False).input_ids
        units = length_units(len(doc_ids), cfg)
        spread_out = cfg.spread_items and units > 1
        natural = questions[d] if questions is not None else natural_questions(text, cfg.questions * units, spread_out)
        blanks = [] if questions is not None else self_questions(text, cfg.blanks * units, spread_out)
        teacher, rows = bos + doc_ids, []
        for q, is_blank in [(x, False) for x in natural] + [(x, True) for x in blanks]:
            prompt, ans = qa_tokens(tok, q.question, q.answer)
            if is_blank:  # trained on the gold span: the teacher never reads it
                rows.append((bos + prompt + ans, len(bos) + len(prompt), 0, len(ans), True))
                continue
            teacher = teacher + sep + prompt
            rows.append((bos + prompt + ans, len(bos) + len(prompt), len(teacher), len(ans), False))
            teacher = teacher + ans
        seqs.append(teacher)
        plans.append((doc_ids, rows, len(natural), units))
    ids, mask = pad_rows(seqs, tok)
    with under_autocast(device.type, autocast):
        hidden = final_hidden(model, ids.to(device), mask.to(device)).float()  # (N, T, H)
    # Logits at t_first-1+j predict answer token j; the trailing line break is the answer's end.
    at = [(d, t) for d, (_doc, rows, _n, _u) in enumerate(plans) for _i, _f, t_first, n_ans, blank in rows
          if not blank for t in range(t_first - 1, t_first - 1 + n_ans)]
    top_ids, top_logp = _teacher_topk(model, hidden, at, cfg.top_k)
    out, k = [], 0
    for doc_ids, rows, n_natural, units in plans:
        items, kept = [], 0
        for ids_, first, _t_first, n_ans, is_blank in rows:
            if is_blank:
                items.append(Item(ids_, first, gold=True))
                continue
            t_ids, t_logp = top_ids[k:k + n_ans], top_logp[k:k + n_ans]
            k += n_ans
            agrees = t_ids[:-1, 0].tolist() == ids_[first:first + n_ans - 1]
            if agrees or questions is not None:
                kept += agrees
                items.append(Item(ids_, first, gold=False, topk_ids=t_ids, topk_logp=t_logp))
            elif cfg.missed_questions == "gold":  # the span is the document's own words, whatever the teacher says
                items.append(Item(ids_, first, gold=True))
        out.append(Prepared(doc_ids, items, n_natural, kept, units))
    return out


def _teacher_topk(model, hidden: torch.Tensor, at: list[tuple[int, int]], k: int,
                  rows_per_pass: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """The top-k log-probabilities at the (sequence, position) pairs `at`, as CPU tensors: the LM head
    is read once per `rows_per_pass` positions (one pass per question would read its 262k rows each time)."""
    if not at:
        return torch.zeros(0, k, dtype=torch.long), torch.zeros(0, k)
    seq = torch.tensor([d for d, _t in at], device=hidden.device)
    pos = torch.tensor([t for _d, t in at], device=hidden.device)
    ids, logp = [], []
    for i in range(0, len(at), rows_per_pass):
        logits = lm_logits(model, hidden[seq[i:i + rows_per_pass], pos[i:i + rows_per_pass]])
        top = torch.log_softmax(logits, dim=-1).topk(k, dim=-1)
        ids.append(top.indices.cpu())
        logp.append(top.values.cpu())
    return torch.cat(ids), torch.cat(logp)


class _Trainable:
    """One document's adapter as trainable leaves: the layers above the `cfg.frozen_share` lowest, split by
    `cfg.train` into moving and fixed rank rows; lower layers stay as generated (no gradient flows below them)."""

    def __init__(self, lora: LoraTensors, cfg: RefineConfig, bias_rank: int):
        self.parts = {}
        for target, (a, b) in lora.factors.items():
            a, b = a.detach().float().clone(), b.detach().float().clone()
            low = self.frozen = int(a.shape[0] * cfg.frozen_share)
            fixed = bias_rank if cfg.train == "no-bias" else 0
            moving = a.shape[1] - fixed
            a_move = torch.nn.Parameter(a[low:, :moving]) if cfg.train != "B" else a[low:, :moving]
            b_move = torch.nn.Parameter(b[low:, :, :moving])
            self.parts[target] = (a_move, b_move, a[low:, moving:], b[low:, :, moving:], a[:low], b[:low])

    @property
    def rank(self) -> int:
        am, _bm, af, _bf, _al, _bl = next(iter(self.parts.values()))
        return am.shape[1] + af.shape[1]

    def params(self) -> list[torch.nn.Parameter]:
        return [p for part in self.parts.values() for p in part[:2] if isinstance(p, torch.nn.Parameter)]

    def lora(self) -> LoraTensors:
        return LoraTensors({t: (torch.cat([a_low, torch.cat([am, af], dim=1)]),
                                torch.cat([b_low, torch.cat([bm, bf], dim=2)]))
                            for t, (am, bm, af, bf, a_low, b_low) in self.parts.items()})


@dataclass
class _Shortlist:
    """The LM head's rows each document is scored on: its own list, so a batch-mate's tokens never change its
    softmax, and no row pays for the union of the batch's lists (which grows with the batch)."""

    weight: list[torch.Tensor]  # per document: (S_d, H) the head's rows of its shortlisted ids, in the step's dtype
    where: list[torch.Tensor | None]  # per document: (V,) token id -> its row in weight[d]; None: the whole vocabulary


def _shortlist(model, prepared: list[Prepared], cfg: RefineConfig, dtype: torch.dtype | None,
               rivals: dict[int, set[int]] | None = None) -> _Shortlist:
    """Each document's list: every token a target names (its text, its items, the teacher's top-k), the
    `cfg.vocab_common` lowest ids, which a BPE vocabulary orders most frequent first, and its `rivals`
    (the student's own likeliest tokens): the competitors a target has to beat. -1 keeps the whole vocabulary."""
    weight = model.lm_head.weight.detach()
    if cfg.vocab_common < 0:
        whole = weight.to(dtype) if dtype is not None else weight
        return _Shortlist([whole] * len(prepared), [None] * len(prepared))
    common = set(range(min(cfg.vocab_common, weight.shape[0])))
    head = _Shortlist([], [])
    for d, prep in enumerate(prepared):
        ids = common | set(prep.text_ids) | (rivals or {}).get(d, set())
        for item in prep.items:
            ids.update(item.ids)
            if item.topk_ids is not None:
                ids.update(item.topk_ids.flatten().tolist())
        keep = torch.tensor(sorted(ids), device=weight.device)
        where = torch.full((weight.shape[0],), -1, dtype=torch.long, device=weight.device)
        where[keep] = torch.arange(len(keep), device=weight.device)
        head.weight.append(weight[keep].to(dtype) if dtype is not None else weight[keep])
        head.where.append(where)
    return head


def length_units(n_tokens: int, cfg: RefineConfig) -> int:
    """A document's length in units of `cfg.unit_tokens` (at least 1): its item and window budgets scale with it,
    so a long document's questions and windows reach its end rather than stopping in its first part."""
    return max(1, -(-n_tokens // cfg.unit_tokens))


def _length_factors(prep: Prepared, cfg: RefineConfig) -> tuple[int, int]:
    """(steps per step of `cfg.steps`, rows per step in units): the document's length in units goes to one of them."""
    return (prep.units, 1) if cfg.length_scales == "steps" else (1, prep.units)


def doc_steps(prep: Prepared, cfg: RefineConfig) -> int:
    """The steps a document takes: `cfg.steps`, times its length in units when length scales the steps."""
    return cfg.steps * _length_factors(prep, cfg)[0]


def _step_rows(prep: Prepared, step: int, cfg: RefineConfig) -> tuple[list[list[int]], list[Item]]:
    """The document's rows for one step: its windows of the text and its items, each taken in turn
    (`units` of each per step when length scales the rows, one unit's when it scales the steps)."""
    if step >= doc_steps(prep, cfg):
        return [], []
    per_unit = _length_factors(prep, cfg)[1]
    texts = []
    n = len(prep.text_ids)
    if cfg.text_weight > 0 and n > 1:
        # Every window is full length: the last one ends at the text's end rather than holding a stub
        # of a token or two with nothing to predict.
        n_windows = max(1, -(-n // cfg.text_tokens))
        for w in range(step * per_unit, (step + 1) * per_unit):
            start = max(0, min((w % n_windows) * cfg.text_tokens, n - cfg.text_tokens))
            texts.append(prep.text_ids[start:start + cfg.text_tokens])
    items = prep.items
    per_step = cfg.items_per_step * per_unit
    if len(items) > per_step:
        start = (step * per_step) % len(items)
        items = (items + items)[start:start + per_step]
    return texts, items


def refine(model, tok, loras: list[LoraTensors], prepared: list[Prepared], cfg: RefineConfig, *,
           bias_rank: int = 0, autocast: torch.dtype | None = None,
           snapshots: tuple[int, ...] = ()) -> tuple[list[LoraTensors], dict[int, tuple[list[LoraTensors], float]]]:
    """Refine several documents' adapters together for `cfg.steps` steps.

    Returns the refined adapters and, for each step count in `snapshots`, the adapters after that
    many steps with the seconds spent until then (for quality-against-cost curves).
    """
    device = next(model.parameters()).device
    bos = bos_ids(tok)
    docs = [_Trainable(l.to(device), cfg, bias_rank) for l in loras]
    full_lr = [doc_lr(cfg, d.rank) for d in docs]
    opt = torch.optim.AdamW([{"params": d.params(), "lr": lr} for d, lr in zip(docs, full_lr)],
                            lr=cfg.lr, betas=(cfg.adam_beta1, cfg.adam_beta2), weight_decay=0.0) if cfg.steps else None
    taken: dict[int, tuple[list[LoraTensors], float]] = {}
    t0 = time.perf_counter()
    if 0 in snapshots:
        taken[0] = ([_detached(d.lora()) for d in docs], 0.0)
    # The student's LM head rows in the autocast dtype: its gradient needs no float32 logits.
    head = None
    if cfg.steps:
        rivals = _rivals(model, tok, docs, prepared, cfg, bos, device, autocast) if cfg.vocab_common >= 0 else {}
        head = _shortlist(model, prepared, cfg, autocast, rivals)
    # A document's snapshot at K is taken after its own K steps, or K per unit when length scales the steps;
    # a batch's time for K is the time when its last document got there.
    per_k = [_length_factors(p, cfg)[0] for p in prepared]
    pending: dict[int, list] = {k: [None] * len(docs) for k in snapshots if k}
    for step in range(max(doc_steps(p, cfg) for p in prepared) if cfg.steps else 0):
        opt.zero_grad(set_to_none=True)  # a document past its steps gets no gradient, and AdamW skips it
        for group, lr in zip(opt.param_groups, full_lr):
            group["lr"] = lr * min(1.0, (step + 1) / (cfg.warmup + 1))
        _step(model, tok, docs, prepared, step, cfg, bos, device, autocast, head)
        opt.step()
        for k, got in pending.items():
            for i, d in enumerate(docs):
                if step + 1 == k * per_k[i]:
                    got[i] = _detached(d.lora())
            if k not in taken and all(x is not None for x in got):
                taken[k] = (got, time.perf_counter() - t0)
    return [_detached(d.lora()) for d in docs], taken


def doc_lr(cfg: RefineConfig, rank: int) -> float:
    """A document's learning rate: `cfg.lr`, scaled down by its adapter's rank beyond `cfg.lr_rank`."""
    return cfg.lr * min(1.0, cfg.lr_rank / rank) if cfg.lr_rank else cfg.lr


def _detached(lora: LoraTensors) -> LoraTensors:
    return LoraTensors({t: (a.detach().cpu(), b.detach().cpu()) for t, (a, b) in lora.factors.items()})


def _step(model, tok, docs: list[_Trainable], prepared: list[Prepared], step: int, cfg: RefineConfig,
          bos: list[int], device, autocast, head: _Shortlist) -> float:
    """One step's gradients: every document's rows, grouped by length into forwards of at most
    `MAX_BATCH_TOKENS` padded tokens (a short question row padded to a text window's length would pay
    for the padding many times over).
    The loss is the sum over documents of each one's weighted per-token means."""
    rows = _rows(prepared, step, cfg, bos)
    counts: dict[tuple[int, str], int] = {}
    for _ids, pos, kind, d, _x in rows:
        counts[(d, kind)] = counts.get((d, kind), 0) + len(pos)
    total = 0.0
    for bucket in _buckets(sorted(rows, key=lambda r: len(r[0]))):
        # Rebuilt per bucket (each backward frees its graph), for the bucket's own documents only: a document
        # past its steps, or with no row here, costs nothing.
        present = {r[3] for r in bucket}
        rank = max(docs[d].rank for d in present)
        loras = {d: pad_rank(docs[d].lora(), rank) for d in present}
        ids, mask = pad_rows([r[0] for r in bucket], tok)
        with applied(model, [loras[r[3]] for r in bucket], frozen_below=docs[0].frozen), \
                under_autocast(device.type, autocast):
            hidden = final_hidden(model, ids.to(device), mask.to(device))  # (rows, S, H)
        loss = hidden.new_zeros((), dtype=torch.float32)
        for d in sorted({r[3] for r in bucket}):  # each document's positions against its own shortlist
            mine = [(i, r) for i, r in enumerate(bucket) if r[3] == d]
            r_idx = torch.tensor([i for i, r in mine for _ in r[1]], device=device)
            p_idx = torch.tensor([p for _, r in mine for p in r[1]], device=device)
            logp = torch.log_softmax(lm_logits(model, hidden[r_idx, p_idx], head.weight[d]), dim=-1)
            loss = loss + _bucket_loss(logp, [r for _, r in mine], counts, cfg, head.where[d])
        loss.backward()
        total += loss.item()
    return total


def _rows(prepared: list[Prepared], step: int, cfg: RefineConfig, bos: list[int]) -> list[tuple]:
    """A step's rows over all documents: (ids, positions predicting targets, kind, doc, targets or item)."""
    rows = []
    for d, prep in enumerate(prepared):
        texts, items = _step_rows(prep, step, cfg)
        for text in texts:
            every = max(1, -(-(len(text) - 1) // cfg.text_positions))
            pos = list(range(len(bos) + step % every, len(bos) + len(text) - 1, every))
            rows.append((bos + text, pos, "text", d, [text[p - len(bos) + 1] for p in pos]))
        for item in items:
            rows.append((item.ids, list(range(item.first - 1, len(item.ids) - 1)), "item", d, item))
    return rows


@torch.no_grad()
def _rivals(model, tok, docs: list[_Trainable], prepared: list[Prepared], cfg: RefineConfig, bos: list[int],
            device, autocast) -> dict[int, set[int]]:
    """Each document's student's `cfg.rivals` likeliest tokens at every position the steps will score, under its
    starting adapter, read once over the whole vocabulary: the wrong answers it would give, which its shortlist
    must hold for the loss to push them down."""
    if cfg.rivals == 0:
        return {}
    scored: dict[tuple[int, tuple[int, ...]], set[int]] = {}  # (doc, row ids) -> positions, each row read once
    for step in range(max(doc_steps(p, cfg) for p in prepared)):
        for ids, pos, _kind, d, _x in _rows(prepared, step, cfg, bos):
            scored.setdefault((d, tuple(ids)), set()).update(pos)
    rows = [(list(ids), sorted(pos), d) for (d, ids), pos in scored.items()]
    weight = model.lm_head.weight.detach()
    weight = weight.to(autocast) if autocast is not None else weight
    loras = [d.lora() for d in docs]
    rank = max(l.rank for l in loras)
    loras = [pad_rank(l, rank) for l in loras]
    found: dict[int, set[int]] = {d: set() for d in range(len(prepared))}
    for bucket in _buckets(sorted(rows, key=lambda r: len(r[0]))):
        ids, mask = pad_rows([r[0] for r in bucket], tok)
        with applied(model, [loras[r[2]] for r in bucket]), under_autocast(device.type, autocast):
            hidden = final_hidden(model, ids.to(device), mask.to(device))
        r_idx = torch.tensor([i for i, r in enumerate(bucket) for _ in r[1]], device=device)
        p_idx = torch.tensor([p for r in bucket for p in r[1]], device=device)
        d_of = [r[2] for r in bucket for _ in r[1]]
        at = hidden[r_idx, p_idx].to(weight.dtype)
        for i in range(0, len(at), 256):  # a (256, 262k) block of logits at a time
            top = (at[i:i + 256] @ weight.T).topk(cfg.rivals, dim=-1).indices.tolist()
            for d, ids in zip(d_of[i:i + 256], top):
                found[d].update(ids)
    return found


def _bucket_loss(logp: torch.Tensor, bucket: list, counts: dict, cfg: RefineConfig,
                 where: torch.Tensor | None = None) -> torch.Tensor:
    """Every row's weighted loss from two gathers over the bucket's log-probabilities (a slice per row
    would cost a vocabulary-wide zero fill per row in the backward pass). Each row's summed loss is
    divided by its document's count of positions of that kind: next-token CE on text, gold CE on a
    blank, cross-entropy to the teacher's top-k on a question. `where` maps token ids to logp's columns."""
    gold_pos, gold_ids, gold_w = [], [], []
    topk_pos, topk_ids, topk_p, topk_w = [], [], [], []
    k = 0
    for _ids, pos, kind, d, x in bucket:
        at = list(range(k, k + len(pos)))
        k += len(pos)
        if kind == "text" or x.gold:
            weight = cfg.text_weight if kind == "text" else cfg.blank_weight
            gold_pos += at
            gold_ids += x if kind == "text" else x.ids[x.first:]
            gold_w += [weight / counts[(d, kind)]] * len(pos)
        else:
            topk_pos += at
            topk_ids.append(x.topk_ids)
            topk_p.append(torch.softmax(x.topk_logp.float(), dim=-1))
            topk_w += [cfg.question_weight / counts[(d, kind)]] * len(pos)
    device = logp.device
    column = (lambda ids: ids) if where is None else (lambda ids: where[ids])
    loss = logp.new_zeros(())
    if gold_pos:
        picked = logp[torch.tensor(gold_pos, device=device), column(torch.tensor(gold_ids, device=device))]
        loss = loss - (torch.tensor(gold_w, device=device) * picked).sum()
    if topk_pos:
        ids = column(torch.cat(topk_ids).to(device))  # (P_q, K)
        picked = logp[torch.tensor(topk_pos, device=device)[:, None], ids]
        weighted = torch.tensor(topk_w, device=device)[:, None] * torch.cat(topk_p).to(device)
        loss = loss - (weighted * picked).sum()
    return loss


MAX_BATCH_TOKENS = 2048


def _buckets(rows: list) -> list[list]:
    """Consecutive rows (sorted by length) packed so that rows x longest stays under the budget."""
    out, cur = [], []
    for r in rows:
        if cur and len(r[0]) * (len(cur) + 1) > MAX_BATCH_TOKENS:
            out.append(cur)
            cur = []
        cur.append(r)
    return out + [cur] if cur else out


def fresh_lora(n_layers: int, targets: dict[str, tuple[int, int]], rank: int, seed: int = 0) -> LoraTensors:
    """A LoRA that changes nothing yet (B = 0), A drawn as the gradient baseline starts it."""
    gen = torch.Generator().manual_seed(seed)
    return LoraTensors({t: (torch.randn(n_layers, rank, d_in, generator=gen) / d_in**0.5,
                            torch.zeros(n_layers, d_out, rank)) for t, (d_in, d_out) in targets.items()})


def refine_texts(model, tok, texts: list[str], loras: list[LoraTensors], cfg: RefineConfig, *, bias_rank: int = 0,
                 autocast: torch.dtype | None = None) -> list[LoraTensors]:
    """Documents and their generated adapters -> refined adapters (the teacher pass, then `cfg.steps` steps)."""
    if not cfg.steps:
        return loras
    prepared = prepare(model, tok, texts, cfg, autocast=autocast)
    return refine(model, tok, loras, prepared, cfg, bias_rank=bias_rank, autocast=autocast)[0]
