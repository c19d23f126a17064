"""How much of an adapter is about its own document: the gold answers of each document asked with its own
adapter, with the adapter of another document of the same kind, and with none.

    python bench/bench_swap.py --data bench/corpora/real520.jsonl --held-out 0.1 --limit 24 \
        --hypernets shipped,STORE/training/RUN/step-N

An adapter that has learned only the corpus's shape (answers that look like codes, offsets, option names)
lowers the gold NLL as much with a neighbour's adapter as with its own; what it carries of its own document
is the gap between the two. Each document's neighbour is the next document of the file with the same
`kind` (the file order, wrapping round; documents alone of their kind are left out), so both adapters
answer questions about the same kind of record. Prints, per hypernetwork, exact match (`hypernet.prompts
.is_correct` on greedy answers) and mean gold NLL per answer token for: no adapter, the neighbour's
adapter, the own adapter.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tables import table  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-model", default="packaged:gemma-3-270m")
    p.add_argument("--hypernets", default="shipped",
                   help="comma-separated checkpoint folders to compare ('shipped': the packaged one)")
    p.add_argument("--data", required=True, help='eval file: {"id", "text", "qa", "kind"} per line')
    p.add_argument("--held-out", type=float, default=0.0,
                   help="keep only the documents a corpus training run holds out at this share "
                        "(pipelines.meta_train.corpus.held_out, the split of `docpatch train --corpus`; 0: all)")
    p.add_argument("--limit", type=int, default=24, help="first N documents (after --held-out)")
    p.add_argument("--no-answers", action="store_true", help="gold NLL only (no greedy answers: about 3x faster)")
    return p.parse_args()


def neighbours(docs: list[dict]) -> dict[int, int]:
    """Each document's index -> the index of the next document of the same kind (wrapping round)."""
    by_kind: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        by_kind.setdefault(d.get("kind", ""), []).append(i)
    return {group[j]: group[(j + 1) % len(group)] for group in by_kind.values() if len(group) > 1
            for j in range(len(group))}


def main() -> int:
    args = parse_args()
    import torch

    from hypernet import base_model
    from hypernet.config import default_checkpoint
    from hypernet.evaluate import read_eval_file
    from hypernet.generate import AdapterGenerator, answer, answer_nll
    from hypernet.model import HyperNetwork
    from hypernet.prompts import is_correct
    from pipelines.meta_train.corpus import held_out

    torch.manual_seed(0)
    docs = [d for d in read_eval_file(args.data) if not args.held_out or held_out(d["id"], args.held_out)]
    docs = docs[:args.limit]
    pairs = neighbours(docs)
    if not pairs:
        sys.exit("no two documents of the file share a kind: nothing to swap")
    model, tok, _ref = base_model.load(args.base_model)
    n_questions = sum(len(docs[i]["qa"]) for i in pairs)
    print(f"{len(pairs)} documents of {len(docs)} with a neighbour of their kind, {n_questions} questions")
    rows = []
    for spec in args.hypernets.split(","):
        started = time.perf_counter()
        folder = default_checkpoint() if spec == "shipped" else spec
        gen = AdapterGenerator(model, tok, HyperNetwork.load(folder))
        loras = [a.lora for a in gen.generate([d["text"] for d in docs])]
        scores = {mode: [0.0, 0.0] for mode in ("none", "neighbour", "own")}
        for i, other in pairs.items():
            for qa in docs[i]["qa"]:
                for mode, lora in (("none", None), ("neighbour", loras[other]), ("own", loras[i])):
                    if not args.no_answers:
                        scores[mode][0] += is_correct(answer(model, tok, qa["q"], lora=lora), qa["a"])
                    scores[mode][1] += answer_nll(model, tok, qa["q"], qa["a"], lora=lora)
        label = "shipped" if spec == "shipped" else os.path.basename(os.path.normpath(spec))
        cells = [f"{'-' if args.no_answers else f'{e / n_questions:.3f}'} / {nll / n_questions:.2f}"
                 for e, nll in scores.values()]
        rows.append([label, *cells, f"{time.perf_counter() - started:.0f}"])
        print(f"  {label}: done", flush=True)
    print(table(rows, ["hypernetwork", "no adapter: exact / NLL", "neighbour's adapter", "own adapter", "s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
