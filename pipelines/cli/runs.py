"""`docpatch runs list` and `runs show`: the reports of past patch and nightly runs (pipelines.runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.settings import COMMON, Settings

from pipelines.cli.options import Command, settings_parent
from pipelines.cli.output import UserError, emit, note, one_line, out

RUN_COLUMNS = ["run_id", "flow", "corpus", "status", "started_at", "seconds", "docs", "patched", "repointed",
               "tombstoned", "failed", "docs_per_second"]


def runs(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines import runs as reports

    try:
        if args.action == "list":
            rows = reports.list_runs(settings.store, settings.storage_options, corpus=args.corpus, flow=args.flow,
                                     limit=args.limit or None)
            emit(args, rows, rows=rows, columns=RUN_COLUMNS)
            return 0
        _show(args, settings)
        return 0
    except (reports.RunNotFound, ValueError) as exc:
        raise UserError(one_line(exc)) from None


def _show(args: argparse.Namespace, settings: Settings) -> None:
    from pipelines import runs as reports

    report = reports.read_report(settings.store, args.run_id, settings.storage_options)
    run_id, options = report["run_id"], settings.storage_options
    if args.save_plot:
        Path(args.save_plot).write_bytes(reports.read_file(settings.store, run_id, reports.PLOT_PNG, options))
        note(f"plot written to {args.save_plot}")
    if args.json:
        emit(args, report)
        return
    out(reports.read_file(settings.store, run_id, reports.REPORT_MD, options).decode())
    note(f"files: {reports.runs_uri(settings.store)}/{run_id}/"
         f"{{{reports.REPORT_MD},{reports.REPORT_JSON},{reports.PLOT_PNG}}}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [settings_parent(COMMON)]
    lst = actions.add_parser("list", parents=common, help="one row per run, newest first",
                             description="One row per patch or nightly run, newest first.")
    lst.add_argument("--corpus", default=None, metavar="NAME", help="only runs of this corpus")
    lst.add_argument("--flow", choices=("patch", "nightly"), default=None, help="only runs of this flow")
    lst.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (default: 20; 0: all)")
    show = actions.add_parser("show", parents=common, help="a run's report (Markdown; --json: all numbers)",
                              description="Print a run's report: counts, throughput, time per stage, failures.")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id from `docpatch runs list`, a unique prefix of "
                                                      "one, or the Prefect flow run id")
    show.add_argument("--save-plot", default=None, metavar="FILE.png",
                      help="also copy the run's plot (documents/s over time, time per stage) to this file")


COMMANDS = (Command("runs", "reports of past patch and nightly runs: counts, throughput, time per stage, failures",
                    runs, add_arguments, groups=()),)
