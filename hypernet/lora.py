"""LoRA tensors: combining chunks, padding to a serving rank, and applying generated LoRAs to a live model.

An adapter here is a dict `target name -> (A [L, r, d_in], B [L, d_out, r])`: one LoRA per
decoder layer for each target module. The update is `W + B @ A` (scaling folded into B); the PEFT
file format lives in hypernet/peft_format.py.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Iterator

import torch

from hypernet.config import SERVING_RANKS


@dataclass
class LoraTensors:
    """Per-layer LoRA factors for each target module of one adapter."""

    factors: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        a, _ = next(iter(self.factors.values()))
        return a.shape[1]

    @property
    def n_layers(self) -> int:
        a, _ = next(iter(self.factors.values()))
        return a.shape[0]

    def to(self, *args, **kwargs) -> "LoraTensors":
        return LoraTensors({k: (a.to(*args, **kwargs), b.to(*args, **kwargs)) for k, (a, b) in self.factors.items()})

    def delta(self, target: str, layer: int) -> torch.Tensor:
        """Dense weight update B @ A for one layer (for checks, not the hot path)."""
        a, b = self.factors[target]
        return b[layer].float() @ a[layer].float()  # (d_out, d_in)

    def is_finite(self) -> bool:
        # max and min are finite exactly when every entry is (NaN propagates through both); two
        # reductions are cheaper than isfinite().all(), which builds a mask as big as the adapter.
        return all(bool(torch.isfinite(torch.stack([x.amax(), x.amin()])).all())
                   for a, b in self.factors.values() for x in (a, b))


def combine_scale(rule: str, n: int) -> float:
    """The factor on each of n LoRAs' B when they are put side by side: "sum" 1, "mean" 1/n, "sqrt" 1/sqrt(n)."""
    return {"sum": 1.0, "mean": 1.0 / n, "sqrt": 1.0 / math.sqrt(n)}[rule]


def combine_chunks(chunk_loras: list[LoraTensors], bias: LoraTensors | None, rule: str) -> LoraTensors:
    """Concatenate per-chunk LoRAs (and the bias LoRA) along the rank axis.

    `rule` scales each chunk's B so that the summed update does not grow with the number of
    chunks: "sum" (no scaling), "mean" (1/n), "sqrt" (1/sqrt(n)).
    """
    assert chunk_loras, "combine_chunks needs at least one chunk"
    scale = combine_scale(rule, len(chunk_loras))
    return concat_ranks([(c, scale) for c in chunk_loras] + ([(bias, 1.0)] if bias is not None else []))


def concat_ranks(parts: list[tuple[LoraTensors, float]]) -> LoraTensors:
    """LoRAs side by side along the rank axis, each B times its factor: the update is the scaled sum of
    theirs. A target module that only some of them patch gets only theirs."""
    assert parts, "concat_ranks needs at least one LoRA"
    layers = {lora.n_layers for lora, _ in parts}
    if len(layers) != 1:
        raise ValueError(f"LoRAs for different layer counts {sorted(layers)} cannot be combined")
    targets = list(dict.fromkeys(t for lora, _ in parts for t in lora.factors))
    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for target in targets:
        present = [(lora.factors[target], scale) for lora, scale in parts if target in lora.factors]
        a = torch.cat([a for (a, _), _ in present], dim=1)  # (L, R, d_in)
        b = torch.cat([b * scale for (_, b), scale in present], dim=2)  # (L, d_out, R)
        out[target] = (a, b)
    return LoraTensors(out)


def compose(doc: LoraTensors, task: LoraTensors, *, doc_scale: float, task_scale: float) -> LoraTensors:
    """A document's adapter and a task's adapter as one (ranks concatenated), each part's B scaled:
    the model then knows the document and follows the task in one forward pass. The task's B is first
    projected off the directions the document's B writes to: where both write along the same directions
    of a layer's output, their sum garbles both the answers and the form (docs/benchmarks.md)."""
    return concat_ranks([(doc, doc_scale), (project_off(task, doc), task_scale)])


def project_off(lora: LoraTensors, other: LoraTensors) -> LoraTensors:
    """`lora` with each layer's B columns projected onto the orthogonal complement of the span of
    `other`'s B columns (per target both patch): its update then writes nothing along `other`'s output
    directions. Zero columns of `other` (padding) span nothing."""
    out = {}
    for target, (a, b) in lora.factors.items():
        if target not in other.factors:
            out[target] = (a, b)
            continue
        u, s, _ = torch.linalg.svd(other.factors[target][1].float(), full_matrices=False)  # (L, d_out, r)
        spans = s > s.amax(dim=-1, keepdim=True).clamp_min(1e-30) * 1e-6  # (L, r): directions really there
        u = u * spans.unsqueeze(1)
        bf = b.float()
        out[target] = (a, (bf - u @ (u.transpose(1, 2) @ bf)).to(b.dtype))
    return LoraTensors(out)


def serving_rank(rank: int) -> int:
    """Smallest rank that vLLM / LoRAX accept and that holds `rank`."""
    for r in SERVING_RANKS:
        if r >= rank:
            return r
    raise ValueError(f"rank {rank} exceeds the largest serving rank {SERVING_RANKS[-1]}; lower max_chunks")


def pad_rank(lora: LoraTensors, rank: int) -> LoraTensors:
    """Zero-pad the rank axis: zero rows of A and zero columns of B change nothing."""
    if lora.rank == rank:
        return lora
    out = {}
    for target, (a, b) in lora.factors.items():
        extra = rank - a.shape[1]
        assert extra >= 0, f"cannot pad rank {a.shape[1]} down to {rank}"
        a = torch.cat([a, a.new_zeros(a.shape[0], extra, a.shape[2])], dim=1)
        b = torch.cat([b, b.new_zeros(b.shape[0], b.shape[1], extra)], dim=2)
        out[target] = (a, b)
    return LoraTensors(out)


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The decoder layer list of a Hugging Face causal LM (or a PEFT wrapper of one)."""
    inner = model
    for attr in ("base_model", "model"):
        while hasattr(inner, attr) and not hasattr(inner, "layers"):
            inner = getattr(inner, attr)
    if hasattr(inner, "language_model") and not hasattr(inner, "layers"):
        inner = inner.language_model
    layers = getattr(inner, "layers", None)
    if layers is None:
        raise ValueError(f"cannot find decoder layers in {type(model).__name__}")
    return layers


@contextlib.contextmanager
def applied(model: torch.nn.Module, lora: LoraTensors | list[LoraTensors], frozen_below: int = 0) -> Iterator[None]:
    """Add generated LoRA updates to the target modules for the duration of the block.

    `lora` is one adapter (applied to every sequence in the batch) or a list with one adapter per
    sequence of the batch. Differentiable: gradients flow into the factors (meta-training), except
    into layers below `frozen_below`, whose factors are detached so the backward pass stops above them.
    """
    layers = decoder_layers(model)
    batched = isinstance(lora, list)
    handles = []
    first = lora[0] if batched else lora
    for target in first.factors:
        if batched:
            a_all = torch.stack([l.factors[target][0] for l in lora])  # (N, L, r, d_in)
            b_all = torch.stack([l.factors[target][1] for l in lora])  # (N, L, d_out, r)
        else:
            a_all, b_all = first.factors[target]
        # One unbind per factor: its backward stacks the layers' gradients once, where a select per
        # layer would fill a zero tensor the size of all layers for each of them.
        a_layers = a_all.unbind(1 if batched else 0)
        b_layers = b_all.unbind(1 if batched else 0)
        for i, (layer, a, b) in enumerate(zip(layers, a_layers, b_layers)):
            if i < frozen_below:
                a, b = a.detach(), b.detach()
            module = layer.get_submodule(target)
            handles.append(module.register_forward_hook(_lora_hook(a, b, batched)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _lora_hook(a: torch.Tensor, b: torch.Tensor, batched: bool):
    def hook(_module, inputs, output):
        x = inputs[0]
        a_ = a.to(x.dtype)
        b_ = b.to(x.dtype)
        if batched:
            h = torch.einsum("ntd,nrd->ntr", x, a_)  # (N, T, r)
            delta = torch.einsum("ntr,nor->nto", h, b_)  # (N, T, d_out)
        else:
            delta = (x @ a_.T) @ b_.T
        return output + delta

    return hook

