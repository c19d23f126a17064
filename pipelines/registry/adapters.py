"""The Registry class: publishing adapter versions, moving `latest` pointers, reading and exporting versions.

A version is keyed by `AdapterKey` (keys.py), so re-publishing the same key is a no-op. Versions
and pointers follow pipelines/versioned_store.py: files then manifest create-only, pointers by
compare-and-swap.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from typing import Iterable

from hypernet.peft_format import ADAPTER_FILES, validate_adapter
from workers.storage import redact_secrets

from pipelines.registry import index, upkeep
from pipelines.registry.keys import DOCS_DIR, VERSION_ID, AdapterKey, check_doc_id, pointer_path, versions_dir
from pipelines.versioned_store import IntegrityError, VersionedStore, now, sha256_hex

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1


@dataclass
class PublishResult:
    """What one publish did."""

    key: AdapterKey
    version_id: str
    created: bool  # False: that version already existed (idempotent re-publish)
    pointer_moved: bool


class Registry(VersionedStore):
    """Versions, pointers, tombstones and an index over one storage root."""

    VERSION_ID = VERSION_ID

    def __init__(self, uri: str, storage_options: dict | None = None, cache_dir: str | None = None):
        super().__init__(uri, storage_options)
        # Local content-addressed cache of adapter files (name = sha256): serving reads S3 once.
        self.cache_dir = cache_dir

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
        index.update_index(self, {r.key.doc_id for r in results})
        return results

    def _write_version(self, key: AdapterKey, files: dict[str, bytes], lineage: dict | None, run_id: str,
                       rank: int) -> tuple[dict, bool]:
        """Files create-only, then the manifest create-only; (manifest, whether we created it)."""
        existing = self.manifest(key.doc_id, key.version_id)
        if existing is not None:
            return existing, False
        folder = self.version_dir(key.doc_id, key.version_id)
        stored = self.put_files(folder, {name: files[name] for name in ADAPTER_FILES})
        if stored != files:
            try:
                rank = validate_adapter(stored)
            except ValueError as exc:
                raise IntegrityError(f"files already in {folder} are broken ({exc}); run gc") from None
        return self.put_manifest(folder, {
            "format": MANIFEST_FORMAT,
            **dataclasses.asdict(key),
            "version_id": key.version_id,
            "files": {n: {"sha256": sha256_hex(d), "size": len(d)} for n, d in stored.items()},
            "rank": rank,
            "size_bytes": sum(len(d) for d in stored.values()),
            "created_at": now(),
            "run_id": run_id,
            "lineage": lineage or {},  # already redacted by publish
        })

    # -- pointers --
    def _move_pointer(self, doc_id: str, manifest: dict, run_id: str) -> bool:
        version_id = manifest["version_id"]

        def decide(current: dict | None) -> dict | None:
            if current and not current.get("tombstone") and current.get("version_id") == version_id:
                return None
            return {"doc_id": doc_id, "version_id": version_id, "doc_sha256": manifest["doc_sha256"],
                    "tombstone": False, "updated_at": now(), "run_id": run_id}

        return self.update_json(pointer_path(doc_id), decide)

    def pointer(self, doc_id: str) -> dict | None:
        """The raw pointer record (including tombstones), or None."""
        check_doc_id(doc_id)
        return self.read_json(pointer_path(doc_id))

    def latest(self, doc_id: str) -> dict | None:
        """The manifest the pointer names; None if none or tombstoned."""
        pointer = self.pointer(doc_id)
        if pointer is None or pointer.get("tombstone"):
            return None
        manifest = self.manifest(doc_id, pointer["version_id"])
        if manifest is None:
            raise IntegrityError(f"pointer of {doc_id} names missing version {pointer['version_id']}")
        return manifest

    def tombstone(self, doc_id: str, reason: str = "deleted", *, run_id: str = "") -> bool:
        """Mark a deleted document; True if it changed anything (versions stay until gc)."""
        def decide(current: dict | None) -> dict | None:
            if current is None or current.get("tombstone"):
                return None
            return {"doc_id": doc_id, "tombstone": True, "reason": reason, "previous_version_id":
                    current.get("version_id"), "updated_at": now(), "run_id": run_id}

        check_doc_id(doc_id)
        changed = self.update_json(pointer_path(doc_id), decide)
        if changed:
            index.update_index(self, {doc_id})
        return changed

    def rollback(self, doc_id: str, version_id: str, *, run_id: str = "rollback") -> None:
        """Point `latest` at an existing older (or newer) version; undoes a tombstone too."""
        check_doc_id(doc_id)
        manifest = self.manifest(doc_id, version_id)
        if manifest is None:
            raise KeyError(f"{doc_id} has no version {version_id}")
        if self._move_pointer(doc_id, manifest, run_id):
            index.update_index(self, {doc_id})

    # -- reading --
    def version_dir(self, doc_id: str, version_id: str) -> str:
        return self.version_folder(versions_dir(doc_id), version_id)

    def manifest(self, doc_id: str, version_id: str) -> dict | None:
        """The manifest of one version, or None when that version does not exist."""
        return self.read_manifest(self.version_dir(doc_id, version_id))

    def has_version(self, key: AdapterKey) -> bool:
        return self.manifest(key.doc_id, key.version_id) is not None

    def versions(self, doc_id: str) -> list[dict]:
        """Manifests of every existing version, oldest first."""
        check_doc_id(doc_id)
        return self.manifests(versions_dir(doc_id))

    def doc_ids(self) -> list[str]:
        return self.store.list(DOCS_DIR)

    def load_files(self, doc_id: str, version_id: str | None = None, *, verify: bool = True) -> dict[str, bytes]:
        """The adapter files of a version (latest by default), checked against the manifest."""
        check_doc_id(doc_id)
        manifest = self.latest(doc_id) if version_id is None else self.manifest(doc_id, version_id)
        if manifest is None:
            raise KeyError(f"no adapter for {doc_id}" + (f" version {version_id}" if version_id else ""))
        folder = self.version_dir(doc_id, manifest["version_id"])
        if set(manifest["files"]) != set(ADAPTER_FILES):
            raise IntegrityError(f"{folder}: manifest lists {sorted(manifest['files'])}, not {list(ADAPTER_FILES)}")
        files = {}
        for name, meta in manifest["files"].items():
            data = self._cached(meta["sha256"])
            if data is None:
                path = f"{folder}/{name}"
                if verify:
                    data = self.read_checked(path, meta["sha256"], meta["size"])
                elif (data := self.store.read(path)) is None:
                    raise IntegrityError(f"{path} is missing")
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
        return data if sha256_hex(data) == sha256 else None

    def _cache(self, sha256: str, data: bytes) -> None:
        if not self.cache_dir or sha256_hex(data) != sha256:
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

    # -- checks, upkeep and the index (upkeep.py, index.py) --
    def verify(self, doc_id: str | None = None) -> list[dict]:
        """Problems found (empty when fine): tampered or missing files, bad manifests, dangling pointers."""
        return upkeep.verify(self, doc_id)

    def gc(self, *, keep_last: int = 1, dry_run: bool = True, orphan_grace_s: float = 3600.0) -> list[str]:
        """Old version folders and crashed publishes' leftovers; deleted unless dry_run (see upkeep.gc)."""
        return upkeep.gc(self, keep_last=keep_last, dry_run=dry_run, orphan_grace_s=orphan_grace_s)

    def rebuild_index(self) -> int:
        """Rebuild index.parquet from every pointer; the number of rows."""
        return index.update_index(self, None)

    def list(self) -> list[dict]:
        """One row per document from the Parquet index (built first if missing)."""
        return index.read_index(self)
