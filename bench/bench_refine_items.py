"""How many refinement items documents of about 100, 300 and 1,000 tokens yield, and what share of the
natural questions the in-context teacher keeps (it answers with the span the question was made from).

    python bench/bench_refine_items.py --docs 8

Documents come from the held-out eval files (bench/data: short, mid and real); the real set has no
document near 1,000 tokens, so that bin joins six consecutive real records. Only `hypernet.refine.prepare`
runs (question making and the one teacher pass), with the default `RefineConfig`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tables import table  # noqa: E402

from hypernet import base_model  # noqa: E402
from hypernet.config import RefineConfig  # noqa: E402
from hypernet.refine import prepare  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")
BINS = {"~100": (60, 170), "~300": (200, 450), "~1000": (700, 1400)}


def texts(name: str) -> list[str]:
    with open(os.path.join(DATA, name)) as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=8, help="documents per length bin")
    args = p.parse_args()
    model, tok, _ = base_model.load(base_model.PACKAGED, device="cpu")
    real = texts("eval_real.jsonl")
    pool = texts("eval_short48.jsonl") + texts("eval_mid32.jsonl") + real
    pool += ["\n\n".join(real[i:i + 6]) for i in range(0, len(real) - 5, 6)]
    cfg, rows = RefineConfig(), []
    missed_kept = cfg.missed_questions == "gold"
    for name, (lo, hi) in BINS.items():
        picked = [t for t in pool if lo <= len(tok(t).input_ids) <= hi][:args.docs]
        started = time.perf_counter()
        preps = [x for i in range(0, len(picked), 4) for x in prepare(model, tok, picked[i:i + 4], cfg)]
        n = max(1, len(preps))
        made, kept = sum(x.made for x in preps), sum(x.kept for x in preps)
        rows.append([name, len(preps), round(sum(len(x.text_ids) for x in preps) / n), round(made / n, 1),
                     round(kept / n, 1), round(kept / max(1, made), 2),
                     round((made - kept) / n, 1) if missed_kept else 0.0,
                     # gold-span items are the blanks and, kept on their span, the questions the teacher missed
                     round((sum(it.gold for x in preps for it in x.items) - (made - kept if missed_kept else 0)) / n, 1),
                     round(sum(len(x.items) for x in preps) / n, 1), round((time.perf_counter() - started) / n, 1)])
    print(table(rows, ["length", "docs", "tokens", "questions made", "kept", "keep share", "missed (on their span)",
                       "blanks", "items", "s/doc"]))


if __name__ == "__main__":
    main()
