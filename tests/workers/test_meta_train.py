"""The meta-training job on a real local Ray: 2 CPU workers, gloo DDP, a worker killed mid-run."""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import signal
import threading
import time

import pytest
import torch

from hypernet.config import TrainConfig
from workers.config import MetaTrainConfig, WorkerConfig
from workers.meta_train import checkpoint_name, fit, model_setup, prepare_data
from workers.storage import open_location
from workers.train_data import ExampleReader, batch_indices



def _config(**overrides) -> MetaTrainConfig:
    values = dict(
        run_name="run", num_workers=2, global_batch=4, keep_checkpoints=2, max_failures=2, num_docs=8, shard_docs=4,
        train=TrainConfig(steps=8, save_every=2, log_every=0, warmup=1, lr=3e-3, seed=0, latent_dim=32,
                          n_latents=4, head_dim=16, multi_chunk_prob=0.25, questions_per_doc=2),
    )
    values.update(overrides)
    return MetaTrainConfig(**values)


def _registered(snapshot) -> bool:
    try:
        return bool(json.loads(snapshot.read_text())["checkpoint_results"])
    except (FileNotFoundError, ValueError, KeyError):
        return False


def _fit_killing_a_worker(cfg: MetaTrainConfig, worker: WorkerConfig, loc, data, setup, dense=None, *, run_dir,
                          reports):
    """fit() in a thread; once Ray Train has registered the first checkpoint, worker 1 (still in its first
    life) is SIGKILLed. The job must then finish without an error; its result is returned."""
    outcome, errors = {}, []

    def train():
        try:
            outcome["result"] = fit(cfg, worker, loc, data, setup, dense)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    thread = threading.Thread(target=train)
    thread.start()
    # Ray Train lists a checkpoint in this file once it has registered it (a folder in storage
    # alone may still be uploading); workers block on their next report until the controller has
    # taken the previous one, so they are at most a step or two past it when we strike.
    snapshot = run_dir / "checkpoint_manager_snapshot.json"
    deadline = time.time() + 300
    while not _registered(snapshot) and thread.is_alive() and time.time() < deadline:
        time.sleep(0.05)
    assert _registered(snapshot), errors
    victim = [json.loads(open(p).read()) for p in glob.glob(str(reports / "1-*.json"))]
    assert len(victim) == 1 and victim[0]["restored_from"] is None
    os.kill(victim[0]["pid"], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive() and not errors, errors
    return outcome["result"]


def _dense_targets(n: int = 4):
    """n documents, a random reference adapter for each (what the registry would hold) and the loader the job
    reads them with, which records what it read."""
    import torch

    from hypernet.lora import LoraTensors
    from hypernet.peft_format import to_peft_files

    docs = [{"doc_id": f"d{i}", "text": f"Document {i}: the Tarrow Bridge was opened in {1900 + i}.",
             "version_id": f"v{i}"} for i in range(n)]
    gen = torch.Generator().manual_seed(0)
    refs = {d["doc_id"]: LoraTensors({"mlp.down_proj": (torch.randn(2, 8, 128, generator=gen),
                                                         torch.randn(2, 64, 8, generator=gen) * 0.1)}) for d in docs}
    loaded: list[str] = []

    def load_adapter(doc):
        loaded.append(doc["doc_id"])
        return to_peft_files(refs[doc["doc_id"]], "tiny")

    return docs, load_adapter, loaded


def test_batches_are_a_pure_function_of_the_step_and_cover_each_epoch():
    first = [i for s in range(3) for i in batch_indices(s, 4, 12, seed=0)]
    assert sorted(first) == list(range(12))  # one epoch, no repeats
    assert batch_indices(5, 4, 12, seed=0) == batch_indices(5, 4, 12, seed=0)
    assert batch_indices(0, 4, 12, seed=0) != batch_indices(0, 4, 12, seed=1)
    whole = batch_indices(7, 4, 12, seed=0)
    assert sorted(whole[0::2] + whole[1::2]) == sorted(whole)  # two workers split the same batch


def test_config_rejects_a_batch_that_does_not_split_evenly():
    with pytest.raises(ValueError, match="global_batch=3 must be a multiple of num_workers=2"):
        MetaTrainConfig(global_batch=3, num_workers=2)


def test_config_refuses_settings_of_the_single_process_trainer_and_travels_as_a_dict():
    with pytest.raises(ValueError, match="train.batch_docs is a setting of the single-process trainer"):
        MetaTrainConfig(train=TrainConfig(batch_docs=8))
    cfg = _config()
    assert MetaTrainConfig.from_dict(cfg.to_dict()) == cfg  # what Ray hands each worker


def test_prose_documents_reach_the_job_as_gold_only_examples(tmp_path, tiny_model_path):
    """The Ray job's data: package prose is marked in the document list and its stored examples say
    gold-only; the synthetic documents' entries (and so the prepared data's fingerprint) are unchanged."""
    from hypernet.train import TrainConfig
    from workers.train_data import DATA_FORMAT, INDEX_FILE, TeacherShards, training_documents

    docs = training_documents("synthetic", 12, TrainConfig(package_text_prob=0.5, vocab_names=0.0,
                                                           questions_per_doc=2))
    prose = [d for d in docs if d.get("gold_only")]
    plain = [d for d in docs if "gold_only" not in d]
    assert prose and plain and all(d["doc_id"].split("-", 2)[1] == "package" for d in prose)
    loc = open_location(str(tmp_path / "store"))
    shard = [prose[0], plain[0]]
    TeacherShards(tiny_model_path, "", "cpu", 1, 512, 4, 8).make(loc, loc.path("data", "s.parquet"), shard)
    index = {"format": DATA_FORMAT,
             "examples": [{"doc_id": d["doc_id"], "shard": "s.parquet", "row": i, "n_chunks": 1}
                          for i, d in enumerate(shard)]}
    loc.write_bytes(loc.path("data", INDEX_FILE), json.dumps(index).encode())
    reader = ExampleReader(loc, loc.path("data"))
    assert [reader.example(i).is_gold_only() for i in range(2)] == [True, False]


def test_task_data_is_the_single_process_trainers_tasks_as_examples_in_task_order(tmp_path, tiny_model_path):
    """The Ray job's data for train.data "tasks" (no Ray here): task i and its redraws are the ones the
    single-process trainer draws i-th; a TaskShards shard holds one example per task that gives one (reference
    targets: gold-only), the description as its one chunk, in task order."""
    from dataclasses import asdict

    from hypernet.train import TASK_DRAWS, task_for_step
    from workers.train_data import DATA_FORMAT, INDEX_FILE, TaskShards, training_tasks

    cfg = TrainConfig(data="tasks", questions_per_doc=2)
    tasks = training_tasks(3, cfg)
    assert [t["doc_id"] for t in tasks] == ["000000", "000001", "000002"]
    assert tasks[2]["draws"] == [asdict(task_for_step(cfg, 2, 0, attempt)) for attempt in range(TASK_DRAWS)]
    loc = open_location(str(tmp_path / "store"))
    path = loc.path("data", "s.parquet")
    summary = TaskShards(tiny_model_path, "", "cpu", 1, cfg.task_targets, 8).make(loc, path, tasks)
    made = summary["doc_ids"]
    assert made == sorted(made) and len(made) + summary["failed"] == 3 and made
    for doc_id in made:  # "{task index}-{id of the draw that gave the example}"
        index, task_id = doc_id.split("-", 1)
        assert task_id in {draw["id"] for draw in tasks[int(index)]["draws"]}
    index = {"format": DATA_FORMAT, "examples": [{"doc_id": d, "shard": "s.parquet", "row": i, "n_chunks": 1}
                                                 for i, d in enumerate(made)]}
    loc.write_bytes(loc.path("data", INDEX_FILE), json.dumps(index).encode())
    example = ExampleReader(loc, loc.path("data")).example(0)
    assert example.is_gold_only() and len(example.chunk_acts) == 1


def test_a_run_with_dense_targets_spreads_the_distillation_share_evenly():
    from workers.meta_train import objective_at

    plan = [objective_at(s, 0.25) for s in range(8)]
    assert [o for o, _ in plan] == ["dense"] * 3 + ["distill"] + ["dense"] * 3 + ["distill"]
    assert [i for o, i in plan if o == "dense"] == list(range(6)) and [i for o, i in plan if o == "distill"] == [0, 1]
    assert [objective_at(s, 1.0) for s in range(3)] == [("distill", 0), ("distill", 1), ("distill", 2)]
    assert [objective_at(s, 0.0) for s in range(3)] == [("dense", 0), ("dense", 1), ("dense", 2)]
    shares = [sum(objective_at(s, 0.3)[0] == "distill" for s in range(n)) for n in (10, 100)]
    assert shares == [3, 30]


def test_generic_replay_adds_its_share_of_synthetic_documents():
    """Corpus training keeps the generic skill by distilling generic synthetic documents beside the corpus's."""
    from workers.meta_train import replay_documents

    cfg = TrainConfig(generic_replay=0.25, vocab_names=0)
    docs = replay_documents(cfg, 30, "")
    assert len(docs) == 10 and all(d["doc_id"].startswith("generic-") and d["qa"] for d in docs)
    assert len({d["text"] for d in docs}) == 10 and replay_documents(cfg, 30, "") == docs
    assert replay_documents(TrainConfig(generic_replay=0.0, vocab_names=0), 30, "") == []
    with pytest.raises(ValueError, match="generic_replay"):
        TrainConfig(generic_replay=1.0)


@pytest.mark.usefixtures("ray_local")
def test_a_job_on_dense_targets_and_teacher_examples_resumes_after_a_killed_worker(tmp_path, tiny_model_path):
    """The job on 2 workers (gloo DDP): dense steps (no base-model pass) between distillation steps with the
    retrieval loss, and a worker killed mid-run: both workers restore the last checkpoint and the run finishes
    every step once."""
    from workers.meta_train import prepare_dense_data

    reports = tmp_path / "workers"
    steps = 6
    cfg = _config(worker_report_dir=str(reports), global_batch=2,
                  train=TrainConfig(steps=steps, save_every=2, log_every=0, warmup=1, lr=3e-3, latent_dim=32,
                                    n_latents=4, head_dim=16, questions_per_doc=2, distill_share=0.5, dense_batch=4,
                                    dense_positions=8, retrieval_weight=0.5))
    worker = WorkerConfig(base_model=tiny_model_path, cpus_per_actor=0.5, torch_threads=1)
    loc = open_location(str(tmp_path / "storage"))
    setup = model_setup(cfg, worker)
    data = prepare_data(cfg, worker, loc, setup, progress=False)
    assert data.n_examples == 8 and data.n_shards == 2 and not data.reused
    assert ExampleReader(loc, data.data_dir).example(0).student_ids.shape[0] == 2  # two questions per document
    assert prepare_data(cfg, worker, loc, setup, progress=False).reused  # cached teacher targets
    docs, load_adapter, loaded = _dense_targets()
    dense = prepare_dense_data(cfg, worker, loc, setup, docs, load_adapter, progress=False)
    assert dense.n_examples == 4 and sorted(loaded) == ["d0", "d1", "d2", "d3"]
    assert prepare_dense_data(cfg, worker, loc, setup, docs, load_adapter, progress=False).reused
    assert len(loaded) == 4  # reused: no adapter read again
    assert ExampleReader(loc, dense.data_dir).example(0).inputs[0].shape == (2, 8, 128)

    result = _fit_killing_a_worker(cfg, worker, loc, data, setup, dense, run_dir=tmp_path / "storage" / "run",
                                   reports=reports)
    assert [m["step"] for m in result.history] == list(range(1, steps + 1)) and len(result.restores) == 1
    resumed_at = result.restores[0]["from_step"]
    assert 2 <= resumed_at < steps
    # Steps up to the restored checkpoint ran once, before the kill; the rest after the restore, on both workers.
    assert all(m["restores"] == 0 for m in result.history[:resumed_at])
    assert all(m["restores"] == 1 for m in result.history[resumed_at:])
    restarted = [json.loads(open(p).read()) for p in glob.glob(str(reports / "*.json"))]
    assert sorted(r["restored_from"] for r in restarted if r["restored_from"] is not None) == [resumed_at] * 2
    assert all(m["world_size"] == 2 for m in result.history)
    assert [m["objective"] for m in result.history] == ["dense", "distill"] * 3
    assert all(m["dense"] == m["dense"] and "kd" not in m for m in result.history if m["objective"] == "dense")
    assert all("kd" in m for m in result.history if m["objective"] == "distill")
    retrieval = [m for m in result.history if "retrieval_top1" in m]
    assert retrieval and all(m["objective"] == "distill" and 0 <= m["retrieval_top1"] <= 1
                             and m["retrieval_key"] > 0 for m in retrieval)
    assert [c["step"] for c in result.checkpoints] == [steps - 2, steps]  # keep_checkpoints=2
    final = tmp_path / "storage" / "run" / checkpoint_name(steps)
    assert {"hypernet.safetensors", "hypernet_config.json", "optimizer.safetensors", "train_state.json"} <= \
        set(os.listdir(final))
    assert result.history[-1]["loss"] == result.history[-1]["loss"]  # not NaN
    assert not any(m["nonfinite_skipped"] for m in result.history)


@pytest.mark.usefixtures("ray_local")
def test_a_time_limit_stops_the_job_at_a_checkpoint(tmp_path, tiny_model_path):
    """A limit below one step's time: the job stops after its first step, with that step's checkpoint, long
    before its steps are done. (Each step reports to Ray Train, so a longer limit means many slow reports.)
    The run starts from a checkpoint with a pull of the whole distance back to it (`start_decay`), so the
    step it took leaves the weights where they started; without init_from the pull is refused up front."""
    from transformers import AutoConfig

    from hypernet.model import HyperNetwork
    from hypernet.train import initial_hypernet
    from workers.meta_train import prepare_dense_data

    torch.manual_seed(0)
    start = initial_hypernet(TrainConfig(latent_dim=32, n_latents=4, head_dim=16),
                             AutoConfig.from_pretrained(tiny_model_path), "tiny")
    start.save(str(tmp_path / "start"))
    steps, limit = 100_000, 1e-3
    cfg = _config(num_workers=1, global_batch=1,
                  train=TrainConfig(steps=steps, save_every=steps, log_every=0, warmup=0, lr=3e-3,
                                    init_from=str(tmp_path / "start"), start_decay=1e6,
                                    dense_batch=2, dense_positions=8, max_seconds=limit))
    worker = WorkerConfig(base_model=tiny_model_path, cpus_per_actor=0.5, torch_threads=1)
    with pytest.raises(ValueError, match="init_from"):
        model_setup(dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, init_from="")), worker)
    loc = open_location(str(tmp_path / "storage"))
    setup = model_setup(cfg, worker)
    docs, load_adapter, _ = _dense_targets()
    dense = prepare_dense_data(cfg, worker, loc, setup, docs, load_adapter, progress=False)

    result = fit(cfg, worker, loc, None, setup, dense)
    assert result.steps == 1 and [c["step"] for c in result.checkpoints] == [1]
    assert [m["step"] for m in result.history] == [1] and result.history[0]["step_seconds"] >= limit
    assert result.history[0]["grad_norm"] > 0  # the step moved the weights, and the pull took them back
    after = HyperNetwork.load(str(tmp_path / "storage" / "run" / checkpoint_name(1))).state_dict()
    assert all(torch.equal(after[k], v) for k, v in start.state_dict().items())
