"""Whole files on any fsspec filesystem (local or S3): opening a URI, atomic replaces and moves.

The corpus snapshots, the ingest reader and the run reports stream Parquet and read listings, which
the conditional-write interface (workers/storage/conditional.py) does not offer; they use these.
"""
from __future__ import annotations

import secrets
from typing import Any

FileSystem = Any  # an fsspec AbstractFileSystem; named here so callers need not import fsspec


def check_store(store: str) -> str:
    """The store URI itself, or ValueError when it is empty."""
    if not store:
        raise ValueError("store must be a directory path or an fsspec URI such as s3://bucket/prefix")
    return store


def open_fs(uri: str, storage_options: dict | None = None) -> tuple[FileSystem, str]:
    """The filesystem of a URI (local path, file://, s3://, ...) and the bare path inside it."""
    import fsspec

    options = dict(storage_options or {})
    if uri.startswith(("s3://", "s3a://")):
        options.setdefault("use_listings_cache", False)  # new objects must show up at once
    return fsspec.core.url_to_fs(uri, **options)


def is_local(fs: FileSystem) -> bool:
    """Whether fs is the local filesystem."""
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols or "local" in protocols


def display_path(fs: FileSystem, path: str) -> str:
    """The path as a user would write it: plain for local files, with its protocol otherwise."""
    return path if is_local(fs) else fs.unstrip_protocol(path)


def put_atomic(fs: FileSystem, path: str, data: bytes) -> None:
    """Replace a small file in one step: rename on local disks, a single PUT on object stores."""
    fs.makedirs(fs._parent(path), exist_ok=True)
    if is_local(fs):  # rename is atomic here; an object store has no rename, but a PUT is atomic
        tmp = f"{path}.tmp-{secrets.token_hex(4)}"
        fs.pipe_file(tmp, data)
        move(fs, tmp, path)
    else:
        fs.pipe_file(path, data)


def move(fs: FileSystem, src: str, dst: str) -> None:
    """Move a finished file into place (a rename on local disks, a server-side copy on S3)."""
    fs.makedirs(fs._parent(dst), exist_ok=True)
    fs.mv(src, dst)


def remove_quietly(fs: FileSystem, paths: list[str]) -> None:
    """Best-effort cleanup of temporary files after a failure (the original error matters more)."""
    for path in paths:
        try:
            if fs.exists(path):
                fs.rm(path)
        except Exception:  # noqa: BLE001 - cleanup must not mask the error being raised
            pass
