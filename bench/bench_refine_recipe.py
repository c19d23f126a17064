"""Refinement recipes side by side on training-split synthetic documents (never the eval files).

    python bench/bench_refine_recipe.py --docs 12 --batch 6 --steps 5,10 \
        --recipe "" --recipe "frozen_share=0.5" --recipe "frozen_share=0.5 text_tokens=128"

Each --recipe is a space-separated list of `hypernet.config.RefineConfig` overrides ("" is the
defaults). For every recipe the same documents are generated, refined in batches of --batch (as a
model actor refines its batch) and asked their questions after each step count in --steps; the
table shows exact-match accuracy, the gold answers' mean NLL and seconds per document (generation, teacher pass and steps,
model loaded). This is where the recipe's defaults are chosen: the documents come from the
training split of `hypernet.synthetic`, or with --file from the training split of a corpus file
(`bench/corpora/real520.jsonl`), so the held-out sets of bench_quality stay unseen.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from recipes import recipe  # noqa: E402
from tables import table  # noqa: E402
from workers.heap import reuse_freed_memory  # noqa: E402

from hypernet import base_model  # noqa: E402
from hypernet.activations import read_autocast  # noqa: E402
from hypernet.config import RefineConfig  # noqa: E402
from hypernet.generate import AdapterGenerator, answer, answer_nll  # noqa: E402
from hypernet.model import HyperNetwork, default_checkpoint  # noqa: E402
from hypernet.prompts import is_correct  # noqa: E402
from hypernet.refine import fresh_lora, prepare, refine  # noqa: E402
from hypernet.evaluate import read_eval_file  # noqa: E402
from hypernet.synthetic import QA, NamesRandom, SyntheticDoc, make_doc, make_long_doc  # noqa: E402
from pipelines.meta_train.corpus import held_out  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=12, help="training-split documents (seeds 7000, 7001, ...)")
    p.add_argument("--batch", type=int, default=6, help="documents refined together")
    p.add_argument("--steps", default="5,10", help="step counts to answer at")
    p.add_argument("--recipe", action="append", default=None, help="RefineConfig overrides, e.g. 'lr=0.004 blanks=4'")
    p.add_argument("--sections", type=int, default=1,
                   help="entities per document: 1 is a short article; 2-3 give documents of 200-400 tokens, "
                        "two questions per entity")
    p.add_argument("--questions", type=int, default=0,
                   help="questions asked per document, a fixed sample (0: all; a 15-section document has 30)")
    p.add_argument("--start", choices=("generated", "fresh"), default="generated",
                   help="refine the hypernetwork's adapter, or a fresh LoRA of the hypernetwork's rank (the gradient baseline)")
    p.add_argument("--fresh-rank", type=int, default=0, help="rank of the fresh LoRA (0: the hypernetwork's per-chunk rank)")
    p.add_argument("--file", default="",
                   help="documents from a corpus JSONL with questions ({id, text, qa}) instead of synthetic ones: "
                        "--docs (a fixed sample) of those that `docpatch train --corpus` trains on (pipelines.meta_train.corpus.held_out at --holdout)")
    p.add_argument("--holdout", type=float, default=0.1, help="held-out share of --file's hash split, never read here")
    p.add_argument("--context", action="store_true", help="also answer with the document in the prompt (a context row)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    return p.parse_args()


def measure(model, tok, gen: AdapterGenerator, docs: list, cfg: RefineConfig, batch: int, snaps: tuple,
            fresh_rank: int = 0) -> dict:
    """Exact-match share and seconds per document at each snapshot step count."""
    autocast = read_autocast(model, "auto")
    right, seconds, nll = dict.fromkeys(snaps, 0), dict.fromkeys(snaps, 0.0), dict.fromkeys(snaps, 0.0)
    for b in range(0, len(docs), batch):
        part = docs[b:b + batch]
        start = time.perf_counter()
        if fresh_rank:
            targets = {t.name: (t.d_in, t.d_out) for t in gen.cfg.targets}
            loras = [fresh_lora(model.config.num_hidden_layers, targets, fresh_rank) for _ in part]
        else:
            loras = [g.lora for g in gen.generate([d.text for d in part])]
        prepared = prepare(model, tok, [d.text for d in part], cfg, autocast=autocast)
        before = time.perf_counter() - start
        _, taken = refine(model, tok, loras, prepared, cfg, bias_rank=0 if fresh_rank else gen.cfg.bias_rank, autocast=autocast,
                          snapshots=snaps)
        for k in snaps:
            refined, spent = taken[k]
            seconds[k] += before + spent
            right[k] += sum(is_correct(answer(model, tok, qa.q, lora=lora), qa.a)
                            for d, lora in zip(part, refined) for qa in d.qa)
            nll[k] += sum(answer_nll(model, tok, qa.q, qa.a, lora=lora) for d, lora in zip(part, refined) for qa in d.qa)
    n_q = sum(len(d.qa) for d in docs)
    return {k: (right[k] / n_q, nll[k] / n_q, seconds[k] / len(docs)) for k in snaps}


def corpus_docs(path: str, n: int, holdout: float) -> list[SyntheticDoc]:
    """`n` records of a corpus file that its per-corpus training split trains on, a fixed sample across its kinds."""
    train = [r for r in read_eval_file(path) if not held_out(r["id"], holdout)]
    random.Random(0).shuffle(train)
    return [SyntheticDoc(r["id"], r.get("kind", ""), r["text"], [QA(qa["q"], qa["a"]) for qa in r["qa"]]) for r in train[:n]]


def main() -> None:
    args = parse_args()
    reuse_freed_memory()  # as the model actors and training workers run (workers.heap)
    torch.set_num_threads(args.threads)
    snaps = tuple(sorted({0, *(int(k) for k in args.steps.split(","))}))
    model, tok, _ = base_model.load(base_model.PACKAGED)
    gen = AdapterGenerator(model, tok, HyperNetwork.load(default_checkpoint()))
    docs = corpus_docs(args.file, args.docs, args.holdout) if args.file else \
        [make_doc(NamesRandom(7_000 + i), "train", n_questions=4) if args.sections == 1
         else make_long_doc(NamesRandom(7_000 + i), args.sections, "train") for i in range(args.docs)]
    if args.questions:
        docs = [dataclasses.replace(d, qa=random.Random(i).sample(d.qa, min(args.questions, len(d.qa))))
                for i, d in enumerate(docs)]
    rows = []
    if args.context:
        right = sum(is_correct(answer(model, tok, qa.q, document=d.text), qa.a) for d in docs for qa in d.qa)
        rows.append(["(context, no adapter)", *(f"{right / sum(len(d.qa) for d in docs):.3f}" for _ in snaps)])
    for text in args.recipe or [""]:
        result = measure(model, tok, gen, docs, recipe(text, max(snaps)), args.batch, snaps,
                         (args.fresh_rank or gen.cfg.rank) if args.start == "fresh" else 0)
        rows.append([text or "(defaults)", *(f"{acc:.3f} / {nll:.2f} / {sec:.1f}" for acc, nll, sec in result.values())])
        print(table(rows, ["recipe", *(f"K={k}: exact / gold NLL / s per doc" for k in snaps)]), flush=True)


if __name__ == "__main__":
    main()
