"""Corpus ingest: read a source (directory tree, JSONL/JSON/Parquet/CSV/TSV file, s3:// prefix) into documents.

Every item the source holds comes out as either a `Document` (normalised text, its sha256, a safe
doc id) or a `Rejected` (with one clear reason), one at a time: nothing holds the whole corpus.
I/O errors are not rejections; they propagate, so a flaky store fails the run instead of
silently dropping (and later tombstoning) documents.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from workers.storage import FileSystem, display_path, open_fs

TEXT_EXTENSIONS = (".txt", ".md")
HTML_EXTENSIONS = (".html", ".htm")
RECORD_EXTENSIONS = (".jsonl", ".json", ".parquet", ".csv", ".tsv")
PDF_EXTENSIONS = (".pdf",)

MAX_DOC_ID_LEN = 128
_HASH_SEP = "--"
_HASH_HEX = 16  # 64 bits: no accidental collision among billions of ids
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_ID_DOT_RUNS = re.compile(r"\.{2,}")
# Ids shaped like our hashed output are always re-hashed, so a raw id can never equal another's output.
_ID_HASHED_SHAPE = re.compile(rf"{_HASH_SEP}[0-9a-f]{{{_HASH_HEX}}}$")

_BINARY_SNIFF_BYTES = 8192
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc except \t\n\v\f\r
_MAX_CONTROL_FRACTION = 0.05
_PARQUET_BATCH_ROWS = 256


@dataclass(frozen=True)
class Document:
    """A good document: normalised text, its sha256 and where it came from."""

    doc_id: str
    text: str
    sha256: str
    source: str
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """An item of the source that is not a usable document, and why."""

    doc_id: str | None
    source: str
    reason: str


# -- Text and ids --------------------------------------------------------------------------------
def normalise_text(text: str) -> str:
    """Unicode NFC, '\n' newlines, single spaces, at most one blank line between paragraphs, stripped."""
    text = unicodedata.normalize("NFC", text)
    lines: list[str] = []
    blank = False
    # splitlines knows every newline (\r\n, \r, \u2028, \x85, \f, ...); split() every space run: both in C.
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            blank = True
            continue
        if blank and lines:
            lines.append("")  # one blank line keeps the paragraph break
        lines.append(line)
        blank = False
    return "\n".join(lines)


def text_sha256(text: str) -> str:
    """Hex sha256 of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sanitise_doc_id(raw: str) -> str:
    """A stable id safe as a path component and an S3 key part; distinct raw ids stay distinct."""
    if not isinstance(raw, str):
        raise ValueError(f"doc id must be a string, got {type(raw).__name__}")
    safe = _ID_BAD_CHARS.sub("_", raw)
    safe = _ID_DOT_RUNS.sub(".", safe).lstrip(".-")
    if safe == raw and 0 < len(safe) <= MAX_DOC_ID_LEN and not _ID_HASHED_SHAPE.search(safe):
        return safe
    # Changed, empty or too long: the suffix hashes the raw id so different inputs never meet.
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_HEX]
    keep = MAX_DOC_ID_LEN - len(_HASH_SEP) - _HASH_HEX
    base = safe[:keep].rstrip(".") or "id"
    return f"{base}{_HASH_SEP}{digest}"


# -- HTML ------------------------------------------------------------------------------------------
class _HTMLText(HTMLParser):
    """Collects the visible text of an HTML page; block elements become line breaks."""

    SKIP = {"script", "style", "noscript", "template", "svg"}
    PARAGRAPH = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
                 "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "ul", "ol",
                 "dl", "form", "figure", "hr"}
    LINE = {"br", "li", "tr", "dt", "dd", "caption", "figcaption"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth:
            self.parts.append(data)

    def _break(self, tag: str) -> None:
        if tag in self.PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in self.LINE:
            self.parts.append("\n")


def html_to_text(html: str) -> tuple[str, str | None]:
    """The visible text of an HTML page and its title (None when it has none)."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    title = normalise_text("".join(parser.title_parts)) or None
    return "".join(parser.parts), title


def _pdf_available() -> bool:
    """Whether a PDF text package (pypdf) is importable."""
    return importlib.util.find_spec("pypdf") is not None


def _pdf_to_text(data: bytes) -> str | None:
    """Text of a PDF through pypdf when it is installed; None when no PDF package is importable."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _pdf_document(doc_id: str, data: bytes, source: str, metadata: dict) -> Document | Rejected:
    """A PDF's text as a Document; a PDF the extractor cannot parse is a rejection, not a crash."""
    try:
        text = _pdf_to_text(data)
    except Exception as err:  # noqa: BLE001 - any parser failure means "this file is unreadable"
        return Rejected(doc_id, source, f"unreadable PDF: {type(err).__name__}: {err}"[:300])
    if text is None:
        return Rejected(doc_id, source, "pdf text extraction not available")
    return _make(doc_id, text, source, metadata)


# -- Bytes -> text checks ----------------------------------------------------------------------------
def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for acceptable text bytes, else (None, reason).

    UTF-8, with or without a byte order mark; UTF-16 only with one (what Windows editors and
    PowerShell redirection write), since without it the encoding is a guess."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data and not utf16:  # before decoding: binary files are rarely valid UTF-8
        return None, "binary content (NUL bytes)"
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as err:
        return None, (f"invalid UTF-16 at byte {err.start}" if utf16
                      else f"invalid UTF-8 at byte {err.start}; re-encode the file as UTF-8")
    if "\x00" in text or _control_fraction(text) > _MAX_CONTROL_FRACTION:
        return None, "binary content (mostly non-text characters)"
    return text, None


def _control_fraction(text: str) -> float:
    """Fraction of control characters (Unicode Cc, less ordinary whitespace) in the text's head."""
    sample = text[:_BINARY_SNIFF_BYTES]
    return len(_CONTROL_CHARS.findall(sample)) / len(sample) if sample else 0.0


def _make(doc_id: str, raw_text: str, source: str, metadata: dict) -> Document | Rejected:
    """A Document from raw text, or a rejection when the normalised text is empty."""
    text = normalise_text(raw_text)
    if not text:
        return Rejected(doc_id, source, "empty text (nothing but whitespace)")
    return Document(doc_id, text, text_sha256(text), source, metadata)


# -- Files ---------------------------------------------------------------------------------------------
def _extension(path: str) -> str:
    """Lower-case extension with its dot ('' when none)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _read_capped(fs: FileSystem, path: str, max_bytes: int) -> bytes | None:
    """The file's bytes, or None when it turns out larger than max_bytes (listing sizes can lie)."""
    with fs.open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def _file_document(fs, path: str, rel: str, size: int | None, max_doc_bytes: int) -> Document | Rejected:
    """One document file (.txt, .md, .html, .htm, .pdf) as a Document or a Rejected."""
    ext = _extension(path)
    doc_id = sanitise_doc_id(rel)
    source = display_path(fs, path)
    if ext not in TEXT_EXTENSIONS + HTML_EXTENSIONS + PDF_EXTENSIONS:
        what = f"unsupported extension '{ext}'" if ext else "unsupported file type (no extension)"
        return Rejected(doc_id, source, what)
    if size is not None and size > max_doc_bytes:
        return Rejected(doc_id, source, f"file is {size} bytes, over max_doc_bytes={max_doc_bytes}")
    if ext in PDF_EXTENSIONS and not _pdf_available():
        return Rejected(doc_id, source, "pdf text extraction not available")
    data = _read_capped(fs, path, max_doc_bytes)
    if data is None:
        return Rejected(doc_id, source, f"file is over max_doc_bytes={max_doc_bytes}")
    metadata: dict[str, Any] = {"path": rel, "bytes": len(data), "format": ext.lstrip(".")}
    if ext in PDF_EXTENSIONS:
        return _pdf_document(doc_id, data, source, metadata)
    raw, reason = _decode(data)
    if raw is None:
        return Rejected(doc_id, source, reason)
    if ext in HTML_EXTENSIONS:
        raw, title = html_to_text(raw)
        if title:
            metadata["title"] = title
    return _make(doc_id, raw, source, metadata)


# -- Records (.jsonl, .json, .parquet, .csv, .tsv) ----------------------------------------------------------
@dataclass(frozen=True)
class _RecordRules:
    """How to turn a record into a document."""

    id_field: str
    text_field: str
    max_doc_bytes: int


def _record_document(record: Any, source: str, rules: _RecordRules) -> Document | Rejected:
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
    if "\x00" in text or _control_fraction(text) > _MAX_CONTROL_FRACTION:
        return Rejected(doc_id, source, "binary content (control characters in text)")
    metadata = {k: v for k, v in record.items() if k not in (rules.id_field, rules.text_field)}
    if raw_id != doc_id:
        metadata.setdefault("raw_id", str(raw_id))
    return _make(doc_id, text, source, metadata)


def _missing_columns(rules: _RecordRules, columns: list[str]) -> str:
    """'no column ...' naming the id and text fields a table lacks, or '' when it has both."""
    missing = [c for c in (rules.id_field, rules.text_field) if c not in columns]
    return f"no column {' or '.join(map(repr, missing))}" if missing else ""


def _record_line_cap(rules: _RecordRules) -> int:
    """Longest line of a record file that is read: the text plus escaping and other fields, with room."""
    return rules.max_doc_bytes * 2 + 65536


def _iter_jsonl(fs, path: str, rules: _RecordRules) -> Iterator[Document | Rejected]:
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


def _parse_json_record(line: bytes, source: str, rules: _RecordRules) -> Document | Rejected:
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


def _iter_json(fs, path: str, size: int | None, rules: _RecordRules) -> Iterator[Document | Rejected]:
    """Records of a .json file (one object or a list); the file is parsed whole, so it is capped."""
    where = display_path(fs, path)
    if size is not None and size > rules.max_doc_bytes:
        yield Rejected(None, where, f"JSON file is {size} bytes, over max_doc_bytes={rules.max_doc_bytes}; "
                                    "use .jsonl for large record sets")
        return
    data = _read_capped(fs, path, rules.max_doc_bytes)
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


def _iter_parquet(fs, path: str, rules: _RecordRules) -> Iterator[Document | Rejected]:
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


def _iter_delimited(fs, path: str, rules: _RecordRules, delimiter: str) -> Iterator[Document | Rejected]:
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
            yield Rejected(None, f"{where}:{start}", f"unparseable {_extension(path)[1:].upper()}: {err}; "
                                                     "the rest of the file was not read")


class _UnreadableLine(Exception):
    """A physical line of a delimited file that cannot be decoded or is over the cap."""

    def __init__(self, lineno: int, reason: str):
        super().__init__(reason)
        self.lineno = lineno


def _decoded_lines(f, rules: _RecordRules) -> Iterator[str]:
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


def _iter_records(fs, path: str, size: int | None, rules: _RecordRules) -> Iterator[Document | Rejected]:
    """Dispatch a record file by its extension."""
    ext = _extension(path)
    if ext == ".jsonl":
        yield from _iter_jsonl(fs, path, rules)
    elif ext == ".json":
        yield from _iter_json(fs, path, size, rules)
    elif ext in (".csv", ".tsv"):
        yield from _iter_delimited(fs, path, rules, "," if ext == ".csv" else "\t")
    else:
        yield from _iter_parquet(fs, path, rules)


# -- Sources -------------------------------------------------------------------------------------------
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


def _iter_source_items(fs, root: str, rules: _RecordRules) -> Iterator[Document | Rejected]:
    """Every item of the source, before duplicate-id checks."""
    if fs.isdir(root):
        prefix = root.rstrip("/") + "/"
        for path, size in _walk(fs, root):
            if _extension(path) in RECORD_EXTENSIONS:
                yield from _iter_records(fs, path, size, rules)
            else:
                yield _file_document(fs, path, path[len(prefix):], size, rules.max_doc_bytes)
    else:
        size = fs.size(root)
        if _extension(root) in RECORD_EXTENSIONS:
            yield from _iter_records(fs, root, size, rules)
        else:
            yield _file_document(fs, root, root.rsplit("/", 1)[-1], size, rules.max_doc_bytes)


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
    rules = _RecordRules(id_field=id_field, text_field=text_field, max_doc_bytes=max_doc_bytes)
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
