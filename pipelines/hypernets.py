"""The hypernetwork registry: immutable versions in the store, and a `current` pointer.

Layout under `registry_uri(store)`, `{store}/hypernets` (a local directory or s3://bucket/prefix):

    {hypernet_id}/hypernet.safetensors   create-only
    {hypernet_id}/hypernet_config.json   create-only
    {hypernet_id}/router.safetensors     create-only, a routed checkpoint's only (hypernet.routing)
    {hypernet_id}/manifest.json          written last, create-only: a version exists exactly when its
                                         manifest does (sha256 and size of each file, lineage, eval)
    current.json                         the version the pipeline uses; moved only by compare-and-swap

Versions and the pointer are pipelines/versioned_store.py's, shared with the adapter registry.

`hypernet_id` is `hypernet.model.checkpoint_id` (content address of the checkpoint's files), so the same
checkpoint registered twice is one version. The pipeline's hypernetwork (`resolve_hypernet_path`):
the `hypernet_path` setting when given, else the store's current version (downloaded once into the
local cache, checked against its manifest), else the checkpoint shipped in the package.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile

from hypernet.model import CONFIG_FILE, checkpoint_files, checkpoint_id, checkpoint_meta, default_checkpoint
from workers.storage import redact_uri

from pipelines.versioned_store import IntegrityError, VersionedStore, now, registry_uri, sha256_hex

CURRENT_FILE = "current.json"


class HypernetRegistry(VersionedStore):
    """Versions of the hypernetwork in a store, and which one is current."""

    VERSION_ID = re.compile(r"hn-[0-9a-f]{16}")  # hypernet.model.checkpoint_id

    def __init__(self, store: str, storage_options: dict | None = None, cache_dir: str | None = None):
        super().__init__(registry_uri(store), storage_options)
        from hypernet.base_model import default_cache_dir

        self.cache_dir = os.path.join(cache_dir or str(default_cache_dir()), "hypernets")

    # -- writing ----------------------------------------------------------------------------------
    def register(self, folder: str, lineage: dict | None = None) -> tuple[dict, bool]:
        """Store a checkpoint folder as a version (idempotent); (manifest, created)."""
        hypernet_id = checkpoint_id(folder)
        existing = self.manifest(hypernet_id)
        if existing is not None:
            return existing, False
        files = {}
        for name in checkpoint_files(folder):
            with open(os.path.join(folder, name), "rb") as fh:
                files[name] = fh.read()
        version = self.version_folder("", hypernet_id)
        if self.put_files(version, files) != files:  # the id is a content address: same id, same bytes
            raise IntegrityError(f"hypernetwork {hypernet_id}: files already stored differ from {folder}")
        return self.put_manifest(version, {
            "hypernet_id": hypernet_id,
            "files": {name: {"sha256": sha256_hex(data), "size_bytes": len(data)} for name, data in files.items()},
            "config": checkpoint_meta(folder)["config"], "created_at": now(), "lineage": lineage or {}})

    def promote(self, hypernet_id: str, *, expected: str | None, reason: str = "", run: str = "") -> bool:
        """Make a registered version current if the current one is still `expected` (None: none yet).

        False when another writer moved the pointer since `expected` was read: the caller compared
        against a stale current and must decide again.
        """
        if self.manifest(hypernet_id) is None:
            raise KeyError(f"hypernetwork {hypernet_id} is not registered in {redact_uri(self.uri)}")
        already = False

        def decide(current: dict | None) -> dict | None:
            nonlocal already
            current = current or {}
            already = current.get("hypernet_id") == hypernet_id  # a retried promotion that had succeeded
            if already or current.get("hypernet_id") != expected:
                return None
            return {"hypernet_id": hypernet_id, "previous": expected, "updated_at": now(), "reason": reason,
                    "run": run}

        return self.update_json(CURRENT_FILE, decide) or already

    # -- reading ----------------------------------------------------------------------------------
    def current(self) -> dict | None:
        """The current pointer ({"hypernet_id", "previous", ...}), or None when nothing was promoted."""
        return self.read_json(CURRENT_FILE)

    def manifest(self, hypernet_id: str) -> dict | None:
        """The manifest of one version, or None when it is not registered."""
        return self.read_manifest(self.version_folder("", hypernet_id))

    def versions(self) -> list[dict]:
        """Manifests of every registered version, oldest first."""
        return self.manifests("")

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
                data = self.read_checked(f"{hypernet_id}/{name}", info["sha256"], info["size_bytes"])
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
