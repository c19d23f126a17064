"""The docpatch jobs as Prefect flows: ingest, backfill (`patch_flow`), the nightly re-patch, meta-training.

    ingest_flow      source -> Parquet snapshot + diff
    patch_flow       latest snapshot -> an adapter for every document that lacks a current one
                     (all of them with full=True) -> registry
    nightly_repatch  ingest, then adapters for new and changed documents, tombstones for deleted ones
    meta_train_flow  teacher examples -> Ray Train job -> eval against the current hypernetwork ->
                     register + promote it if it wins (or forced) -> report -> optional backfill;
                     on a corpus (job.training_corpus): its split, its adapters as dense targets beside the
                     teacher examples, the decision on its held-out split and the eval file, and a
                     backfill of the corpus (pipelines/corpus_training.py)

Tasks that read or write the store retry (S3 has bad moments); the one task that runs the models
does not: it is the expensive part, and a re-run of the flow resumes where it stopped, because the
registry is the only state and planning skips everything already published.

Each flow returns a JSON-able summary. The registry of a corpus is `{corpus_uri}/registry`.
Patch and nightly runs also leave a report for operators under `STORE/runs/RUN_ID/` (pipelines/runs.py):
report.md, report.json and throughput.png; the summary's "report" is its URI.
"""
from __future__ import annotations

import json
import os
import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from workers.config import WorkerConfig

from pipelines import patching, runs
from pipelines.meta_training import MetaTrainJob
from pipelines.patching import ModelIdentity, PatchPlan, PublishReport, open_registry
from pipelines.settings import Settings
from pipelines.storage import redact_uri

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


# -- tasks ---------------------------------------------------------------------------------------------
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
    report = runs.build_report(flow, corpus, summary, clock=clock, flow_run_id=_run_id(), timeline=published.timeline,
                               model_seconds=published.model_seconds, publish_seconds=published.publish_seconds,
                               settings_record=settings.record())
    return runs.write_report(settings.store, report, settings.storage_options)


# -- flows ------------------------------------------------------------------------------------------------
@flow(name="docpatch-ingest", log_prints=False)
def ingest_flow(source: str, corpus: str, settings: Settings | None = None) -> dict:
    """Ingest a source into a new snapshot of a corpus."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    result = ingest_snapshot(source, corpus, settings)
    _log_ingest(result)
    return {"flow": "ingest", **result, "seconds": round(time.perf_counter() - started, 3)}


@flow(name="docpatch-backfill", log_prints=False)
def patch_flow(corpus: str, full: bool = False, settings: Settings | None = None, progress: bool = True) -> dict:
    """Give every document of the latest snapshot a current adapter (regenerate all with full)."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    clock = runs.StageClock()
    snapshot_id, docs = read_snapshot_hashes(corpus, settings)
    summary, published = _patch(corpus, settings, snapshot_id, docs, "full" if full else "backfill", progress, clock)
    result = {"flow": "patch", "corpus": corpus, **summary, "seconds": round(time.perf_counter() - started, 3)}
    return _with_report(result, settings, published, clock)


@flow(name="docpatch-nightly", log_prints=False)
def nightly_repatch(source: str, corpus: str, settings: Settings | None = None, progress: bool = True,
                    job: MetaTrainJob | None = None) -> dict:
    """Ingest, then patch new and changed documents and tombstone deleted ones; with the
    `train_after_refined` setting, then meta-train on the corpus once enough of its adapters were
    refined since its last training (`job`: that run's settings; its corpus is this one)."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    clock = runs.StageClock()
    ingested = ingest_snapshot(source, corpus, settings)
    _log_ingest(ingested)
    clock.lap("ingest")
    snapshot_id, docs = read_snapshot_hashes(corpus, settings)
    summary, published = _patch(corpus, settings, snapshot_id, docs, "nightly", progress, clock)
    deleted = read_deleted(corpus, settings, snapshot_id)
    tombstoned = tombstone_docs(corpus, settings, find_tombstones(corpus, settings, list(docs), deleted), _run_id())
    get_run_logger().info("tombstoned %d deleted documents", len(tombstoned))
    clock.lap("tombstone")
    flywheel = None
    if settings.train_after_refined:
        flywheel = _flywheel(corpus, settings, job, progress)
        clock.lap("flywheel")
    result = {"flow": "nightly", "corpus": corpus, "counts": ingested["counts"], "rejected": ingested["rejected"],
              **summary, "tombstoned": len(tombstoned), "tombstoned_ids": tombstoned,
              **({"flywheel": flywheel} if flywheel else {}), "seconds": round(time.perf_counter() - started, 3)}
    return _with_report(result, settings, published, clock)


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def count_refined(corpus: str, settings: Settings) -> dict:
    """Documents of the corpus refined since its last corpus training ({"refined", "since"})."""
    from pipelines.corpus_training import last_training, refined_since

    last = last_training(settings, corpus)
    since = last["started_at"] if last else None
    return {"refined": refined_since(settings, corpus, since), "since": since}


def _flywheel(corpus: str, settings: Settings, job: MetaTrainJob | None, progress: bool) -> dict:
    """Start corpus meta-training when `train_after_refined` documents were refined since the last one.
    A failed training is reported in the result and logged: the night's patching stands either way."""
    import dataclasses

    logger = get_run_logger()
    counted = count_refined(corpus, settings)
    out = {**counted, "threshold": settings.train_after_refined}
    if counted["refined"] < settings.train_after_refined:
        return {**out, "skipped": f"{counted['refined']} refined documents since the last corpus training, fewer "
                                  f"than {settings.train_after_refined}"}
    logger.info("flywheel: %d refined documents since %s: meta-training on corpus %s", counted["refined"],
                counted["since"] or "ever", corpus)
    try:
        trained = meta_train_flow(settings=settings, job=dataclasses.replace(job or MetaTrainJob(), training_corpus=corpus),
                                  progress=progress)
    except Exception as exc:  # noqa: BLE001 - the nightly patching is done and published
        logger.warning("flywheel: meta-training on corpus %s failed: %s", corpus, exc)
        return {**out, "error": f"{type(exc).__name__}: {exc}"}
    decision = trained["decision"]
    return {**out, "meta_train": {"run_name": trained["run_name"], "promoted": bool(decision.get("promoted")),
                                  "hypernet_id": decision.get("hypernet_id"), "reason": decision["reason"],
                                  "report": trained["report"]}}


def _patch(corpus: str, settings: Settings, snapshot_id: str, docs: dict[str, str], mode: str,
           progress: bool, clock: runs.StageClock) -> tuple[dict, PublishReport]:
    """The shared middle of both patching flows: plan, move pointers, generate, publish."""
    logger = get_run_logger()
    identity = identify_models(settings)
    plan = plan_patch(corpus, settings, docs, identity, mode)
    logger.info("%s: %d docs, %d up to date, %d to generate, %d to re-point", mode, len(docs),
                plan.up_to_date, len(plan.generate), len(plan.repoint))
    clock.lap("plan")
    repointed = repoint_adapters(corpus, settings, plan.repoint) if plan.repoint else []
    clock.lap("repoint")
    report = PublishReport()
    if plan.generate:
        report = generate_and_publish(corpus, settings, snapshot_id, plan.generate, identity, _run_id(), progress)
    clock.lap("generate")
    for failure in report.failed:
        logger.warning("no adapter for %s: %s", failure["doc_id"], failure["error"])
    return {
        "snapshot_id": snapshot_id, "mode": mode, **identity.__dict__, "docs": len(docs),
        "up_to_date": plan.up_to_date, "generated": len(plan.generate), "patched": len(report.patched),
        "repointed": len(repointed), "failed": report.failed, "patched_ids": report.patched,
        "model_work": bool(plan.generate), "n_tokens": report.n_tokens,
    }, report


def _with_report(result: dict, settings: Settings, published: PublishReport, clock: runs.StageClock) -> dict:
    """The flow's result with the URI of its run report (None when it could not be written: the
    adapters are published either way, so a report problem is a warning, not a failed run)."""
    try:
        result["report"] = write_run_report(result["flow"], result["corpus"], settings, result, published, clock)
    except Exception as exc:  # noqa: BLE001
        get_run_logger().warning("could not write the run report: %s", exc)
        result["report"] = None
    return result


def _run_id() -> str:
    """The id of the current flow run (recorded with every adapter and tombstone)."""
    from prefect.runtime import flow_run

    return str(flow_run.get_id() or "")


def _log_ingest(result: dict) -> None:
    counts = result["counts"]
    get_run_logger().info("snapshot %s: %s", result["snapshot_id"],
                          ", ".join(f"{counts[k]} {k}" for k in ("added", "changed", "unchanged", "deleted", "rejected")))


# -- meta-training ----------------------------------------------------------------------------------------
# prepare -> train (Ray Train) -> fetch checkpoints -> evaluate against the current hypernetwork ->
# register + promote only if it beats it (or forced) -> report -> optional backfill.
@task(**STORE_RETRIES, **TASK_DEFAULTS)
def plan_corpus_training(cfg: MetaTrainJob, settings: Settings) -> dict:
    """The corpus's split by doc id, its adapters as dense targets, its documents' questions (no model work)."""
    from hypernet.base_model import resolve
    from pipelines import corpus_training as ct

    split = ct.split_corpus(settings, cfg.training_corpus, cfg.holdout_share)
    ref = resolve(settings.base_model, settings.cache_dir or None)
    started_at = ct._now()  # adapters published after this are new to the next corpus training
    targets = ct.dense_targets(settings, cfg.training_corpus, split.train, ref.model_id, ref.revision)
    distill = ct.distillation_documents(split.train, cfg.train.questions_per_doc) if cfg.train.distill_share else []
    return {"split": split.record(), "holdout": split.holdout, "targets": targets.record(),
            "dense_docs": targets.docs, "distill_docs": distill, "started_at": started_at}


@task(retries=1, retry_delay_seconds=[10], retry_condition_fn=_worth_retrying, **TASK_DEFAULTS)
def prepare_training_data(cfg: MetaTrainJob, worker: WorkerConfig, storage: str, storage_options: dict,
                          progress: bool = True, docs: list[dict] | None = None) -> dict:
    """Teacher examples for the run's documents (`docs`, else train.data's), as Parquet shards in the
    training storage (resumable)."""
    from workers.meta_train import model_setup, prepare_data
    from workers.train_data import open_location

    loc = open_location(storage, storage_options)
    return prepare_data(cfg, worker, loc, model_setup(cfg, worker), progress=progress, docs=docs).to_dict()


@task(retries=1, retry_delay_seconds=[10], retry_condition_fn=_worth_retrying, **TASK_DEFAULTS)
def prepare_dense_targets(cfg: MetaTrainJob, settings: Settings, worker: WorkerConfig, docs: list[dict],
                          progress: bool = True) -> dict:
    """Dense targets of the corpus's training documents from their adapters, as Parquet shards (resumable)."""
    from pipelines.corpus_training import adapter_loader
    from workers.meta_train import model_setup, prepare_dense_data
    from workers.train_data import open_location

    loc = open_location(settings.training_uri, settings.storage_options)
    return prepare_dense_data(cfg, worker, loc, model_setup(cfg, worker), docs, adapter_loader(settings, cfg.training_corpus),
                              progress=progress).to_dict()


@task(**TASK_DEFAULTS)
def run_training_job(cfg: MetaTrainJob, worker: WorkerConfig, storage: str, storage_options: dict, data: dict | None,
                     dense: dict | None = None) -> dict:
    """The Ray Train job. Not retried here: it recovers from worker failures itself, and a re-run resumes."""
    from workers.meta_train import fit, model_setup
    from workers.train_data import PreparedData, open_location

    loc = open_location(storage, storage_options)
    return fit(cfg, worker, loc, PreparedData(**data) if data else None, model_setup(cfg, worker),
               PreparedData(**dense) if dense else None).to_dict()


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def fetch_checkpoints(storage: str, storage_options: dict, checkpoints: list[dict], dest: str) -> dict[int, str]:
    """Copy the kept checkpoints' hypernetwork files to local folders: step -> folder."""
    from hypernet.model import CONFIG_FILE, WEIGHTS_FILE
    from workers.train_data import open_location

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
                       limit: int, progress: bool = True) -> dict:
    """Eval accuracy of base, context, each candidate checkpoint's adapters and the current hypernetwork's."""
    from pipelines.meta_training import evaluate_hypernets as run

    return run(eval_path, settings, candidates, current, limit, progress)


@task(**TASK_DEFAULTS)
def make_corpus_qa(settings: Settings, docs: list[dict], questions_per_doc: int, path: str) -> dict:
    """The held-out documents' self-made questions that the in-context teacher answers right, as an eval file."""
    import torch

    from hypernet import base_model
    from pipelines import corpus_training as ct

    model, tok, _ref = base_model.load(settings.base_model, settings.cache_dir or None,
                                       device="cuda" if torch.cuda.is_available() else "cpu", dtype=settings.dtype)
    records = ct.corpus_qa(docs, questions_per_doc, ct.teacher_verdicts(model, tok, settings.read_dtype))
    ct.write_jsonl(records, path)
    return {"path": path, "n_docs": len(records), "n_questions": sum(len(r["qa"]) for r in records)}


@task(**STORE_RETRIES, **TASK_DEFAULTS)
def record_corpus_training(settings: Settings, corpus: str, record: dict) -> None:
    """Note the corpus's last meta-training (the flywheel counts refined adapters from its start)."""
    from pipelines.corpus_training import record_training

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
    from pipelines.training_report import JSON_NAME, PNG_NAME, plot
    from workers.train_data import open_location

    loc = open_location(storage, storage_options)
    uris = {"json": loc.uri_of(f"{run_path}/{JSON_NAME}"), "png": loc.uri_of(f"{run_path}/{PNG_NAME}")}
    loc.write_bytes(f"{run_path}/{PNG_NAME}", plot(report))
    loc.write_bytes(f"{run_path}/{JSON_NAME}", json.dumps({**report, "report": uris}, indent=1, default=str).encode())
    return uris


@task(retries=3, retry_delay_seconds=[2, 5, 15], **TASK_DEFAULTS)
def trigger_backfill_deployment(deployment: str, corpus: str) -> str:
    """Start a run of a backfill deployment (`flow-name/deployment-name`) and return without waiting."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name=deployment, parameters={"corpus": corpus}, timeout=0)
    return str(flow_run.id)


@flow(name="docpatch-meta-train", log_prints=False)
def meta_train_flow(settings: Settings | None = None, job: MetaTrainJob | None = None, progress: bool = True) -> dict:
    """Meta-train a hypernetwork on Ray Train (on a corpus: its adapters as dense targets), evaluate it,
    register it if it beats the current one, backfill."""
    import tempfile

    from hypernet.model import checkpoint_id
    from pipelines import corpus_training as ct
    from pipelines import meta_training as meta
    from workers import ray_runtime

    settings = settings or Settings.load()
    cfg = meta.train_job_config(settings, job or MetaTrainJob())
    logger = get_run_logger()
    started = time.perf_counter()
    worker, storage, options = settings.to_worker_config(), settings.training_uri, settings.storage_options
    meta.say(progress, f"meta-training run {cfg.run_name}: {cfg.num_workers} workers, {cfg.train.steps} steps "
                       f"of {cfg.global_batch} documents, storage {meta.safe_uri(storage)}")
    corpus = plan_corpus_training(cfg, settings) if cfg.training_corpus else None
    if corpus is not None:
        split, targets = corpus["split"], corpus["targets"]
        meta.say(progress, f"corpus {cfg.training_corpus}: {split['n_train']} training documents, {split['n_holdout']} held "
                           f"out; {targets['n_targets']} adapters as dense targets ({targets['refined']} refined)")
        if targets["unrefined"]:
            message = (f"{targets['unrefined']} of the {targets['n_targets']} adapters of corpus {cfg.training_corpus} were not "
                       "refined: the hypernetwork learns to reproduce one-pass adapters there (set refine_steps and "
                       "backfill for better targets)")
            logger.warning(message)
            meta.say(True, "warning: " + message)  # on stderr with --json too: a warning, not progress
    with ray_runtime.session(worker):
        prepared, dense = None, None
        if corpus is None or corpus["distill_docs"]:
            prepared = prepare_training_data(cfg, worker, storage, options, progress,
                                             docs=corpus["distill_docs"] if corpus else None)
            meta.say(progress, f"training data: {prepared['n_examples']} documents at {meta.safe_uri(prepared['uri'])}"
                               f"{' (reused)' if prepared['reused'] else ''}")
        if corpus is not None and cfg.train.distill_share < 1:
            dense = prepare_dense_targets(cfg, settings, worker, corpus["dense_docs"], progress)
            meta.say(progress, f"dense targets: {dense['n_examples']} documents at {meta.safe_uri(dense['uri'])}"
                               f"{' (reused)' if dense['reused'] else ''}")
        outcome = run_training_job(cfg, worker, storage, options, prepared, dense)
    logger.info("trained %s to step %d (%d restores)", cfg.run_name, outcome["steps"], len(outcome["restores"]))
    meta.say(progress, f"trained to step {outcome['steps']} in {outcome['seconds']:.0f} s; final checkpoint "
                       f"{meta.safe_uri(outcome['checkpoint_uri'])}; evaluating")
    current = meta.current_hypernet_info(settings)
    corpus_eval = None
    with tempfile.TemporaryDirectory(prefix="docpatch-meta-") as tmp:
        folders = fetch_checkpoints(storage, options, outcome["checkpoints"], tmp)
        eval_path = cfg.eval_file or meta.synthetic_eval_file(os.path.join(tmp, "eval.jsonl"), cfg.eval_docs)
        evaluation = evaluate_hypernets(eval_path, settings, folders, current, cfg.eval_limit, progress)
        evaluation["file"] = cfg.eval_file or f"synthetic held-out ({cfg.eval_docs} documents)"
        final = folders[outcome["steps"]]
        if corpus is not None:
            qa = make_corpus_qa(settings, corpus["holdout"], cfg.train.questions_per_doc,
                                os.path.join(tmp, "corpus_qa.jsonl"))
            meta.say(progress, f"the corpus's own QA: {qa['n_questions']} questions of {qa['n_docs']} held-out "
                               "documents that the in-context teacher answers right")
            corpus_eval = (evaluate_hypernets(qa["path"], settings, folders, current, cfg.eval_limit, progress)
                           if qa["n_questions"] else meta.empty_evaluation(folders, current))
            corpus_eval["file"] = f"corpus {cfg.training_corpus}: held-out split, self-made questions the teacher answers"
            decision = ct.decide(checkpoint_id(final), corpus_eval, evaluation, outcome["steps"],
                                 cfg.generic_tolerance, cfg.force)
        else:
            decision = meta.decide(checkpoint_id(final), evaluation["checkpoints"][str(outcome["steps"])],
                                   evaluation["current"], cfg.force)
        meta.say(progress, f"decision: {decision['reason']}")
        if decision["register"]:
            lineage = meta.lineage(settings, cfg, outcome, prepared, evaluation, corpus, dense, corpus_eval)
            decision.update(register_hypernet(settings, final, lineage, current["registry_current"],
                                              decision["reason"], cfg.run_name))
            if not decision["promoted"]:
                decision["reason"] += "; not promoted: the current hypernetwork changed during the run"
    if corpus is not None:
        record_corpus_training(settings, cfg.training_corpus, {
            "run_name": cfg.run_name, "started_at": corpus["started_at"], "finished_at": ct._now(),
            "snapshot_id": corpus["split"]["snapshot_id"], "registered": decision.get("hypernet_id"),
            "promoted": bool(decision.get("promoted")), "reason": decision["reason"]})
    report = meta.build_report(cfg, worker, prepared, outcome, evaluation, current, decision,
                               corpus=meta.corpus_report(corpus, dense, corpus_eval) if corpus else None)
    report_uris = write_training_report(storage, options, outcome["run_path"], report)
    meta.say(progress, f"report: {meta.safe_uri(report_uris['json'])}, {meta.safe_uri(report_uris['png'])}")

    backfill = None
    if cfg.backfill_corpus and decision.get("promoted"):
        if cfg.backfill_deployment:
            backfill = {"deployment": cfg.backfill_deployment,
                        "flow_run_id": trigger_backfill_deployment(cfg.backfill_deployment, cfg.backfill_corpus)}
        else:
            backfill = patch_flow(cfg.backfill_corpus, settings=settings.with_overrides(hypernet_path=""),
                                  progress=progress)
    elif cfg.backfill_corpus:
        backfill = {"skipped": "no new hypernetwork was promoted"}
    data = {k: prepared[k] for k in ("fingerprint", "n_examples", "reused")} if prepared else None
    return {"flow": "meta-train", "run_name": cfg.run_name, "run_uri": meta.safe_uri(outcome["run_uri"]),
            "checkpoint": meta.safe_uri(outcome["checkpoint_uri"]), "steps": outcome["steps"],
            "restores": outcome["restores"], "data": data, "final_metrics": outcome["final_metrics"],
            "eval": evaluation, "decision": decision, "report": report_uris, "backfill": backfill,
            **({"corpus": report["corpus"]} if corpus else {}),
            "seconds": round(time.perf_counter() - started, 3)}
