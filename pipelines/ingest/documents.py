"""What an ingested item becomes (a Document or a Rejected) and the checks every reader shares:
text normalisation, hashing, safe doc ids, bytes -> text, and capped reads."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from workers.storage import FileSystem

MAX_DOC_ID_LEN = 128
_HASH_SEP = "--"
_HASH_HEX = 16  # 64 bits: no accidental collision among billions of ids
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_ID_DOT_RUNS = re.compile(r"\.{2,}")
# Ids shaped like our hashed output are always re-hashed, so a raw id can never equal another's output.
_ID_HASHED_SHAPE = re.compile(rf"{_HASH_SEP}[0-9a-f]{{{_HASH_HEX}}}$")

_BINARY_SNIFF_BYTES = 8192
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc except \t\n\v\f\r
MAX_CONTROL_FRACTION = 0.05


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


# -- Bytes -> text checks ----------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str | None, str | None]:
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
    if "\x00" in text or control_fraction(text) > MAX_CONTROL_FRACTION:
        return None, "binary content (mostly non-text characters)"
    return text, None


def control_fraction(text: str) -> float:
    """Fraction of control characters (Unicode Cc, less ordinary whitespace) in the text's head."""
    sample = text[:_BINARY_SNIFF_BYTES]
    return len(_CONTROL_CHARS.findall(sample)) / len(sample) if sample else 0.0


def make_document(doc_id: str, raw_text: str, source: str, metadata: dict) -> Document | Rejected:
    """A Document from raw text, or a rejection when the normalised text is empty."""
    text = normalise_text(raw_text)
    if not text:
        return Rejected(doc_id, source, "empty text (nothing but whitespace)")
    return Document(doc_id, text, text_sha256(text), source, metadata)


# -- Reading files ---------------------------------------------------------------------------------
def extension(path: str) -> str:
    """Lower-case extension with its dot ('' when none)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def read_capped(fs: FileSystem, path: str, max_bytes: int) -> bytes | None:
    """The file's bytes, or None when it turns out larger than max_bytes (listing sizes can lie)."""
    with fs.open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    return None if len(data) > max_bytes else data
