"""The meta-train job and how its result is judged: the pieces of the meta-train flow that are not Prefect.

The flow (`pipelines.flows.meta_train_flow`) calls these through thin tasks. The decision rule:
the final checkpoint of the run (not the best one on the eval file: choosing on the eval set would
bias the very comparison it is judged by) is registered and made current when its adapters answer
more eval questions than the current hypernetwork's, when the current one does not fit the base
model (nothing to compare), or when forced. A tie keeps the current one. A corpus job decides on the
corpus's held-out questions first (pipelines.meta_train.corpus.decide). A task job (train.data "tasks",
Text-to-LoRA) is judged on held-out tasks against the current task hypernetwork and never registered:
the registry holds the pipeline's document hypernetwork (`decide_task`). The report is report.py's.
"""
from __future__ import annotations

import dataclasses
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hypernet.config import GENERATED_DATA, TrainConfig
from workers.config import MetaTrainConfig
from workers.storage import redact_uri

from pipelines.meta_train.report import data_record, eval_record
from pipelines.settings import Settings

SYNTHETIC_EVAL_SEED = 20_261_125


def say(enabled: bool, message: str) -> None:
    """A progress line for people, on stderr."""
    if enabled:
        print(message, file=sys.stderr, flush=True)


def default_run_name() -> str:
    return "meta-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


@dataclass(frozen=True)
class MetaTrainJob(MetaTrainConfig):
    """One run of the meta-train flow: the Ray Train job (workers.config.MetaTrainConfig: its width,
    checkpoints and the optimisation in `train`), then how the result is judged and what follows.

    `train.init_from` may also be "current": the hypernetwork the pipeline uses now.
    """

    eval_file: str = field(default="", metadata={
        "help": 'held-out eval file, one {"id", "text", "qa": [{"q", "a"}]} per line, or with train.data "tasks" a '
                "task file (hypernet.tasks.write_jsonl) (empty: eval_docs synthetic documents, or tasks, of the eval "
                "split, never trained on)"})
    eval_docs: int = field(default=16, metadata={"help": "size of the default synthetic eval set"})
    eval_limit: int = field(default=0, metadata={"help": "evaluate only the first N documents of the eval file and, on "
                                                         "a corpus, of its held-out documents with questions (0: all)"})
    force: bool = field(default=False, metadata={
        "help": "register and promote the new hypernetwork even if it does not beat the current one"})
    patch_corpus: str = field(default="", metadata={
        "help": "after a new hypernetwork is promoted, give every document of this corpus a new adapter (the "
                "patch flow, run as a subflow)"})
    patch_deployment: str = field(default="", metadata={
        "help": "start this Prefect deployment (FLOW/DEPLOYMENT, e.g. docpatch-patch/patch-kb; needs "
                "PREFECT_API_URL) for the patch instead, without waiting for it"})
    training_corpus: str = field(default="", metadata={
        "help": "train on this corpus (pipelines.meta_train.corpus): the documents of its latest snapshot but a "
                "held-out split, its registry's adapters as dense targets, questions made up from each document "
                "for the distillation share; starts from the current hypernetwork (unless train.init_from says "
                "otherwise), registers the result only if it wins on the held-out split without losing more than "
                "generic_tolerance on the eval file, then patches the corpus (unless patch_corpus names "
                "another)"})
    holdout_share: float = field(default=0.1, metadata={
        "help": "with training_corpus: the share of its documents held out by a hash of the doc id, never trained "
                "on; their self-made questions that the in-context teacher answers right are the decision's test"})
    generic_tolerance: float = field(default=0.1, metadata={
        "help": "with training_corpus: the most the new hypernetwork may lose on the eval file, relative to the "
                "current one"})
    route_quantile: float = field(default=0.02, metadata={
        "help": "with training_corpus: route documents unlike the corpus to the current hypernetwork "
                "(hypernet.routing): a document less like its nearest training document than this quantile of "
                "the training documents' own nearest-neighbour similarities keeps the current hypernetwork's "
                "adapter (0: the new hypernetwork reads every document)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.eval_docs < 1 or self.eval_limit < 0:
            raise ValueError(f"MetaTrainJob: eval_docs={self.eval_docs} must be >= 1 and "
                             f"eval_limit={self.eval_limit} >= 0")
        if self.patch_deployment and not self.patch_corpus and not self.training_corpus:
            raise ValueError("MetaTrainJob.patch_deployment needs patch_corpus (the corpus it patches)")
        if not 0 <= self.holdout_share < 1 or not 0 <= self.generic_tolerance <= 1 or not 0 <= self.route_quantile < 1:
            raise ValueError(f"MetaTrainJob: holdout_share={self.holdout_share} and route_quantile="
                             f"{self.route_quantile} must be in [0, 1) and generic_tolerance={self.generic_tolerance} "
                             "in [0, 1]")
        if self.train.data == "tasks" and (self.training_corpus or self.patch_corpus):
            raise ValueError(f"MetaTrainJob: train.data='tasks' makes a task hypernetwork, which never becomes the "
                             f"pipeline's document hypernetwork: no training_corpus ({self.training_corpus!r}) or "
                             f"patch_corpus ({self.patch_corpus!r}) with it")
        if self.training_corpus and self.train.data != "synthetic":
            raise ValueError(f"MetaTrainJob: training_corpus={self.training_corpus!r} and train.data="
                             f"{self.train.data!r} are two sources of training documents; give one")
        if self.training_corpus and self.train.dense_batch % self.num_workers:
            raise ValueError(f"MetaTrainJob: train.dense_batch={self.train.dense_batch} must be a multiple of "
                             f"num_workers={self.num_workers} (every worker takes an equal share of each batch)")

    def check_inputs(self, settings: Settings) -> None:
        """The eval file and the corpora the job names exist (file and store reads, which __post_init__
        leaves out): FileNotFoundError, ValueError (a malformed eval file) or pipelines.lookup.Unavailable."""
        from pipelines.lookup import check_corpus_name, latest_snapshot

        if self.training_corpus:
            latest_snapshot(settings, self.training_corpus)
        if self.train.data == "tasks":
            from pipelines.task_adapters import resolve_task_hypernet_path

            resolve_task_hypernet_path(settings)  # the current one, judged against
        if self.eval_file:
            if not os.path.isfile(self.eval_file):
                raise FileNotFoundError(f"eval file not found: {self.eval_file}")
            read_eval(self.eval_file, self.train.data == "tasks")
        if self.patch_corpus:
            check_corpus_name(self.patch_corpus)
            if not self.patch_deployment:  # a deployment's corpus lives where that deployment runs
                latest_snapshot(settings, self.patch_corpus)


def resolve_train(settings: Settings, train: TrainConfig) -> TrainConfig:
    """`train` with init_from "current" made the folder of the hypernetwork the pipeline uses now; its
    data file and init folder checked (FileNotFoundError). Both trainers start from this."""
    from pipelines.hypernets import resolve_hypernet_path

    if train.init_from == "current":
        train = dataclasses.replace(train, init_from=resolve_hypernet_path(settings))
    if train.data not in GENERATED_DATA and not os.path.isfile(train.data):
        raise FileNotFoundError(f"training data not found: {train.data}")
    if train.init_from and not os.path.isdir(train.init_from):
        raise FileNotFoundError(f"--init-from: no hypernetwork checkpoint folder at {train.init_from}")
    return train


def train_job_config(settings: Settings, job: MetaTrainJob) -> MetaTrainJob:
    """The job ready to run: its inputs checked (check_inputs), named (meta-DATE-TIME unless given), its
    `train` resolved (resolve_train). A corpus job starts from the current hypernetwork and patches its
    corpus unless told otherwise."""
    job.check_inputs(settings)
    if job.training_corpus:
        job = dataclasses.replace(job, patch_corpus=job.patch_corpus or job.training_corpus,
                                  train=dataclasses.replace(job.train, init_from=job.train.init_from or "current"))
    return dataclasses.replace(job, run_name=job.run_name or default_run_name(), train=resolve_train(settings, job.train))


def read_eval(path: str, tasks: bool) -> list:
    """The eval file's documents (hypernet.evaluate.read_eval_file) or, for a task job, its tasks
    (hypernet.tasks.read_jsonl); ValueError for a file of the other kind or a malformed one."""
    from hypernet.evaluate import read_eval_file
    from hypernet.tasks import read_jsonl
    from pipelines.task_adapters import is_task_file

    if is_task_file(path) != tasks:
        raise ValueError(f"eval file {path}: " + ("a task run is evaluated on a task file (hypernet.tasks.write_jsonl)"
                                                  if tasks else "holds tasks; a document run is evaluated on "
                                                                "documents"))
    return read_jsonl(path) if tasks else read_eval_file(path)


def current_hypernet_info(settings: Settings) -> dict:
    """The hypernetwork the pipeline uses now: its id, folder, where it comes from, and the registry pointer."""
    from hypernet.model import checkpoint_id, default_checkpoint
    from pipelines.hypernets import current_hypernet

    registered = current_hypernet(settings)
    if settings.hypernet_path:
        folder, source = settings.hypernet_path, "setting"
    elif registered:
        folder, source = registered[1], "registry"
    else:
        folder, source = default_checkpoint(), "shipped"
    return {"id": checkpoint_id(folder), "folder": folder, "source": source,
            "registry_current": registered[0] if registered else None}


def current_task_hypernet_info(settings: Settings) -> dict:
    """The task hypernetwork `docpatch task` uses now, in current_hypernet_info's form (no registry holds one)."""
    from hypernet.model import checkpoint_id
    from pipelines.task_adapters import resolve_task_hypernet_path

    folder = resolve_task_hypernet_path(settings)
    return {"id": checkpoint_id(folder), "folder": folder,
            "source": "setting" if settings.task_hypernet_path else "shipped", "registry_current": None}


def synthetic_eval_file(path: str, n_docs: int) -> str:
    """A held-out eval file: synthetic documents of the eval split (unseen kinds, phrasing), fixed seed."""
    from hypernet.synthetic import make_doc, write_jsonl

    rng = random.Random(SYNTHETIC_EVAL_SEED)
    write_jsonl([make_doc(rng, "eval", n_questions=4) for _ in range(max(1, n_docs))], path)
    return path


def synthetic_task_eval_file(path: str, n_tasks: int) -> str:
    """A held-out task file: tasks of the eval split (unseen wordings and families), fixed seed."""
    from hypernet.tasks import make_task, write_jsonl

    rng = random.Random(SYNTHETIC_EVAL_SEED)
    write_jsonl([make_task(rng, "eval", n_inputs=4) for _ in range(max(1, n_tasks))], path)
    return path


def evaluate_hypernets(eval_path: str, settings: Settings, candidates: dict[int, str], current: dict, limit: int = 0,
                       progress: bool = True, context: float | None = None) -> dict:
    """Accuracy on the eval file: base and context once, adapters of each candidate and of the current one.
    `context`: the context accuracy where the file is built to have it (questions the in-context teacher
    answers right: 1.0), not measured again."""
    from hypernet.evaluate import evaluate_docs

    docs = read_eval(eval_path, tasks=False)
    docs = docs[:limit] if limit else docs

    def score(model, tok, modes: list[str], net) -> tuple[dict[str, float], int, dict | None]:
        report = evaluate_docs(docs, modes, model, tok, net)
        return {m: report[m]["accuracy"] for m in modes}, report["n_questions"], report.get("routed")

    say(progress, f"evaluating on {len(docs)} documents from {eval_path}")
    return _compare(settings, score, len(docs), candidates, current, progress, context)


def evaluate_task_hypernets(eval_path: str, settings: Settings, candidates: dict[int, str], current: dict,
                            limit: int = 0, progress: bool = True) -> dict:
    """evaluate_hypernets for task hypernetworks on a task file: the share of outputs the tasks' checkers accept
    (hypernet.tasks.evaluate) in its "accuracy" fields."""
    from hypernet.generate import AdapterGenerator
    from hypernet.tasks.evaluate import evaluate_tasks

    tasks = read_eval(eval_path, tasks=True)
    tasks = tasks[:limit] if limit else tasks

    def score(model, tok, modes: list[str], net) -> tuple[dict[str, float], int, None]:
        adapter_for = None
        if net is not None:
            gen = AdapterGenerator(model, tok, net)

            def adapter_for(task):
                return gen.generate([task.description])[0].lora

        report = evaluate_tasks(tasks, modes, model, tok, adapter_for=adapter_for)
        return {m: report[m]["accepted"] for m in modes}, report["n_outputs"], None

    say(progress, f"evaluating on {len(tasks)} tasks from {eval_path}")
    return {**_compare(settings, score, len(tasks), candidates, current, progress), "unit": "task outputs"}


def _compare(settings: Settings, score, n_docs: int, candidates: dict[int, str], current: dict, progress: bool,
             context: float | None = None) -> dict:
    """`score(model, tok, modes, hypernetwork or None)` -> (accuracy by mode, questions, documents each side of a
    routed checkpoint read or None) for base and context once (base alone when `context` is given), the adapters of
    each candidate and of the current hypernetwork (when it fits the base model)."""
    from hypernet.model import HyperNetwork
    from pipelines.answering import load_base_model
    from workers.stages import check_compatible

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the lines below say what is happening
    model, tok, _ref = load_base_model(settings)

    routed: dict[str, dict] = {}  # by checkpoint step and "current": documents each side of a routed one read

    def run(what: str, modes: list[str], net, key: str = "") -> tuple[dict[str, float], int]:
        started = time.perf_counter()
        accuracy, n_questions, sides = score(model, tok, modes, net)
        if sides is not None:
            routed[key] = sides
        say(progress, f"  eval {what}: " + ", ".join(f"{m} {accuracy[m]:.3f}" for m in modes)
            + (f" (documents read by the corpus hypernetwork {sides['corpus']}, by its fallback {sides['fallback']})"
               if sides else "") + f" ({time.perf_counter() - started:.0f} s)")
        return accuracy, n_questions

    plain, n_questions = run("without adapters", ["base"] if context is not None else ["base", "context"], None)
    out = {"n_docs": n_docs, "n_questions": n_questions, "base": plain["base"], "context": plain.get("context", context),
           "checkpoints": {}, "routed": routed}
    for step, folder in sorted(candidates.items()):
        accuracy, _ = run(f"checkpoint step {step}", ["adapter"], HyperNetwork.load(folder), str(step))
        out["checkpoints"][str(step)] = accuracy["adapter"]
    current_eval = {"id": current["id"], "source": current["source"], "accuracy": None, "compatible": True}
    net = HyperNetwork.load(current["folder"])
    try:
        check_compatible(model.config, net.cfg)
    except ValueError as exc:
        current_eval.update(compatible=False, error=str(exc))
    else:
        current_eval["accuracy"] = run(f"current {current['id']}", ["adapter"], net, "current")[0]["adapter"]
    out["current"] = current_eval
    return out


def decide(candidate_id: str, candidate_accuracy: float, current: dict, force: bool) -> dict:
    """Whether the candidate becomes the current hypernetwork, and why (see the module docstring)."""
    base = {"candidate_id": candidate_id, "candidate_accuracy": candidate_accuracy, "current_id": current["id"],
            "current_accuracy": current.get("accuracy"), "forced": force}
    if candidate_id == current["id"]:
        return {**base, "register": False, "promoted": False, "reason": "the candidate already is the current hypernetwork"}
    if not current.get("compatible", True):
        reason = f"the current hypernetwork {current['id']} does not fit the base model ({current.get('error')}): nothing to beat"
        return {**base, "register": True, "reason": reason}
    better = candidate_accuracy > current["accuracy"]
    comparison = (f"eval accuracy {candidate_accuracy:.3f} vs current {current['id']} {current['accuracy']:.3f}")
    if better:
        return {**base, "register": True, "reason": f"beats the current hypernetwork: {comparison}"}
    if force:
        return {**base, "register": True, "reason": f"forced (--force); {comparison}"}
    return {**base, "register": False, "promoted": False,
            "reason": f"does not beat the current hypernetwork ({comparison}); not registered (--force registers anyway)"}


def decide_task(candidate_id: str, candidate_accuracy: float, current: dict, checkpoint_uri: str) -> dict:
    """A task hypernetwork is never registered (the registry holds the pipeline's document hypernetwork): the
    decision says how it compares and where it is, for `--task-hypernet` (see the module docstring)."""
    accuracy = current.get("accuracy")
    now = f"{accuracy:.3f}" if accuracy is not None else "(does not fit the base model)"
    comparison = (f"held-out task outputs accepted {candidate_accuracy:.3f} vs current task hypernetwork "
                  f"{current['id']} {now}")
    return {"candidate_id": candidate_id, "candidate_accuracy": candidate_accuracy, "current_id": current["id"],
            "current_accuracy": accuracy, "forced": False, "register": False, "promoted": False,
            "reason": f"a task hypernetwork, not registered ({comparison}); use a local copy of {checkpoint_uri} "
                      "with --task-hypernet"}


def empty_evaluation(candidates: dict[int, str], current: dict) -> dict:
    """The evaluation of an eval set with no question (every accuracy 0, nothing to tell them apart by)."""
    return {"n_docs": 0, "n_questions": 0, "base": None, "context": None, "routed": {},
            "checkpoints": {str(step): 0.0 for step in candidates},
            "current": {"id": current["id"], "source": current["source"], "accuracy": 0.0, "compatible": True}}


def lineage(settings: Settings, cfg, outcome: dict, prepared: dict | None, evaluation: dict, corpus: dict | None = None,
            dense: dict | None = None, corpus_eval: dict | None = None) -> dict:
    """What a registered hypernetwork records about how it was made."""
    out = {"run_name": cfg.run_name, "run_uri": redact_uri(outcome["run_uri"]),
           "checkpoint_uri": redact_uri(outcome["checkpoint_uri"]), "step": outcome["steps"],
           "num_workers": cfg.num_workers, "global_batch": cfg.global_batch, "train": dataclasses.asdict(cfg.train),
           "data": data_record(prepared), "eval": eval_record(evaluation, outcome["steps"]),
           "settings": settings.record()}
    if corpus is not None:
        out["corpus"] = {"name": cfg.training_corpus, **{k: v for k, v in corpus["split"].items() if k != "holdout_ids"},
                         "targets": corpus["targets"], "dense": data_record(dense), "routing": corpus.get("routing"),
                         "eval": eval_record(corpus_eval, outcome["steps"])}
    return out
