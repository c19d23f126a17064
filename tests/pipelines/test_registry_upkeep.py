"""The adapter registry's upkeep, on a local directory and on moto's S3 server: verify finds tampered and
missing files and dangling pointers, gc deletes only what it may, the Parquet index lists every document."""
from __future__ import annotations

import json

import pytest

from hypernet.peft_format import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE
from pipelines.registry import IntegrityError
from tests.pipelines.adapter_files import make_files, make_key


# -- verify ------------------------------------------------------------------------------------------------
def test_tampered_and_missing_files_are_found_and_refused(registry):
    key = make_key("doc-a")
    registry.publish(key, make_files(0))
    weights = f"docs/doc-a/versions/{key.version_id}/{ADAPTER_WEIGHTS_FILE}"
    stored = registry.store.read_versioned(weights)
    tampered = bytearray(stored.data)
    tampered[-1] ^= 1
    registry.store.put_if_match(weights, bytes(tampered), stored.etag)

    problems = registry.verify()
    assert [(p["doc_id"], p["kind"], p["file"]) for p in problems] == [("doc-a", "tampered_file", ADAPTER_WEIGHTS_FILE)]
    with pytest.raises(IntegrityError):
        registry.load_files("doc-a")
    assert registry.load_files("doc-a", verify=False)[ADAPTER_WEIGHTS_FILE] == bytes(tampered)

    registry.store.delete(f"docs/doc-a/versions/{key.version_id}/{ADAPTER_CONFIG_FILE}")
    assert {p["kind"] for p in registry.verify("doc-a")} == {"tampered_file", "missing_file"}
    with pytest.raises(IntegrityError):
        registry.load_files("doc-a")


def test_dangling_pointer_is_reported(local_registry):
    local_registry.publish(make_key("doc-a"), make_files(0))
    pointer = local_registry.store.read_versioned("docs/doc-a/latest.json")
    record = {**json.loads(pointer.data), "version_id": "0" * 20}
    local_registry.store.put_if_match("docs/doc-a/latest.json", json.dumps(record).encode(), pointer.etag)
    assert [p["kind"] for p in local_registry.verify()] == ["dangling_pointer"]
    with pytest.raises(IntegrityError):
        local_registry.latest("doc-a")


# -- gc and the index ---------------------------------------------------------------------------------------
def test_gc_dry_run_lists_and_real_run_deletes(registry):
    keys = [make_key("doc-a", f"s{i}") for i in range(3)]
    for i, key in enumerate(keys):
        registry.publish(key, make_files(i))
    folder = lambda k: f"docs/doc-a/versions/{k.version_id}"  # noqa: E731
    assert sorted(registry.gc(keep_last=1)) == sorted([folder(keys[0]), folder(keys[1])])
    assert len(registry.versions("doc-a")) == 3  # dry run: nothing deleted

    registry.rollback("doc-a", keys[0].version_id)  # pointed-to versions are always kept
    orphan = make_key("doc-a", "crashed")
    registry.store.put_new(f"{folder(orphan)}/{ADAPTER_CONFIG_FILE}", b"{}")
    assert registry.gc(keep_last=1) == [folder(keys[1])]  # the orphan is young: maybe still publishing
    assert sorted(registry.gc(keep_last=1, dry_run=False, orphan_grace_s=0)) == sorted([folder(keys[1]), folder(orphan)])
    assert [m["version_id"] for m in registry.versions("doc-a")] == [keys[0].version_id, keys[2].version_id]
    assert registry.store.list("docs/doc-a/versions") == sorted([keys[0].version_id, keys[2].version_id])
    assert registry.gc(keep_last=1) == [] and registry.verify() == []


def test_list_reads_the_parquet_index(registry):
    registry.publish_many([(make_key(f"doc-{i}"), make_files(i), None) for i in range(3)], run_id="batch-1")
    rows = {r["doc_id"]: r for r in registry.list()}
    assert sorted(rows) == ["doc-0", "doc-1", "doc-2"]
    row = rows["doc-1"]
    assert row["version_id"] == make_key("doc-1").version_id and row["rank"] == 8 and not row["tombstoned"]
    assert row["doc_sha256"] == "s1" and row["hypernet_id"] == "hn-1" and row["base_model_id"] == "tiny/base"
    assert row["size_bytes"] == sum(len(d) for d in make_files(1).values()) and row["created_at"]

    registry.publish(make_key("doc-3"), make_files(3))  # single publishes leave the index alone ...
    assert len(registry.list()) == 3
    assert registry.rebuild_index() == 4  # ... until it is rebuilt
    registry.store.delete("index.parquet")
    assert len(registry.list()) == 4  # a missing index is rebuilt on demand
