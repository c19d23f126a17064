"""infra/local without Ray: the env file, the pid file, idempotent `up`, and a `down` that
stops exactly what `up` started (never a process that only looks like it)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.local import procs, stack
from infra.local.config import ENV_FILE, PID_FILE, StackConfig, StackError

ROOT = Path(__file__).resolve().parents[2]


def _have(name: str) -> bool:
    try:
        procs.executable(name)
        return True
    except StackError:
        return False


def test_stop_proc_signals_only_the_process_it_started(tmp_path):
    env = dict(procs.base_env())
    ours = procs.spawn("ours", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "ours.log", env)
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert procs.is_running(ours)
        # The same pid with another start time is a different process (pid reuse): not ours to stop.
        impostor = procs.Proc("ours", ours.pid, str(int(ours.started_at or 0) + 1), ours.argv, ours.log)
        assert not procs.is_running(impostor) and not procs.stop_proc(impostor)
        assert procs.is_running(ours)
        assert procs.stop_proc(ours, grace_s=5) and not procs.is_running(ours)
        assert decoy.poll() is None  # an identical command line elsewhere is untouched
    finally:
        decoy.kill()
        decoy.wait()


@pytest.mark.skipif(not _have("moto_server"), reason="moto_server not installed")
def test_up_writes_env_and_pid_files_is_idempotent_and_down_stops_it(tmp_path):
    import boto3

    state = tmp_path / "stack"
    cfg = StackConfig(state_dir=str(state), prefect=False, ray=False, bucket="kb-bucket", prefix="p")
    first = stack.up(cfg, log=lambda msg: None)
    try:
        assert [p.name for p in first.procs] == ["s3"]
        env_text = (state / ENV_FILE).read_text()
        assert "export DOCPATCH_STORE=s3://kb-bucket/p" in env_text and "AWS_ENDPOINT_URL=http://127.0.0.1:" in env_text
        assert stack.read_env(state)["AWS_SECRET_ACCESS_KEY"] == "testing"
        recorded = json.loads((state / PID_FILE).read_text())
        assert recorded["procs"][0]["pid"] == first.procs[0].pid
        s3 = boto3.client("s3", endpoint_url=first.env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kb-bucket"]

        again = stack.up(cfg, log=lambda msg: None)  # already up: the same processes, nothing new
        assert [p.pid for p in again.procs] == [p.pid for p in first.procs]

        cli = subprocess.run([sys.executable, "-m", "infra.local.stack", "status", "--state-dir", str(state), "--json"],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert cli.returncode == 0 and json.loads(cli.stdout)["up"] is True
    finally:
        stopped = stack.down(state, log=lambda msg: None)
    assert stopped == ["s3"]
    assert not any(procs.is_running(p) for p in first.procs)
    assert not (state / PID_FILE).exists() and not (state / ENV_FILE).exists()
    assert stack.down(state, log=lambda msg: None) == []  # nothing left: a no-op


def test_stack_cli_has_help_and_reports_a_missing_stack(tmp_path):
    for args in ([], ["up"], ["down"], ["status"], ["env"]):
        proc = subprocess.run([sys.executable, "-m", "infra.local.stack", *args, "--help"], capture_output=True,
                              text=True, cwd=ROOT, timeout=60)
        assert proc.returncode == 0 and "usage:" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "infra.local.stack", "env", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("stack: error: no env file")
