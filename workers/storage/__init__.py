"""Storage: the one place that speaks to filesystems and object stores (fsspec and s3fs live here only).

Torch-free (no Ray, no Prefect either) and below both workers/ and pipelines/, so every reader and
writer shares it:
- conditional.py  create-only and compare-and-swap writes at paths under a root, and `Storage.update`,
                  the one compare-and-swap loop (registries, pointers, indexes)
- s3.py           the S3 back-end of those, retries with backoff, and the one s3fs client factory
- files.py        whole files on any fsspec filesystem: open a URI, atomic replace, move (snapshots, reports)
- location.py     a picklable pyarrow filesystem folder for Ray actors and Train workers (training data)
- redact.py       what URIs and records may show: credentials removed
"""
from workers.storage.conditional import (CAS_ATTEMPTS, ConcurrentUpdateError, LocalStorage, PreconditionFailed,
                                         Storage, Versioned, content_etag, open_storage)
from workers.storage.files import FileSystem, check_store, display_path, is_local, move, open_fs, put_atomic, \
    remove_quietly
from workers.storage.location import Location, open_location
from workers.storage.redact import redact_secrets, redact_uri
from workers.storage.s3 import RetryPolicy, S3Storage, classify, s3_filesystem, with_retries

__all__ = [
    "CAS_ATTEMPTS", "ConcurrentUpdateError", "FileSystem", "LocalStorage", "Location", "PreconditionFailed",
    "RetryPolicy", "S3Storage", "Storage", "Versioned", "check_store", "classify", "content_etag", "display_path",
    "is_local", "move", "open_fs", "open_location", "open_storage", "put_atomic", "redact_secrets", "redact_uri",
    "remove_quietly", "s3_filesystem", "with_retries",
]
