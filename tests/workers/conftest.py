"""Shared bits for the workers tests: a config for the tiny model and documents to feed it."""
from __future__ import annotations

import pyarrow as pa
import pytest

from workers.config import WorkerConfig

_WORDS = ("river lantern copper meadow quiet harbour violet engine pepper orbit falcon marble "
          "tundra cobalt willow summit ember canyon saffron glacier").split()


def _make_docs(n: int, words: int = 60, start: int = 0) -> list[dict]:
    """Deterministic documents of different lengths (one to several 64-token chunks)."""
    docs = []
    for i in range(start, start + n):
        body = " ".join(_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(words + (i % 5) * 15))
        docs.append({"doc_id": f"doc-{i:04d}", "sha256": f"sha-{i:04d}", "text": f"Record {i}: {body}."})
    return docs


def _docs_table(docs: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(docs, schema=pa.schema([("doc_id", pa.string()), ("sha256", pa.string()),
                                                        ("text", pa.string())]))


@pytest.fixture(scope="session")
def tiny_cfg(tiny_model_path, tiny_hypernet_path) -> WorkerConfig:
    # One refinement step: the pipeline tests exercise refinement without paying the default's cost.
    return WorkerConfig(base_model=tiny_model_path, hypernet_path=tiny_hypernet_path, torch_threads=1,
                        cpus_per_actor=1.0, batch_docs=8, max_batch_tokens=512, refine_steps=1)


@pytest.fixture(scope="session")
def make_docs():
    return _make_docs


@pytest.fixture(scope="session")
def docs_table():
    return _docs_table
