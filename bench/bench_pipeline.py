"""How close does the Ray pipeline come to the base model's bare prefill throughput?

Measured in one run, on the same generated documents (N documents of --min-tokens..--max-tokens
tokens each), with the real base model and hypernetwork:

  bare prefill    the base model's activation pass alone (hypernet.activations.layer_inputs: what
                  every adapter needs and nothing else), in this process, chunks packed exactly as
                  the pipeline packs them; with 1 thread and with all cores, before and after the
                  pipeline runs: the fastest of these is the limit (on a busy machine fewer
                  threads can be faster).
  in-process      AdapterGenerator + PEFT serialisation in this process, no Ray: where the time
                  goes besides the base model (hypernetwork, combining, serialising).
  pipeline xK     workers.pipeline.generate_adapters with K model actors (torch threads split).
                  steady: tokens / (last result - first actor ready); end-to-end: tokens / whole
                  call, including actor start-up and model loading.

Run:  python bench/bench_pipeline.py --docs 48
"""
from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass

import pyarrow as pa
import torch

from hypernet import base_model
from hypernet.activations import layer_inputs
from hypernet.generate import AdapterGenerator, encode_batch
from hypernet.lora import to_peft_files
from hypernet.model import HyperNetwork, default_checkpoint
from workers import ray_runtime
from workers.config import WorkerConfig
from workers.pipeline import AdapterResult, generate_adapters

_WORDS = ("the of and a in to is was for on as with by he at from his an were are which this be or "
          "city river company museum harbour engineer founded built north south winter council bridge "
          "railway library market record station island painter valley treaty merchant festival").split()


@dataclass
class Row:
    name: str
    tokens: int
    seconds: float
    docs: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds


def make_docs(tokenizer, n: int, lo: int, hi: int, seed: int) -> list[dict]:
    """Word salad cut to a token count drawn from [lo, hi] (decode/re-encode may move it by a few)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = " ".join(rng.choice(_WORDS) for _ in range(hi * 2))
        # 8 tokens of room for the "Document i." prefix: every document stays one chunk of <= hi tokens.
        ids = tokenizer(words, add_special_tokens=False).input_ids[: rng.randint(lo, hi) - 8]
        text = f"Document {i}. " + tokenizer.decode(ids)
        docs.append({"doc_id": f"bench-{i:05d}", "sha256": f"{i:064x}", "text": text})
    return docs


def packed_batches(chunks: list[list[int]], max_batch_tokens: int) -> list[list[list[int]]]:
    """The same packing as AdapterGenerator.chunk_loras: sorted by length, padded width x rows <= budget."""
    batches, batch = [], []
    for c in sorted(chunks, key=len):
        if batch and (len(c) + 1) * (len(batch) + 1) > max_batch_tokens:
            batches.append(batch)
            batch = []
        batch.append(c)
    return batches + ([batch] if batch else [])


def bare_prefill(model, tokenizer, batches: list[list[list[int]]], threads: int) -> float:
    """Seconds for the activation pass over every batch (after a one-batch warm-up)."""
    torch.set_num_threads(threads)
    device = next(model.parameters()).device
    with torch.inference_mode():
        ids, mask, _ = encode_batch(batches[0][:1], tokenizer, device)
        layer_inputs(model, ids, mask)
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            ids, mask, _ = encode_batch(batch, tokenizer, device)
            layer_inputs(model, ids, mask)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def in_process(gen: AdapterGenerator, docs_chunks: list[list[list[int]]], base_id: str) -> dict[str, float]:
    """Seconds per part of the in-process path (activations+hypernet, combine, serialise)."""
    t0 = time.perf_counter()
    flat = [c for chunks in docs_chunks for c in chunks]
    loras = gen.chunk_loras(flat)
    t1 = time.perf_counter()
    combined, k = [], 0
    for chunks in docs_chunks:
        combined.append(gen.combine(loras[k:k + len(chunks)]))
        k += len(chunks)
    t2 = time.perf_counter()
    for lora in combined:
        to_peft_files(lora, base_id)
    t3 = time.perf_counter()
    return {"model": t1 - t0, "combine": t2 - t1, "serialise": t3 - t2, "total": t3 - t0}


def run_pipeline(table: pa.Table, cfg: WorkerConfig, n_tokens: int) -> tuple[Row, Row]:
    arrivals: list[float] = []

    def on_result(r: AdapterResult) -> None:
        if not r.ok:
            raise RuntimeError(f"{r.doc_id} failed: {r.error}")
        arrivals.append(time.time())

    summary = generate_adapters(table, cfg, on_result, progress=False)
    assert summary.patched == table.num_rows, summary.errors
    ready = min(json.load(open(f))["ready_at"] for f in glob.glob(os.path.join(cfg.actor_report_dir, "*.json")))
    k = cfg.num_actors
    steady = Row(f"pipeline x{k} (steady)", n_tokens, max(arrivals) - ready, table.num_rows)
    whole = Row(f"pipeline x{k} (end-to-end)", n_tokens, summary.seconds, table.num_rows)
    return steady, whole


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=48, help="number of generated documents")
    ap.add_argument("--min-tokens", type=int, default=400, help="shortest document, in tokens")
    ap.add_argument("--max-tokens", type=int, default=512, help="longest document, in tokens")
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2], help="model-actor counts to run the pipeline with")
    ap.add_argument("--batch-docs", type=int, default=16, help="documents per actor batch")
    ap.add_argument("--max-batch-tokens", type=int, default=4096, help="tokens per base-model forward")
    ap.add_argument("--base-model", default=base_model.PACKAGED, help="base model spec")
    ap.add_argument("--hypernet", default="", help="hypernetwork checkpoint ('' = the shipped one)")
    ap.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per model actor (bare prefill then runs on cuda)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args(argv)

    cores = os.cpu_count() or 1
    device = "cuda" if args.gpus_per_actor > 0 else "cpu"
    model, tokenizer, ref = base_model.load(args.base_model, device=device)
    net = HyperNetwork.load(args.hypernet or default_checkpoint())
    gen = AdapterGenerator(model, tokenizer, net, max_batch_tokens=args.max_batch_tokens)
    docs = make_docs(tokenizer, args.docs, args.min_tokens, args.max_tokens, args.seed)
    docs_chunks = [gen.chunk(gen.tokenize(d["text"])) for d in docs]
    n_tokens = sum(len(c) for chunks in docs_chunks for c in chunks)
    batches = packed_batches([c for chunks in docs_chunks for c in chunks], args.max_batch_tokens)
    print(f"{len(docs)} docs, {n_tokens} tokens, {sum(map(len, batches))} chunks in {len(batches)} packed batches, "
          f"{cores} cores, device {device}", file=sys.stderr)

    thread_counts = sorted({1, cores})
    bare_rows = [Row(f"bare prefill, {t} thr, before", n_tokens, bare_prefill(model, tokenizer, batches, t), len(docs))
                 for t in thread_counts]
    best_threads = thread_counts[min(range(len(bare_rows)), key=lambda i: bare_rows[i].seconds)]
    torch.set_num_threads(best_threads)
    parts = in_process(gen, docs_chunks, ref.model_id)
    print(f"measured: {bare_rows}, in-process ({best_threads} thr) {parts}", file=sys.stderr)
    del gen, model, net
    gc.collect()

    cfg_base = WorkerConfig(base_model=args.base_model, hypernet_path=args.hypernet, batch_docs=args.batch_docs,
                            max_batch_tokens=args.max_batch_tokens, num_gpus_per_actor=args.gpus_per_actor)
    table = pa.Table.from_pylist(docs)
    rows: list[Row] = []
    with ray_runtime.session(cfg_base):  # Ray's own start-up is not the pipeline's throughput
        for k in args.actors:
            with tempfile.TemporaryDirectory(prefix="bench-actors-") as actors_dir:
                cfg = WorkerConfig(**{**cfg_base.to_dict(), "num_actors": k, "torch_threads": max(1, cores // k),
                                      "actor_report_dir": actors_dir})
                rows.extend(run_pipeline(table, cfg, n_tokens))
                print(f"measured: {rows[-2]} {rows[-1]}", file=sys.stderr)

    model, tokenizer, _ = base_model.load(args.base_model, device=device)
    bare_rows += [Row(f"bare prefill, {t} thr, after", n_tokens, bare_prefill(model, tokenizer, batches, t), len(docs))
                  for t in thread_counts]
    bare = Row("bare prefill (limit: fastest)", n_tokens, min(r.seconds for r in bare_rows), len(docs))
    rows = [bare, *bare_rows, Row(f"in-process, no Ray, {best_threads} thr", n_tokens, parts["total"], len(docs))] + rows
    report(rows, bare, parts, args.json)


def report(rows: list[Row], bare: Row, parts: dict[str, float], as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"name": r.name, "tokens_per_second": r.tokens_per_second, "docs_per_second": r.docs_per_second,
                           "ratio": r.tokens_per_second / bare.tokens_per_second, "seconds": r.seconds} for r in rows]
                         + [{"in_process_parts_seconds": parts}], indent=2))
        return
    print(f"{'path':<30}{'tokens/s':>10}{'docs/s':>9}{'seconds':>9}{'ratio':>8}")
    for r in rows:
        print(f"{r.name:<30}{r.tokens_per_second:>10.0f}{r.docs_per_second:>9.2f}{r.seconds:>9.1f}"
              f"{r.tokens_per_second / bare.tokens_per_second:>8.2f}")
    share = ", ".join(f"{k} {v / parts['total']:.0%}" for k, v in parts.items() if k != "total")
    print(f"in-process time split: {share} (model = activations + hypernetwork; "
          f"hypernetwork ~ {max(0.0, parts['model'] - bare.seconds):.1f} s of {parts['model']:.1f} s)")


if __name__ == "__main__":
    main()
