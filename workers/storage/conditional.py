"""Conditional writes: create-only and compare-and-swap, on a local directory or S3.

One small interface, paths relative to a root, two back-ends:
- LocalStorage: create-only = temp file + `os.link` (fails when the name exists); compare-and-swap =
  an fcntl lock per file, compare the content hash read before, then `os.replace`. Readers never
  lock: `os.replace` swaps the whole file atomically.
- S3Storage (workers/storage/s3.py): create-only = `put_object(IfNoneMatch="*")`; compare-and-swap =
  `put_object(IfMatch=etag)`.
`Storage.update` is the one read-decide-swap loop every pointer, index and record update goes through.
"""
from __future__ import annotations

import abc
import fcntl
import hashlib
import os
import random
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from workers.storage.redact import redact_uri

CAS_ATTEMPTS = 20


class PreconditionFailed(Exception):
    """A conditional write lost: the object exists, changed or vanished since it was read."""


class ConcurrentUpdateError(Exception):
    """A compare-and-swap kept losing to other writers after every retry."""


@dataclass(frozen=True)
class Versioned:
    """Object bytes plus the tag a compare-and-swap must name to replace them."""

    data: bytes
    etag: str


# -- the interface -------------------------------------------------------------------------------
class Storage(abc.ABC):
    """Bytes at relative paths, with create-only and compare-and-swap writes."""

    @abc.abstractmethod
    def read(self, path: str) -> bytes | None:
        """The object's bytes, or None if it does not exist."""

    @abc.abstractmethod
    def read_versioned(self, path: str) -> Versioned | None:
        """Bytes and etag read together, or None if it does not exist."""

    @abc.abstractmethod
    def put_new(self, path: str, data: bytes) -> bool:
        """Create the object; False (nothing written) if it already exists."""

    @abc.abstractmethod
    def put_if_match(self, path: str, data: bytes, etag: str | None) -> str:
        """Replace the object only if its etag is still `etag` (None: only if absent); new etag."""

    @abc.abstractmethod
    def list(self, path: str) -> list[str]:
        """Names directly under a folder (hidden names skipped); [] if there is none."""

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Remove one object; a missing one is fine."""

    @abc.abstractmethod
    def delete_tree(self, path: str) -> None:
        """Remove a folder and everything under it; a missing one is fine."""

    @abc.abstractmethod
    def modified(self, path: str) -> float | None:
        """Last-modified POSIX time, or None if it does not exist."""

    def update(self, path: str, decide: Callable[[bytes | None], bytes | None], *,
               attempts: int = CAS_ATTEMPTS) -> bool:
        """Replace the object with `decide(current bytes or None)` by compare-and-swap.

        `decide` returns the new bytes, or None for "leave it as it is" (then False is returned). When
        another writer swaps first, the object is read again and `decide` runs again on what it holds.
        """
        for attempt in range(attempts):
            current = self.read_versioned(path)
            new = decide(current.data if current else None)
            if new is None:
                return False
            try:
                self.put_if_match(path, new, current.etag if current else None)
                return True
            except PreconditionFailed:
                time.sleep(min(1.0, 0.01 * 2**attempt) * random.random())  # jitter apart the writers
        raise ConcurrentUpdateError(f"{path} kept changing; gave up after {attempts} compare-and-swaps")


def content_etag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- local directory -----------------------------------------------------------------------------
class LocalStorage(Storage):
    """A directory on a POSIX filesystem (a shared one must honour fcntl locks and hard links)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def _full(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))

    def read(self, path: str) -> bytes | None:
        try:
            with open(self._full(path), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def read_versioned(self, path: str) -> Versioned | None:
        data = self.read(path)
        return None if data is None else Versioned(data, content_etag(data))

    def _write_temp(self, full: str, data: bytes) -> str:
        """Write and fsync a hidden temp file beside `full` (same filesystem, so link/rename work)."""
        folder, name = os.path.split(full)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.tmp-{uuid.uuid4().hex}")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def put_new(self, path: str, data: bytes) -> bool:
        full = self._full(path)
        tmp = self._write_temp(full, data)
        try:
            os.link(tmp, full)  # atomic, and refuses an existing name
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def put_if_match(self, path: str, data: bytes, etag: str | None) -> str:
        full = self._full(path)
        folder, name = os.path.split(full)
        os.makedirs(folder, exist_ok=True)
        # Writers serialise on a lock file per object; readers see the old or the new file whole.
        with open(os.path.join(folder, f".{name}.lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            current = self.read_versioned(path)
            if (current.etag if current else None) != etag:
                raise PreconditionFailed(path)
            tmp = self._write_temp(full, data)
            os.replace(tmp, full)
        return content_etag(data)

    def list(self, path: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self._full(path)) if not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def delete(self, path: str) -> None:
        try:
            os.remove(self._full(path))
        except FileNotFoundError:
            pass

    def delete_tree(self, path: str) -> None:
        shutil.rmtree(self._full(path), ignore_errors=True)

    def modified(self, path: str) -> float | None:
        try:
            return os.stat(self._full(path)).st_mtime
        except FileNotFoundError:
            return None


def open_storage(uri: str, storage_options: dict | None = None) -> Storage:
    """The back-end for a registry URI: a local path / file:// or s3://bucket/prefix."""
    if uri.startswith(("s3://", "s3a://")):
        from workers.storage.s3 import S3Storage

        return S3Storage("s3://" + uri.split("://", 1)[1], storage_options)
    if uri.startswith("file://"):
        return LocalStorage(uri.removeprefix("file://"))
    if "://" in uri:
        # Other fsspec back-ends lack a create-only / compare-and-swap we could rely on.
        raise ValueError(f"registry URI scheme not supported (local path, file:// or s3://): {redact_uri(uri)!r}")
    return LocalStorage(uri)
