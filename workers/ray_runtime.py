"""Starting or joining Ray: a local instance owned by this program, or an existing cluster.

Idempotent: when Ray is already initialised (a test session, a caller that manages Ray) it is
reused and left running. Only a Ray started here is shut down here.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator

import ray

from workers import heap
from workers.config import WorkerConfig

log = logging.getLogger(__name__)

# Environment of the worker processes of a Ray started here: tokenizers' own thread pool fights
# Ray's processes, and model-loading progress bars from every actor would garble the driver's
# output. (The stages also set this up themselves, for a Ray they did not start.) Ray Data runs a
# model actor's batches in a thread of its own, and glibc gives such a thread an arena of its
# own; one arena, and no mmap for large tensors (workers.heap), let a step reuse the memory
# the last one freed instead of faulting it in again (docs/benchmarks.md).
WORKER_ENV = {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "MALLOC_ARENA_MAX": "1",
              **heap.ENV}


# Ray Train logs every report at INFO from each worker, repeating the job's own progress line at
# every step, through a logger named by its module's file path; its placement-group cleaner asks the
# State API, which a Ray started without a dashboard does not serve, and warns every second that it
# could not. Levels set in every worker process by the setup hook below.
QUIET_WORKER_LOGGERS = {
    os.path.join(os.path.dirname(ray.__file__), "train", "v2", "_internal", "execution", "context.py"): logging.WARNING,
    "ray.train.v2._internal.execution.controller.placement_group_cleaner": logging.ERROR,
}


def quiet_worker_logs() -> None:
    """Ray's worker process setup hook: the levels of QUIET_WORKER_LOGGERS."""
    for name, level in QUIET_WORKER_LOGGERS.items():
        logging.getLogger(name).setLevel(level)


def local_num_cpus() -> int:
    """Logical CPUs for a local Ray: more than cores, so model actors never starve the chunk stage."""
    return max(4, 2 * (os.cpu_count() or 1))


def runtime_env(remote: bool, ship_default_checkpoint: bool = True) -> dict[str, Any]:
    """A remote cluster gets the project's code shipped with the job; a local Ray imports it from here.

    The packaged hypernetwork checkpoint travels with the code unless the run names another one.
    """
    env: dict[str, Any] = {"env_vars": dict(WORKER_ENV),
                           "worker_process_setup_hook": f"{__name__}.{quiet_worker_logs.__name__}"}
    if remote:
        import hypernet
        import workers

        env["py_modules"] = [hypernet, workers]
        env["excludes"] = ["__pycache__", "*.pyc"] + ([] if ship_default_checkpoint else ["checkpoints"])
    return env


def start(cfg: WorkerConfig) -> bool:
    """Make sure Ray is initialised for `cfg`; True when this call started it (and should stop it)."""
    if ray.is_initialized():
        if cfg.ray_address:
            log.info("Ray is already initialised; reusing it (ray_address=%r ignored)", cfg.ray_address)
        return False
    common = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
    if cfg.ray_address:
        # Ray warns about the size of the code it uploads; shipping the packaged checkpoint with it is intended.
        logging.getLogger("ray._private.runtime_env.packaging").setLevel(logging.ERROR)
        ray.init(address=cfg.ray_address, runtime_env=runtime_env(True, not cfg.hypernet_path), **common)
    else:
        # "local": always a fresh instance of our own, even if `ray start` left one running on
        # this machine (plain ray.init() would attach to it). RAY_TMPDIR is honoured by Ray itself.
        ray.init(address="local", num_cpus=local_num_cpus(), runtime_env=runtime_env(remote=False), **common)
    return True


@contextlib.contextmanager
def session(cfg: WorkerConfig) -> Iterator[None]:
    """Ray for the duration of the block; shut down afterwards only if it was started here."""
    started = start(cfg)
    try:
        yield
    finally:
        if started:
            ray.shutdown()
