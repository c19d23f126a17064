"""Dense targets: train the hypernetwork to reproduce a reference adapter's effect on its document.

A refined adapter (hypernet.refine) answers far better than the one-pass adapter it started from.
Its effect on the target module (`mlp.down_proj`) of layer l is `dW_ref x = B_ref (A_ref x)`; the
generated adapter's is `B_gen (A_gen x)`. Over the document's own target inputs X (the
down_proj inputs at its positions), the loss is

    sum_l ||B_gen (A_gen X_l) - B_ref (A_ref X_l)||^2  /  (sum_l ||B_ref (A_ref X_l)||^2 + eps)

plus the small L1 on the generated factors of `distill.student_loss`. Dense `dW` is never formed,
and only the factors' products act: A and B are not unique (A' = M A, B' = B M^-1 is the same
adapter), their effect is. Dividing by the reference's own energy makes every document weigh alike.

Everything a step needs is cached once per document, in bfloat16 (`DenseExample`): the hypernetwork's
inputs (layer inputs over the chunks, as `distill.Example.chunk_acts`) and, per target, the target's
inputs with the reference's effect on them, from one pass of the base model. A step on a batch of
documents is then the hypernetwork and a few small matrix products: no base-model pass.

Long documents are compressed without changing the loss much: the loss depends on X only through
X^T X, so X (T, d_in) may be replaced by the rows of S V^T (its singular values times right singular
vectors), which have the same X^T X; the top `positions` of them keep the most energy (on real
prose, 128 rows keep 0.93-1.0 of it for documents of 100-400 tokens).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from hypernet.activations import cpu_has_native_bf16, under_autocast
from hypernet.chunking import chunk_ids
from hypernet.config import HypernetConfig
from hypernet.generate import encode_batch
from hypernet.lora import LoraTensors, combine_scale, decoder_layers, pad_rank
from hypernet.model import HyperNetwork

# Half the bytes of float32 with its range: Gemma's residual stream exceeds float16's 65504 on real prose.
CACHE_DTYPE = torch.bfloat16


@dataclass
class DenseExample:
    """One document's dense target; all CPU tensors in CACHE_DTYPE, cacheable (hypernet.examples_io)."""

    chunk_acts: list[torch.Tensor]  # per chunk (L, T_c, H): the hypernetwork's inputs, BOS dropped
    inputs: list[torch.Tensor]  # per target of HypernetConfig.targets (L, P, d_in): its inputs (or sketch rows)
    ref_out: list[torch.Tensor]  # per target (L, P, d_out): the reference adapter's effect on them

    def to(self, device) -> "DenseExample":
        """The example with every tensor on `device` (dtypes kept: CACHE_DTYPE until the loss reads it)."""
        return DenseExample(*([t.to(device) for t in getattr(self, f)] for f in ("chunk_acts", "inputs", "ref_out")))


def effect(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """B (A x) for every layer and row: A (L, r, d_in), B (L, d_out, r), x (L, P, d_in) -> (L, P, d_out)."""
    h = torch.einsum("lpd,lrd->lpr", x, a)  # (L, P, r)
    return torch.einsum("lpr,lor->lpo", h, b)  # (L, P, d_out)


def sketch(x: torch.Tensor, rows: int) -> torch.Tensor:
    """(L, T, d) -> (L, min(rows, T, d), d): the top rows of S V^T per layer, whose Gram matrix is the
    best rank-`rows` approximation of x^T x (exact when rows >= min(T, d)); rows 0: x itself."""
    if rows <= 0:
        return x
    _u, s, vh = torch.linalg.svd(x.float(), full_matrices=False)  # s (L, K), vh (L, K, d)
    k = min(rows, s.shape[1])
    return s[:, :k, None] * vh[:, :k]


def _stacked(tensors: list[torch.Tensor], device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(L, P_i, d) each -> (N, L, P, d) in `dtype`, zero rows padding P (a zero row adds nothing to the loss)."""
    width = max(t.shape[1] for t in tensors)
    out = torch.empty(len(tensors), tensors[0].shape[0], width, tensors[0].shape[2], device=device, dtype=dtype)
    for i, t in enumerate(tensors):
        out[i, :, : t.shape[1]] = t
        out[i, :, t.shape[1]:] = 0
    return out


def _squared_errors(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor, ref: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per document n: ||B_n (A_n x_n) - ref_n||^2 and ||ref_n||^2 over layers and rows.
    a (N, L, R, d_in), b (N, L, d_out, R), x (N, L, P, d_in), ref (N, L, P, d_out)."""
    gen = (x @ a.transpose(-1, -2)) @ b.transpose(-1, -2)  # (N, L, P, R) -> (N, L, P, d_out)
    return (gen - ref).pow(2).sum(dim=(1, 2, 3)), ref.pow(2).sum(dim=(1, 2, 3))


def _side_by_side(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor, doc_of: list[int], n_docs: int,
                  bias: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Each document's adapter from the batched chunk factors, as generation combines them
    (hypernet.lora.combine_chunks: its chunks' LoRAs side by side, chunk c's B times `scale[c]`, then the
    bias LoRA), in one scatter: slicing per document would cost a full-size gradient per slice.
    a (C, L, R, d_in), b (C, L, d_out, R) -> A (N, L, S*R + R_bias, d_in), B (N, L, d_out, S*R + R_bias)
    with S the most chunks of a document (the slots a document lacks stay zero: they change nothing)."""
    n_chunks, n_layers, rank, d_in = a.shape
    slot = [doc_of[:c].count(doc_of[c]) for c in range(n_chunks)]
    slots = max(slot) + 1
    rows = torch.tensor([d for d in doc_of], device=a.device)
    cols = torch.tensor(slot, device=a.device)
    a_docs = a.new_zeros(n_docs, slots, n_layers, rank, d_in)
    a_docs[rows, cols] = a
    b_docs = b.new_zeros(n_docs, slots, n_layers, b.shape[2], rank)
    b_docs[rows, cols] = b * scale[:, None, None, None]
    a_docs = a_docs.permute(0, 2, 1, 3, 4).reshape(n_docs, n_layers, slots * rank, d_in)
    b_docs = b_docs.permute(0, 2, 3, 1, 4).reshape(n_docs, n_layers, b.shape[2], slots * rank)
    if bias is not None:
        a_docs = torch.cat([a_docs, bias[0].expand(n_docs, -1, -1, -1)], dim=2)
        b_docs = torch.cat([b_docs, bias[1].expand(n_docs, -1, -1, -1)], dim=3)
    return a_docs, b_docs


def relative_error(gen: list[LoraTensors], examples: list[DenseExample], targets: list[str], eps: float = 1e-6
                   ) -> torch.Tensor:
    """(N,) per document: the squared error of its adapter's effect against the reference's, summed over
    targets, layers and rows, over the reference's own energy (+ eps)."""
    device = next(iter(gen[0].factors.values()))[0].device
    rank = max(g.rank for g in gen)
    padded = [pad_rank(g, rank) for g in gen]
    num, den = 0.0, 0.0
    for t, name in enumerate(targets):
        a = torch.stack([g.factors[name][0] for g in padded])
        b = torch.stack([g.factors[name][1] for g in padded])
        x = _stacked([e.inputs[t] for e in examples], device)
        ref = _stacked([e.ref_out[t] for e in examples], device)
        err, energy = _squared_errors(a, b, x, ref)
        num, den = num + err, den + energy
    return num / (den + eps)


def step_autocast(device: torch.device) -> torch.dtype | None:
    """The autocast of a dense step: bfloat16 on a CPU that multiplies it natively (cheaper there, and
    its rounding floor on the loss sits far below what training reaches), else none (float32; on
    GPUs the step is cheap already)."""
    return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else None


def dense_loss(hypernet: HyperNetwork, ex: DenseExample | list[DenseExample], *, l1_weight: float = 1e-4,
               eps: float = 1e-6, autocast: torch.dtype | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The mean over documents of the relative error of the generated adapter against the reference
    (`relative_error`, computed on the hypernetwork's batched output), plus `l1_weight` x the L1 on the
    generated chunk factors, per document (as in distill.student_loss); under `autocast` when given."""
    examples = ex if isinstance(ex, list) else [ex]
    device = next(hypernet.parameters()).device
    with under_autocast(device.type, autocast):
        return _dense_loss(hypernet, examples, device, l1_weight, eps, autocast or torch.float32)


def _dense_loss(hypernet, examples: list[DenseExample], device, l1_weight: float, eps: float,
                input_dtype: torch.dtype) -> tuple[torch.Tensor, dict[str, float]]:
    cfg = hypernet.cfg
    flat = [a for e in examples for a in e.chunk_acts]
    width = max(a.shape[1] for a in flat)
    acts = _stacked(flat, device)  # (C, L, T, H)
    mask = torch.zeros(len(flat), width, dtype=torch.long, device=device)
    for i, a in enumerate(flat):
        mask[i, : a.shape[1]] = 1
    factors, ranks = hypernet(acts, mask, batched=True)  # A (C, L, R, d_in), B (C, L, d_out, R)
    n_chunks = [len(e.chunk_acts) for e in examples]
    doc_of = [d for d, n in enumerate(n_chunks) for _ in range(n)]
    scale = torch.tensor([combine_scale(cfg.chunk_combine, n) for n in n_chunks for _ in range(n)], device=device)
    bias = hypernet.bias_lora()
    rank_of = torch.tensor(ranks, device=device, dtype=torch.float32)
    num, den, l1 = 0.0, 0.0, 0.0
    for t, target in enumerate(cfg.targets):
        a, b = factors.factors[target.name]
        a_docs, b_docs = _side_by_side(a, b, scale, doc_of, len(examples),
                                       None if bias is None else bias.factors[target.name])
        # The largest tensor of the step, stacked straight into the autocast's dtype that its product runs in.
        x = _stacked([e.inputs[t] for e in examples], device, input_dtype)
        ref = _stacked([e.ref_out[t] for e in examples], device)
        err, energy = _squared_errors(a_docs, b_docs, x, ref)
        num, den = num + err, den + energy
        # Each chunk's mean |A| and |B| over its own rank rows (the rest is zero padding).
        l1 = l1 + ((a.abs().sum(dim=(1, 2, 3)) / (cfg.n_layers * rank_of * target.d_in)).sum()
                   + (b.abs().sum(dim=(1, 2, 3)) / (cfg.n_layers * rank_of * target.d_out)).sum())
    dense = (num / (den + eps)).mean()
    loss = dense + l1_weight * l1 / len(examples)
    return loss, {"loss": loss.item(), "dense": dense.item()}


# -- caching: one base-model pass per batch of chunks ----------------------------------------------------
class _Stop(Exception):
    pass


@contextlib.contextmanager
def _captured(model, targets: list[str]):
    """Layer inputs and each target's inputs of every layer during the block, as lists filled layer by
    layer; the forward stops (raising _Stop) once the last layer's targets have their inputs."""
    layers = decoder_layers(model)
    layer_in: list[torch.Tensor] = []
    target_in: dict[str, list[torch.Tensor]] = {t: [] for t in targets}

    def grab_layer(_module, args, kwargs):
        layer_in.append(args[0] if args else kwargs["hidden_states"])

    def grab_target(name):
        def hook(_module, args):
            target_in[name].append(args[0].to(CACHE_DTYPE))
            if all(len(v) == len(layers) for v in target_in.values()):
                raise _Stop
        return hook

    handles = [layer.register_forward_pre_hook(grab_layer, with_kwargs=True) for layer in layers]
    handles += [layer.get_submodule(t).register_forward_pre_hook(grab_target(t)) for layer in layers for t in targets]
    try:
        yield layer_in, target_in
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()  # not inference_mode: the cached tensors are read again under autograd
def read_chunks(model, tok, chunks: list[list[int]], targets: list[str], *, rows: int = 0,
                autocast: torch.dtype | None = None, max_batch_tokens: int = 4096
                ) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
    """Per chunk: its layer inputs (L, T, H) and each target's inputs (L, T, d_in) sketched to `rows` rows
    (see `sketch`; 0: every position), in CACHE_DTYPE, BOS dropped, read the way adapters are generated
    (hypernet.generate: BOS + chunk, the same autocast)."""
    device = next(model.parameters()).device
    order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]))
    out: list = [None] * len(chunks)
    batches, cur = [], []
    for i in order:
        if cur and (len(chunks[i]) + 1) * (len(cur) + 1) > max_batch_tokens:
            batches.append(cur)
            cur = []
        cur.append(i)
    batches += [cur] if cur else []
    inner = getattr(model, "model", model)
    first = 1 if tok.bos_token_id is not None else 0
    for idx in batches:
        ids, mask, _ = encode_batch([chunks[i] for i in idx], tok, device)
        with _captured(model, targets) as (layer_in, target_in), under_autocast(device.type, autocast):
            try:
                inner(input_ids=ids, attention_mask=mask, use_cache=False)
            except _Stop:
                pass
        acts = torch.stack(layer_in, dim=1)  # (N, L, T, H)
        xs = {t: torch.stack(v, dim=1) for t, v in target_in.items()}  # (N, L, T, d_in)
        for j, i in enumerate(idx):
            span = slice(first, first + len(chunks[i]))
            out[i] = (acts[j, :, span].to("cpu", CACHE_DTYPE),
                      [sketch(xs[t][j, :, span].float(), rows).to("cpu", CACHE_DTYPE) for t in targets])
    return out


@torch.no_grad()
def dense_examples(model, tok, docs: list[tuple[str, LoraTensors]], cfg: HypernetConfig, *, positions: int = 128,
                   autocast: torch.dtype | None = None, max_batch_tokens: int = 4096) -> list[DenseExample]:
    """The dense targets of documents `(text, reference adapter)`, chunked as `cfg` chunks them: one
    base-model pass per batch of chunks, then each target's inputs sketched to `positions` rows
    (see `sketch`; 0 keeps every position: each chunk's first, then the document's) and the
    reference's effect on them."""
    targets = [t.name for t in cfg.targets]
    plans = []
    for text, ref in docs:
        ids = tok(text, add_special_tokens=False).input_ids
        if not ids:
            raise ValueError("document has no tokens")
        missing = set(targets) - set(ref.factors)
        if missing:
            raise ValueError(f"the reference adapter has no factors for {sorted(missing)}")
        if ref.n_layers != cfg.n_layers:
            raise ValueError(f"the reference adapter has {ref.n_layers} layers, the hypernetwork {cfg.n_layers}")
        plans.append(chunk_ids(ids, cfg.chunk_len, cfg.max_chunks))
    read = read_chunks(model, tok, [c for chunks in plans for c in chunks], targets, rows=positions,
                       autocast=autocast, max_batch_tokens=max_batch_tokens)
    out, k = [], 0
    for (_text, ref), chunks in zip(docs, plans):
        mine = read[k:k + len(chunks)]
        k += len(chunks)
        inputs, ref_out = [], []
        for t, name in enumerate(targets):
            parts = torch.cat([m[1][t].float() for m in mine], dim=1)  # (L, sum of rows, d_in)
            x = (parts if len(mine) == 1 else sketch(parts, positions)).to(CACHE_DTYPE)  # (L, P, d_in)
            a, b = ref.factors[name]
            inputs.append(x)
            ref_out.append(effect(a.float(), b.float(), x.float()).to(CACHE_DTYPE))  # of the inputs as cached
        out.append(DenseExample([m[0] for m in mine], inputs, ref_out))
    return out
