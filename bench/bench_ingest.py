"""Benchmark corpus ingest against a plain pyarrow ParquetWriter write of the same rows.

Generates an N-document JSONL corpus (default 100,000 docs, ~300 MB) in a temp dir, then runs each
measured job in its own child process so its peak RSS (os.wait4's ru_maxrss) is the job's alone:
    ingest      pipelines.snapshot.ingest, first snapshot (everything added)
    re-ingest   the same source again (diff against the previous snapshot: all unchanged)
    baseline    read the JSONL and write (doc_id, text, source, metadata) with ParquetWriter, no checks

    nice -n 10 .venv/bin/python bench/bench_ingest.py [--docs 100000] [--doc-bytes 3000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCH_ROWS = 1000
WORDS = (
    "the of and to in is that for it as with was on be by this are from at or an which have not "
    "adapter document corpus snapshot model layer rank token chunk query answer memory weights "
    "pipeline batch ingest normalise diff parquet schema hash store bucket prefix latest pointer"
).split() + ["naïve", "café", "Zürich", "résumé", "東京", "données"]


# -- Corpus --------------------------------------------------------------------------------------------
def make_text(rng: random.Random, target_bytes: int) -> str:
    """Paragraphs of random words, roughly target_bytes long, with some layout noise to normalise."""
    paragraphs, size = [], 0
    while size < target_bytes:
        words = rng.choices(WORDS, k=rng.randint(40, 120))
        para = " ".join(words).capitalize() + "."
        paragraphs.append(para)
        size += len(para) + 2
    return "\r\n\r\n".join(paragraphs) + "  \n"


def generate_corpus(path: Path, docs: int, doc_bytes: int, seed: int = 0) -> int:
    """Write a JSONL corpus; returns its size in bytes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(docs):
            text = make_text(rng, rng.randint(doc_bytes // 2, doc_bytes * 3 // 2))
            f.write(json.dumps({"id": f"docs/{i:07d}.md", "text": text, "lang": "en"}, ensure_ascii=False) + "\n")
    return path.stat().st_size


# -- Jobs (each runs in a child process) ----------------------------------------------------------
def job_ingest(source: str, store: str) -> dict:
    """One pipelines ingest into the store."""
    from pipelines.snapshot import ingest

    result = ingest(source, "bench", store, row_group_size=BATCH_ROWS)
    return {"docs": result.counts["total"] + result.counts["rejected"], "counts": result.counts}


def job_baseline(source: str, store: str) -> dict:
    """The floor: parse the JSONL and stream the same rows through ParquetWriter, nothing else."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("doc_id", pa.string()), ("text", pa.large_string()), ("source", pa.string()),
                        ("metadata", pa.string())])
    Path(store).mkdir(parents=True, exist_ok=True)
    docs = 0
    with open(source, "rb") as f, pq.ParquetWriter(f"{store}/baseline.parquet", schema, compression="zstd") as writer:
        rows: dict[str, list] = {name: [] for name in schema.names}
        for lineno, line in enumerate(f, start=1):
            record = json.loads(line)
            rows["doc_id"].append(record.pop("id"))
            rows["text"].append(record.pop("text"))
            rows["source"].append(f"{source}:{lineno}")
            rows["metadata"].append(json.dumps(record, sort_keys=True))
            docs += 1
            if docs % BATCH_ROWS == 0:
                writer.write_batch(pa.RecordBatch.from_pydict(rows, schema=schema))
                rows = {name: [] for name in schema.names}
        if rows["doc_id"]:
            writer.write_batch(pa.RecordBatch.from_pydict(rows, schema=schema))
    return {"docs": docs}


JOBS = {"ingest": job_ingest, "baseline": job_baseline}


def run_child(job: str, source: str, store: str) -> dict:
    """Run a job in a child process; returns its report plus wall seconds and peak RSS in MB."""
    cmd = [sys.executable, __file__, "--child", job, "--source", source, "--store", store]
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{job} child failed with exit code {proc.returncode}")
    report = json.loads(out)
    # Linux: ru_maxrss is in KiB. CPU time is the fairer speed on a machine shared with other jobs.
    report.update(wall=seconds, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024)
    return report


# -- Report -----------------------------------------------------------------------------------------
def print_table(rows: list[tuple[str, dict]], corpus_mb: float) -> None:
    """One line per job: docs/s and MB/s over the job's own wall time, CPU seconds, and peak RSS."""
    header = (f"{'job':<12}{'docs':>10}{'wall s':>9}{'docs/s':>9}{'MB/s':>7}{'CPU s':>8}"
              f"{'CPU vs base':>13}{'peak RSS MB':>13}")
    print(header)
    print("-" * len(header))
    base_cpu = dict(rows)["baseline"]["cpu"]
    for name, r in rows:
        s = r["seconds"]
        print(f"{name:<12}{r['docs']:>10,}{s:>9.1f}{r['docs'] / s:>9,.0f}{corpus_mb / s:>7.1f}{r['cpu']:>8.1f}"
              f"{r['cpu'] / base_cpu:>12.2f}x{r['rss_mb']:>13,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="number of documents to generate")
    parser.add_argument("--doc-bytes", type=int, default=3000, help="mean document size in bytes")
    parser.add_argument("--workdir", default=None, help="where to put the corpus and stores (default: a temp dir)")
    parser.add_argument("--child", choices=sorted(JOBS), help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # inside a measured child: do the job, report on stdout
        import pyarrow.parquet  # noqa: F401 - imports are not what either job is timed on

        import pipelines.snapshot  # noqa: F401

        started = time.perf_counter()
        report = JOBS[args.child](args.source, args.store)
        report["seconds"] = time.perf_counter() - started
        print(json.dumps(report))
        return

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = work / "corpus.jsonl"
        t0 = time.perf_counter()
        size = generate_corpus(source, args.docs, args.doc_bytes)
        corpus_mb = size / 1e6
        print(f"corpus: {args.docs:,} docs, {corpus_mb:,.0f} MB JSONL, generated in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        rows = [
            ("baseline", run_child("baseline", str(source), str(work / "baseline-store"))),
            ("ingest", run_child("ingest", str(source), str(work / "store"))),
            ("re-ingest", run_child("ingest", str(source), str(work / "store"))),
        ]
        assert rows[2][1]["counts"]["unchanged"] == args.docs, rows[2][1]["counts"]
        print_table(rows, corpus_mb)
        print(f"(MB = {corpus_mb:,.0f} MB of JSONL input; wall s = the job's own time without interpreter start; "
              "CPU s = the child's user+system time, imports included; peak RSS of each child process)")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
