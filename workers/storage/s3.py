"""S3 through s3fs: the conditional-write back-end, retries, and the one place an s3fs client is made.

Throttling, 5xx and connection errors retry with exponential backoff and jitter; a 412 is an
answer, never retried. Credentials live in the s3fs client only, never in logs or messages.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from workers.storage.conditional import PreconditionFailed, Storage, Versioned

log = logging.getLogger(__name__)
T = TypeVar("T")

# S3 error codes and HTTP statuses that mean "try again later", not "no".
TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
    "ServiceUnavailable", "InternalError", "RequestTimeout", "ConditionalRequestConflict",
})
TRANSIENT_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


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


# -- the client --------------------------------------------------------------------------------
ENV_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}


def s3_filesystem(storage_options: dict | None = None, *, pin_environment: bool = False):
    """A fresh s3fs client of our own, listing caches off (new objects must show up at once).

    `pin_environment` copies the endpoint, region and (unless the options name credentials) the AWS
    key variables into the client, because Ray's worker processes may not share this process's
    environment; without key variables each worker uses its own credential chain.
    """
    import s3fs

    options = {"use_listings_cache": False, **(storage_options or {}), "skip_instance_cache": True}
    return s3fs.S3FileSystem(**(_pinned(options) if pin_environment else options))


def _pinned(options: dict) -> dict:
    """The options with AWS_ENDPOINT_URL, AWS_DEFAULT_REGION and the key variables written in."""
    options = dict(options)
    client = dict(options.pop("client_kwargs", {}) or {})
    if os.environ.get("AWS_ENDPOINT_URL") and "endpoint_url" not in client and "endpoint_url" not in options:
        client["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
    if os.environ.get("AWS_DEFAULT_REGION") and "region_name" not in client:
        client["region_name"] = os.environ["AWS_DEFAULT_REGION"]
    if "key" not in options and "anon" not in options:
        options.update({name: os.environ[var] for var, name in ENV_CREDENTIALS.items() if os.environ.get(var)})
    return {**options, "client_kwargs": client}


# -- conditional writes ------------------------------------------------------------------------
class S3Storage(Storage):
    """`s3://bucket/prefix`; endpoint and credentials from storage_options or the AWS environment."""

    def __init__(self, uri: str, storage_options: dict | None = None, policy: RetryPolicy | None = None):
        self.fs = s3_filesystem(storage_options)
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
