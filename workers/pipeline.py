"""Documents in, one adapter result per document out, streamed through Ray Data.

    table (doc_id, sha256, text)
      -> blocks of `batch_docs` documents, longest first
      -> map_batches(ChunkStage)    CPU actors: tokenise + chunk
      -> map_batches(AdapterStage)  model actors (GPU or CPU): activations -> hypernet -> PEFT files
      -> driver: dedupe by doc_id -> on_result(AdapterResult), exactly once per document

Publishing is the caller's job (`on_result` runs in this process, as results stream in), so this
package never touches the registry. Nothing partial is handed over: a result carries complete
adapter files or an error. Ray redoes the batches of an actor that died (the actor is replaced);
a document whose batch is lost for good, or that was not delivered when the run broke off, is
reported as failed with the reason.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from workers import ray_runtime
from workers.config import WorkerConfig
from workers.progress import Progress
from workers.stages import (
    CHUNK_LENS, DOC_ID, ERROR, INPUT_COLUMNS, N_CHUNKS, N_TOKENS, OK, RANK, SECONDS, SHA256, TEXT,
    AdapterStage, ChunkStage, check_compatible, error_text, file_columns, hypernet_folder, read_hypernet_config,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

log = logging.getLogger(__name__)

# Tokenising is light: a fraction of a logical CPU per chunking actor leaves room for the model actors.
CHUNK_STAGE_CPUS = 0.25


@dataclass
class AdapterResult:
    """The outcome for one input document; delivered exactly once."""

    doc_id: str
    doc_sha256: str
    ok: bool
    files: dict[str, bytes] | None  # PEFT adapter files (hypernet.peft_format.to_peft_files) when ok
    n_tokens: int
    n_chunks: int
    rank: int  # the adapter's r (serving rank, zero-padded), 0 when not ok
    error: str | None  # "ExceptionType: message" when not ok
    seconds: float  # this document's share of its batch's model time


@dataclass
class RunSummary:
    total: int
    patched: int
    failed: int
    skipped: int  # rows whose doc_id repeats an earlier row (only the first is processed)
    seconds: float
    docs_per_second: float
    tokens_per_second: float  # tokens of patched documents per wall-clock second
    hypernet_id: str
    base_model_id: str
    base_model_revision: str
    refine: str  # the refinement recipe's key ("" when unrefined)
    errors: dict[str, str] = field(default_factory=dict)  # doc_id -> error, for every failed document
    pipeline_error: str | None = None  # set when the run broke off; undelivered documents carry it

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def line(self) -> str:
        return (f"adapters: {self.total} docs: {self.patched} patched, {self.skipped} skipped, {self.failed} failed "
                f"in {self.seconds:.1f} s ({self.docs_per_second:.2f} docs/s, {self.tokens_per_second:.0f} tokens/s)")


def model_identity(cfg: WorkerConfig) -> tuple[str, str, str, str]:
    """(hypernet_id, base_model_id, base_model_revision, refinement key) without loading either model."""
    from hypernet.base_model import resolve
    from hypernet.model import checkpoint_id

    ref = resolve(cfg.base_model, cfg.cache_dir or None)
    return checkpoint_id(hypernet_folder(cfg)), ref.model_id, ref.revision, cfg.refine.key()


def preflight(cfg: WorkerConfig) -> tuple[str, str, str, str]:
    """Check models exist and fit together before any Ray work; a bad setting raises here."""
    from transformers import AutoConfig

    from hypernet.base_model import resolve

    identity = model_identity(cfg)
    check_compatible(AutoConfig.from_pretrained(resolve(cfg.base_model, cfg.cache_dir or None).path),
                     read_hypernet_config(hypernet_folder(cfg)))
    return identity


def generate_adapters(
    docs: "pa.Table | Iterable[pa.RecordBatch]",
    cfg: WorkerConfig,
    on_result: Callable[[AdapterResult], None],
    *,
    progress: bool = True,
) -> RunSummary:
    """Generate one adapter per document; `on_result` gets each outcome in this process, once."""
    start = time.perf_counter()
    table, skipped = input_table(docs)
    hypernet_id, base_id, base_rev, refine_key = preflight(cfg)
    sha_by_id = dict(zip(table.column(DOC_ID).to_pylist(), table.column(SHA256).to_pylist()))
    run = _Delivery(sha_by_id, on_result, Progress(len(sha_by_id), progress))
    pipeline_error = None
    if sha_by_id:
        with ray_runtime.session(cfg), _BlockErrors() as block_errors:
            try:
                for batch in build_dataset(table, cfg).iter_batches(batch_size=None, batch_format="numpy"):
                    run.deliver_batch(batch)
            except Exception as exc:  # noqa: BLE001 - undelivered documents are reported below
                pipeline_error = error_text(exc)
                log.error("adapter pipeline broke off: %s", pipeline_error)
        lost = pipeline_error or block_errors.summary(cfg)
        for doc_id in run.undelivered():
            run.deliver(_failed(doc_id, sha_by_id[doc_id], lost))
    seconds = time.perf_counter() - start
    summary = RunSummary(
        total=len(sha_by_id), patched=run.patched, failed=len(run.errors), skipped=skipped, seconds=seconds,
        docs_per_second=run.patched / seconds if seconds else 0.0,
        tokens_per_second=run.tokens / seconds if seconds else 0.0,
        hypernet_id=hypernet_id, base_model_id=base_id, base_model_revision=base_rev, refine=refine_key,
        errors=run.errors, pipeline_error=pipeline_error,
    )
    run.progress.close(summary.line())
    return summary


def input_table(docs: "pa.Table | Iterable[pa.RecordBatch]") -> "tuple[pa.Table, int]":
    """The input columns, first row per doc_id, longest text first; and how many rows repeated a doc_id.

    Longest first: neighbouring documents (one batch) have similar lengths, so chunks pack well,
    and the longest batches start early rather than straggling at the end.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = docs if isinstance(docs, pa.Table) else pa.Table.from_batches(list(docs))
    missing = [c for c in INPUT_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"documents table lacks column(s) {missing}; it needs {list(INPUT_COLUMNS)}")
    table = table.select(list(INPUT_COLUMNS)).cast(pa.schema([(c, pa.string()) for c in INPUT_COLUMNS]))
    if table.column(DOC_ID).null_count:
        raise ValueError("documents table has rows with a null doc_id")
    seen: set[str] = set()
    first = [i for i, d in enumerate(table.column(DOC_ID).to_pylist()) if not (d in seen or seen.add(d))]
    skipped = table.num_rows - len(first)
    if skipped:
        log.warning("%d rows repeat an earlier doc_id and are skipped", skipped)
        table = table.take(first)
    lengths = pc.fill_null(pc.utf8_length(table.column(TEXT)), 0)
    order = pc.array_sort_indices(lengths, order="descending")
    return table.take(order), skipped


def build_dataset(table: "pa.Table", cfg: WorkerConfig) -> "ray.data.Dataset":
    """The Ray Data plan: one block per batch of documents, a chunking stage, a model stage."""
    import ray.data

    step = cfg.batch_docs
    blocks = [table.slice(i, step) for i in range(0, table.num_rows, step)]
    # No more model actors than batches: an actor without a batch would load its models (and hold a
    # GPU) for nothing.
    actors = max(1, min(cfg.num_actors, len(blocks)))
    ds = ray.data.from_arrow(blocks)
    configure_context(ds.context)  # from_arrow gave this dataset its own copy of the context
    ds = ds.map_batches(
        ChunkStage, fn_constructor_args=(cfg,), batch_size=step, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors), num_cpus=CHUNK_STAGE_CPUS,
    )
    with warnings.catch_warnings():
        # Ray 2.60 has no named parameter for these yet and warns about passing them as kwargs.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
        return ds.map_batches(
            AdapterStage, fn_constructor_args=(cfg,), batch_size=step, batch_format="numpy",
            # One batch running and one queued per actor keeps it busy; Ray's default queue of 4
            # lets the first actor that is ready hoard batches while the others still load.
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=2),
            **model_actor_resources(cfg),
            # A dead actor is replaced and its batches redone, a bounded number of times: a
            # document that kills its process every time must not loop forever (Ray's default).
            max_restarts=-1, max_task_retries=cfg.max_task_retries,
        )


def model_actor_resources(cfg: WorkerConfig) -> dict[str, float]:
    """What each model actor asks Ray for: with num_gpus > 0 Ray places it only on a node with a free
    GPU and sets its CUDA_VISIBLE_DEVICES to the GPU it assigned."""
    return {"num_cpus": cfg.cpus_per_actor, "num_gpus": cfg.gpus_per_actor}


def configure_context(ctx) -> None:
    from ray.util.debug import log_once

    ctx.enable_progress_bars = False  # ours is the one bar; Ray's would interleave with it
    log_once("ray_data_progress_manager_disabled")  # ... and Ray's warning that it is off is noise
    ctx.enable_operator_progress_bars = False
    ctx.print_on_execution_start = False
    # A batch that failed for good (its actor died more than max_task_retries times) must not stop
    # the others; the driver reports its documents as failed.
    ctx.max_errored_blocks = -1
    # A refining batch holds its actor for minutes and gigabytes by design: Ray's hang and memory
    # detectors would repeat a warning every 30 s; our progress bar and run report say what runs.
    ctx.issue_detectors_config.detectors = []


class _Delivery:
    """Driver-side bookkeeping: exactly one on_result per document, counts, the progress bar."""

    def __init__(self, sha_by_id: dict[str, str], on_result: Callable[[AdapterResult], None], progress: Progress):
        self.sha_by_id = sha_by_id
        self.on_result = on_result
        self.progress = progress
        self.delivered: set[str] = set()
        self.errors: dict[str, str] = {}
        self.patched = 0
        self.tokens = 0

    def deliver_batch(self, batch: dict[str, np.ndarray]) -> None:
        files = file_columns()
        for i, doc_id in enumerate(batch[DOC_ID]):
            doc_id = str(doc_id)
            # Ray may redo a batch whose first attempt already got through: later copies are dropped.
            if doc_id in self.delivered or doc_id not in self.sha_by_id:
                continue
            ok = bool(batch[OK][i])
            self.deliver(AdapterResult(
                doc_id=doc_id, doc_sha256=self.sha_by_id[doc_id], ok=ok,
                files={name: bytes(batch[col][i]) for name, col in files.items()} if ok else None,
                n_tokens=int(batch[N_TOKENS][i]), n_chunks=int(batch[N_CHUNKS][i]),
                rank=int(batch[RANK][i]), error=None if ok else str(batch[ERROR][i]),
                seconds=float(batch[SECONDS][i]),
            ))

    def deliver(self, result: AdapterResult) -> None:
        self.delivered.add(result.doc_id)
        error = result.error
        try:
            self.on_result(result)
        except Exception as exc:  # noqa: BLE001 - e.g. the registry refused it: this document fails
            error = f"on_result: {error_text(exc)}"
            log.warning("on_result raised for %s: %s", result.doc_id, error)
        if result.ok and error is None:
            self.patched += 1
            self.tokens += result.n_tokens
        else:
            self.errors[result.doc_id] = error or "unknown error"
        self.progress.update(result.ok and error is None)

    def undelivered(self) -> list[str]:
        return [d for d in self.sha_by_id if d not in self.delivered]


def _failed(doc_id: str, sha: str, error: str) -> AdapterResult:
    return AdapterResult(doc_id, sha, False, None, 0, 0, 0, error, 0.0)


class _BlockErrors(logging.Handler):
    """Keeps the last error Ray Data logged for a batch it gave up on, to tell the caller why."""

    LOGGER = "ray.data"

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.last = error_text(record.exc_info[1])

    def __enter__(self) -> "_BlockErrors":
        import ray.data  # noqa: F401 - its import configures the "ray.data" logger, dropping handlers added before

        logging.getLogger(self.LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)

    def summary(self, cfg: WorkerConfig) -> str:
        why = f" (last error: {self.last})" if self.last else ""
        return (f"RuntimeError: batch lost: Ray gave up on it (its actor died with max_task_retries="
                f"{cfg.max_task_retries} retries used up, or a stage raised){why}")
