"""docpatch beyond one machine, on the local stack of infra/local: a Ray cluster of a head (0 GPUs)
and two worker nodes that declare one GPU each, a Prefect server, and moto's S3 server.

- GPU pinning: model actors asking for one GPU land only on the GPU nodes, one per declared GPU,
  and see exactly the GPU Ray assigned them in CUDA_VISIBLE_DEVICES (on a machine without CUDA they
  run on the CPU).
- Acceptance: the nightly flow runs as a deployment on the Prefect server (served by `docpatch
  serve`, triggered with `prefect deployment run`), on the Ray cluster with one GPU per model actor,
  against S3; the adapters and the run report land in the bucket; the patch deployment is served
  beside it (tests/pipelines/test_deployments.py triggers one).

Every process started here is stopped by pid (the stack's `down`, and the serve process).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from infra.local import stack
from infra.local.config import StackConfig, StackError
from infra.local.procs import executable, is_running
from pipelines import runs

ROOT = Path(__file__).resolve().parents[2]


def _missing_binaries() -> list[str]:
    missing = []
    for name in ("ray", "prefect", "moto_server"):
        try:
            executable(name)
        except StackError:
            missing.append(name)
    return missing


pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(bool(_missing_binaries()), reason=f"missing executables: {_missing_binaries()}")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The whole local stack for this module; `down` afterwards must leave none of its processes."""
    state = tmp_path_factory.mktemp("stack")
    cfg = StackConfig(state_dir=str(state), ray_workers=2, cpus_per_node=2, gpus_per_worker=1,
                      bucket="docpatch", timeout_s=300)
    running = stack.up(cfg, log=lambda msg: print(msg, file=sys.stderr))
    yield running
    stack.down(state, log=lambda msg: print(msg, file=sys.stderr))
    left = [p.name for p in running.procs if is_running(p)]
    assert not left, f"still running after down: {left}"


def _env(cluster: stack.Stack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RAY_ADDRESS", "PREFECT_API"))}
    return {**env, **cluster.env, "PREFECT_HOME": str(tmp_path / "prefect-client"), **extra}


def test_gpu_actors_land_one_per_gpu_node_and_see_their_assigned_gpu(cluster, tmp_path, tiny_model_path,
                                                                      tiny_hypernet_path):
    import torch

    reports = tmp_path / "actors"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "infra" / "gpu_pinning_driver.py"), cluster.env["DOCPATCH_RAY_ADDRESS"],
         tiny_model_path, tiny_hypernet_path, str(reports)],
        capture_output=True, text=True, timeout=400, cwd=ROOT, env=_env(cluster, tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    gpu_nodes = {n["node_id"] for n in result["nodes"] if n["gpus"] >= 1}
    assert len(result["nodes"]) == 3 and len(gpu_nodes) == 2  # the head declares no GPU
    # Three model actors asking for a GPU each, two GPUs: two start, the third waits for a GPU.
    assert (result["gpus"], result["ready"], result["extra_ready"], result["gpus_available"]) == (2, 2, 0, 0)

    actors = [json.loads(p.read_text()) for p in reports.glob("*.json")]
    assert len(actors) == 2 and {a["stage"] for a in actors} == {"adapter"}
    assert {a["node_id"] for a in actors} == gpu_nodes  # one on each GPU node, none on the head
    for actor in actors:
        assert len(actor["gpu_ids"]) == 1
        assert actor["cuda_visible_devices"] == ",".join(actor["gpu_ids"])
        assert actor["device"] == ("cuda" if torch.cuda.is_available() else "cpu")


def _wait_for_deployment(api: str, name: str, serve: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api}/deployments/name/{name}", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert serve.poll() is None, f"docpatch serve exited:\n{log.read_text()[-3000:]}"
        time.sleep(1)
    raise AssertionError(f"deployment {name} not registered after {timeout} s:\n{log.read_text()[-3000:]}")


def _run_deployment(name: str, env: dict, serve_log: Path) -> str:
    proc = subprocess.run([executable("prefect"), "deployment", "run", name, "--watch", "--watch-timeout", "400"],
                          capture_output=True, text=True, timeout=450, env=env, cwd=ROOT)
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}\nserve log:\n{serve_log.read_text()[-4000:]}"
    return proc.stdout


def test_nightly_deployment_runs_on_the_prefect_server_with_the_ray_cluster_and_s3(cluster, tmp_path, tiny_model_path,
                                                                                  tiny_hypernet_path):
    import s3fs

    source = tmp_path / "kb"
    source.mkdir()
    for i in range(5):
        (source / f"doc{i}.txt").write_text(f"Record {i}: the {i}th lighthouse of the bay was painted copper in 18{i}4.")
    prefix = f"accept-{uuid.uuid4().hex[:8]}"
    store = f"s3://docpatch/{prefix}"
    env = _env(cluster, tmp_path, DOCPATCH_STORE=store, DOCPATCH_BASE_MODEL=tiny_model_path,
               DOCPATCH_HYPERNET_PATH=tiny_hypernet_path, DOCPATCH_NUM_ACTORS="1", DOCPATCH_GPUS_PER_ACTOR="1",
               DOCPATCH_CPUS_PER_ACTOR="0.5",
               DOCPATCH_TORCH_THREADS="1", DOCPATCH_BATCH_DOCS="2", DOCPATCH_MAX_BATCH_TOKENS="512",
               DOCPATCH_CACHE_DIR=str(tmp_path / "cache"),
               # Refined adapters as in production, one step (not the default's) for CPUs; and the served
               # runner looks for the triggered run every second, not every 10 s (Prefect's default).
               DOCPATCH_REFINE_STEPS="1", PREFECT_RUNNER_POLL_FREQUENCY="1")
    api = cluster.env["PREFECT_API_URL"]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--corpus", "kb", "--source",
                                  str(source), "--cron", "0 2 * * *"], stdout=out, stderr=subprocess.STDOUT,
                                 env=env, cwd=ROOT, start_new_session=True)
    try:
        _wait_for_deployment(api, "docpatch-nightly/nightly-kb", serve, log)
        _wait_for_deployment(api, "docpatch-patch/patch-kb", serve, log)
        with urllib.request.urlopen(f"{api}/deployments/name/docpatch-nightly/nightly-kb", timeout=5) as response:
            deployment = json.load(response)
        assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 2 * * *"]
        assert deployment["parameters"]["settings"]["ray_address"] == cluster.env["DOCPATCH_RAY_ADDRESS"]

        _run_deployment("docpatch-nightly/nightly-kb", env, log)

        fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=cluster.env["AWS_ENDPOINT_URL"],
                               skip_instance_cache=True, use_listings_cache=False)
        pointers = fs.glob(f"docpatch/{prefix}/corpora/kb/registry/docs/*/latest.json")
        assert sorted(p.split("/")[-2] for p in pointers) == [f"doc{i}.txt" for i in range(5)]
        weights = fs.glob(f"docpatch/{prefix}/corpora/kb/registry/docs/*/versions/*/adapter_model.safetensors")
        assert len(weights) == 5
        (report_path,) = fs.glob(f"docpatch/{prefix}/runs/*/report.json")
        report = json.loads(fs.cat_file(report_path))
        assert (report["flow"], report["patched"], report["failed"]) == ("nightly", 5, [])
        assert report["cluster"]["ray_address"] == cluster.env["DOCPATCH_RAY_ADDRESS"] and report["flow_run_id"]
        assert report["cluster"]["gpus_per_actor"] == 1.0 and len(report["timeline"]) == 5
        assert fs.exists(report_path.replace("report.json", "throughput.png"))

        options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": cluster.env["AWS_ENDPOINT_URL"]}}
        rows = runs.list_runs(store, options)  # what `docpatch runs list` shows
        assert [(r["run_id"], r["flow"], r["patched"], r["failed"]) for r in rows] == \
            [(report["run_id"], "nightly", 5, 0)]
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
