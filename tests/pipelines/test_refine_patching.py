"""Refinement in the patching flows (issue 28, item 3): the recipe is part of an adapter's version, so a
changed `refine_steps` re-patches every document, the same one again does no model work, and going back
only moves pointers to the versions that already exist. Real flows, real local Ray, the tiny model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypernet.config import RefineConfig
from pipelines import runs
from pipelines.flows import ingest_flow, patch_flow
from pipelines.patching import open_registry
from pipelines.settings import Settings

pytestmark = pytest.mark.usefixtures("prefect_harness", "ray_local")

N_DOCS = 24
DOC_IDS = [f"doc{i:02d}.txt" for i in range(N_DOCS)]
_WORDS = ("harbour lantern copper meadow violet engine pepper orbit falcon marble tundra cobalt willow "
          "summit ember canyon saffron glacier").split()


def _text(i: int) -> str:
    """One short sentence: refinement's cost grows with a document's rows (its text and each blank)."""
    a, b, c, d, e = (_WORDS[(i * 5 + k * 7) % len(_WORDS)] for k in range(5))
    return f"The {a} {b} sat on {c} {d} {e} {i}."


def _settings(base: Settings, steps: int, actors: Path) -> Settings:
    """The base settings with a refinement recipe; model actors (if any start) report into `actors`."""
    return base.with_overrides(refine_steps=steps, actor_report_dir=str(actors))


def _pointers(settings: Settings) -> dict[str, str]:
    registry = open_registry(settings, "kb")
    return {d: registry.pointer(d)["version_id"] for d in DOC_IDS}


def _versions(settings: Settings) -> dict[str, list[str]]:
    registry = open_registry(settings, "kb")
    return {d: sorted(m["version_id"] for m in registry.versions(d)) for d in DOC_IDS}


def _report(settings: Settings, result: dict) -> dict:
    return runs.read_report(settings.store, result["report"].rsplit("/", 1)[-1])


def _did_no_model_work(result: dict, settings: Settings, actors: Path) -> None:
    assert result["model_work"] is False and result["generated"] == result["patched"] == 0, result
    assert result["failed"] == []
    report = _report(settings, result)
    assert report["generated"] == report["patched"] == 0 and report["timeline"] == []
    assert report["inside_generate"]["model_seconds_all_actors"] == 0
    assert not actors.exists(), "a model actor started in a run that had nothing to generate"


@pytest.fixture(scope="module")
def refined_once(tmp_path_factory, tiny_model_path, tiny_hypernet_path, prefect_harness, ray_local):
    """24 documents ingested and patched once with refine_steps=1: (base settings, the run's result, tmp folder)."""
    tmp = tmp_path_factory.mktemp("refine-patching")
    source = tmp / "kb"
    source.mkdir()
    for i in range(N_DOCS):
        (source / DOC_IDS[i]).write_text(_text(i))
    base = Settings(store=str(tmp / "store"), base_model=tiny_model_path, hypernet_path=tiny_hypernet_path,
                    cpus_per_actor=0.5, torch_threads=1, batch_docs=4, max_batch_tokens=512)
    ingest_flow(str(source), "kb", base)
    first = patch_flow("kb", settings=_settings(base, 1, tmp / "actors-1"), progress=False)
    return base, first, tmp


def test_changing_refine_steps_repatches_everything_and_changing_it_back_only_moves_pointers(refined_once):
    base, first, tmp = refined_once
    one, two = RefineConfig(steps=1).key(), RefineConfig(steps=2).key()
    assert one and two and one != two

    # First run: every document generated, refined once, keyed by the recipe.
    assert first["generated"] == first["patched"] == N_DOCS and first["failed"] == [], first["failed"]
    assert first["refine"] == one and first["model_work"] is True
    assert first["patched_ids"] == DOC_IDS
    registry = open_registry(base, "kb")
    refined_1 = {}
    for doc_id in DOC_IDS:
        manifest = registry.latest(doc_id)
        assert manifest["refine"] == one, manifest
        assert manifest["lineage"]["settings"]["refine_steps"] == 1
        refined_1[doc_id] = manifest["version_id"]
    worker = _report(base, first)["settings"]
    assert worker["refine_steps"] == 1 and _report(base, first)["generated"] == N_DOCS

    # Same settings again: nothing to do, nothing written.
    versions_1 = _versions(base)
    assert all(v == [refined_1[d]] for d, v in versions_1.items())
    again = patch_flow("kb", settings=_settings(base, 1, tmp / "actors-again"), progress=False)
    _did_no_model_work(again, base, tmp / "actors-again")
    assert again["up_to_date"] == N_DOCS and again["repointed"] == 0
    assert _versions(base) == versions_1 and _pointers(base) == refined_1

    # Another recipe: every document re-patched, a new version each, pointers moved to them.
    second = patch_flow("kb", settings=_settings(base, 2, tmp / "actors-2"), progress=False)
    assert second["model_work"] is True and second["refine"] == two
    assert second["generated"] == second["patched"] == N_DOCS and second["failed"] == [], second["failed"]
    assert second["patched_ids"] == DOC_IDS and second["repointed"] == 0
    assert (tmp / "actors-2").exists()
    refined_2 = _pointers(base)
    for doc_id in DOC_IDS:
        assert refined_2[doc_id] != refined_1[doc_id]
        manifest = registry.latest(doc_id)
        assert manifest["version_id"] == refined_2[doc_id] and manifest["refine"] == two
        assert manifest["lineage"]["settings"]["refine_steps"] == 2
        assert manifest["doc_sha256"] == registry.manifest(doc_id, refined_1[doc_id])["doc_sha256"]
    assert _versions(base) == {d: sorted([refined_1[d], refined_2[d]]) for d in DOC_IDS}
    assert _report(base, second)["generated"] == N_DOCS

    # Back to refine_steps=1: those versions exist, so no model work, only the pointers move back.
    back = patch_flow("kb", settings=_settings(base, 1, tmp / "actors-back"), progress=False)
    _did_no_model_work(back, base, tmp / "actors-back")
    assert back["repointed"] == N_DOCS and back["up_to_date"] == 0 and back["refine"] == one
    assert _pointers(base) == refined_1
    assert _versions(base) == {d: sorted([refined_1[d], refined_2[d]]) for d in DOC_IDS}
    assert _report(base, back)["repointed"] == N_DOCS
    assert all(registry.latest(d)["refine"] == one for d in DOC_IDS)


def test_a_published_refined_adapter_loads_as_a_peft_folder(refined_once):
    import torch
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from hypernet.lora import applied
    from hypernet.peft_format import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, from_peft_files

    base, first, tmp = refined_once
    registry = open_registry(base, "kb")
    version = next(m for m in registry.versions("doc03.txt") if m["refine"] == RefineConfig(steps=1).key())
    folder = registry.export("doc03.txt", str(tmp / "export"), version["version_id"])
    config = json.loads(Path(folder, ADAPTER_CONFIG_FILE).read_text())
    assert config["base_model_name_or_path"] == version["base_model_id"]

    model = AutoModelForCausalLM.from_pretrained(base.base_model).eval()
    lora = from_peft_files(registry.load_files("doc03.txt", version["version_id"]))
    ids = torch.tensor([[2, 100, 200, 300, 400]])
    with torch.no_grad():
        plain = model(ids).logits
        with applied(model, lora):
            ours = model(ids).logits
    assert not torch.allclose(plain, ours, atol=1e-5), "the refined adapter should change the outputs"

    peft_model = PeftModel.from_pretrained(model, folder).eval()
    loaded, stored = get_peft_model_state_dict(peft_model), load_file(str(Path(folder, ADAPTER_WEIGHTS_FILE)))
    assert set(loaded) == set(stored)  # no missing, no unexpected LoRA keys
    for name, tensor in stored.items():
        assert torch.equal(loaded[name], tensor), name
    with torch.no_grad():
        theirs = peft_model(ids).logits
    torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-4)
