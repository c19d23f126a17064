"""What the adapter and hypernetwork registries share: create-only versions with manifests, JSON
pointers moved by compare-and-swap, and where each registry lives in a store.

A version is a folder whose files are written create-only, then its manifest, create-only and last:
the version exists exactly when its manifest does. Once a file exists its bytes never change, so a
manifest always describes what is stored, even when two processes write the same version at once or
a crashed write left files behind (the first stored bytes win; the manifest records their sha256).
A pointer (`latest.json`, `current.json`) is a small JSON record replaced only by compare-and-swap
(`Storage.update`, the one loop in workers/storage).
"""
from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Callable, Iterable

from workers.storage import ConcurrentUpdateError, Storage, check_store, open_storage, redact_uri

MANIFEST_FILE = "manifest.json"
HYPERNETS_DIR = "hypernets"
READ_THREADS = 8


class IntegrityError(Exception):
    """Stored bytes disagree with their manifest, or a pointer names a missing version."""


def registry_uri(store: str, corpus: str | None = None) -> str:
    """Where a registry lives in a store: a corpus's adapters, or with no corpus the hypernetworks."""
    if corpus is None:
        return f"{check_store(store).rstrip('/')}/{HYPERNETS_DIR}"
    from pipelines.snapshot import corpus_uri

    return f"{corpus_uri(store, corpus)}/registry"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_bytes(obj: dict) -> bytes:
    """The stored form of every manifest and pointer: indented, keys sorted, a final newline."""
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def matches(data: bytes, sha256: str, size: int) -> bool:
    """Whether stored bytes are the ones a manifest describes."""
    return len(data) == size and sha256_hex(data) == sha256


class VersionedStore:
    """Create-only versions with manifests, and JSON pointers, under one storage root.

    A subclass sets `VERSION_ID`, the shape of its version ids (a version's folder name).
    """

    VERSION_ID: re.Pattern[str]

    def __init__(self, uri: str, storage_options: dict | None = None):
        self.uri = uri
        self.store: Storage = open_storage(uri, storage_options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_uri(self.uri)!r})"  # never the storage options: they hold credentials

    # -- version folders --
    @classmethod
    def version_folder(cls, parent: str, version_id: str) -> str:
        """The folder of a version under `parent` ("" for the root); ValueError for a malformed id."""
        if not isinstance(version_id, str) or not cls.VERSION_ID.fullmatch(version_id):
            raise ValueError(f"not a version id: {version_id!r}")
        return f"{parent}/{version_id}" if parent else version_id

    def version_ids(self, parent: str) -> list[str]:
        """Names under `parent` shaped like version ids, whether or not their manifest exists yet."""
        return [name for name in self.store.list(parent) if self.VERSION_ID.fullmatch(name)]

    def read_manifest(self, folder: str) -> dict | None:
        return self.read_json(f"{folder}/{MANIFEST_FILE}")

    def manifests(self, parent: str) -> list[dict]:
        """Manifests of every existing version under `parent`, oldest first."""
        ids = self.version_ids(parent)
        found = self.map(lambda v: self.read_manifest(self.version_folder(parent, v)), ids)
        pairs = sorted(((v, m) for v, m in zip(ids, found) if m is not None), key=lambda p: (p[1]["created_at"], p[0]))
        return [m for _, m in pairs]

    def put_files(self, folder: str, files: dict[str, bytes]) -> dict[str, bytes]:
        """Write each file create-only; the bytes stored, an earlier writer's where one came first."""
        stored = {}
        for name, data in files.items():
            path = f"{folder}/{name}"
            if self.store.put_new(path, data):
                stored[name] = data
                continue
            # A crashed or concurrent write of this version stored it first; its bytes are the version's.
            existing = self.store.read(path)
            if existing is None:
                raise ConcurrentUpdateError(f"{path} vanished while publishing (gc running?)")
            stored[name] = existing
        return stored

    def put_manifest(self, folder: str, manifest: dict) -> tuple[dict, bool]:
        """Write the manifest create-only, after the files; (the stored manifest, whether it is ours)."""
        body = json_bytes(manifest)
        path = f"{folder}/{MANIFEST_FILE}"
        if self.store.put_new(path, body):
            return manifest, True
        winner = self.store.read(path)
        if winner == body:  # our own write, answered 412 on a retry
            return manifest, True
        if winner is None:
            raise ConcurrentUpdateError(f"{path} vanished while publishing (gc running?)")
        return json.loads(winner), False

    def read_checked(self, path: str, sha256: str, size: int) -> bytes:
        """A version's file, or IntegrityError when it is missing or not what its manifest says."""
        data = self.store.read(path)
        if data is None:
            raise IntegrityError(f"{path} is missing")
        if not matches(data, sha256, size):
            raise IntegrityError(f"{path} does not match its manifest sha256")
        return data

    # -- JSON records --
    def read_json(self, path: str) -> dict | None:
        data = self.store.read(path)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise IntegrityError(f"{path} is not valid JSON") from None

    def update_json(self, path: str, decide: Callable[[dict | None], dict | None]) -> bool:
        """Replace a record with `decide(current or None)` by compare-and-swap; False if decide says no change."""
        def decide_bytes(data: bytes | None) -> bytes | None:
            new = decide(json.loads(data) if data is not None else None)
            return None if new is None else json_bytes(new)

        return self.store.update(path, decide_bytes)

    @staticmethod
    def map(fn, items: Iterable) -> list:
        """fn over items, in threads: object stores answer one small read at a time slowly."""
        items = list(items)
        if len(items) < 2:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(min(READ_THREADS, len(items))) as pool:
            return list(pool.map(fn, items))
