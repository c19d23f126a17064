"""index.parquet: one row per document, a cache rebuilt from the pointers for fast listing.

`publish_many`, `tombstone` and `rollback` update it (compare-and-swap, so concurrent updaters do
not lose rows); a single `publish` does not, because rewriting one Parquet file per adapter makes a
backfill quadratic. Call `Registry.rebuild_index()` after publishing one by one.
"""
from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from pipelines.versioned_store import IntegrityError

if TYPE_CHECKING:
    from pipelines.registry.adapters import Registry

log = logging.getLogger(__name__)

INDEX_FILE = "index.parquet"


def _schema():
    import pyarrow as pa

    return pa.schema([
        ("doc_id", pa.string()), ("version_id", pa.string()), ("doc_sha256", pa.string()),
        ("hypernet_id", pa.string()), ("base_model_id", pa.string()), ("rank", pa.int32()),
        ("size_bytes", pa.int64()), ("created_at", pa.string()), ("tombstoned", pa.bool_()),
    ])


def index_bytes(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(sorted(rows, key=lambda r: r["doc_id"]), schema=_schema()), buf)
    return buf.getvalue()


def index_rows(data: bytes) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).to_pylist()


def index_row(registry: Registry, doc_id: str) -> dict | None:
    """The index row of one document, from its pointer (None: never published or unreadable)."""
    try:
        pointer = registry.pointer(doc_id)
        m = None if pointer is None or pointer.get("tombstone") else registry.manifest(doc_id, pointer["version_id"])
    except IntegrityError as exc:
        log.warning("index: skipping %s (%s); see verify()", doc_id, exc)
        return None
    if pointer is None:
        return None
    if pointer.get("tombstone"):
        return {"doc_id": doc_id, "version_id": None, "doc_sha256": None, "hypernet_id": None,
                "base_model_id": None, "rank": None, "size_bytes": None, "created_at": None, "tombstoned": True}
    if m is None:
        log.warning("index: skipping %s (dangling pointer); see verify()", doc_id)
        return None
    return {"doc_id": doc_id, "version_id": m["version_id"], "doc_sha256": m["doc_sha256"],
            "hypernet_id": m["hypernet_id"], "base_model_id": m["base_model_id"], "rank": m["rank"],
            "size_bytes": m["size_bytes"], "created_at": m["created_at"], "tombstoned": False}


def update_index(registry: Registry, doc_ids: set[str] | None) -> int:
    """Recompute the rows of `doc_ids` (None: every doc) and swap the index in; its row count."""
    count = 0

    def recompute(data: bytes | None) -> bytes:
        nonlocal count
        full = data is None or doc_ids is None  # no index yet: a partial one would hide docs
        rows = {} if full else {r["doc_id"]: r for r in index_rows(data)}
        todo = registry.doc_ids() if full else sorted(doc_ids)
        for doc_id, row in zip(todo, registry.map(lambda d: index_row(registry, d), todo)):
            rows.pop(doc_id, None)
            if row is not None:
                rows[doc_id] = row
        count = len(rows)
        return index_bytes(list(rows.values()))

    registry.store.update(INDEX_FILE, recompute)
    return count


def read_index(registry: Registry) -> list[dict]:
    """One row per document (the index is built first if missing)."""
    data = registry.store.read(INDEX_FILE)
    if data is None:
        update_index(registry, None)
        data = registry.store.read(INDEX_FILE) or index_bytes([])
    return index_rows(data)
