"""Write the held-out real-text eval file: documents nobody in this project wrote, with span questions.

    python bench/make_real_eval.py --out bench/data/eval_real.jsonl --seed 20261205 --limit 136

Four sources that ship offline on a Debian machine with Python, none of them written here and none
of them used by meta-training (which reads the READMEs of installed Python packages, see
hypernet/package_text.py; Debian package records are kept for an independent check and not read):
- "man": excerpts of manual pages (/usr/share/man/man1 and man8), rendered by `man` in ASCII:
  the NAME line, the first paragraph of the description, a run of consecutive option entries
  (each as "tag: first paragraph") and the "Written by" line. Questions: which option does what
  its description says ("Which shred option does not round file sizes ...?"), who wrote the program.
- "pydoc": Python standard-library modules read with `ast` (never imported): the module
  docstring's first paragraph and a run of consecutive public functions and classes, each as
  "signature: first docstring sentence". Questions: "What does shlex.quote() do?", the gold being
  what the docstring's leading verb acts on ("shell-escaped version of the string").
- "iso-codes": the iso-codes tables (/usr/share/iso-codes/json), one entry a sentence: a country
  (3166-1) with its subdivisions (3166-2), or a run of consecutive entries of the withdrawn
  country codes (3166-3), currencies (4217), languages (639-3) or scripts (15924). Questions:
  the code an entry has (the numeric one where an entry has two), the year a code was withdrawn.
- "tzdata": the offset history of one zone of the tz database (/usr/share/zoneinfo/tzdata.zi,
  zone.tab, iso3166.tab), one era a sentence. Questions: when local mean time ended, which
  offset or abbreviation an era used.

Only questions whose answer follows what it is asked about in the text are asked for the table
sources (the 270M base model, with the document in its prompt, mostly fails reverse look-ups such
as "which currency has the numeric code 208" and confuses two codes on one line; it answers a
plain "what does X do" about an option by restating the question until the answer cap).
Every answer is a 1-5 word span that occurs verbatim in its document; a question is dropped when
its normalised answer (hypernet.prompts.normalise_answer) is shorter than 3 characters, occurs
in the normalised question, or when the fact it asks for is not unique in the document. A
document is kept when it has 2-4 such questions and is --min-tokens to --max-tokens long in the
base model's tokens (BOS included). `--limit` documents are drawn round-robin over the sources, so
any limit gives a mix, and the same seed on the same machine gives the same file.

The generated file is committed; this script needs the sources and says which one is missing.
The file is never trained on.
"""
from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypernet.prompts import normalise_answer  # noqa: E402

MAN_DIRS = [Path("/usr/share/man/man1"), Path("/usr/share/man/man8")]
ISO_DIR = Path("/usr/share/iso-codes/json")
TZ_DIR = Path("/usr/share/zoneinfo")
SOURCES = ("man", "pydoc", "iso-codes", "tzdata")


class SourceMissing(RuntimeError):
    pass


@dataclass
class Record:
    id: str
    source: str
    kind: str
    text: str
    qa: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "text": self.text, "qa": self.qa, "source": self.source,
                           "kind": self.kind}, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Question filtering shared by every source


def _ok_answer(answer: str, question: str, text: str) -> bool:
    a = normalise_answer(answer)
    return (answer in text and len(a) >= 3 and a not in normalise_answer(question)
            and 1 <= len(answer.split()) <= 5)


def _finish(rec: Record, candidates: list[tuple[str, str]], rng: random.Random) -> Record | None:
    """Keep 2-4 good questions (distinct answers, distinct questions), drawn by `rng`."""
    seen_q, seen_a, good = set(), set(), []
    for q, a in candidates:
        if _ok_answer(a, q, rec.text) and q not in seen_q and normalise_answer(a) not in seen_a:
            seen_q.add(q)
            seen_a.add(normalise_answer(a))
            good.append({"q": q, "a": a})
    if len(good) < 2:
        return None
    rec.qa = rng.sample(good, min(4, len(good)))
    return rec


def _unique(values: list[str]) -> set[str]:
    """The values that occur exactly once."""
    return {v for v in values if values.count(v) == 1}


_VERBS = set("""
accept add allow append apply assume build calculate call cancel change check clear close collect combine
compare compile compute configure convert copy count create decode delete deallocate define describe
detect disable discard display draw dump enable encode ensure escape evaluate exclude execute exit expand
export extend extract fetch fill find flush force format generate get give handle hide ignore import include
increment initialize initialise insert install invoke iterate join keep kill limit list load lock look make
manipulate map mark match merge modify move normalize normalise omit open output overwrite parse pass pause
perform place prefix prepare preserve prevent print process produce prompt put query quote raise read
receive record redirect reduce register reject reload remove rename render repeat replace report request
reset resolve restore retrieve return reverse run save scan search seed select send separate set show skip
sort specify split start stop store strip suppress switch take tell terminate test trace translate treat
truncate try turn unpack unset update use validate verify wait walk warn wrap write yield zero
""".split())


def _third_person(word: str) -> str:
    if word in ("do", "go"):
        return word + "es"
    if re.search(r"(s|sh|ch|x|z)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _verb_phrase(desc: str) -> str:
    """A description as a third-person verb phrase, from its first clause: "print sizes in
    powers of 1000" -> "prints sizes in powers of 1000"; "do not list implied entries" -> "does not
    list implied entries". "" when it does not start with a known verb or has under 3 or over 14 words."""
    words = _first_clause(desc).rstrip(".:;, ").split()
    if not 3 <= len(words) <= 14:
        return ""
    first = words[0].lower()
    if first == "don't" or (first == "do" and words[1].lower() == "not"):
        return " ".join(["does not"] + words[1 if first == "don't" else 2:])
    if first not in _VERBS:
        return ""
    return " ".join([_third_person(first)] + words[1:])


_BOUNDARY = {"and", "or", "to", "in", "on", "for", "from", "with", "by", "as", "at", "if", "when", "where",
             "which", "that", "instead", "into", "than", "but", "using", "via", "after", "before", "without",
             "so", "then", "per", "between", "about", "over", "under", "within", "across", "through", "like",
             "is", "are", "will", "can", "may", "unless", "while", "until", "since", "whose", "how", "what"}
_PARTICLES = {"out", "together", "up", "down", "off", "back", "away"}
_WORD_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9'/.+-]*")


def _object_phrase(desc: str) -> str:
    """What a description's leading verb acts on, as the gold answer to "what does X do":
    "Return a shell-escaped version of the string *s*" -> "shell-escaped version of the string".
    The first words after the verb (and an article), up to a preposition or conjunction,
    punctuation or five words; "" when the description does not start with a known verb or the
    phrase is shorter than two words. The verb is left out because answers conjugate it ("returns")."""
    words = _first_clause(desc).split()
    if len(words) < 3 or words[0].lower() not in _VERBS:
        return ""
    rest = words[1:]
    if rest[0].lower() in _PARTICLES:  # "write out a file", "add together the stats"
        rest = rest[1:]
    if rest and rest[0].lower() in ("a", "an", "the"):
        rest = rest[1:]
    out = []
    for w in rest:
        core = w.rstrip(",;:.")
        if core.lower() in _BOUNDARY or not _WORD_OK.fullmatch(core):
            break
        out.append(core)
        if core != w or len(out) == 5:
            break
    while out and out[-1].lower() in ("of", "the", "a", "an", "all", "each", "any"):
        out.pop()
    return " ".join(out) if len(out) >= 2 else ""


# ---------------------------------------------------------------------------------------------
# man pages

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


def _first_clause(desc: str) -> str:
    s = re.split(r"(?<=[a-z0-9)])\. |; ", desc, maxsplit=1)[0].rstrip(".")
    return s


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
    phrases = [_verb_phrase(d) for _, d in chosen]
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
        rec = _finish(Record(f"real-man-{page.name[:-3]}", "man", "man-options", text), cands, rng)
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


# ---------------------------------------------------------------------------------------------
# Python standard-library docstrings

_SKIP_MODULE = re.compile(r"(^|/)(test|tests|idlelib|lib2to3|turtledemo|site-packages|__pycache__|"
                          r"ensurepip|tkinter|pydoc_data|encodings|distutils|config-[^/]*)(/|$)")


def _summary(doc: str | None) -> str:
    if not doc:
        return ""
    first = doc.strip().split("\n\n")[0]
    first = " ".join(first.split())
    return _first_clause(first) if len(first.split()) <= 40 else ""


def _signature(node) -> str:
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    args = ast.unparse(node.args)
    if len(args) > 60:
        args = args[:57].rsplit(",", 1)[0] + ", ..."
    return f"{node.name}({args})"


def pydoc_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if not (stdlib / "os.py").is_file():
        raise SourceMissing(f"Python standard library sources: {stdlib}/os.py is missing")
    files = sorted(p for p in stdlib.rglob("*.py")
                   if not _SKIP_MODULE.search(str(p.relative_to(stdlib)))
                   and not any(part.startswith("_") and part != "__init__.py"
                               for part in p.relative_to(stdlib).parts))
    rng.shuffle(files)
    for path in files:
        rel = path.relative_to(stdlib).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        members = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                s = _summary(ast.get_docstring(node))
                if s and len(s.split()) >= 3:
                    members.append((node, s))
        if len(members) < 3:
            continue
        mod_doc = _summary(ast.get_docstring(tree))
        if len(re.findall(r"[A-Za-z]{2,}", mod_doc)) < 3:
            mod_doc = ""  # e.g. "ast ~~~": a title, not a sentence
        start = rng.randrange(0, max(1, len(members) - 3))
        best = None
        for n in range(3, min(10, len(members) - start) + 1):
            text = _pydoc_text(module, mod_doc, members[start:start + n])
            if fits(text):
                best = (text, members[start:start + n])
            elif best is not None:
                break
        if best is None:
            continue
        text, chosen = best
        cands = []
        for node, summary in chosen:
            phrase = _object_phrase(summary)
            if phrase and sum(normalise_answer(phrase) in normalise_answer(x) for _, x in chosen) == 1:
                call = f"{module}.{node.name}" + ("" if isinstance(node, ast.ClassDef) else "()")
                cands.append((f"What does {call} do?", phrase))
        rng.shuffle(cands)
        rec = _finish(Record(f"real-pydoc-{module}", "pydoc", "stdlib-docstrings", text), cands, rng)
        if rec:
            yield rec


def _pydoc_text(module: str, mod_doc: str, members) -> str:
    parts = [f"Python standard library: module {module}"]
    if mod_doc:
        parts += ["", mod_doc + "."]
    parts += ["", "Contents (excerpt):"]
    for node, s in members:
        parts.append(f"{_signature(node)}: {s}.")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# iso-codes


def _iso(name: str) -> list[dict]:
    path = ISO_DIR / f"iso_{name}.json"
    if not path.is_file():
        raise SourceMissing(f"iso-codes: {path} is missing (install the iso-codes package)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data[name]


def _iso_currencies(rows):
    lines = [f"The {r['name']} has the alphabetic code {r['alpha_3']} and the numeric code {r['numeric']}."
             for r in rows]
    cands = []
    for r in rows:
        cands.append((f"Which numeric code does the {r['name']} have?", r["numeric"]))
    return "ISO 4217 currency codes (a run of consecutive entries of the iso-codes table)", lines, cands


_SCOPE = {"I": "an individual language", "M": "a macrolanguage", "S": "a special code"}
_TYPE = {"L": "living", "E": "extinct", "A": "ancient", "H": "historical", "C": "constructed", "S": "special"}


def _iso_languages(rows):
    lines = [f"{r['name']} is {_SCOPE.get(r.get('scope'), 'a language')} ({_TYPE.get(r.get('type'), 'other')}) "
             f"with the ISO 639-3 code {r['alpha_3']}." for r in rows]
    cands = [(f"Which ISO 639-3 code does {r['name']} have?", r["alpha_3"]) for r in rows]
    return "ISO 639-3 language codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_scripts(rows):
    lines = [f"The {r['name']} script has the code {r['alpha_4']} and the numeric code {r['numeric']}."
             for r in rows]
    cands = []
    for r in rows:
        cands.append((f"Which numeric code does the {r['name']} script have?", r["numeric"]))
    return "ISO 15924 script codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_withdrawn(rows):
    lines, cands = [], []
    for r in rows:
        codes = f"alpha-3 code {r['alpha_3']}" + (f", numeric code {r['numeric']}" if r.get("numeric") else "")
        line = f"The codes of {r['name']} ({codes}) were withdrawn in {r['withdrawal_date']}."
        if r.get("comment"):
            line += f" Note: {r['comment']}."
        lines.append(line)
        cands.append((f"In what year were the codes of {r['name']} withdrawn?", r["withdrawal_date"][:4]))
    return "ISO 3166-3 withdrawn country codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_country(country: dict, subdivisions: list[dict]):
    """One country of ISO 3166-1 with its ISO 3166-2 subdivisions."""
    name = country["name"]
    official = f", officially the {country['official_name']}," if country.get("official_name") else ""
    lines = [f"{name}{official} has the ISO 3166-1 alpha-2 code {country['alpha_2']}, the alpha-3 code "
             f"{country['alpha_3']} and the numeric code {country['numeric']}. Its subdivisions in ISO 3166-2:"]
    lines += [f"{r['name']} is a {r['type'].lower()} with the code {r['code']}." for r in subdivisions]
    names = _unique([r["name"] for r in subdivisions])  # a name given twice would make its code ambiguous
    cands = [(f"Which numeric code does {name} have?", country["numeric"])]
    cands += [(f"Which ISO 3166-2 code does {r['name']} have?", r["code"])
              for r in subdivisions if r["name"] in names and r["name"] != name]
    return f"ISO 3166 codes of {name} (from the iso-codes tables)", lines, cands


def iso_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    """Round-robin over the tables: a country with its subdivisions, then a run of 4-6 consecutive
    rows of the currency, language, script and withdrawn-code tables. Only questions whose answer
    follows the name it is asked about (name -> code), never the reverse lookup."""
    tables = {"4217": (_iso("4217"), _iso_currencies), "639-3": (_iso("639-3"), _iso_languages),
              "15924": (_iso("15924"), _iso_scripts), "3166-3": (_iso("3166-3"), _iso_withdrawn)}
    countries = {r["alpha_2"]: r for r in _iso("3166-1")}
    by_country: dict[str, list[dict]] = {}
    for r in _iso("3166-2"):
        by_country.setdefault(r["code"].split("-")[0], []).append(r)
    small = sorted(c for c, rows in by_country.items() if 4 <= len(rows) <= 14 and c in countries)
    rng.shuffle(small)
    used: set[str] = set()
    while True:
        progressed = False
        for kind in ["3166"] + list(tables):
            if kind == "3166":
                if not small:
                    continue
                cc = small.pop()
                title, lines, cands = _iso_country(countries[cc], by_country[cc])
                rid = f"real-iso-3166-{cc.lower()}"
            else:
                rows_all, render = tables[kind]
                n = rng.randint(4, 6)
                start = rng.randrange(0, len(rows_all) - n)
                title, lines, cands = render(rows_all[start:start + n])
                rid = f"real-iso-{kind}-{start:04d}"
                if any(u.startswith(f"real-iso-{kind}-") and abs(int(u.rsplit("-", 1)[1]) - start) < 6 for u in used):
                    continue  # overlapping rows of a listing already drawn
            text = title + "\n\n" + "\n".join(lines)
            if not fits(text):
                continue
            # a code asked for must occur once in the listing (not also inside another code or name)
            cands = [(q, a) for q, a in cands if text.count(a) == 1]
            used.add(rid)
            rng.shuffle(cands)
            # one question per row at most (two about the country itself): spread them over the listing
            spread, seen_rows, name_line = [], set(), lines[0]
            for q, a in cands:
                row = next((l for l in text.splitlines() if a in l), None)
                if row not in seen_rows or kind == "3166" and row.startswith(name_line):
                    seen_rows.add(row)
                    spread.append((q, a))
            rec = _finish(Record(rid, "iso-codes", f"iso-{kind}", text), spread, rng)
            if rec:
                progressed = True
                yield rec
        if not progressed:
            return


# ---------------------------------------------------------------------------------------------
# tzdata

_MONTHS = {"Ja": "Jan", "F": "Feb", "Mar": "Mar", "Ap": "Apr", "May": "May", "Jun": "Jun", "Jul": "Jul",
           "Au": "Aug", "S": "Sep", "O": "Oct", "N": "Nov", "D": "Dec"}


def _tz_offset(s: str) -> str:
    sign = "-" if s.startswith("-") else "+"
    parts = s.lstrip("-").split(":")
    h = int(parts[0])
    rest = [f"{int(p):02d}" for p in parts[1:]]
    while rest and rest[-1] == "00":
        rest.pop()
    return f"UTC{sign}{':'.join([str(h)] + rest)}"


def _tz_until(fields: list[str]) -> str:
    if not fields:
        return ""
    out = [fields[0]]
    if len(fields) > 1:
        out.append(_MONTHS.get(fields[1], fields[1]))
    if len(fields) > 2:
        out.append(fields[2])
    return " ".join(out)


def _tz_era(fields: list[str], letters: dict[str, list[str]]) -> tuple[str, str, str, str]:
    """(offset, saving, abbreviation, until) of one zone line's fields; `letters`: the LETTER/S
    values of each rule set, which fill the %s of an abbreviation like CE%sT."""
    off, rules, fmt = fields[0], fields[1], fields[2]
    if "%s" in fmt:
        fmt = "/".join(fmt.replace("%s", l) for l in letters.get(rules, [])) or fmt
    until = _tz_until(fields[3:])
    if rules == "-":
        saving = "standard time"
    elif re.fullmatch(r"-?\d+(:\d+)*", rules):
        saving = f"plus {rules} h of daylight saving time" if ":" not in rules else f"plus {rules} of daylight saving time"
    else:
        saving = "with daylight saving time rules"
    return _tz_offset(off), saving, fmt, until


def _tz_tables() -> tuple[str, dict[str, str], dict[str, tuple], dict[str, list[list[str]]], dict[str, list[str]]]:
    """tzdata's version, country names, zone.tab rows, each zone's era lines and each rule's letters."""
    zi, zone_tab, iso_tab = TZ_DIR / "tzdata.zi", TZ_DIR / "zone.tab", TZ_DIR / "iso3166.tab"
    for p in (zi, zone_tab, iso_tab):
        if not p.is_file():
            raise SourceMissing(f"tzdata: {p} is missing (install the tzdata package)")
    version = ""
    countries = {}
    for line in iso_tab.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            cc, name = line.split("\t", 1)
            countries[cc] = name
    zone_info = {}
    for line in zone_tab.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            f = line.split("\t")
            zone_info[f[2]] = (f[0], f[1], f[3] if len(f) > 3 else "")
    zones: dict[str, list[list[str]]] = {}
    letters: dict[str, list[str]] = {}
    current = None
    for line in zi.read_text(encoding="utf-8").splitlines():
        if line.startswith("# version"):
            version = line.split()[-1]
        if line.startswith("R "):
            f = line.split()
            letter = "" if f[-1] == "-" else f[-1]
            if letter not in letters.setdefault(f[1], []):
                letters[f[1]].append(letter)
                letters[f[1]].sort(key=lambda x: (x != "", x))  # standard time first
        if line.startswith("Z "):
            f = line.split()
            current = f[1]
            zones[current] = [f[2:]]
        elif line[:1] in "R L #":
            current = None
        elif current and line.strip():
            zones[current].append(line.split())
    return version, countries, zone_info, zones, letters


def _tz_questions(zone: str, eras: list[tuple[str, str, str, str]], comment: str) -> list[tuple[str, str]]:
    """Offsets and abbreviations until each distinct change, the offset since the last, the area covered."""
    untils = [e[3] for e in eras]
    cands = []
    off0, _, fmt0, until0 = eras[0]
    if fmt0 == "LMT" and until0:
        cands.append((f"In what year did {zone} stop keeping local mean time?", until0.split()[0]))
    for off, _, fmt, until in eras:
        if not until or untils.count(until) != 1:
            continue
        cands.append((f"What UTC offset did {zone} use until {until}?", off))
        if fmt != "LMT" and re.fullmatch(r"[A-Z]{3,5}", fmt):
            cands.append((f"Which abbreviation did {zone} use until {until}?", fmt))
    if eras[-2][3] and untils.count(eras[-2][3]) == 1:
        cands.append((f"What UTC offset has {zone} used since {eras[-2][3]}?", eras[-1][0]))
    if comment and len(comment.split()) <= 5:
        cands.append((f"Which area does {zone} cover?", comment))
    return cands


def tz_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    version, countries, zone_info, zones, letters = _tz_tables()
    names = sorted(z for z in zones if z in zone_info and len(zones[z]) >= 3)
    rng.shuffle(names)
    for zone in names:
        cc, _coords, comment = zone_info[zone]
        eras = [_tz_era(f, letters) for f in zones[zone]]
        covering = f", covering {comment}" if comment else ""
        lines = [f"{zone} is a time zone of the tz database (version {version}) for "
                 f"{countries.get(cc, cc)} ({cc}){covering}. Its history, oldest first:"]
        for k, (off, saving, fmt, until) in enumerate(eras):
            abbr = "" if fmt in ("%z", "LMT") else f", abbreviated {fmt}"
            if fmt == "LMT":
                what = f"kept local mean time, {off}"
            else:
                what = f"used {off} ({saving}){abbr}"
            if until:
                lines.append(f"Until {until} it {what}.")
            else:
                lines.append(f"Since {eras[k - 1][3]} it has {what}.")
        text = "\n".join(lines)
        if not fits(text):
            continue
        rec = _finish(Record(f"real-tz-{zone.lower().replace('/', '-')}", "tzdata", "tz-zone-history", text),
                      _tz_questions(zone, eras, comment), rng)
        if rec:
            yield rec


# ---------------------------------------------------------------------------------------------

GENERATORS = {"man": man_docs, "pydoc": pydoc_docs, "iso-codes": iso_docs, "tzdata": tz_docs}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="bench/data/eval_real.jsonl", help="JSONL file to write (the eval format)")
    p.add_argument("--seed", type=int, default=20261205)
    p.add_argument("--limit", type=int, default=136, help="documents to write, drawn round-robin over the sources")
    p.add_argument("--sources", default=",".join(SOURCES), help=f"comma list of sources ({', '.join(SOURCES)})")
    p.add_argument("--min-tokens", type=int, default=80)
    p.add_argument("--max-tokens", type=int, default=400)
    p.add_argument("--tokenizer", default="", help="a tokenizer folder (default: the packaged base model's)")
    args = p.parse_args(argv)
    sources = [s for s in args.sources.split(",") if s]
    unknown = set(sources) - set(SOURCES)
    if unknown:
        p.error(f"unknown sources {sorted(unknown)}; choose from {SOURCES}")

    from hypernet import base_model

    tok = base_model.load_tokenizer(args.tokenizer or base_model.resolve().path)

    def n_tokens(text: str) -> int:
        return len(tok(text).input_ids)

    def fits(text: str) -> bool:
        return args.min_tokens <= n_tokens(text) <= args.max_tokens

    rngs = {s: random.Random(f"{args.seed}:{s}") for s in sources}
    try:
        streams = {s: GENERATORS[s](rngs[s], fits) for s in sources}
        records: list[Record] = []
        while len(records) < args.limit and streams:
            for s in list(streams):
                if len(records) >= args.limit:
                    break
                rec = next(streams[s], None)
                if rec is None:
                    print(f"{s}: exhausted after {sum(r.source == s for r in records)} documents", file=sys.stderr)
                    del streams[s]
                else:
                    records.append(rec)
    except SourceMissing as exc:
        sys.exit(f"make_real_eval: source missing: {exc}")
    ids = [r.id for r in records]
    assert len(set(ids)) == len(ids), "duplicate ids"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.to_json() + "\n")
    lengths = [n_tokens(r.text) for r in records]
    per = {s: sum(r.source == s for r in records) for s in sources}
    print(f"{args.out}: {len(records)} documents {per}, {sum(len(r.qa) for r in records)} questions, "
          f"{min(lengths)}-{max(lengths)} tokens")


if __name__ == "__main__":
    main()
