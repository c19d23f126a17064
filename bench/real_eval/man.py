"""The "man" source: excerpts of manual pages rendered by `man` in ASCII (the NAME line, the first
paragraph of the description, a run of option entries, the "Written by" line), asked which option
does what and who wrote the program."""
from __future__ import annotations

import gzip
import os
import random
import re
import subprocess
from pathlib import Path
from typing import Callable, Iterator

from real_eval.phrases import verb_phrase
from real_eval.records import Record, SourceMissing, finish


MAN_DIRS = [Path("/usr/share/man/man1"), Path("/usr/share/man/man8")]


_SECTION = re.compile(r"^[A-Z][A-Z0-9 /&-]*$")
_OPTION_TAG = re.compile(r"^-{1,2}[A-Za-z0-9?]")
_LONG_OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*[a-z0-9])")
_WRITTEN_BY = re.compile(r"^Written by ([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){1,3})(?=[,.]| and )")


def _render_man(path: Path) -> str:
    env = dict(os.environ, LC_ALL="C", LANG="C", MANWIDTH="80", MAN_KEEP_FORMATTING="")
    env.pop("MANPAGER", None)
    env.pop("PAGER", None)
    out = subprocess.run(["man", "--nh", "--nj", "-E", "ascii", "-l", str(path)], env=env,
                         capture_output=True, timeout=60).stdout
    out = subprocess.run(["col", "-bx"], input=out, capture_output=True, timeout=60).stdout
    return out.decode("ascii", "replace")


def _man_sections(rendered: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in rendered.splitlines()[1:]:  # the first line is the page header
        if line and not line[0].isspace():
            if _SECTION.match(line.strip()):
                current = line.strip()
                sections.setdefault(current, [])
            else:
                current = None  # the page footer, or something this parser does not know
            continue
        if current:
            sections[current].append(line.rstrip())
    return sections


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(cur)
            cur = []
    if cur:
        paras.append(cur)
    return paras


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _man_options(lines: list[str]) -> list[tuple[str, str]]:
    """(tag, description) of the option entries: a tag line that starts with '-', then lines
    indented deeper; a short tag may share its line with the description (groff's .TP)."""
    entries: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        ind = _indent(line)
        body = line.strip()
        if not body or not _OPTION_TAG.match(body):
            i += 1
            continue
        tag, desc = body, []
        m = re.match(r"^(\S+(?:, \S+)*)\s{2,}(\S.*)$", body)
        if m:  # the description starts on the tag's line
            tag, desc = m.group(1), [m.group(2)]
        j = i + 1
        while j < len(lines) and lines[j].strip() and _indent(lines[j]) > ind:
            desc.append(lines[j].strip())
            j += 1
        # a blank line inside one entry's description: the next paragraph stays with the entry
        # only if it is indented deeper than the tag; it is dropped here (first paragraph kept)
        if desc:
            entries.append((tag, " ".join(desc)))
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > ind):
            j += 1
        i = j
    return entries


def _man_pages() -> list[Path]:
    """The installed man pages small enough to use; SourceMissing without pages or `man` and `col`."""
    pages = []
    for d in MAN_DIRS:
        if not d.is_dir():
            raise SourceMissing(f"man pages: {d} is missing (install man-db and manpages)")
        for p in sorted(d.iterdir()):
            if p.is_file() and not p.is_symlink() and p.name.endswith(".gz") and p.stat().st_size < 40_000:
                pages.append(p)
    if not pages:
        raise SourceMissing("man pages: no pages under " + ", ".join(map(str, MAN_DIRS)))
    try:
        subprocess.run(["man", "--version"], capture_output=True, check=True)
        subprocess.run(["col", "-V"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SourceMissing(f"man pages: the `man` and `col` programs are needed ({exc})") from exc
    return pages


def _man_intro_author(secs: dict) -> tuple[str, tuple[str, str] | str]:
    """The first DESCRIPTION paragraph when short, and the (line, name) of a "Written by" author ("" for none)."""
    intro = ""
    desc_paras = [p for p in _paragraphs(secs.get("DESCRIPTION", []))
                  if not _OPTION_TAG.match(p[0].strip())]
    if desc_paras:
        intro = " ".join(l.strip() for l in desc_paras[0])
        if len(intro.split()) > 70:
            intro = ""
    author = ""
    for l in secs.get("AUTHOR", []) + secs.get("AUTHORS", []):
        m = _WRITTEN_BY.match(l.strip())
        if m:
            author = (l.strip(), m.group(1))
            break
    return intro, author


def _man_questions(prog: str, chosen: list, author, rng: random.Random) -> list[tuple[str, str]]:
    """Questions: who wrote the program (first, when known), and which option does what, for each chosen
    option whose phrase is its own."""
    cands = []
    tags = [t for t, _ in chosen]
    opts = []
    for tag in tags:
        longs = _LONG_OPTION.findall(tag)
        opts.append(longs[0] if longs else tag.split(",")[0].split("=")[0].split("[")[0].split()[0])
    phrases = [verb_phrase(d) for _, d in chosen]
    for opt, vp in zip(opts, phrases):
        if vp and phrases.count(vp) == 1 and opts.count(opt) == 1:
            cands.append((f"Which {prog} option {vp}?", opt))
    rng.shuffle(cands)
    if author:
        cands.insert(0, (f"Who wrote {prog}?", author[1]))
    return cands


def man_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    pages = _man_pages()
    rng.shuffle(pages)
    seen_names = set()
    for page in pages:
        with gzip.open(page, "rb") as fh:
            head = fh.read(200)
        if head.startswith(b".so "):
            continue
        rendered = _render_man(page)
        secs = _man_sections(rendered)
        name_lines = [l.strip() for l in secs.get("NAME", []) if l.strip()]
        if not name_lines or " - " not in name_lines[0]:
            continue
        name_line = " ".join(name_lines)
        prog = name_line.split(" - ")[0].split(",")[0].strip()
        if not re.fullmatch(r"[A-Za-z0-9_.+-]{2,40}", prog) or prog in seen_names:
            continue
        opt_section = "OPTIONS" if "OPTIONS" in secs else "DESCRIPTION"
        entries = [(t, d) for t, d in _man_options(secs.get(opt_section, []))
                   if not re.search(r"--(help|version|usage)\b", t) and len(d.split()) >= 3]
        if len(entries) < 3:
            continue
        intro, author = _man_intro_author(secs)
        # a run of consecutive option entries, the longest that fits (at least 3)
        start = rng.randrange(0, max(1, len(entries) - 3))
        best = None
        for n in range(3, min(10, len(entries) - start) + 1):
            text = _man_text(page, name_line, intro, entries[start:start + n], opt_section, author)
            if fits(text):
                best = (text, entries[start:start + n])
            elif best is not None:
                break
        if best is None:
            continue
        text, chosen = best
        cands = _man_questions(prog, chosen, author, rng)
        rec = finish(Record(f"real-man-{page.name[:-3]}", "man", "man-options", text), cands, rng)
        if rec:
            seen_names.add(prog)
            yield rec


def _man_text(page: Path, name_line: str, intro: str, entries, opt_section: str, author) -> str:
    title = page.name[:-3]
    stem, _, sect = title.rpartition(".")
    parts = [f"{stem}({sect}) manual page", "", "NAME", name_line]
    if intro:
        parts += ["", "DESCRIPTION", intro]
    parts += ["", "OPTIONS (excerpt)" if opt_section == "OPTIONS" else "OPTIONS (excerpt from the description)"]
    for tag, desc in entries:  # groff sets a short tag and its description on one line; here all are
        parts.append(f"{tag}: {desc}")
    if author:
        parts += ["", "AUTHOR", author[0]]
    return "\n".join(parts)
