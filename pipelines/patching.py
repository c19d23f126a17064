"""Which documents need an adapter, and publishing the adapters the workers return.

Plain functions and one small collector, no Prefect: `pipelines/flows.py` wraps them in tasks.

The registry is the only state. A document is *up to date* when its `latest` pointer names the
version keyed by (doc_id, current sha256, current hypernetwork, current base model). Planning reads
the registry's index once; every document the index does not show as up to date is checked against
the registry itself (`has_version`), so a stale index (a run killed before updating it) never causes
model work twice: an existing version is re-pointed instead of regenerated.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.registry import AdapterKey, Registry
from pipelines.versioned_store import registry_uri

log = logging.getLogger(__name__)

Mode = Literal["missing", "full", "nightly"]
MODES: tuple[str, ...] = ("missing", "full", "nightly")
LOOKUP_THREADS = 8


@dataclass(frozen=True)
class ModelIdentity:
    """What generates the adapters: part of every adapter's key."""

    hypernet_id: str
    base_model_id: str
    base_model_revision: str
    refine: str = ""  # the refinement recipe's key ("" when adapters are published as generated)

    def key(self, doc_id: str, doc_sha256: str) -> AdapterKey:
        """The registry key of this document's adapter under these models and this refinement."""
        return AdapterKey(doc_id, doc_sha256, self.hypernet_id, self.base_model_id, self.base_model_revision,
                          self.refine)


@dataclass
class PatchPlan:
    """The outcome of planning: model work, pointer moves, and what is already done."""

    generate: list[str] = field(default_factory=list)  # doc ids that need the model
    repoint: dict[str, str] = field(default_factory=dict)  # doc id -> existing version id
    up_to_date: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PublishReport:
    """What the generate-and-publish step did."""

    patched: list[str] = field(default_factory=list)  # published (new version or pointer moved)
    unchanged: list[str] = field(default_factory=list)  # generated, but the registry already had it all
    failed: list[dict] = field(default_factory=list)  # {"doc_id", "error"}
    n_tokens: int = 0
    seconds: float = 0.0
    worker_summary: dict = field(default_factory=dict)
    # For the run report: (seconds since publishing started, ok) per document as it arrived, the
    # actors' model seconds (summed), and the time spent writing to the registry.
    timeline: list[tuple[float, bool]] = field(default_factory=list)
    model_seconds: float = 0.0
    publish_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def open_registry(settings, corpus: str) -> Registry:
    """The corpus's registry (a `Settings` gives the store and the storage options).

    Adapter files read for serving are cached locally by sha256 under the cache directory.
    """
    return Registry(registry_uri(settings.store, corpus), settings.storage_options,
                    cache_dir=adapter_cache_dir(settings))


def adapter_cache_dir(settings) -> str:
    """Where every registry caches the adapter files it reads for serving (named by sha256)."""
    from hypernet.base_model import default_cache_dir

    return os.path.join(settings.cache_dir or str(default_cache_dir()), "adapters")


# -- planning (pure) ---------------------------------------------------------------------------------
def candidates(docs: Mapping[str, str], registry_rows: Iterable[dict], identity: ModelIdentity,
               mode: Mode) -> tuple[list[str], int]:
    """(doc ids that may need work, how many the index shows as up to date), sorted.

    missing:  the latest adapter is not the current document under the current models.
    full:     every document.
    nightly:  the latest adapter is missing, tombstoned or for other content (new, changed, or left
              over by an interrupted run); adapters from an older hypernetwork are left to "missing".
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    rows = {r["doc_id"]: r for r in registry_rows}
    todo = []
    for doc_id, sha in docs.items():
        row = rows.get(doc_id)
        live = row is not None and not row.get("tombstoned")
        current = live and row["version_id"] == identity.key(doc_id, sha).version_id
        if mode == "full" or (mode == "missing" and not current) or \
                (mode == "nightly" and not current and (not live or row["doc_sha256"] != sha)):
            todo.append(doc_id)
    up_to_date = 0 if mode == "full" else len(docs) - len(todo)
    return sorted(todo), up_to_date


def to_tombstone(docs: Iterable[str], registry_rows: Iterable[dict], deleted: Iterable[str]) -> list[str]:
    """Docs with a live adapter that are not in the snapshot, plus the diff's deletions, sorted."""
    present = set(docs)
    live = {r["doc_id"] for r in registry_rows if not r.get("tombstoned")}
    return sorted((live - present) | (set(deleted) - present))


# -- planning against the registry -----------------------------------------------------------------
def plan(registry: Registry, docs: Mapping[str, str], identity: ModelIdentity, mode: Mode) -> PatchPlan:
    """Split the candidates into model work and pointer moves to versions that already exist."""
    todo, up_to_date = candidates(docs, registry.list(), identity, mode)
    result = PatchPlan(up_to_date=up_to_date)
    if mode == "full":
        result.generate = todo
        return result
    keys = [identity.key(doc_id, docs[doc_id]) for doc_id in todo]
    for key, pointer, exists in zip(keys, *_lookup(registry, keys)):
        if not exists:
            result.generate.append(key.doc_id)
        elif pointer and not pointer.get("tombstone") and pointer.get("version_id") == key.version_id:
            result.up_to_date += 1  # the index was stale
        else:
            result.repoint[key.doc_id] = key.version_id
    return result


def _lookup(registry: Registry, keys: list[AdapterKey]) -> tuple[list[dict | None], list[bool]]:
    """Pointers and version existence for keys, read in threads (object stores are slow one by one)."""
    if not keys:
        return [], []
    with ThreadPoolExecutor(min(LOOKUP_THREADS, len(keys))) as pool:
        pointers = list(pool.map(lambda k: registry.pointer(k.doc_id), keys))
        exists = list(pool.map(registry.has_version, keys))
    return pointers, exists


def repoint(registry: Registry, targets: Mapping[str, str]) -> list[str]:
    """Move each document's pointer to its existing version; the doc ids moved."""
    for doc_id, version_id in sorted(targets.items()):
        registry.rollback(doc_id, version_id)
    return sorted(targets)


def tombstone(registry: Registry, doc_ids: Iterable[str], run_id: str) -> list[str]:
    """Tombstone documents; the ids whose pointer changed (already tombstoned ones are skipped)."""
    return [d for d in sorted(doc_ids) if registry.tombstone(d, "deleted from corpus", run_id=run_id)]


# -- feeding the workers ------------------------------------------------------------------------------
def select_batches(batches: Iterable[pa.RecordBatch], doc_ids: Iterable[str]) -> Iterator[pa.RecordBatch]:
    """Only the rows of the wanted documents, in bounded memory."""
    wanted = pa.array(sorted(set(doc_ids)), type=pa.string())
    for batch in batches:
        picked = batch.filter(pc.is_in(batch.column("doc_id"), value_set=wanted))
        if picked.num_rows:
            yield picked


# -- publishing what the workers return ----------------------------------------------------------------
class Publisher:
    """The `on_result` callback: publishes each good adapter, records each failure.

    Adapters are published in small groups with `publish_many` (one index update per group), so a
    killed run loses at most one group of unpublished work and the index stays nearly current.
    """

    def __init__(self, registry: Registry, identity: ModelIdentity, lineage: dict, run_id: str,
                 group_size: int = 16):
        self.registry = registry
        self.identity = identity
        self.lineage = lineage
        self.run_id = run_id
        self.group_size = max(1, group_size)
        self.report = PublishReport()
        self._pending: list[tuple] = []
        self._started = time.perf_counter()

    def __call__(self, result) -> None:
        """Take one `workers.pipeline.AdapterResult`."""
        self.report.timeline.append((time.perf_counter() - self._started, bool(result.ok)))
        self.report.model_seconds += result.seconds
        if not result.ok:
            self.report.failed.append({"doc_id": result.doc_id, "error": result.error or "unknown error"})
            return
        key = self.identity.key(result.doc_id, result.doc_sha256)
        lineage = {**self.lineage, "n_chunks": result.n_chunks, "n_tokens": result.n_tokens,
                   "rank": result.rank, "generation_seconds": round(result.seconds, 4)}
        self.report.n_tokens += result.n_tokens
        self._pending.append((key, result.files, lineage))
        if len(self._pending) >= self.group_size:
            self.flush()

    def flush(self) -> None:
        """Publish the pending adapters; per-document errors become failures, not a crash."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        started = time.perf_counter()
        try:
            results = self.registry.publish_many(pending, run_id=self.run_id)
        except Exception:  # noqa: BLE001 - find the culprit one by one below
            results = []
            for key, files, lineage in pending:
                try:
                    results.append(self.registry.publish(key, files, lineage, run_id=self.run_id))
                except Exception as exc:  # noqa: BLE001 - one bad adapter must not stop the run
                    log.warning("publishing %s failed: %s", key.doc_id, exc)
                    self.report.failed.append({"doc_id": key.doc_id, "error": f"publish failed: {exc}"})
        for r in results:
            (self.report.patched if r.created or r.pointer_moved else self.report.unchanged).append(r.key.doc_id)
        self.report.publish_seconds += time.perf_counter() - started

    def close(self) -> PublishReport:
        """Publish what is left and return the report."""
        self.flush()
        self.report.seconds = time.perf_counter() - self._started
        self.report.patched.sort()
        return self.report
