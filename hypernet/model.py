"""The hypernetwork: base-model activations over a chunk in, one LoRA per layer out.

Reads top to bottom: attention blocks, the Perceiver aggregator, the per-layer heads, then
`HyperNetwork`, which ties them together. Shapes: C chunks, L layers, T tokens, H base hidden
size, D latent width, M latents, R rank rows.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from hypernet.chunking import chunk_spans
from hypernet.config import CONFIG_FILE, WEIGHTS_FILE, HypernetConfig, checkpoint_meta, default_checkpoint  # noqa: F401 - re-exported
from hypernet.lora import LoraTensors, combine_scale


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d), masked) v. On CPU written out: for these few queries over a few hundred
    tokens the fused kernel's backward took 0.84 s of a 1.95 s dense training step, and the step took
    1.14 s written out (docs/benchmarks.md); elsewhere the fused kernel."""
    if q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(-1) @ v


class CrossAttentionBlock(nn.Module):
    """Queries attend to a (masked) context, then a small MLP; pre-norm residual."""

    def __init__(self, dim: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, queries: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        n, q_len, dim = queries.shape
        heads = self.n_heads
        q = self.q(self.norm_q(queries)).view(n, q_len, heads, -1).transpose(1, 2)  # (N, h, Q, d)
        k, v = self.kv(self.norm_kv(context)).chunk(2, dim=-1)
        k = k.view(n, -1, heads, dim // heads).transpose(1, 2)  # (N, h, T, d)
        v = v.view(n, -1, heads, dim // heads).transpose(1, 2)
        attn_mask = None if mask is None else mask[:, None, None, :].bool()  # (N, 1, 1, T)
        x = _attention(q, k, v, attn_mask)
        queries = queries + self.out(x.transpose(1, 2).reshape(n, q_len, dim))
        return queries + self.mlp(self.norm_mlp(queries))


class SelfAttentionBlock(CrossAttentionBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x)


class PerceiverAggregator(nn.Module):
    """Learned latents read the tokens of one layer; rank-row queries then read the latents.

    Shared across layers: the layer axis is folded into the batch and a layer embedding tells
    the blocks which layer they read.
    """

    def __init__(self, cfg: HypernetConfig):
        super().__init__()
        d = cfg.latent_dim
        self.token_proj = nn.Linear(cfg.hidden_size, d)
        self.layer_emb = nn.Parameter(torch.randn(cfg.n_layers, d) * 0.02)
        self.latents = nn.Parameter(torch.randn(cfg.n_latents, d) * 0.02)
        self.read = CrossAttentionBlock(d, cfg.n_heads)
        self.think = nn.ModuleList(SelfAttentionBlock(d, cfg.n_heads) for _ in range(cfg.n_self_blocks))
        self.rank_queries = nn.Parameter(torch.randn(cfg.rank, d) * 0.02)
        self.write = CrossAttentionBlock(d, cfg.n_heads)

    def forward(self, acts: torch.Tensor, mask: torch.Tensor, first: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """acts of the layers from `first` on -> rank rows (C, L, R, D), projected tokens (C, L, T, D),
        normalised tokens (C, L, T, H)."""
        c, n_layers, t, h = acts.shape
        layer_emb = self.layer_emb[first:first + n_layers]
        # Residual streams grow in norm with depth; normalise each token so layers look alike.
        normed = F.layer_norm(acts.float(), (h,))
        tokens = self.token_proj(normed) + layer_emb[None, :, None, :]  # (C, L, T, D)
        x = tokens.reshape(c * n_layers, t, -1)  # (C*L, T, D)
        m = mask[:, None, :].expand(c, n_layers, t).reshape(c * n_layers, t)  # (C*L, T)
        layer_bias = layer_emb.repeat(c, 1)[:, None, :]  # (C*L, 1, D)
        lat = self.latents[None].expand(c * n_layers, -1, -1) + layer_bias  # (C*L, M, D)
        lat = self.read(lat, x, m)
        for block in self.think:
            lat = block(lat)
        rows = self.rank_queries[None].expand(c * n_layers, -1, -1) + layer_bias  # (C*L, R, D)
        rows = self.write(rows, lat)  # (C*L, R, D)
        return rows.view(c, n_layers, rows.shape[1], -1), tokens, normed  # (C, L, R, D)


class LoraHead(nn.Module):
    """Per-layer linear map from a rank-row vector to one row of A and one column of B."""

    def __init__(self, cfg: HypernetConfig, d_in: int, d_out: int):
        super().__init__()
        self.d_in, self.d_out = d_in, d_out
        self.down = nn.Linear(cfg.latent_dim, cfg.head_dim)
        self.weight = nn.Parameter(torch.randn(cfg.n_layers, cfg.head_dim, d_in + d_out) / cfg.head_dim**0.5)
        self.bias = nn.Parameter(torch.zeros(cfg.n_layers, d_in + d_out))
        # Learned per-layer scale on B, zero at init: the first adapters are a zero update.
        self.b_scale = nn.Parameter(torch.zeros(cfg.n_layers))

    def forward(self, rows: torch.Tensor, copied: tuple[torch.Tensor, torch.Tensor] | None = None, first: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rank rows of the layers from `first` on -> their A and B."""
        layers = slice(first, first + rows.shape[1])
        z = F.gelu(self.down(rows))  # (C, L, R, E)
        out = torch.einsum("clre,leo->clro", z, self.weight[layers]) + self.bias[None, layers, None, :]  # (C, L, R, d_in+d_out)
        a, b = out.split([self.d_in, self.d_out], dim=-1)
        if copied is not None:
            a, b = a + copied[0], b + copied[1]
        a = F.normalize(a, dim=-1)  # unit rows: the scale of the update lives in B
        b = b * self.b_scale[None, layers, None, None] / self.d_out**0.5
        return a, b.transpose(-1, -2)  # A (C, L, R, d_in), B (C, L, d_out, R)


class CopyHead(nn.Module):
    """Each rank row attends over the chunk's tokens and copies their residual vectors into A and B.

    A head of fixed width can only emit vectors from a fixed subspace, so it cannot name a token
    it has never seen; a copied residual vector can (the embeddings are tied to the LM head).
    """

    def __init__(self, cfg: HypernetConfig, d_in: int, d_out: int):
        super().__init__()
        d, h = cfg.latent_dim, cfg.hidden_size
        self.query = nn.Linear(d, d, bias=False)
        self.key = nn.Linear(d, d, bias=False)
        self.to_a = nn.Parameter(torch.randn(h, d_in) / h**0.5)
        self.to_b = nn.Parameter(torch.eye(h, d_out) if h == d_out else torch.randn(h, d_out) / h**0.5)
        self.gain_a = nn.Parameter(torch.ones(cfg.n_layers))
        self.gain_b = nn.Parameter(torch.ones(cfg.n_layers))
        self.next_token = cfg.copy_next
        if cfg.copy_next:
            # Induction memory: key on the token *before* the attended one, write the attended
            # token's embedding, so the adapter says "after what preceded it, comes this token".
            # Zero at init: a checkpoint without this path keeps its function when it is added.
            self.to_a_prev = nn.Parameter(torch.zeros(h, d_in))
            self.to_b_token = nn.Parameter(torch.zeros(h, d_out))

    def forward(self, rows: torch.Tensor, tokens: torch.Tensor, normed: torch.Tensor, mask: torch.Tensor,
                first: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Of the layers from `first` on: the copied parts of A (C, L, R, d_in) and B (C, L, R, d_out), and
        the log attention (C, L, R, T)."""
        layers = slice(first, first + rows.shape[1])
        scores = torch.einsum("clrd,cltd->clrt", self.query(rows), self.key(tokens)) / rows.shape[-1] ** 0.5
        scores = scores.masked_fill(~mask.bool()[:, None, None, :], float("-inf"))
        log_weights = scores.log_softmax(-1)  # kept for the retrieval loss, exact where weights underflow
        weights = log_weights.exp()
        picked = torch.einsum("clrt,clth->clrh", weights, normed)  # (C, L, R, H)
        a = (picked @ self.to_a) * self.gain_a[None, layers, None, None]
        b = (picked @ self.to_b) * self.gain_b[None, layers, None, None]
        if self.next_token:
            # The token before each position (zero before the first real token), at the same layer.
            prev_ok = F.pad(mask, (1, 0))[:, :-1].to(normed.dtype)  # (C, T)
            prev = F.pad(normed, (0, 0, 1, 0))[:, :, :-1] * prev_ok[:, None, :, None]  # (C, L, T, H)
            a = a + torch.einsum("clrt,clth->clrh", weights, prev) @ self.to_a_prev
            # Layer 0's input is the token embedding, which the (tied) LM head reads back as the token.
            b = b + torch.einsum("clrt,cth->clrh", weights, normed[:, 0]) @ self.to_b_token
        return a, b, log_weights

    def position_keys(self, normed: torch.Tensor, first_layer: int = 0) -> torch.Tensor:
        """What each position alone would put into a row of A (before the head's own part and the
        normalisation): the direction a query must match to read it. `normed`: (C, L, T, H) of the
        layers from `first_layer` on."""
        gain = self.gain_a[first_layer:first_layer + normed.shape[1]]
        keys = (normed @ self.to_a) * gain[None, :, None, None]
        if self.next_token:
            prev = F.pad(normed, (0, 0, 1, 0))[:, :, :-1]
            keys = keys + prev @ self.to_a_prev
        return keys  # (C, L, T, d_in)


@dataclass
class CopyTrace:
    """What the copy heads read in one forward: normalised tokens (C, L, T, H), the mask (C, T), and
    per target the rank rows' log attention over positions (C, L, R, T); with windows, R counts the
    rows of all windows and a row's attention is -inf outside its window."""

    normed: torch.Tensor
    mask: torch.Tensor
    attention: dict[str, torch.Tensor]


class BiasLora(nn.Module):
    """A context-independent LoRA appended to every adapter (zero update at init)."""

    def __init__(self, cfg: HypernetConfig, d_in: int, d_out: int):
        super().__init__()
        self.a = nn.Parameter(torch.randn(cfg.n_layers, cfg.bias_rank, d_in) / d_in**0.5)
        self.b = nn.Parameter(torch.zeros(cfg.n_layers, d_out, cfg.bias_rank))


class HyperNetwork(nn.Module):
    def __init__(self, cfg: HypernetConfig):
        super().__init__()
        self.cfg = cfg
        self.router = None  # a routed checkpoint's hypernet.routing.Router, set by load
        self.aggregator = PerceiverAggregator(cfg)
        self.heads = nn.ModuleDict({_key(t.name): LoraHead(cfg, t.d_in, t.d_out) for t in cfg.targets})
        self.copy_heads = nn.ModuleDict(
            {_key(t.name): CopyHead(cfg, t.d_in, t.d_out) for t in cfg.targets} if cfg.copy_path else {}
        )
        self.bias_loras = nn.ModuleDict(
            {_key(t.name): BiasLora(cfg, t.d_in, t.d_out) for t in cfg.targets} if cfg.bias_rank else {}
        )

    def forward(self, acts: torch.Tensor, mask: torch.Tensor, trace: bool = False, batched: bool = False
                ) -> list[LoraTensors] | tuple[list[LoraTensors], "CopyTrace"] | tuple[LoraTensors, list[int]]:
        """acts (C, L, T, H) hidden states entering each layer, mask (C, T) -> one LoRA per chunk
        (and, with `trace`, what the copy heads attended to, for the retrieval loss of meta-training).
        With `batched`, what `forward_batched` returns, through the module's call (so DDP sees it):
        per-chunk views would each cost a full-size gradient in the backward."""
        if batched:
            return self.forward_batched(acts, mask)
        factors, ranks, copy_trace = self._forward(acts, mask, trace)
        return (unbatch(factors, ranks), copy_trace) if trace else unbatch(factors, ranks)

    def forward_batched(self, acts: torch.Tensor, mask: torch.Tensor) -> tuple[LoraTensors, list[int]]:
        """Like forward, with the chunk axis kept in front: A (C, L, R, d_in), B (C, L, d_out, R), and
        each chunk's own rank (chunks of fewer windows are zero-padded up to R; see `unbatch`)."""
        batched, ranks, _ = self._forward(acts, mask, trace=False)
        return batched, ranks

    def _forward(self, acts: torch.Tensor, mask: torch.Tensor, trace: bool
                 ) -> tuple[LoraTensors, list[int], "CopyTrace | None"]:
        assert acts.dim() == 4 and acts.shape[1] == self.cfg.n_layers, f"acts shape {tuple(acts.shape)}"
        assert acts.shape[-1] == self.cfg.hidden_size, f"hidden {acts.shape[-1]} != {self.cfg.hidden_size}"
        spans = window_spans(mask, self.cfg.window_len, self.cfg.windows_per_chunk) if self.cfg.window_len else None
        if spans is None or all(len(s) == 1 for s in spans):
            lora, copy_trace = self._forward_rows(acts, mask)
            return lora, [self.cfg.rank] * acts.shape[0], copy_trace
        return self._forward_windowed(acts, mask, spans, trace)

    def _forward_windowed(self, acts: torch.Tensor, mask: torch.Tensor, spans: list[list[tuple[int, int]]],
                          trace: bool) -> tuple[LoraTensors, list[int], "CopyTrace | None"]:
        """Each window of each chunk becomes its own input row; a chunk's LoRA is its windows' LoRAs
        side by side on the rank axis, B scaled by `window_combine` (default sum). A window's
        activations come from the pass over the whole chunk, so they know what its text refers to.
        With `trace`, the copy heads' attention is put back in chunk positions."""
        n_chunks, n_layers, _, hidden = acts.shape
        flat = [(c, k, s, e) for c, chunk in enumerate(spans) for k, (s, e) in enumerate(chunk)]
        width = max(e - s for _, _, s, e in flat)
        w_acts = acts.new_zeros(len(flat), n_layers, width, hidden)
        w_mask = mask.new_zeros(len(flat), width)
        for i, (c, _, s, e) in enumerate(flat):
            w_acts[i, :, : e - s] = acts[c, :, s:e]
            w_mask[i, : e - s] = 1
        lora, w_trace = self._forward_rows(w_acts, w_mask)
        chunk_idx = torch.tensor([c for c, _, _, _ in flat], device=acts.device)
        slot_idx = torch.tensor([k for _, k, _, _ in flat], device=acts.device)
        n_slots, r = max(len(chunk) for chunk in spans), self.cfg.rank
        b_scale = None if self.cfg.window_combine == "sum" else torch.tensor(
            [combine_scale(self.cfg.window_combine, len(chunk)) for chunk in spans], device=acts.device)
        per_target, attention = {}, {}
        for name, (a, b) in lora.factors.items():  # a (W, L, r, d_in), b (W, L, d_out, r)
            a_slots = a.new_zeros(n_chunks, n_slots, *a.shape[1:])
            a_slots[chunk_idx, slot_idx] = a
            b_slots = b.new_zeros(n_chunks, n_slots, *b.shape[1:])
            b_slots[chunk_idx, slot_idx] = b
            if b_scale is not None:
                b_slots = b_slots * b_scale.to(b_slots.dtype).view(-1, 1, 1, 1, 1)
            per_target[name] = (a_slots.permute(0, 2, 1, 3, 4).reshape(n_chunks, n_layers, n_slots * r, -1),
                                b_slots.permute(0, 2, 3, 1, 4).reshape(n_chunks, n_layers, -1, n_slots * r))
            if trace and name in w_trace.attention:
                seen = w_trace.attention[name]  # (W, L, r, width)
                full = seen.new_full((n_chunks, n_slots, n_layers, r, acts.shape[2]), float("-inf"))
                for i, (c, k, s, e) in enumerate(flat):
                    full[c, k, :, :, s:e] = seen[i, :, :, : e - s]
                attention[name] = full.permute(0, 2, 1, 3, 4).reshape(n_chunks, n_layers, n_slots * r, -1)
        copy_trace = CopyTrace(F.layer_norm(acts.float(), (hidden,)), mask, attention) if trace else None
        return LoraTensors(per_target), [len(chunk) * r for chunk in spans], copy_trace

    def _forward_rows(self, acts: torch.Tensor, mask: torch.Tensor) -> tuple[LoraTensors, "CopyTrace"]:
        """One LoRA per input row (a chunk, or a window of one). Only the layers from first_target_layer
        on are read and written; the factors of the layers below are zeros that need no gradient."""
        first = self.cfg.first_target_layer
        rows, tokens, normed = self.aggregator(acts[:, first:], mask, first)  # (C, L', R, D), (C, L', T, D), (C, L', T, H)
        per_target, attention = {}, {}
        for t in self.cfg.targets:
            key = _key(t.name)
            copied = None
            if self.cfg.copy_path:
                copied_a, copied_b, attention[t.name] = self.copy_heads[key](rows, tokens, normed, mask, first)
                copied = (copied_a, copied_b)
            a, b = self.heads[key](rows, copied, first)
            per_target[t.name] = (_below_zero(a, first), _below_zero(b, first))
        return LoraTensors(per_target), CopyTrace(normed, mask, attention)

    def bias_lora(self) -> LoraTensors | None:
        if not self.cfg.bias_rank:
            return None
        first = self.cfg.first_target_layer
        return LoraTensors({t.name: (m.a, _below_zero(m.b[first:], first, dim=0))
                            for t in self.cfg.targets for m in [self.bias_loras[_key(t.name)]]})

    # -- checkpoints: safetensors + JSON config, never pickle ------------------------------
    def save(self, folder: str, extra: dict | None = None) -> None:
        os.makedirs(folder, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, os.path.join(folder, WEIGHTS_FILE))
        meta = {"config": self.cfg.to_dict(), **(extra or {})}
        with open(os.path.join(folder, CONFIG_FILE), "w") as fh:
            json.dump(meta, fh, indent=2, sort_keys=True)

    @classmethod
    def load(cls, folder: str, map_location: str = "cpu", **config_overrides) -> "HyperNetwork":
        """Rebuild a checkpoint. `config_overrides` may switch on paths the checkpoint lacks when
        their parameters start at zero (e.g. copy_next): the loaded function is then unchanged."""
        net = cls(HypernetConfig.from_dict({**checkpoint_meta(folder)["config"], **config_overrides}))
        fresh = dict(net.named_parameters())
        state = load_file(os.path.join(folder, WEIGHTS_FILE), device=map_location)
        state = {k: v.float() for k, v in state.items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        added = [k for k in missing if config_overrides and k in fresh and not fresh[k].detach().any()]
        missing = [k for k in missing if k not in added]
        if missing or unexpected:
            raise ValueError(f"checkpoint {folder} does not fit its config: missing={missing} unexpected={unexpected}")
        from hypernet import routing

        # A plain attribute, not a submodule: the fallback's weights stay out of this network's state_dict.
        net.router = routing.load(folder, map_location)
        return net


def unbatch(batched: LoraTensors, ranks: list[int] | None = None) -> list[LoraTensors]:
    """Split factors with a leading chunk axis into one LoraTensors per chunk (views, no copies),
    each cut to its own rank when `ranks` is given (the rows past it are zero padding)."""
    n = next(iter(batched.factors.values()))[0].shape[0]
    ranks = ranks or [None] * n
    return [LoraTensors({name: (a[i, :, : ranks[i]], b[i, :, :, : ranks[i]]) for name, (a, b) in batched.factors.items()})
            for i in range(n)]


def window_spans(mask: torch.Tensor, window_len: int, max_windows: int) -> list[list[tuple[int, int]]]:
    """Per chunk, [start, end) of its windows: its real tokens (the mask's one contiguous run of
    ones) cut into equal slices of at most `window_len` (at most `max_windows` of them)."""
    lengths, firsts = mask.sum(1).tolist(), mask.int().argmax(1).tolist()
    spans = []
    for first, n in zip(firsts, lengths):
        assert n > 0, "a chunk with no tokens"
        spans.append([(first + s, first + e) for s, e in chunk_spans(n, window_len, max_windows)])
    return spans


def _below_zero(x: torch.Tensor, first: int, dim: int = 1) -> torch.Tensor:
    """`x` of the layers from `first` on, on layer axis `dim`, with zeros in front for the layers below."""
    if not first:
        return x
    return torch.cat([x.new_zeros(*x.shape[:dim], first, *x.shape[dim + 1:]), x], dim=dim)


def _key(target: str) -> str:
    return target.replace(".", "__")  # ModuleDict keys cannot hold dots


def checkpoint_files(folder: str) -> tuple[str, ...]:
    """The files a checkpoint is made of: weights and config, and a routed one's router (hypernet.routing)."""
    from hypernet.routing import ROUTER_FILE

    routed = os.path.isfile(os.path.join(folder, ROUTER_FILE))
    return (WEIGHTS_FILE, CONFIG_FILE, ROUTER_FILE) if routed else (WEIGHTS_FILE, CONFIG_FILE)


def checkpoint_id(folder: str) -> str:
    """Content address of a checkpoint: the sha256 of its files (first 16 hex)."""
    import hashlib

    h = hashlib.sha256()
    for name in checkpoint_files(folder):
        with open(os.path.join(folder, name), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return "hn-" + h.hexdigest()[:16]
