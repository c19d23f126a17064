"""Record files, many documents each (.jsonl, .json, .parquet, .csv, .tsv): one field is the id, one the
text, the others metadata. Large files are streamed; a bad record is rejected on its own."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from workers.storage import display_path

from pipelines.ingest.documents import (MAX_CONTROL_FRACTION, Document, Rejected, control_fraction, extension,
                                        make_document, read_capped, sanitise_doc_id)

RECORD_EXTENSIONS = (".jsonl", ".json", ".parquet", ".csv", ".tsv")
_PARQUET_BATCH_ROWS = 256


@dataclass(frozen=True)
class RecordRules:
    """How to turn a record into a document."""

    id_field: str
    text_field: str
    max_doc_bytes: int


def _record_document(record: Any, source: str, rules: RecordRules) -> Document | Rejected:
    """One record (a dict) as a Document or a Rejected; fields other than id and text become metadata."""
    if not isinstance(record, dict):
        return Rejected(None, source, f"record is a JSON {type(record).__name__}, not an object")
    raw_id = record.get(rules.id_field)
    if raw_id is None or isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        what = "without" if raw_id is None else "with a non-string"
        return Rejected(None, source, f"record {what} id field '{rules.id_field}'")
    doc_id = sanitise_doc_id(str(raw_id))
    text = record.get(rules.text_field)
    if text is None:
        return Rejected(doc_id, source, f"record without text field '{rules.text_field}'")
    if not isinstance(text, str):
        return Rejected(doc_id, source, f"text field '{rules.text_field}' is a {type(text).__name__}, not a string")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > rules.max_doc_bytes:
        return Rejected(doc_id, source, f"text is {size} bytes, over max_doc_bytes={rules.max_doc_bytes}")
    if "\x00" in text or control_fraction(text) > MAX_CONTROL_FRACTION:
        return Rejected(doc_id, source, "binary content (control characters in text)")
    metadata = {k: v for k, v in record.items() if k not in (rules.id_field, rules.text_field)}
    if raw_id != doc_id:
        metadata.setdefault("raw_id", str(raw_id))
    return make_document(doc_id, text, source, metadata)


def _missing_columns(rules: RecordRules, columns: list[str]) -> str:
    """'no column ...' naming the id and text fields a table lacks, or '' when it has both."""
    missing = [c for c in (rules.id_field, rules.text_field) if c not in columns]
    return f"no column {' or '.join(map(repr, missing))}" if missing else ""


def _record_line_cap(rules: RecordRules) -> int:
    """Longest line of a record file that is read: the text plus escaping and other fields, with room."""
    return rules.max_doc_bytes * 2 + 65536


def _iter_jsonl(fs, path: str, rules: RecordRules) -> Iterator[Document | Rejected]:
    """Records of a JSONL file, one line at a time; an over-long line is skipped without being held."""
    where = display_path(fs, path)
    line_cap = _record_line_cap(rules)
    with fs.open(path, "rb") as f:
        for lineno, (line, size) in enumerate(_bounded_lines(f, line_cap), start=1):
            source = f"{where}:{lineno}"
            if line is None:
                yield Rejected(None, source, f"JSON line is {size} bytes, too long for max_doc_bytes={rules.max_doc_bytes}")
            elif line.strip():
                yield _parse_json_record(line, source, rules)


def _bounded_lines(f, cap: int, chunk_size: int = 1 << 20) -> Iterator[tuple[bytes | None, int]]:
    """(line, size) for each line of a binary file; a line over cap bytes comes as (None, size), never held."""
    buf = bytearray()
    dropped = 0  # bytes of the current line already thrown away because it is over the cap
    while True:
        chunk = f.read(chunk_size)
        buf += chunk
        pos = 0
        while (nl := buf.find(b"\n", pos)) >= 0:
            size = dropped + nl + 1 - pos
            yield (None if size > cap else bytes(buf[pos:nl + 1])), size
            pos, dropped = nl + 1, 0
        del buf[:pos]
        if dropped + len(buf) > cap:  # an unfinished line already over the cap: stop keeping it
            dropped += len(buf)
            buf.clear()
        if not chunk:
            if dropped or buf:
                size = dropped + len(buf)
                yield (None if size > cap else bytes(buf)), size
            return


def _parse_json_record(line: bytes, source: str, rules: RecordRules) -> Document | Rejected:
    """One JSONL line as a Document or a Rejected."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        return Rejected(None, source, f"invalid UTF-8 at byte {err.start} of the line")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return Rejected(None, source, f"unparseable JSON line: {err.msg} at column {err.colno}")
    return _record_document(record, source, rules)


def _iter_json(fs, path: str, size: int | None, rules: RecordRules) -> Iterator[Document | Rejected]:
    """Records of a .json file (one object or a list); the file is parsed whole, so it is capped."""
    where = display_path(fs, path)
    if size is not None and size > rules.max_doc_bytes:
        yield Rejected(None, where, f"JSON file is {size} bytes, over max_doc_bytes={rules.max_doc_bytes}; "
                                    "use .jsonl for large record sets")
        return
    data = read_capped(fs, path, rules.max_doc_bytes)
    if data is None:
        yield Rejected(None, where, f"JSON file is over max_doc_bytes={rules.max_doc_bytes}")
        return
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        yield Rejected(None, where, f"invalid UTF-8 at byte {err.start}")
        return
    except json.JSONDecodeError as err:
        yield Rejected(None, where, f"unparseable JSON: {err.msg} at line {err.lineno} column {err.colno}")
        return
    if isinstance(parsed, list):
        for i, record in enumerate(parsed):
            yield _record_document(record, f"{where}#{i}", rules)
    else:
        yield _record_document(parsed, where, rules)


def _iter_parquet(fs, path: str, rules: RecordRules) -> Iterator[Document | Rejected]:
    """Records of a Parquet file, in small batches."""
    import pyarrow.parquet as pq

    where = display_path(fs, path)
    with fs.open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        missing = _missing_columns(rules, pf.schema_arrow.names)
        if missing:
            yield Rejected(None, where, f"Parquet file has {missing}")
            return
        row = 0
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for record in batch.to_pylist():
                yield _record_document(record, f"{where}#{row}", rules)
                row += 1


def _iter_delimited(fs, path: str, rules: RecordRules, delimiter: str) -> Iterator[Document | Rejected]:
    """Records of a CSV or TSV file with a header row, streamed; other columns become metadata.

    A malformed row is rejected on its own; what the parser cannot step over (bad UTF-8, a line over
    the cap, an unclosed quote running past it) rejects the rest of the file, keeping what came before."""
    where = display_path(fs, path)
    # The parser's field cap is process-wide; set, not raised, so that it never depends on earlier calls.
    csv.field_size_limit(_record_line_cap(rules))
    with fs.open(path, "rb") as f:
        reader = csv.reader(_decoded_lines(f, rules), delimiter=delimiter)
        start = 1  # first physical line of the row being read (a quoted field can span lines)
        try:
            header = next(reader, None)
            if header is None:
                yield Rejected(None, where, "empty file (no header row)")
                return
            missing = _missing_columns(rules, header)
            if missing:
                yield Rejected(None, where, f"header row has {missing}")
                return
            start = reader.line_num + 1
            for row in reader:
                source = f"{where}:{start}"
                start = reader.line_num + 1
                if not row:
                    continue  # a blank line
                if len(row) != len(header):
                    yield Rejected(None, source, f"row has {len(row)} fields, the header {len(header)}")
                    continue
                record = dict(zip(header, row))
                if record[rules.id_field] == "":  # an empty cell is a missing id, not an id
                    record[rules.id_field] = None
                yield _record_document(record, source, rules)
        except _UnreadableLine as err:
            yield Rejected(None, f"{where}:{err.lineno}", f"{err}; the rest of the file was not read")
        except csv.Error as err:
            yield Rejected(None, f"{where}:{start}", f"unparseable {extension(path)[1:].upper()}: {err}; "
                                                     "the rest of the file was not read")


class _UnreadableLine(Exception):
    """A physical line of a delimited file that cannot be decoded or is over the cap."""

    def __init__(self, lineno: int, reason: str):
        super().__init__(reason)
        self.lineno = lineno


def _decoded_lines(f, rules: RecordRules) -> Iterator[str]:
    """The file's lines as text, line endings kept (for csv.reader), one at a time."""
    # Line by line, a decoding error is pinned to its line and the rows before it are kept
    # (a UTF-8 multi-byte character never contains the newline byte).
    for lineno, (line, size) in enumerate(_bounded_lines(f, _record_line_cap(rules)), start=1):
        if line is None:
            raise _UnreadableLine(lineno, f"line is {size} bytes, too long for max_doc_bytes={rules.max_doc_bytes}")
        if lineno == 1 and line.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode" exports
            raise _UnreadableLine(lineno, "UTF-16 text (it starts with a byte order mark); save the file as UTF-8")
        try:
            yield line.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as err:
            raise _UnreadableLine(lineno, f"invalid UTF-8 at byte {err.start} of the line; "
                                          "re-encode the file as UTF-8") from None


def iter_records(fs, path: str, size: int | None, rules: RecordRules) -> Iterator[Document | Rejected]:
    """Dispatch a record file by its extension."""
    ext = extension(path)
    if ext == ".jsonl":
        yield from _iter_jsonl(fs, path, rules)
    elif ext == ".json":
        yield from _iter_json(fs, path, size, rules)
    elif ext in (".csv", ".tsv"):
        yield from _iter_delimited(fs, path, rules, "," if ext == ".csv" else "\t")
    else:
        yield from _iter_parquet(fs, path, rules)
