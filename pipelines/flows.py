"""The docpatch jobs as Prefect flows: ingest, patch, the nightly re-patch, meta-training.

    ingest_flow      source -> Parquet snapshot + diff
    patch_flow       latest snapshot -> an adapter for every document that lacks a current one
                     (all of them with full=True) -> registry
    nightly_repatch  ingest, then adapters for new and changed documents, tombstones for deleted ones
    meta_train_flow  teacher examples -> Ray Train job -> eval against the current hypernetwork ->
                     register + promote it if it wins (or forced) -> report -> optional patch;
                     on a corpus (job.training_corpus): its split, its adapters as dense targets beside the
                     teacher examples, the decision on its held-out split and the eval file, and a
                     patch of the corpus (pipelines/meta_train/corpus.py); on tasks (job.train.data
                     "tasks"): task examples, eval on held-out tasks against the current task
                     hypernetwork, never registered

The flows call the tasks of pipelines/tasks.py in order. Tasks that read or write the store retry
(S3 has bad moments); the one task that runs the models does not: it is the expensive part, and a
re-run of the flow resumes where it stopped, because the registry is the only state and planning
skips everything already published.

Each flow returns a JSON-able summary. The registry of a corpus is `{corpus_uri}/registry`.
Patch and nightly runs also leave a report for operators under `STORE/runs/RUN_ID/` (pipelines/runs.py):
report.md, report.json and throughput.png; the summary's "report" is its URI.
"""
from __future__ import annotations

import os
import time

from prefect import flow, get_run_logger

from workers.config import WorkerConfig
from workers.storage import redact_uri

from pipelines import runs
from pipelines.meta_train.job import MetaTrainJob
from pipelines.patching import PublishReport
from pipelines.settings import Settings
from pipelines.tasks import (count_refined, evaluate_hypernets, evaluate_task_hypernets, fetch_checkpoints,
                             find_tombstones, flow_run_id, generate_and_publish, identify_models, ingest_snapshot,
                             make_corpus_qa, plan_corpus_training, plan_patch, prepare_dense_targets,
                             prepare_training_data, read_deleted, read_snapshot_hashes, record_corpus_training,
                             register_hypernet, repoint_adapters, run_training_job, tombstone_docs,
                             trigger_patch_deployment, write_run_report, write_training_report)


# -- flows ------------------------------------------------------------------------------------------------
@flow(name="docpatch-ingest", log_prints=False)
def ingest_flow(source: str, corpus: str, settings: Settings | None = None) -> dict:
    """Ingest a source into a new snapshot of a corpus."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    result = ingest_snapshot(source, corpus, settings)
    _log_ingest(result)
    return {"flow": "ingest", **result, "seconds": round(time.perf_counter() - started, 3)}


@flow(name="docpatch-patch", log_prints=False)
def patch_flow(corpus: str, full: bool = False, settings: Settings | None = None, progress: bool = True) -> dict:
    """Give every document of the latest snapshot a current adapter (regenerate all with full)."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    clock = runs.StageClock()
    snapshot_id, docs = read_snapshot_hashes(corpus, settings)
    summary, published = _patch(corpus, settings, snapshot_id, docs, "full" if full else "missing", progress, clock)
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
    doomed = find_tombstones(corpus, settings, list(docs), deleted)
    tombstoned = tombstone_docs(corpus, settings, doomed, flow_run_id())
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
        report = generate_and_publish(corpus, settings, snapshot_id, plan.generate, identity, flow_run_id(), progress)
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


def _log_ingest(result: dict) -> None:
    counts = result["counts"]
    get_run_logger().info("snapshot %s: %s", result["snapshot_id"],
                          ", ".join(f"{counts[k]} {k}" for k in ("added", "changed", "unchanged", "deleted", "rejected")))



# -- meta-training: prepare -> train (Ray Train) -> fetch checkpoints -> evaluate against the current
# hypernetwork -> register + promote only if it beats it (or forced) -> report -> optional patch.
@flow(name="docpatch-meta-train", log_prints=False)
def meta_train_flow(settings: Settings | None = None, job: MetaTrainJob | None = None, progress: bool = True) -> dict:
    """Meta-train a hypernetwork on Ray Train (on a corpus: its adapters as dense targets), evaluate it,
    register it if it beats the current one, patch a corpus with it."""
    import tempfile

    from pipelines.meta_train import job as meta
    from pipelines.meta_train.report import build_report, corpus_report

    settings = settings or Settings.load()
    cfg = meta.train_job_config(settings, job or MetaTrainJob())
    started = time.perf_counter()
    worker, storage, options = settings.to_worker_config(), settings.training_uri, settings.storage_options
    tasks = cfg.train.data == "tasks"  # a task hypernetwork: judged on held-out tasks, never registered
    meta.say(progress, f"meta-training run {cfg.run_name}: {cfg.num_workers} workers, {cfg.train.steps} steps "
                       f"of {cfg.global_batch} {'tasks' if tasks else 'documents'}, storage {redact_uri(storage)}")
    corpus = _plan_corpus(cfg, settings, progress) if cfg.training_corpus else None
    prepared, dense, outcome = _train(cfg, settings, worker, corpus, progress)
    current = meta.current_task_hypernet_info(settings) if tasks else meta.current_hypernet_info(settings)
    with tempfile.TemporaryDirectory(prefix="docpatch-meta-") as tmp:
        folders = fetch_checkpoints(storage, options, outcome["checkpoints"], tmp)
        final = folders[outcome["steps"]]
        if corpus is not None:
            corpus["routing"] = _route(cfg, settings, folders, corpus, current, progress)
        evaluation, corpus_eval = _evaluate(cfg, settings, folders, current, corpus, tmp, progress)
        decision = _decide(cfg, final, outcome, evaluation, corpus_eval)
        meta.say(progress, f"decision: {decision['reason']}")
        if decision["register"]:
            lineage = meta.lineage(settings, cfg, outcome, prepared, evaluation, corpus, dense, corpus_eval)
            decision.update(register_hypernet(settings, final, lineage, current["registry_current"],
                                              decision["reason"], cfg.run_name))
            if not decision["promoted"]:
                decision["reason"] += "; not promoted: the current hypernetwork changed during the run"
    if corpus is not None:
        _record_corpus_training(settings, cfg, corpus, decision)
    report = build_report(cfg, worker, prepared, outcome, evaluation, current, decision,
                          corpus=corpus_report(corpus, dense, corpus_eval) if corpus else None)
    report_uris = write_training_report(storage, options, outcome["run_path"], report)
    meta.say(progress, f"report: {redact_uri(report_uris['json'])}, {redact_uri(report_uris['png'])}")
    patched = _patch_with_new_hypernet(cfg, settings, decision, progress)
    data = {k: prepared[k] for k in ("fingerprint", "n_examples", "reused")} if prepared else None
    return {"flow": "meta-train", "run_name": cfg.run_name, "run_uri": redact_uri(outcome["run_uri"]),
            "checkpoint": redact_uri(outcome["checkpoint_uri"]), "steps": outcome["steps"],
            "restores": outcome["restores"], "data": data, "final_metrics": outcome["final_metrics"],
            "eval": evaluation, "decision": decision, "report": report_uris, "patch": patched,
            **({"corpus": report["corpus"]} if corpus else {}),
            "seconds": round(time.perf_counter() - started, 3)}


def _plan_corpus(cfg: MetaTrainJob, settings: Settings, progress: bool) -> dict:
    """The training corpus's split and dense targets, said; a warning when some targets were not refined."""
    from pipelines.meta_train.job import say

    corpus = plan_corpus_training(cfg, settings)
    split, targets = corpus["split"], corpus["targets"]
    say(progress, f"corpus {cfg.training_corpus}: {split['n_train']} training documents, {split['n_holdout']} held "
                  f"out; {targets['n_targets']} adapters as dense targets ({targets['refined']} refined)")
    if targets["unrefined"]:
        message = (f"{targets['unrefined']} of the {targets['n_targets']} adapters of corpus {cfg.training_corpus} were not "
                   "refined: the hypernetwork learns to reproduce one-pass adapters there (set refine_steps and "
                   "patch for better targets)")
        get_run_logger().warning(message)
        say(True, "warning: " + message)  # on stderr with --json too: a warning, not progress
    return corpus


def _route(cfg: MetaTrainJob, settings: Settings, folders: dict[int, str], corpus: dict, current: dict,
           progress: bool) -> dict:
    """The fetched checkpoints routed to the current hypernetwork for documents unlike the corpus (unless
    route_quantile is 0), said."""
    from pipelines.meta_train.corpus import route_checkpoints
    from pipelines.meta_train.job import say

    if not cfg.route_quantile:
        return {"routed": False, "reason": "route_quantile 0"}
    routing = route_checkpoints(settings, folders, corpus["train"], current["folder"], cfg.route_quantile)
    if routing["routed"]:
        say(progress, f"routing: documents less like the {routing['n_keys']} training documents than "
                      f"{routing['threshold']:.3f} (their {cfg.route_quantile:g} quantile) keep {routing['fallback']}")
    else:
        get_run_logger().warning("checkpoints not routed: %s", routing["reason"])
        say(True, f"warning: checkpoints not routed: {routing['reason']}")
    return routing


def _train(cfg: MetaTrainJob, settings: Settings, worker: WorkerConfig, corpus: dict | None,
           progress: bool) -> tuple[dict | None, dict | None, dict]:
    """Teacher examples (and, on a corpus, dense targets) prepared, then the Ray Train job: (prepared, dense,
    outcome)."""
    from pipelines.meta_train.job import say
    from workers import ray_runtime

    storage, options = settings.training_uri, settings.storage_options
    with ray_runtime.session(worker):
        prepared, dense = None, None
        if corpus is None or corpus["distill_docs"]:
            prepared = prepare_training_data(cfg, worker, storage, options, progress,
                                             docs=corpus["distill_docs"] if corpus else None)
            what = "tasks" if cfg.train.data == "tasks" else "documents"
            say(progress, f"training data: {prepared['n_examples']} {what} at {redact_uri(prepared['uri'])}"
                          f"{' (reused)' if prepared['reused'] else ''}")
        if corpus is not None and cfg.train.distill_share < 1:
            dense = prepare_dense_targets(cfg, settings, worker, corpus["dense_docs"], progress)
            say(progress, f"dense targets: {dense['n_examples']} documents at {redact_uri(dense['uri'])}"
                          f"{' (reused)' if dense['reused'] else ''}")
        outcome = run_training_job(cfg, worker, storage, options, prepared, dense)
    get_run_logger().info("trained %s to step %d (%d restores)", cfg.run_name, outcome["steps"],
                          len(outcome["restores"]))
    say(progress, f"trained to step {outcome['steps']} in {outcome['seconds']:.0f} s; final checkpoint "
                  f"{redact_uri(outcome['checkpoint_uri'])}; evaluating")
    return prepared, dense, outcome


def _evaluate(cfg: MetaTrainJob, settings: Settings, folders: dict[int, str], current: dict, corpus: dict | None,
              tmp: str, progress: bool) -> tuple[dict, dict | None]:
    """The checkpoints and the current hypernetwork on the eval file and, on a corpus, on the held-out
    documents' own questions: (evaluation, corpus evaluation or None). A task run: on held-out tasks."""
    from pipelines.meta_train import job as meta

    if cfg.train.data == "tasks":
        eval_path = cfg.eval_file or meta.synthetic_task_eval_file(os.path.join(tmp, "eval_tasks.jsonl"), cfg.eval_docs)
        evaluation = evaluate_task_hypernets(eval_path, settings, folders, current, cfg.eval_limit, progress)
        evaluation["file"] = cfg.eval_file or f"synthetic held-out ({cfg.eval_docs} eval-split tasks)"
        return evaluation, None
    eval_path = cfg.eval_file or meta.synthetic_eval_file(os.path.join(tmp, "eval.jsonl"), cfg.eval_docs)
    evaluation = evaluate_hypernets(eval_path, settings, folders, current, cfg.eval_limit, progress)
    evaluation["file"] = cfg.eval_file or f"synthetic held-out ({cfg.eval_docs} documents)"
    if corpus is None:
        return evaluation, None
    qa = make_corpus_qa(settings, corpus["holdout"], cfg.train.questions_per_doc, os.path.join(tmp, "corpus_qa.jsonl"),
                        cfg.eval_limit)
    meta.say(progress, f"the corpus's own QA: {qa['n_questions']} questions of {qa['n_docs']} held-out "
                       "documents that the in-context teacher answers right")
    # Every question kept is one the teacher answered right in context: context is 1.0 by construction.
    corpus_eval = (evaluate_hypernets(qa["path"], settings, folders, current, cfg.eval_limit, progress, context=1.0)
                   if qa["n_questions"] else meta.empty_evaluation(folders, current))
    corpus_eval["file"] = f"corpus {cfg.training_corpus}: held-out split, self-made questions the teacher answers"
    return evaluation, corpus_eval


def _decide(cfg: MetaTrainJob, final: str, outcome: dict, evaluation: dict, corpus_eval: dict | None) -> dict:
    """Whether the final checkpoint replaces the current hypernetwork: on a corpus, by its held-out questions first;
    a task hypernetwork never does."""
    from hypernet.model import checkpoint_id
    from pipelines.meta_train import corpus as ct
    from pipelines.meta_train import job as meta

    steps = outcome["steps"]
    if cfg.train.data == "tasks":
        return meta.decide_task(checkpoint_id(final), evaluation["checkpoints"][str(steps)], evaluation["current"],
                                redact_uri(outcome["checkpoint_uri"]))
    if corpus_eval is not None:
        return ct.decide(checkpoint_id(final), corpus_eval, evaluation, steps, cfg.generic_tolerance, cfg.force)
    return meta.decide(checkpoint_id(final), evaluation["checkpoints"][str(steps)], evaluation["current"], cfg.force)


def _record_corpus_training(settings: Settings, cfg: MetaTrainJob, corpus: dict, decision: dict) -> None:
    from pipelines.versioned_store import now

    record_corpus_training(settings, cfg.training_corpus, {
        "run_name": cfg.run_name, "started_at": corpus["started_at"], "finished_at": now(),
        "snapshot_id": corpus["split"]["snapshot_id"], "registered": decision.get("hypernet_id"),
        "promoted": bool(decision.get("promoted")), "reason": decision["reason"]})


def _patch_with_new_hypernet(cfg: MetaTrainJob, settings: Settings, decision: dict, progress: bool) -> dict | None:
    """The job's patch corpus re-patched with the promoted hypernetwork (or its patch deployment started)."""
    if not cfg.patch_corpus:
        return None
    if not decision.get("promoted"):
        return {"skipped": "no new hypernetwork was promoted"}
    if cfg.patch_deployment:
        return {"deployment": cfg.patch_deployment,
                "flow_run_id": trigger_patch_deployment(cfg.patch_deployment, cfg.patch_corpus)}
    return patch_flow(cfg.patch_corpus, settings=settings.with_overrides(hypernet_path=""), progress=progress)
