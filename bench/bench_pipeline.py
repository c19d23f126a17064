"""How close does the Ray pipeline come to the base model's bare prefill throughput?

Measured in one run, on the same generated documents (N documents of --min-tokens..--max-tokens
tokens each), with the real base model and the shipped hypernetwork:

  bare prefill    the base model's activation pass alone (hypernet.activations.layer_inputs: what
                  every adapter needs and nothing else), in this process, chunks packed exactly as
                  the pipeline packs them; with 1 thread and with all cores, before and after the
                  pipeline runs. The fastest is the limit (on a busy machine 1 thread can win).
  in-process      AdapterGenerator + PEFT serialisation in this process, no Ray: what the
                  hypernetwork, combining and serialising add to the base model.
  pipeline xK     workers.pipeline.generate_adapters with K model actors (torch threads split;
                  with --gpus G each actor asks Ray for G/K GPUs, so two actors share one GPU).
                  steady: tokens / (last result - first actor ready); end-to-end: tokens / the
                  whole call, including actor start-up and model loading.

Two ratios against the bare prefill:
  wall   tokens per wall-clock second. Exact on an idle machine; on a shared one it measures the
         neighbours' load as much as the code.
  cpu    tokens per CPU-second, summed over every process of the run (driver, Ray's own
         processes, the chunking and model actors). Robust to other people's load; "steady"
         leaves out the actors' start-up CPU (imports, loading models and tokenizers).

On CUDA (--gpus > 0) the table adds each path's share of the GPU's bf16 matrix rate, measured in
the same run (an 8192^3 bf16 matmul): FLOPs per token = 2 x the non-embedding parameters the
activation pass uses + the causal attention products (see prefill_flops_per_token).

Run:  nice -n 10 python bench/bench_pipeline.py --docs 32
      python bench/bench_pipeline.py --docs 2000 --gpus 1        (a GPU machine)
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
import threading
import time
from dataclasses import dataclass

import psutil
import pyarrow as pa
import torch

from hypernet import base_model
from hypernet.activations import READ_DTYPES, layer_inputs, read_autocast
from hypernet.generate import AdapterGenerator, encode_batch
from hypernet.peft_format import to_peft_files
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
    seconds: float  # wall clock
    docs: int
    cpu_seconds: float | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def tokens_per_cpu_second(self) -> float | None:
        return self.tokens / self.cpu_seconds if self.cpu_seconds else None


class CpuMeter:
    """CPU seconds used by this process and all its descendants (Ray's processes and actors) in a block.

    Samples every `interval` s and keeps each process's last reading, so a process that exits
    loses at most one interval of CPU time.
    """

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.me = psutil.Process()
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.stop = threading.Event()

    def _sample(self) -> dict[int, float]:
        out = {}
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
                if proc.pid not in self.names:
                    self.names[proc.pid] = " ".join(proc.cmdline())[:60] or proc.name()
            except psutil.Error:
                pass
        return out

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            self.last.update(self._sample())

    def __enter__(self) -> "CpuMeter":
        self.start = self._sample()
        self.last = dict(self.start)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.last.update(self._sample())

    def top(self, n: int = 8) -> str:
        """The processes that used the most CPU: where the time went."""
        used = sorted(((self.used(p), p) for p in self.last), reverse=True)[:n]
        return "; ".join(f"{self.names.get(p, p)}: {s:.1f}" for s, p in used)

    def used(self, pid: int | None = None) -> float:
        pids = [pid] if pid is not None else list(self.last)
        return sum(self.last.get(p, 0.0) - self.start.get(p, 0.0) for p in pids)


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


def bare_prefill(name: str, model, tokenizer, batches: list[list[list[int]]], threads: int, n_docs: int,
                 read_dtype: str) -> Row:
    """The activation pass over every batch (after a one-chunk warm-up), in the pipeline's read precision."""
    torch.set_num_threads(threads)
    device = next(model.parameters()).device
    autocast = read_autocast(model, read_dtype)
    with torch.inference_mode():
        ids, mask, _ = encode_batch(batches[0][:1], tokenizer, device)
        layer_inputs(model, ids, mask, autocast)
        cpu, start = time.process_time(), time.perf_counter()
        for batch in batches:
            ids, mask, _ = encode_batch(batch, tokenizer, device)
            layer_inputs(model, ids, mask, autocast)
    if device.type == "cuda":
        torch.cuda.synchronize()
    tokens = sum(len(c) for b in batches for c in b)
    return Row(f"{name}, {threads} thr", tokens, time.perf_counter() - start, n_docs, time.process_time() - cpu)


def prefill_flops_per_token(model, mean_tokens: float) -> float:
    """Matrix FLOPs per token of the activation pass: 2 x weights applied (embeddings and LM head are
    lookups or unused here) + QK^T and AV over a causal context of mean_tokens / 2 on average."""
    cfg = getattr(model.config, "text_config", model.config)
    weights = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    attn_width = cfg.num_attention_heads * getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads)
    return 2 * weights + 2 * 2 * cfg.num_hidden_layers * attn_width * mean_tokens / 2


def bf16_matmul_flops() -> float:
    """The GPU's dense bf16 rate as this run sees it: mean of 10 timed 8192^3 products after 3 warm-ups."""
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    return 10 * 2 * 8192**3 / (time.perf_counter() - start)


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

    called = time.time()
    with CpuMeter() as cpu:
        summary = generate_adapters(table, cfg, on_result, progress=False)
    assert summary.patched == table.num_rows, summary.errors
    log(f"CPU seconds by process (x{cfg.num_actors}): {cpu.top()}")
    actors = [json.load(open(f)) for f in glob.glob(os.path.join(cfg.actor_report_dir, "*.json"))]
    for a in sorted(actors, key=lambda a: a["process_started_at"]):  # where the start-up goes
        log(f"x{cfg.num_actors} {a['stage']} actor: process started {a['process_started_at'] - called:.1f} s "
            f"into the call, ready {a['ready_at'] - called:.1f} s, {a['cpu_seconds_at_ready']:.1f} CPU-s to get there; "
            f"device {a['device']}, Ray GPU ids {a['gpu_ids']}, CUDA_VISIBLE_DEVICES={a['cuda_visible_devices']}")
    ready = min(a["ready_at"] for a in actors if a["stage"] == "adapter")
    startup_cpu = sum(a["cpu_seconds_at_ready"] for a in actors)
    k, n = cfg.num_actors, table.num_rows
    steady = Row(f"pipeline x{k} (steady)", n_tokens, max(arrivals) - ready, n, cpu.used() - startup_cpu)
    whole = Row(f"pipeline x{k} (end-to-end)", n_tokens, summary.seconds, n, cpu.used())
    return steady, whole


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=32, help="number of generated documents")
    ap.add_argument("--min-tokens", type=int, default=400, help="shortest document, in tokens")
    ap.add_argument("--max-tokens", type=int, default=512, help="longest document, in tokens")
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2], help="model-actor counts to run the pipeline with")
    ap.add_argument("--batch-docs", type=int, default=8,
                    help="documents per actor batch (8 x 512 tokens fill one 4096-token forward, and a small "
                         "run still has a batch for every actor)")
    ap.add_argument("--max-batch-tokens", type=int, default=4096, help="tokens per base-model forward")
    ap.add_argument("--base-model", default=base_model.PACKAGED, help="base model spec")
    ap.add_argument("--hypernet", default="", help="hypernetwork checkpoint ('' = the shipped one)")
    ap.add_argument("--gpus", type=float, default=0.0,
                    help="GPUs the pipeline uses, split evenly over its K actors (G/K each); > 0 runs the bare "
                         "prefill and the in-process path on cuda too")
    ap.add_argument("--prefill-threads", type=int, nargs="+", default=None,
                    help="torch threads to time the bare prefill with (default: 1 and all cores on CPU; on an "
                         "idle machine all cores is the limit, and leaving 1 out saves a pass on long runs)")
    ap.add_argument("--read-dtype", default="auto", choices=READ_DTYPES,
                    help="precision of the reading pass, for every path alike (WorkerConfig.read_dtype)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cores = os.cpu_count() or 1
    device = "cuda" if args.gpus > 0 else "cpu"
    model, tokenizer, ref = base_model.load(args.base_model, device=device)
    net = HyperNetwork.load(args.hypernet or default_checkpoint())
    gen = AdapterGenerator(model, tokenizer, net, max_batch_tokens=args.max_batch_tokens, read_dtype=args.read_dtype)
    docs = make_docs(tokenizer, args.docs, args.min_tokens, args.max_tokens, args.seed)
    docs_chunks = [gen.chunk(gen.tokenize(d["text"])) for d in docs]
    n_tokens = sum(len(c) for chunks in docs_chunks for c in chunks)
    flat_chunks = [c for chunks in docs_chunks for c in chunks]
    batches = packed_batches(flat_chunks, args.max_batch_tokens)
    log(f"{len(docs)} docs, {n_tokens} tokens, {sum(map(len, batches))} chunks in {len(batches)} packed batches, "
        f"{cores} cores, device {device}, reading autocast {read_autocast(model, args.read_dtype)}")

    threads = sorted(set(args.prefill_threads or ([1, cores] if device == "cpu" else [cores])))  # on CUDA threads only feed the GPU
    bare = [bare_prefill("bare prefill, before", model, tokenizer, batches, t, len(docs), args.read_dtype) for t in threads]
    best = min(bare, key=lambda r: r.seconds)
    torch.set_num_threads(int(best.name.split(", ")[-1].split()[0]))
    start, cpu = time.perf_counter(), time.process_time()
    parts = in_process(gen, docs_chunks, ref.model_id)
    inproc = Row(f"in-process, no Ray, {torch.get_num_threads()} thr", n_tokens, time.perf_counter() - start,
                 len(docs), time.process_time() - cpu)
    log(f"measured: {bare} {inproc} {parts}")
    flops = None
    if device == "cuda":
        flops = (prefill_flops_per_token(model, n_tokens / len(flat_chunks)), bf16_matmul_flops())
        log(f"{flops[0] / 1e6:.0f} MFLOP per token; bf16 matmul rate {flops[1] / 1e12:.0f} TFLOP/s; "
            f"GPU: {torch.cuda.get_device_name()}")
    del gen, model, net
    gc.collect()

    rows = pipeline_rows(args, docs, n_tokens, cores)
    model, tokenizer, _ = base_model.load(args.base_model, device=device)
    bare += [bare_prefill("bare prefill, after", model, tokenizer, batches, t, len(docs), args.read_dtype) for t in threads]
    limit = Row("bare prefill: limit (fastest)", n_tokens, min(r.seconds for r in bare), len(docs),
                min(r.cpu_seconds for r in bare))
    print_table([limit, *bare, inproc, *rows], limit, parts, args.json, flops)


def pipeline_rows(args: argparse.Namespace, docs: list[dict], n_tokens: int, cores: int) -> list[Row]:
    """The Ray pipeline with each of `args.actors` model-actor counts, in one Ray session."""
    cfg_base = WorkerConfig(base_model=args.base_model, hypernet_path=args.hypernet, batch_docs=args.batch_docs,
                            max_batch_tokens=args.max_batch_tokens, read_dtype=args.read_dtype)
    table = pa.Table.from_pylist(docs)
    rows: list[Row] = []
    with ray_runtime.session(cfg_base):  # Ray's own start-up is not the pipeline's throughput
        for k in args.actors:
            with tempfile.TemporaryDirectory(prefix="bench-actors-") as actors_dir:
                cfg = WorkerConfig(**{**cfg_base.to_dict(), "num_actors": k, "torch_threads": max(1, cores // k),
                                      "gpus_per_actor": args.gpus / k, "actor_report_dir": actors_dir})
                rows.extend(run_pipeline(table, cfg, n_tokens))
                log(f"measured: {rows[-2]} {rows[-1]}")
    return rows


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def print_table(rows: list[Row], limit: Row, parts: dict[str, float], as_json: bool,
                flops: tuple[float, float] | None = None) -> None:
    """flops: (FLOPs per token, the GPU's measured bf16 FLOP/s), on CUDA only."""
    def ratios(r: Row) -> tuple[float, float | None]:
        cpu = r.tokens_per_cpu_second / limit.tokens_per_cpu_second if r.cpu_seconds else None
        return r.tokens_per_second / limit.tokens_per_second, cpu

    def gpu_share(r: Row) -> float | None:
        return r.tokens_per_second * flops[0] / flops[1] if flops else None

    if as_json:
        print(json.dumps({"rows": [{**r.__dict__, "tokens_per_second": r.tokens_per_second,
                                    "docs_per_second": r.docs / r.seconds, "wall_ratio": ratios(r)[0],
                                    "cpu_ratio": ratios(r)[1], "bf16_share": gpu_share(r)} for r in rows],
                          "in_process_seconds": parts,
                          "flops_per_token": flops[0] if flops else None,
                          "bf16_flops_per_second": flops[1] if flops else None}, indent=2))
        return
    gpu_head = f"{'bf16':>7}" if flops else ""
    print(f"{'path':<32}{'tokens/s':>9}{'docs/s':>8}{'wall s':>8}{'ratio':>7}{gpu_head}{'CPU s':>8}{'tok/CPU-s':>10}{'ratio':>7}")
    for r in rows:
        wall, cpu = ratios(r)
        gpu_col = f"{gpu_share(r):>7.1%}" if flops else ""
        cpu_cols = f"{r.cpu_seconds:>8.1f}{r.tokens_per_cpu_second:>10.0f}{cpu:>7.2f}" if cpu else ""
        print(f"{r.name:<32}{r.tokens_per_second:>9.0f}{r.docs / r.seconds:>8.2f}{r.seconds:>8.1f}{wall:>7.2f}{gpu_col}{cpu_cols}")
    if flops:
        print(f"bf16: share of the GPU's measured bf16 matmul rate ({flops[1] / 1e12:.0f} TFLOP/s) at "
              f"{flops[0] / 1e6:.0f} MFLOP per token")
    share = ", ".join(f"{k} {v / parts['total']:.1%}" for k, v in parts.items() if k != "total")
    print(f"in-process wall-time split: {share} (model = activations + hypernetwork)")


if __name__ == "__main__":
    main()
