"""Snapshots and diffs: real Parquet files in tmp_path and on moto's S3 server."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.ingest import sanitise_doc_id, text_sha256
from pipelines.snapshot import (
    DIFF_SCHEMA,
    SETTINGS_KEY,
    SNAPSHOT_SCHEMA,
    corpus_uri,
    ingest,
    iter_snapshot_batches,
    latest_snapshot_id,
    read_diff,
    read_snapshot,
)


def write_jsonl(path: Path, docs: dict[str, str]) -> str:
    """A JSONL corpus file from {id: text}; returns its path."""
    with path.open("w", encoding="utf-8") as f:
        for doc_id, text in docs.items():
            f.write(json.dumps({"id": doc_id, "text": text, "n": len(text)}) + "\n")
    return str(path)


def generated_docs(n: int, start: int = 0) -> dict[str, str]:
    """n small distinct documents."""
    return {f"doc-{i:05d}": f"Document {i}.\n\nIt says {i * 7919 % 1000} things." for i in range(start, start + n)}


def statuses(store: str, corpus: str, snapshot_id: str | None = None) -> dict[str, set]:
    """doc ids by diff status."""
    out: dict[str, set] = {}
    for row in read_diff(store, corpus, snapshot_id).to_pylist():
        out.setdefault(row["status"], set()).add(row["doc_id"])
    return out


# -- Diffs ------------------------------------------------------------------------------------------
def test_edit_delete_add_on_a_thousand_docs_gives_exact_diff(tmp_path):
    store, source = str(tmp_path / "store"), tmp_path / "corpus.jsonl"
    docs = generated_docs(1000)
    first = ingest(write_jsonl(source, docs), "kb", store, row_group_size=100)
    assert first.counts == {"added": 1000, "changed": 0, "unchanged": 0, "deleted": 0, "rejected": 0, "total": 1000}

    edited = [f"doc-{i:05d}" for i in range(0, 100, 10)]
    deleted = [f"doc-{i:05d}" for i in range(500, 505)]
    for doc_id in edited:
        docs[doc_id] += " Edited."
    for doc_id in deleted:
        del docs[doc_id]
    docs.update(generated_docs(5, start=1000))
    docs["doc-00001"] = docs["doc-00001"].replace("\n\n", "\r\n\r\n\r\n") + "   "  # layout noise only

    second = ingest(write_jsonl(source, docs), "kb", store, row_group_size=100)
    assert second.counts == {"added": 5, "changed": 10, "unchanged": 985, "deleted": 5, "rejected": 0, "total": 1000}
    by_status = statuses(store, "kb")
    assert by_status["changed"] == set(edited)
    assert by_status["deleted"] == set(deleted)
    assert by_status["added"] == set(generated_docs(5, start=1000))

    diff = read_diff(store, "kb").to_pylist()
    gone = next(r for r in diff if r["status"] == "deleted")
    assert gone["sha256"] is None and gone["previous_sha256"] and gone["source"] == first.snapshot_uri

    third = ingest(str(source), "kb", store, row_group_size=100)
    assert third.counts == {"added": 0, "changed": 0, "unchanged": 1000, "deleted": 0, "rejected": 0, "total": 1000}
    assert latest_snapshot_id(store, "kb") == third.snapshot_id
    # Older snapshots stay readable by id.
    assert read_snapshot(store, "kb", first.snapshot_id, columns=["doc_id"]).num_rows == 1000


def test_document_that_turns_bad_is_rejected_and_deleted(tmp_path):
    store, src = str(tmp_path / "store"), tmp_path / "src"
    src.mkdir()
    (src / "keep.txt").write_text("Stays.")
    (src / "spoil.txt").write_text("Fine for now.")
    ingest(str(src), "kb", store)
    (src / "spoil.txt").write_bytes(b"\x00\x01\x02")
    result = ingest(str(src), "kb", store)
    assert result.counts == {"added": 0, "changed": 0, "unchanged": 1, "deleted": 1, "rejected": 1, "total": 1}
    assert [(r.doc_id, r.reason) for r in result.rejected] == [("spoil.txt", "binary content (NUL bytes)")]
    rows = read_diff(store, "kb").to_pylist()
    assert {(r["doc_id"], r["status"]) for r in rows} == {
        ("keep.txt", "unchanged"), ("spoil.txt", "rejected"), ("spoil.txt", "deleted")}


# -- Files and schema ------------------------------------------------------------------------------
def test_snapshot_files_have_the_contract_schema_row_groups_and_settings(tmp_path):
    store, src = str(tmp_path / "store"), tmp_path / "src"
    src.mkdir()
    docs = generated_docs(250)
    for doc_id, text in docs.items():
        (src / f"{doc_id}.md").write_text(text)
    (src / "bad.txt").write_text("")
    settings = {"hypernet": "h1", "chunk_len": 512}
    result = ingest(str(src), "kb", store, row_group_size=100, settings_record=settings)

    base = Path(corpus_uri(store, "kb"))
    assert (base / "LATEST").read_text().strip() == result.snapshot_id
    assert Path(result.snapshot_uri) == base / "snapshots" / f"{result.snapshot_id}.parquet"
    assert Path(result.diff_uri) == base / "diffs" / f"{result.snapshot_id}.parquet"
    rejected_lines = (base / "rejected" / f"{result.snapshot_id}.jsonl").read_text().splitlines()
    assert [json.loads(line)["doc_id"] for line in rejected_lines] == ["bad.txt"]

    meta = pq.ParquetFile(result.snapshot_uri).metadata
    assert meta.num_row_groups == 3 and meta.num_rows == 250
    table = read_snapshot(store, "kb")
    assert table.schema.equals(SNAPSHOT_SCHEMA, check_metadata=False)
    assert read_diff(store, "kb").schema.equals(DIFF_SCHEMA, check_metadata=False)
    assert json.loads(table.schema.metadata[SETTINGS_KEY]) == settings
    row = table.slice(0, 1).to_pylist()[0]
    assert row["doc_id"] == "doc-00000.md" and row["sha256"] == text_sha256(row["text"])
    assert json.loads(row["metadata"])["path"] == "doc-00000.md"
    assert row["ingested_at"].tzinfo is not None
    assert result.to_dict()["counts"]["total"] == 250


def test_snapshot_can_be_streamed_in_batches_and_by_column(tmp_path):
    store = str(tmp_path / "store")
    ingest(write_jsonl(tmp_path / "c.jsonl", generated_docs(120)), "kb", store)
    batches = list(iter_snapshot_batches(store, "kb", columns=["doc_id", "sha256"], batch_size=50))
    assert [b.num_rows for b in batches] == [50, 50, 20]
    assert batches[0].schema.names == ["doc_id", "sha256"]


# -- Crashes -------------------------------------------------------------------------------------------
def crash_ingest_midway(source: str, store: str, **kw) -> None:
    """Ingest that dies after the first row group, as a killed worker would."""
    def explode(done: int) -> None:
        raise RuntimeError(f"simulated crash after {done} documents")

    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(source, "kb", store, row_group_size=10, progress=explode, **kw)


def test_crash_mid_ingest_leaves_previous_snapshot_latest_and_readable(tmp_path):
    store = str(tmp_path / "store")
    source = write_jsonl(tmp_path / "c.jsonl", generated_docs(50))
    good = ingest(source, "kb", store)
    write_jsonl(tmp_path / "c.jsonl", generated_docs(80, start=20))

    crash_ingest_midway(source, store)

    base = Path(corpus_uri(store, "kb"))
    assert latest_snapshot_id(store, "kb") == good.snapshot_id
    assert read_snapshot(store, "kb").num_rows == 50
    assert [p.name for p in (base / "snapshots").iterdir()] == [f"{good.snapshot_id}.parquet"]
    assert not any((base / "_tmp").iterdir())
    # The next good run still diffs against the last complete snapshot.
    assert ingest(source, "kb", store).counts["deleted"] == 20


# -- Names and errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "../up", "a/b", ".hidden", "-flag", "a..b", "sp ace", "x" * 129])
def test_bad_corpus_names_are_refused(bad, tmp_path):
    with pytest.raises(ValueError, match="invalid corpus name"):
        corpus_uri(str(tmp_path), bad)


def test_corpus_uri_layout():
    assert corpus_uri("s3://bucket/prefix/", "kb_v2.en") == "s3://bucket/prefix/corpora/kb_v2.en"


def test_reading_a_corpus_without_snapshots_says_so(tmp_path):
    store = str(tmp_path / "store")
    assert latest_snapshot_id(store, "kb") is None
    with pytest.raises(FileNotFoundError, match="no snapshot"):
        read_snapshot(store, "kb")
    with pytest.raises(FileNotFoundError, match="no snapshot"):
        iter_snapshot_batches(store, "kb")
    with pytest.raises(ValueError, match="invalid snapshot id"):
        read_diff(store, "kb", "../../LATEST")
    with pytest.raises(FileNotFoundError, match="not found"):
        read_snapshot(store, "kb", "20260101T000000Z-abcdef")


def test_unknown_columns_are_a_user_error(tmp_path):
    with pytest.raises(ValueError, match="unknown columns"):
        read_snapshot(str(tmp_path), "kb", columns=["doc_id", "body"])


# -- S3 ------------------------------------------------------------------------------------------------
def test_s3_source_and_store_diff_and_survive_a_crash(s3_bucket):
    import fsspec

    fs = fsspec.filesystem("s3")
    source, store = f"{s3_bucket}/src", f"{s3_bucket}/store"
    fs.pipe({f"{source}/d{i}.txt": f"Doc {i} text.".encode() for i in range(12)})
    fs.pipe_file(f"{source}/nested/deep.md", b"Deep doc.")
    first = ingest(source, "kb", store, row_group_size=5)
    assert first.counts["added"] == 13 and first.snapshot_uri.startswith("s3://")

    fs.pipe_file(f"{source}/d0.txt", b"Doc 0 text, edited.")
    fs.rm(f"{source}/d1.txt")
    fs.pipe_file(f"{source}/new.txt", b"Brand new.")
    crash_ingest_midway(source, store)
    assert latest_snapshot_id(store, "kb") == first.snapshot_id
    assert read_snapshot(store, "kb", columns=["doc_id"]).num_rows == 13
    assert fs.find(f"{store}/corpora/kb/_tmp") == []

    second = ingest(source, "kb", store, row_group_size=5)
    assert second.counts == {"added": 1, "changed": 1, "unchanged": 11, "deleted": 1, "rejected": 0, "total": 13}
    assert statuses(store, "kb")["deleted"] == {"d1.txt"}
    rows = read_snapshot(store, "kb", columns=["doc_id", "text"]).to_pylist()
    assert {r["doc_id"]: r["text"] for r in rows}[sanitise_doc_id("nested/deep.md")] == "Deep doc."
    assert fs.cat_file(f"{store}/corpora/kb/LATEST").decode().strip() == second.snapshot_id
