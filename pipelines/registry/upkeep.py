"""Checking and pruning a registry: verify (manifests, file hashes, pointers) and gc (old and orphaned versions).

`gc` must not run concurrently with `rollback` to a version it deletes.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from hypernet.peft_format import ADAPTER_FILES

from pipelines.registry.keys import check_doc_id, key_of, versions_dir
from pipelines.versioned_store import MANIFEST_FILE, IntegrityError, matches

if TYPE_CHECKING:
    from pipelines.registry.adapters import Registry

log = logging.getLogger(__name__)


def verify(registry: Registry, doc_id: str | None = None) -> list[dict]:
    """Problems found (empty when fine): tampered or missing files, bad manifests, dangling pointers."""
    docs = [doc_id] if doc_id is not None else registry.doc_ids()
    return [p for problems in registry.map(lambda d: _verify_doc(registry, d), docs) for p in problems]


def _verify_doc(registry: Registry, doc_id: str) -> list[dict]:
    check_doc_id(doc_id)
    problems = []

    def problem(kind: str, detail: str, version_id: str | None = None, file: str | None = None) -> None:
        problems.append({"doc_id": doc_id, "version_id": version_id, "file": file, "kind": kind, "detail": detail})

    present: dict[str, dict] = {}
    for vid in registry.store.list(versions_dir(doc_id)):
        try:
            manifest = registry.manifest(doc_id, vid)
        except (IntegrityError, ValueError) as exc:
            problem("bad_manifest", str(exc), vid)
            continue
        if manifest is None:
            continue  # files without a manifest: a publish that crashed or is running (gc's job)
        present[vid] = manifest
        _verify_version(registry, doc_id, vid, manifest, problem)
    _verify_pointer(registry, doc_id, present, problem)
    return problems


def _verify_version(registry: Registry, doc_id: str, vid: str, manifest: dict, problem) -> None:
    """A version's key, id and files against its manifest."""
    try:
        expected = key_of(manifest).version_id
    except (KeyError, ValueError) as exc:
        problem("bad_manifest", f"manifest lacks key fields: {exc}", vid)
        return
    if expected != vid or manifest.get("version_id") != vid or manifest.get("doc_id") != doc_id:
        problem("bad_manifest", f"manifest key hashes to {expected}, not {vid}", vid)
    folder = registry.version_dir(doc_id, vid)
    for name, meta in manifest.get("files", {}).items():
        data = registry.store.read(f"{folder}/{name}")
        if data is None:
            problem("missing_file", f"{folder}/{name} is missing", vid, name)
        elif not matches(data, meta.get("sha256"), meta.get("size")):
            problem("tampered_file", f"{folder}/{name} does not match its manifest sha256", vid, name)
    if set(manifest.get("files", {})) != set(ADAPTER_FILES):
        problem("bad_manifest", f"manifest lists {sorted(manifest.get('files', {}))}", vid)


def _verify_pointer(registry: Registry, doc_id: str, present: dict[str, dict], problem) -> None:
    """The pointer parses and names a version that exists, for the same document content."""
    try:
        pointer = registry.pointer(doc_id)
    except IntegrityError as exc:
        problem("bad_pointer", str(exc))
        return
    if pointer is None or pointer.get("tombstone"):
        return
    named = pointer.get("version_id")
    if named not in present:
        problem("dangling_pointer", f"latest names missing version {named}", named)
    elif pointer.get("doc_sha256") != present[named].get("doc_sha256"):
        problem("bad_pointer", f"latest's doc_sha256 disagrees with version {named}", named)


def gc(registry: Registry, *, keep_last: int = 1, dry_run: bool = True, orphan_grace_s: float = 3600.0) -> list[str]:
    """Version folders not pointed to and beyond the newest `keep_last` per doc; deleted unless dry_run.

    Also folders with files but no manifest (publishes that crashed) older than orphan_grace_s:
    younger ones may belong to a publish still running.
    """
    doomed = [p for paths in registry.map(lambda d: _gc_doc(registry, d, keep_last, orphan_grace_s),
                                          registry.doc_ids())
              for p in paths]
    if not dry_run:
        for folder in doomed:
            registry.store.delete(f"{folder}/{MANIFEST_FILE}")  # first: the version stops existing at once
            registry.store.delete_tree(folder)
        log.info("gc deleted %d version folders", len(doomed))
    return doomed


def _gc_doc(registry: Registry, doc_id: str, keep_last: int, orphan_grace_s: float) -> list[str]:
    manifests = registry.versions(doc_id)
    pointer = registry.pointer(doc_id) or {}
    keep = {m["version_id"] for m in manifests[-keep_last:]} if keep_last > 0 else set()
    keep.add(pointer.get("version_id"))
    doomed = [registry.version_dir(doc_id, m["version_id"]) for m in manifests if m["version_id"] not in keep]
    with_manifest = {m["version_id"] for m in manifests}
    now = time.time()
    for vid in registry.version_ids(versions_dir(doc_id)):
        if vid in with_manifest:
            continue
        folder = registry.version_dir(doc_id, vid)
        times = [t for n in ADAPTER_FILES if (t := registry.store.modified(f"{folder}/{n}")) is not None]
        if not times or now - max(times) >= orphan_grace_s:
            doomed.append(folder)
    return doomed
