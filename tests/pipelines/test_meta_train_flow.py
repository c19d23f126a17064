"""`docpatch train --workers N`: the meta-train flow end to end on the moto S3 server, and its parts.

One worker and one teacher actor here (each is a process that imports torch and loads the model);
the 2-worker DDP job and its recovery are tested in tests/workers/test_meta_train.py.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from pipelines.cli import main
from pipelines.hypernets import HypernetRegistry, resolve_hypernet_path
from pipelines.meta_train.job import decide
from pipelines.settings import Settings


def test_decision_needs_a_strict_win_unless_forced():
    current = {"id": "hn-old", "accuracy": 0.5, "compatible": True}
    assert decide("hn-new", 0.6, current, force=False)["register"]
    tie = decide("hn-new", 0.5, current, force=False)
    assert not tie["register"] and "does not beat" in tie["reason"]
    assert decide("hn-new", 0.1, current, force=True)["register"]
    assert not decide("hn-old", 0.9, current, force=True)["register"]  # already current
    misfit = {"id": "hn-old", "accuracy": None, "compatible": False, "error": "18 layers vs 2"}
    assert decide("hn-new", 0.0, misfit, force=False)["register"]


def test_registry_versions_are_create_only_and_current_moves_by_compare_and_swap(tmp_path, tiny_hypernet_path):
    settings = Settings(store=str(tmp_path / "store"), cache_dir=str(tmp_path / "cache"))
    assert resolve_hypernet_path(settings).endswith("checkpoints/default")  # nothing registered: shipped
    registry = HypernetRegistry(settings.store, cache_dir=settings.cache_dir)
    manifest, created = registry.register(tiny_hypernet_path, {"run_name": "r"})
    assert created and not registry.register(tiny_hypernet_path)[1]
    hid = manifest["hypernet_id"]
    assert not registry.promote(hid, expected="hn-someone-else")  # stale view of current: refused
    assert registry.promote(hid, expected=None) and registry.current()["hypernet_id"] == hid
    folder = resolve_hypernet_path(settings)
    assert folder.startswith(str(tmp_path / "cache")) and hid in folder
    assert [v["hypernet_id"] for v in registry.versions()] == [hid]


@pytest.mark.usefixtures("prefect_harness", "ray_local")
def test_docpatch_train_on_s3_trains_evaluates_registers_reports_and_starts_the_patch(
        s3_bucket, tmp_path, capsys, tiny_model_path, tiny_hypernet_path):
    import s3fs
    from prefect.client.orchestration import get_client

    from pipelines.flows import patch_flow

    # The patch deployment the flow triggers (registered with the API; no worker runs it here).
    patch_flow.to_deployment(name="patch-kb").apply()
    store = f"{s3_bucket}/store"
    code = main(["train", "--workers", "1", "--num-actors", "1", "--steps", "4", "--save-every", "2",
                 "--global-batch", "2", "--docs", "4", "--warmup", "1", "--lr", "3e-3", "--run-name", "r1",
                 "--keep-checkpoints", "2", "--eval-docs", "2", "--force",
                 "--patch", "kb", "--patch-deployment", "docpatch-patch/patch-kb",
                 "--set", "latent_dim=32", "--set", "n_latents=4", "--set", "head_dim=16",
                 "--set", "questions_per_doc=2", "--cpus-per-actor", "0.5", "--torch-threads", "1",
                 "--store", store, "--base-model", tiny_model_path, "--hypernet", tiny_hypernet_path,
                 "--cache-dir", str(tmp_path / "cache"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    run = f"{store}/training/r1".removeprefix("s3://")
    assert result["steps"] == 4 and result["checkpoint"] == f"s3://{run}/step-000004"
    assert {"hypernet.safetensors", "hypernet_config.json", "optimizer.safetensors", "train_state.json"} <= \
        {p.rsplit("/", 1)[1] for p in fs.ls(f"{run}/step-000004")}
    assert result["data"]["n_examples"] == 4 and fs.ls(f"{store}/training/data".removeprefix("s3://"))
    # Eval ran on every kept checkpoint and on the current hypernetwork (the --hypernet one).
    evaluation = result["eval"]
    assert evaluation["n_questions"] > 0 and set(evaluation["checkpoints"]) == {"2", "4"}
    assert evaluation["current"]["source"] == "setting" and evaluation["current"]["accuracy"] is not None
    decision = result["decision"]
    assert decision["register"] and decision["forced"] and decision["promoted"], decision
    # The report: JSON with the decision and the curve, and a PNG, beside the checkpoints.
    report = json.loads(fs.cat_file(f"{run}/training_report.json"))
    assert report["decision"]["hypernet_id"] == decision["hypernet_id"]
    assert [m["step"] for m in report["history"]] == [1, 2, 3, 4]
    assert [c["step"] for c in report["checkpoints"]] == [2, 4]
    assert fs.cat_file(f"{run}/training_report.png")[:8] == b"\x89PNG\r\n\x1a\n"
    # Registered in the store and current: the pipeline now resolves to it.
    registry = HypernetRegistry(store, cache_dir=str(tmp_path / "cache"))
    assert registry.current()["hypernet_id"] == decision["hypernet_id"]
    assert registry.manifest(decision["hypernet_id"])["lineage"]["run_name"] == "r1"
    settings = Settings(store=store, cache_dir=str(tmp_path / "cache"))
    assert decision["hypernet_id"] in resolve_hypernet_path(settings)
    # The patch deployment got a flow run for the corpus.
    async def read_run():
        async with get_client() as client:
            return await client.read_flow_run(result["patch"]["flow_run_id"])

    flow_run = asyncio.run(read_run())
    assert flow_run.parameters == {"corpus": "kb"}


@pytest.mark.usefixtures("prefect_harness", "ray_local")
def test_docpatch_train_on_tasks_trains_a_task_hypernetwork_on_ray_and_does_not_register_it(
        tmp_path, capsys, tiny_model_path):
    """Text-to-LoRA through the same flow: task examples prepared by a Ray actor into the example shards, a
    1-worker Ray Train job, a checkpoint recording its task data, eval on held-out tasks beside the current
    task hypernetwork (the shipped one: it does not fit the tiny model); the document registry is left alone."""
    from hypernet.config import checkpoint_meta
    from hypernet.model import HyperNetwork

    store = tmp_path / "store"
    code = main(["train", "--workers", "1", "--num-actors", "1", "--data", "tasks", "--steps", "2",
                 "--save-every", "2", "--global-batch", "1", "--docs", "2", "--warmup", "1", "--run-name", "t1",
                 "--eval-docs", "1", "--set", "latent_dim=32", "--set", "n_latents=4", "--set", "head_dim=16",
                 "--set", "questions_per_doc=2", "--cpus-per-actor", "0.5", "--torch-threads", "1",
                 "--store", str(store), "--base-model", tiny_model_path, "--cache-dir", str(tmp_path / "cache"),
                 "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    data = store / "training" / "data" / result["data"]["fingerprint"]
    index = json.loads((data / "index.json").read_text())
    assert index["tasks"]["targets"] == "reference" and len(index["examples"]) == result["data"]["n_examples"] >= 1
    final = store / "training" / "t1" / "step-000002"
    assert result["steps"] == 2 and result["checkpoint"].endswith("t1/step-000002")
    assert checkpoint_meta(str(final))["train_config"]["data"] == "tasks" and HyperNetwork.load(str(final))
    report = json.loads((store / "training" / "t1" / "training_report.json").read_text())
    assert [m["step"] for m in report["history"]] == [1, 2] and report["history"][-1]["objective"] == "distill"
    evaluation = result["eval"]
    assert evaluation["unit"] == "task outputs" and evaluation["n_questions"] == 4  # one eval task, four inputs
    assert set(evaluation["checkpoints"]) == {"2"}
    assert evaluation["current"]["source"] == "shipped" and not evaluation["current"]["compatible"]
    decision = result["decision"]
    assert not decision["register"] and not decision["promoted"]
    assert decision["reason"].startswith("a task hypernetwork, not registered") and "does not fit" in decision["reason"]
    assert not HypernetRegistry(str(store), cache_dir=str(tmp_path / "cache")).versions()


def test_a_task_run_is_judged_on_a_task_file_and_a_document_run_on_documents(tmp_path):
    from pipelines.meta_train.job import read_eval, synthetic_eval_file, synthetic_task_eval_file

    docs = synthetic_eval_file(str(tmp_path / "docs.jsonl"), 1)
    tasks = synthetic_task_eval_file(str(tmp_path / "tasks.jsonl"), 2)
    assert len(read_eval(docs, tasks=False)) == 1
    assert [t.split for t in read_eval(tasks, tasks=True)] == ["eval", "eval"]  # held out from training
    with pytest.raises(ValueError, match="a task run is evaluated on a task file"):
        read_eval(docs, tasks=True)
    with pytest.raises(ValueError, match="holds tasks"):
        read_eval(tasks, tasks=False)


def test_single_process_settings_are_refused_by_the_distributed_job(tmp_path):
    from hypernet.config import TrainConfig
    from pipelines.meta_train.job import MetaTrainJob, train_job_config

    settings = Settings(store=str(tmp_path / "store"))
    job = train_job_config(settings, MetaTrainJob(train=TrainConfig(lr=1e-3)))
    assert job.train.lr == 1e-3 and job.run_name.startswith("meta-")
    for key, value in (("batch_docs", 8), ("device", "cuda"), ("dtype", "float32"), ("out_dir", "x")):
        with pytest.raises(ValueError, match=f"train.{key} is a setting of the single-process trainer"):
            MetaTrainJob(train={key: value})
