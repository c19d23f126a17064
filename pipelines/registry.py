"""The adapter registry: immutable PEFT adapter versions per document, a `latest` pointer per document.

Layout under the registry URI (a local directory or s3://bucket/prefix):

    docs/{doc_id}/versions/{version_id}/adapter_config.json
    docs/{doc_id}/versions/{version_id}/adapter_model.safetensors
    docs/{doc_id}/versions/{version_id}/manifest.json   written last, create-only: a version exists
                                                        exactly when its manifest does
    docs/{doc_id}/latest.json                           the served version (or a tombstone), moved
                                                        only by compare-and-swap
    index.parquet                                       one row per document, for fast listing

A version is keyed by (doc_id, document sha256, hypernetwork id, base model id, base model revision),
so re-publishing the same key is a no-op. Adapter files are written create-only too: once a file
exists its bytes never change, so a manifest always describes what is stored, even when two
processes publish the same key at once or a crashed publish left files behind (the first stored
bytes win; the manifest records their sha256).

The index is a cache rebuilt from the pointers: `publish_many`, `tombstone` and `rollback` update it
(compare-and-swap, so concurrent updaters do not lose rows); a single `publish` does not, because
rewriting one Parquet file per adapter makes a backfill quadratic. Call `rebuild_index()` after
publishing one by one. `gc` must not run concurrently with `rollback` to a version it deletes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from hypernet.peft_format import ADAPTER_FILES, validate_adapter
from workers.storage import ConcurrentUpdateError, Storage, open_storage, redact_secrets, redact_uri

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
POINTER_FILE = "latest.json"
INDEX_FILE = "index.parquet"
MANIFEST_FORMAT = 1
READ_THREADS = 8


class IntegrityError(Exception):
    """Stored bytes disagree with their manifest, or a pointer names a missing version."""


def check_doc_id(doc_id: str) -> None:
    """Refuse ids that would escape or hide inside the layout (ids are sanitised upstream)."""
    if not isinstance(doc_id, str) or not doc_id or "/" in doc_id or "\\" in doc_id or ".." in doc_id \
            or doc_id.startswith(".") or "\x00" in doc_id:
        raise ValueError(f"unsafe doc_id {doc_id!r}: no '/', '\\', '..', NUL or leading '.'")


@dataclass(frozen=True)
class AdapterKey:
    """What makes an adapter version: the document's content and what generated the adapter."""

    doc_id: str
    doc_sha256: str
    hypernet_id: str
    base_model_id: str
    base_model_revision: str
    refine: str = ""  # the refinement recipe's key (RefineConfig.key); "" for adapters published as generated

    def __post_init__(self) -> None:
        check_doc_id(self.doc_id)
        for f in dataclasses.fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise ValueError(f"AdapterKey.{f.name} must be a str, got {getattr(self, f.name)!r}")

    @property
    def version_id(self) -> str:
        # JSON of the list joins the fields unambiguously ("a","bc" != "ab","c").
        fields = [getattr(self, f.name) for f in dataclasses.fields(self)]
        if not self.refine:  # unrefined adapters keep the ids they had before refinement existed
            fields.pop()
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:20]


@dataclass
class PublishResult:
    """What one publish did."""

    key: AdapterKey
    version_id: str
    created: bool  # False: that version already existed (idempotent re-publish)
    pointer_moved: bool


# -- small helpers -----------------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _key_of(manifest: dict) -> AdapterKey:
    return AdapterKey(**{f.name: manifest.get(f.name, f.default) for f in dataclasses.fields(AdapterKey)})


def _docs_dir() -> str:
    return "docs"


def _pointer_path(doc_id: str) -> str:
    return f"docs/{doc_id}/{POINTER_FILE}"


def _versions_dir(doc_id: str) -> str:
    return f"docs/{doc_id}/versions"


def _version_dir(doc_id: str, version_id: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{20}", version_id or ""):
        raise ValueError(f"not a version id: {version_id!r}")
    return f"docs/{doc_id}/versions/{version_id}"


# -- the index --------------------------------------------------------------------------------------
def _index_schema():
    import pyarrow as pa

    return pa.schema([
        ("doc_id", pa.string()), ("version_id", pa.string()), ("doc_sha256", pa.string()),
        ("hypernet_id", pa.string()), ("base_model_id", pa.string()), ("rank", pa.int32()),
        ("size_bytes", pa.int64()), ("created_at", pa.string()), ("tombstoned", pa.bool_()),
    ])


def _index_bytes(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(sorted(rows, key=lambda r: r["doc_id"]), schema=_index_schema()), buf)
    return buf.getvalue()


def _index_rows(data: bytes) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).to_pylist()


# -- the registry -----------------------------------------------------------------------------------
class Registry:
    """Versions, pointers, tombstones and an index over one storage root."""

    def __init__(self, uri: str, storage_options: dict | None = None, cache_dir: str | None = None):
        self.uri = uri
        self.store: Storage = open_storage(uri, storage_options)
        # Local content-addressed cache of adapter files (name = sha256): serving reads S3 once.
        self.cache_dir = cache_dir

    def __repr__(self) -> str:
        return f"Registry({redact_uri(self.uri)!r})"  # never the storage options: they hold credentials

    # -- publishing --
    def publish(self, key: AdapterKey, files: dict[str, bytes], lineage: dict | None = None, *,
                run_id: str = "") -> PublishResult:
        """Store the adapter as an immutable version (if new) and point `latest` at it."""
        rank = validate_adapter(files)
        lineage = redact_secrets(lineage or {})  # lineage may carry settings
        try:
            json.dumps(lineage)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lineage must be JSON-serialisable: {exc}") from None
        manifest, created = self._write_version(key, files, lineage, run_id, rank)
        moved = self._move_pointer(key.doc_id, manifest, run_id)
        log.info("publish %s version %s: created=%s pointer_moved=%s", key.doc_id, key.version_id, created, moved)
        return PublishResult(key, key.version_id, created, moved)

    def publish_many(self, items: Iterable[tuple[AdapterKey, dict[str, bytes], dict | None]], *,
                     run_id: str = "") -> list[PublishResult]:
        """Publish a batch, then update the index once for the documents it touched."""
        results = [self.publish(key, files, lineage, run_id=run_id) for key, files, lineage in items]
        self._update_index({r.key.doc_id for r in results})
        return results

    def _write_version(self, key: AdapterKey, files: dict[str, bytes], lineage: dict | None, run_id: str,
                       rank: int) -> tuple[dict, bool]:
        """Files create-only, then the manifest create-only; (manifest, whether we created it)."""
        folder = _version_dir(key.doc_id, key.version_id)
        existing = self._read_manifest(key.doc_id, key.version_id)
        if existing is not None:
            return existing, False
        stored = {}
        for name in ADAPTER_FILES:
            path = f"{folder}/{name}"
            if self.store.put_new(path, files[name]):
                stored[name] = files[name]
                continue
            # A crashed or concurrent publish of this key stored it first; its bytes are the version's.
            data = self.store.read(path)
            if data is None:
                raise ConcurrentUpdateError(f"{path} vanished while publishing (gc running?)")
            stored[name] = data
        if stored != files:
            try:
                rank = validate_adapter(stored)
            except ValueError as exc:
                raise IntegrityError(f"files already in {folder} are broken ({exc}); run gc") from None
        manifest = {
            "format": MANIFEST_FORMAT,
            **dataclasses.asdict(key),
            "version_id": key.version_id,
            "files": {n: {"sha256": _sha256(d), "size": len(d)} for n, d in stored.items()},
            "rank": rank,
            "size_bytes": sum(len(d) for d in stored.values()),
            "created_at": _now(),
            "run_id": run_id,
            "lineage": lineage or {},  # already redacted by publish
        }
        body = _json_bytes(manifest)
        path = f"{folder}/{MANIFEST_FILE}"
        if self.store.put_new(path, body):
            return manifest, True
        winner = self.store.read(path)
        if winner == body:  # our own write, answered 412 on a retry
            return manifest, True
        if winner is None:
            raise ConcurrentUpdateError(f"{path} vanished while publishing (gc running?)")
        return json.loads(winner), False

    # -- pointers --
    def _cas_pointer(self, doc_id: str, decide: Callable[[dict | None], dict | None]) -> bool:
        """Move the pointer to `decide(current)` by compare-and-swap; False if decide says no change."""
        def decide_bytes(data: bytes | None) -> bytes | None:
            new = decide(json.loads(data) if data is not None else None)
            return None if new is None else _json_bytes(new)

        return self.store.update(_pointer_path(doc_id), decide_bytes)

    def _move_pointer(self, doc_id: str, manifest: dict, run_id: str) -> bool:
        version_id = manifest["version_id"]

        def decide(current: dict | None) -> dict | None:
            if current and not current.get("tombstone") and current.get("version_id") == version_id:
                return None
            return {"doc_id": doc_id, "version_id": version_id, "doc_sha256": manifest["doc_sha256"],
                    "tombstone": False, "updated_at": _now(), "run_id": run_id}

        return self._cas_pointer(doc_id, decide)

    def pointer(self, doc_id: str) -> dict | None:
        """The raw pointer record (including tombstones), or None."""
        check_doc_id(doc_id)
        return self._read_json(_pointer_path(doc_id))

    def latest(self, doc_id: str) -> dict | None:
        """The manifest the pointer names; None if none or tombstoned."""
        pointer = self.pointer(doc_id)
        if pointer is None or pointer.get("tombstone"):
            return None
        manifest = self._read_manifest(doc_id, pointer["version_id"])
        if manifest is None:
            raise IntegrityError(f"pointer of {doc_id} names missing version {pointer['version_id']}")
        return manifest

    def tombstone(self, doc_id: str, reason: str = "deleted", *, run_id: str = "") -> bool:
        """Mark a deleted document; True if it changed anything (versions stay until gc)."""
        def decide(current: dict | None) -> dict | None:
            if current is None or current.get("tombstone"):
                return None
            return {"doc_id": doc_id, "tombstone": True, "reason": reason, "previous_version_id":
                    current.get("version_id"), "updated_at": _now(), "run_id": run_id}

        check_doc_id(doc_id)
        changed = self._cas_pointer(doc_id, decide)
        if changed:
            self._update_index({doc_id})
        return changed

    def rollback(self, doc_id: str, version_id: str, *, run_id: str = "rollback") -> None:
        """Point `latest` at an existing older (or newer) version; undoes a tombstone too."""
        check_doc_id(doc_id)
        manifest = self._read_manifest(doc_id, version_id)
        if manifest is None:
            raise KeyError(f"{doc_id} has no version {version_id}")
        if self._move_pointer(doc_id, manifest, run_id):
            self._update_index({doc_id})

    # -- reading --
    def _read_json(self, path: str) -> dict | None:
        data = self.store.read(path)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise IntegrityError(f"{path} is not valid JSON") from None

    def _read_manifest(self, doc_id: str, version_id: str) -> dict | None:
        return self._read_json(f"{_version_dir(doc_id, version_id)}/{MANIFEST_FILE}")

    def has_version(self, key: AdapterKey) -> bool:
        return self._read_manifest(key.doc_id, key.version_id) is not None

    def versions(self, doc_id: str) -> list[dict]:
        """Manifests of every existing version, oldest first."""
        check_doc_id(doc_id)
        ids = [v for v in self.store.list(_versions_dir(doc_id)) if re.fullmatch(r"[0-9a-f]{20}", v)]
        manifests = [m for m in self._map(lambda v: self._read_manifest(doc_id, v), ids) if m is not None]
        return sorted(manifests, key=lambda m: (m["created_at"], m["version_id"]))

    def doc_ids(self) -> list[str]:
        return self.store.list(_docs_dir())

    def load_files(self, doc_id: str, version_id: str | None = None, *, verify: bool = True) -> dict[str, bytes]:
        """The adapter files of a version (latest by default), checked against the manifest."""
        check_doc_id(doc_id)
        manifest = self.latest(doc_id) if version_id is None else self._read_manifest(doc_id, version_id)
        if manifest is None:
            raise KeyError(f"no adapter for {doc_id}" + (f" version {version_id}" if version_id else ""))
        folder = _version_dir(doc_id, manifest["version_id"])
        if set(manifest["files"]) != set(ADAPTER_FILES):
            raise IntegrityError(f"{folder}: manifest lists {sorted(manifest['files'])}, not {list(ADAPTER_FILES)}")
        files = {}
        for name, meta in manifest["files"].items():
            data = self._cached(meta["sha256"])
            if data is None:
                data = self.store.read(f"{folder}/{name}")
                if data is None:
                    raise IntegrityError(f"{folder}/{name} is missing")
                if verify and (len(data) != meta["size"] or _sha256(data) != meta["sha256"]):
                    raise IntegrityError(f"{folder}/{name} does not match its manifest sha256")
                self._cache(meta["sha256"], data)
            files[name] = data
        return files

    def _cached(self, sha256: str) -> bytes | None:
        """A cached file whose content still hashes to its name (a corrupt entry is ignored)."""
        if not self.cache_dir:
            return None
        path = os.path.join(self.cache_dir, sha256)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        return data if _sha256(data) == sha256 else None

    def _cache(self, sha256: str, data: bytes) -> None:
        if not self.cache_dir or _sha256(data) != sha256:
            return
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = os.path.join(self.cache_dir, f".{sha256}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, os.path.join(self.cache_dir, sha256))

    def export(self, doc_id: str, dest_dir: str, version_id: str | None = None) -> str:
        """Write a verified version as a plain PEFT folder on local disk; returns the folder."""
        files = self.load_files(doc_id, version_id, verify=True)
        os.makedirs(dest_dir, exist_ok=True)
        for name, data in files.items():
            tmp = os.path.join(dest_dir, f".{name}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, os.path.join(dest_dir, name))
        return dest_dir

    # -- checks and upkeep --
    def verify(self, doc_id: str | None = None) -> list[dict]:
        """Problems found (empty when fine): tampered or missing files, bad manifests, dangling pointers."""
        docs = [doc_id] if doc_id is not None else self.doc_ids()
        return [p for problems in self._map(self._verify_doc, docs) for p in problems]

    def _verify_doc(self, doc_id: str) -> list[dict]:
        check_doc_id(doc_id)
        problems = []

        def problem(kind: str, detail: str, version_id: str | None = None, file: str | None = None) -> None:
            problems.append({"doc_id": doc_id, "version_id": version_id, "file": file, "kind": kind, "detail": detail})

        present: dict[str, dict] = {}
        for vid in self.store.list(_versions_dir(doc_id)):
            try:
                manifest = self._read_manifest(doc_id, vid)
            except (IntegrityError, ValueError) as exc:
                problem("bad_manifest", str(exc), vid)
                continue
            if manifest is None:
                continue  # files without a manifest: a publish that crashed or is running (gc's job)
            present[vid] = manifest
            try:
                expected = _key_of(manifest).version_id
            except (KeyError, ValueError) as exc:
                problem("bad_manifest", f"manifest lacks key fields: {exc}", vid)
                continue
            if expected != vid or manifest.get("version_id") != vid or manifest.get("doc_id") != doc_id:
                problem("bad_manifest", f"manifest key hashes to {expected}, not {vid}", vid)
            folder = _version_dir(doc_id, vid)
            for name, meta in manifest.get("files", {}).items():
                data = self.store.read(f"{folder}/{name}")
                if data is None:
                    problem("missing_file", f"{folder}/{name} is missing", vid, name)
                elif len(data) != meta.get("size") or _sha256(data) != meta.get("sha256"):
                    problem("tampered_file", f"{folder}/{name} does not match its manifest sha256", vid, name)
            if set(manifest.get("files", {})) != set(ADAPTER_FILES):
                problem("bad_manifest", f"manifest lists {sorted(manifest.get('files', {}))}", vid)
        try:
            pointer = self.pointer(doc_id)
        except IntegrityError as exc:
            problem("bad_pointer", str(exc))
            return problems
        if pointer is None or pointer.get("tombstone"):
            return problems
        named = pointer.get("version_id")
        if named not in present:
            problem("dangling_pointer", f"latest names missing version {named}", named)
        elif pointer.get("doc_sha256") != present[named].get("doc_sha256"):
            problem("bad_pointer", f"latest's doc_sha256 disagrees with version {named}", named)
        return problems

    def gc(self, *, keep_last: int = 1, dry_run: bool = True, orphan_grace_s: float = 3600.0) -> list[str]:
        """Version folders not pointed to and beyond the newest `keep_last` per doc; deleted unless dry_run.

        Also folders with files but no manifest (publishes that crashed) older than orphan_grace_s:
        younger ones may belong to a publish still running.
        """
        doomed = [p for paths in self._map(lambda d: self._gc_doc(d, keep_last, orphan_grace_s), self.doc_ids())
                  for p in paths]
        if not dry_run:
            for folder in doomed:
                self.store.delete(f"{folder}/{MANIFEST_FILE}")  # first: the version stops existing at once
                self.store.delete_tree(folder)
            log.info("gc deleted %d version folders", len(doomed))
        return doomed

    def _gc_doc(self, doc_id: str, keep_last: int, orphan_grace_s: float) -> list[str]:
        manifests = self.versions(doc_id)
        pointer = self.pointer(doc_id) or {}
        keep = {m["version_id"] for m in manifests[-keep_last:]} if keep_last > 0 else set()
        keep.add(pointer.get("version_id"))
        doomed = [_version_dir(doc_id, m["version_id"]) for m in manifests if m["version_id"] not in keep]
        with_manifest = {m["version_id"] for m in manifests}
        now = time.time()
        for vid in self.store.list(_versions_dir(doc_id)):
            if vid in with_manifest or not re.fullmatch(r"[0-9a-f]{20}", vid):
                continue
            folder = _version_dir(doc_id, vid)
            times = [t for n in ADAPTER_FILES if (t := self.store.modified(f"{folder}/{n}")) is not None]
            if not times or now - max(times) >= orphan_grace_s:
                doomed.append(folder)
        return doomed

    # -- the index --
    def _index_row(self, doc_id: str) -> dict | None:
        """The index row of one document, from its pointer (None: never published or unreadable)."""
        try:
            pointer = self.pointer(doc_id)
            m = None if pointer is None or pointer.get("tombstone") else self._read_manifest(doc_id, pointer["version_id"])
        except IntegrityError as exc:
            log.warning("index: skipping %s (%s); see verify()", doc_id, exc)
            return None
        if pointer is None:
            return None
        if pointer.get("tombstone"):
            return {"doc_id": doc_id, "version_id": None, "doc_sha256": None, "hypernet_id": None,
                    "base_model_id": None, "rank": None, "size_bytes": None, "created_at": None, "tombstoned": True}
        if m is None:
            log.warning("index: skipping %s (dangling pointer); see verify()", doc_id)
            return None
        return {"doc_id": doc_id, "version_id": m["version_id"], "doc_sha256": m["doc_sha256"],
                "hypernet_id": m["hypernet_id"], "base_model_id": m["base_model_id"], "rank": m["rank"],
                "size_bytes": m["size_bytes"], "created_at": m["created_at"], "tombstoned": False}

    def _update_index(self, doc_ids: set[str] | None) -> int:
        """Recompute the rows of `doc_ids` (None: every doc) and swap the index in; its row count."""
        count = 0

        def recompute(data: bytes | None) -> bytes:
            nonlocal count
            full = data is None or doc_ids is None  # no index yet: a partial one would hide docs
            rows = {} if full else {r["doc_id"]: r for r in _index_rows(data)}
            todo = self.doc_ids() if full else sorted(doc_ids)
            for doc_id, row in zip(todo, self._map(self._index_row, todo)):
                rows.pop(doc_id, None)
                if row is not None:
                    rows[doc_id] = row
            count = len(rows)
            return _index_bytes(list(rows.values()))

        self.store.update(INDEX_FILE, recompute)
        return count

    def rebuild_index(self) -> int:
        """Rebuild index.parquet from every pointer; the number of rows."""
        return self._update_index(None)

    def list(self) -> list[dict]:
        """One row per document from the Parquet index (built first if missing)."""
        data = self.store.read(INDEX_FILE)
        if data is None:
            self.rebuild_index()
            data = self.store.read(INDEX_FILE) or _index_bytes([])
        return _index_rows(data)

    def _map(self, fn, items: list) -> list:
        """fn over items, in threads: object stores answer one small read at a time slowly."""
        items = list(items)
        if len(items) < 2:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(min(READ_THREADS, len(items))) as pool:
            return list(pool.map(fn, items))
