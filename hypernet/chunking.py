"""Cutting a tokenised document into equal token slices of at most `chunk_len` tokens.

`Chunker` is the one cut from a document's tokens to its chunks: `AdapterGenerator` and the Ray
`ChunkStage` both make it, so the two paths give a document the same chunks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

NO_TOKENS = "document has no tokens"


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


def split_by_lengths(token_ids: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive slices of the given lengths: a document's chunks rebuilt from its chunk lengths."""
    out, start = [], 0
    for n in lengths:
        out.append(token_ids[start:start + n])
        start += n
    return out


@dataclass(frozen=True)
class Chunker:
    """A document's token ids -> its chunk lengths or chunks, with the hypernetwork's chunk settings."""

    chunk_len: int
    max_chunks: int | None = None

    @classmethod
    def of(cls, hcfg) -> Chunker:
        """The chunker of a HypernetConfig (anything with `chunk_len` and `max_chunks`)."""
        return cls(hcfg.chunk_len, hcfg.max_chunks)

    def lengths(self, token_ids: list[int]) -> list[int]:
        """Chunk lengths summing to len(token_ids); ValueError for a document without tokens."""
        if len(token_ids) == 0:
            raise ValueError(NO_TOKENS)
        return [e - s for s, e in chunk_spans(len(token_ids), self.chunk_len, self.max_chunks)]

    def split(self, token_ids: list[int]) -> list[list[int]]:
        return split_by_lengths(list(token_ids), self.lengths(token_ids))
