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
The file is never trained on. Each source is a module of bench/real_eval/.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from real_eval.iso import iso_docs  # noqa: E402
from real_eval.man import man_docs  # noqa: E402
from real_eval.records import Record, SourceMissing  # noqa: E402
from real_eval.stdlib import pydoc_docs  # noqa: E402
from real_eval.tz import tz_docs  # noqa: E402

SOURCES = ("man", "pydoc", "iso-codes", "tzdata")
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
    p.add_argument("--exclude", default="", help="a JSONL file whose ids are skipped while drawing (e.g. the eval "
                                                 "file, to make a corpus that shares no document with it)")
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

    excluded = set()
    if args.exclude:
        with open(args.exclude, encoding="utf-8") as fh:
            excluded = {json.loads(line)["id"] for line in fh if line.strip()}
    rngs = {s: random.Random(f"{args.seed}:{s}") for s in sources}
    try:
        streams = {s: GENERATORS[s](rngs[s], fits) for s in sources}
        records: list[Record] = []
        while len(records) < args.limit and streams:
            for s in list(streams):
                if len(records) >= args.limit:
                    break
                rec = next(streams[s], None)
                while rec is not None and rec.id in excluded:
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
