"""Conditional-write storage for the adapter registry: a local directory or S3 (through s3fs).

One small interface, paths relative to the registry root, two back-ends:
- LocalStorage: create-only = temp file + `os.link` (fails when the name exists); compare-and-swap =
  an fcntl lock per file, compare the content hash read before, then `os.replace`. Readers never
  lock: `os.replace` swaps the whole file atomically.
- S3Storage: create-only = `put_object(IfNoneMatch="*")`; compare-and-swap = `put_object(IfMatch=etag)`.
  Throttling, 5xx and connection errors retry with exponential backoff and jitter; a 412 is an
  answer, never retried. Credentials live in the s3fs client only, never in logs or messages.
"""
from __future__ import annotations

import abc
import asyncio
import fcntl
import hashlib
import logging
import os
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Callable, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# S3 error codes and HTTP statuses that mean "try again later", not "no".
TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
    "ServiceUnavailable", "InternalError", "RequestTimeout", "ConditionalRequestConflict",
})
TRANSIENT_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class PreconditionFailed(Exception):
    """A conditional write lost: the object exists, changed or vanished since it was read."""


@dataclass(frozen=True)
class Versioned:
    """Object bytes plus the tag a compare-and-swap must name to replace them."""

    data: bytes
    etag: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient storage errors."""

    attempts: int = 6
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempt) * random.uniform(0.5, 1.0)


# -- error classification ----------------------------------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (s3fs wraps botocore errors in OSError with __cause__)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__
    return seen


def classify(exc: BaseException) -> str:
    """One of "precondition", "not_found", "transient", "other"."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    for e in _chain(exc):
        if isinstance(e, ClientError):
            code = str(e.response.get("Error", {}).get("Code", ""))
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "PreconditionFailed" or status == 412:
                return "precondition"
            if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                return "not_found"
            if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES:
                return "transient"
            return "other"
        if isinstance(e, (HTTPClientError, BotoConnectionError, ConnectionError, TimeoutError, asyncio.TimeoutError)):
            return "transient"
        if type(e).__name__ in ("FSTimeoutError", "ClientConnectionError", "ServerDisconnectedError"):
            return "transient"
    if isinstance(exc, FileExistsError):
        return "precondition"
    if isinstance(exc, FileNotFoundError):
        return "not_found"
    return "other"


def _error_label(exc: BaseException) -> str:
    """A short error name for logs: the S3 code or the exception type, never request details."""
    for e in _chain(exc):
        response = getattr(e, "response", None)
        if isinstance(response, dict) and "Error" in response:
            return str(response["Error"].get("Code", type(e).__name__))
    return type(exc).__name__


def with_retries(fn: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Call `fn`, retrying transient errors with backoff; anything else propagates at once."""
    for attempt in range(policy.attempts):
        try:
            return fn()
        except Exception as exc:
            if classify(exc) != "transient" or attempt == policy.attempts - 1:
                raise
            delay = policy.delay(attempt)
            log.warning("storage %s: transient %s, retry %d/%d in %.2fs",
                        what, _error_label(exc), attempt + 1, policy.attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


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
        import shutil

        shutil.rmtree(self._full(path), ignore_errors=True)

    def modified(self, path: str) -> float | None:
        try:
            return os.stat(self._full(path)).st_mtime
        except FileNotFoundError:
            return None


# -- S3 through s3fs -----------------------------------------------------------------------------
class S3Storage(Storage):
    """`s3://bucket/prefix`; endpoint and credentials from storage_options or the AWS environment."""

    def __init__(self, uri: str, storage_options: dict | None = None, policy: RetryPolicy | None = None):
        import s3fs

        options = {"use_listings_cache": False, **(storage_options or {}), "skip_instance_cache": True}
        self.fs = s3fs.S3FileSystem(**options)
        self.fs.retries = 1  # one retry policy (ours, below); our own instance, so others keep theirs
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"S3 registry URI needs a bucket: {uri!r}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.policy = policy or RetryPolicy()

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _call(self, method: str, path: str, **kwargs) -> dict:
        call = lambda: self.fs.call_s3(method, Bucket=self.bucket, Key=self._key(path), **kwargs)  # noqa: E731
        return with_retries(call, self.policy, f"{method} {path}")

    async def _get(self, path: str) -> Versioned:
        response = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self._key(path))
        async with response["Body"] as body:
            data = await body.read()
        return Versioned(data, response["ETag"])

    def read_versioned(self, path: str) -> Versioned | None:
        from fsspec.asyn import sync

        try:
            return with_retries(lambda: sync(self.fs.loop, self._get, path), self.policy, f"get {path}")
        except Exception as exc:
            if classify(exc) == "not_found":
                return None
            raise

    def read(self, path: str) -> bytes | None:
        got = self.read_versioned(path)
        return None if got is None else got.data

    def put_new(self, path: str, data: bytes) -> bool:
        try:
            self._call("put_object", path, Body=data, IfNoneMatch="*")
            return True
        except Exception as exc:
            if classify(exc) == "precondition":
                return False
            raise

    def put_if_match(self, path: str, data: bytes, etag: str | None) -> str:
        condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
        try:
            return self._call("put_object", path, Body=data, **condition)["ETag"]
        except Exception as exc:
            if classify(exc) in ("precondition", "not_found"):  # 404: it was deleted since read
                raise PreconditionFailed(path) from None
            raise

    def _full(self, path: str) -> str:
        return f"{self.bucket}/{self._key(path)}".rstrip("/")

    def list(self, path: str) -> list[str]:
        full = self._full(path)
        try:
            entries = with_retries(lambda: self.fs.ls(full, detail=False, refresh=True), self.policy, f"list {path}")
        except FileNotFoundError:
            return []
        names = {e.rstrip("/").rsplit("/", 1)[-1] for e in entries if e.rstrip("/") != full}
        return sorted(n for n in names if n and not n.startswith("."))

    def delete(self, path: str) -> None:
        self._call("delete_object", path)  # S3 deletes of missing keys succeed

    def delete_tree(self, path: str) -> None:
        full = self._full(path)
        keys = with_retries(lambda: self.fs.find(full, refresh=True), self.policy, f"find {path}")
        if keys:
            with_retries(lambda: self.fs.rm(keys), self.policy, f"rm {path}")

    def modified(self, path: str) -> float | None:
        try:
            info = with_retries(lambda: self.fs.info(self._full(path), refresh=True), self.policy, f"head {path}")
        except FileNotFoundError:
            return None
        return info["LastModified"].timestamp()


_CREDENTIALS_IN_URI = re.compile(r"^([a-z0-9+.-]+://)[^@/]*@", re.IGNORECASE)


def redact_uri(uri: str) -> str:
    """The URI with any user:secret@ part removed, safe for logs."""
    return _CREDENTIALS_IN_URI.sub(r"\1", uri)


def open_storage(uri: str, storage_options: dict | None = None) -> Storage:
    """The back-end for a registry URI: a local path / file:// or s3://bucket/prefix."""
    if uri.startswith("s3://") or uri.startswith("s3a://"):
        return S3Storage("s3://" + uri.split("://", 1)[1], storage_options)
    if uri.startswith("file://"):
        return LocalStorage(uri.removeprefix("file://"))
    if "://" in uri:
        # Other fsspec back-ends lack a create-only / compare-and-swap we could rely on.
        raise ValueError(f"registry URI scheme not supported (local path, file:// or s3://): {redact_uri(uri)!r}")
    return LocalStorage(uri)
