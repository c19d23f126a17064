"""Meta-training data: teacher examples and dense targets computed once by Ray actors, stored as Parquet shards.

    documents (synthetic, or a JSONL file in the eval format), each with its questions
      -> shards of `shard_docs` documents
      -> TeacherShards actors (each loads the frozen base model once): hypernet.distill.teacher_example
         per document = the activations the hypernetwork reads + the teacher's top-k answer targets
    or tasks (Text-to-LoRA, train.data "tasks"), each with its redraws
      -> TaskShards actors: hypernet.train.task_examples = the activations over the task's description +
         the targets of its inputs' outputs (reference outputs or the teacher's accepted ones)
    or documents of a corpus with the versions of their reference adapters (corpus training)
      -> DenseShards actors: hypernet.dense.dense_examples = the activations the hypernetwork reads +
         the target modules' inputs and the reference's effect on them
      -> {storage}/data/{fingerprint}/shard-00000.parquet, ...  one row per document, one row group
         per row (readers fetch single examples), columns below
      -> {storage}/data/{fingerprint}/index.json                written last: the data set exists
                                                                exactly when its index does

The fingerprint hashes the documents and everything the pass depends on (base model id and
revision, chunking, top-k; for tasks the task targets; for dense targets the adapter versions, the rows kept, the
read precision), so a second run with the same inputs reuses the data, and a preparation
that broke off resumes: a shard that is already stored is not computed again.

Training workers read examples by index (`ExampleReader`); which examples make up the batch of a
step is a pure function of (seed, step) (`batch_indices`), so a resumed run, or a run with another
number of workers, sees the same global batches.

Storage is a `workers.storage.Location`: a pyarrow filesystem and a root inside it, picklable, so Ray
ships it to actors and Train workers.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from workers.storage import Location

log = logging.getLogger(__name__)

INDEX_FILE = "index.json"
DATA_FORMAT = "docpatch-meta-data/1"

# Columns of a shard.
DOC_ID, TEXT, QA, N_CHUNKS, CHUNK_LEN, N_ANSWER_TOKENS, EXAMPLE = (
    "doc_id", "text", "qa", "n_chunks", "chunk_len", "n_answer_tokens", "example")
SHARD_SCHEMA = pa.schema([(DOC_ID, pa.string()), (TEXT, pa.string()), (QA, pa.string()),
                          (N_CHUNKS, pa.int32()), (CHUNK_LEN, pa.int32()), (N_ANSWER_TOKENS, pa.int32()),
                          (EXAMPLE, pa.binary())])


# -- documents ------------------------------------------------------------------------------------------------
def training_documents(data: str, num_docs: int, train_cfg, words: tuple[str, ...] = ()) -> list[dict]:
    """The training documents: {doc_id, text, qa: [[q, a], ...], parts} (parts > 1: split into that many chunks;
    `gold_only`: True for documents trained on their gold answers alone, see hypernet.distill.Example).

    Synthetic documents are `hypernet.train.document_for_step(cfg, i, None, words)` for i < num_docs
    (the same documents, multi-chunk ones included, the single-process trainer would see at those
    steps; `words` are its hypernet.train.training_words).
    A JSONL file gives its records in order (the first num_docs; 0 = all), each with up to
    `questions_per_doc` of its questions, drawn with the run's seed.
    """
    from hypernet.train import document_for_step

    if data == "synthetic":
        if num_docs < 1:
            raise ValueError("synthetic training data needs num_docs >= 1")
        docs = []
        for i in range(num_docs):
            doc, split = document_for_step(train_cfg, i, None, words)
            docs.append({"doc_id": f"{i:06d}-{doc.id}", "text": doc.text, "qa": [[x.q, x.a] for x in doc.qa],
                         "parts": -split if split else 0,
                         **({"gold_only": True} if doc.gold_only else {})})  # absent: fingerprints stay
        return docs
    from hypernet.evaluate import read_eval_file

    records = read_eval_file(data)
    records = records[:num_docs] if num_docs else records
    docs = []
    for i, rec in enumerate(records):
        rng = random.Random(train_cfg.seed * 1_000_003 + i)
        qa = rng.sample(rec["qa"], min(train_cfg.questions_per_doc, len(rec["qa"])))
        if qa:
            docs.append({"doc_id": f"{i:06d}-{rec['id']}", "text": rec["text"], "qa": [[x["q"], x["a"]] for x in qa],
                         "parts": 0})
    if not docs:
        raise ValueError(f"{data}: no record has questions to train on")
    return docs


def training_tasks(num_docs: int, train_cfg) -> list[dict]:
    """The training tasks of data "tasks": {doc_id, draws: [task, ...]} (each a hypernet.tasks.TaskExample as a dict).

    Task i is `hypernet.train.task_for_step(cfg, i, 0)` followed by its redraws (TASK_DRAWS in all, tried in
    turn until one gives an example), the task the single-process trainer draws i-th (its batch_docs is 1 here).
    """
    from hypernet.train import TASK_DRAWS, task_for_step

    if num_docs < 1:
        raise ValueError("task training data needs num_docs >= 1")
    return [{"doc_id": f"{i:06d}",
             "draws": [asdict(task_for_step(train_cfg, i, 0, attempt)) for attempt in range(TASK_DRAWS)]}
            for i in range(num_docs)]


def fingerprint(docs: list[dict], teacher: dict) -> str:
    """Content address of a prepared data set: the documents and the teacher settings."""
    h = hashlib.sha256(json.dumps({"format": DATA_FORMAT, "teacher": teacher}, sort_keys=True).encode())
    for d in docs:
        h.update(json.dumps(d, sort_keys=True).encode())
    return h.hexdigest()[:16]


# -- the teacher stage (a Ray actor) ------------------------------------------------------------------------------
class TeacherShards:
    """Holds the frozen base model; turns a list of documents into one stored Parquet shard."""

    def __init__(self, base_model_spec: str, cache_dir: str, device: str, threads: int, chunk_len: int,
                 max_chunks: int, top_k: int):
        import torch

        from hypernet import base_model
        from workers.stages import quiet_actor_process

        quiet_actor_process()
        if threads:
            torch.set_num_threads(threads)
        self.model, self.tok, _ = base_model.load(base_model_spec, cache_dir or None, device=device)
        self.chunk_len, self.max_chunks, self.top_k = chunk_len, max_chunks, top_k

    def make(self, loc: Location, path: str, docs: list[dict]) -> dict:
        """Compute and store the shard (or read back the summary of one already stored); its summary."""
        if loc.exists(path):
            return _stored_summary(loc, path)
        from hypernet.distill import mark_gold_only, teacher_example
        from hypernet.examples_io import example_to_bytes

        started = time.perf_counter()
        rows = []
        for doc in docs:
            chunk_len = self.chunk_len
            if doc["parts"] > 1:
                n_tokens = len(self.tok(doc["text"].strip(), add_special_tokens=False).input_ids)
                chunk_len = max(16, math.ceil(n_tokens / doc["parts"]))
            ex = teacher_example(self.model, self.tok, doc["text"], [tuple(x) for x in doc["qa"]],
                                 chunk_len=chunk_len, max_chunks=self.max_chunks, top_k=self.top_k)
            if doc.get("gold_only"):
                ex = mark_gold_only(ex)
            rows.append({DOC_ID: doc["doc_id"], TEXT: doc["text"], QA: json.dumps(doc["qa"]),
                         N_CHUNKS: len(ex.chunk_acts), CHUNK_LEN: chunk_len, N_ANSWER_TOKENS: int(ex.answer_ids.numel()),
                         EXAMPLE: example_to_bytes(ex)})
        _write_shard(loc, path, rows)
        return {"path": path, "doc_ids": [r[DOC_ID] for r in rows], "n_chunks": [r[N_CHUNKS] for r in rows],
                "computed": True, "seconds": time.perf_counter() - started}


class TaskShards:
    """Holds the frozen base model; turns tasks (`training_tasks`) into one stored Parquet shard of task examples,
    one row per task that gives one (its first draw that does; a task none of whose draws does is left out)."""

    def __init__(self, base_model_spec: str, cache_dir: str, device: str, threads: int, targets: str, top_k: int):
        import torch

        from hypernet import base_model
        from workers.stages import quiet_actor_process

        quiet_actor_process()
        if threads:
            torch.set_num_threads(threads)
        self.model, self.tok, _ = base_model.load(base_model_spec, cache_dir or None, device=device)
        self.targets, self.top_k = targets, top_k

    def make(self, loc: Location, path: str, docs: list[dict]) -> dict:
        """Compute and store the shard (or read back the summary of one already stored); its summary."""
        if loc.exists(path):
            return _stored_summary(loc, path)
        from hypernet.examples_io import example_to_bytes
        from hypernet.tasks import TaskExample
        from hypernet.train import task_examples

        started = time.perf_counter()
        made = task_examples(self.model, self.tok, lambda i, attempt: TaskExample(**docs[i]["draws"][attempt]),
                             len(docs), targets=self.targets, top_k=self.top_k)
        rows = [{DOC_ID: f"{docs[i]['doc_id']}-{task.id}", TEXT: task.description,
                 QA: json.dumps([[x, ""] for x in task.inputs]),  # the inputs; their outputs are in the example
                 N_CHUNKS: len(ex.chunk_acts), CHUNK_LEN: ex.chunk_acts[0].shape[1],
                 N_ANSWER_TOKENS: int(ex.answer_ids.numel()), EXAMPLE: example_to_bytes(ex)}
                for i, task, ex in sorted(made, key=lambda m: m[0])]
        _write_shard(loc, path, rows)
        return {"path": path, "doc_ids": [r[DOC_ID] for r in rows], "n_chunks": [r[N_CHUNKS] for r in rows],
                "computed": True, "seconds": time.perf_counter() - started, "failed": len(docs) - len(rows)}


class DenseShards:
    """Holds the frozen base model; turns documents with their reference adapters' PEFT files into one stored
    Parquet shard of dense examples (hypernet.dense: the hypernetwork's inputs, the target modules' inputs
    and the reference's effect on them)."""

    def __init__(self, base_model_spec: str, cache_dir: str, device: str, threads: int, hypernet_config: dict,
                 positions: int, read_dtype: str, max_batch_tokens: int):
        import torch

        from hypernet import base_model
        from hypernet.activations import read_autocast
        from hypernet.config import HypernetConfig
        from workers.stages import quiet_actor_process

        quiet_actor_process()
        if threads:
            torch.set_num_threads(threads)
        self.model, self.tok, _ = base_model.load(base_model_spec, cache_dir or None, device=device)
        self.cfg = HypernetConfig.from_dict(hypernet_config)
        self.positions, self.max_batch_tokens = positions, max_batch_tokens
        self.autocast = read_autocast(self.model, read_dtype)  # read as adapters are generated

    def make(self, loc: Location, path: str, docs: list[dict]) -> dict:
        """Compute and store the shard (or read back the summary of one already stored); its summary."""
        if loc.exists(path):
            return _stored_summary(loc, path)
        from hypernet.dense import dense_examples
        from hypernet.examples_io import example_to_bytes
        from hypernet.peft_format import from_peft_files

        started = time.perf_counter()
        examples = dense_examples(self.model, self.tok, [(d["text"], from_peft_files(d["adapter"])) for d in docs],
                                  self.cfg, positions=self.positions, autocast=self.autocast,
                                  max_batch_tokens=self.max_batch_tokens)
        rows = [{DOC_ID: d["doc_id"], TEXT: d["text"], QA: "[]", N_CHUNKS: len(ex.chunk_acts),
                 CHUNK_LEN: self.cfg.chunk_len, N_ANSWER_TOKENS: 0, EXAMPLE: example_to_bytes(ex)}
                for d, ex in zip(docs, examples)]
        _write_shard(loc, path, rows)
        return {"path": path, "doc_ids": [r[DOC_ID] for r in rows], "n_chunks": [r[N_CHUNKS] for r in rows],
                "computed": True, "seconds": time.perf_counter() - started}


def _stored_summary(loc: Location, path: str) -> dict:
    """The summary of a shard already in storage."""
    with loc.fs.open_input_file(path) as fh:
        table = pq.read_table(fh, columns=[DOC_ID, N_CHUNKS])
    return {"path": path, "doc_ids": table.column(DOC_ID).to_pylist(),
            "n_chunks": table.column(N_CHUNKS).to_pylist(), "computed": False, "seconds": 0.0}


def _write_shard(loc: Location, path: str, rows: list[dict]) -> None:
    """One Parquet file, one row group per row (readers fetch single examples)."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), sink, row_group_size=1)
    loc.write_bytes(path, sink.getvalue().to_pybytes())


@dataclass
class PreparedData:
    """Where a prepared data set lives and what it holds."""

    data_dir: str  # path inside the location's filesystem
    uri: str
    fingerprint: str
    n_examples: int
    n_shards: int
    reused: bool  # True: the index already existed, nothing was computed
    computed_shards: int
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def prepare(loc: Location, docs: list[dict], *, base_model_spec: str, base_model_key: dict, cache_dir: str = "",
            chunk_len: int, max_chunks: int, top_k: int, shard_docs: int = 16, actors: int = 1,
            cpus_per_actor: float = 1.0, use_gpu: bool = False, threads: int = 0,
            progress: bool = True) -> PreparedData:
    """Compute (or reuse) the teacher examples of `docs` with Ray actors; Ray must be initialised.

    `base_model_key` (id and revision) goes into the fingerprint; `base_model_spec` is what actors load.
    """
    teacher = {"base_model": base_model_key, "chunk_len": chunk_len, "max_chunks": max_chunks, "top_k": top_k}
    device = "cuda" if use_gpu else "cpu"
    return _prepare(loc, docs, teacher, "teacher", "teacher examples", TeacherShards,
                    lambda n: (base_model_spec, cache_dir, device, n, chunk_len, max_chunks, top_k),
                    lambda _path, shard: shard, shard_docs=shard_docs, actors=actors,
                    cpus_per_actor=cpus_per_actor, use_gpu=use_gpu, threads=threads, progress=progress)


def prepare_tasks(loc: Location, docs: list[dict], *, base_model_spec: str, base_model_key: dict, cache_dir: str = "",
                  targets: str, top_k: int, shard_docs: int = 16, actors: int = 1, cpus_per_actor: float = 1.0,
                  use_gpu: bool = False, threads: int = 0, progress: bool = True) -> PreparedData:
    """Compute (or reuse) the task examples of `docs` (`training_tasks`) with Ray actors; Ray must be initialised.
    ValueError when no task gave an example (nothing to train on)."""
    key = {"base_model": base_model_key, "targets": targets, "top_k": top_k}
    device = "cuda" if use_gpu else "cpu"
    prepared = _prepare(loc, docs, key, "tasks", "task examples", TaskShards,
                        lambda n: (base_model_spec, cache_dir, device, n, targets, top_k),
                        lambda _path, shard: shard, shard_docs=shard_docs, actors=actors,
                        cpus_per_actor=cpus_per_actor, use_gpu=use_gpu, threads=threads, progress=progress)
    if not prepared.n_examples:
        raise ValueError(f"none of the {len(docs)} training tasks gave an example (task_targets={targets!r}): "
                         "nothing to train on")
    return prepared


def prepare_dense(loc: Location, docs: list[dict], load_adapter: Callable[[dict], dict[str, bytes]], *,
                  base_model_spec: str, base_model_key: dict, cache_dir: str = "", hypernet_config: dict,
                  positions: int, read_dtype: str = "auto", max_batch_tokens: int = 4096, shard_docs: int = 16,
                  actors: int = 1, cpus_per_actor: float = 1.0, use_gpu: bool = False, threads: int = 0,
                  progress: bool = True) -> PreparedData:
    """Compute (or reuse) the dense examples (hypernet.dense) of `docs` ({doc_id, text, version_id}: the
    version of the reference adapter) with Ray actors; Ray must be initialised.

    `load_adapter(doc)` returns a document's PEFT files; it runs here in the driver, a shard at a time as
    an actor takes it (and not for shards already stored), so adapters never all sit in memory at once.
    """
    from hypernet.dense import CACHE_DTYPE

    key = {"base_model": base_model_key, "positions": positions, "read_dtype": read_dtype,
           "cache_dtype": str(CACHE_DTYPE).removeprefix("torch."),
           "hypernet": {k: hypernet_config[k] for k in ("n_layers", "targets", "chunk_len", "max_chunks")}}

    def payload(path: str, shard: list[dict]) -> list[dict]:
        if loc.exists(path):  # stored by an earlier, broken-off run: the actor only reads its summary
            return shard
        return [{**doc, "adapter": load_adapter(doc)} for doc in shard]

    device = "cuda" if use_gpu else "cpu"
    return _prepare(loc, docs, key, "dense", "dense targets", DenseShards,
                    lambda n: (base_model_spec, cache_dir, device, n, hypernet_config, positions, read_dtype,
                               max_batch_tokens),
                    payload, shard_docs=shard_docs, actors=actors, cpus_per_actor=cpus_per_actor, use_gpu=use_gpu,
                    threads=threads, progress=progress)


def _prepare(loc: Location, docs: list[dict], key: dict, kind: str, desc: str, actor_class,
             actor_args: Callable[[int], tuple], payload: Callable[[str, list[dict]], list[dict]], *, shard_docs: int,
             actors: int, cpus_per_actor: float, use_gpu: bool, threads: int, progress: bool) -> PreparedData:
    """Shards of `docs` made by a pool of `actor_class(*actor_args(torch threads))` actors (each shard by
    `make(loc, path, payload(path, shard))`), then the index; reused when the index of the same
    fingerprint exists."""
    import ray
    from ray.util import ActorPool

    from workers.progress import Progress

    started = time.perf_counter()
    fp = fingerprint(docs, key if kind == "teacher" else {kind: key})  # teacher fingerprints as before
    data_dir = loc.path("data", fp)
    index_path = f"{data_dir}/{INDEX_FILE}"
    if loc.exists(index_path):
        index = json.loads(loc.read_bytes(index_path))
        return PreparedData(data_dir, loc.uri_of(data_dir), fp, len(index["examples"]), len(index["shards"]), True,
                            0, time.perf_counter() - started)
    shards = [docs[i: i + shard_docs] for i in range(0, len(docs), shard_docs)]
    n_actors = max(1, min(actors, len(shards)))
    remote = ray.remote(actor_class).options(
        num_cpus=cpus_per_actor, num_gpus=1 if use_gpu else 0, max_restarts=2, max_task_retries=2)
    pool_actors = [remote.remote(*actor_args(threads or max(1, (os.cpu_count() or 1) // n_actors)))
                   for _ in range(n_actors)]
    bar = Progress(len(docs), progress, desc=desc)
    summaries = []
    try:
        pool = ActorPool(pool_actors)
        jobs = [(f"{data_dir}/shard-{i:05d}.parquet", shard) for i, shard in enumerate(shards)]
        for summary in pool.map_unordered(lambda a, job: a.make.remote(loc, job[0], payload(*job)), jobs):
            summaries.append(summary)
            for _ in summary["doc_ids"]:
                bar.update(True)
            for _ in range(summary.get("failed", 0)):  # a task that gave no example
                bar.update(False)
    finally:
        for actor in pool_actors:
            ray.kill(actor)
    rows = sorted((doc_id, s["path"].rsplit("/", 1)[1], row, n)
                  for s in summaries for row, (doc_id, n) in enumerate(zip(s["doc_ids"], s["n_chunks"])))
    index = {"format": DATA_FORMAT, "fingerprint": fp, kind: key, "created_at": time.time(),
             "shards": sorted(s["path"].rsplit("/", 1)[1] for s in summaries),
             "examples": [{"doc_id": d, "shard": s, "row": r, "n_chunks": n} for d, s, r, n in rows]}
    loc.write_bytes(index_path, json.dumps(index, indent=1).encode())
    computed = sum(s["computed"] for s in summaries)
    bar.close(f"{desc}: {len(rows)} documents in {len(shards)} shards ({computed} computed) "
              f"in {time.perf_counter() - started:.1f} s -> {loc.uri_of(data_dir)}")
    return PreparedData(data_dir, loc.uri_of(data_dir), fp, len(rows), len(shards), False, computed,
                        time.perf_counter() - started)


# -- reading (inside training workers) -------------------------------------------------------------------------
class ExampleReader:
    """Examples of a prepared data set by index (sorted by doc_id), one Parquet row group per read.

    Raw blobs are kept in memory up to `cache_bytes` (the whole set, when it fits, after one epoch).
    """

    def __init__(self, loc: Location, data_dir: str, cache_bytes: int = 2 << 30):
        self.loc, self.data_dir = loc, data_dir
        index = json.loads(loc.read_bytes(f"{data_dir}/{INDEX_FILE}"))
        if index.get("format") != DATA_FORMAT:
            raise ValueError(f"{loc.uri_of(data_dir)}: prepared data of format {index.get('format')!r}, "
                             f"expected {DATA_FORMAT!r}")
        self.examples = index["examples"]
        self._files: dict[str, Any] = {}
        self._cache: dict[int, bytes] = {}
        self._cached_bytes, self.cache_bytes = 0, cache_bytes

    def __len__(self) -> int:
        return len(self.examples)

    def blob(self, i: int) -> bytes:
        if i in self._cache:
            return self._cache[i]
        entry = self.examples[i]
        pf = self._files.get(entry["shard"])
        if pf is None:
            pf = pq.ParquetFile(self.loc.fs.open_input_file(f"{self.data_dir}/{entry['shard']}"))
            self._files[entry["shard"]] = pf
        table = pf.read_row_group(entry["row"], columns=[DOC_ID, EXAMPLE])
        if table.column(DOC_ID)[0].as_py() != entry["doc_id"]:
            raise ValueError(f"{entry['shard']} row {entry['row']} is not {entry['doc_id']}: the index does not fit the shard")
        data = table.column(EXAMPLE)[0].as_py()
        if self._cached_bytes + len(data) <= self.cache_bytes:
            self._cache[i] = data
            self._cached_bytes += len(data)
        return data

    def example(self, i: int):
        from hypernet.examples_io import example_from_bytes

        return example_from_bytes(self.blob(i))


def batch_indices(step: int, global_batch: int, n_examples: int, seed: int) -> list[int]:
    """The examples of step `step`'s global batch: epochs of seeded permutations, read in order.

    A pure function of its arguments: resuming at any step, or splitting the batch over any number
    of workers (worker r of W takes [r::W]), gives the same documents.
    """
    out, orders = [], {}
    for pos in range(step * global_batch, (step + 1) * global_batch):
        epoch, offset = divmod(pos, n_examples)
        if epoch not in orders:
            orders[epoch] = list(range(n_examples))
            random.Random(seed * 7_919 + epoch).shuffle(orders[epoch])
        out.append(orders[epoch][offset])
    return out
