"""Settings of the distributed adapter-generation pipeline (dataclasses only).

pipelines/ fills a `WorkerConfig` from its own settings; everything the Ray side needs to know
(models, cluster, resources, batching) is here, so a run is described by one object.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DTYPES = ("auto", "float32", "bfloat16", "float16")
READ_DTYPES = ("auto", "model", "bfloat16")  # hypernet.activations.READ_DTYPES (workers/config imports no torch)


@dataclass
class WorkerConfig:
    """Where the models and the cluster are, and how the work is split over actors."""

    base_model: str = field(
        default="packaged:gemma-3-270m",
        metadata={"help": "base model spec for hypernet.base_model.load: 'packaged:gemma-3-270m', a model folder or an offline HF id"},
    )
    hypernet_path: str = field(
        default="", metadata={"help": "hypernetwork checkpoint folder ('' = the checkpoint shipped in the package)"}
    )
    cache_dir: str = field(
        default="", metadata={"help": "cache for converted base models ('' = $DOCPATCH_CACHE_DIR or ~/.cache/docpatch)"}
    )
    ray_address: str = field(
        default="",
        metadata={"help": "'' starts a local Ray; 'auto' joins the cluster of this node; 'ray://host:port' connects a client"},
    )
    num_actors: int = field(default=1, metadata={"help": "model actors (each holds a base model and a hypernetwork)"})
    num_gpus_per_actor: float = field(
        default=0.0, metadata={"help": "GPUs per model actor: 0 on CPU machines, 1, or a fraction to share a GPU"}
    )
    num_cpus_per_actor: float = field(
        default=1.0,
        metadata={"help": "logical CPUs reserved per model actor (fractions allowed; a local Ray gets spare logical CPUs for the chunking stage)"},
    )
    torch_threads: int = field(
        default=0, metadata={"help": "torch intra-op threads per model actor (0 = the node's cores / num_actors)"}
    )
    batch_docs: int = field(default=16, metadata={"help": "documents per batch handed to a model actor"})
    max_batch_tokens: int = field(
        default=4096, metadata={"help": "tokens per base-model forward; chunks of several documents are packed by length"}
    )
    dtype: str = field(default="auto", metadata={"help": f"base-model dtype {DTYPES}; 'auto' = bfloat16 on CUDA, float32 on CPU"})
    read_dtype: str = field(
        default="auto",
        metadata={"help": f"precision of the document-reading pass {READ_DTYPES}; 'auto' = a bfloat16 autocast over a float32 model on CPUs with native bf16, else the model's dtype (hypernet.activations.read_autocast)"},
    )
    max_task_retries: int = field(
        default=3,
        metadata={"help": "times a batch is redone after its actor died (the actor is replaced); after that its documents are recorded as failed"},
    )
    actor_report_dir: str = field(
        default="",
        metadata={"help": "if set, each actor of the pipeline writes <pid>.json (pid, stage 'chunk' or 'adapter', host, Ray node id, device, GPU ids Ray assigned, CUDA_VISIBLE_DEVICES, ready time, CPU seconds used to start) here once it has loaded its models (monitoring, benchmarks, fault-injection tests)"},
    )

    def __post_init__(self) -> None:
        if self.num_actors < 1:
            raise ValueError(f"WorkerConfig.num_actors={self.num_actors} must be >= 1")
        if self.num_gpus_per_actor < 0 or (self.num_gpus_per_actor > 1 and self.num_gpus_per_actor != int(self.num_gpus_per_actor)):
            raise ValueError(
                f"WorkerConfig.num_gpus_per_actor={self.num_gpus_per_actor} must be 0, a fraction below 1, or a whole number"
            )
        if self.num_cpus_per_actor < 0:
            raise ValueError(f"WorkerConfig.num_cpus_per_actor={self.num_cpus_per_actor} must be >= 0")
        if self.num_gpus_per_actor == 0 and self.num_cpus_per_actor == 0:
            raise ValueError("WorkerConfig: num_cpus_per_actor and num_gpus_per_actor cannot both be 0 (the actor would take no resources)")
        if self.torch_threads < 0:
            raise ValueError(f"WorkerConfig.torch_threads={self.torch_threads} must be >= 0 (0 = automatic)")
        if self.batch_docs < 1:
            raise ValueError(f"WorkerConfig.batch_docs={self.batch_docs} must be >= 1")
        if self.max_batch_tokens < 16:
            raise ValueError(f"WorkerConfig.max_batch_tokens={self.max_batch_tokens} must be >= 16")
        if self.dtype not in DTYPES:
            raise ValueError(f"WorkerConfig.dtype={self.dtype!r} not in {DTYPES}")
        if self.read_dtype not in READ_DTYPES:
            raise ValueError(f"WorkerConfig.read_dtype={self.read_dtype!r} not in {READ_DTYPES}")
        if self.max_task_retries < 0:
            raise ValueError(f"WorkerConfig.max_task_retries={self.max_task_retries} must be >= 0")
        address = self.ray_address
        if address and address != "auto" and not address.startswith("ray://") and ":" not in address:
            raise ValueError(
                f"WorkerConfig.ray_address={address!r} must be '', 'auto', 'ray://host:port' or 'host:port'"
            )

    @property
    def device(self) -> str:
        """The device asked for: Ray hides all but the actor's GPUs, so 'cuda' is the actor's own (possibly
        shared) GPU. The actor falls back to the CPU where CUDA is missing (workers.stages.actor_device)."""
        return "cuda" if self.num_gpus_per_actor > 0 else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class MetaTrainConfig:
    """One distributed meta-training run: data preparation, the Ray Train job, its checkpoints.

    The optimisation knobs (steps, learning rate, loss weights, hypernetwork sizes, seed) are a
    `hypernet.train.TrainConfig`, held as a dict in `train` so this module stays free of torch;
    its `save_every` is ignored here (see `checkpoint_every`).
    """

    run_name: str = field(default="meta", metadata={"help": "run folder under `storage`; a run with the same name resumes from its latest checkpoint"})
    storage: str = field(default="", metadata={"help": "where prepared data, checkpoints and reports go: a directory or s3://bucket/prefix"})
    base_model: str = field(default="packaged:gemma-3-270m", metadata={"help": "frozen base model spec (hypernet.base_model.load)"})
    cache_dir: str = field(default="", metadata={"help": "cache for converted base models ('' = the default)"})
    ray_address: str = field(default="", metadata={"help": "'' starts a local Ray; otherwise the cluster to join"})
    num_workers: int = field(default=2, metadata={"help": "Ray Train workers (data parallel, one DDP replica each)"})
    use_gpu: bool = field(default=False, metadata={"help": "one GPU per worker and NCCL; otherwise CPU and gloo"})
    cpus_per_worker: float = field(default=1.0, metadata={"help": "logical CPUs reserved per training worker"})
    torch_threads: int = field(default=0, metadata={"help": "torch threads per worker (0 = the node's cores / workers)"})
    global_batch: int = field(default=4, metadata={"help": "documents per optimizer step, over all workers (a multiple of num_workers)"})
    checkpoint_every: int = field(default=10, metadata={"help": "steps between checkpoints (the last step always checkpoints)"})
    keep_checkpoints: int = field(default=3, metadata={"help": "checkpoints kept in storage (the newest)"})
    max_failures: int = field(default=2, metadata={"help": "worker failures the job recovers from (from the latest checkpoint)"})
    data: str = field(default="synthetic", metadata={"help": "'synthetic' or a JSONL file in the eval format"})
    num_docs: int = field(default=64, metadata={"help": "training documents prepared (synthetic: generated; a file: its first N, 0 = all)"})
    prep_actors: int = field(default=1, metadata={"help": "teacher actors in the preparation stage (each loads the base model)"})
    prep_cpus: float = field(default=1.0, metadata={"help": "logical CPUs per teacher actor"})
    shard_docs: int = field(default=16, metadata={"help": "documents per Parquet shard of prepared data"})
    init_from: str = field(default="", metadata={"help": "hypernetwork checkpoint folder to start from ('' = a fresh, seeded init)"})
    log_every: int = field(default=10, metadata={"help": "rank 0 prints a progress line every this many steps (0 = never)"})
    ray_train_log_level: str = field(default="WARNING", metadata={"help": "level of Ray Train's own logs (INFO logs every report)"})
    worker_report_dir: str = field(default="", metadata={"help": "if set, each training worker writes <rank>-<pid>.json here when it starts (monitoring, fault-injection tests)"})
    train: dict = field(default_factory=dict, metadata={"help": "hypernet.train.TrainConfig fields (steps, lr, seed, sizes, ...)"})

    def __post_init__(self) -> None:
        for name in ("num_workers", "global_batch", "checkpoint_every", "keep_checkpoints", "prep_actors", "shard_docs"):
            if getattr(self, name) < 1:
                raise ValueError(f"MetaTrainConfig.{name}={getattr(self, name)} must be >= 1")
        if self.global_batch % self.num_workers:
            raise ValueError(f"MetaTrainConfig.global_batch={self.global_batch} must be a multiple of "
                             f"num_workers={self.num_workers} (every worker takes an equal share of each batch)")
        if self.max_failures < -1 or self.num_docs < 0 or self.torch_threads < 0 or self.log_every < 0:
            raise ValueError("MetaTrainConfig: max_failures >= -1, num_docs, torch_threads and log_every >= 0")
        if self.cpus_per_worker <= 0 and not self.use_gpu:
            raise ValueError(f"MetaTrainConfig.cpus_per_worker={self.cpus_per_worker} must be > 0 on CPU")
        if not self.run_name or "/" in self.run_name or self.run_name.startswith("."):
            raise ValueError(f"MetaTrainConfig.run_name={self.run_name!r} must be a plain folder name")
        if not self.storage:
            raise ValueError("MetaTrainConfig.storage must name a directory or an s3:// URI")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MetaTrainConfig":
        return cls(**data)
