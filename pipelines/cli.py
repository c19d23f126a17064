"""The `docpatch` command line: thin over the flows, the snapshot, the registry and the models.

Output: tables for people on stdout; `--json` prints bare JSON on stdout (`[]` when there is
nothing); warnings, errors and progress go to stderr. A mistake a user can make (a missing corpus,
a model that cannot be found, a bad flag) prints one `docpatch: error: ...` line and exits 2; a
traceback means a bug. torch, ray and prefect are imported inside the commands, so `--help` is fast.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipelines.settings import (COMMON, INGEST, TRAIN, WORKERS, Settings, SettingsError, flag_of,
                                settings_fields)

EXIT_USER_ERROR = 2
SAMPLE_CORPUS = Path(__file__).parent / "sample_corpus"
DEMO_CORPUS = "sample"
MODES = ("adapter", "context", "base")


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean 'the user asked for something that is not there or not valid'."""
    types: tuple[type[BaseException], ...] = (UserError, SettingsError, FileNotFoundError, NotADirectoryError)
    if "hypernet.base_model" in sys.modules:  # not imported: it cannot have raised
        types += (sys.modules["hypernet.base_model"].BaseModelNotFound,)
    return types


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `docpatch: error: ... (see docpatch CMD --help)`."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# -- output ----------------------------------------------------------------------------------------------------
_data_stream: list = []  # the real stdout while a command runs; anything else printing goes to stderr


def out(text: str) -> None:
    """Data for stdout (tables, JSON): the one way a command writes there."""
    print(text, file=_data_stream[-1] if _data_stream else sys.stdout, flush=True)


def emit(args: argparse.Namespace, data: Any, rows: list[dict] | None = None,
         columns: list[str] | None = None, text: str | None = None) -> None:
    """JSON on stdout with --json; otherwise a table of `rows` and/or a text block."""
    if args.json:
        out(json.dumps(data, indent=2, default=str, ensure_ascii=False))
        return
    if rows is not None:
        out(format_table(rows, columns) if rows else "(none)")
    if text:
        out(text)


def format_table(rows: list[dict], columns: list[str] | None = None, max_width: int = 48) -> str:
    """A plain-text table: a header, a rule, one line per row; long cells are cut with '…'."""
    columns = columns or list(rows[0])

    def cell(value: Any) -> str:
        s = "" if value is None else str(value).replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def note(message: str) -> None:
    """A progress or hint line for people, on stderr."""
    print(message, file=sys.stderr, flush=True)


# -- environment and settings ----------------------------------------------------------------------------------
def prepare_runtime(verbose: bool) -> None:
    """Quiet, offline defaults for Prefect and Ray, set before either is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # A busy 2-core machine can take longer than Prefect's default 20 s to start its local API.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if not verbose:
        # Prefect logs every task state at INFO and a traceback for every failed task; the CLI
        # reports outcomes itself and shows tracebacks only for bugs.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
        # Ray Data prints each dataset's "execution finished" line at INFO (its log file keeps
        # warnings); transformers draws a bar for every model load; the CLI has its own progress.
        os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    # The authentication logger warns, on every local start, that token authentication is on,
    # which is the secure default docpatch keeps.
    for noisy in ("httpx", "transformers", "urllib3", "botocore", "s3fs", "aiobotocore",
                  "ray._private.authentication"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def load_settings(args: argparse.Namespace) -> Settings:
    """Flags > DOCPATCH_* environment > docpatch.toml > defaults."""
    flags = {f.name: getattr(args, f.name, None) for f in settings_fields()}
    return Settings.load(flags, config_path=args.config)


def check_corpus(settings: Settings, corpus: str) -> str:
    """The corpus's latest snapshot id, or a UserError saying how to create one."""
    from pipelines.snapshot import latest_snapshot_id

    try:
        snapshot_id = latest_snapshot_id(settings.store, corpus, settings.storage_options)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if snapshot_id is None:
        raise UserError(f"corpus {corpus!r} has no snapshot in {settings.store}; "
                        f"run `docpatch ingest SOURCE --corpus {corpus}` first")
    return snapshot_id


def check_corpus_name(corpus: str) -> None:
    from pipelines.snapshot import corpus_uri

    try:
        corpus_uri("store", corpus)
    except ValueError as exc:
        raise UserError(str(exc)) from None


# -- commands ------------------------------------------------------------------------------------------------------
def check_source(source: str) -> None:
    if "://" not in source and not Path(source).exists():
        raise UserError(f"source not found: {source}")


# Each command checks what the user gave before importing Prefect (seconds) or the models.
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    check_corpus_name(args.corpus)
    check_source(args.source)
    from pipelines.flows import ingest_flow

    result = ingest_flow(args.source, args.corpus, settings)
    counts = result["counts"]
    rejected = [{"doc_id": r["doc_id"], "source": r["source"], "reason": r["reason"]} for r in result["rejected"]]
    emit(args, result, rows=rejected or None, columns=["doc_id", "source", "reason"],
         text=f"corpus {args.corpus}: snapshot {result['snapshot_id']}: " + _counts_line(counts)
         + f" in {result['seconds']:.1f} s")
    return 0


def cmd_patch(args: argparse.Namespace, settings: Settings) -> int:
    check_corpus_name(args.corpus)
    check_corpus(settings, args.corpus)
    from pipelines.flows import patch_flow

    summary = patch_flow(args.corpus, full=args.full, settings=settings, progress=not args.json)
    emit(args, summary, rows=summary["failed"] or None, columns=["doc_id", "error"],
         text=_patch_line(summary) + _report_line(summary))
    return 1 if summary["failed"] else 0


def cmd_nightly(args: argparse.Namespace, settings: Settings) -> int:
    check_corpus_name(args.corpus)
    check_source(args.source)
    from pipelines.flows import nightly_repatch

    summary = nightly_repatch(args.source, args.corpus, settings, progress=not args.json)
    emit(args, summary, rows=summary["failed"] or None, columns=["doc_id", "error"],
         text=_counts_line(summary["counts"]) + "\n" + _patch_line(summary)
         + f", {summary['tombstoned']} tombstoned" + _report_line(summary))
    return 1 if summary["failed"] else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    check_corpus_name(args.corpus)
    check_corpus(settings, args.corpus)
    result = ask(settings, args.corpus, args.doc_id, args.question, args.mode, args.max_new_tokens)
    emit(args, result, text=result["answer"])
    return 0


def ask(settings: Settings, corpus: str, doc_id: str, question: str, mode: str, max_new_tokens: int = 24,
        loaded: tuple | None = None) -> dict:
    """Answer a question about one document with its adapter, with the document in context, or with neither."""
    from hypernet.generate import answer

    lora, document, version_id = None, None, None
    if mode == "adapter":
        lora, version_id = load_adapter(settings, corpus, doc_id)
    elif mode == "context":
        document = document_text(settings, corpus, doc_id)
    model, tok, ref = loaded or load_base_model(settings)
    started = time.perf_counter()
    text = answer(model, tok, question, lora=lora, document=document, max_new_tokens=max_new_tokens)
    return {"corpus": corpus, "doc_id": doc_id, "question": question, "mode": mode, "answer": text,
            "version_id": version_id, "base_model_id": ref.model_id, "seconds": round(time.perf_counter() - started, 3)}


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_base_model(settings: Settings):
    """(model, tokenizer, ref) on the GPU when there is one."""
    from hypernet import base_model

    return base_model.load(settings.base_model, settings.cache_dir or None, device=_default_device(),
                           dtype=settings.dtype)


def load_adapter(settings: Settings, corpus: str, doc_id: str):
    """The document's latest adapter as LoraTensors, checked to fit the configured base model."""
    from hypernet.base_model import resolve
    from hypernet.lora import from_peft_files
    from pipelines.patching import open_registry

    registry = open_registry(settings, corpus)
    try:
        manifest = registry.latest(doc_id)
    except ValueError as exc:  # an unsafe doc id
        raise UserError(str(exc)) from None
    if manifest is None:
        raise UserError(f"document {doc_id!r} has no adapter in corpus {corpus!r}; "
                        f"run `docpatch patch --corpus {corpus}` (or check the id with `docpatch adapters list`)")
    base = resolve(settings.base_model, settings.cache_dir or None)
    if (manifest["base_model_id"], manifest["base_model_revision"]) != (base.model_id, base.revision):
        raise UserError(f"the adapter of {doc_id!r} was made for base model {manifest['base_model_id']} "
                        f"({manifest['base_model_revision']}), not {base.model_id} ({base.revision}); "
                        "pass the same --base-model or re-patch")
    return from_peft_files(registry.load_files(doc_id, manifest["version_id"])), manifest["version_id"]


def document_text(settings: Settings, corpus: str, doc_id: str) -> str:
    """The document's text in the latest snapshot."""
    import pyarrow.compute as pc

    from pipelines.snapshot import read_snapshot

    check_corpus(settings, corpus)
    table = read_snapshot(settings.store, corpus, columns=["doc_id", "text"], storage_options=settings.storage_options)
    rows = table.filter(pc.equal(table.column("doc_id"), doc_id))
    if rows.num_rows == 0:
        raise UserError(f"document {doc_id!r} is not in the latest snapshot of corpus {corpus!r}")
    return rows.column("text")[0].as_py()


# -- adapters ---------------------------------------------------------------------------------------------------------
LIST_COLUMNS = ["doc_id", "version_id", "rank", "size_bytes", "hypernet_id", "created_at", "tombstoned"]


def cmd_adapters(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.patching import open_registry

    check_corpus_name(args.corpus)
    check_corpus(settings, args.corpus)
    registry = open_registry(settings, args.corpus)
    try:
        return ADAPTER_ACTIONS[args.action](args, registry)
    except (KeyError, ValueError) as exc:  # an unknown or unsafe doc id or version id
        raise UserError(_one_line(exc)) from None


def _adapters_list(args, registry) -> int:
    rows = sorted(registry.list(), key=lambda r: r["doc_id"])
    emit(args, rows, rows=rows, columns=LIST_COLUMNS)
    return 0


def _adapters_show(args, registry) -> int:
    pointer = registry.pointer(args.doc_id)
    if pointer is None:
        raise UserError(f"document {args.doc_id!r} has no adapter in corpus {args.corpus!r}")
    versions = registry.versions(args.doc_id)
    latest = None if pointer.get("tombstone") else registry.latest(args.doc_id)
    data = {"doc_id": args.doc_id, "pointer": pointer, "latest": latest, "versions": versions}
    rows = [{"version_id": v["version_id"], "latest": "*" if latest and v["version_id"] == latest["version_id"] else "",
             "doc_sha256": v["doc_sha256"][:12], "hypernet_id": v["hypernet_id"], "rank": v["rank"],
             "size_bytes": v["size_bytes"], "created_at": v["created_at"], "run_id": v.get("run_id", "")}
            for v in versions]
    status = f"tombstoned ({pointer.get('reason', '')})" if pointer.get("tombstone") else f"latest {pointer['version_id']}"
    emit(args, data, rows=rows, text=f"{args.doc_id}: {status}")
    return 0


def _adapters_export(args, registry) -> int:
    folder = registry.export(args.doc_id, args.dest, args.version)
    emit(args, {"doc_id": args.doc_id, "folder": folder}, text=f"exported {args.doc_id} to {folder}")
    return 0


def _adapters_verify(args, registry) -> int:
    problems = registry.verify(args.doc_id)
    emit(args, problems, rows=problems or None,
         text=None if problems else "registry OK: every pointer, manifest and file checks out")
    return 1 if problems else 0


def _adapters_rollback(args, registry) -> int:
    registry.rollback(args.doc_id, args.version)
    emit(args, {"doc_id": args.doc_id, "version_id": args.version},
         text=f"{args.doc_id}: latest is now {args.version}")
    return 0


def _adapters_gc(args, registry) -> int:
    doomed = registry.gc(keep_last=args.keep_last, dry_run=not args.yes)
    emit(args, doomed, rows=[{"path": p} for p in doomed] or None,
         text=f"{'deleted' if args.yes else 'would delete (dry run; pass --yes)'}: {len(doomed)} folders")
    return 0


ADAPTER_ACTIONS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "list": _adapters_list, "show": _adapters_show, "export": _adapters_export,
    "verify": _adapters_verify, "rollback": _adapters_rollback, "gc": _adapters_gc,
}


# -- run reports ----------------------------------------------------------------------------------------------------
RUN_COLUMNS = ["run_id", "flow", "corpus", "status", "started_at", "seconds", "docs", "patched", "repointed",
               "tombstoned", "failed", "docs_per_second"]


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines import runs

    try:
        if args.action == "list":
            rows = runs.list_runs(settings.store, settings.storage_options, corpus=args.corpus, flow=args.flow,
                                  limit=args.limit or None)
            emit(args, rows, rows=rows, columns=RUN_COLUMNS)
            return 0
        report = runs.read_report(settings.store, args.run_id, settings.storage_options)
        folder = f"{runs.runs_uri(settings.store)}/{report['run_id']}"
        if args.save_plot:
            Path(args.save_plot).write_bytes(runs.read_file(settings.store, report["run_id"], runs.PLOT_PNG,
                                                            settings.storage_options))
            note(f"plot written to {args.save_plot}")
        if args.json:
            emit(args, report)
        else:
            out(runs.read_file(settings.store, report["run_id"], runs.REPORT_MD, settings.storage_options).decode())
            note(f"files: {folder}/{{{runs.REPORT_MD},{runs.REPORT_JSON},{runs.PLOT_PNG}}}")
        return 0
    except (runs.RunNotFound, ValueError) as exc:
        raise UserError(_one_line(exc)) from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.serve import (BACKFILL_FLOW, NIGHTLY_FLOW, backfill_deployment_name, check_cron,
                                 check_cron_shape, deployment_name, serve_nightly)

    check_corpus_name(args.corpus)
    check_source(args.source)
    check_cron_shape(args.cron)
    check_cron(args.cron)
    if "://" not in args.source:  # the deployment's parameter: the same folder wherever a run starts
        args.source = str(Path(args.source).resolve())
    api = os.environ.get("PREFECT_API_URL") or "a temporary Prefect API inside this process (set PREFECT_API_URL)"
    note(f"serving {NIGHTLY_FLOW}/{args.name or deployment_name(args.corpus)}: nightly re-patch of {args.source} "
         f"on '{args.cron}' ({args.timezone})")
    if args.backfill:
        name = f"{BACKFILL_FLOW}/{backfill_deployment_name(args.corpus)}"
        note(f"serving {name}: backfill on demand (`prefect deployment run {name}`)")
    note(f"Prefect API: {api}; store: {settings.store}; Ray: {settings.ray_address or 'local'}; Ctrl-C stops")
    serve_nightly(args.source, args.corpus, settings, args.cron, args.name, args.timezone, backfill=args.backfill)
    return 0


# -- demo ------------------------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from hypernet.prompts import is_correct
    from pipelines.flows import ingest_flow, patch_flow

    questions = demo_questions(args.docs)
    note(f"[1/3] ingesting the sample corpus ({SAMPLE_CORPUS / 'docs'}) into {settings.store}")
    ingested = ingest_flow(str(SAMPLE_CORPUS / "docs"), DEMO_CORPUS, settings)
    note(f"      {_counts_line(ingested['counts'])}")
    note("[2/3] generating one adapter per document (the first run converts the base model once, ~1-2 min)")
    patched = patch_flow(DEMO_CORPUS, settings=settings, progress=not args.json)
    note(f"      {_patch_line(patched)}")
    note(f"[3/3] asking {len(questions)} questions with the base model alone, with the adapter, "
         "and with the document in context")
    loaded = load_base_model(settings)
    rows = []
    for doc_id, q, gold in questions:
        row = {"doc_id": doc_id, "question": q, "gold": gold}
        for mode in ("base", "adapter", "context"):
            answer = ask(settings, DEMO_CORPUS, doc_id, q, mode, loaded=loaded)["answer"]
            row[mode] = answer
            row[f"{mode}_ok"] = is_correct(answer, gold)
        rows.append(row)
        note(f"      {doc_id}: {q}")
    score = {m: sum(r[f"{m}_ok"] for r in rows) for m in ("base", "adapter", "context")}
    summary = {"ingest": ingested, "patch": patched, "answers": rows, "correct": score, "questions": len(rows)}
    table = [{"question": r["question"], "gold": r["gold"], **{m: _mark(r[m], r[f"{m}_ok"]) for m in
                                                                ("base", "adapter", "context")}} for r in rows]
    text = (f"\ncorrect answers out of {len(rows)}: base {score['base']}, adapter {score['adapter']}, "
            f"context {score['context']}  (* = gold answer found)\n"
            f"adapters: {patched['patched']} published, {patched['up_to_date']} already current, "
            f"{len(patched['failed'])} failed; store: {settings.store}\n"
            f"seconds per document to patch: {_per_doc(patched)} (generation + {settings.refine_steps} refinement "
            f"steps; --refine-steps sets the cost)\n"
            f"try: docpatch adapters list --corpus {DEMO_CORPUS}")
    if not args.json:
        out(format_table(table, ["question", "gold", "base", "adapter", "context"], max_width=36))
    emit(args, summary, text=text)
    return 1 if patched["failed"] else 0


def _per_doc(patched: dict) -> str:
    made = patched["patched"] + len(patched["failed"])
    return f"{patched['seconds'] / made:.1f}" if made else "0 (all adapters were current)"


def demo_questions(n_docs: int) -> list[tuple[str, str, str]]:
    """(doc_id, question, gold) for the first question of n documents spread over the sample corpus."""
    records = [json.loads(line) for line in (SAMPLE_CORPUS / "questions.jsonl").read_text().splitlines() if line]
    step = max(1, len(records) // max(1, n_docs))
    return [(r["id"], r["qa"][0]["q"], r["qa"][0]["a"]) for r in records[::step][:n_docs]]


def _mark(answer: str, ok: bool) -> str:
    return f"{'* ' if ok else ''}{answer}"


def _counts_line(counts: dict) -> str:
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "changed", "unchanged", "deleted", "rejected"))


def _report_line(s: dict) -> str:
    return f"\nreport: {s['report']}/report.md (docpatch runs show {s['report'].rsplit('/', 1)[-1]})" \
        if s.get("report") else ""


def _patch_line(s: dict) -> str:
    return (f"{s['docs']} docs: {s['patched']} adapters published, {s['repointed']} re-pointed, "
            f"{s['up_to_date']} already current, {len(s['failed'])} failed ({s['seconds']:.1f} s)")


# -- the parser ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    add_arguments: Callable[[argparse.ArgumentParser], None]
    worker_flags: bool = False
    ingest_flags: bool = False
    train_flags: bool = False


def field_flag(options, f: dataclasses.Field, flag: str = "", *, note: str = "", extra: str = "",
               metavar: str | None = None) -> None:
    """A flag for the dataclass field `f`, its help and default shown from the field. The flag's own
    default is None ("not given"), so the field's default (or a lower source of settings) applies."""
    flag = flag or "--" + f.name.replace("_", "-")
    text = f"{f.metadata['help']}{extra} [{note}default: {f.default!r}]"
    if isinstance(f.default, bool):
        options.add_argument(flag, dest=f.name, action="store_true", default=None, help=text)
    else:
        kind = type(f.default)
        options.add_argument(flag, dest=f.name, type=kind, default=None, metavar=metavar or kind.__name__.upper(),
                             help=text)


def add_settings_flags(options, group: str = "", names: tuple[str, ...] = ()) -> None:
    """The flags of the Settings fields of one flag group (or the named ones)."""
    for f in settings_fields():
        flag, flag_group = flag_of(f)
        if (names and f.name in names) or (not names and flag_group == group):
            field_flag(options, f, flag, note=f"env DOCPATCH_{f.name.upper()}; ")


def _settings_parent(group: str, title: str) -> argparse.ArgumentParser:
    """An argparse parent holding the flags of the Settings fields of one group."""
    parent = argparse.ArgumentParser(add_help=False)
    options = parent.add_argument_group(title)
    add_settings_flags(options, group)
    if group == COMMON:
        options.add_argument("--config", default=None, metavar="PATH",
                             help="settings file (default: $DOCPATCH_CONFIG, else ./docpatch.toml if present)")
        options.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
        options.add_argument("--verbose", "-v", action="store_true", help="log Prefect, Ray and library messages")
    return parent


def _corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, metavar="NAME", help="corpus name (letters, digits, . _ -)")


def _source(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE",
                   help="a directory tree, a .jsonl/.json/.parquet/.csv/.tsv file, or an s3://bucket/prefix")


def _args_ingest(p):
    _source(p)
    _corpus(p)


def _args_patch(p):
    _corpus(p)
    p.add_argument("--full", action="store_true", help="regenerate every adapter, not only missing or stale ones")


def _args_ask(p):
    _corpus(p)
    p.add_argument("doc_id", metavar="DOC_ID", help="document id (see `docpatch adapters list`)")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--mode", choices=MODES, default="adapter",
                   help="adapter: the document's adapter, no document in the prompt; context: the document in "
                        "the prompt; base: neither (default: adapter)")
    p.add_argument("--max-new-tokens", type=int, default=24, help="answer length cap (default: 24)")


def _args_adapters(p):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [p._docpatch_common]  # type: ignore[attr-defined]
    lst = actions.add_parser("list", parents=common, help="one row per document: latest version or tombstone")
    show = actions.add_parser("show", parents=common, help="a document's pointer, latest manifest and versions")
    show.add_argument("doc_id", metavar="DOC_ID")
    export = actions.add_parser("export", parents=common, help="write a version as a plain PEFT adapter folder")
    export.add_argument("doc_id", metavar="DOC_ID")
    export.add_argument("dest", metavar="DEST_DIR")
    export.add_argument("--version", default=None, help="version id (default: latest)")
    verify = actions.add_parser("verify", parents=common, help="check pointers, manifests and file hashes")
    verify.add_argument("doc_id", metavar="DOC_ID", nargs="?", default=None, help="one document (default: all)")
    rollback = actions.add_parser("rollback", parents=common, help="point a document at another existing version")
    rollback.add_argument("doc_id", metavar="DOC_ID")
    rollback.add_argument("version", metavar="VERSION_ID")
    gc = actions.add_parser("gc", parents=common, help="delete old versions (dry run unless --yes)")
    gc.add_argument("--keep-last", type=int, default=1, help="versions to keep per document besides latest")
    gc.add_argument("--yes", action="store_true", help="really delete")
    for sub in (lst, show, export, verify, rollback, gc):
        _corpus(sub)


def _args_runs(p):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [p._docpatch_common]  # type: ignore[attr-defined]
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


def _args_serve(p):
    from pipelines.serve import DEFAULT_CRON

    _corpus(p)
    p.add_argument("--source", required=True, metavar="SOURCE", help="what the nightly run ingests")
    p.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule (default: {DEFAULT_CRON!r}, 02:00 every day)")
    p.add_argument("--timezone", default="UTC", help="time zone of the schedule (default: UTC)")
    p.add_argument("--name", default=None, help="deployment name (default: nightly-CORPUS)")
    p.add_argument("--no-backfill", dest="backfill", action="store_false",
                   help="do not also serve the corpus's backfill deployment (backfill-CORPUS, run on demand)")


def _args_demo(p):
    p.add_argument("--docs", type=int, default=7, metavar="N",
                   help="documents to ask one question about (default: 7; every document is patched)")


def _args_none(p):
    pass



def _ratio(row: dict, metric: str) -> str:
    value = (row.get("ratio_to_context") or {}).get(metric)
    return "" if value is None else f"{value:.2f}"


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from hypernet.evaluate import MODES as EVAL_MODES
    from hypernet.evaluate import FinetuneConfig, evaluate_file

    if not Path(args.data).is_file():
        raise UserError(f"eval file not found: {args.data}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = sorted(set(modes) - set(EVAL_MODES))
    if bad:
        raise UserError(f"unknown --modes {bad}; choose from {', '.join(EVAL_MODES)}")
    finetune = {k: v for k, v in (("steps", args.finetune_steps), ("self_questions", args.finetune_self_questions))
                if v is not None}
    if any(v < 0 for v in finetune.values()):
        raise UserError("--finetune-steps and --finetune-self-questions take counts of 0 or more")
    try:
        steps = tuple(int(k) for k in (args.eval_refine_steps or str(settings.refine_steps)).split(",") if k.strip())
    except ValueError:
        raise UserError(f"--refine-curve takes a comma list of step counts, got {args.eval_refine_steps!r}") from None
    if not steps or min(steps) < 0 or args.oracle_steps < 1:
        raise UserError("--refine-curve takes counts of 0 or more and --oracle-steps a count of 1 or more")
    try:
        from pipelines.hypernets import resolve_hypernet_path

        report = evaluate_file(args.data, modes, base_model_spec=settings.base_model,
                               hypernet_path=resolve_hypernet_path(settings), limit=args.limit,
                               chunk_len=args.chunk_len, window_len=args.window_len,
                               window_combine=args.window_combine,
                               finetune=FinetuneConfig(**finetune), refine_steps=steps,
                               oracle_steps=args.oracle_steps,
                               progress=note,
                               device=args.device or _default_device(), read_dtype=settings.read_dtype)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not args.answers:
        report.pop("answers", None)
    rows = [{"mode": m, "exact": f"{r['accuracy']:.3f}", "f1": f"{r['f1']:.3f}",
             "exact/context": _ratio(r, "accuracy"), "f1/context": _ratio(r, "f1"),
             "gold nll": f"{r['gold_nll']:.2f}", "s/doc to make": f"{r.get('seconds_per_doc', 0):.2f}"}
            for m, r in report.items() if isinstance(r, dict) and "accuracy" in r]
    emit(args, report, rows=rows, text=f"{report['n_docs']} documents, {report['n_questions']} questions")
    return 0


# `docpatch train` flags, each a field of hypernet.config.TrainConfig or pipelines.meta_training.MetaTrainJob
# (help and default from there): (field, flag, metavar). Other TrainConfig fields: --set KEY=VALUE.
TRAIN_FLAGS = (("init_from", "--init-from", "PATH"), ("data", "--data", "SOURCE"), ("steps", "--steps", "N"),
               ("lr", "--lr", "LR"), ("warmup", "--warmup", "N"), ("save_every", "--save-every", "N"),
               ("seed", "--seed", "N"))
SINGLE_PROCESS_FLAGS = (("out_dir", "--out", "DIR"),)
JOB_FLAGS = (("num_workers", "--workers", "N"), ("global_batch", "--global-batch", "B"), ("num_docs", "--docs", "N"),
             ("run_name", "--run-name", "NAME"), ("keep_checkpoints", "--keep-checkpoints", "N"),
             ("max_failures", "--max-failures", "N"), ("eval_file", "--eval-file", "FILE.jsonl"),
             ("eval_docs", "--eval-docs", "N"), ("eval_limit", "--eval-limit", "N"), ("force", "--force", None),
             ("backfill_corpus", "--backfill", "CORPUS"), ("backfill_deployment", "--backfill-deployment",
                                                           "FLOW/DEPLOYMENT"),
             ("training_corpus", "--corpus", "CORPUS"), ("holdout_share", "--holdout-share", "SHARE"),
             ("generic_tolerance", "--generic-tolerance", "SHARE"))
# TrainConfig fields the single-process trainer takes from the settings, and where a user sets them.
FROM_SETTINGS = {"base_model": "--base-model", "dtype": "DOCPATCH_DTYPE", "torch_threads": "--torch-threads"}


def _given(args: argparse.Namespace, flags) -> dict[str, Any]:
    """The values of the flags the user gave, by field name."""
    return {name: getattr(args, name) for name, _flag, _metavar in flags if getattr(args, name) is not None}


def single_process_config(args: argparse.Namespace, settings: Settings):
    """The single-process trainer's TrainConfig: its defaults, the flags and --set given, and the
    settings' base model, dtype and torch threads."""
    from hypernet.config import TrainConfig

    given = [flag for name, flag, _ in JOB_FLAGS if name != "num_workers" and getattr(args, name) is not None]
    if given:
        raise UserError(f"{given[0]} belongs to the distributed meta-train flow: add --workers N (N >= 1)")
    try:
        return TrainConfig(**parse_train_overrides(args.set), **_given(args, TRAIN_FLAGS + SINGLE_PROCESS_FLAGS),
                           **{name: getattr(settings, name) for name in FROM_SETTINGS})
    except (TypeError, ValueError) as exc:
        raise UserError(_one_line(exc)) from None


def meta_train_job(args: argparse.Namespace):
    """The meta-train flow's MetaTrainJob: its defaults, and the flags and --set given."""
    from hypernet.config import TrainConfig
    from pipelines.meta_training import MetaTrainJob

    if args.out_dir is not None:
        raise UserError("--out belongs to the single-process trainer (without --workers)")
    try:
        train = TrainConfig(**parse_train_overrides(args.set), **_given(args, TRAIN_FLAGS))
        return MetaTrainJob(**_given(args, JOB_FLAGS), train=train)
    except (TypeError, ValueError) as exc:
        raise UserError(_one_line(exc)) from None


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    if not args.num_workers and not args.training_corpus:
        return _train_single_process(args, settings)
    if args.num_workers is not None and args.num_workers < 1:
        raise UserError(f"--workers must be 0 (one process) or more, got {args.num_workers}"
                        if args.num_workers < 0 else "--corpus trains in the meta-train flow: give --workers N >= 1")
    job = meta_train_job(args)
    if args.training_corpus:
        check_corpus_name(args.training_corpus)
        check_corpus(settings, args.training_corpus)
    if args.eval_file:
        from hypernet.evaluate import read_eval_file

        if not Path(args.eval_file).is_file():
            raise UserError(f"eval file not found: {args.eval_file}")
        try:
            read_eval_file(args.eval_file)
        except ValueError as exc:
            raise UserError(_one_line(exc)) from None
    if args.backfill_corpus:
        check_corpus_name(args.backfill_corpus)
        if not args.backfill_deployment:
            check_corpus(settings, args.backfill_corpus)
    from pipelines.corpus_training import NoTrainingTargets
    from pipelines.flows import meta_train_flow
    from pipelines.meta_training import train_job_config

    try:
        result = meta_train_flow(settings=settings, job=train_job_config(settings, job), progress=not args.json)
    except NoTrainingTargets as exc:
        raise UserError(str(exc)) from None
    evaluation, decision = result["eval"], result["decision"]
    rows = [{"checkpoint step": step, "adapter accuracy": f"{acc:.3f}"} for step, acc in evaluation["checkpoints"].items()]
    current = evaluation["current"]
    corpus = result.get("corpus")
    lines = [f"run {result['run_name']}: {result['steps']} steps, {len(result['restores'])} restores; "
             f"final checkpoint {result['checkpoint']}",
             *([f"corpus {corpus['split']['corpus']}: {corpus['split']['n_train']} documents trained on "
                f"({corpus['targets']['n_targets']} dense targets, {corpus['targets']['refined']} refined), "
                f"{corpus['split']['n_holdout']} held out; their own QA ({corpus['eval']['n_questions']} questions): "
                f"context {_fraction(corpus['eval']['context'])}, current "
                f"{_fraction(corpus['eval']['current']['accuracy'])}, new "
                f"{_fraction(corpus['eval']['checkpoints'][str(result['steps'])])}"] if corpus else []),
             f"eval ({evaluation['n_questions']} questions): base {evaluation['base']:.3f}, "
             f"context {evaluation['context']:.3f}, current {current['id']} "
             + (f"{current['accuracy']:.3f}" if current["accuracy"] is not None else "(does not fit the base model)"),
             (f"registered and made current: {decision.get('hypernet_id')} ({decision['reason']})"
              if decision.get("promoted") else f"decision: {decision['reason']}"),
             f"report: {result['report']['json']} and {result['report']['png']}"]
    if result["backfill"]:
        backfill = result["backfill"]
        lines.append("backfill: " + (f"deployment {backfill['deployment']} started (flow run {backfill['flow_run_id']})"
                                     if "deployment" in backfill else backfill.get("skipped") or _patch_line(backfill)))
    emit(args, result, rows=rows, text="\n".join(lines))
    return 0


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _train_single_process(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.meta_training import resolve_train

    cfg = resolve_train(settings, single_process_config(args, settings))
    from hypernet.train import train as run_training

    latest = run_training(cfg, log=note)
    emit(args, {"checkpoint": latest, "steps": cfg.steps}, text=f"checkpoint: {latest}")
    return 0


def parse_train_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs as TrainConfig fields, each converted to its field's type."""
    from hypernet.config import TrainConfig

    types = {f.name: type(f.default) for f in dataclasses.fields(TrainConfig)}
    flags = {name: flag for name, flag, _ in TRAIN_FLAGS + SINGLE_PROCESS_FLAGS} | FROM_SETTINGS
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise UserError(f"--set {pair!r}: want KEY=VALUE with KEY one of {', '.join(sorted(set(types) - set(flags)))}")
        if key in flags:
            raise UserError(f"--set {key}: use {flags[key]}")
        try:
            out[key] = types[key](value)
        except ValueError:
            raise UserError(f"--set {key}={value!r}: not a valid {types[key].__name__}") from None
    return out


def _args_eval(p):
    p.add_argument("--data", required=True, metavar="FILE.jsonl",
                   help='eval file: one {"id", "text", "qa": [{"q", "a"}]} per line')
    p.add_argument("--modes", default="base,context,adapter",
                   help="comma list of base, context, adapter, refine, fresh, finetune, oracle (default: "
                        "base,context,adapter); refine and fresh give one row per --refine-curve count, oracle is a "
                        "ceiling trained on the eval questions themselves, never a product mode")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N documents")
    p.add_argument("--chunk-len", type=int, default=None, help="override the checkpoint's chunk length")
    p.add_argument("--window-len", type=int, default=None,
                   help="override the checkpoint's window length (tokens per LoRA inside a chunk; 0: one LoRA per chunk)")
    from hypernet.config import CHUNK_COMBINE_RULES

    p.add_argument("--window-combine", default=None, choices=CHUNK_COMBINE_RULES,
                   help="override the checkpoint's scaling of a chunk's window LoRAs (sum, mean or sqrt)")
    add_settings_flags(p, names=("read_dtype",))
    # Defaults come from hypernet.evaluate.FinetuneConfig (not imported here: it pulls in torch).
    p.add_argument("--finetune-steps", type=int, default=None, metavar="N",
                   help="gradient steps of the finetune baseline (default: 30)")
    p.add_argument("--finetune-self-questions", type=int, default=None, metavar="N",
                   help="fill-in-the-blank items the finetune baseline makes from each document's own sentences "
                        "and trains on beside its text, never the eval questions (0: the text alone; default: 16)")
    p.add_argument("--refine-curve", dest="eval_refine_steps", default=None, metavar="K[,K...]",
                   help="refinement step counts reported by the refine and fresh modes, e.g. 2,5,10,20 (default: "
                        "the refine_steps setting, --refine-steps on patch)")
    p.add_argument("--oracle-steps", type=int, default=20, metavar="N",
                   help="distillation steps of the oracle ceiling (default: 20)")
    p.add_argument("--answers", action="store_true", help="include every generated answer in --json output")
    p.add_argument("--device", default="", help="where the models run: cpu, cuda or cuda:N (default: the GPU when there is one)")


def _args_train(p):
    from hypernet.config import TrainConfig
    from pipelines.meta_training import MetaTrainJob

    p.description = (
        "Meta-train the hypernetwork by context distillation. Without --workers a single resumable process "
        "writes checkpoints to --out. With --workers N >= 1 the meta-train flow runs: "
        "teacher examples are prepared by Ray actors into Parquet under the training storage, a Ray Train "
        "job trains on N data-parallel workers (DDP; a global batch of --global-batch documents split "
        "between them), checkpoints go to TRAIN_STORAGE/RUN_NAME/step-NNNNNN (and a run resumes from its "
        "latest after a worker failure or a re-run with the same --run-name); then the final checkpoint is "
        "evaluated against the current hypernetwork on a held-out eval file and registered as the store's "
        "new current hypernetwork only if it answers more questions (or with --force); a report "
        "(training_report.json + .png) is written beside the checkpoints; --backfill then re-patches a corpus "
        "with it. --corpus KB runs the flow on a corpus: its documents (but a held-out split), its adapters as "
        "dense targets, the decision on the held-out split's own questions and the eval file, then the backfill "
        "of KB. Both modes train with the same defaults (hypernet.config.TrainConfig). In the flow, "
        "--num-actors is the number of teacher actors that prepare the data, "
        "--cpus-per-actor / --gpus-per-actor / --torch-threads size every teacher actor and training worker, "
        "and the worker options also apply to the backfill.")
    train_fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    job_fields = {f.name: f for f in dataclasses.fields(MetaTrainJob)}
    both = p.add_argument_group("both modes")
    for name, flag, metavar in TRAIN_FLAGS:
        extra = ", or 'current' for the one the pipeline uses now" if name == "init_from" else ""
        field_flag(both, train_fields[name], flag, metavar=metavar, extra=extra)
    both.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="any other hypernet.config.TrainConfig field, e.g. --set latent_dim=64 "
                           "--set ce_weight=0.3 (repeatable)")
    local = p.add_argument_group("single process (without --workers)")
    for name, flag, metavar in SINGLE_PROCESS_FLAGS:
        field_flag(local, train_fields[name], flag, metavar=metavar)
    flow = p.add_argument_group("distributed meta-train flow (--workers N >= 1)")
    for name, flag, metavar in JOB_FLAGS:
        solo = name == "num_workers"  # the flag chooses the mode: without it, no flow runs
        field_flag(flow, job_fields[name], flag, metavar=metavar, note="the flow's " if solo else "",
                   extra="; without this flag (or with 0) a single process trains instead" if solo else "")


COMMANDS: list[Command] = [
    Command("demo", "ingest the sample corpus, patch it, and compare answers with and without adapters",
            cmd_demo, _args_demo, worker_flags=True),
    Command("ingest", "read a source into a new Parquet snapshot of a corpus (with its diff)", cmd_ingest, _args_ingest,
            ingest_flags=True),
    Command("patch", "backfill: an adapter for every document that lacks a current one (--full: all)",
            cmd_patch, _args_patch, worker_flags=True),
    Command("nightly", "ingest, patch new and changed documents, tombstone deleted ones", cmd_nightly,
            _args_ingest, worker_flags=True, ingest_flags=True),
    Command("ask", "answer a question about a document (adapter, context or base)", cmd_ask, _args_ask),
    Command("adapters", "inspect and manage a corpus's adapter registry", cmd_adapters, _args_adapters),
    Command("serve", "serve the nightly flow on a cron schedule and the backfill on demand (Prefect deployments)",
            cmd_serve, _args_serve,
            worker_flags=True, ingest_flags=True),
    Command("runs", "reports of past patch and nightly runs: counts, throughput, time per stage, failures",
            cmd_runs, _args_runs),
    Command("eval", "measure answers on an eval file: base, context, adapter, finetune", cmd_eval, _args_eval),
    Command("train", "meta-train the hypernetwork: one process, or a Ray Train job + eval + registration "
            "(--workers N)", cmd_train, _args_train, worker_flags=True, train_flags=True),
]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="docpatch",
        description="One LoRA adapter per document, generated by a hypernetwork in one forward pass.",
        epilog="Settings: flags > DOCPATCH_* environment > docpatch.toml > defaults. "
               "Run `docpatch COMMAND --help` for a command's options.")
    common = _settings_parent(COMMON, "common options")
    workers = _settings_parent(WORKERS, "worker options")
    reading = _settings_parent(INGEST, "ingest options")
    training = _settings_parent(TRAIN, "training storage")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        parents = [common, workers] if cmd.worker_flags else [common]
        parents += [reading] if cmd.ingest_flags else []
        parents += [training] if cmd.train_flags else []
        if cmd.name in ("adapters", "runs"):
            parents = []  # the options go on each action
        p = subs.add_parser(cmd.name, help=cmd.help, description=cmd.help, parents=parents)
        p._docpatch_common = common  # type: ignore[attr-defined]
        cmd.add_arguments(p)
        p.set_defaults(run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `docpatch` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    prepare_runtime(args.verbose)
    _data_stream.append(sys.stdout)
    try:
        settings = load_settings(args)
        # Libraries and Ray workers that print would corrupt the data (and --json): send them to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            return args.run(args, settings)
    except KeyboardInterrupt:
        note("docpatch: interrupted")
        return 130
    except BrokenPipeError:  # `docpatch runs list | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if isinstance(exc, _user_error_types()):
            note(f"docpatch: error: {_one_line(exc)}")
            return EXIT_USER_ERROR
        raise
    finally:
        _data_stream.pop()


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
