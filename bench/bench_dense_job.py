"""Dense training steps in the Ray Train job itself, on dense targets a corpus run already prepared.

    python bench/bench_dense_job.py runs/kb_store/training/data/FINGERPRINT --steps 60

`bench_dense.py` times the shared step in one process on examples held in memory; this times what
`docpatch train --corpus` runs: a local Ray, one Ray Train worker, examples read from the prepared
Parquet shards, the shipped hypernetwork as the start, dense steps only (no distillation data). The
run lives in a temporary folder beside a link to the data, so the corpus's store is only read.
Prints the median seconds per step and documents per second over the first epoch of reads and over
the steps after it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tables import table  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", help="a prepared dense data folder (its index.json names dense targets)")
    p.add_argument("--steps", type=int, default=60, help="dense steps to run")
    p.add_argument("--batch", type=int, default=16, help="documents per dense step (train.dense_batch)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    from hypernet.config import TrainConfig, default_checkpoint
    from workers import meta_train, ray_runtime
    from workers.config import MetaTrainConfig, WorkerConfig
    from workers.storage import open_location
    from workers.train_data import INDEX_FILE, PreparedData

    source = os.path.abspath(args.data_dir)
    with open(os.path.join(source, INDEX_FILE)) as fh:
        index = json.load(fh)
    if "dense" not in index:
        raise SystemExit(f"{source} holds no dense targets (its index has no 'dense' entry)")
    n = len(index["examples"])
    with tempfile.TemporaryDirectory(prefix="bench-dense-job-") as root:
        os.makedirs(os.path.join(root, "data"))
        os.symlink(source, os.path.join(root, "data", "targets"))
        loc = open_location(root)
        data_dir = loc.path("data/targets")
        cfg = MetaTrainConfig(run_name="bench", num_workers=1, keep_checkpoints=1,
                              train=TrainConfig(steps=args.steps, init_from=default_checkpoint(), lr=1e-4,
                                                dense_batch=args.batch, save_every=10 * args.steps, log_every=0))
        worker = WorkerConfig()
        setup = meta_train.model_setup(cfg, worker)
        dense = PreparedData(data_dir, loc.uri_of(data_dir), index.get("fingerprint", ""), n, len(index["shards"]),
                             True, 0, 0.0)
        with ray_runtime.session(worker):
            out = meta_train.fit(cfg, worker, loc, None, setup, dense=dense)
    steps = [m for m in out.history if m["objective"] == "dense"]
    epoch = -(-n // args.batch)  # steps until every example was read once
    rows = []
    for name, part in ((f"2-{epoch} (first reads)", steps[1:epoch]), (f"{epoch + 1}-{len(steps)}", steps[epoch:])):
        if part:
            secs = statistics.median(m["step_seconds"] for m in part)
            rows.append([name, len(part), f"{secs:.2f}", f"{args.batch / secs:.1f}"])
    print(f"{n} dense examples of {source}, {args.batch} per step, 1 Ray Train worker; the first step (warm-up) left out")
    print(table(rows, ["steps", "n", "median s/step", "docs/s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
