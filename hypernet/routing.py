"""Routing: a corpus hypernetwork serves documents like its corpus; the generic one it started from serves the rest.

A hypernetwork meta-trained on one corpus learns that corpus and, at a CPU's budget, gives up part of the generic
skill it started with (docs/benchmarks.md). A routed checkpoint keeps both: beside the corpus hypernetwork's own
files, `router.safetensors` holds the fallback's weights (the hypernetwork the corpus training started from, its
config in the checkpoint JSON) and a lexical profile of every training document. A document whose profile is
less like its nearest training document than `threshold` gets the fallback's adapter.

The profile is the base model's token ids of the text, hashed into `HASH_BUCKETS`, as sublinear term frequency
times the training documents' inverse document frequency, L2-normalised: no model pass, so routing costs nothing
beside the reading pass, and a knowledge base's kinds of document (records, options, policies) share their words.
`threshold` is the `quantile` of the training documents' similarity to their nearest other training document, so
about that share of documents like the training ones is sent to the fallback.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass

import torch
from safetensors.torch import load_file, save_file

from hypernet.config import CONFIG_FILE, HypernetConfig, checkpoint_meta

ROUTER_FILE = "router.safetensors"
HASH_BUCKETS = 8192
FALLBACK_PREFIX = "fallback."
# What both hypernetworks must agree on: the generator cuts a document once, before it knows which one reads it.
SHARED_FIELDS = ("chunk_len", "max_chunks", "chunk_combine", "hidden_size", "n_layers", "bias_rank")


def token_counts(token_ids: list[int]) -> torch.Tensor:
    """Sublinear term frequency (1 + log n) of a document's token ids, hashed into HASH_BUCKETS."""
    counts = Counter(t % HASH_BUCKETS for t in token_ids)
    tf = torch.zeros(HASH_BUCKETS)
    if counts:
        tf[torch.tensor(list(counts))] = torch.tensor([1.0 + math.log(n) for n in counts.values()])
    return tf


def profiles(docs_token_ids: list[list[int]], idf: torch.Tensor) -> torch.Tensor:
    """(N, HASH_BUCKETS) L2-normalised tf-idf profiles."""
    tf = torch.stack([token_counts(ids) for ids in docs_token_ids])
    return torch.nn.functional.normalize(tf * idf, dim=1)


@dataclass
class RouterFit:
    keys: torch.Tensor  # (N, HASH_BUCKETS) the training documents' profiles
    idf: torch.Tensor  # (HASH_BUCKETS,)
    threshold: float
    quantile: float
    nearest: list[float]  # each training document's similarity to its nearest other one

    def record(self) -> dict:
        near = torch.tensor(self.nearest)
        return {"n_keys": len(self.nearest), "quantile": self.quantile, "threshold": round(self.threshold, 6),
                "nearest_median": round(near.median().item(), 4), "nearest_min": round(near.min().item(), 4)}


def fit(train_token_ids: list[list[int]], quantile: float) -> RouterFit:
    """Profiles of the training documents and the threshold at `quantile` of their nearest-neighbour similarity."""
    docs = [ids for ids in train_token_ids if ids]
    if len(docs) < 2:
        raise ValueError(f"a router needs at least 2 training documents with tokens, got {len(docs)}")
    if not 0 < quantile < 1:
        raise ValueError(f"router quantile {quantile} must be in (0, 1)")
    df = torch.zeros(HASH_BUCKETS)
    for ids in docs:
        df[torch.tensor(sorted({t % HASH_BUCKETS for t in ids}))] += 1
    idf = torch.log((1 + len(docs)) / (1 + df)) + 1
    keys = profiles(docs, idf)
    sims = keys @ keys.T
    sims.fill_diagonal_(-1.0)
    nearest = sims.max(1).values
    return RouterFit(keys, idf, float(nearest.quantile(quantile)), quantile, nearest.tolist())


class Router:
    """Which documents the corpus hypernetwork reads; the others go to `fallback`."""

    def __init__(self, keys: torch.Tensor, idf: torch.Tensor, threshold: float, fallback):
        self.keys, self.idf, self.threshold, self.fallback = keys, idf, threshold, fallback

    def similarity(self, docs_token_ids: list[list[int]]) -> list[float]:
        """Each document's similarity to its nearest training document (0 for a document with no tokens)."""
        if not docs_token_ids:
            return []
        return (profiles(docs_token_ids, self.idf) @ self.keys.T).max(1).values.tolist()

    def to_corpus(self, docs_token_ids: list[list[int]]) -> list[bool]:
        """True where the corpus hypernetwork reads the document, False where the fallback does."""
        return [s >= self.threshold for s in self.similarity(docs_token_ids)]


def write(folder: str, fitted: RouterFit, fallback) -> None:
    """Make the checkpoint in `folder` a routed one: `fallback` (a HyperNetwork; if routed itself, its own fallback,
    so routing stays one level deep) serves documents unlike the fitted training documents. ValueError when the two
    hypernetworks would cut a document differently."""
    if fallback.router is not None:
        fallback = fallback.router.fallback
    meta = checkpoint_meta(folder)
    own = HypernetConfig.from_dict(meta["config"])
    differ = [f for f in SHARED_FIELDS if getattr(own, f) != getattr(fallback.cfg, f)]
    if differ:
        raise ValueError(f"cannot route {folder} to its fallback: they differ in {differ}")
    state = {FALLBACK_PREFIX + k: v.detach().cpu().float().contiguous() for k, v in fallback.state_dict().items()}
    save_file({"keys": fitted.keys.contiguous(), "idf": fitted.idf.contiguous(), **state},
              os.path.join(folder, ROUTER_FILE))
    meta["router"] = {**fitted.record(), "hash_buckets": HASH_BUCKETS, "fallback_config": fallback.cfg.to_dict()}
    tmp = os.path.join(folder, CONFIG_FILE + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(meta, fh, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(folder, CONFIG_FILE))


def load(folder: str, map_location: str = "cpu") -> Router | None:
    """The router of a routed checkpoint, its fallback built; None for a plain checkpoint."""
    from hypernet.model import HyperNetwork

    info = checkpoint_meta(folder).get("router")
    if info is None:
        return None
    path = os.path.join(folder, ROUTER_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {folder} is routed but has no {ROUTER_FILE}")
    tensors = load_file(path, device=map_location)
    fallback = HyperNetwork(HypernetConfig.from_dict(info["fallback_config"]))
    state = {k[len(FALLBACK_PREFIX):]: v.float() for k, v in tensors.items() if k.startswith(FALLBACK_PREFIX)}
    fallback.load_state_dict(state)  # strict: a fallback that does not fit its config is an error
    return Router(tensors["keys"].float(), tensors["idf"].float(), float(info["threshold"]), fallback)
