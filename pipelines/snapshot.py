"""Corpus snapshots: one Parquet file per ingest, the diff against the previous one, a LATEST pointer.

Layout under `corpus_uri(store, corpus)`:
    snapshots/{snapshot_id}.parquet   good documents (SNAPSHOT_SCHEMA)
    diffs/{snapshot_id}.parquet       added / changed / unchanged / deleted / rejected (DIFF_SCHEMA)
    rejected/{snapshot_id}.jsonl      the rejections, one JSON object a line (only when there are any)
    LATEST                            the latest complete snapshot id

Both Parquet files are streamed to temporary names and moved into place; LATEST is replaced only
afterwards, so a crash at any point leaves the previous snapshot the latest and intact.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from workers.storage import FileSystem, check_store, move, open_fs, put_atomic, remove_quietly

from pipelines.ingest import Document, Rejected, iter_documents

SNAPSHOT_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("sha256", pa.string(), nullable=False),
    pa.field("text", pa.large_string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("metadata", pa.string(), nullable=False),  # JSON object
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
])

DIFF_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string()),  # null for a rejected record that had no usable id
    pa.field("status", pa.string(), nullable=False),
    pa.field("sha256", pa.string()),
    pa.field("previous_sha256", pa.string()),
    pa.field("source", pa.string(), nullable=False),  # deleted rows: the previous snapshot's file
    pa.field("reason", pa.string()),
])

ADDED, CHANGED, UNCHANGED, DELETED, REJECTED = "added", "changed", "unchanged", "deleted", "rejected"
STATUSES = (ADDED, CHANGED, UNCHANGED, DELETED, REJECTED)

SETTINGS_KEY = b"docpatch.settings"
_SNAPSHOT_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_CORPUS_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_MAX_BUFFER_BYTES = 64 << 20  # a row group also ends here, so 1000 huge documents never pile up
_PARQUET_OPTIONS = dict(
    compression="zstd",
    use_dictionary=["source"],
    write_statistics=["doc_id", "sha256", "status", "ingested_at"],
)


@dataclass
class IngestResult:
    """What one ingest wrote and what it found."""

    corpus: str
    snapshot_id: str
    snapshot_uri: str
    diff_uri: str
    counts: dict[str, int]  # added, changed, unchanged, deleted, rejected, total
    rejected: list[Rejected] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


# -- Names and places ------------------------------------------------------------------------------
def corpus_uri(store: str, corpus: str) -> str:
    """The folder of one corpus inside a store."""
    check_store(store)
    if not _CORPUS_RE.match(corpus or "") or ".." in corpus:
        raise ValueError(
            f"invalid corpus name {corpus!r}: use 1-128 characters from A-Z a-z 0-9 . _ -, "
            "not starting with '.' or '-', without '..'"
        )
    return f"{store.rstrip('/')}/corpora/{corpus}"


def new_snapshot_id() -> str:
    """A snapshot id that sorts by creation time (UTC second) with a random tail."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _corpus_fs(store: str, corpus: str, storage_options: dict | None) -> tuple[FileSystem, str]:
    """The filesystem and the bare path of the corpus folder."""
    return open_fs(corpus_uri(store, corpus), storage_options)


def _snapshot_path(base: str, snapshot_id: str) -> str:
    return f"{base}/snapshots/{snapshot_id}.parquet"


def _diff_path(base: str, snapshot_id: str) -> str:
    return f"{base}/diffs/{snapshot_id}.parquet"


def _check_snapshot_id(snapshot_id: str) -> str:
    """The id itself, or ValueError: ids become file names, so only the generated shape passes."""
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID_RE.match(snapshot_id):
        raise ValueError(f"invalid snapshot id {snapshot_id!r}: expected e.g. 20261125T170102Z-a1b2c3")
    return snapshot_id


# -- Streaming Parquet ----------------------------------------------------------------------------------
@contextmanager
def _parquet_writer(fs, path: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A ParquetWriter streaming into path on fs."""
    fs.makedirs(fs._parent(path), exist_ok=True)
    with fs.open(path, "wb") as f:
        writer = pq.ParquetWriter(f, schema, **_PARQUET_OPTIONS)
        try:
            yield writer
        finally:
            writer.close()


class _RowBuffer:
    """Collects rows column-wise and writes them as one row group when full (rows or bytes)."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema, max_rows: int) -> None:
        self.writer, self.schema, self.max_rows = writer, schema, max_rows
        self.columns: dict[str, list] = {name: [] for name in schema.names}
        self.rows = 0
        self.nbytes = 0

    def add(self, row: dict, nbytes: int = 0) -> None:
        for name, values in self.columns.items():
            values.append(row[name])
        self.rows += 1
        self.nbytes += nbytes
        if self.rows >= self.max_rows or self.nbytes >= _MAX_BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self.writer.write_batch(pa.RecordBatch.from_pydict(self.columns, schema=self.schema))
        for values in self.columns.values():
            values.clear()
        self.rows = self.nbytes = 0


# -- Ingest ------------------------------------------------------------------------------------------------
def _previous_hashes(fs, base: str, snapshot_id: str | None) -> dict[str, str]:
    """doc_id -> sha256 of a snapshot, reading only those two columns (never the texts)."""
    if snapshot_id is None:
        return {}
    hashes: dict[str, str] = {}
    with _open_parquet(fs, _snapshot_path(base, snapshot_id), f"latest snapshot {snapshot_id}") as f:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=65536, columns=["doc_id", "sha256"]):
            hashes.update(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
    return hashes


def _file_metadata(corpus: str, snapshot_id: str, previous_id: str | None, source: str,
                   settings_record: dict | None) -> dict[bytes, bytes]:
    """Key-value metadata stored in both Parquet files."""
    meta = {
        b"docpatch.corpus": corpus,
        b"docpatch.snapshot_id": snapshot_id,
        b"docpatch.previous_snapshot_id": previous_id or "",
        b"docpatch.source": source,
    }
    if settings_record is not None:
        meta[SETTINGS_KEY] = json.dumps(settings_record, sort_keys=True, default=str)
    return {k: v.encode("utf-8") for k, v in meta.items()}


def _write_rows(items: Iterator[Document | Rejected], previous: dict[str, str], snap: _RowBuffer,
                diff: _RowBuffer, ingested_at: datetime, counts: dict[str, int], rejected: list[Rejected],
                progress: Callable[[int], None] | None, every: int) -> None:
    """Stream items into the snapshot and diff buffers; `previous` loses every id that is still present."""
    seen = 0
    for item in items:
        seen += 1
        if isinstance(item, Rejected):
            rejected.append(item)
            counts[REJECTED] += 1
            diff.add({"doc_id": item.doc_id, "status": REJECTED, "sha256": None, "previous_sha256": None,
                      "source": item.source, "reason": item.reason})
        else:
            before = previous.pop(item.doc_id, None)
            status = ADDED if before is None else UNCHANGED if before == item.sha256 else CHANGED
            counts[status] += 1
            snap.add({"doc_id": item.doc_id, "sha256": item.sha256, "text": item.text, "source": item.source,
                      "metadata": json.dumps(item.metadata, sort_keys=True, default=str, ensure_ascii=False),
                      "ingested_at": ingested_at}, nbytes=len(item.text))
            diff.add({"doc_id": item.doc_id, "status": status, "sha256": item.sha256,
                      "previous_sha256": before, "source": item.source, "reason": None})
        if progress is not None and seen % every == 0:
            progress(seen)
    if progress is not None and seen % every:
        progress(seen)


def _add_deleted(previous: dict[str, str], diff: _RowBuffer, gone_from: str, counts: dict[str, int]) -> None:
    """Diff rows for the documents still in `previous`: the new source no longer has them."""
    for doc_id in sorted(previous):
        counts[DELETED] += 1
        diff.add({"doc_id": doc_id, "status": DELETED, "sha256": None,
                  "previous_sha256": previous[doc_id], "source": gone_from, "reason": None})


def _commit(fs: FileSystem, base: str, snapshot_id: str, rejected: list[Rejected]) -> None:
    """The rejections beside the snapshot, then LATEST, the commit point."""
    if rejected:
        lines = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rejected)
        put_atomic(fs, f"{base}/rejected/{snapshot_id}.jsonl", lines.encode("utf-8"))
    put_atomic(fs, f"{base}/LATEST", f"{snapshot_id}\n".encode())


def ingest(
    source: str,
    corpus: str,
    store: str,
    *,
    storage_options: dict | None = None,
    max_doc_bytes: int = 10_000_000,
    row_group_size: int = 1000,
    settings_record: dict | None = None,
    progress: Callable[[int], None] | None = None,
    id_field: str = "id",
    text_field: str = "text",
) -> IngestResult:
    """Read a source into a new snapshot of the corpus, with its diff against the previous one."""
    # progress(n) is called with the number of items (documents and rejections) read so far, every
    # row_group_size items and once at the end; an exception from it aborts the ingest cleanly.
    started = time.perf_counter()
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be at least 1, got {row_group_size}")
    root = corpus_uri(store, corpus)
    fs, base = _corpus_fs(store, corpus, storage_options)
    previous_id = latest_snapshot_id(store, corpus, storage_options)
    previous = _previous_hashes(fs, base, previous_id)
    items = iter_documents(source, max_doc_bytes=max_doc_bytes, id_field=id_field, text_field=text_field,
                           storage_options=storage_options)

    snapshot_id = new_snapshot_id()
    meta = _file_metadata(corpus, snapshot_id, previous_id, source, settings_record)
    tmp_snap = f"{base}/_tmp/{snapshot_id}.snapshot.parquet"
    tmp_diff = f"{base}/_tmp/{snapshot_id}.diff.parquet"
    counts = {status: 0 for status in STATUSES}
    rejected: list[Rejected] = []
    try:
        with _parquet_writer(fs, tmp_snap, SNAPSHOT_SCHEMA.with_metadata(meta)) as snap_writer, \
                _parquet_writer(fs, tmp_diff, DIFF_SCHEMA.with_metadata(meta)) as diff_writer:
            snap = _RowBuffer(snap_writer, SNAPSHOT_SCHEMA, row_group_size)
            diff = _RowBuffer(diff_writer, DIFF_SCHEMA, row_group_size)
            _write_rows(items, previous, snap, diff, datetime.now(timezone.utc), counts, rejected,
                        progress, row_group_size)
            _add_deleted(previous, diff, _snapshot_path(root, previous_id) if previous_id else "", counts)
            snap.flush()
            diff.flush()
        move(fs, tmp_snap, _snapshot_path(base, snapshot_id))
        move(fs, tmp_diff, _diff_path(base, snapshot_id))
    except BaseException:
        remove_quietly(fs, [tmp_snap, tmp_diff])
        raise
    _commit(fs, base, snapshot_id, rejected)
    counts["total"] = counts[ADDED] + counts[CHANGED] + counts[UNCHANGED]
    return IngestResult(
        corpus=corpus,
        snapshot_id=snapshot_id,
        snapshot_uri=_snapshot_path(root, snapshot_id),
        diff_uri=_diff_path(root, snapshot_id),
        counts=counts,
        rejected=rejected,
        seconds=time.perf_counter() - started,
    )


# -- Reading ----------------------------------------------------------------------------------------------
def latest_snapshot_id(store: str, corpus: str, storage_options: dict | None = None) -> str | None:
    """The id in the corpus's LATEST pointer, or None when the corpus has no snapshot yet."""
    fs, base = _corpus_fs(store, corpus, storage_options)
    try:
        raw = fs.cat_file(f"{base}/LATEST")
    except FileNotFoundError:
        return None
    snapshot_id = raw.decode("utf-8", "replace").strip()
    if not _SNAPSHOT_ID_RE.match(snapshot_id):
        raise ValueError(f"corrupt LATEST pointer in {corpus_uri(store, corpus)}: {snapshot_id[:80]!r}")
    return snapshot_id


def _resolve(store: str, corpus: str, snapshot_id: str | None, storage_options: dict | None) -> str:
    """The given snapshot id (checked) or the latest one; FileNotFoundError when there is none."""
    if snapshot_id is not None:
        return _check_snapshot_id(snapshot_id)
    latest = latest_snapshot_id(store, corpus, storage_options)
    if latest is None:
        raise FileNotFoundError(f"corpus {corpus!r} has no snapshot in {store}; ingest it first")
    return latest


def _open_parquet(fs, path: str, what: str):
    """Open a Parquet file for reading, with a clear error when it does not exist."""
    try:
        return fs.open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {fs.unstrip_protocol(path)}") from None


def _check_columns(columns: list[str] | None, schema: pa.Schema) -> None:
    """ValueError naming any requested column the schema lacks."""
    unknown = [c for c in columns or [] if c not in schema.names]
    if unknown:
        raise ValueError(f"unknown columns {unknown}; available: {schema.names}")


def read_snapshot(store: str, corpus: str, snapshot_id: str | None = None, *, columns: list[str] | None = None,
                  storage_options: dict | None = None) -> pa.Table:
    """A whole snapshot (the latest when snapshot_id is None) as a table; choose columns to skip texts."""
    _check_columns(columns, SNAPSHOT_SCHEMA)
    sid = _resolve(store, corpus, snapshot_id, storage_options)
    fs, base = _corpus_fs(store, corpus, storage_options)
    with _open_parquet(fs, _snapshot_path(base, sid), f"snapshot {sid} of corpus {corpus!r}") as f:
        return pq.read_table(f, columns=columns)


def iter_snapshot_batches(store: str, corpus: str, snapshot_id: str | None = None, *,
                          columns: list[str] | None = None, batch_size: int = 1000,
                          storage_options: dict | None = None) -> Iterator[pa.RecordBatch]:
    """A snapshot (the latest when snapshot_id is None) in record batches, in bounded memory."""
    _check_columns(columns, SNAPSHOT_SCHEMA)
    sid = _resolve(store, corpus, snapshot_id, storage_options)
    fs, base = _corpus_fs(store, corpus, storage_options)
    f = _open_parquet(fs, _snapshot_path(base, sid), f"snapshot {sid} of corpus {corpus!r}")
    return _batches(f, batch_size, columns)  # errors above are raised now, not at the first next()


def _batches(f, batch_size: int, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    """Record batches of an open Parquet file, closing it when done."""
    with f:
        yield from pq.ParquetFile(f).iter_batches(batch_size=batch_size, columns=columns)


def read_diff(store: str, corpus: str, snapshot_id: str | None = None, *,
              storage_options: dict | None = None) -> pa.Table:
    """The diff that produced a snapshot (the latest when snapshot_id is None)."""
    sid = _resolve(store, corpus, snapshot_id, storage_options)
    fs, base = _corpus_fs(store, corpus, storage_options)
    with _open_parquet(fs, _diff_path(base, sid), f"diff {sid} of corpus {corpus!r}") as f:
        return pq.read_table(f)
