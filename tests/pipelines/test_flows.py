"""The Prefect flows end to end: real flows, real local Ray, real Parquet and registry, a tiny model."""
from __future__ import annotations

import hashlib
from pathlib import Path

import fsspec
import pytest

from pipelines.flows import ingest_flow, nightly_repatch, patch_flow
from pipelines.patching import open_registry
from pipelines.settings import Settings
from pipelines.versioned_store import registry_uri

pytestmark = pytest.mark.usefixtures("prefect_harness", "ray_local")

_WORDS = ("harbour lantern copper meadow violet engine pepper orbit falcon marble tundra cobalt willow "
          "summit ember canyon saffron glacier").split()


def _text(i: int, version: int = 0) -> str:
    body = " ".join(_WORDS[(i * 5 + k * 3 + version) % len(_WORDS)] for k in range(30 + 10 * (i % 3)))
    return f"Record {i} (edition {version}): {body}."


def _write_corpus(folder: Path, ids: range) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (folder / f"doc{i:02d}.txt").write_text(_text(i))
    return folder


def _registry_state(settings: Settings, corpus: str) -> dict[str, str]:
    """Every file under the registry with the sha256 of its bytes."""
    fs, root = fsspec.core.url_to_fs(registry_uri(settings.store, corpus))
    return {p[len(root):]: hashlib.sha256(fs.cat_file(p)).hexdigest() for p in fs.find(root)}


@pytest.fixture
def settings(tmp_path, tiny_model_path, tiny_hypernet_path) -> Settings:
    # One refinement step: the adapters are refined, as in production, without paying the default's
    # steps (these tests are about what gets patched; tests/pipelines/test_refine_patching.py covers the recipe).
    return Settings(store=str(tmp_path / "store"), base_model=tiny_model_path, hypernet_path=tiny_hypernet_path,
                    cpus_per_actor=0.5, torch_threads=1, batch_docs=4, max_batch_tokens=512, refine_steps=1)


def _latest_versions(settings: Settings, corpus: str, doc_ids) -> dict[str, str | None]:
    registry = open_registry(settings, corpus)
    return {d: (m or {}).get("version_id") for d in doc_ids for m in [registry.latest(d)]}


def test_patch_gives_every_document_an_adapter_then_nightly_patches_exactly_the_changed_and_tombstones_deleted(
        tmp_path, settings):
    """One corpus, patched once, serves both claims (the patch run is the nightly part's starting point):
    - patch: every document gets an adapter whose lineage names the snapshot; a second run does no model work
      and writes nothing;
    - nightly: after edits, a deletion and an addition, exactly the changed and added documents are patched,
      the deleted one is tombstoned, the others keep their versions; a second nightly run changes nothing.
    """
    source = _write_corpus(tmp_path / "kb", range(6))
    ingested = ingest_flow(str(source), "kb", settings)
    assert ingested["counts"]["added"] == 6

    first = patch_flow("kb", settings=settings, progress=False)
    assert first["generated"] == first["patched"] == 6 and first["failed"] == []
    ids = [f"doc{i:02d}.txt" for i in range(6)]
    assert all(_latest_versions(settings, "kb", ids).values())
    manifest = open_registry(settings, "kb").latest(ids[0])
    assert manifest["lineage"]["snapshot_id"] == ingested["snapshot_id"]
    assert manifest["lineage"]["n_chunks"] >= 1 and manifest["run_id"]

    before = _registry_state(settings, "kb")
    second = patch_flow("kb", settings=settings, progress=False)
    assert second["model_work"] is False and second["patched"] == 0 and second["up_to_date"] == 6
    assert _registry_state(settings, "kb") == before

    # -- the nightly run on the patched corpus
    untouched = _latest_versions(settings, "kb", ["doc02.txt", "doc03.txt", "doc04.txt"])

    (source / "doc00.txt").write_text(_text(0, version=1))  # edited
    (source / "doc01.txt").write_text(_text(1, version=1))  # edited
    (source / "doc05.txt").unlink()  # deleted
    (source / "doc06.txt").write_text(_text(6))  # added
    night = nightly_repatch(str(source), "kb", settings, progress=False)

    assert night["counts"] | {"total": 0} == {"added": 1, "changed": 2, "unchanged": 3, "deleted": 1,
                                              "rejected": 0, "total": 0}
    assert sorted(night["patched_ids"]) == ["doc00.txt", "doc01.txt", "doc06.txt"]
    assert night["tombstoned_ids"] == ["doc05.txt"] and night["failed"] == []
    registry = open_registry(settings, "kb")
    assert registry.latest("doc05.txt") is None and registry.pointer("doc05.txt")["tombstone"]
    assert _latest_versions(settings, "kb", untouched) == untouched

    before = _registry_state(settings, "kb")
    again = nightly_repatch(str(source), "kb", settings, progress=False)
    assert again["model_work"] is False and again["tombstoned"] == 0 and again["patched"] == 0
    assert _registry_state(settings, "kb") == before


def test_nightly_finishes_what_an_interrupted_run_left_and_repoints_restored_documents(tmp_path, settings):
    source = _write_corpus(tmp_path / "kb", range(3))
    ingest_flow(str(source), "kb", settings)
    patch_flow("kb", settings=settings, progress=False)
    original = _latest_versions(settings, "kb", ["doc00.txt"])
    (source / "doc00.txt").unlink()
    gone = nightly_repatch(str(source), "kb", settings, progress=False)
    assert gone["tombstoned_ids"] == ["doc00.txt"] and gone["model_work"] is False

    (source / "doc00.txt").write_text(_text(0))  # restored as it was: its adapter still exists
    _write_corpus(source, range(3, 5))
    ingest_flow(str(source), "kb", settings)  # a nightly run that died right after ingesting

    night = nightly_repatch(str(source), "kb", settings, progress=False)
    assert night["counts"]["added"] == 0  # the diff saw them already ...
    assert sorted(night["patched_ids"]) == ["doc03.txt", "doc04.txt"]  # ... yet they get adapters
    assert night["generated"] == 2 and night["repointed"] == 1  # doc00: back, without model work
    assert _latest_versions(settings, "kb", ["doc00.txt"]) == original


def test_flows_on_s3_store(tmp_path, s3_bucket, settings):
    s3 = Settings(**{**settings.record(), "store": f"{s3_bucket}/docpatch"})
    source = _write_corpus(tmp_path / "kb", range(3))
    ingest_flow(str(source), "kb", s3)
    first = patch_flow("kb", settings=s3, progress=False)
    assert first["patched"] == 3
    assert all(_latest_versions(s3, "kb", [f"doc{i:02d}.txt" for i in range(3)]).values())
    (source / "doc02.txt").unlink()
    night = nightly_repatch(str(source), "kb", s3, progress=False)
    assert night["model_work"] is False and night["tombstoned_ids"] == ["doc02.txt"]


def test_patch_without_a_snapshot_names_the_missing_corpus(settings):
    with pytest.raises(FileNotFoundError, match="no snapshot"):
        patch_flow("nothing-here", settings=settings, progress=False)
