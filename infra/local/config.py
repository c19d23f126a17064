"""What the local stack starts, where it keeps its files, and the one error a user can fix."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO / ".docpatch" / "stack"
ENV_FILE = "stack.env"
PID_FILE = "stack.json"
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "RAY_USAGE_STATS_ENABLED": "0",
         "TOKENIZERS_PARALLELISM": "false"}


class StackError(RuntimeError):
    """Something the user can fix (a missing executable, a stack already running, a port in use)."""


@dataclass
class StackConfig:
    """What `up` starts."""

    state_dir: str = field(default=str(DEFAULT_STATE_DIR), metadata={"help": "pid file, env file, logs, databases"})
    ray: bool = field(default=True, metadata={"help": "start a Ray cluster"})
    ray_workers: int = field(default=2, metadata={"help": "Ray worker nodes besides the head (0: head only)"})
    cpus_per_node: float = field(default=2, metadata={"help": "logical CPUs each Ray node declares"})
    gpus_per_worker: int = field(default=0, metadata={"help": "GPUs each worker node declares (the head: 0)"})
    prefect: bool = field(default=True, metadata={"help": "start a Prefect server"})
    prefect_ui: bool = field(default=False, metadata={"help": "serve Prefect's web UI too"})
    s3: bool = field(default=True, metadata={"help": "start moto's S3 server"})
    bucket: str = field(default="docpatch", metadata={"help": "bucket created on the S3 server"})
    prefix: str = field(default="store", metadata={"help": "DOCPATCH_STORE is s3://BUCKET/PREFIX"})
    timeout_s: float = field(default=180, metadata={"help": "seconds to wait for each service"})

    def __post_init__(self) -> None:
        if self.ray_workers < 0:
            raise StackError(f"ray_workers must be >= 0, got {self.ray_workers}")
        if self.cpus_per_node <= 0:
            raise StackError(f"cpus_per_node must be > 0, got {self.cpus_per_node}")
        if self.gpus_per_worker < 0:
            raise StackError(f"gpus_per_worker must be >= 0, got {self.gpus_per_worker}")
