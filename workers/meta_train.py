"""Meta-training the hypernetwork as a Ray Train job: data parallel, checkpointed to storage, resumable.

    prepare_data   documents -> teacher examples in Parquet (workers/train_data.py, Ray actors)
    fit            TorchTrainer(train_loop_per_worker) on N workers:
                     each worker loads the frozen base model (not wrapped) and the hypernetwork
                     (wrapped in DDP: gloo on CPU, NCCL on GPU);
                     step s: the global batch `batch_indices(s)` is split [rank::N]; each worker
                     averages the loss over its share and DDP averages the gradients, so the
                     update equals one worker's update on the whole batch;
                     every `checkpoint_every` steps rank 0 reports a checkpoint (hypernetwork
                     safetensors + JSON config, optimizer state, step, metric history) with
                     ray.train.report to {storage}/{run_name}/step-NNNNNN;
                     a worker that dies restarts the group (FailureConfig.max_failures), and the
                     loop resumes from ray.train.get_checkpoint(); re-running a finished or broken
                     run with the same name resumes it too.

Per-step metrics (loss, kd, ce, token_acc: means over the global batch; lr, grad_norm, step time)
are reported every step and kept in each checkpoint's train_state.json history, so the latest
checkpoint holds the whole curve. A checkpoint folder is also a plain hypernetwork checkpoint
(`HyperNetwork.load` reads it) in the format of hypernet/train.py.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field

from workers import ray_runtime
from workers.config import MetaTrainConfig, WorkerConfig
from workers.train_data import Location, PreparedData, batch_indices, open_location, prepare, training_documents

META_STATE_FILE = "meta_state.json"
CHECKPOINT_PREFIX = "step-"


def train_config(cfg: MetaTrainConfig):
    """The run's `hypernet.train.TrainConfig` (validated there)."""
    from hypernet.train import TrainConfig

    return TrainConfig(**cfg.train)


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


def model_setup(cfg: MetaTrainConfig) -> ModelSetup:
    """Resolve the base model (no weights loaded) and the hypernetwork to start from; checks they fit."""
    from safetensors.torch import save
    from transformers import AutoConfig

    from hypernet.base_model import resolve
    from hypernet.train import initial_hypernet
    from workers.stages import check_compatible

    ref = resolve(cfg.base_model, cfg.cache_dir or None)
    base_config = AutoConfig.from_pretrained(ref.path)
    net = initial_hypernet(dataclasses.replace(train_config(cfg), init_from=cfg.init_from), base_config, ref.model_id)
    hcfg = net.cfg
    # A fresh run ships only the config: every worker builds the same seeded init itself.
    state = save({k: v.contiguous() for k, v in net.state_dict().items()}) if cfg.init_from else None
    check_compatible(base_config, hcfg)
    return ModelSetup(hcfg.to_dict(), state, ref.model_id, ref.revision)


def prepare_data(cfg: MetaTrainConfig, loc: Location, setup: ModelSetup, progress: bool = True) -> PreparedData:
    """Teacher examples for the run's documents (reused when already prepared); Ray must be up."""
    from hypernet.base_model import resolve
    from hypernet.train import training_words

    tcfg = train_config(cfg)
    words = training_words(tcfg, resolve(cfg.base_model, cfg.cache_dir or None).path) if cfg.data == "synthetic" else ()
    docs = training_documents(cfg.data, cfg.num_docs, tcfg, words)
    hcfg = setup.hypernet_config
    return prepare(loc, docs, base_model_spec=cfg.base_model, cache_dir=cfg.cache_dir,
                   base_model_key={"id": setup.base_model_id, "revision": setup.base_model_revision},
                   chunk_len=hcfg["chunk_len"], max_chunks=hcfg["max_chunks"], top_k=tcfg.top_k,
                   shard_docs=cfg.shard_docs, actors=cfg.prep_actors, cpus_per_actor=cfg.prep_cpus,
                   use_gpu=cfg.use_gpu, progress=progress)


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
    """One Ray Train worker: load models, restore or initialise, then train and report every step."""
    import ray.train
    import ray.train.torch
    import torch
    import torch.distributed as dist
    from safetensors.torch import load as st_load

    from hypernet import base_model
    from hypernet.config import HypernetConfig
    from hypernet.distill import example_to, student_loss
    from hypernet.model import HyperNetwork
    from hypernet.train import load_checkpoint, lr_at, optimizer_to, save_checkpoint
    from workers.stages import quiet_actor_process
    from workers.train_data import ExampleReader

    cfg = MetaTrainConfig.from_dict(config["cfg"])
    tcfg = train_config(cfg)
    loc: Location = config["location"]
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    quiet_actor_process()
    torch.set_num_threads(cfg.torch_threads or max(1, (os.cpu_count() or 1) // world))
    device = ray.train.torch.get_device()
    model, _tok, _ref = base_model.load(cfg.base_model, cfg.cache_dir or None, device=str(device))
    reader = ExampleReader(loc, config["data_dir"])

    def make_opt(net):
        return torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)

    restored = ray.train.get_checkpoint()
    if restored is not None:
        with restored.as_directory() as folder:
            net, opt, start, history = load_checkpoint(folder, make_opt)
            with open(os.path.join(folder, META_STATE_FILE)) as fh:
                meta = json.load(fh)
        restores = meta["restores"] + [{"from_step": start, "world_size": world, "at": time.time()}]
    else:
        torch.manual_seed(tcfg.seed)  # the same init on every worker (DDP also broadcasts rank 0's)
        net = HyperNetwork(HypernetConfig.from_dict(config["model"]["hypernet_config"]))
        if config["model"]["init_state"] is not None:
            net.load_state_dict(st_load(config["model"]["init_state"]))
        opt, start, history, restores = make_opt(net), 0, [], []
    if cfg.worker_report_dir:
        _report_worker(cfg.worker_report_dir, rank, world, start if restored is not None else None)
    net.to(device)
    optimizer_to(opt, device)
    wrapped = ray.train.torch.prepare_model(net, move_to_device=False)
    is_ddp = isinstance(wrapped, torch.nn.parallel.DistributedDataParallel)
    view = _DDPView(wrapped) if is_ddp else net
    net.train()
    share = cfg.global_batch // world

    for step in range(start, tcfg.steps):
        started = time.perf_counter()
        mine = batch_indices(step, cfg.global_batch, len(reader), tcfg.seed)[rank::world]
        lr = lr_at(step, tcfg)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        sums = torch.zeros(5, dtype=torch.float64)  # loss, kd, ce, token_acc, examples
        for i, idx in enumerate(mine):
            ex = example_to(reader.example(idx), device)
            # Accumulate locally; only the last backward of the step all-reduces (DDP no_sync).
            sync = contextlib.nullcontext() if (i == share - 1 or not is_ddp) else wrapped.no_sync()
            with sync:
                loss, met = student_loss(model, view, ex, ce_weight=tcfg.ce_weight, l1_weight=tcfg.l1_weight,
                                         retrieval_weight=tcfg.retrieval_weight)
                (loss / share).backward()
            sums += torch.tensor([met["loss"], met["kd"], met["ce"], met["token_acc"], 1.0], dtype=torch.float64)
        if world > 1:
            dist.all_reduce(sums)  # gloo / NCCL: sums over the whole global batch
            sums = sums.cpu()
        grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), tcfg.grad_clip).item()
        opt.step()
        seconds = time.perf_counter() - started
        n = sums[4].item()
        metrics = {"step": step + 1, "loss": sums[0].item() / n, "kd": sums[1].item() / n, "ce": sums[2].item() / n,
                   "token_acc": sums[3].item() / n, "lr": lr, "grad_norm": grad_norm, "step_seconds": seconds,
                   "examples_per_second": cfg.global_batch / seconds, "world_size": world, "restores": len(restores)}
        history.append(metrics)
        if rank == 0 and cfg.log_every and (step + 1) % cfg.log_every == 0:
            # Not print(): Ray Train patches it to log as well, and the line would show twice.
            sys.stderr.write(f"[meta-train {cfg.run_name}] step {step + 1}/{tcfg.steps} loss {metrics['loss']:.3f} "
                             f"kd {metrics['kd']:.3f} ce {metrics['ce']:.3f} tok_acc {metrics['token_acc']:.2f} "
                             f"lr {lr:.2e} {seconds:.2f} s/step\n")
            sys.stderr.flush()
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == tcfg.steps:
            name = checkpoint_name(step + 1)
            with tempfile.TemporaryDirectory(prefix="docpatch-ckpt-") as tmp:
                checkpoint = None
                if rank == 0:
                    folder = os.path.join(tmp, name)
                    save_checkpoint(folder, net, opt, step + 1, tcfg, history)
                    meta = {"step": step + 1, "restores": restores, "run_name": cfg.run_name,
                            "data": config["data_uri"], "global_batch": cfg.global_batch, "world_size": world}
                    with open(os.path.join(folder, META_STATE_FILE), "w") as fh:
                        json.dump(meta, fh)
                    checkpoint = ray.train.Checkpoint.from_directory(folder)
                ray.train.report(metrics, checkpoint=checkpoint, checkpoint_dir_name=name)
        else:
            ray.train.report(metrics)


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


def fit(cfg: MetaTrainConfig, loc: Location, data: PreparedData, setup: ModelSetup) -> TrainOutcome:
    """Run (or resume) the Ray Train job to `steps`; Ray must be initialised."""
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    started = time.perf_counter()
    # Ray Train gives a worker group 60 s to start; a busy small machine can need longer to start the
    # processes (each imports torch). Ray Train passes this on to its controller.
    os.environ.setdefault("RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S", "300")
    resources = {"CPU": cfg.cpus_per_worker, **({"GPU": 1} if cfg.use_gpu else {})}
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"cfg": cfg.to_dict(), "location": loc, "data_dir": data.data_dir, "data_uri": data.uri,
                           "model": dataclasses.asdict(setup)},
        scaling_config=ScalingConfig(num_workers=cfg.num_workers, use_gpu=cfg.use_gpu, resources_per_worker=resources),
        torch_config=TorchConfig(backend="nccl" if cfg.use_gpu else "gloo"),
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


def run(cfg: MetaTrainConfig, storage_options: dict | None = None, progress: bool = True
        ) -> tuple[PreparedData, TrainOutcome]:
    """Prepare the data and train, in a Ray started here (or the one already running)."""
    loc = open_location(cfg.storage, storage_options)
    setup = model_setup(cfg)
    with ray_runtime.session(WorkerConfig(ray_address=cfg.ray_address)):
        data = prepare_data(cfg, loc, setup, progress=progress)
        return data, fit(cfg, loc, data, setup)
