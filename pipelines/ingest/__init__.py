"""Corpus ingest: read a source (directory tree, JSONL/JSON/Parquet/CSV/TSV file, s3:// prefix) into documents.

Every item the source holds comes out as either a `Document` (normalised text, its sha256, a safe
doc id) or a `Rejected` (with one clear reason), one at a time: nothing holds the whole corpus.
I/O errors are not rejections; they propagate, so a flaky store fails the run instead of
silently dropping (and later tombstoning) documents.
- documents.py  Document and Rejected; normalising, hashing, safe ids and the byte checks every reader shares
- pages.py      files that are one document each: text, HTML, PDF
- records.py    files of records: JSONL, JSON, Parquet, CSV, TSV
- source.py     the loop: walk the source, read each file by its format, reject repeated ids
"""
from pipelines.ingest.documents import MAX_DOC_ID_LEN, Document, Rejected, normalise_text, sanitise_doc_id, text_sha256
from pipelines.ingest.source import iter_documents

__all__ = ["MAX_DOC_ID_LEN", "Document", "Rejected", "iter_documents", "normalise_text", "sanitise_doc_id",
           "text_sha256"]
