"""The `docpatch` command line: help everywhere, one-line user errors, and ingest -> patch -> ask."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipelines.cli import COMMANDS, main

HELP_COMMANDS = [[]] + [[c.name] for c in COMMANDS] + [
    ["adapters", a] for a in ("list", "show", "export", "verify", "rollback", "gc")]


def _docpatch(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "docpatch")
def test_help_works_for_every_command(command):
    proc = _docpatch(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage: docpatch" in proc.stdout


def test_top_level_help_lists_the_commands():
    out = _docpatch("--help").stdout
    for name in ("demo", "ingest", "patch", "nightly", "ask", "adapters", "serve"):
        assert name in out


@pytest.mark.parametrize("args, message", [
    (["patch", "--corpus", "kb"], "has no snapshot"),
    (["patch", "--corpus", "../etc"], "invalid corpus name"),
    (["patch", "--corpus", "kb", "--num-actors", "many"], "invalid int value"),
    (["ingest", "/no/such/folder", "--corpus", "kb"], "source not found"),
    (["ask", "--corpus", "kb", "doc", "q?", "--mode", "psychic"], "invalid choice"),
    (["serve", "--corpus", "kb", "--source", ".", "--cron", "every night"], "invalid cron"),
    (["train", "--data", "tasks", "--workers", "1", "--corpus", "kb"], "train.data='tasks' makes a task hypernetwork"),
])
def test_user_errors_print_one_line_and_exit_non_zero(tmp_path, args, message):
    proc = _docpatch(*args, "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docpatch") and message in lines[0], proc.stderr
    assert proc.stdout == ""


def test_a_bad_environment_setting_is_a_user_error(tmp_path):
    env_value = {"DOCPATCH_BATCH_DOCS": "lots"}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "adapters", "list", "--corpus", "kb"],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **env_value})
    assert proc.returncode == 2 and proc.stderr.strip() == \
        "docpatch: error: DOCPATCH_BATCH_DOCS must be a whole number, got 'lots'"


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_reads_csv_records_by_the_named_columns(tmp_path, capsys):
    source = tmp_path / "tickets.csv"
    source.write_text("ticket,body,queue\nT-1,The printer on floor 2 jams on A3.,it\nT-2,,it\n")
    code, ingested = _run_json(capsys, "ingest", str(source), "--corpus", "kb", "--store", str(tmp_path / "store"),
                               "--id-field", "ticket", "--text-field", "body")
    assert code == 0 and ingested["counts"]["added"] == 1
    assert [(r["doc_id"], r["reason"]) for r in ingested["rejected"]] == [("T-2", "empty text (nothing but whitespace)")]


def _run_json(capsys, *args: str):
    code = main(list(args) + ["--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.usefixtures("prefect_harness", "ray_local")
def test_ingest_patch_ask_end_to_end_with_json(tmp_path, capsys, monkeypatch, tiny_model_path, tiny_hypernet_path):
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")
    source = tmp_path / "kb"
    source.mkdir()
    (source / "alpha.md").write_text("The Alpha lighthouse was built in 1874 by Josiah Marrow.")
    (source / "beta.txt").write_text("Beta Cycles of Leeds sells the K7 e-bike for 2,399 pounds.")
    common = ["--store", str(tmp_path / "store"), "--base-model", tiny_model_path, "--hypernet", tiny_hypernet_path]

    code, ingested = _run_json(capsys, "ingest", str(source), "--corpus", "kb", *common)
    assert code == 0 and ingested["counts"]["added"] == 2

    code, listed = _run_json(capsys, "adapters", "list", "--corpus", "kb", *common)
    assert code == 0 and listed == []

    code, patched = _run_json(capsys, "patch", "--corpus", "kb", "--cpus-per-actor", "0.5", *common)
    assert code == 0 and patched["patched"] == 2 and patched["failed"] == []

    for mode in ("adapter", "context", "base"):
        code, answer = _run_json(capsys, "ask", "--corpus", "kb", "alpha.md", "Who built the lighthouse?",
                                 "--mode", mode, "--max-new-tokens", "4", *common)
        assert code == 0 and answer["mode"] == mode and isinstance(answer["answer"], str)
        assert (answer["version_id"] is not None) == (mode == "adapter")

    code, listed = _run_json(capsys, "adapters", "list", "--corpus", "kb", *common)
    assert sorted(r["doc_id"] for r in listed) == ["alpha.md", "beta.txt"]
    code, problems = _run_json(capsys, "adapters", "verify", "--corpus", "kb", *common)
    assert code == 0 and problems == []

    code = main(["ask", "--corpus", "kb", "gamma.md", "Why?", *common])
    assert code == 2 and "has no adapter" in capsys.readouterr().err
