"""How a document splits into sentences and record lines (one "Label: value" line, one list item)."""
from __future__ import annotations

import re

from hypernet.self_questions.words import TITLE_ABBREVIATIONS

# A sentence ends at . ! ? before a space and an upper-case letter, a digit or a quote, but not after a
# title, after "vs." or between "No." and its number ("Symphony No. 5"); one fixed-width look-behind each,
# as `re` requires.
SENTENCE_END = re.compile("".join(rf"(?<!\b{t}\.)" for t in (*TITLE_ABBREVIATIONS, "vs"))
                          + r"(?<=[.!?])(?:(?<!\bNo\.)\s+(?=[\"'(\[A-Z0-9])|(?<=\bNo\.)\s+(?=[\"'(\[A-Z]))")
PARAGRAPH_END = re.compile(r"\n\s*\n")
MARKER = re.compile(r"^\s*(?:[-*•>]|#+|\d+[.)])\s+")  # list, quote and heading markers
_FIELD = re.compile(r"^([A-Z][\w ()/'-]{0,40}):\s+(\S.{0,60}?)[.;]?\s*$")
# Lines that are never wrapped prose: an option line ("-d DIRECTORY: base directory ...") and a heading
# in capitals ("DESCRIPTION", "OPTIONS (excerpt)"); joined to their neighbours they make spans that cross them.
_OPTION_LINE = re.compile(r"^-{1,2}\w")
_HEADING_LINE = re.compile(r"^[A-Z][A-Z0-9 /&-]{2,}(?:\s*\([^()]*\))?$")
_MAX_FIELD_WORDS = 6  # a longer "Label: ..." is prose after a label, not a value


def field_value(line: str) -> tuple[int, int] | None:
    """Where the value of a "Label: value" line sits, or None when the line is not one."""
    field = _FIELD.match(line)
    return field.span(2) if field and len(field.group(2).split()) <= _MAX_FIELD_WORDS else None


def sentences(text: str) -> list[str]:
    """Sentences and record lines of a document, markers stripped.

    A list item, a "Label: value" line or an option line stands alone, and a heading in capitals is
    left out; other lines of a paragraph are joined first, so prose wrapped at a fixed width reads as
    whole sentences."""
    units: list[str] = []
    for paragraph in PARAGRAPH_END.split(text):
        prose: list[str] = []
        for line in paragraph.splitlines():
            marked = bool(MARKER.match(line))
            line = MARKER.sub("", line).strip()
            if marked or field_value(line) or _OPTION_LINE.match(line) or _HEADING_LINE.match(line):
                units += SENTENCE_END.split(" ".join(prose)) + ([] if _HEADING_LINE.match(line) else [line])
                prose = []
            elif line:
                prose.append(line)
        units += SENTENCE_END.split(" ".join(prose))
    return [u.strip() for u in units if len(u.split()) >= 2]
