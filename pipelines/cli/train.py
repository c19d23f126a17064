"""`docpatch train`: meta-train the hypernetwork in one resumable process (hypernet.train), or run the
meta-train flow (--workers N, --corpus KB): a Ray Train job, its evaluation and registration, the patch.

The flags are fields of hypernet.config.TrainConfig and pipelines.meta_train.job.MetaTrainJob (help and
default from there); the job checks its own values and inputs (MetaTrainJob.__post_init__, check_inputs).
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from pipelines.settings import COMMON, TRAIN, WORKERS, Settings

from pipelines.cli.options import Command, field_flag
from pipelines.cli.output import UserError, emit, note, one_line, patch_line

# (field, flag, metavar) of the fields with a flag of their own; other TrainConfig fields: --set KEY=VALUE.
TRAIN_FLAGS = (("init_from", "--init-from", "PATH"), ("data", "--data", "SOURCE"), ("steps", "--steps", "N"),
               ("lr", "--lr", "LR"), ("warmup", "--warmup", "N"), ("save_every", "--save-every", "N"),
               ("seed", "--seed", "N"))
SINGLE_PROCESS_FLAGS = (("out_dir", "--out", "DIR"),)
JOB_FLAGS = (("num_workers", "--workers", "N"), ("global_batch", "--global-batch", "B"), ("num_docs", "--docs", "N"),
             ("run_name", "--run-name", "NAME"), ("keep_checkpoints", "--keep-checkpoints", "N"),
             ("max_failures", "--max-failures", "N"), ("eval_file", "--eval-file", "FILE.jsonl"),
             ("eval_docs", "--eval-docs", "N"), ("eval_limit", "--eval-limit", "N"), ("force", "--force", None),
             ("patch_corpus", "--patch", "CORPUS"), ("patch_deployment", "--patch-deployment", "FLOW/DEPLOYMENT"),
             ("training_corpus", "--corpus", "CORPUS"), ("holdout_share", "--holdout-share", "SHARE"),
             ("generic_tolerance", "--generic-tolerance", "SHARE"), ("route_quantile", "--route-quantile", "Q"))
# TrainConfig fields the single-process trainer takes from the settings, and where a user sets them.
FROM_SETTINGS = {"base_model": "--base-model", "dtype": "DOCPATCH_DTYPE", "torch_threads": "--torch-threads"}


def train(args: argparse.Namespace, settings: Settings) -> int:
    if not args.num_workers and not args.training_corpus:
        return _single_process(args, settings)
    if args.num_workers is not None and args.num_workers < 1:
        raise UserError(f"--workers must be 0 (one process) or more, got {args.num_workers}"
                        if args.num_workers < 0 else "--corpus trains in the meta-train flow: give --workers N >= 1")
    from pipelines.meta_train.job import train_job_config

    try:
        job = train_job_config(settings, meta_train_job(args))
    except ValueError as exc:  # a malformed eval file
        raise UserError(one_line(exc)) from None
    from pipelines.meta_train.corpus import NoTrainingTargets
    from pipelines.flows import meta_train_flow

    try:
        result = meta_train_flow(settings=settings, job=job, progress=not args.json)
    except NoTrainingTargets as exc:
        raise UserError(str(exc)) from None
    rows = [{"checkpoint step": step, "adapter accuracy": f"{acc:.3f}"}
            for step, acc in result["eval"]["checkpoints"].items()]
    emit(args, result, rows=rows, text="\n".join(_flow_lines(result)))
    return 0


def _single_process(args: argparse.Namespace, settings: Settings) -> int:
    from hypernet.train import train as run_training
    from pipelines.meta_train.job import resolve_train

    cfg = resolve_train(settings, single_process_config(args, settings))
    latest = run_training(cfg, log=note)
    emit(args, {"checkpoint": latest, "steps": cfg.steps}, text=f"checkpoint: {latest}")
    return 0


def _given(args: argparse.Namespace, flags) -> dict[str, Any]:
    """The values of the flags the user gave, by field name."""
    return {name: getattr(args, name) for name, _flag, _metavar in flags if getattr(args, name) is not None}


def single_process_config(args: argparse.Namespace, settings: Settings):
    """The single-process trainer's TrainConfig: its defaults, the flags and --set given, and the
    settings' base model, dtype and torch threads."""
    from hypernet.config import TrainConfig

    given = [flag for name, flag, _ in JOB_FLAGS if name != "num_workers" and getattr(args, name) is not None]
    if given:
        raise UserError(f"{given[0]} belongs to the distributed meta-train flow: add --workers N (N >= 1)")
    try:
        return TrainConfig(**parse_train_overrides(args.set), **_given(args, TRAIN_FLAGS + SINGLE_PROCESS_FLAGS),
                           **{name: getattr(settings, name) for name in FROM_SETTINGS})
    except (TypeError, ValueError) as exc:
        raise UserError(one_line(exc)) from None


def meta_train_job(args: argparse.Namespace):
    """The meta-train flow's MetaTrainJob: its defaults, and the flags and --set given."""
    from hypernet.config import TrainConfig
    from pipelines.meta_train.job import MetaTrainJob

    if args.out_dir is not None:
        raise UserError("--out belongs to the single-process trainer (without --workers)")
    try:
        train = TrainConfig(**parse_train_overrides(args.set), **_given(args, TRAIN_FLAGS))
        return MetaTrainJob(**_given(args, JOB_FLAGS), train=train)
    except (TypeError, ValueError) as exc:
        raise UserError(one_line(exc)) from None


def parse_train_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs as TrainConfig fields, each converted to its field's type."""
    from hypernet.config import TrainConfig

    types = {f.name: type(f.default) for f in dataclasses.fields(TrainConfig)}
    flags = {name: flag for name, flag, _ in TRAIN_FLAGS + SINGLE_PROCESS_FLAGS} | FROM_SETTINGS
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise UserError(f"--set {pair!r}: want KEY=VALUE with KEY one of {', '.join(sorted(set(types) - set(flags)))}")
        if key in flags:
            raise UserError(f"--set {key}: use {flags[key]}")
        try:
            out[key] = types[key](value)
        except ValueError:
            raise UserError(f"--set {key}={value!r}: not a valid {types[key].__name__}") from None
    return out


def _flow_lines(result: dict) -> list[str]:
    """The meta-train flow's outcome for people: the run, the corpus, the eval, the decision, the patch."""
    evaluation, decision, corpus = result["eval"], result["decision"], result.get("corpus")
    current = evaluation["current"]
    lines = [f"run {result['run_name']}: {result['steps']} steps, {len(result['restores'])} restores; "
             f"final checkpoint {result['checkpoint']}"]
    if corpus:
        split, targets, held_out = corpus["split"], corpus["targets"], corpus["eval"]
        lines.append(f"corpus {split['corpus']}: {split['n_train']} documents trained on ({targets['n_targets']} "
                     f"dense targets, {targets['refined']} refined), {split['n_holdout']} held out; their own QA "
                     f"({held_out['n_questions']} questions): context {_fraction(held_out['context'])}, current "
                     f"{_fraction(held_out['current']['accuracy'])}, new "
                     f"{_fraction(held_out['checkpoints'][str(result['steps'])])}")
    unit = evaluation.get("unit", "questions")  # a task run: task outputs
    lines += [f"eval ({evaluation['n_questions']} {unit}): base {evaluation['base']:.3f}, "
              f"context {evaluation['context']:.3f}, current {current['id']} "
              + (f"{current['accuracy']:.3f}" if current["accuracy"] is not None else "(does not fit the base model)"),
              (f"registered and made current: {decision.get('hypernet_id')} ({decision['reason']})"
               if decision.get("promoted") else f"decision: {decision['reason']}"),
              f"report: {result['report']['json']} and {result['report']['png']}"]
    patched = result["patch"]
    if patched:
        lines.append("patch: " + (f"deployment {patched['deployment']} started (flow run {patched['flow_run_id']})"
                                  if "deployment" in patched else patched.get("skipped") or patch_line(patched)))
    return lines


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


DESCRIPTION = (
    "Meta-train the hypernetwork by context distillation. Without --workers a single resumable process "
    "writes checkpoints to --out. With --workers N >= 1 the meta-train flow runs: "
    "teacher examples are prepared by Ray actors into Parquet under the training storage, a Ray Train "
    "job trains on N data-parallel workers (DDP; a global batch of --global-batch documents split "
    "between them), checkpoints go to TRAIN_STORAGE/RUN_NAME/step-NNNNNN (and a run resumes from its "
    "latest after a worker failure or a re-run with the same --run-name); then the final checkpoint is "
    "evaluated against the current hypernetwork on a held-out eval file and registered as the store's "
    "new current hypernetwork only if it answers more questions (or with --force); a report "
    "(training_report.json + .png) is written beside the checkpoints; --patch then re-patches a corpus "
    "with it. --corpus KB runs the flow on a corpus: its documents (but a held-out split), its adapters as "
    "dense targets, the decision on the held-out split's own questions and the eval file, then a patch "
    "of KB. --data tasks trains a task hypernetwork (Text-to-LoRA, docs/tasks.md) in either mode; the flow "
    "evaluates it on held-out tasks and never registers it. Both modes train with the same defaults "
    "(hypernet.config.TrainConfig). In the flow, "
    "--num-actors is the number of teacher actors that prepare the data, "
    "--cpus-per-actor / --gpus-per-actor / --torch-threads size every teacher actor and training worker, "
    "and the worker options also apply to the patch.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from hypernet.config import TrainConfig
    from pipelines.meta_train.job import MetaTrainJob

    p.description = DESCRIPTION
    train_fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    job_fields = {f.name: f for f in dataclasses.fields(MetaTrainJob)}
    both = p.add_argument_group("both modes")
    for name, flag, metavar in TRAIN_FLAGS:
        extra = ", or 'current' for the one the pipeline uses now" if name == "init_from" else ""
        field_flag(both, train_fields[name], flag, metavar=metavar, extra=extra)
    both.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="any other hypernet.config.TrainConfig field, e.g. --set latent_dim=64 "
                           "--set ce_weight=0.3 (repeatable)")
    local = p.add_argument_group("single process (without --workers)")
    for name, flag, metavar in SINGLE_PROCESS_FLAGS:
        field_flag(local, train_fields[name], flag, metavar=metavar)
    flow = p.add_argument_group("distributed meta-train flow (--workers N >= 1)")
    for name, flag, metavar in JOB_FLAGS:
        solo = name == "num_workers"  # the flag chooses the mode: without it, no flow runs
        field_flag(flow, job_fields[name], flag, metavar=metavar, note="the flow's " if solo else "",
                   extra="; without this flag (or with 0) a single process trains instead" if solo else "")


COMMANDS = (Command("train", "meta-train the hypernetwork: one process, or a Ray Train job + eval + registration "
                    "(--workers N)", train, add_arguments, groups=(COMMON, WORKERS, TRAIN)),)
