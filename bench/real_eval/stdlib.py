"""The "pydoc" source: Python standard-library modules read with `ast` (never imported), the module
docstring's first paragraph and a run of public functions and classes, asked what one of them does."""
from __future__ import annotations

import ast
import random
import re
import sysconfig
from pathlib import Path
from typing import Callable, Iterator

from hypernet.prompts import normalise_answer
from real_eval.phrases import first_clause, object_phrase
from real_eval.records import Record, SourceMissing, finish


_SKIP_MODULE = re.compile(r"(^|/)(test|tests|idlelib|lib2to3|turtledemo|site-packages|__pycache__|"
                          r"ensurepip|tkinter|pydoc_data|encodings|distutils|config-[^/]*)(/|$)")


def _summary(doc: str | None) -> str:
    if not doc:
        return ""
    first = doc.strip().split("\n\n")[0]
    first = " ".join(first.split())
    return first_clause(first) if len(first.split()) <= 40 else ""


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
            phrase = object_phrase(summary)
            if phrase and sum(normalise_answer(phrase) in normalise_answer(x) for _, x in chosen) == 1:
                call = f"{module}.{node.name}" + ("" if isinstance(node, ast.ClassDef) else "()")
                cands.append((f"What does {call} do?", phrase))
        rng.shuffle(cands)
        rec = finish(Record(f"real-pydoc-{module}", "pydoc", "stdlib-docstrings", text), cands, rng)
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
