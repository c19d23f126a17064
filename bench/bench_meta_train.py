"""Meta-training on Ray Train with 1 and with 2 workers at the same global batch: speed and loss curves.

    python bench/bench_meta_train.py --steps 20 --global-batch 4            # tiny random model (default)
    python bench/bench_meta_train.py --base-model packaged:gemma-3-270m --steps 10

The teacher examples are prepared once (Ray actors -> Parquet) and shared by both runs. Each run
starts from the same seeded hypernetwork and sees the same global batch at every step (worker r of
W takes examples [r::W]; DDP averages the gradients), so the two loss curves should agree up to
floating-point reduction order. Prints:
1. per worker count: median step time, steps/s, documents/s, the whole fit (worker start-up and
   model loading included), final loss;
2. the loss per step side by side, with the largest difference.

On a shared 2-core machine two workers compete for the same cores as the other processes: the
speed column measures the machine's load as much as the code. The tiny model (2 layers, hidden 64,
the real 262k-token vocabulary) makes the LM head and the all-reduce dominate.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tables import table  # noqa: E402
from hypernet.config import TrainConfig  # noqa: E402
from workers.config import MetaTrainConfig, WorkerConfig  # noqa: E402
from workers.meta_train import fit, model_setup, prepare_data  # noqa: E402
from workers.storage import open_location  # noqa: E402


def tiny_model(folder: str) -> str:
    """A tiny random Gemma-3 with the packaged tokenizer (the tests' fixture, made here once)."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from hypernet import base_model

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(base_model.resolve(base_model.PACKAGED).path)
    cfg = Gemma3TextConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=32, max_position_embeddings=2048, sliding_window=128,
        layer_types=["sliding_attention", "full_attention"], pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    Gemma3ForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-model", default="tiny", help="'tiny' (a random 2-layer Gemma-3) or a base model spec")
    p.add_argument("--workers", default="1,2", help="comma list of worker counts (default: 1,2)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--global-batch", type=int, default=4)
    p.add_argument("--docs", type=int, default=32, help="training documents prepared once, shared by the runs")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sizes", default="32,4,16", help="latent_dim,n_latents,head_dim of the hypernetwork")
    p.add_argument("--storage", default="", help="training storage (default: a temporary folder)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    import ray

    counts = [int(x) for x in args.workers.split(",")]
    latent, n_latents, head = (int(x) for x in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-meta-") as tmp:
        model = tiny_model(os.path.join(tmp, "tiny")) if args.base_model == "tiny" else args.base_model
        ray.init(num_cpus=max(4, 2 * (os.cpu_count() or 1)), include_dashboard=False, log_to_driver=False,
                 _temp_dir=os.environ.get("RAY_TMPDIR") or os.path.join(tmp, "ray"))
        storage = args.storage or os.path.join(tmp, "storage")

        worker = WorkerConfig(base_model=model, num_actors=2, cpus_per_actor=1.0, torch_threads=1)

        def config(workers: int) -> MetaTrainConfig:
            return MetaTrainConfig(
                run_name=f"bench-w{workers}-{int(time.time())}", num_workers=workers, global_batch=args.global_batch,
                keep_checkpoints=1, max_failures=0, num_docs=args.docs, shard_docs=max(1, args.docs // 2),
                train=TrainConfig(steps=args.steps, save_every=args.steps, log_every=0, warmup=1, lr=args.lr,
                                  seed=args.seed, latent_dim=latent, n_latents=n_latents, head_dim=head,
                                  questions_per_doc=2))

        loc = open_location(storage)
        setup = model_setup(config(counts[0]), worker)
        data = prepare_data(config(counts[0]), worker, loc, setup, progress=True)
        print(f"prepared {data.n_examples} teacher examples in {data.seconds:.1f} s; "
              f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
        runs = {}
        for workers in counts:
            print(f"training with {workers} worker(s) ...", file=sys.stderr, flush=True)
            runs[workers] = fit(config(workers), worker, loc, data, setup)
        ray.shutdown()
    print_results(args, runs)
    return 0


def print_results(args: argparse.Namespace, runs: dict) -> None:
    """Step time per worker count, then the loss curves side by side (they should agree)."""
    rows = []
    for workers, run in runs.items():
        times = [m["step_seconds"] for m in run.history]
        median = statistics.median(times)
        rows.append([workers, args.global_batch, run.steps, f"{median:.3f}", f"{1 / median:.2f}",
                     f"{args.global_batch / median:.1f}", f"{run.seconds:.1f}", f"{run.history[-1]['loss']:.4f}"])
    print(f"\nbase model {args.base_model}, hypernetwork sizes {args.sizes}, load average now {os.getloadavg()[0]:.1f}")
    print(table(rows, ["workers", "global batch", "steps", "median s/step", "steps/s", "docs/s",
                       "fit s (incl. start-up)", "final loss"]))
    header = ["step"] + [f"loss ({w} worker{'s' if w > 1 else ''})" for w in runs]
    curve = [[i + 1] + [f"{run.history[i]['loss']:.5f}" for run in runs.values()] for i in range(args.steps)]
    if len(runs) > 1:
        first, *rest = runs.values()
        diffs = [max(abs(r.history[i]["loss"] - first.history[i]["loss"]) for r in rest) for i in range(args.steps)]
        header.append("max |diff|")
        for row, d in zip(curve, diffs):
            row.append(f"{d:.2e}")
    print()
    print(table(curve, header))
    if len(runs) > 1:
        print(f"\nlargest loss difference over {args.steps} steps: {max(diffs):.2e}")


if __name__ == "__main__":
    sys.exit(main())
