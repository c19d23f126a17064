"""Planning which documents need model work: pure functions over the snapshot and the registry index."""
from __future__ import annotations

import pyarrow as pa
import pytest

from pipelines.patching import ModelIdentity, candidates, select_batches, to_tombstone

NOW = ModelIdentity("hn-new", "google/gemma-3-270m", "rev1")
OLD = ModelIdentity("hn-old", "google/gemma-3-270m", "rev1")


def _row(doc_id: str, sha: str, identity: ModelIdentity = NOW, tombstoned: bool = False) -> dict:
    if tombstoned:
        return {"doc_id": doc_id, "version_id": None, "doc_sha256": None, "tombstoned": True}
    return {"doc_id": doc_id, "version_id": identity.key(doc_id, sha).version_id, "doc_sha256": sha, "tombstoned": False}


DOCS = {"current": "s1", "changed": "s2-new", "new": "s3", "old-model": "s4", "gone-back": "s5"}
ROWS = [_row("current", "s1"), _row("changed", "s2-old"), _row("old-model", "s4", OLD),
        _row("gone-back", "s5", tombstoned=True), _row("deleted", "s6")]


def test_missing_picks_every_document_without_a_current_adapter():
    todo, up_to_date = candidates(DOCS, ROWS, NOW, "missing")
    assert todo == ["changed", "gone-back", "new", "old-model"] and up_to_date == 1


def test_nightly_leaves_adapters_of_an_older_hypernetwork_to_the_patch():
    todo, up_to_date = candidates(DOCS, ROWS, NOW, "nightly")
    assert todo == ["changed", "gone-back", "new"] and up_to_date == 2


def test_full_picks_everything():
    assert candidates(DOCS, ROWS, NOW, "full") == (sorted(DOCS), 0)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        candidates(DOCS, ROWS, NOW, "weekly")  # type: ignore[arg-type]


def test_tombstones_cover_live_adapters_missing_from_the_snapshot_and_the_diffs_deletions():
    assert to_tombstone(DOCS, ROWS, deleted=["unindexed"]) == ["deleted", "unindexed"]
    assert to_tombstone(DOCS, ROWS, deleted=["current"]) == ["deleted"]  # present again: not deleted


def test_select_batches_keeps_only_wanted_rows():
    batch = pa.record_batch({"doc_id": ["a", "b", "c"], "text": ["1", "2", "3"]})
    out = list(select_batches([batch, batch.slice(0, 1)], ["c", "a"]))
    assert [b.column("doc_id").to_pylist() for b in out] == [["a", "c"], ["a"]]
