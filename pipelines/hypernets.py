"""The hypernetwork registry: immutable versions in the store, and a `current` pointer.

Layout under `{store}/hypernets` (a local directory or s3://bucket/prefix, through workers/storage):

    {hypernet_id}/hypernet.safetensors   create-only
    {hypernet_id}/hypernet_config.json   create-only
    {hypernet_id}/manifest.json          written last, create-only: a version exists exactly when its
                                         manifest does (sha256 and size of each file, lineage, eval)
    current.json                         the version the pipeline uses; moved only by compare-and-swap

`hypernet_id` is `hypernet.model.checkpoint_id` (content address of weights + config), so the same
checkpoint registered twice is one version. The pipeline's hypernetwork (`resolve_hypernet_path`):
the `hypernet_path` setting when given, else the store's current version (downloaded once into the
local cache, checked against its manifest), else the checkpoint shipped in the package.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone

from hypernet.model import CONFIG_FILE, WEIGHTS_FILE, checkpoint_id, checkpoint_meta, default_checkpoint
from workers.storage import Storage, open_storage, redact_uri

from pipelines.registry import IntegrityError

HYPERNETS_DIR = "hypernets"
CURRENT_FILE = "current.json"
MANIFEST_FILE = "manifest.json"
FILES = (WEIGHTS_FILE, CONFIG_FILE)
CAS_ATTEMPTS = 10


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def registry_uri(store: str) -> str:
    return f"{store.rstrip('/')}/{HYPERNETS_DIR}"


class HypernetRegistry:
    """Versions of the hypernetwork in a store, and which one is current."""

    def __init__(self, store: str, storage_options: dict | None = None, cache_dir: str | None = None):
        self.uri = registry_uri(store)
        self.storage: Storage = open_storage(self.uri, storage_options)
        from hypernet.base_model import default_cache_dir

        self.cache_dir = os.path.join(cache_dir or str(default_cache_dir()), "hypernets")

    def __repr__(self) -> str:
        return f"HypernetRegistry({redact_uri(self.uri)!r})"

    # -- writing ----------------------------------------------------------------------------------
    def register(self, folder: str, lineage: dict | None = None) -> tuple[dict, bool]:
        """Store a checkpoint folder as a version (idempotent); (manifest, created)."""
        hypernet_id = checkpoint_id(folder)
        existing = self.manifest(hypernet_id)
        if existing is not None:
            return existing, False
        files = {}
        for name in FILES:
            with open(os.path.join(folder, name), "rb") as fh:
                data = fh.read()
            self.storage.put_new(f"{hypernet_id}/{name}", data)  # an earlier broken attempt left the same bytes
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}
        config = checkpoint_meta(folder)["config"]
        manifest = {"hypernet_id": hypernet_id, "files": files, "config": config, "created_at": _now(),
                    "lineage": lineage or {}}
        if not self.storage.put_new(f"{hypernet_id}/{MANIFEST_FILE}", _json_bytes(manifest)):
            return self.manifest(hypernet_id) or manifest, False  # another process registered it first
        return manifest, True

    def promote(self, hypernet_id: str, *, expected: str | None, reason: str = "", run: str = "") -> bool:
        """Make a registered version current if the current one is still `expected` (None: none yet).

        False when another writer moved the pointer since `expected` was read: the caller compared
        against a stale current and must decide again.
        """
        if self.manifest(hypernet_id) is None:
            raise KeyError(f"hypernetwork {hypernet_id} is not registered in {redact_uri(self.uri)}")
        already = False

        def decide(data: bytes | None) -> bytes | None:
            nonlocal already
            current = (json.loads(data) if data is not None else None) or {}
            already = current.get("hypernet_id") == hypernet_id  # a retried promotion that had succeeded
            if already or current.get("hypernet_id") != expected:
                return None
            return _json_bytes({"hypernet_id": hypernet_id, "previous": expected, "updated_at": _now(),
                                "reason": reason, "run": run})

        return self.storage.update(CURRENT_FILE, decide, attempts=CAS_ATTEMPTS) or already

    # -- reading ----------------------------------------------------------------------------------
    def current(self) -> dict | None:
        """The current pointer ({"hypernet_id", "previous", ...}), or None when nothing was promoted."""
        data = self.storage.read(CURRENT_FILE)
        return json.loads(data) if data else None

    def manifest(self, hypernet_id: str) -> dict | None:
        data = self.storage.read(f"{hypernet_id}/{MANIFEST_FILE}")
        return json.loads(data) if data else None

    def versions(self) -> list[dict]:
        """Manifests of every registered version, oldest first."""
        found = [self.manifest(name) for name in self.storage.list("") if name.startswith("hn-")]
        return sorted((m for m in found if m), key=lambda m: m["created_at"])

    def local_folder(self, hypernet_id: str) -> str:
        """A local copy of a version (cached by id; every file checked against the manifest)."""
        folder = os.path.join(self.cache_dir, hypernet_id)
        if os.path.isfile(os.path.join(folder, CONFIG_FILE)) and checkpoint_id(folder) == hypernet_id:
            return folder
        manifest = self.manifest(hypernet_id)
        if manifest is None:
            raise KeyError(f"hypernetwork {hypernet_id} is not registered in {redact_uri(self.uri)}")
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{hypernet_id}.", dir=self.cache_dir)
        try:
            for name, info in manifest["files"].items():
                data = self.storage.read(f"{hypernet_id}/{name}")
                if data is None or hashlib.sha256(data).hexdigest() != info["sha256"]:
                    raise IntegrityError(f"hypernetwork {hypernet_id}: {name} is missing or does not match its manifest")
                with open(os.path.join(tmp, name), "wb") as fh:
                    fh.write(data)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder


def _has_registry(store: str) -> bool:
    """Cheap check that avoids creating folders in a local store that has no registry."""
    return "://" in store or os.path.isfile(os.path.join(registry_uri(store), CURRENT_FILE))


def current_hypernet(settings) -> tuple[str, str] | None:
    """(hypernet_id, local folder) of the store's current version, or None when there is none."""
    if not _has_registry(settings.store):
        return None
    registry = HypernetRegistry(settings.store, settings.storage_options, settings.cache_dir or None)
    pointer = registry.current()
    if pointer is None:
        return None
    return pointer["hypernet_id"], registry.local_folder(pointer["hypernet_id"])


def resolve_hypernet_path(settings) -> str:
    """The folder of the hypernetwork the pipeline uses: the setting, else the store's current, else shipped."""
    if settings.hypernet_path:
        return settings.hypernet_path
    current = current_hypernet(settings)
    return current[1] if current else default_checkpoint()
