"""Run reports: what each patch or nightly run did, for the people who operate docpatch.

Every patch and nightly run writes, beside its results in the store:

    STORE/runs/RUN_ID/report.json     the numbers (the other two files are drawn from it)
    STORE/runs/RUN_ID/report.md       the same for people: counts, throughput, time per stage, failures
    STORE/runs/RUN_ID/throughput.png  documents per second over the run, and time per stage

RUN_ID is `<UTC start, YYYYmmddTHHMMSSZ>-<first 8 hex digits of the Prefect flow run id>`, so ids sort by
start time and lead back to the flow run. report.json is written last: a run folder without it is a
report that was still being written (or broke off) and is not listed.

Plain functions over workers/storage; no Prefect (pipelines/flows.py calls them from a task) and no Ray.
matplotlib (Agg, no display) is imported only to draw the plot.
"""
from __future__ import annotations

import io
import json
import re
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from workers.storage import check_store, open_fs

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PLOT_PNG = "throughput.png"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-z]{8}$")
READ_THREADS = 8
# Stages of a run in the order they happen (a flow records the ones it has).
STAGE_ORDER = ("ingest", "plan", "repoint", "generate", "tombstone")
FLOW_TITLES = {"nightly": "nightly re-patch"}


class RunNotFound(LookupError):
    """No report matches the run id (or the prefix is ambiguous)."""


# -- measuring ------------------------------------------------------------------------------------------
class StageClock:
    """Seconds per named stage of a run, measured as laps: `lap("plan")` charges the time since the last lap."""

    def __init__(self) -> None:
        self.started_at = datetime.now(timezone.utc)
        self.stages: dict[str, float] = {}
        self._mark = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self._mark
        self._mark = now


def new_run_id(started_at: datetime, flow_run_id: str = "") -> str:
    """A sortable report id: the UTC start second and the head of the flow run id (random without one)."""
    tail = flow_run_id.replace("-", "")[:8].lower() or secrets.token_hex(4)
    return f"{started_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{tail}"


# -- building -------------------------------------------------------------------------------------------
def build_report(flow: str, corpus: str, summary: dict, *, clock: StageClock, flow_run_id: str = "",
                 timeline: Iterable[tuple[float, bool]] = (), model_seconds: float = 0.0,
                 publish_seconds: float = 0.0, settings_record: dict | None = None) -> dict:
    """The report of one run: the flow's summary plus timings, throughput and the settings used.

    `timeline` holds (seconds since adapter generation started, ok) per document, in arrival order;
    `model_seconds` is the model time the actors spent (summed over actors, so it can exceed the
    wall time); `publish_seconds` the time the driver spent writing adapters to the registry.
    """
    finished = datetime.now(timezone.utc)
    timeline = [(round(float(t), 3), bool(ok)) for t, ok in timeline]
    generate_s = clock.stages.get("generate", 0.0)
    patched = int(summary.get("patched", 0))
    failed = list(summary.get("failed", []))
    settings_record = settings_record or summary.get("settings") or {}
    report = {
        "run_id": new_run_id(clock.started_at, flow_run_id),
        "flow": flow,
        "corpus": corpus,
        "flow_run_id": flow_run_id,
        "status": "failed documents" if failed else "ok",
        "started_at": clock.started_at.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - clock.started_at).total_seconds(), 3),
        "snapshot_id": summary.get("snapshot_id"),
        "mode": summary.get("mode"),
        "models": {k: summary.get(k) for k in ("hypernet_id", "base_model_id", "base_model_revision")},
        "counts": summary.get("counts"),  # the ingest diff (nightly runs)
        "docs": int(summary.get("docs", 0)),
        "generated": int(summary.get("generated", 0)),
        "patched": patched,
        "repointed": int(summary.get("repointed", 0)),
        "up_to_date": int(summary.get("up_to_date", 0)),
        "tombstoned": int(summary.get("tombstoned", 0)),
        "failed": failed,
        "n_tokens": int(summary.get("n_tokens", 0)),
        "docs_per_second": round(patched / generate_s, 4) if generate_s and patched else 0.0,
        "tokens_per_second": round(summary.get("n_tokens", 0) / generate_s, 2) if generate_s and patched else 0.0,
        "stages": {k: round(v, 3) for k, v in clock.stages.items()},
        "inside_generate": {"model_seconds_all_actors": round(model_seconds, 3),
                            "publish_seconds": round(publish_seconds, 3)},
        "timeline": [[t, int(ok)] for t, ok in timeline],
        "cluster": {k: settings_record.get(k) for k in ("ray_address", "num_actors", "gpus_per_actor",
                                                         "cpus_per_actor", "batch_docs")},
        "settings": settings_record,
    }
    return report


def throughput(timeline: list[list], bins: int = 40) -> tuple[list[float], list[float], float]:
    """(bin start times, documents per second in each bin, bin width) of the published documents."""
    done = sorted(t for t, ok in timeline if ok)
    if not done:
        return [], [], 0.0
    end = max(t for t, _ in timeline)
    width = max(0.1, end / bins)
    n_bins = int(end // width) + 1
    counts = [0] * n_bins
    for t in done:
        counts[min(int(t // width), n_bins - 1)] += 1
    return [i * width for i in range(n_bins)], [c / width for c in counts], width


# -- rendering ---------------------------------------------------------------------------------------------
def render_markdown(report: dict) -> str:
    """The report for people: one page of Markdown that links the plot beside it."""
    title = FLOW_TITLES.get(report["flow"], report["flow"])
    models = report["models"]
    cluster = report["cluster"]
    ray = cluster.get("ray_address") or "a local Ray started by the run"
    lines = [
        f"# docpatch run {report['run_id']}",
        "",
        f"**{title}** of corpus `{report['corpus']}`: **{report['status']}**"
        + (f" ({len(report['failed'])} without an adapter)" if report["failed"] else ""),
        "",
        f"- started {report['started_at']}, finished {report['finished_at']} ({report['seconds']:.1f} s)",
        f"- Prefect flow run `{report['flow_run_id'] or '-'}`; snapshot `{report['snapshot_id']}`",
        f"- hypernetwork `{models.get('hypernet_id')}`, base model `{models.get('base_model_id')}` "
        f"(revision `{models.get('base_model_revision')}`)",
        f"- Ray: {ray}; {cluster.get('num_actors')} model actors x ({cluster.get('gpus_per_actor')} GPU, "
        f"{cluster.get('cpus_per_actor')} CPU), {cluster.get('batch_docs')} documents per batch",
        "",
        "## Documents",
        "",
        "| | documents |",
        "|---|---:|",
        f"| in the snapshot | {report['docs']} |",
        f"| generated (model work) | {report['generated']} |",
        f"| published | {report['patched']} |",
        f"| re-pointed to an existing adapter | {report['repointed']} |",
        f"| already current | {report['up_to_date']} |",
        f"| tombstoned | {report['tombstoned']} |",
        f"| failed | {len(report['failed'])} |",
    ]
    if report.get("counts"):
        counts = report["counts"]
        lines += ["", "Ingest: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                               ("added", "changed", "unchanged", "deleted", "rejected"))]
    lines += ["", "## Throughput", "", *_md_throughput(report)]
    lines += ["", f"![documents per second and time per stage]({PLOT_PNG})", "", *_md_stages(report)]
    lines += ["", "## Failures", ""]
    if report["failed"]:
        lines += ["| document | error |", "|---|---|"]
        lines += [f"| `{f['doc_id']}` | {_md_cell(f['error'])} |" for f in report["failed"]]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _md_throughput(report: dict) -> list[str]:
    lines = []
    if report["generated"]:
        _, rates, _ = throughput(report["timeline"])
        peak = max(rates) if rates else 0.0
        lines.append(f"{report['docs_per_second']:.2f} documents/s and {report['tokens_per_second']:.0f} tokens/s "
                     f"over adapter generation ({report['stages'].get('generate', 0):.1f} s, including Ray and "
                     f"model start-up); peak {peak:.2f} documents/s.")
        times = [t for t, _ in report["timeline"]]
        if times:
            lines.append(f"The first adapter arrived after {min(times):.1f} s (joining Ray, starting the actors, "
                         f"loading the models); the last after {max(times):.1f} s.")
    else:
        lines.append("No model work in this run.")
    return lines


def _md_stages(report: dict) -> list[str]:
    lines = ["## Time per stage", "", "| stage | seconds | share |", "|---|---:|---:|"]
    total = report["seconds"] or 1.0
    for stage, seconds in _ordered_stages(report["stages"]):
        lines.append(f"| {stage} | {seconds:.2f} | {100 * seconds / total:.0f} % |")
    inside = report["inside_generate"]
    if report["generated"]:
        lines += ["", f"Inside generate: model compute {inside['model_seconds_all_actors']:.2f} s summed over the "
                      f"actors; publishing to the registry {inside['publish_seconds']:.2f} s."]
    return lines


def _md_cell(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ordered_stages(stages: dict[str, float]) -> list[tuple[str, float]]:
    known = [(s, stages[s]) for s in STAGE_ORDER if s in stages]
    return known + sorted((s, v) for s, v in stages.items() if s not in STAGE_ORDER)


def render_plot(report: dict) -> bytes:
    """A PNG: documents per second over the run (failures marked) above the time per stage."""
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), gridspec_kw={"height_ratios": [3, 2]})
    try:
        starts, rates, width = throughput(report["timeline"])
        if starts:
            top.bar(starts, rates, width=width, align="edge", color="tab:blue", alpha=0.6, label="documents/s")
            done = sorted(t for t, ok in report["timeline"] if ok)
            cumulative = top.twinx()
            cumulative.step([0.0, *done], range(len(done) + 1), where="post", color="tab:gray", linewidth=1.5)
            cumulative.set_ylabel("documents published (line)")
            cumulative.set_ylim(bottom=0)
            failures = [t for t, ok in report["timeline"] if not ok]
            if failures:
                top.plot(failures, [0] * len(failures), "x", color="tab:red", markersize=8, clip_on=False,
                         label=f"failed ({len(failures)})")
            top.legend(loc="upper left", fontsize=8)
            top.set_xlabel("seconds since adapter generation started")
            top.set_ylabel("documents / s")
            top.set_ylim(bottom=0)
        else:
            top.text(0.5, 0.5, "no model work in this run", ha="center", va="center", transform=top.transAxes)
            top.set_axis_off()
        title = FLOW_TITLES.get(report["flow"], report["flow"])
        top.set_title(f"{title} of {report['corpus']}: {report['patched']} published, {len(report['failed'])} "
                      f"failed, {report['seconds']:.1f} s ({report['run_id']})", fontsize=9)
        stages = _ordered_stages(report["stages"])
        names = [s for s, _ in stages][::-1]
        bottom.barh(names, [v for _, v in stages][::-1], color="tab:orange")
        bottom.set_xlabel("seconds per stage")
        for y, (_, v) in enumerate(stages[::-1]):
            bottom.text(v, y, f" {v:.1f} s" if v >= 1 else f" {v:.2f} s", va="center", fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        plt.close(fig)


# -- the store --------------------------------------------------------------------------------------------
def runs_uri(store: str) -> str:
    return f"{check_store(store).rstrip('/')}/runs"


def _fs(store: str, storage_options: dict | None):
    return open_fs(runs_uri(store), storage_options)  # listings uncached on S3: new runs show up at once


def write_report(store: str, report: dict, storage_options: dict | None = None) -> str:
    """Write report.md, throughput.png, then report.json; the run folder's URI."""
    check_run_id(report["run_id"])
    fs, root = _fs(store, storage_options)
    folder = f"{root}/{report['run_id']}"
    fs.makedirs(folder, exist_ok=True)
    fs.pipe_file(f"{folder}/{PLOT_PNG}", render_plot(report))
    fs.pipe_file(f"{folder}/{REPORT_MD}", render_markdown(report).encode())
    fs.pipe_file(f"{folder}/{REPORT_JSON}", json.dumps(report, indent=1, default=str).encode())
    return f"{runs_uri(store)}/{report['run_id']}"


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise ValueError(f"invalid run id {run_id!r}: expected e.g. 20261125T170102Z-1a2b3c4d")
    return run_id


def _run_ids(fs, root: str) -> list[str]:
    """Run folder names, newest first."""
    try:
        fs.invalidate_cache(root)
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)]
    except FileNotFoundError:
        return []
    return sorted((n for n in names if RUN_ID_RE.match(n)), reverse=True)


def _read_json(fs, path: str) -> dict | None:
    try:
        return json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return None


SUMMARY_FIELDS = ("run_id", "flow", "corpus", "status", "started_at", "seconds", "docs", "generated",
                  "patched", "repointed", "up_to_date", "tombstoned", "docs_per_second")


def summary_row(report: dict) -> dict:
    """The one-line view of a report (`docpatch runs list`)."""
    row = {k: report.get(k) for k in SUMMARY_FIELDS}
    row["failed"] = len(report.get("failed", []))
    return row


def list_runs(store: str, storage_options: dict | None = None, corpus: str | None = None,
              flow: str | None = None, limit: int | None = 20) -> list[dict]:
    """Summary rows of finished runs, newest first (filtered by corpus and flow; at most `limit`)."""
    fs, root = _fs(store, storage_options)
    ids = _run_ids(fs, root)
    rows: list[dict] = []
    step = max(READ_THREADS, limit or READ_THREADS)
    with ThreadPoolExecutor(READ_THREADS) as pool:
        for start in range(0, len(ids), step):  # read in pages until enough rows match
            page = ids[start:start + step]
            for report in pool.map(lambda rid: _read_json(fs, f"{root}/{rid}/{REPORT_JSON}"), page):
                if report is None or (corpus and report.get("corpus") != corpus) or (flow and report.get("flow") != flow):
                    continue
                rows.append(summary_row(report))
                if limit and len(rows) >= limit:
                    return rows
    return rows


def resolve_run_id(store: str, run_id: str, storage_options: dict | None = None) -> str:
    """A full run id from an id, a unique prefix of one, or a Prefect flow run id."""
    fs, root = _fs(store, storage_options)
    ids = _run_ids(fs, root)
    if run_id in ids:
        return run_id
    tail = run_id.replace("-", "")[:8].lower()
    matches = [i for i in ids if i.startswith(run_id)] or \
              ([i for i in ids if i.endswith(f"-{tail}")] if len(run_id) >= 32 else [])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFound(f"no run report {run_id!r} in {runs_uri(store)} (see `docpatch runs list`)")
    raise RunNotFound(f"run id {run_id!r} is ambiguous: {', '.join(matches[:5])}")


def read_report(store: str, run_id: str, storage_options: dict | None = None) -> dict:
    """The report.json of a run (the id may be a unique prefix or the Prefect flow run id)."""
    run_id = resolve_run_id(store, run_id, storage_options)
    fs, root = _fs(store, storage_options)
    report = _read_json(fs, f"{root}/{run_id}/{REPORT_JSON}")
    if report is None:
        raise RunNotFound(f"run {run_id} has no {REPORT_JSON} (it was still being written, or broke off)")
    return report


def read_file(store: str, run_id: str, name: str, storage_options: dict | None = None) -> bytes:
    """One file of a run's report folder (report.md, throughput.png)."""
    fs, root = _fs(store, storage_options)
    try:
        return fs.cat_file(f"{root}/{check_run_id(run_id)}/{name}")
    except FileNotFoundError:
        raise RunNotFound(f"run {run_id} has no {name}") from None
