"""`docpatch ingest`, `patch` and `nightly`: the patching flows of pipelines/flows.py.

Each checks what the user gave before importing Prefect (seconds) or the models.
"""
from __future__ import annotations

import argparse

from pipelines.settings import COMMON, INGEST, WORKERS, Settings

from pipelines.cli.options import Command, add_corpus, add_source, check_source
from pipelines.cli.output import counts_line, emit, patch_line, report_line


def ingest(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.lookup import check_corpus_name

    check_corpus_name(args.corpus)
    check_source(args.source)
    from pipelines.flows import ingest_flow

    result = ingest_flow(args.source, args.corpus, settings)
    rejected = [{"doc_id": r["doc_id"], "source": r["source"], "reason": r["reason"]} for r in result["rejected"]]
    emit(args, result, rows=rejected or None, columns=["doc_id", "source", "reason"],
         text=f"corpus {args.corpus}: snapshot {result['snapshot_id']}: " + counts_line(result["counts"])
         + f" in {result['seconds']:.1f} s")
    return 0


def patch(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.lookup import latest_snapshot

    latest_snapshot(settings, args.corpus)
    from pipelines.flows import patch_flow

    summary = patch_flow(args.corpus, full=args.full, settings=settings, progress=not args.json)
    emit(args, summary, rows=summary["failed"] or None, columns=["doc_id", "error"],
         text=patch_line(summary) + report_line(summary))
    return 1 if summary["failed"] else 0


def nightly(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.lookup import check_corpus_name

    check_corpus_name(args.corpus)
    check_source(args.source)
    from pipelines.flows import nightly_repatch

    summary = nightly_repatch(args.source, args.corpus, settings, progress=not args.json)
    emit(args, summary, rows=summary["failed"] or None, columns=["doc_id", "error"],
         text=counts_line(summary["counts"]) + "\n" + patch_line(summary)
         + f", {summary['tombstoned']} tombstoned" + report_line(summary))
    return 1 if summary["failed"] else 0


def add_ingest_arguments(p: argparse.ArgumentParser) -> None:
    add_source(p)
    add_corpus(p)


def add_patch_arguments(p: argparse.ArgumentParser) -> None:
    add_corpus(p)
    p.add_argument("--full", action="store_true", help="regenerate every adapter, not only missing or stale ones")


COMMANDS = (
    Command("ingest", "read a source into a new Parquet snapshot of a corpus (with its diff)", ingest,
            add_ingest_arguments, groups=(COMMON, INGEST)),
    Command("patch", "an adapter for every document that lacks a current one (--full: all)",
            patch, add_patch_arguments, groups=(COMMON, WORKERS)),
    Command("nightly", "ingest, patch new and changed documents, tombstone deleted ones", nightly,
            add_ingest_arguments, groups=(COMMON, WORKERS, INGEST)),
)
