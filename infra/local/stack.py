"""The local docpatch stack: a Prefect server, a multi-node Ray cluster and an S3 server on 127.0.0.1.

    python -m infra.local.stack up       start everything, write STATE/stack.env and STATE/stack.json
    python -m infra.local.stack status   what runs, with pids and addresses (--json)
    python -m infra.local.stack down     stop exactly what `up` started, by process id

What `up` starts (each a process group of its own, recorded in STATE/stack.json):
    s3          moto's S3 server, with one bucket
    prefect     `prefect server start` (its database and settings in STATE/prefect)
    ray-head    `ray start --head --block`: the head node, 0 GPUs
    ray-worker-N  `ray start --block --address ...`: worker nodes (optionally `--num-gpus 1` each)

Every node runs on this machine with its own temp dir, logical CPUs and ports, so a laptop or a
CI box gets a real Ray cluster (nodes joining a head over the network, actors placed on nodes by
their resources) without any machine of its own per node. `down` sends SIGTERM to each recorded
process (Ray's `--block` mode then stops its node's processes), waits, and kills whatever is left
in that process group; a pid is only signalled while it is still the process `up` started (its
start time is recorded too), so nothing else on the machine is touched.

STATE/stack.env holds what a shell or a program needs to use the stack (`set -a; . STATE/stack.env;
set +a`): PREFECT_API_URL, RAY_ADDRESS and DOCPATCH_RAY_ADDRESS, AWS_ENDPOINT_URL with dummy
credentials, DOCPATCH_STORE=s3://BUCKET/PREFIX.

Standard library only (plus boto3, already a docpatch dependency, to create the bucket); the
`ray`, `prefect` and `moto_server` executables are looked up next to this Python, then on PATH.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO / ".docpatch" / "stack"
ENV_FILE = "stack.env"
PID_FILE = "stack.json"
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "RAY_USAGE_STATS_ENABLED": "0",
         "TOKENIZERS_PARALLELISM": "false"}
# Unix socket paths must stay under 108 bytes; Ray puts ~72 more under a node's temp root
# (/workerN/session_<date>_<time>_<us>_<pid>/sockets/plasma_store).
MAX_RAY_TEMP_DIR = 32


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


@dataclass
class Proc:
    """One process `up` started: enough to find it again and to stop only it."""

    name: str
    pid: int
    started_at: str  # /proc start time (clock ticks since boot), "" where /proc is missing
    argv: list[str]
    log: str
    address: str = ""


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


# -- processes -----------------------------------------------------------------------------------------
def executable(name: str) -> str:
    """An executable of this Python environment (bin/ beside sys.executable), else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` not found next to {sys.executable} or on PATH; install docpatch with its "
                         "test extras (`pip install -e '.[test]'`)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_time(pid: int) -> str:
    """The kernel's start time of a process (field 22 of /proc/PID/stat), "" if unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def is_running(proc: Proc) -> bool:
    """True while `proc.pid` is alive and is still the process we started (not a reused pid)."""
    try:
        os.kill(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now holds the pid
    if proc.started_at and _start_time(proc.pid) != proc.started_at:
        return False
    try:  # a zombie child of ours (exited, not yet reaped) counts as gone
        return Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _spawn(name: str, argv: list[str], log_path: Path, env: dict[str, str], address: str = "") -> Proc:
    """Start a process in a new session (its own process group), stdout+stderr to its log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 env=env, start_new_session=True, cwd=str(REPO))
    return Proc(name, popen.pid, _start_time(popen.pid), argv, str(log_path), address)


def stop_proc(proc: Proc, grace_s: float = 20.0) -> bool:
    """SIGTERM the process, wait, then SIGKILL its process group; True if it was running."""
    if not is_running(proc):
        _reap(proc.pid)
        return False
    os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and is_running(proc):
        _reap(proc.pid)
        time.sleep(0.2)
    # The group is the session `_spawn` created (pgid == pid); Ray's --block also makes its node's
    # processes members. Kill what is left of it, and nothing outside it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _reap(proc.pid)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait(what: str, ready: Callable[[], bool], proc: Proc, timeout_s: float) -> None:
    """Poll `ready` until it is true; fail early with the log's tail when the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if not is_running(proc):
            raise StackError(f"{what} exited while starting; last lines of {proc.log}:\n{_tail(proc.log)}")
        time.sleep(0.5)
    raise StackError(f"{what} not ready after {timeout_s:.0f} s; last lines of {proc.log}:\n{_tail(proc.log)}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _log_says(path: str, text: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return text in Path(path).read_text(errors="replace")
        except OSError:
            return False
    return check


# -- the services -----------------------------------------------------------------------------------------
def _base_env() -> dict[str, str]:
    env = {**os.environ, **QUIET}
    # A stack must not join some other Ray or Prefect the caller's shell points at.
    for name in ("RAY_ADDRESS", "PREFECT_API_URL", "DOCPATCH_RAY_ADDRESS"):
        env.pop(name, None)
    return env


def start_s3(cfg: StackConfig, state: Path, log: Callable[[str], None]) -> tuple[Proc, dict[str, str]]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = _spawn("s3", [executable("moto_server"), "-H", "127.0.0.1", "-p", str(port)], state / "logs" / "s3.log",
                  _base_env(), endpoint)
    log(f"s3: moto server on {endpoint} (pid {proc.pid})")
    return proc, {"AWS_ENDPOINT_URL": endpoint, **DUMMY_AWS, "DOCPATCH_STORE": f"s3://{cfg.bucket}/{cfg.prefix}"}


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=DUMMY_AWS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=DUMMY_AWS["AWS_SECRET_ACCESS_KEY"],
                          region_name=DUMMY_AWS["AWS_DEFAULT_REGION"])
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass


def start_prefect(cfg: StackConfig, state: Path, log: Callable[[str], None]) -> tuple[Proc, dict[str, str]]:
    port = free_port()
    home = state / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {**_base_env(), "PREFECT_HOME": str(home), "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    argv = [executable("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
            "--analytics-off", "--ui" if cfg.prefect_ui else "--no-ui"]
    url = f"http://127.0.0.1:{port}/api"
    proc = _spawn("prefect", argv, state / "logs" / "prefect.log", env, url)
    log(f"prefect: server on {url} (pid {proc.pid})")
    return proc, {"PREFECT_API_URL": url}


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
    env = {**_base_env(), **auth, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    head_argv = _ray_node_argv(cfg, temp_root, "head", 0) + [
        "--head", "--port", str(port), "--include-dashboard", "false", "--ray-client-server-port", str(free_port())]
    head = _spawn("ray-head", head_argv, state / "logs" / "ray-head.log", env, address)
    add(head)
    log(f"ray: head node at {address} ({cfg.cpus_per_node:g} CPUs, 0 GPUs; pid {head.pid})")
    # Workers can join once the head's GCS answers, before the rest of the head is up.
    _wait("ray head", lambda: _port_open("127.0.0.1", port), head, cfg.timeout_s)
    workers = []
    for i in range(1, cfg.ray_workers + 1):
        argv = _ray_node_argv(cfg, temp_root, f"worker{i}", cfg.gpus_per_worker) + ["--address", address]
        proc = _spawn(f"ray-worker-{i}", argv, state / "logs" / f"ray-worker-{i}.log", env, address)
        add(proc)
        workers.append(proc)
        log(f"ray: worker node {i} ({cfg.cpus_per_node:g} CPUs, {cfg.gpus_per_worker} GPUs; pid {proc.pid})")
    for proc in [head, *workers]:
        _wait(proc.name, _log_says(proc.log, "Ray runtime started"), proc, cfg.timeout_s)
    log(f"ray: {len(workers) + 1} nodes up")
    return {"RAY_ADDRESS": address, "DOCPATCH_RAY_ADDRESS": address, **auth}


# -- up / down / status -----------------------------------------------------------------------------------
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


def up(cfg: StackConfig | None = None, log: Callable[[str], None] = print) -> Stack:
    """Start the stack (or return the one already running in this state dir)."""
    cfg = cfg or StackConfig()
    state = Path(cfg.state_dir).resolve()
    existing = load(state)
    if existing is not None:
        alive = [p for p in existing.procs if is_running(p)]
        if alive and len(alive) == len(existing.procs):
            log(f"the stack in {state} is already up ({len(alive)} processes); env: {existing.env_file}")
            return existing
        if alive:
            raise StackError(f"part of the stack in {state} is running ({', '.join(p.name for p in alive)}); "
                             "run `python -m infra.local.stack down` first")
        (state / PID_FILE).unlink()
    state.mkdir(parents=True, exist_ok=True)
    stack = Stack(str(state), [], dict(QUIET))

    def record() -> None:
        _write_atomic(state / PID_FILE, json.dumps(stack.to_dict(), indent=2))

    def add(proc: Proc) -> None:  # recorded at once: a killed `up` still leaves `down` what to stop
        stack.procs.append(proc)
        record()

    started = time.monotonic()
    try:
        stack.ray_temp_dir = ray_temp_dir(state) if cfg.ray else ""
        # Slow starters first and in parallel: the Prefect server and the S3 server boot while Ray starts.
        waits = []
        if cfg.prefect:
            proc, env = start_prefect(cfg, state, log)
            add(proc)
            stack.env.update(env)
            waits.append(("prefect server", lambda url=env["PREFECT_API_URL"]: _http_ok(url + "/health"), proc))
        if cfg.s3:
            proc, env = start_s3(cfg, state, log)
            add(proc)
            stack.env.update(env)
            waits.append(("s3 server", lambda url=env["AWS_ENDPOINT_URL"]: _http_ok(url), proc))
        if cfg.ray:
            stack.env.update(start_ray(cfg, state, stack.ray_temp_dir, add, log))
        record()
        for what, ready, proc in waits:
            _wait(what, ready, proc, cfg.timeout_s)
            log(f"{what} ready ({time.monotonic() - started:.0f} s)")
        if cfg.s3:
            create_bucket(stack.env["AWS_ENDPOINT_URL"], cfg.bucket)
            log(f"s3: bucket {cfg.bucket} created; DOCPATCH_STORE={stack.env['DOCPATCH_STORE']}")
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


# -- command line -------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.stack",
        description="Start, inspect and stop the local docpatch stack: a Prefect server, a Ray cluster "
                    "(head + worker nodes) and an S3 server, all on 127.0.0.1.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    defaults = StackConfig()
    state_help = f"state folder: pid file, env file, logs (default: {DEFAULT_STATE_DIR})"
    p_up = subs.add_parser("up", help="start the stack and write STATE/stack.env",
                           description="Start the stack; prints the env file to source when it is ready.")
    p_up.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
    p_up.add_argument("--ray-workers", type=int, default=defaults.ray_workers,
                      help=f"Ray worker nodes besides the head (default: {defaults.ray_workers})")
    p_up.add_argument("--cpus-per-node", type=float, default=defaults.cpus_per_node,
                      help=f"logical CPUs per Ray node (default: {defaults.cpus_per_node:g})")
    p_up.add_argument("--gpus-per-worker", type=int, default=defaults.gpus_per_worker,
                      help="GPUs each worker node declares (default: 0). On a machine without GPUs a declared GPU "
                           "is only a resource: Ray places GPU actors by it and sets CUDA_VISIBLE_DEVICES, and "
                           "docpatch's actors fall back to the CPU")
    p_up.add_argument("--no-prefect", dest="prefect", action="store_false", help="do not start a Prefect server")
    p_up.add_argument("--prefect-ui", action="store_true", help="serve Prefect's web UI (slower start)")
    p_up.add_argument("--no-s3", dest="s3", action="store_false", help="do not start the S3 server")
    p_up.add_argument("--no-ray", dest="ray", action="store_false", help="do not start a Ray cluster")
    p_up.add_argument("--bucket", default=defaults.bucket, help=f"bucket to create (default: {defaults.bucket})")
    p_up.add_argument("--prefix", default=defaults.prefix, help=f"store prefix in the bucket (default: {defaults.prefix})")
    p_up.add_argument("--timeout", dest="timeout_s", type=float, default=defaults.timeout_s,
                      help=f"seconds to wait for each service (default: {defaults.timeout_s:g})")
    for name, help_ in (("down", "stop exactly the processes `up` started"),
                        ("status", "show the recorded processes and whether they run")):
        p = subs.add_parser(name, help=help_, description=help_)
        p.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
        if name == "status":
            p.add_argument("--json", action="store_true", help="JSON on stdout")
    p_env = subs.add_parser("env", help="print the env file of the running stack",
                            description="Print the env file (eval-able: `eval \"$(python -m infra.local.stack env)\"`).")
    p_env.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    note = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731 - progress on stderr
    try:
        if args.command == "up":
            values = {k: v for k, v in vars(args).items() if k != "command"}
            up(StackConfig(**values), log=note)
        elif args.command == "down":
            down(args.state_dir, log=note)
        elif args.command == "env":
            path = Path(args.state_dir) / ENV_FILE
            if not path.exists():
                raise StackError(f"no env file at {path}; run `python -m infra.local.stack up` first")
            print(path.read_text(), end="")
        else:
            info = status(args.state_dir)
            if args.json:
                print(json.dumps(info, indent=2))
            elif not info:
                print(f"no stack recorded in {Path(args.state_dir).resolve()}")
            else:
                for row in info["processes"]:
                    print(f"{row['name']:<14} pid {row['pid']:<8} {'running' if row['running'] else 'STOPPED':<8} "
                          f"{row['address']}")
                print(f"env file: {info['env_file']}")
            return 0 if info and info["up"] else 1
    except StackError as exc:
        note(f"stack: error: {exc}")
        return 2
    except KeyboardInterrupt:
        note("stack: interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
