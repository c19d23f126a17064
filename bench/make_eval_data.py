"""Write a held-out synthetic eval file of short documents (eval-split templates and kinds).

    python bench/make_eval_data.py bench/data/eval_short48.jsonl --docs 48 --seed 20261127

Documents are drawn one by one and kept when their length in base-model tokens lies in
[--min-tokens, --max-tokens] (BOS included; the issue's "short documents" are 100-400 tokens), so a
seed always gives the same file. Names are invented syllables, never the vocabulary words training also uses.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypernet import base_model  # noqa: E402
from hypernet.synthetic import make_doc, write_jsonl  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="JSONL file to write (the eval format of DESIGN.md)")
    p.add_argument("--docs", type=int, default=48, help="documents to keep")
    p.add_argument("--questions", type=int, default=3, help="questions per document")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--min-tokens", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=400)
    args = p.parse_args(argv)
    tok = base_model.load_tokenizer(base_model.resolve().path)
    rng, docs, drawn = random.Random(args.seed), [], 0
    while len(docs) < args.docs:
        doc = make_doc(rng, "eval", n_questions=args.questions)
        drawn += 1
        if args.min_tokens <= len(tok(doc.text).input_ids) <= args.max_tokens:
            docs.append(doc)
        if drawn > 100 * args.docs:
            sys.exit(f"only {len(docs)} of {drawn} documents are {args.min_tokens}-{args.max_tokens} tokens long")
    write_jsonl(docs, args.out)
    print(f"{args.out}: {len(docs)} documents ({drawn} drawn), {sum(len(d.qa) for d in docs)} questions")


if __name__ == "__main__":
    main()
