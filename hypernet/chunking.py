"""Cutting a tokenised document into equal token slices of at most `chunk_len` tokens."""
from __future__ import annotations

import math


def chunk_spans(n_tokens: int, chunk_len: int, max_chunks: int | None = None) -> list[tuple[int, int]]:
    """Equal slices covering [0, n_tokens): ceil(n / chunk_len) chunks of near-equal length.

    Equal lengths (rather than full chunks plus a short tail) give every chunk LoRA a similar
    amount of text to summarise. When `max_chunks` caps the count, slices grow past chunk_len
    rather than dropping text.
    """
    if n_tokens <= 0:
        return []
    n = max(1, math.ceil(n_tokens / chunk_len))
    if max_chunks is not None:
        n = min(n, max_chunks)
    bounds = [round(i * n_tokens / n) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n)]


def chunk_ids(token_ids: list[int], chunk_len: int, max_chunks: int | None = None) -> list[list[int]]:
    return [token_ids[s:e] for s, e in chunk_spans(len(token_ids), chunk_len, max_chunks)]
