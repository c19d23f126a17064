"""The docpatch flows' Prefect tasks: verb-named and thin over pipelines/ and workers/, one step each.

Tasks that read or write the store retry (S3 has bad moments) unless the error is an answer (a missing
snapshot, a bad value); the tasks that run the models do not retry, or once at most: they are the
expensive part, and a re-run of the flow resumes where it stopped (pipelines/flows.py runs them).
"""
from __future__ import annotations

import json
import os

from prefect import task
from prefect.cache_policies import NO_CACHE

from workers.config import WorkerConfig
from workers.storage import open_location, redact_uri

from pipelines import patching, runs
from pipelines.meta_train.job import MetaTrainJob
from pipelines.patching import ModelIdentity, PatchPlan, PublishReport, open_registry
from pipelines.settings import Settings

def _worth_retrying(task, task_run, state) -> bool:
    """Retry store hiccups, not answers: a missing snapshot or a bad value is the same 15 s later."""
    try:
        state.result()
    except (FileNotFoundError, ValueError, KeyError):
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return True


STORE_RETRIES = dict(retries=3, retry_delay_seconds=[2, 5, 15], retry_condition_fn=_worth_retrying)
# The registry and snapshots are the state; Prefect's result cache would only hide re-runs.
TASK_DEFAULTS = dict(cache_policy=NO_CACHE)


# -- patching ---------------------------------------------------------------------------------------------
@task(**STORE_RETRIES, **TASK_DEFAULTS)
def ingest_snapshot(source: str, corpus: str, settings: Settings) -> dict:
    """Read the source into a new snapshot of the corpus and diff it against the previous one."""
    from pipelines.snapshot import ingest

    result = ingest(source, corpus, settings.store, storage_options=settings.storage_options,
                    max_doc_bytes=settings.max_doc_bytes, row_group_size=settings.row_group_size,
                    settings_record=settings.record(), id_field=settings.id_field, text_field=settings.text_field)
    return result.to_dict()


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def read_snapshot_hashes(corpus: str, settings: Settings) -> tuple[str, dict[str, str]]:
    """The latest snapshot id and its doc_id -> sha256 (no texts)."""
    from pipelines.snapshot import latest_snapshot_id, read_snapshot

    snapshot_id = latest_snapshot_id(settings.store, corpus, settings.storage_options)
    if snapshot_id is None:
        raise FileNotFoundError(f"corpus {corpus!r} has no snapshot in {settings.store}; run `docpatch ingest` first")
    table = read_snapshot(settings.store, corpus, snapshot_id, columns=["doc_id", "sha256"],
                          storage_options=settings.storage_options)
    return snapshot_id, dict(zip(table.column("doc_id").to_pylist(), table.column("sha256").to_pylist()))


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def read_deleted(corpus: str, settings: Settings, snapshot_id: str) -> list[str]:
    """The doc ids the snapshot's diff marks as deleted."""
    from pipelines.snapshot import read_diff

    diff = read_diff(settings.store, corpus, snapshot_id, storage_options=settings.storage_options)
    return [row["doc_id"] for row in diff.select(["doc_id", "status"]).to_pylist() if row["status"] == "deleted"]


@task(**TASK_DEFAULTS)
def identify_models(settings: Settings) -> ModelIdentity:
    """The hypernetwork id and base model id + revision the adapters will be keyed by."""
    from workers.pipeline import model_identity

    return ModelIdentity(*model_identity(settings.to_worker_config()))


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def plan_patch(corpus: str, settings: Settings, docs: dict[str, str], identity: ModelIdentity,
               mode: str) -> PatchPlan:
    """Decide which documents need the model and which only need their pointer moved."""
    return patching.plan(open_registry(settings, corpus), docs, identity, mode)  # type: ignore[arg-type]


@task(**TASK_DEFAULTS)
def generate_and_publish(corpus: str, settings: Settings, snapshot_id: str, doc_ids: list[str],
                         identity: ModelIdentity, run_id: str, progress: bool = True) -> PublishReport:
    """Run the hypernetwork over the documents on Ray and publish each adapter as it arrives."""
    from pipelines.snapshot import iter_snapshot_batches
    from workers.pipeline import generate_adapters

    lineage = {"corpus": corpus, "snapshot_id": snapshot_id, "settings": settings.record()}
    publisher = patching.Publisher(open_registry(settings, corpus), identity, lineage, run_id,
                                   group_size=settings.batch_docs)
    batches = iter_snapshot_batches(settings.store, corpus, snapshot_id, columns=["doc_id", "sha256", "text"],
                                    storage_options=settings.storage_options)
    summary = generate_adapters(patching.select_batches(batches, doc_ids), settings.to_worker_config(),
                                publisher, progress=progress)
    report = publisher.close()
    ran_with = ModelIdentity(summary.hypernet_id, summary.base_model_id, summary.base_model_revision, summary.refine)
    if ran_with != identity:
        raise RuntimeError(f"models changed during the run: planned for {identity}, generated with {ran_with}")
    report.worker_summary = summary.to_dict()
    return report


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def repoint_adapters(corpus: str, settings: Settings, targets: dict[str, str]) -> list[str]:
    """Point documents at adapter versions that already exist (no model work)."""
    return patching.repoint(open_registry(settings, corpus), targets)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def find_tombstones(corpus: str, settings: Settings, docs: list[str], deleted: list[str]) -> list[str]:
    """Documents with a live adapter that are no longer in the corpus."""
    return patching.to_tombstone(docs, open_registry(settings, corpus).list(), deleted)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def tombstone_docs(corpus: str, settings: Settings, doc_ids: list[str], run_id: str) -> list[str]:
    """Tombstone deleted documents in the registry."""
    return patching.tombstone(open_registry(settings, corpus), doc_ids, run_id)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def write_run_report(flow: str, corpus: str, settings: Settings, summary: dict, published: PublishReport,
                     clock: runs.StageClock) -> str:
    """Write the run's report (report.md, report.json, throughput.png) under STORE/runs/; its URI."""
    report = runs.build_report(flow, corpus, summary, clock=clock, flow_run_id=flow_run_id(), timeline=published.timeline,
                               model_seconds=published.model_seconds, publish_seconds=published.publish_seconds,
                               settings_record=settings.record())
    return runs.write_report(settings.store, report, settings.storage_options)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def count_refined(corpus: str, settings: Settings) -> dict:
    """Documents of the corpus refined since its last corpus training ({"refined", "since"})."""
    from pipelines.meta_train.corpus import last_training, refined_since

    last = last_training(settings, corpus)
    since = last["started_at"] if last else None
    return {"refined": refined_since(settings, corpus, since), "since": since}


def flow_run_id() -> str:
    """The id of the current flow run (recorded with every adapter and tombstone)."""
    from prefect.runtime import flow_run

    return str(flow_run.get_id() or "")


# -- meta-training ----------------------------------------------------------------------------------------
@task(**STORE_RETRIES, **TASK_DEFAULTS)
def plan_corpus_training(cfg: MetaTrainJob, settings: Settings) -> dict:
    """The corpus's split by doc id, its adapters as dense targets, its documents' questions (no model work)."""
    from hypernet.base_model import resolve
    from pipelines.meta_train import corpus as ct
    from pipelines.versioned_store import now

    split = ct.split_corpus(settings, cfg.training_corpus, cfg.holdout_share)
    ref = resolve(settings.base_model, settings.cache_dir or None)
    started_at = now()  # adapters published after this are new to the next corpus training
    targets = ct.dense_targets(settings, cfg.training_corpus, split.train, ref.model_id, ref.revision)
    distill = ct.distillation_documents(split.train, cfg.train.questions_per_doc) if cfg.train.distill_share else []
    return {"split": split.record(), "train": split.train, "holdout": split.holdout, "targets": targets.record(),
            "dense_docs": targets.docs, "distill_docs": distill, "started_at": started_at}


@task(retries=1, retry_delay_seconds=[10], retry_condition_fn=_worth_retrying, **TASK_DEFAULTS)
def prepare_training_data(cfg: MetaTrainJob, worker: WorkerConfig, storage: str, storage_options: dict,
                          progress: bool = True, docs: list[dict] | None = None) -> dict:
    """Teacher examples for the run's documents (`docs`, else train.data's), as Parquet shards in the
    training storage (resumable)."""
    from workers.meta_train import model_setup, prepare_data

    loc = open_location(storage, storage_options)
    return prepare_data(cfg, worker, loc, model_setup(cfg, worker), progress=progress, docs=docs).to_dict()


@task(retries=1, retry_delay_seconds=[10], retry_condition_fn=_worth_retrying, **TASK_DEFAULTS)
def prepare_dense_targets(cfg: MetaTrainJob, settings: Settings, worker: WorkerConfig, docs: list[dict],
                          progress: bool = True) -> dict:
    """Dense targets of the corpus's training documents from their adapters, as Parquet shards (resumable)."""
    from pipelines.meta_train.corpus import adapter_loader
    from workers.meta_train import model_setup, prepare_dense_data

    loc = open_location(settings.training_uri, settings.storage_options)
    return prepare_dense_data(cfg, worker, loc, model_setup(cfg, worker), docs, adapter_loader(settings, cfg.training_corpus),
                              progress=progress).to_dict()


@task(**TASK_DEFAULTS)
def run_training_job(cfg: MetaTrainJob, worker: WorkerConfig, storage: str, storage_options: dict, data: dict | None,
                     dense: dict | None = None) -> dict:
    """The Ray Train job. Not retried here: it recovers from worker failures itself, and a re-run resumes."""
    from workers.meta_train import fit, model_setup
    from workers.train_data import PreparedData

    loc = open_location(storage, storage_options)
    return fit(cfg, worker, loc, PreparedData(**data) if data else None, model_setup(cfg, worker),
               PreparedData(**dense) if dense else None).to_dict()


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def fetch_checkpoints(storage: str, storage_options: dict, checkpoints: list[dict], dest: str) -> dict[int, str]:
    """Copy the kept checkpoints' hypernetwork files to local folders: step -> folder."""
    from hypernet.model import CONFIG_FILE, WEIGHTS_FILE

    loc = open_location(storage, storage_options)
    folders = {}
    for ckpt in checkpoints:
        folder = os.path.join(dest, f"step-{ckpt['step']:06d}")
        os.makedirs(folder, exist_ok=True)
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            with open(os.path.join(folder, name), "wb") as fh:
                fh.write(loc.read_bytes(f"{ckpt['path']}/{name}"))
        folders[ckpt["step"]] = folder
    return folders


@task(**TASK_DEFAULTS)
def evaluate_hypernets(eval_path: str, settings: Settings, candidates: dict[int, str], current: dict,
                       limit: int, progress: bool = True, context: float | None = None) -> dict:
    """Eval accuracy of base, context (unless known: `context`), each candidate checkpoint's adapters and the
    current hypernetwork's."""
    from pipelines.meta_train.job import evaluate_hypernets as run

    return run(eval_path, settings, candidates, current, limit, progress, context)


@task(**TASK_DEFAULTS)
def evaluate_task_hypernets(eval_path: str, settings: Settings, candidates: dict[int, str], current: dict,
                            limit: int, progress: bool = True) -> dict:
    """Share of held-out task outputs the checkers accept: base, context, each candidate's adapters, the current
    task hypernetwork's."""
    from pipelines.meta_train.job import evaluate_task_hypernets as run

    return run(eval_path, settings, candidates, current, limit, progress)


@task(**TASK_DEFAULTS)
def make_corpus_qa(settings: Settings, docs: list[dict], questions_per_doc: int, path: str, limit: int = 0) -> dict:
    """The held-out documents' self-made questions that the in-context teacher answers right, as an eval file
    (of the first `limit` documents that have any; 0: all)."""
    from pipelines.meta_train import corpus as ct
    from pipelines.answering import load_base_model

    model, tok, _ref = load_base_model(settings)
    records = ct.corpus_qa(docs, questions_per_doc, ct.teacher_verdicts(model, tok, settings.read_dtype), limit)
    ct.write_jsonl(records, path)
    return {"path": path, "n_docs": len(records), "n_questions": sum(len(r["qa"]) for r in records)}


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def record_corpus_training(settings: Settings, corpus: str, record: dict) -> None:
    """Note the corpus's last meta-training (the flywheel counts refined adapters from its start)."""
    from pipelines.meta_train.corpus import record_training

    record_training(settings, corpus, record)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def register_hypernet(settings: Settings, folder: str, lineage: dict, expected_current: str | None,
                      reason: str, run: str) -> dict:
    """Store the checkpoint as a hypernetwork version and make it current (compare-and-swap)."""
    from pipelines.hypernets import HypernetRegistry

    registry = HypernetRegistry(settings.store, settings.storage_options, settings.cache_dir or None)
    manifest, created = registry.register(folder, lineage)
    promoted = registry.promote(manifest["hypernet_id"], expected=expected_current, reason=reason, run=run)
    return {"hypernet_id": manifest["hypernet_id"], "created": created, "promoted": promoted,
            "registry": redact_uri(registry.uri)}


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def write_training_report(storage: str, storage_options: dict, run_path: str, report: dict) -> dict:
    """The run's report as JSON and PNG beside its checkpoints; their URIs."""
    from pipelines.meta_train.report import JSON_NAME, PNG_NAME, plot

    loc = open_location(storage, storage_options)
    uris = {"json": loc.uri_of(f"{run_path}/{JSON_NAME}"), "png": loc.uri_of(f"{run_path}/{PNG_NAME}")}
    loc.write_bytes(f"{run_path}/{PNG_NAME}", plot(report))
    loc.write_bytes(f"{run_path}/{JSON_NAME}", json.dumps({**report, "report": uris}, indent=1, default=str).encode())
    return uris


@task(retries=3, retry_delay_seconds=[2, 5, 15], **TASK_DEFAULTS)
def trigger_patch_deployment(deployment: str, corpus: str) -> str:
    """Start a run of a patch deployment (`flow-name/deployment-name`) and return without waiting."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name=deployment, parameters={"corpus": corpus}, timeout=0)
    return str(flow_run.id)
