"""`docpatch train --corpus kb` and the nightly flywheel end to end: real Prefect flows, local Ray, a tiny model.

The corpus is ingested and patched first (its adapters are the dense targets); training mixes dense and
distillation steps, evaluates on the held-out split and on the generic file, decides, registers and
patches the corpus with the new hypernetwork.
"""
from __future__ import annotations

import json

import pytest

from hypernet.config import TrainConfig
from hypernet.model import HyperNetwork
from pipelines.meta_train import corpus as ct
from pipelines.cli import main
from pipelines.flows import ingest_flow, nightly_repatch, patch_flow
from pipelines.hypernets import HypernetRegistry
from pipelines.meta_train.job import MetaTrainJob
from pipelines.patching import open_registry
from pipelines.registry import AdapterKey
from pipelines.settings import Settings

pytestmark = pytest.mark.usefixtures("prefect_harness", "ray_local")

FACTS = [("Tarrow Bridge", "opened", 1974, "Wux Systems"), ("Kestrel Hall", "built", 1881, "Odran Mace"),
         ("Vell Station", "opened", 1903, "Brannock Rail"), ("Ostrel Tower", "built", 1956, "Mirela Vostrikova"),
         ("Calden Library", "opened", 1921, "Tomas Hale"), ("Pike Ferry", "opened", 1899, "Hesta Lines"),
         ("Morrow Dam", "built", 1937, "Ilsa Crane"), ("Fenn Market", "opened", 1862, "Ada Rook"),
         ("Quill Theatre", "built", 1910, "Juno Vale"), ("Sorrel Mill", "built", 1790, "Piet Anker")]


def _write_corpus(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, verb, year, maker) in enumerate(FACTS):
        (folder / f"doc{i:02d}.txt").write_text(f"The {name} was {verb} in {year}. It was made by {maker} in "
                                                f"Caldenport, a town of the north.")


def _common(tmp_path, tiny_model_path, tiny_hypernet_path) -> list[str]:
    return ["--store", str(tmp_path / "store"), "--base-model", tiny_model_path, "--hypernet", tiny_hypernet_path,
            "--cache-dir", str(tmp_path / "cache"), "--cpus-per-actor", "0.5", "--torch-threads", "1"]


TRAIN = ["--workers", "1", "--num-actors", "1", "--steps", "4", "--save-every", "2", "--global-batch", "2",
         "--warmup", "1", "--lr", "3e-3", "--keep-checkpoints", "2", "--eval-docs", "2", "--holdout-share", "0.3",
         "--set", "dense_batch=4", "--set", "distill_share=0.5", "--set", "dense_positions=8",
         "--set", "questions_per_doc=2"]


def test_docpatch_train_on_a_corpus_trains_on_its_adapters_decides_on_its_held_out_split_and_patches_it(
        tmp_path, capsys, tiny_model_path, tiny_hypernet_path):
    common = _common(tmp_path, tiny_model_path, tiny_hypernet_path)
    _write_corpus(tmp_path / "kb")
    assert main(["ingest", str(tmp_path / "kb"), "--corpus", "kb", "--json", *common[:2]]) == 0
    capsys.readouterr()
    # No adapters yet: nothing to learn from, said in one line.
    assert main(["train", "--corpus", "kb", *TRAIN, "--run-name", "c0", "--json", *common]) == 2
    assert "corpus 'kb' has no adapters to train on; run `docpatch patch --corpus kb` first" in capsys.readouterr().err
    # The patch refines (one step on the tiny model): the registry holds refined adapters, the targets.
    assert main(["patch", "--corpus", "kb", "--refine-steps", "1", "--json", *common]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["generated"] == 10

    code = main(["train", "--corpus", "kb", *TRAIN, "--run-name", "c1", "--force", "--refine-steps", "1", "--json",
                 *common])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "were not refined" not in captured.err
    result = json.loads(captured.out)

    corpus = result["corpus"]
    split = corpus["split"]
    assert split["n_train"] + split["n_holdout"] == 10 and split["n_holdout"] >= 1
    holdout = set(split["holdout_ids"])
    assert holdout == {f"doc{i:02d}.txt" for i in range(10) if ct.held_out(f"doc{i:02d}.txt", 0.3)}
    targets = corpus["targets"]
    assert targets["n_targets"] == targets["refined"] == split["n_train"] and targets["unrefined"] == 0
    assert corpus["distill_documents"] == split["n_train"] and corpus["dense_data"]["n_examples"] == split["n_train"]
    # Both objectives trained, alternating (distill_share 0.5), from the current hypernetwork.
    report_path = tmp_path / "store" / "training" / "c1" / "training_report.json"
    report = json.loads(report_path.read_text())
    assert [m["objective"] for m in report["history"]] == ["dense", "distill", "dense", "distill"]
    assert all("dense" in m for m in report["history"] if m["objective"] == "dense")
    assert report["run"]["init_from"].endswith(tiny_hypernet_path.rstrip("/").rsplit("/", 1)[1])
    assert (tmp_path / "store" / "training" / "c1" / "training_report.png").read_bytes()[:4] == b"\x89PNG"
    # Both evaluations and the decision are in the report; held-out documents were never trained on.
    assert set(report["eval"]["checkpoints"]) == set(corpus["eval"]["checkpoints"]) == {"2", "4"}
    assert report["corpus"]["split"]["holdout_ids"] == sorted(holdout)
    decision = result["decision"]
    assert decision["register"] and decision["promoted"] and decision["forced"]
    assert set(decision) >= {"corpus", "generic", "tolerance"}
    registry = HypernetRegistry(str(tmp_path / "store"), cache_dir=str(tmp_path / "cache"))
    manifest = registry.manifest(decision["hypernet_id"])
    lineage = manifest["lineage"]
    assert lineage["corpus"]["name"] == "kb" and lineage["corpus"]["n_holdout"] == split["n_holdout"]
    # The new hypernetwork is routed: documents unlike the training ones keep the one it started from.
    assert corpus["routing"]["routed"] and corpus["routing"]["n_keys"] == split["n_train"]
    assert lineage["corpus"]["routing"] == corpus["routing"]
    assert set(manifest["files"]) == {"hypernet.safetensors", "hypernet_config.json", "router.safetensors"}
    assert HyperNetwork.load(registry.local_folder(decision["hypernet_id"])).router is not None
    sides = result["eval"]["routed"]["4"]  # the tiny teacher answers no held-out question
    assert sides["corpus"] + sides["fallback"] == result["eval"]["n_docs"] == 2
    # The patch re-patched the corpus with the new hypernetwork.
    assert result["patch"]["generated"] == 10 and result["patch"]["hypernet_id"] == decision["hypernet_id"]
    assert ct.last_training(Settings(store=str(tmp_path / "store")), "kb")["run_name"] == "c1"


def test_the_nightly_flow_starts_corpus_training_once_enough_adapters_were_refined(
        tmp_path, tiny_model_path, tiny_hypernet_path):
    settings = Settings(store=str(tmp_path / "store"), base_model=tiny_model_path, hypernet_path=tiny_hypernet_path,
                        cache_dir=str(tmp_path / "cache"), cpus_per_actor=0.5, torch_threads=1, batch_docs=4,
                        train_after_refined=1, refine_steps=0)  # adapters as generated: none counts
    _write_corpus(tmp_path / "kb")
    ingest_flow(str(tmp_path / "kb"), "kb", settings)
    patch_flow("kb", settings=settings, progress=False)
    job = MetaTrainJob(num_workers=1, global_batch=2, keep_checkpoints=1, eval_docs=1, holdout_share=0.3,
                       train=TrainConfig(steps=2, save_every=2, warmup=1, dense_batch=2, distill_share=0.0,
                                         dense_positions=8, questions_per_doc=2, log_every=0))
    quiet = nightly_repatch(str(tmp_path / "kb"), "kb", settings, progress=False, job=job)
    assert quiet["flywheel"]["refined"] == 0 and "fewer than 1" in quiet["flywheel"]["skipped"]

    # One document gets a refined adapter (as the pipeline's refinement would publish it).
    registry = open_registry(settings, "kb")
    manifest = registry.latest("doc01.txt")
    key = AdapterKey("doc01.txt", manifest["doc_sha256"], manifest["hypernet_id"], manifest["base_model_id"],
                     manifest["base_model_revision"], refine="test-recipe")
    registry.publish_many([(key, registry.load_files("doc01.txt"), {})], run_id="test")
    night = nightly_repatch(str(tmp_path / "kb"), "kb", settings, progress=False, job=job)
    flywheel = night["flywheel"]
    assert flywheel["refined"] == 1 and "error" not in flywheel, flywheel
    assert flywheel["meta_train"]["run_name"] and flywheel["meta_train"]["reason"]
    assert ct.last_training(settings, "kb")["run_name"] == flywheel["meta_train"]["run_name"]
    # The next night counts from that training on.
    again = nightly_repatch(str(tmp_path / "kb"), "kb", settings, progress=False, job=job)
    assert again["flywheel"]["refined"] == 0 and again["flywheel"]["since"]
