"""`docpatch demo`: the sample corpus end to end: ingest, patch, and answers with and without adapters."""
from __future__ import annotations

import argparse

from pipelines.settings import COMMON, WORKERS, Settings

from pipelines.cli.options import Command
from pipelines.cli.output import counts_line, emit, format_table, note, out, patch_line

DEMO_CORPUS = "sample"
MODES = ("base", "adapter", "context")


def demo(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.answering import SAMPLE_CORPUS, compare_modes, count_correct, sample_questions
    from pipelines.flows import ingest_flow, patch_flow

    questions = sample_questions(args.docs)
    note(f"[1/3] ingesting the sample corpus ({SAMPLE_CORPUS / 'docs'}) into {settings.store}")
    ingested = ingest_flow(str(SAMPLE_CORPUS / "docs"), DEMO_CORPUS, settings)
    note(f"      {counts_line(ingested['counts'])}")
    note("[2/3] generating one adapter per document (the first run converts the base model once, ~1-2 min)")
    patched = patch_flow(DEMO_CORPUS, settings=settings, progress=not args.json)
    note(f"      {patch_line(patched)}")
    note(f"[3/3] asking {len(questions)} questions with the base model alone, with the adapter, "
         "and with the document in context")
    rows = []
    for row in compare_modes(settings, DEMO_CORPUS, questions, MODES):
        rows.append(row)
        note(f"      {row['doc_id']}: {row['question']}")
    score = count_correct(rows, MODES)
    summary = {"ingest": ingested, "patch": patched, "answers": rows, "correct": score, "questions": len(rows)}
    if not args.json:
        table = [{"question": r["question"], "gold": r["gold"], **{m: _mark(r[m], r[f"{m}_ok"]) for m in MODES}}
                 for r in rows]
        out(format_table(table, ["question", "gold", *MODES], max_width=36))
    emit(args, summary, text=_closing(rows, score, patched, settings))
    return 1 if patched["failed"] else 0


def _closing(rows: list[dict], score: dict, patched: dict, settings: Settings) -> str:
    return (f"\ncorrect answers out of {len(rows)}: base {score['base']}, adapter {score['adapter']}, "
            f"context {score['context']}  (* = gold answer found)\n"
            f"adapters: {patched['patched']} published, {patched['up_to_date']} already current, "
            f"{len(patched['failed'])} failed; store: {settings.store}\n"
            f"seconds per document to patch: {_per_doc(patched)} (generation + {settings.refine_steps} refinement "
            f"steps; --refine-steps sets the cost)\n"
            f"try: docpatch adapters list --corpus {DEMO_CORPUS}")


def _per_doc(patched: dict) -> str:
    made = patched["patched"] + len(patched["failed"])
    return f"{patched['seconds'] / made:.1f}" if made else "0 (all adapters were current)"


def _mark(answer: str, ok: bool) -> str:
    return f"{'* ' if ok else ''}{answer}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--docs", type=int, default=7, metavar="N",
                   help="documents to ask one question about (default: 7; every document is patched)")


COMMANDS = (Command("demo", "ingest the sample corpus, patch it, and compare answers with and without adapters",
                    demo, add_arguments, groups=(COMMON, WORKERS)),)
