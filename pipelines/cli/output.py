"""What a command prints and how it fails: data on stdout (tables, or bare JSON with --json), notes and
errors on stderr, and `UserError` for a mistake the user can fix (one line, no traceback)."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from contextvars import ContextVar
from typing import Any, TextIO

# The real stdout while a command runs: everything else that prints is sent to stderr meanwhile.
_data_stream: ContextVar[TextIO | None] = ContextVar("docpatch_data_stream", default=None)


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a KeyError's without its quotes)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


@contextlib.contextmanager
def data_on_stdout():
    """Run a command with print() sent to stderr, so libraries and Ray workers cannot corrupt the data
    (and --json) that `out` writes to the real stdout."""
    token = _data_stream.set(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _data_stream.reset(token)


def out(text: str) -> None:
    """Data for stdout (tables, JSON): the one way a command writes there."""
    print(text, file=_data_stream.get() or sys.stdout, flush=True)


def note(message: str) -> None:
    """A progress or hint line for people, on stderr."""
    print(message, file=sys.stderr, flush=True)


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


# -- summary lines shared by the commands that run the patching flows ----------------------------------------
def counts_line(counts: dict) -> str:
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "changed", "unchanged", "deleted", "rejected"))


def patch_line(s: dict) -> str:
    return (f"{s['docs']} docs: {s['patched']} adapters published, {s['repointed']} re-pointed, "
            f"{s['up_to_date']} already current, {len(s['failed'])} failed ({s['seconds']:.1f} s)")


def report_line(s: dict) -> str:
    return f"\nreport: {s['report']}/report.md (docpatch runs show {s['report'].rsplit('/', 1)[-1]})" \
        if s.get("report") else ""
