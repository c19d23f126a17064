"""Task adapters (Text-to-LoRA) in the store: versioned by description, task hypernetwork and base model; a
broken one never published; exported as a PEFT folder; `docpatch task`, `ask --task` (alone and composed with a
document's adapter), `adapters ... --tasks` and `eval` on a task file end to end on the tiny model."""
import json
import math

import pytest
import torch

from hypernet.generate import AdapterGenerator
from hypernet.lora import applied
from hypernet.model import HyperNetwork
from hypernet.peft_format import to_peft_files
from hypernet.tasks import make_task, write_jsonl
from pipelines.answering import load_base_model
from pipelines.cli import main
from pipelines.compositions import open_composition_registry
from pipelines.lookup import Unavailable
from pipelines.registry import AdapterKey, Registry
from pipelines.settings import Settings, SettingsError
from pipelines.snapshot import ingest
from pipelines.task_adapters import (BrokenAdapter, latest_task_adapter, make_task_adapter, open_task_registry,
                                     resolve_task_hypernet_path)
from pipelines.versioned_store import registry_uri

FRENCH, CAPS = "Answer in French.", "Reply in capital letters only."


@pytest.fixture
def settings(tmp_path, tiny_model_path, tiny_hypernet_path) -> Settings:
    return Settings(store=str(tmp_path / "store"), base_model=tiny_model_path, task_hypernet_path=tiny_hypernet_path)


@pytest.fixture(scope="module")
def loaded(tiny_model_path):
    return load_base_model(Settings(base_model=tiny_model_path))


def test_the_same_description_is_a_no_op_and_a_changed_one_a_new_version(settings, loaded):
    first = make_task_adapter(settings, "style", FRENCH, loaded)
    again = make_task_adapter(settings, "style", f"  {FRENCH}\n", loaded)
    changed = make_task_adapter(settings, "style", CAPS, loaded)
    back = make_task_adapter(settings, "style", FRENCH, loaded)
    assert (first["created"], first["pointer_moved"]) == (True, True)
    assert (again["created"], again["pointer_moved"], again["seconds"]) == (False, False, 0.0)
    assert again["version_id"] == first["version_id"] != changed["version_id"] and changed["created"]
    assert (back["created"], back["pointer_moved"], back["version_id"]) == (False, True, first["version_id"])
    registry = open_task_registry(settings)
    assert [m["lineage"]["description"] for m in registry.versions("style")] == [FRENCH, CAPS]
    manifest = registry.latest("style")
    assert manifest["version_id"] == first["version_id"] and manifest["lineage"]["kind"] == "task"
    assert manifest["lineage"]["task_hypernet_id"] == manifest["hypernet_id"] == first["hypernet_id"]
    assert registry.verify() == [] and [r["doc_id"] for r in registry.list()] == ["style"]


def test_export_loads_in_peft_with_the_outputs_of_the_in_process_adapter(settings, loaded, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    make_task_adapter(settings, "caps", CAPS, loaded)
    folder = open_task_registry(settings).export("caps", str(tmp_path / "peft"))
    model, tok, _ = loaded
    in_process = AdapterGenerator(model, tok, HyperNetwork.load(settings.task_hypernet_path)).generate([CAPS])[0].lora
    stored, _ = latest_task_adapter(settings, "caps")
    ids = tok("Input: where do herons nest?\nOutput:", return_tensors="pt").input_ids
    with torch.no_grad():
        with applied(model, in_process):
            ours = model(ids).logits
        with applied(model, stored):
            assert torch.allclose(model(ids).logits, ours, atol=1e-5)
        fresh = AutoModelForCausalLM.from_pretrained(settings.base_model).eval()
        peft_logits = PeftModel.from_pretrained(fresh, folder).eval()(ids).logits
    torch.testing.assert_close(peft_logits, ours, rtol=1e-4, atol=1e-4)


def test_a_broken_adapter_is_never_published(settings, loaded, tmp_path):
    net = HyperNetwork.load(settings.task_hypernet_path)
    for head in net.heads.values():
        head.b_scale.data.fill_(math.nan)
    net.save(str(tmp_path / "nan-hypernet"))
    broken = settings.with_overrides(task_hypernet_path=str(tmp_path / "nan-hypernet"))
    with pytest.raises(BrokenAdapter, match="NaN"):
        make_task_adapter(broken, "style", FRENCH, loaded)
    assert open_task_registry(broken).doc_ids() == []
    with pytest.raises(Unavailable, match="no task adapter named 'style'"):
        latest_task_adapter(broken, "style")


def test_a_missing_task_hypernetwork_is_one_error_line(tmp_path, capsys):
    settings = Settings(store=str(tmp_path), task_hypernet_path=str(tmp_path / "absent"))
    with pytest.raises(Unavailable, match="no task hypernetwork in"):
        resolve_task_hypernet_path(settings)
    code = main(["task", FRENCH, "--name", "style", "--store", str(tmp_path), "--task-hypernet", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("docpatch: error: no task hypernetwork in") and "Traceback" not in err


def test_scales_and_compose_steps_are_settings_with_their_checks():
    assert Settings.load(env={"DOCPATCH_TASK_SCALE": "0.5"}).task_scale == 0.5
    assert Settings.load(env={"DOCPATCH_COMPOSE_STEPS": "0"}).compose_steps == 0
    with pytest.raises(SettingsError, match="doc_scale"):
        Settings(doc_scale=-1.0)
    with pytest.raises(SettingsError, match="compose_steps"):
        Settings(compose_steps=-1)


def _run_json(capsys, *args: str):
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _publish_document(settings: Settings, loaded, tmp_path) -> int:
    """A one-document corpus `kb` with an adapter for alpha.md, written without Prefect or Ray; its rank."""
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "alpha.md").write_text("The Alpha lighthouse was built in 1874 by Josiah Marrow.")
    ingest(str(tmp_path / "kb"), "kb", settings.store)
    model, tok, ref = loaded
    lora = AdapterGenerator(model, tok, HyperNetwork.load(settings.task_hypernet_path)).generate(["Alpha."])[0].lora
    files = to_peft_files(lora, ref.model_id)
    Registry(registry_uri(settings.store, "kb")).publish(AdapterKey("alpha.md", "x", "hn", ref.model_id, ref.revision),
                                                          files)
    return json.loads(files["adapter_config.json"])["r"]


def test_task_ask_adapters_and_eval_commands_end_to_end(settings, loaded, tmp_path, capsys):
    common = ["--store", settings.store, "--base-model", settings.base_model]
    made = _run_json(capsys, "task", CAPS, "--name", "caps", "--task-hypernet", settings.task_hypernet_path, *common)
    assert made["created"] and made["rank"] > 0
    assert not _run_json(capsys, "task", CAPS, "--name", "caps", "--task-hypernet", settings.task_hypernet_path,
                         *common)["created"]
    alone = _run_json(capsys, "ask", "--task", "caps", "where do herons nest?", "--max-new-tokens", "4", *common)
    assert alone["mode"] == "task" and alone["task_version_id"] == made["version_id"] and alone["rank"] == made["rank"]
    doc_rank = _publish_document(settings, loaded, tmp_path)
    composed = _run_json(capsys, "ask", "--task", "caps", "--corpus", "kb", "alpha.md", "Who built it?",
                         "--max-new-tokens", "4", *common)
    assert composed["mode"] == "adapter" and composed["version_id"] and composed["rank"] == doc_rank + made["rank"]
    # The pair's fitted composition is stored once: asked again, it is read, not fitted.
    compositions = open_composition_registry(settings, "kb")
    assert composed["fit_seconds"] > 0 and len(compositions.versions("caps+alpha.md")) == 1
    again = _run_json(capsys, "ask", "--task", "caps", "--corpus", "kb", "alpha.md", "Who built it?",
                      "--max-new-tokens", "4", *common)
    assert again["fit_seconds"] == 0 and again["answer"] == composed["answer"]
    projected = _run_json(capsys, "ask", "--task", "caps", "--corpus", "kb", "alpha.md", "Who built it?",
                          "--max-new-tokens", "4", "--compose-steps", "0", *common)
    assert projected["fit_seconds"] == 0 and len(compositions.versions("caps+alpha.md")) == 1
    assert [r["doc_id"] for r in _run_json(capsys, "adapters", "list", "--tasks", *common)] == ["caps"]
    exported = _run_json(capsys, "adapters", "export", "--tasks", "caps", str(tmp_path / "out"), *common)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert exported["folder"] == str(tmp_path / "out")
    write_jsonl([make_task(1, "eval", family="upper_case", n_inputs=1), make_task(2, "train", n_inputs=1)],
                str(tmp_path / "tasks.jsonl"))
    report = _run_json(capsys, "eval", "--data", str(tmp_path / "tasks.jsonl"), "--modes", "base,adapter",
                       "--task-hypernet", settings.task_hypernet_path, *common)
    assert report["n_tasks"] == 2 and 0.0 <= report["adapter"]["accepted"] <= 1.0
    assert report["adapter"]["seconds_per_adapter"] > 0
    assert set(report["base"]["by_group"]) == {"train", "unseen_wording"}
    code = main(["ask", "--task", "nothing", "hello", *common])
    assert code == 2 and "no task adapter named 'nothing'" in capsys.readouterr().err
