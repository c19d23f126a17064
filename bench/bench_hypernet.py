"""Hypernetwork quality and speed, measured side by side in one run on held-out documents.

    python bench/bench_hypernet.py --docs 12 --finetune-steps 10,20,30 --chunks 1,2,4,8

Prints three tables:
1. base / context / adapter / finetune accuracy on short held-out synthetic documents (eval-only
   phrasing and document kinds), with seconds per document to make the adapter (one forward pass)
   versus to fine-tune one (gradient descent on the document's text and on fill-in-the-blank
   questions made from its own sentences, under the same autocast the adapter reads with, so both
   get the CPU's bf16 hardware), and their ratio;
2. adapter accuracy and gold-answer NLL against the number of chunks, for each chunk-combination rule;
3. generation time for one 512-token document (model loaded), reading it in the model's dtype
   and, where the CPU has native bf16, under the bfloat16 autocast (`read_dtype`).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from tables import table  # noqa: E402

from hypernet import base_model  # noqa: E402
from hypernet.activations import cpu_has_native_bf16, read_autocast  # noqa: E402
from hypernet.evaluate import FinetuneConfig, evaluate_docs  # noqa: E402
from hypernet.generate import AdapterGenerator  # noqa: E402
from hypernet.model import HyperNetwork, checkpoint_id, default_checkpoint  # noqa: E402
from hypernet.synthetic import make_doc, make_long_doc  # noqa: E402


def as_records(docs) -> list[dict]:
    return [d.record() for d in docs]


def short_docs(rng: random.Random, tok, n: int, lo: int, hi: int) -> list:
    """Held-out documents of lo..hi tokens: one entity, or two sections on two entities."""
    out = []
    while len(out) < n:
        doc = make_doc(rng, "eval", n_questions=3) if rng.random() < 0.5 else make_long_doc(rng, 2)
        if lo <= len(tok(doc.text).input_ids) <= hi:
            out.append(doc)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hypernet", default=default_checkpoint(), help="checkpoint folder (default: the shipped one)")
    p.add_argument("--base-model", default=base_model.PACKAGED)
    p.add_argument("--docs", type=int, default=12, help="short held-out documents")
    p.add_argument("--min-tokens", type=int, default=100, help="shortest 'short' document, in tokens")
    p.add_argument("--max-tokens", type=int, default=400, help="longest 'short' document, in tokens")
    p.add_argument("--finetune-steps", default="10,20,30", help="comma list of gradient-baseline step counts")
    p.add_argument("--finetune-self-questions", default=str(FinetuneConfig.self_questions),
                   help="comma list of self-made blanks per document for the baseline (0: the text alone)")
    p.add_argument("--chunks", default="1,2,4,8", help="comma list of chunk counts (0: skip)")
    p.add_argument("--chunk-len", type=int, default=96, help="chunk length for the chunk table (small keeps CPU time sane)")
    p.add_argument("--long-docs", type=int, default=3, help="documents per chunk count")
    p.add_argument("--rules", default="sum,mean,sqrt", help="comma list of chunk-combination rules for the chunk table")
    p.add_argument("--skip-short", action="store_true",
                   help="skip the short-document table (its documents are still drawn, so the later ones are the same)")
    p.add_argument("--timing-reps", type=int, default=5, help="timed runs per reading precision for the 512-token document")
    p.add_argument("--seed", type=int, default=12345)
    args = p.parse_args()

    model, tok, ref = base_model.load(args.base_model)
    net = HyperNetwork.load(args.hypernet)
    rng = random.Random(args.seed)
    short = as_records(short_docs(rng, tok, args.docs, args.min_tokens, args.max_tokens))
    lengths = [len(tok(d["text"]).input_ids) for d in short]
    print(f"hypernet {checkpoint_id(args.hypernet)}  base {ref.model_id}@{ref.revision}  threads {torch.get_num_threads()}  "
          f"reading autocast {read_autocast(model, 'auto')}")

    if not args.skip_short:
        short_table(args, short, lengths, model, tok, net)

    counts = [int(c) for c in args.chunks.split(",") if c and int(c) > 0]
    if counts:
        chunk_table(args, counts, rng, model, tok, net)

    timing_table(args, rng, model, tok)


def short_table(args, short: list[dict], lengths: list[int], model, tok, net) -> None:
    """base / context / adapter / finetune on the short documents, with the time to make each adapter."""
    rows = []
    report = evaluate_docs(short, ["base", "context", "adapter"], model, tok, net)
    gen_s = report["adapter"]["generate_seconds_per_doc"]
    for mode in ("base", "context", "adapter"):
        rows.append([mode, f"{report[mode]['accuracy']:.2f}", f"{report[mode]['gold_nll']:.2f}", "",
                     f"{gen_s:.3f}" if mode == "adapter" else "", ""])
    for blanks in [int(s) for s in args.finetune_self_questions.split(",") if s]:
        for steps in [int(s) for s in args.finetune_steps.split(",") if s]:
            print(f"fine-tuning the gradient baseline, {steps} steps, {blanks} blanks per document ...",
                  file=sys.stderr, flush=True)
            ft = evaluate_docs(short, ["finetune"], model, tok, net,
                               finetune=FinetuneConfig(steps=steps, self_questions=blanks))
            secs = ft["finetune"]["train_seconds_per_doc"]
            cast = f", {ft['finetune']['autocast']}" if ft["finetune"]["autocast"] else ""
            per_step = f" {ft['finetune']['questions_per_step']}/step" if blanks else ""
            rows.append([f"finetune@{steps} ({blanks} blanks{per_step}{cast})", f"{ft['finetune']['accuracy']:.2f}",
                         f"{ft['finetune']['gold_nll']:.2f}", steps, f"{secs:.2f}", f"{secs / gen_s:.0f}x"])
    ctx = report["context"]["accuracy"]
    print(f"\nShort documents: {report['n_docs']} docs of {min(lengths)}-{max(lengths)} tokens, {report['n_questions']} questions "
          f"(adapter/context = {report['adapter']['accuracy'] / ctx if ctx else float('nan'):.2f})")
    print(table(rows, ["mode", "accuracy", "gold NLL/token", "steps", "seconds/doc to make", "vs adapter"]))


def chunk_table(args, counts: list[int], rng: random.Random, model, tok, net) -> None:
    """Adapter accuracy and gold NLL by number of sections (so chunks) for each combination rule;
    the document in context beside them, as the ceiling at each length."""
    long_docs = {n: as_records(make_long_doc(rng, n) for _ in range(args.long_docs)) for n in counts}
    print("chunk table: context ...", file=sys.stderr, flush=True)
    row = ["context (no adapter)"]
    for n in counts:
        r = evaluate_docs(long_docs[n], ["context"], model, tok, net)
        row.append(f"{r['context']['accuracy']:.2f} / {r['context']['gold_nll']:.2f}")
    rows = [row]
    for rule in args.rules.split(","):
        print(f"chunk table: rule {rule} ...", file=sys.stderr, flush=True)
        net.cfg.chunk_combine, net.cfg.chunk_len = rule, args.chunk_len
        row = [f"adapter, {rule}"]
        for n in counts:
            r = evaluate_docs(long_docs[n], ["adapter"], model, tok, net)
            row.append(f"{r['adapter']['accuracy']:.2f} / {r['adapter']['gold_nll']:.2f} "
                       f"({','.join(r['adapter']['accuracy_by_chunks'])} ch)")
        rows.append(row)
    n_questions = ", ".join(f"{n}: {sum(len(d['qa']) for d in long_docs[n])}" for n in counts)
    tokens = ", ".join(f"{n}: {min(ls)}-{max(ls)}" for n in counts
                       for ls in [[len(tok(d["text"]).input_ids) for d in long_docs[n]]])
    print(f"\nAccuracy / gold NLL per token by number of sections (chunk_len {args.chunk_len} tokens; "
          f"{args.long_docs} documents each; questions by sections {n_questions}; tokens {tokens}):")
    print(table(rows, ["mode"] + [f"{n} sections" for n in counts]))


def timing_table(args, rng: random.Random, model, tok) -> None:
    """One 512-token document, each reading precision, model loaded."""
    # The 512-token timing, each reading precision side by side, alternating so drift hits both alike.
    reads = ["model"] + (["bfloat16"] if read_autocast(model, "bfloat16") is not None else [])
    gens = {r: AdapterGenerator(model, tok, HyperNetwork.load(args.hypernet), read_dtype=r) for r in reads}
    words = " ".join(make_doc(rng, "eval").text for _ in range(12))
    text = tok.decode(gens["model"].tokenize(words)[:512])
    n_tokens = len(gens["model"].tokenize(text))
    times: dict[str, list[float]] = {r: [] for r in reads}
    for rep in range(args.timing_reps + 1):
        for r, gen in gens.items():
            t = time.perf_counter()
            gen.generate([text])
            if rep:  # the first round warms up
                times[r].append(time.perf_counter() - t)
    model_dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    rows = [[f"model ({model_dtype})" if r == "model" else r, f"{min(ts):.3f}", f"{sorted(ts)[len(ts) // 2]:.3f}",
             f"{min(times['model']) / min(ts):.2f}x"] for r, ts in times.items()]
    auto = read_autocast(model, "auto")
    print(f"\nOne {n_tokens}-token document, model loaded ({args.timing_reps} runs each; "
          f"native bf16 on this CPU: {cpu_has_native_bf16()}; 'auto' reads in "
          f"{str(auto).removeprefix('torch.') if auto else model_dtype}):")
    print(table(rows, ["read dtype", "best s", "median s", "speed-up"]))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.stdout.reconfigure(line_buffering=True)  # each table as it is done, also into a file or pipe
    with tempfile.TemporaryDirectory():
        main()
