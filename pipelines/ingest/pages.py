"""Document files, one document each: text (.txt, .md), HTML (.html, .htm) and PDF (.pdf, when pypdf is installed)."""
from __future__ import annotations

import importlib.util
import io
from html.parser import HTMLParser
from typing import Any

from workers.storage import display_path

from pipelines.ingest.documents import (Document, Rejected, decode_text, extension, make_document, normalise_text,
                                        read_capped, sanitise_doc_id)

TEXT_EXTENSIONS = (".txt", ".md")
HTML_EXTENSIONS = (".html", ".htm")
PDF_EXTENSIONS = (".pdf",)


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


# -- PDF -------------------------------------------------------------------------------------------
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
    return make_document(doc_id, text, source, metadata)


# -- One file, one document ------------------------------------------------------------------------
def file_document(fs, path: str, rel: str, size: int | None, max_doc_bytes: int) -> Document | Rejected:
    """One document file (.txt, .md, .html, .htm, .pdf) as a Document or a Rejected."""
    ext = extension(path)
    doc_id = sanitise_doc_id(rel)
    source = display_path(fs, path)
    if ext not in TEXT_EXTENSIONS + HTML_EXTENSIONS + PDF_EXTENSIONS:
        what = f"unsupported extension '{ext}'" if ext else "unsupported file type (no extension)"
        return Rejected(doc_id, source, what)
    if size is not None and size > max_doc_bytes:
        return Rejected(doc_id, source, f"file is {size} bytes, over max_doc_bytes={max_doc_bytes}")
    if ext in PDF_EXTENSIONS and not _pdf_available():
        return Rejected(doc_id, source, "pdf text extraction not available")
    data = read_capped(fs, path, max_doc_bytes)
    if data is None:
        return Rejected(doc_id, source, f"file is over max_doc_bytes={max_doc_bytes}")
    metadata: dict[str, Any] = {"path": rel, "bytes": len(data), "format": ext.lstrip(".")}
    if ext in PDF_EXTENSIONS:
        return _pdf_document(doc_id, data, source, metadata)
    raw, reason = decode_text(data)
    if raw is None:
        return Rejected(doc_id, source, reason)
    if ext in HTML_EXTENSIONS:
        raw, title = html_to_text(raw)
        if title:
            metadata["title"] = title
    return make_document(doc_id, raw, source, metadata)
