"""Answer quality against seconds per document, as the Doc-to-LoRA anchor measures it, in one run.

    python bench/bench_quality.py --docs 12 --refine-steps 2,5,10 --fresh-steps 5,10,30 \
        --sets short,mid,real,long

For each held-out set it prints one table: exact match and token-F1, each with its ratio to the
document in context, the gold answer's NLL and the seconds each document's adapter cost (model
loaded), for base, context, the one-pass adapter, adapter + refinement at each K, the same
refinement from a fresh LoRA (the gradient baseline from zero) at each K, and the oracle ceiling
(the adapter distilled on the eval questions themselves: what it can hold, never a product mode).
Sets: short (bench/data/eval_short48.jsonl, synthetic, one entity), mid (eval_mid32.jsonl, two or
three entities), real (eval_real.jsonl, text nobody here wrote), long (synthetic documents of
several 512-token chunks, with accuracy by chunk count). No set is trained or tuned on.
"""
from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from tables import table  # noqa: E402
from workers.heap import reuse_freed_memory  # noqa: E402

from hypernet import base_model  # noqa: E402
from hypernet.config import RefineConfig  # noqa: E402
from hypernet.evaluate import evaluate_docs, read_eval_file  # noqa: E402
from hypernet.model import HyperNetwork, checkpoint_id, default_checkpoint  # noqa: E402
from hypernet.synthetic import make_long_doc  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")
FILES = {"short": "eval_short48.jsonl", "mid": "eval_mid32.jsonl", "real": "eval_real.jsonl"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=12, help="documents per set (the first N of each file)")
    p.add_argument("--sets", default="short,mid,real,long", help="comma list of short, mid, real, long")
    p.add_argument("--refine-steps", default="2,5,10", help="K of adapter + refinement rows")
    p.add_argument("--fresh-steps", default="5,10,30", help="K of the gradient-baseline-from-zero rows (empty: none)")
    p.add_argument("--oracle-steps", type=int, default=20, help="steps of the oracle ceiling (0: no oracle row)")
    p.add_argument("--long-tokens", type=int, default=1800, help="approximate length of the long documents")
    p.add_argument("--long-questions", type=int, default=6,
                   help="questions asked of each long document, a fixed sample (0: all, about two per section)")
    p.add_argument("--hypernet", default="", help="checkpoint folder (default: the shipped one)")
    p.add_argument("--batch", type=int, default=6,
                   help="documents generated and refined together, as a model actor does (s/doc: a share of the batch's)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return p.parse_args()


def steps(text: str) -> tuple[int, ...]:
    return tuple(int(k) for k in text.split(",") if k.strip())


def long_docs(tok, n: int, tokens: int, questions: int = 6, seed: int = 20261203) -> list[dict]:
    """Eval-split documents of many sections, cut to about `tokens` tokens, `questions` each (0: all)."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        parts = max(2, tokens // 120)
        doc = make_long_doc(rng, parts, split="eval", doc_id=f"long-{len(out)}")
        # The sample of 6 is always drawn from the documents' stream, so every count reads the same documents.
        qa = rng.sample(doc.qa, min(6, len(doc.qa)))
        if questions != 6:
            qa = doc.qa if not questions else random.Random(len(out)).sample(doc.qa, min(questions, len(doc.qa)))
        out.append({"id": doc.id, "text": doc.text, "qa": [{"q": x.q, "a": x.a} for x in qa],
                    "n_tokens": len(tok(doc.text).input_ids)})
    return out


def rows_of(report: dict) -> list[list]:
    out = []
    for name, r in report.items():
        if not isinstance(r, dict) or "accuracy" not in r:
            continue
        ratio = r.get("ratio_to_context") or {}
        label = name + (" (ceiling)" if name == "oracle" else "")
        out.append([label, f"{r['accuracy']:.3f}", _fmt(ratio.get("accuracy")), f"{r['f1']:.3f}",
                    _fmt(ratio.get("f1")), f"{r['gold_nll']:.2f}",
                    f"{r['seconds_per_doc']:.2f}" if "seconds_per_doc" in r else "",
                    " ".join(f"{k}:{v:.2f}" for k, v in r.get("accuracy_by_chunks", {}).items())])
    return out


def _fmt(value) -> str:
    return "" if value is None else f"{value:.2f}"


def main() -> None:
    args = parse_args()
    reuse_freed_memory()  # as the model actors and training workers run (workers.heap)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tok, _ref = base_model.load(base_model.PACKAGED)
    path = args.hypernet or default_checkpoint()
    net = HyperNetwork.load(path)
    refine_k, fresh_k = steps(args.refine_steps), steps(args.fresh_steps)
    modes = ["base", "context", "adapter", "refine"] + (["fresh"] if fresh_k else []) + \
        (["oracle"] if args.oracle_steps else [])
    recipe = RefineConfig()
    print(f"hypernetwork {checkpoint_id(path)}, recipe {recipe.recipe()}, torch threads {torch.get_num_threads()}",
          flush=True)
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if name == "long":
            docs = long_docs(tok, args.docs, args.long_tokens, args.long_questions)
        else:
            docs = read_eval_file(os.path.join(DATA, FILES[name]))[:args.docs]
        # refine and fresh rows share one call when their step lists agree; else two calls.
        report = evaluate_docs(docs, [m for m in modes if m != "fresh"], model, tok, net, refine=recipe,
                               refine_steps=refine_k, oracle_steps=args.oracle_steps or 1, batch=args.batch,
                               progress=lambda m: print("  " + m, file=sys.stderr, flush=True))
        if fresh_k:
            fresh = evaluate_docs(docs, ["context", "fresh"], model, tok, net, refine=recipe, refine_steps=fresh_k,
                                  batch=args.batch, progress=lambda m: print("  " + m, file=sys.stderr, flush=True))
            report.update({k: v for k, v in fresh.items() if k.startswith("fresh@")})
        n_q = report["n_questions"]
        print(f"\n{name}: {len(docs)} documents, {n_q} questions", flush=True)
        print(table(rows_of(report), ["mode", "exact", "exact/ctx", "F1", "F1/ctx", "gold NLL", "s/doc",
                                      "exact by chunks"]), flush=True)


if __name__ == "__main__":
    main()
