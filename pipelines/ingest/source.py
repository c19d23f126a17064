"""The ingest loop: walk a source (directory tree, single file or s3:// prefix), read each file by its
format, and reject repeated doc ids."""
from __future__ import annotations

from collections.abc import Iterator

from workers.storage import FileSystem, open_fs

from pipelines.ingest.documents import Document, Rejected, extension
from pipelines.ingest.pages import file_document
from pipelines.ingest.records import RECORD_EXTENSIONS, RecordRules, iter_records


def _walk(fs: FileSystem, root: str) -> Iterator[tuple[str, int | None]]:
    """(path, size) of every non-hidden file under root, sorted, one directory listing at a time."""
    # refresh: a long-lived process (a nightly worker) must not see yesterday's cached listing.
    for info in sorted(fs.ls(root, detail=True, refresh=True), key=lambda i: i["name"]):
        path = info["name"].rstrip("/")
        name = path.rsplit("/", 1)[-1]
        if path == root.rstrip("/") or name.startswith("."):
            continue  # S3 folder markers; hidden files such as .DS_Store or .git
        if info["type"] == "directory":
            yield from _walk(fs, path)
        else:
            yield path, info.get("size")


def _iter_source_items(fs, root: str, rules: RecordRules) -> Iterator[Document | Rejected]:
    """Every item of the source, before duplicate-id checks."""
    if fs.isdir(root):
        prefix = root.rstrip("/") + "/"
        for path, size in _walk(fs, root):
            if extension(path) in RECORD_EXTENSIONS:
                yield from iter_records(fs, path, size, rules)
            else:
                yield file_document(fs, path, path[len(prefix):], size, rules.max_doc_bytes)
    else:
        size = fs.size(root)
        if extension(root) in RECORD_EXTENSIONS:
            yield from iter_records(fs, root, size, rules)
        else:
            yield file_document(fs, root, root.rsplit("/", 1)[-1], size, rules.max_doc_bytes)


def iter_documents(
    source: str,
    *,
    max_doc_bytes: int = 10_000_000,
    id_field: str = "id",
    text_field: str = "text",
    storage_options: dict | None = None,
) -> Iterator[Document | Rejected]:
    """Stream the documents of a source (directory, .jsonl/.json/.parquet/.csv/.tsv file or s3:// prefix)."""
    if max_doc_bytes <= 0:
        raise ValueError(f"max_doc_bytes must be positive, got {max_doc_bytes}")
    fs, root = open_fs(source, storage_options)
    fs.invalidate_cache(root)
    if not fs.exists(root):
        raise FileNotFoundError(f"corpus source not found: {source}")
    rules = RecordRules(id_field=id_field, text_field=text_field, max_doc_bytes=max_doc_bytes)
    return _without_duplicates(_iter_source_items(fs, root, rules))  # errors above are raised now


def _without_duplicates(items: Iterator[Document | Rejected]) -> Iterator[Document | Rejected]:
    """Reject every document whose id was already used in this source (the first one wins)."""
    seen: set[str] = set()  # ids only (~100 bytes each), never texts
    for item in items:
        if isinstance(item, Document):
            if item.doc_id in seen:
                item = Rejected(item.doc_id, item.source, "duplicate doc_id in this source (the first one is kept)")
            else:
                seen.add(item.doc_id)
        yield item
