"""The local docpatch stack: a Prefect server, a multi-node Ray cluster and an S3 server on 127.0.0.1.

    python -m infra.local.stack up       start everything, write STATE/stack.env and STATE/stack.json
    python -m infra.local.stack status   what runs, with pids and addresses (--json)
    python -m infra.local.stack down     stop exactly what `up` started, by process id

What `up` starts (each a process group of its own, recorded in STATE/stack.json):
    s3          moto's S3 server, with one bucket (s3.py)
    prefect     `prefect server start` (its database and settings in STATE/prefect; prefect_server.py)
    ray-head    `ray start --head --block`: the head node, 0 GPUs (ray_nodes.py)
    ray-worker-N  `ray start --block --address ...`: worker nodes (optionally `--num-gpus 1` each)

Every node runs on this machine with its own temp dir, logical CPUs and ports, so a laptop or a
CI box gets a real Ray cluster (nodes joining a head over the network, actors placed on nodes by
their resources) without any machine of its own per node. `down` sends SIGTERM to each recorded
process (Ray's `--block` mode then stops its node's processes), waits, and kills whatever is left
in that process group; a pid is only signalled while it is still the process `up` started (its
start time is recorded too), so nothing else on the machine is touched (procs.py).

STATE/stack.env holds what a shell or a program needs to use the stack (`set -a; . STATE/stack.env;
set +a`): PREFECT_API_URL, RAY_ADDRESS and DOCPATCH_RAY_ADDRESS, AWS_ENDPOINT_URL with dummy
credentials, DOCPATCH_STORE=s3://BUCKET/PREFIX.

Standard library only (plus boto3, already a docpatch dependency, to create the bucket); the
`ray`, `prefect` and `moto_server` executables are looked up next to this Python, then on PATH.
The command line is cli.py.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from infra.local.config import DEFAULT_STATE_DIR, ENV_FILE, PID_FILE, QUIET, StackConfig, StackError
from infra.local.prefect_server import start_prefect
from infra.local.procs import Proc, http_ok, is_running, stop_proc, wait_ready
from infra.local.ray_nodes import ray_temp_dir, start_ray
from infra.local.s3 import create_bucket, start_s3


@dataclass
class Stack:
    """A running stack: its processes and the environment that points programs at it."""

    state_dir: str
    procs: list[Proc]
    env: dict[str, str]
    ray_temp_dir: str = ""

    @property
    def env_file(self) -> str:
        return os.path.join(self.state_dir, ENV_FILE)

    def to_dict(self) -> dict:
        return {"state_dir": self.state_dir, "env_file": self.env_file, "ray_temp_dir": self.ray_temp_dir,
                "env": self.env, "procs": [asdict(p) for p in self.procs]}

    @classmethod
    def from_dict(cls, data: dict) -> "Stack":
        return cls(data["state_dir"], [Proc(**p) for p in data["procs"]], data["env"], data.get("ray_temp_dir", ""))


def load(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> Stack | None:
    """The stack recorded in a state dir, or None."""
    path = Path(state_dir) / PID_FILE
    try:
        return Stack.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def read_env(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> dict[str, str]:
    """The variables of a running stack's env file (for tests and scripts that launch programs)."""
    stack = load(state_dir)
    if stack is None:
        raise StackError(f"no stack recorded in {state_dir}; run `python -m infra.local.stack up` first")
    return dict(stack.env)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _env_text(env: dict[str, str]) -> str:
    lines = [f"# The local docpatch stack ({time.strftime('%Y-%m-%d %H:%M:%S')}); written by "
             "`python -m infra.local.stack up`.", "# Use: set -a; . THIS_FILE; set +a"]
    return "\n".join(lines + [f"export {k}={shlex.quote(v)}" for k, v in env.items()]) + "\n"


def _already_up(state: Path, log: Callable[[str], None]) -> Stack | None:
    """The stack recorded here when all of it runs; a stale record is removed, a half-running one refused."""
    existing = load(state)
    if existing is None:
        return None
    alive = [p for p in existing.procs if is_running(p)]
    if alive and len(alive) == len(existing.procs):
        log(f"the stack in {state} is already up ({len(alive)} processes); env: {existing.env_file}")
        return existing
    if alive:
        raise StackError(f"part of the stack in {state} is running ({', '.join(p.name for p in alive)}); "
                         "run `python -m infra.local.stack down` first")
    (state / PID_FILE).unlink()
    return None


def _start_services(cfg: StackConfig, stack: Stack, add: Callable[[Proc], None], log: Callable[[str], None]) -> None:
    """Start what `cfg` asks for and wait until each service answers; the S3 bucket last."""
    state = Path(stack.state_dir)
    started = time.monotonic()
    stack.ray_temp_dir = ray_temp_dir(state) if cfg.ray else ""
    # Slow starters first and in parallel: the Prefect server and the S3 server boot while Ray starts.
    waits = []
    if cfg.prefect:
        proc, env = start_prefect(cfg, state, log)
        add(proc)
        stack.env.update(env)
        waits.append(("prefect server", lambda url=env["PREFECT_API_URL"]: http_ok(url + "/health"), proc))
    if cfg.s3:
        proc, env = start_s3(cfg, state, log)
        add(proc)
        stack.env.update(env)
        waits.append(("s3 server", lambda url=env["AWS_ENDPOINT_URL"]: http_ok(url), proc))
    if cfg.ray:
        stack.env.update(start_ray(cfg, state, stack.ray_temp_dir, add, log))
    _write_atomic(state / PID_FILE, json.dumps(stack.to_dict(), indent=2))
    for what, ready, proc in waits:
        wait_ready(what, ready, proc, cfg.timeout_s)
        log(f"{what} ready ({time.monotonic() - started:.0f} s)")
    if cfg.s3:
        create_bucket(stack.env["AWS_ENDPOINT_URL"], cfg.bucket)
        log(f"s3: bucket {cfg.bucket} created; DOCPATCH_STORE={stack.env['DOCPATCH_STORE']}")


def up(cfg: StackConfig | None = None, log: Callable[[str], None] = print) -> Stack:
    """Start the stack (or return the one already running in this state dir)."""
    cfg = cfg or StackConfig()
    state = Path(cfg.state_dir).resolve()
    existing = _already_up(state, log)
    if existing is not None:
        return existing
    state.mkdir(parents=True, exist_ok=True)
    stack = Stack(str(state), [], dict(QUIET))

    def add(proc: Proc) -> None:  # recorded at once: a killed `up` still leaves `down` what to stop
        stack.procs.append(proc)
        _write_atomic(state / PID_FILE, json.dumps(stack.to_dict(), indent=2))

    started = time.monotonic()
    try:
        _start_services(cfg, stack, add, log)
    except BaseException:
        log("start-up failed; stopping what was started")
        _stop_all(stack, log)
        raise
    _write_atomic(state / ENV_FILE, _env_text(stack.env))
    log(f"stack up in {time.monotonic() - started:.0f} s; env file: {stack.env_file} "
        f"(set -a; . {stack.env_file}; set +a)")
    return stack


def _stop_all(stack: Stack, log: Callable[[str], None]) -> list[str]:
    stopped = []
    # Workers before the head (they would otherwise spend the grace time reconnecting), servers last.
    rank = lambda p: 0 if p.name.startswith("ray-worker") else 1 if p.name == "ray-head" else 2  # noqa: E731
    for proc in sorted(stack.procs, key=rank):
        started = time.monotonic()
        if stop_proc(proc):
            stopped.append(proc.name)
            log(f"stopped {proc.name} (pid {proc.pid}, {time.monotonic() - started:.1f} s)")
    state = Path(stack.state_dir)
    for name in (PID_FILE, ENV_FILE):
        (state / name).unlink(missing_ok=True)
    if stack.ray_temp_dir and not Path(stack.ray_temp_dir).is_relative_to(state):
        shutil.rmtree(stack.ray_temp_dir, ignore_errors=True)  # a /tmp folder made for a long state path
    return stopped


def down(state_dir: str | os.PathLike = DEFAULT_STATE_DIR, log: Callable[[str], None] = print) -> list[str]:
    """Stop every process the stack in `state_dir` started; the names of those that were running."""
    stack = load(state_dir)
    if stack is None:
        log(f"no stack recorded in {Path(state_dir).resolve()}; nothing to stop")
        return []
    stopped = _stop_all(stack, log)
    log(f"stack down ({len(stopped)} processes stopped)")
    return stopped


def status(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> dict:
    """Each recorded process with whether it still runs; {} when no stack is recorded."""
    stack = load(state_dir)
    if stack is None:
        return {}
    rows = [{"name": p.name, "pid": p.pid, "running": is_running(p), "address": p.address, "log": p.log}
            for p in stack.procs]
    return {"state_dir": stack.state_dir, "env_file": stack.env_file, "processes": rows,
            "up": all(r["running"] for r in rows), "env": stack.env}


if __name__ == "__main__":
    from infra.local.cli import main

    sys.exit(main())
