"""The stack's processes: start one in its own process group, know it again by pid and start time,
wait until it is ready, and stop it and nothing else."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from infra.local.config import QUIET, REPO, StackError


@dataclass
class Proc:
    """One process `up` started: enough to find it again and to stop only it."""

    name: str
    pid: int
    started_at: str  # /proc start time (clock ticks since boot), "" where /proc is missing
    argv: list[str]
    log: str
    address: str = ""


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


def base_env() -> dict[str, str]:
    """This process's environment, quiet, and pointing at no other Ray or Prefect."""
    env = {**os.environ, **QUIET}
    # A stack must not join some other Ray or Prefect the caller's shell points at.
    for name in ("RAY_ADDRESS", "PREFECT_API_URL", "DOCPATCH_RAY_ADDRESS"):
        env.pop(name, None)
    return env


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


def spawn(name: str, argv: list[str], log_path: Path, env: dict[str, str], address: str = "") -> Proc:
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
    # The group is the session `spawn` created (pgid == pid); Ray's --block also makes its node's
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


def wait_ready(what: str, ready: Callable[[], bool], proc: Proc, timeout_s: float) -> None:
    """Poll `ready` until it is true; fail early with the log's tail when the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if not is_running(proc):
            raise StackError(f"{what} exited while starting; last lines of {proc.log}:\n{_tail(proc.log)}")
        time.sleep(0.5)
    raise StackError(f"{what} not ready after {timeout_s:.0f} s; last lines of {proc.log}:\n{_tail(proc.log)}")


def http_ok(url: str) -> bool:
    """True when the URL answers below 500 (a server that is up, whatever it thinks of the path)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def log_says(path: str, text: str) -> Callable[[], bool]:
    """A readiness check: True once the log file contains `text`."""
    def check() -> bool:
        try:
            return text in Path(path).read_text(errors="replace")
        except OSError:
            return False
    return check
