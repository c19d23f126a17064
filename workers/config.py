"""Settings of the distributed adapter-generation pipeline and of the meta-training job (dataclasses only).

pipelines/ builds a `WorkerConfig` from its settings (which extend it); everything the Ray side
needs to know (models, cluster, resources, batching) is here, so a run is described by one object.
Each field is the one home of its default, help and check: a field added here is also a docpatch
setting (`DOCPATCH_<NAME>`, docpatch.toml and, on the commands that generate adapters, `--name`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hypernet.base_model import PACKAGED
from hypernet.config import DTYPES, READ_DTYPES, RefineConfig, TrainConfig, check_choice


@dataclass(frozen=True)
class WorkerConfig:
    """Where the models and the cluster are, and how the work is split over actors."""

    base_model: str = field(default=PACKAGED, metadata={
        "help": "frozen base LLM: 'packaged:gemma-3-270m', a local Hugging Face model folder, or a hub id already "
                "in the offline cache"})
    hypernet_path: str = field(default="", metadata={
        "help": "hypernetwork checkpoint folder (empty: the store's current registered hypernetwork, see "
                "`docpatch train`; without one, the checkpoint shipped in the package)"})
    cache_dir: str = field(default="", metadata={
        "help": "cache for converted base models (empty: $DOCPATCH_CACHE_DIR, else ~/.cache/docpatch)"})
    ray_address: str = field(default="", metadata={
        "help": "Ray cluster to join (empty: start a local Ray; 'auto': the cluster of this node; "
                "'ray://host:port': a client connection)"})
    num_actors: int = field(default=1, metadata={
        "help": "model actors (each holds a base model): adapter generation, and the teacher pass of meta-training"})
    gpus_per_actor: float = field(default=0.0, metadata={
        "help": "GPUs per actor and per meta-training worker (0: run on CPU; a fraction below 1 shares a GPU)"})
    cpus_per_actor: float = field(default=1.0, metadata={
        "help": "CPUs reserved per actor and per meta-training worker (fractions allowed; keep the total under "
                "the CPU count so reading is not starved)"})
    torch_threads: int = field(default=0, metadata={
        "help": "torch threads per actor or meta-training worker (0: the node's cores split between them)"})
    batch_docs: int = field(default=16, metadata={"help": "documents per batch sent to an actor"})
    max_batch_tokens: int = field(default=4096, metadata={
        "help": "tokens per base-model forward inside an actor; chunks of several documents are packed by length"})
    dtype: str = field(default="auto", metadata={
        "help": f"base model dtype, one of {', '.join(DTYPES)} ('auto': bfloat16 on a GPU, float32 on the CPU)"})
    read_dtype: str = field(default="auto", metadata={
        "help": "precision of the document-reading pass: auto (a bfloat16 autocast over a float32 model on CPUs "
                "with native bf16, AVX512-BF16 or AMX, where it is faster; else the model's dtype), model (always the "
                "model's dtype: no bf16 rounding, adapters independent of batching) or bfloat16"})
    refine_steps: int = field(default=RefineConfig.steps, metadata={
        "help": "refinement steps per document after generation (hypernet.refine: the adapter trained on questions "
                "made from its own document; 0: publish the generated adapter as is); part of the version key"})
    max_task_retries: int = field(default=3, metadata={
        "help": "times a batch is redone after its actor died (the actor is replaced); after that its documents "
                "are recorded as failed"})
    actor_report_dir: str = field(default="", metadata={
        "help": "if set, each actor of the pipeline writes <pid>.json (pid, stage 'chunk' or 'adapter', host, Ray "
                "node id, device, GPU ids Ray assigned, CUDA_VISIBLE_DEVICES, ready time, CPU seconds used to "
                "start) here once it has loaded its models (monitoring, benchmarks, fault-injection tests)"})

    def __post_init__(self) -> None:
        for name in ("num_actors", "batch_docs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_batch_tokens < 16:
            raise ValueError(f"max_batch_tokens must be at least 16, got {self.max_batch_tokens}")
        for name in ("gpus_per_actor", "cpus_per_actor", "torch_threads", "max_task_retries", "refine_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.gpus_per_actor > 1 and self.gpus_per_actor != int(self.gpus_per_actor):
            raise ValueError(f"gpus_per_actor={self.gpus_per_actor} must be 0, a fraction below 1, or a whole number")
        if self.gpus_per_actor == 0 and self.cpus_per_actor == 0:
            raise ValueError("cpus_per_actor and gpus_per_actor cannot both be 0 (the actor would take no resources)")
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("read_dtype", self.read_dtype, READ_DTYPES)
        address = self.ray_address
        if address and address != "auto" and not address.startswith("ray://") and ":" not in address:
            raise ValueError(f"ray_address={address!r} must be '', 'auto', 'ray://host:port' or 'host:port'")

    @property
    def refine(self) -> RefineConfig:
        """The refinement recipe the model actors apply after generation."""
        return RefineConfig(steps=self.refine_steps)

    @property
    def device(self) -> str:
        """The device asked for: Ray hides all but the actor's GPUs, so 'cuda' is the actor's own (possibly
        shared) GPU. The actor falls back to the CPU where CUDA is missing (workers.stages.actor_device)."""
        return "cuda" if self.gpus_per_actor > 0 else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MetaTrainConfig:
    """One distributed meta-training run: its name, its width, its checkpoints and failures, and the
    optimisation (`train`, the same knobs and defaults as the single-process trainer's).

    The models, the resources of every worker and teacher actor, and Ray come from a `WorkerConfig`
    given beside it; where the run lives, from a storage location.
    """

    run_name: str = field(default="", metadata={
        "help": "run folder under the training storage; a run with the same name resumes from its latest "
                "checkpoint (empty: a new run named meta-DATE-TIME)"})
    num_workers: int = field(default=2, metadata={
        "help": "Ray Train workers (data parallel, one DDP replica each); each takes cpus_per_actor CPUs, or one "
                "GPU when gpus_per_actor > 0 (NCCL; gloo on CPU)"})
    global_batch: int = field(default=4, metadata={
        "help": "documents per optimizer step over all workers (a multiple of the workers)"})
    num_docs: int = field(default=256, metadata={
        "help": "training documents to prepare teacher examples for (synthetic: generated; tasks: the first N "
                "training tasks; a data file: its first N, 0 = all)"})
    keep_checkpoints: int = field(default=3, metadata={
        "help": "newest checkpoints kept in storage; each is evaluated for the report"})
    max_failures: int = field(default=2, metadata={
        "help": "worker failures the job recovers from by restarting at the latest checkpoint (-1: unlimited)"})
    shard_docs: int = field(default=16, metadata={"help": "documents per Parquet shard of prepared data"})
    ray_train_log_level: str = field(default="WARNING", metadata={
        "help": "level of Ray Train's own logs (INFO logs every report)"})
    worker_report_dir: str = field(default="", metadata={
        "help": "if set, each training worker writes <rank>-<pid>.json here when it starts (monitoring, "
                "fault-injection tests)"})
    train: TrainConfig = field(default_factory=TrainConfig, metadata={
        "help": "the optimisation: steps, lr, seed, data, init_from, hypernetwork sizes, ... (its single-process "
                "fields stay at their defaults: the job takes those from its WorkerConfig and global_batch)"})

    def __post_init__(self) -> None:
        if isinstance(self.train, dict):  # from to_dict() (Ray) or a deployment's JSON parameters
            object.__setattr__(self, "train", TrainConfig(**self.train))
        for name in ("num_workers", "global_batch", "keep_checkpoints", "shard_docs"):
            if getattr(self, name) < 1:
                raise ValueError(f"MetaTrainConfig.{name}={getattr(self, name)} must be >= 1")
        if self.global_batch % self.num_workers:
            raise ValueError(f"MetaTrainConfig.global_batch={self.global_batch} must be a multiple of "
                             f"num_workers={self.num_workers} (every worker takes an equal share of each batch)")
        if self.max_failures < -1 or self.num_docs < 0:
            raise ValueError(f"MetaTrainConfig: max_failures={self.max_failures} must be >= -1 and "
                             f"num_docs={self.num_docs} >= 0")
        if "/" in self.run_name or self.run_name.startswith("."):
            raise ValueError(f"MetaTrainConfig.run_name={self.run_name!r} must be a plain folder name")
        changed = self.train.single_process_changes()
        if changed:
            raise ValueError(f"train.{changed[0]} is a setting of the single-process trainer; the distributed job "
                             f"takes it from its worker settings (models, resources) or global_batch")

    def to_dict(self) -> dict[str, Any]:
        """The job's own fields, as JSON-able values (a subclass's extra fields are left out)."""
        return {f.name: dataclasses.asdict(self.train) if f.name == "train" else getattr(self, f.name)
                for f in dataclasses.fields(MetaTrainConfig)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MetaTrainConfig":
        return cls(**data)
