"""`docpatch adapters ACTION`: inspect and manage a corpus's adapter registry, or with --tasks the task adapters'
(pipelines.task_adapters: the same registry, a task's name in the document id's place)."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from pipelines.settings import COMMON, Settings

from pipelines.cli.options import Command, settings_parent
from pipelines.cli.output import UserError, emit, one_line

LIST_COLUMNS = ["doc_id", "version_id", "rank", "size_bytes", "hypernet_id", "created_at", "tombstoned"]


def adapters(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.lookup import latest_snapshot
    from pipelines.patching import open_registry
    from pipelines.task_adapters import open_task_registry

    if args.tasks:
        registry = open_task_registry(settings)
    else:
        latest_snapshot(settings, args.corpus)
        registry = open_registry(settings, args.corpus)
    try:
        return ACTIONS[args.action](args, registry)
    except (KeyError, ValueError) as exc:  # an unknown or unsafe doc id or version id
        raise UserError(one_line(exc)) from None


def _list(args, registry) -> int:
    rows = sorted(registry.list(), key=lambda r: r["doc_id"])
    emit(args, rows, rows=rows, columns=LIST_COLUMNS)
    return 0


def _show(args, registry) -> int:
    pointer = registry.pointer(args.doc_id)
    if pointer is None:
        raise UserError(f"task {args.doc_id!r} has no adapter" if args.tasks else
                        f"document {args.doc_id!r} has no adapter in corpus {args.corpus!r}")
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


def _export(args, registry) -> int:
    folder = registry.export(args.doc_id, args.dest, args.version)
    emit(args, {"doc_id": args.doc_id, "folder": folder}, text=f"exported {args.doc_id} to {folder}")
    return 0


def _verify(args, registry) -> int:
    problems = registry.verify(args.doc_id)
    emit(args, problems, rows=problems or None,
         text=None if problems else "registry OK: every pointer, manifest and file checks out")
    return 1 if problems else 0


def _rollback(args, registry) -> int:
    registry.rollback(args.doc_id, args.version)
    emit(args, {"doc_id": args.doc_id, "version_id": args.version},
         text=f"{args.doc_id}: latest is now {args.version}")
    return 0


def _gc(args, registry) -> int:
    doomed = registry.gc(keep_last=args.keep_last, dry_run=not args.yes)
    emit(args, doomed, rows=[{"path": p} for p in doomed] or None,
         text=f"{'deleted' if args.yes else 'would delete (dry run; pass --yes)'}: {len(doomed)} folders")
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "list": _list, "show": _show, "export": _export, "verify": _verify, "rollback": _rollback, "gc": _gc,
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [settings_parent(COMMON)]
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
        where = sub.add_mutually_exclusive_group(required=True)
        where.add_argument("--corpus", metavar="NAME", help="corpus name (letters, digits, . _ -)")
        where.add_argument("--tasks", action="store_true",
                           help="the task adapters (`docpatch task`) instead of a corpus's; DOC_ID is a task name")


COMMANDS = (Command("adapters", "inspect and manage a corpus's adapter registry (or the task adapters)", adapters,
                    add_arguments, groups=()),)
