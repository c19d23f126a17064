"""Run reports: built from a run's numbers, written beside the results, listed and shown by the CLI."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import fsspec
import pytest

from pipelines import runs
from pipelines.cli import main

SUMMARY = {"snapshot_id": "20261125T010203Z-abcdef", "mode": "nightly", "hypernet_id": "hn-1",
           "base_model_id": "tiny", "base_model_revision": "r1", "docs": 10, "generated": 4, "patched": 3,
           "repointed": 1, "up_to_date": 5, "tombstoned": 1, "n_tokens": 400,
           "counts": {"added": 2, "changed": 2, "unchanged": 5, "deleted": 1, "rejected": 0},
           "failed": [{"doc_id": "bad.md", "error": "ValueError: document has no tokens"}]}
SETTINGS = {"ray_address": "127.0.0.1:6379", "num_actors": 2, "gpus_per_actor": 1.0, "cpus_per_actor": 1.0,
            "batch_docs": 16}


def _report(corpus="kb", flow="nightly", started=None, flow_run_id="", summary=SUMMARY, timeline=None):
    clock = runs.StageClock()
    clock.started_at = started or clock.started_at
    clock.stages = {"ingest": 1.0, "plan": 0.5, "generate": 8.0, "tombstone": 0.2}
    timeline = [(2.0 + i, i != 1) for i in range(4)] if timeline is None else timeline
    return runs.build_report(flow, corpus, summary, clock=clock, flow_run_id=flow_run_id, timeline=timeline,
                             model_seconds=6.0, publish_seconds=0.4, settings_record=SETTINGS)


def test_a_report_has_counts_throughput_stage_times_and_failures():
    report = _report(flow_run_id="0f1e2d3c-aaaa-bbbb-cccc-000000000000")
    assert runs.RUN_ID_RE.match(report["run_id"]) and report["run_id"].endswith("-0f1e2d3c")
    assert report["status"] == "failed documents" and report["patched"] == 3
    assert report["docs_per_second"] == pytest.approx(3 / 8.0)
    assert report["timeline"] == [[2.0, 1], [3.0, 0], [4.0, 1], [5.0, 1]]
    assert report["cluster"]["ray_address"] == "127.0.0.1:6379"

    md = runs.render_markdown(report)
    for text in ("nightly re-patch** of corpus `kb`", "| published | 3 |", "| generate | 8.00 |", "`bad.md`",
                 "document has no tokens", "2 added, 2 changed", "![", runs.PLOT_PNG):
        assert text in md
    starts, rates, width = runs.throughput(report["timeline"])
    assert sum(r * width for r in rates) == pytest.approx(3)  # the published documents, none lost in binning
    assert runs.render_plot(report).startswith(b"\x89PNG")


def test_a_run_without_model_work_still_gets_a_report():
    quiet = {**SUMMARY, "generated": 0, "patched": 0, "failed": []}
    report = _report(summary=quiet, timeline=[])
    assert report["status"] == "ok" and report["docs_per_second"] == 0.0
    assert "No model work in this run." in runs.render_markdown(report)
    assert runs.render_plot(report).startswith(b"\x89PNG")


def test_reports_are_listed_newest_first_and_found_by_prefix_or_flow_run_id(tmp_path):
    store = str(tmp_path / "store")
    t0 = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
    old = _report(started=t0, flow_run_id="11111111-0000-0000-0000-000000000000")
    new = _report(started=t0 + timedelta(hours=1), corpus="other", flow="patch",
                  flow_run_id="22222222-0000-0000-0000-000000000000")
    for report in (old, new):
        folder = runs.write_report(store, report)
        assert sorted(p.rsplit("/", 1)[-1] for p in fsspec.filesystem("file").ls(folder)) == \
            [runs.REPORT_JSON, runs.REPORT_MD, runs.PLOT_PNG]

    assert [r["run_id"] for r in runs.list_runs(store)] == [new["run_id"], old["run_id"]]
    assert [r["run_id"] for r in runs.list_runs(store, corpus="kb")] == [old["run_id"]]
    assert [r["run_id"] for r in runs.list_runs(store, flow="patch", limit=1)] == [new["run_id"]]
    assert runs.read_report(store, "20261125T01")["run_id"] == old["run_id"]
    assert runs.read_report(store, "22222222-0000-0000-0000-000000000000")["corpus"] == "other"
    with pytest.raises(runs.RunNotFound, match="ambiguous"):
        runs.read_report(store, "20261125T0")
    with pytest.raises(runs.RunNotFound, match="no run report"):
        runs.read_report(store, "nope")
    assert runs.list_runs(str(tmp_path / "empty")) == []


def test_reports_on_s3(s3_bucket):
    report = _report()
    runs.write_report(f"{s3_bucket}/docpatch", report)
    assert [r["run_id"] for r in runs.list_runs(f"{s3_bucket}/docpatch")] == [report["run_id"]]
    assert runs.read_file(f"{s3_bucket}/docpatch", report["run_id"], runs.PLOT_PNG).startswith(b"\x89PNG")


def test_runs_cli_lists_shows_and_saves_the_plot(tmp_path, capsys):
    store = str(tmp_path / "store")
    report = _report()
    runs.write_report(store, report)

    assert main(["runs", "list", "--store", store, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["run_id"], r["failed"], r["patched"]) for r in rows] == [(report["run_id"], 1, 3)]

    plot = tmp_path / "plot.png"
    assert main(["runs", "show", report["run_id"][:12], "--store", store, "--save-plot", str(plot)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"# docpatch run {report['run_id']}") and "report.json" in captured.err
    assert plot.read_bytes().startswith(b"\x89PNG")

    assert main(["runs", "show", report["run_id"], "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["timeline"] == report["timeline"]

    assert main(["runs", "show", "19990101", "--store", store]) == 2
    assert capsys.readouterr().err.strip().startswith("docpatch: error: no run report '19990101'")
    assert main(["runs", "list", "--store", str(tmp_path / "nothing"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
