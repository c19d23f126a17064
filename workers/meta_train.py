"""Meta-training the hypernetwork as a Ray Train job: data parallel, checkpointed to storage, resumable.

    prepare_data   documents -> teacher examples in Parquet (workers/train_data.py, Ray actors); with
                   train.data "tasks" (Text-to-LoRA), tasks -> task examples in the same shards, trained as
                   document examples are
    prepare_dense_data  documents + reference adapters -> dense targets in Parquet (corpus training)
    fit            TorchTrainer(train_loop_per_worker) on N workers:
                     each worker loads the frozen base model (not wrapped) and the hypernetwork
                     (wrapped in DDP: gloo on CPU, NCCL on GPU);
                     step s: distillation, or with dense targets one of them on the steps
                     `objective_at` gives (an even `train.distill_share` distil); the global
                     batch `batch_indices(k)` of that objective's k-th step is split [rank::N];
                     each worker runs hypernet.train.train_step on its share (distillation: one
                     micro-batch per document; dense: one micro-batch of its share) and DDP
                     averages the gradients, so the update equals one worker's update on the
                     whole batch;
                     every `train.save_every` steps rank 0 reports a checkpoint (hypernetwork
                     safetensors + JSON config, optimizer state, step, metric history) with
                     ray.train.report to {storage}/{run_name}/step-NNNNNN;
                     a worker that dies restarts the group (FailureConfig.max_failures), and the
                     loop resumes from ray.train.get_checkpoint(); re-running a finished or broken
                     run with the same name resumes it too.

Per-step metrics (the objective; loss, kd, ce, token_acc, with the retrieval loss on its key, select and top-1,
or loss, dense: means over the global batch;
lr, grad_norm, step time) are reported every step and kept in each checkpoint's train_state.json history, so the latest
checkpoint holds the whole curve. A checkpoint folder is also a plain hypernetwork checkpoint
(`HyperNetwork.load` reads it) in the format of hypernet/train.py.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field

from workers import ray_runtime
from workers.config import MetaTrainConfig, WorkerConfig
from workers.storage import Location, open_location
from workers.train_data import (PreparedData, batch_indices, prepare, prepare_tasks, training_documents,
                                training_tasks)

META_STATE_FILE = "meta_state.json"
CHECKPOINT_PREFIX = "step-"
# Averaged over the whole global batch each step, by the step's objective.
REPORTED = {"distill": ("loss", "kd", "ce", "token_acc"), "dense": ("loss", "dense")}
# With the retrieval loss on: only questions whose answer sits verbatim in a one-chunk document have these,
# so a step or a worker may have none, and they are averaged over the workers that do.
RETRIEVAL = ("retrieval_key", "retrieval_select", "retrieval_top1")


def reported(objective: str, retrieval_weight: float) -> tuple[str, ...]:
    """The metric names a step of `objective` reports and logs."""
    return REPORTED[objective] + (RETRIEVAL if objective == "distill" and retrieval_weight else ())


def checkpoint_name(step: int) -> str:
    return f"{CHECKPOINT_PREFIX}{step:06d}"


# -- set-up in the driver -----------------------------------------------------------------------------------------
@dataclass
class ModelSetup:
    """What every worker builds the same way: the hypernetwork config and optional initial weights."""

    hypernet_config: dict
    init_state: bytes | None  # safetensors of the initial hypernetwork weights (None: fresh seeded init)
    base_model_id: str
    base_model_revision: str


def model_setup(cfg: MetaTrainConfig, worker: WorkerConfig) -> ModelSetup:
    """Resolve the base model (no weights loaded) and the hypernetwork to start from; checks they fit."""
    from safetensors.torch import save
    from transformers import AutoConfig

    from hypernet.base_model import resolve
    from hypernet.train import initial_hypernet, start_weights
    from workers.stages import check_compatible

    if not cfg.train.init_from:  # start_decay without a start is refused here, before any worker starts
        start_weights(cfg.train, None)
    ref = resolve(worker.base_model, worker.cache_dir or None)
    base_config = AutoConfig.from_pretrained(ref.path)
    net = initial_hypernet(cfg.train, base_config, ref.model_id)
    hcfg = net.cfg
    # A fresh run ships only the config: every worker builds the same seeded init itself.
    state = save({k: v.contiguous() for k, v in net.state_dict().items()}) if cfg.train.init_from else None
    check_compatible(base_config, hcfg)
    return ModelSetup(hcfg.to_dict(), state, ref.model_id, ref.revision)


def prepare_data(cfg: MetaTrainConfig, worker: WorkerConfig, loc: Location, setup: ModelSetup,
                 progress: bool = True, docs: list[dict] | None = None) -> PreparedData:
    """Teacher examples for the run's documents (reused when already prepared); Ray must be up.

    The documents are `train.data`'s (workers.train_data.training_documents), or `docs` in that form when
    given (a corpus's, with the questions it makes up, plus `train.generic_replay` of generic synthetic ones,
    `replay_documents`); with train.data "tasks", the first `num_docs` training
    tasks' examples instead (workers.train_data.training_tasks). `worker.num_actors` teacher actors, each
    sized like a training worker."""
    from hypernet.base_model import resolve
    from hypernet.train import training_words

    tcfg = cfg.train
    base_model_key = {"id": setup.base_model_id, "revision": setup.base_model_revision}
    actors = dict(shard_docs=cfg.shard_docs, actors=worker.num_actors, cpus_per_actor=worker.cpus_per_actor,
                  use_gpu=worker.gpus_per_actor > 0, progress=progress)
    if tcfg.data == "tasks" and docs is None:
        return prepare_tasks(loc, training_tasks(cfg.num_docs, tcfg), base_model_spec=worker.base_model,
                             cache_dir=worker.cache_dir, base_model_key=base_model_key, targets=tcfg.task_targets,
                             top_k=tcfg.top_k, **actors)
    if docs is None:
        words = (training_words(tcfg, resolve(worker.base_model, worker.cache_dir or None).path)
                 if tcfg.data == "synthetic" else ())
        docs = training_documents(tcfg.data, cfg.num_docs, tcfg, words)
    elif tcfg.generic_replay:
        docs = docs + replay_documents(tcfg, len(docs), resolve(worker.base_model, worker.cache_dir or None).path)
    hcfg = setup.hypernet_config
    return prepare(loc, docs, base_model_spec=worker.base_model, cache_dir=worker.cache_dir,
                   base_model_key=base_model_key, chunk_len=hcfg["chunk_len"], max_chunks=hcfg["max_chunks"],
                   top_k=tcfg.top_k, **actors)


def replay_documents(tcfg, n_corpus: int, model_folder: str) -> list[dict]:
    """Generic synthetic documents to go with `n_corpus` corpus documents, `tcfg.generic_replay` of the whole:
    the first ones generic meta-training draws (doc ids prefixed "generic-")."""
    from hypernet.train import training_words

    n = round(n_corpus * tcfg.generic_replay / (1 - tcfg.generic_replay))
    if n < 1:
        return []
    docs = training_documents("synthetic", n, tcfg, training_words(tcfg, model_folder))
    return [{**d, "doc_id": f"generic-{d['doc_id']}"} for d in docs]


def prepare_dense_data(cfg: MetaTrainConfig, worker: WorkerConfig, loc: Location, setup: ModelSetup,
                       docs: list[dict], load_adapter, progress: bool = True) -> PreparedData:
    """Dense targets (hypernet.dense) for `docs` ({doc_id, text, version_id} with `load_adapter(doc)` ->
    the reference adapter's PEFT files), read as the pipeline reads documents; Ray must be up."""
    from workers.train_data import prepare_dense

    return prepare_dense(loc, docs, load_adapter, base_model_spec=worker.base_model, cache_dir=worker.cache_dir,
                         base_model_key={"id": setup.base_model_id, "revision": setup.base_model_revision},
                         hypernet_config=setup.hypernet_config, positions=cfg.train.dense_positions,
                         read_dtype=worker.read_dtype, max_batch_tokens=worker.max_batch_tokens,
                         shard_docs=cfg.shard_docs, actors=worker.num_actors, cpus_per_actor=worker.cpus_per_actor,
                         use_gpu=worker.gpus_per_actor > 0, progress=progress)


def objective_at(step: int, distill_share: float) -> tuple[str, int]:
    """The objective of step `step` when the run has dense targets, and how many steps of that objective
    came before it: distillation on an even `distill_share` of the steps, dense targets on the rest.
    A pure function of its arguments, like `batch_indices`."""
    before = math.floor(step * distill_share + 1e-9)
    if math.floor((step + 1) * distill_share + 1e-9) > before:
        return "distill", before
    return "dense", step - before


# -- the loop on each worker ------------------------------------------------------------------------------------------
class _DDPView:
    """What `student_loss` needs from a hypernetwork, with the forward going through DDP.

    DDP hides the module's attributes (`cfg`) and methods (`bias_lora`); the forward must go
    through the wrapper so gradients are averaged across workers.
    """

    def __init__(self, ddp):
        self._ddp = ddp

    def __call__(self, *args, **kwargs):
        return self._ddp(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ddp.module, name)


def _report_worker(folder: str, rank: int, world: int, restored_from: int | None) -> None:
    os.makedirs(folder, exist_ok=True)
    info = {"pid": os.getpid(), "rank": rank, "world_size": world, "host": socket.gethostname(),
            "started_at": time.time(), "restored_from": restored_from}
    tmp = os.path.join(folder, f".{rank}-{os.getpid()}.json.tmp")
    with open(tmp, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, os.path.join(folder, f"{rank}-{os.getpid()}.json"))


def train_loop_per_worker(config: dict) -> None:
    """One Ray Train worker: load models, restore or initialise, then the shared training step under DDP,
    reporting every step."""
    import ray.train
    import ray.train.torch
    import torch

    from hypernet import base_model
    from safetensors.torch import load as st_load

    from hypernet.train import optimizer_to, start_weights, train_step
    from workers.stages import quiet_actor_process
    from workers.train_data import ExampleReader

    cfg = MetaTrainConfig.from_dict(config["cfg"])
    worker = WorkerConfig(**config["worker"])
    tcfg = cfg.train
    loc: Location = config["location"]
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    quiet_actor_process()
    torch.set_num_threads(worker.torch_threads or max(1, (os.cpu_count() or 1) // world))
    device = ray.train.torch.get_device()
    model, _tok, _ref = base_model.load(worker.base_model, worker.cache_dir or None, device=str(device),
                                        dtype=worker.dtype)
    # Teacher examples (distillation) and, for corpus training, dense targets; a run has one or both.
    reader = ExampleReader(loc, config["data_dir"]) if config["data_dir"] else None
    dense = ExampleReader(loc, config["dense_dir"]) if config.get("dense_dir") else None
    share = tcfg.distill_share if dense is not None and reader is not None else (0.0 if reader is None else 1.0)

    restored = ray.train.get_checkpoint()
    net, opt, start, history, restores = _restore_or_init(restored, config["model"], tcfg, world)
    if cfg.worker_report_dir:
        _report_worker(cfg.worker_report_dir, rank, world, start if restored is not None else None)
    net.to(device)
    optimizer_to(opt, device)
    init_state = config["model"]["init_state"]
    toward = start_weights(tcfg, st_load(init_state) if init_state is not None else None, device)
    wrapped = ray.train.torch.prepare_model(net, move_to_device=False)
    is_ddp = isinstance(wrapped, torch.nn.parallel.DistributedDataParallel)
    net.train()

    # Training seconds of the steps the run kept before this (re)start: a time budget spans restores.
    spent = sum(m.get("step_seconds", 0.0) for m in history)
    for step in range(start, tcfg.steps):
        started = time.perf_counter()
        objective, index = objective_at(step, share)
        batch, micro = _worker_share(cfg, objective, index, reader, dense, rank, world, device)
        met = train_step(model, _DDPView(wrapped) if is_ddp else net, opt, micro, tcfg, step,
                         time_fraction=spent / tcfg.max_seconds if tcfg.max_seconds else 0.0,
                         no_sync=wrapped.no_sync if is_ddp else None, start=toward)
        seconds = time.perf_counter() - started
        spent += seconds
        if tcfg.max_seconds:  # the workers' clocks differ by a step's jitter: all stop at the slowest one's
            spent = _slowest(spent, world, device)
        out_of_time = bool(tcfg.max_seconds) and spent >= tcfg.max_seconds
        keys = reported(objective, tcfg.retrieval_weight)
        metrics = {"step": step + 1, "objective": objective, **_global_means(met, keys, world, device),
                   "lr": met["lr"], "grad_norm": met["grad_norm"], "step_seconds": seconds,
                   "examples_per_second": batch / seconds, "world_size": world, "restores": len(restores),
                   "nonfinite_skipped": met.get("nonfinite_skipped", 0)}
        history.append(metrics)
        if rank == 0 and metrics["nonfinite_skipped"]:  # every rank skipped it: the norm is of all-reduced grads
            sys.stderr.write(f"[meta-train {cfg.run_name}] step {step + 1}: the gradient is not finite; "
                             "the step updated nothing\n")
        if rank == 0 and tcfg.log_every and (step + 1) % tcfg.log_every == 0:
            _log_step(cfg, metrics, keys)
        if (step + 1) % tcfg.save_every == 0 or step + 1 == tcfg.steps or out_of_time:
            meta = {"step": step + 1, "restores": restores, "run_name": cfg.run_name,
                    "data": config["data_uri"], "global_batch": cfg.global_batch, "world_size": world}
            _report_checkpoint(metrics, net, opt, tcfg, history, meta, rank)
        else:
            ray.train.report(metrics)
        if out_of_time:
            if rank == 0:
                sys.stderr.write(f"[meta-train {cfg.run_name}] stopping at step {step + 1}: the time limit of "
                                 f"{tcfg.max_seconds:.0f} s is spent\n")
            break


def _slowest(seconds: float, world: int, device) -> float:
    """The largest of the workers' values, so a time limit stops them all at the same step."""
    if world == 1:
        return seconds
    import torch
    import torch.distributed as dist

    value = torch.tensor([seconds], dtype=torch.float64, device=device)  # NCCL reduces GPU tensors only
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return float(value.item())


def _worker_share(cfg: MetaTrainConfig, objective: str, index: int, reader, dense, rank: int, world: int,
                  device) -> tuple[int, list]:
    """The global batch size of the objective's `index`-th step, and this worker's micro-batches of it."""
    from hypernet.distill import example_to

    tcfg = cfg.train
    if objective == "distill":  # one micro-batch per document: each runs the base model
        mine = batch_indices(index, cfg.global_batch, len(reader), tcfg.seed)[rank::world]
        return cfg.global_batch, [example_to(reader.example(idx), device) for idx in mine]
    # the worker's share in one micro-batch: one hypernetwork batch, no base-model pass
    mine = batch_indices(index, tcfg.dense_batch, len(dense), tcfg.seed + 1)[rank::world]
    return tcfg.dense_batch, [[dense.example(idx).to(device) for idx in mine]]


def _restore_or_init(restored, model_setup: dict, tcfg, world: int) -> tuple:
    """(net, optimizer, first step, history, restores): from Ray Train's checkpoint when the group
    restarted, else the same seeded (or shipped) initial weights on every worker."""
    import torch
    from safetensors.torch import load as st_load

    from hypernet.config import HypernetConfig
    from hypernet.model import HyperNetwork
    from hypernet.train import load_checkpoint, make_optimizer

    if restored is not None:
        with restored.as_directory() as folder:
            net, opt, start, history = load_checkpoint(folder, lambda net: make_optimizer(net, tcfg))
            with open(os.path.join(folder, META_STATE_FILE)) as fh:
                meta = json.load(fh)
        restores = meta["restores"] + [{"from_step": start, "world_size": world, "at": time.time()}]
        return net, opt, start, history, restores
    torch.manual_seed(tcfg.seed)  # the same init on every worker (DDP also broadcasts rank 0's)
    net = HyperNetwork(HypernetConfig.from_dict(model_setup["hypernet_config"]))
    if model_setup["init_state"] is not None:
        net.load_state_dict(st_load(model_setup["init_state"]))
    return net, make_optimizer(net, tcfg), 0, [], []


def _global_means(met: dict, keys: tuple[str, ...], world: int, device) -> dict[str, float]:
    """The step's metrics averaged over the workers that have them (each has an equal share of the batch,
    so the mean of means); a metric no worker has is left out."""
    import torch
    import torch.distributed as dist

    sums = torch.tensor([[met.get(k, 0.0), float(k in met)] for k in keys], dtype=torch.float64).reshape(-1, 2)
    if world > 1:
        sums = sums.to(device)  # NCCL reduces GPU tensors only
        dist.all_reduce(sums)
        sums = sums.cpu()
    return {k: total / count for k, (total, count) in zip(keys, sums.tolist()) if count}


def _log_step(cfg: MetaTrainConfig, metrics: dict, keys: tuple[str, ...]) -> None:
    # Not print(): Ray Train patches it to log as well, and the line would show twice.
    sys.stderr.write(f"[meta-train {cfg.run_name}] step {metrics['step']}/{cfg.train.steps} {metrics['objective']} "
                     + " ".join(f"{k} {metrics[k]:.3f}" for k in keys if k in metrics)
                     + f" lr {metrics['lr']:.2e} {metrics['step_seconds']:.2f} s/step\n")
    sys.stderr.flush()


def _report_checkpoint(metrics: dict, net, opt, tcfg, history: list[dict], meta: dict, rank: int) -> None:
    """Every worker reports the step; rank 0 attaches the checkpoint (hypernetwork, optimizer, history, meta)."""
    import ray.train

    from hypernet.train import save_checkpoint

    name = checkpoint_name(meta["step"])
    with tempfile.TemporaryDirectory(prefix="docpatch-ckpt-") as tmp:
        checkpoint = None
        if rank == 0:
            folder = os.path.join(tmp, name)
            save_checkpoint(folder, net, opt, meta["step"], tcfg, history)
            with open(os.path.join(folder, META_STATE_FILE), "w") as fh:
                json.dump(meta, fh)
            checkpoint = ray.train.Checkpoint.from_directory(folder)
        ray.train.report(metrics, checkpoint=checkpoint, checkpoint_dir_name=name)


# -- the job, from the driver -----------------------------------------------------------------------------------------
@dataclass
class TrainOutcome:
    """What a finished run left in storage, and its curve."""

    run_name: str
    run_uri: str
    run_path: str  # inside the location's filesystem
    checkpoint_uri: str  # the final checkpoint
    checkpoint_path: str
    steps: int
    checkpoints: list[dict] = field(default_factory=list)  # kept ones: {"step", "uri", "path"}, oldest first
    history: list[dict] = field(default_factory=list)  # per-step metrics
    restores: list[dict] = field(default_factory=list)  # {"from_step", "world_size", "at"} per resume
    final_metrics: dict = field(default_factory=dict)
    num_workers: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def fit(cfg: MetaTrainConfig, worker: WorkerConfig, loc: Location, data: PreparedData | None,
        setup: ModelSetup, dense: PreparedData | None = None) -> TrainOutcome:
    """Run (or resume) the Ray Train job to `train.steps`; Ray must be initialised. With `dense` targets,
    a `train.distill_share` of the steps distil on `data` and the rest match the dense targets (one of
    the two may be None)."""
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    if not cfg.run_name:
        raise ValueError("MetaTrainConfig.run_name must name the run before it starts")
    if data is None and dense is None:
        raise ValueError("meta-training needs teacher examples, dense targets or both")
    if dense is not None and cfg.train.dense_batch % cfg.num_workers:
        raise ValueError(f"train.dense_batch={cfg.train.dense_batch} must be a multiple of num_workers="
                         f"{cfg.num_workers} (every worker takes an equal share of each batch)")
    started = time.perf_counter()
    # Ray Train gives a worker group 60 s to start; a busy small machine can need longer to start the
    # processes (each imports torch). Ray Train passes this on to its controller.
    os.environ.setdefault("RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S", "300")
    use_gpu = worker.gpus_per_actor > 0
    resources = {"CPU": worker.cpus_per_actor, **({"GPU": 1} if use_gpu else {})}
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"cfg": cfg.to_dict(), "worker": worker.to_dict(), "location": loc,
                           "data_dir": data.data_dir if data else "", "data_uri": data.uri if data else "",
                           "dense_dir": dense.data_dir if dense else "", "model": dataclasses.asdict(setup)},
        scaling_config=ScalingConfig(num_workers=cfg.num_workers, use_gpu=use_gpu, resources_per_worker=resources),
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        run_config=RunConfig(
            name=cfg.run_name, storage_path=loc.root, storage_filesystem=None if loc.is_local else loc.fs,
            failure_config=FailureConfig(max_failures=cfg.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=cfg.keep_checkpoints),
            logging_config=LoggingConfig(log_level=cfg.ray_train_log_level)),
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"meta-training run {cfg.run_name} finished without a checkpoint")
    final = result.checkpoint.path
    state = json.loads(loc.read_bytes(f"{final}/train_state.json"))
    meta = json.loads(loc.read_bytes(f"{final}/{META_STATE_FILE}"))
    kept = sorted({c.path for c, _ in (result.best_checkpoints or [])} | {final})
    checkpoints = [{"step": int(p.rsplit("/", 1)[1].removeprefix(CHECKPOINT_PREFIX)), "uri": loc.uri_of(p), "path": p}
                   for p in kept]
    run_path = loc.path(cfg.run_name)
    return TrainOutcome(
        run_name=cfg.run_name, run_uri=loc.uri_of(run_path), run_path=run_path, checkpoint_uri=loc.uri_of(final),
        checkpoint_path=final, steps=state["step"], checkpoints=sorted(checkpoints, key=lambda c: c["step"]),
        history=state["history"], restores=meta["restores"], final_metrics=state["history"][-1] if state["history"] else {},
        num_workers=cfg.num_workers, seconds=time.perf_counter() - started)


def download_checkpoint(loc: Location, path: str, dest: str) -> str:
    """Copy a checkpoint folder from storage to a local folder; returns the folder."""
    import pyarrow.fs as pafs

    os.makedirs(dest, exist_ok=True)
    pafs.copy_files(path, dest, source_filesystem=loc.fs, destination_filesystem=pafs.LocalFileSystem())
    return dest


def run(cfg: MetaTrainConfig, worker: WorkerConfig, storage: str, storage_options: dict | None = None,
        progress: bool = True) -> tuple[PreparedData, TrainOutcome]:
    """Prepare the data and train in `storage` (a directory or s3:// URI), in a Ray started here
    (or the one already running)."""
    loc = open_location(storage, storage_options)
    setup = model_setup(cfg, worker)
    with ray_runtime.session(worker):
        data = prepare_data(cfg, worker, loc, setup, progress=progress)
        return data, fit(cfg, worker, loc, data, setup)
