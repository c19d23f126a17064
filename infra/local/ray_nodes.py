"""The stack's Ray cluster: a head (0 GPUs) and worker nodes joined to it, all on this machine,
each with its own temp dir and ports, with token authentication by the stack's own token."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Callable

from infra.local.config import StackConfig
from infra.local.procs import Proc, base_env, executable, free_port, log_says, port_open, spawn, wait_ready

# Unix socket paths must stay under 108 bytes; Ray puts ~72 more under a node's temp root
# (/workerN/session_<date>_<time>_<us>_<pid>/sockets/plasma_store).
MAX_RAY_TEMP_DIR = 32


def ray_temp_dir(state: Path) -> str:
    """Ray's temp root: under the state dir when its path is short enough for Unix sockets."""
    wanted = state / "ray"
    if len(str(wanted)) <= MAX_RAY_TEMP_DIR:
        wanted.mkdir(parents=True, exist_ok=True)
        return str(wanted)
    return tempfile.mkdtemp(prefix="dpstack-", dir="/tmp")


def _ray_node_argv(cfg: StackConfig, temp_root: str, node: str, gpus: int) -> list[str]:
    return [executable("ray"), "start", "--block", "--disable-usage-stats", "--node-ip-address", "127.0.0.1",
            "--num-cpus", str(cfg.cpus_per_node), "--num-gpus", str(gpus),
            "--temp-dir", os.path.join(temp_root, node),
            # Nodes share this machine: every fixed default port would collide, so each gets its own.
            "--dashboard-agent-listen-port", str(free_port()), "--min-worker-port", "0", "--max-worker-port", "0"]


def ray_auth_env(state: Path) -> dict[str, str]:
    """Token authentication with the stack's own token (not ~/.ray's): every node and driver names it."""
    path = state / "ray_auth_token"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(path)}


def start_ray(cfg: StackConfig, state: Path, temp_root: str, add: Callable[[Proc], None],
              log: Callable[[str], None]) -> dict[str, str]:
    """The head, then the worker nodes once the head answers; waits until every node says it started.

    Each process is handed to `add` as soon as it starts, so a failure half-way can stop it.
    """
    port = free_port()
    address = f"127.0.0.1:{port}"
    auth = ray_auth_env(state)
    # A node that gets SIGTERM first drains (up to 30 s, waiting for Serve replicas and leases to
    # go); the local stack has nothing to hand over, so `down` skips that.
    env = {**base_env(), **auth, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    head_argv = _ray_node_argv(cfg, temp_root, "head", 0) + [
        "--head", "--port", str(port), "--include-dashboard", "false", "--ray-client-server-port", str(free_port())]
    head = spawn("ray-head", head_argv, state / "logs" / "ray-head.log", env, address)
    add(head)
    log(f"ray: head node at {address} ({cfg.cpus_per_node:g} CPUs, 0 GPUs; pid {head.pid})")
    # Workers can join once the head's GCS answers, before the rest of the head is up.
    wait_ready("ray head", lambda: port_open("127.0.0.1", port), head, cfg.timeout_s)
    workers = []
    for i in range(1, cfg.ray_workers + 1):
        argv = _ray_node_argv(cfg, temp_root, f"worker{i}", cfg.gpus_per_worker) + ["--address", address]
        proc = spawn(f"ray-worker-{i}", argv, state / "logs" / f"ray-worker-{i}.log", env, address)
        add(proc)
        workers.append(proc)
        log(f"ray: worker node {i} ({cfg.cpus_per_node:g} CPUs, {cfg.gpus_per_worker} GPUs; pid {proc.pid})")
    for proc in [head, *workers]:
        wait_ready(proc.name, log_says(proc.log, "Ray runtime started"), proc, cfg.timeout_s)
    log(f"ray: {len(workers) + 1} nodes up")
    return {"RAY_ADDRESS": address, "DOCPATCH_RAY_ADDRESS": address, **auth}
