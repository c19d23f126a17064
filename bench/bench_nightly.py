"""Nightly re-patch versus patching the whole corpus, measured in one run.

    python bench/bench_nightly.py [--docs 1000] [--edit 10] [--delete 5] [--add 5] [docpatch settings flags]

Generates a corpus of short documents, ingests it and patches it, an adapter for every document (timed), then edits,
deletes and adds a few documents and runs the nightly flow (timed). Checks that the nightly run
generated exactly edit + add adapters and `delete` tombstones, and prints both wall
times and their ratio. Models come from the usual settings (flags, DOCPATCH_* environment,
docpatch.toml): the packaged gemma-3-270m and the shipped hypernetwork by default.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

_WORDS = ("harbour lantern copper meadow violet engine pepper orbit falcon marble tundra cobalt willow summit "
          "ember canyon saffron glacier river quarry beacon thistle granite orchard").split()


def document(i: int, edition: int = 0) -> str:
    rng = random.Random(i * 1000 + edition)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(60, 160)))
    return f"Record {i}, edition {edition}. The keeper of record {i} is named {rng.choice(_WORDS).title()}. {words}."


def main() -> int:
    from pipelines.cli.options import load_settings, settings_parent
    from pipelines.settings import COMMON, WORKERS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     parents=[settings_parent(COMMON, "settings"), settings_parent(WORKERS, "workers")])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--edit", type=int, default=10)
    parser.add_argument("--delete", type=int, default=5)
    parser.add_argument("--add", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="docpatch-bench-") as tmp:
        settings = load_settings(args)
        if args.store is None:
            settings = settings.with_overrides(store=str(Path(tmp) / "store"))
        source = Path(tmp) / "kb"
        source.mkdir()
        for i in range(args.docs):
            (source / f"doc{i:06d}.txt").write_text(document(i))

        from pipelines.flows import ingest_flow, nightly_repatch, patch_flow

        started = time.perf_counter()
        ingest_flow(str(source), "bench", settings)
        first = patch_flow("bench", settings=settings, progress=True)  # minutes: show the bar
        first_s = time.perf_counter() - started
        assert first["patched"] == args.docs, first

        rng = random.Random(0)
        picked = rng.sample(range(args.docs), args.edit + args.delete)
        for i in picked[: args.edit]:
            (source / f"doc{i:06d}.txt").write_text(document(i, edition=1))
        for i in picked[args.edit:]:
            (source / f"doc{i:06d}.txt").unlink()
        for i in range(args.docs, args.docs + args.add):
            (source / f"doc{i:06d}.txt").write_text(document(i))

        started = time.perf_counter()
        night = nightly_repatch(str(source), "bench", settings, progress=False)
        nightly_s = time.perf_counter() - started
        assert night["generated"] == night["patched"] == args.edit + args.add, night
        assert night["tombstoned"] == args.delete, night

    from tables import table

    print(table([["ingest + patch (every document)", first["patched"], 0, f"{first_s:.1f}"],
                 ["nightly (ingest + re-patch)", night["patched"], night["tombstoned"], f"{nightly_s:.1f}"]],
                ["job", "adapters", "tombstones", "wall s"]))
    print(f"nightly / patch wall time: {nightly_s / first_s:.3f}  "
          f"({args.docs} docs; {args.edit} edited, {args.delete} deleted, {args.add} added)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
