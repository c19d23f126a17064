"""Real prose that ships offline: the long descriptions of the installed Python distributions.

Every wheel carries its README in its METADATA, so a training machine with no internet still has
a few hundred real texts by real authors: projects, organisations, people, versions, years. Most
of a README is code, badges and markup; what is kept here is the prose, cut into passages of a
training document's length. With `hypernet.self_questions` they become documents with questions
that no template wrote, which is what the synthetic generator cannot give.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url) -> text; images go with their alt text
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")  # [text][ref] -> text
_INLINE_MARKUP = re.compile(r"[`*_]{1,3}(?=\S)|(?<=\S)[`*_]{1,3}")
_RST_ROLE = re.compile(r":\w+:`([^`]*)`")
_NOT_PROSE = re.compile(r"<[a-zA-Z/!]|https?://|\$ |>>>|\{%|\|\s*\w+\s*\||^\s*[-=~^#*+]{3,}\s*$", re.M)
_SENTENCE = re.compile(r"[a-z0-9)][.!?](\s|$)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass(frozen=True)
class Passage:
    source: str  # "name==version"
    text: str


def _prose_paragraphs(description: str) -> list[str]:
    """The paragraphs of a README that read as sentences: no code, markup, tables or link lists."""
    kept, in_code = [], False
    lines: list[str] = []
    for raw in description.splitlines() + [""]:
        if _FENCE.match(raw):
            in_code = not in_code
            lines = []
            continue
        if in_code:
            continue
        if raw.strip() and not raw.startswith(("    ", "\t")):
            lines.append(raw.strip())
            continue
        if lines:  # a blank or indented (code) line ends the paragraph
            para = _RST_ROLE.sub(r"\1", " ".join(lines))
            para = _INLINE_MARKUP.sub("", _REF_LINK.sub(r"\1", _LINK.sub(r"\1", para)))
            para = para.lstrip("#>-*• ").strip()
            words = _WORD.findall(para)
            if (len(words) >= 15 and not _NOT_PROSE.search(para) and len(_SENTENCE.findall(para)) >= 1
                    and sum(len(w) for w in words) >= 0.7 * len(para.replace(" ", ""))):
                kept.append(para)
        lines = []
    return kept


@functools.lru_cache(maxsize=4)
def passages(min_words: int = 60, max_words: int = 220) -> tuple[Passage, ...]:
    """Prose passages of `min_words`..`max_words` words from every installed distribution's
    description, consecutive paragraphs of one README grouped; sorted, so a given set of installed
    packages always gives the same list (see `digest`)."""
    out: list[Passage] = []
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        name = meta.get("Name") or ""
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        description = meta.get("Description") or meta.get_payload() or ""
        group: list[str] = []
        for para in _prose_paragraphs(str(description)) + [""]:
            n_group = sum(len(p.split()) for p in group)
            if para and n_group + len(para.split()) <= max_words:
                group.append(para)
                continue
            if n_group >= min_words:
                out.append(Passage(f"{name}=={meta.get('Version', '')}", "\n\n".join(group)))
            group = [para] if para and len(para.split()) <= max_words else []
    return tuple(sorted(out, key=lambda p: (p.source.lower(), p.text)))


def digest(found: tuple[Passage, ...]) -> str:
    """A short fingerprint of a passage list, recorded with a training run."""
    h = hashlib.sha256()
    for p in found:
        h.update(p.source.encode() + b"\0" + p.text.encode() + b"\0")
    return h.hexdigest()[:16]
