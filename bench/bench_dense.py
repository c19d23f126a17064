"""Training documents per second: the dense objective against context distillation, same documents.

    python bench/bench_dense.py                                   # packaged gemma-3-270m, shipped hypernetwork
    python bench/bench_dense.py --data bench/data/eval_real.jsonl --batch 16 --steps 3
    python bench/bench_dense.py --first-target-layers 0,9          # every layer against the upper half

Both objectives train the same hypernetwork through the one shared step (hypernet.train.train_step)
on the same documents, a batch of `--batch` per step, from examples cached beforehand:
- distillation: teacher examples (hypernet.distill.teacher_examples, the file's first
  `--questions` questions per document); each step is the student's pass through the base model
  with the generated adapters, and its backward;
- dense: hypernet.dense examples whose reference is the shipped hypernetwork's own adapter with a
  random perturbation (the timing does not depend on the reference); a step needs no base-model pass.
Prints the one-off cost of caching each per document, and per step (median over `--steps` steps after
one warm-up step) wall seconds and documents per second, and CPU seconds (all threads of the process)
and documents per CPU-second: on a machine shared with other work the wall clock measures the load as
much as the code; with one thread per process (`--threads 1`, as each of two data-parallel workers
runs), documents per CPU-second times the cores is what an idle machine does.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tables import table  # noqa: E402
from workers.heap import reuse_freed_memory  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-model", default="packaged:gemma-3-270m")
    p.add_argument("--hypernet", default="", help="checkpoint folder (default: the shipped one)")
    p.add_argument("--data", default="bench/data/eval_short48.jsonl")
    p.add_argument("--batch", type=int, default=16, help="documents per step")
    p.add_argument("--steps", type=int, default=3, help="timed steps per objective (after one warm-up step)")
    p.add_argument("--questions", type=int, default=4, help="questions per document for distillation")
    p.add_argument("--positions", type=int, default=128, help="sketch rows per layer of the dense targets")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--first-target-layers", default="0",
                   help="comma-separated first_target_layer values to time side by side (e.g. 0,9: every layer, "
                        "then the upper half); the checkpoint is loaded cut to each")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    reuse_freed_memory()  # as the model actors and training workers run (workers.heap)
    import torch

    from hypernet import base_model
    from hypernet.activations import read_autocast
    from hypernet.config import TrainConfig, default_checkpoint
    from hypernet.dense import dense_examples
    from hypernet.distill import teacher_examples
    from hypernet.generate import AdapterGenerator
    from hypernet.lora import LoraTensors
    from hypernet.model import HyperNetwork

    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()
    model, tok, _ = base_model.load(args.base_model)
    folder = args.hypernet or default_checkpoint()
    records = [json.loads(line) for line in open(args.data) if line.strip()][: args.batch]
    if len(records) < args.batch:
        raise SystemExit(f"{args.data} has {len(records)} documents, fewer than --batch {args.batch}")
    net = HyperNetwork.load(folder)
    cfg = TrainConfig(l1_weight=1e-4)

    started = time.perf_counter()
    teacher = teacher_examples(model, tok, [(r["text"], [(x["q"], x["a"]) for x in r["qa"][: args.questions]],
                                             net.cfg.chunk_len) for r in records],
                               max_chunks=net.cfg.max_chunks, top_k=cfg.top_k)
    teacher_s = (time.perf_counter() - started) / len(records)
    made = AdapterGenerator(model, tok, net).generate([r["text"] for r in records])
    gen = torch.Generator().manual_seed(0)
    refs = [LoraTensors({t: (a, b * (1 + 0.5 * torch.randn(b.shape, generator=gen))) for t, (a, b) in m.lora.factors.items()})
            for m in made]
    started = time.perf_counter()
    dense = dense_examples(model, tok, [(r["text"], ref) for r, ref in zip(records, refs)], net.cfg,
                           positions=args.positions, autocast=read_autocast(model))
    dense_s = (time.perf_counter() - started) / len(records)
    tokens = sum(a.shape[1] for ex in dense for a in ex.chunk_acts) / len(records)

    rows = []
    firsts = [int(x) for x in args.first_target_layers.split(",")]
    for name, batch, cached in (("distillation", teacher, teacher_s), ("dense", dense, dense_s)):
        for first in firsts:
            timed = HyperNetwork.load(folder, first_target_layer=first)
            median, cpu_median, met = _time_steps(model, timed, batch, cfg, args.steps)
            rows.append([name, f"{first}-{net.cfg.n_layers - 1}", args.batch, f"{cached:.2f}", f"{median:.2f}",
                         f"{args.batch / median:.1f}", f"{cpu_median:.2f}", f"{args.batch / cpu_median:.1f}",
                         f"{met['loss']:.3f}"])
    print(f"{len(records)} documents of {args.data} (mean {tokens:.0f} tokens), {torch.get_num_threads()} torch "
          f"threads, {args.questions} questions per document for distillation, {args.positions} dense rows per layer")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in load)}; after: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(table(rows, ["objective", "adapted layers", "batch", "cache s/doc (once)", "s/step", "docs/s", "CPU s/step", "docs/CPU-s",
                       "last loss"]))
    return 0


def _time_steps(model, net, batch: list, cfg, steps: int) -> tuple[float, float, dict]:
    """Median wall and CPU seconds of `steps` training steps on `batch` after one warm-up step, and the last metrics."""
    from hypernet.train import make_optimizer, train_step

    net.train()
    opt = make_optimizer(net, cfg)
    times, cpu, met = [], [], {}
    for step in range(steps + 1):
        t, c = time.perf_counter(), _cpu_seconds()
        met = train_step(model, net, opt, [batch], cfg, step)
        if step:  # the first step warms up allocators and kernels
            times.append(time.perf_counter() - t)
            cpu.append(_cpu_seconds() - c)
    return statistics.median(times), statistics.median(cpu), met


def _cpu_seconds() -> float:
    """CPU time of this process (all threads): on a shared machine, steadier than the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
