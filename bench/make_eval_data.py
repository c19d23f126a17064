"""Write a held-out synthetic eval file of short documents (eval-split templates and kinds).

    python bench/make_eval_data.py bench/data/eval_short48.jsonl --docs 48 --seed 20261127
    python bench/make_eval_data.py bench/data/eval_mid32.jsonl --docs 32 --seed 20261128 --sections 2,3 \
        --questions 4 --min-tokens 200 --max-tokens 400

Documents are drawn one by one and kept when their length in base-model tokens lies in
[--min-tokens, --max-tokens] (BOS included; the issue's "short documents" are 100-400 tokens), so a
seed always gives the same file. Names are invented syllables, never the vocabulary words training also uses.
With --sections, each document is several entities' articles one after another (a denser text, as
real records are), and --questions of their questions are asked.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypernet import base_model  # noqa: E402
from hypernet.synthetic import make_doc, make_long_doc, write_jsonl  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="JSONL file to write (the eval format of DESIGN.md)")
    p.add_argument("--docs", type=int, default=48, help="documents to keep")
    p.add_argument("--questions", type=int, default=3, help="questions per document")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--min-tokens", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=400)
    p.add_argument("--sections", default="1", help="comma list of how many entities a document describes (one drawn per document)")
    args = p.parse_args(argv)
    tok = base_model.load_tokenizer(base_model.resolve().path)
    rng, docs, drawn = random.Random(args.seed), [], 0
    sections = [int(x) for x in args.sections.split(",")]
    while len(docs) < args.docs:
        if sections == [1]:
            doc = make_doc(rng, "eval", n_questions=args.questions)
        else:
            doc = make_long_doc(rng, rng.choice(sections), "eval")
        drawn += 1
        if args.min_tokens <= len(tok(doc.text).input_ids) <= args.max_tokens:
            if sections != [1]:  # two questions per section were drawn: keep --questions of them
                doc.qa = rng.sample(doc.qa, min(args.questions, len(doc.qa)))
            docs.append(doc)
        if drawn > 100 * args.docs:
            sys.exit(f"only {len(docs)} of {drawn} documents are {args.min_tokens}-{args.max_tokens} tokens long")
    write_jsonl(docs, args.out)
    print(f"{args.out}: {len(docs)} documents ({drawn} drawn), {sum(len(d.qa) for d in docs)} questions")


if __name__ == "__main__":
    main()
