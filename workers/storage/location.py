"""A folder in a pyarrow filesystem, local or S3, that Ray ships to actors and Train workers.

Ray Train and Parquet readers want a pyarrow filesystem; for S3 it wraps the s3fs client of
workers/storage/s3.py, so endpoint and credentials are handled in one place.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from workers.storage.s3 import s3_filesystem


@dataclass
class Location:
    """A folder in a pyarrow filesystem (local or S3); picklable, so it travels to Ray workers."""

    fs: Any  # pyarrow.fs.FileSystem
    root: str  # path inside fs (no scheme)
    uri: str  # what the user gave, for messages and reports (credentials never live here)

    @property
    def is_local(self) -> bool:
        import pyarrow.fs as pafs

        return isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def uri_of(self, path: str) -> str:
        """The user-facing URI of a path inside this location's filesystem."""
        return path if self.is_local else "s3://" + path

    def exists(self, path: str) -> bool:
        import pyarrow.fs as pafs

        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as fh:
            return fh.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file; readers never see part of it (local: temp + rename; S3: one PUT)."""
        folder = path.rsplit("/", 1)[0]
        self.fs.create_dir(folder, recursive=True)
        target = f"{folder}/.{path.rsplit('/', 1)[1]}.tmp-{uuid.uuid4().hex}" if self.is_local else path
        with self.fs.open_output_stream(target) as fh:
            fh.write(data)
        if target != path:
            self.fs.move(target, path)

    def list(self, path: str) -> list[str]:
        """Base names directly under a folder ([] when it does not exist)."""
        import pyarrow.fs as pafs

        infos = self.fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted(i.base_name for i in infos if not i.base_name.startswith("."))


def open_location(uri: str, storage_options: dict | None = None) -> Location:
    """A local directory (made absolute) or `s3://bucket/prefix`.

    For S3 the filesystem is s3fs wrapped for pyarrow, with the endpoint, region and AWS key variables
    pinned in (`s3_filesystem(pin_environment=True)`): Ray's worker processes may not share this
    process's environment (a Ray started earlier, a remote cluster).
    """
    import pyarrow.fs as pafs

    if uri.startswith(("s3://", "s3a://")):
        fs = s3_filesystem(storage_options, pin_environment=True)
        root = uri.split("://", 1)[1].strip("/")
        if not root:
            raise ValueError(f"an S3 storage URI needs a bucket: {uri!r}")
        return Location(pafs.PyFileSystem(pafs.FSSpecHandler(fs)), root, "s3://" + root)
    if "://" in uri and not uri.startswith("file://"):
        raise ValueError(f"training storage must be a directory, file:// or s3:// URI, got {uri.split('://')[0]}://...")
    path = os.path.abspath(os.path.expanduser(uri.removeprefix("file://")))
    return Location(pafs.LocalFileSystem(), path, path)
