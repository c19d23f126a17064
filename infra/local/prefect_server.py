"""The stack's Prefect server, its database and settings under STATE/prefect."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from infra.local.config import StackConfig
from infra.local.procs import Proc, base_env, executable, free_port, spawn


def start_prefect(cfg: StackConfig, state: Path, log: Callable[[str], None]) -> tuple[Proc, dict[str, str]]:
    """Start the server (not yet ready); the process and the PREFECT_API_URL that points at it."""
    port = free_port()
    home = state / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {**base_env(), "PREFECT_HOME": str(home), "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}
    argv = [executable("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
            "--analytics-off", "--ui" if cfg.prefect_ui else "--no-ui"]
    url = f"http://127.0.0.1:{port}/api"
    proc = spawn("prefect", argv, state / "logs" / "prefect.log", env, url)
    log(f"prefect: server on {url} (pid {proc.pid})")
    return proc, {"PREFECT_API_URL": url}
