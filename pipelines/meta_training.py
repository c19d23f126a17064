"""The pieces of the meta-train flow that are not Prefect: job config, evaluation, the decision, the report.

The flow (`pipelines.flows.meta_train_flow`) calls these through thin tasks. The decision rule:
the final checkpoint of the run (not the best one on the eval file: choosing on the eval set would
bias the very comparison it is judged by) is registered and made current when its adapters answer
more eval questions than the current hypernetwork's, when the current one does not fit the base
model (nothing to compare), or when forced. A tie keeps the current one.
"""
from __future__ import annotations

import os
import random
import sys
import time
from datetime import datetime, timezone

from pipelines.settings import Settings
from pipelines.storage import redact_uri

SYNTHETIC_EVAL_SEED = 20_261_125


def say(enabled: bool, message: str) -> None:
    """A progress line for people, on stderr."""
    if enabled:
        print(message, file=sys.stderr, flush=True)


def safe_uri(uri: str) -> str:
    return redact_uri(uri)


def default_run_name() -> str:
    return "meta-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def train_job_config(settings: Settings, *, run_name: str = "", workers: int = 2, steps: int = 200,
                     global_batch: int = 4, docs: int = 64, data: str = "synthetic", checkpoint_every: int = 25,
                     keep_checkpoints: int = 3, max_failures: int = 2, init_from: str = "", train: dict | None = None):
    """The Ray Train job's config from the settings and the flow's options (ValueError on bad values).

    Training workers and teacher actors take `cpus_per_actor` CPUs (and one GPU each when
    `gpus_per_actor` > 0); there are `num_actors` teacher actors. `init_from` may be "current"
    (the hypernetwork the pipeline uses now) or a checkpoint folder; empty starts fresh.
    """
    from hypernet.train import TrainConfig
    from pipelines.hypernets import resolve_hypernet_path
    from workers.config import MetaTrainConfig

    train = {"steps": steps, **(train or {})}
    TrainConfig(**train)  # unknown or bad fields fail here, named
    single_only = {"batch_docs": "--global-batch", "device": "--gpus-per-actor", "init_from": "--init-from",
                   "dtype": "bfloat16 on GPUs and float32 on CPUs"}
    for key in sorted(set(train) & set(single_only)):
        raise ValueError(f"{key} is a setting of the single-process trainer; the distributed job uses {single_only[key]}")
    if init_from == "current":
        init_from = resolve_hypernet_path(settings)
    if data != "synthetic" and not os.path.isfile(data):
        raise FileNotFoundError(f"training data not found: {data}")
    if init_from and not os.path.isdir(init_from):
        raise FileNotFoundError(f"--init-from: no hypernetwork checkpoint folder at {init_from}")
    return MetaTrainConfig(
        run_name=run_name or default_run_name(), storage=settings.training_uri, base_model=settings.base_model,
        cache_dir=settings.cache_dir, ray_address=settings.ray_address, num_workers=workers,
        use_gpu=settings.gpus_per_actor > 0, cpus_per_worker=settings.cpus_per_actor,
        torch_threads=settings.torch_threads, global_batch=global_batch, checkpoint_every=checkpoint_every,
        keep_checkpoints=keep_checkpoints, max_failures=max_failures, data=data, num_docs=docs,
        prep_actors=settings.num_actors, prep_cpus=settings.cpus_per_actor, init_from=init_from, train=train)


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


def synthetic_eval_file(path: str, n_docs: int) -> str:
    """A held-out eval file: synthetic documents of the eval split (unseen kinds, phrasing), fixed seed."""
    from hypernet.synthetic import make_doc, write_jsonl

    rng = random.Random(SYNTHETIC_EVAL_SEED)
    write_jsonl([make_doc(rng, "eval", n_questions=4) for _ in range(max(1, n_docs))], path)
    return path


def evaluate_hypernets(eval_path: str, settings: Settings, candidates: dict[int, str], current: dict, limit: int = 0,
                       progress: bool = True) -> dict:
    """Accuracy on the eval file: base and context once, adapters of each candidate and of the current one."""
    import torch

    from hypernet import base_model
    from hypernet.evaluate import evaluate_docs, read_eval_file
    from hypernet.model import HyperNetwork
    from workers.stages import check_compatible

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the lines below say what is happening
    docs = read_eval_file(eval_path)
    docs = docs[:limit] if limit else docs
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tok, _ref = base_model.load(settings.base_model, settings.cache_dir or None, device=device,
                                       dtype=settings.dtype)

    def run(what: str, modes: list[str], net) -> dict:
        started = time.perf_counter()
        report = evaluate_docs(docs, modes, model, tok, net)
        say(progress, f"  eval {what}: " + ", ".join(f"{m} {report[m]['accuracy']:.3f}" for m in modes)
            + f" ({time.perf_counter() - started:.0f} s)")
        return report

    say(progress, f"evaluating on {len(docs)} documents from {eval_path}")
    plain = run("without adapters", ["base", "context"], None)
    out = {"n_docs": len(docs), "n_questions": plain["n_questions"], "base": plain["base"]["accuracy"],
           "context": plain["context"]["accuracy"], "checkpoints": {}}
    for step, folder in sorted(candidates.items()):
        out["checkpoints"][str(step)] = run(f"checkpoint step {step}", ["adapter"], HyperNetwork.load(folder))["adapter"]["accuracy"]
    current_eval = {"id": current["id"], "source": current["source"], "accuracy": None, "compatible": True}
    net = HyperNetwork.load(current["folder"])
    try:
        check_compatible(model.config, net.cfg)
    except ValueError as exc:
        current_eval.update(compatible=False, error=str(exc))
    else:
        current_eval["accuracy"] = run(f"current {current['id']}", ["adapter"], net)["adapter"]["accuracy"]
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


def lineage(settings: Settings, cfg, outcome: dict, prepared: dict, evaluation: dict) -> dict:
    """What a registered hypernetwork records about how it was made."""
    return {"run_name": cfg.run_name, "run_uri": safe_uri(outcome["run_uri"]),
            "checkpoint_uri": safe_uri(outcome["checkpoint_uri"]), "step": outcome["steps"],
            "num_workers": cfg.num_workers, "global_batch": cfg.global_batch, "train": cfg.train,
            "data": {"uri": safe_uri(prepared["uri"]), "fingerprint": prepared["fingerprint"],
                     "n_examples": prepared["n_examples"]},
            "eval": {k: evaluation[k] for k in ("file", "n_docs", "n_questions", "base", "context")}
            | {"adapter": evaluation["checkpoints"].get(str(outcome["steps"]))},
            "settings": settings.record()}


def build_report(cfg, prepared: dict, outcome: dict, evaluation: dict, current: dict, decision: dict) -> dict:
    """The JSON report of a run (the PNG is drawn from it)."""
    from pipelines.training_report import timing

    checkpoints = [{"step": c["step"], "uri": safe_uri(c["uri"]),
                    "eval_accuracy": evaluation["checkpoints"].get(str(c["step"]))} for c in outcome["checkpoints"]]
    return {
        "run": {"name": cfg.run_name, "uri": safe_uri(outcome["run_uri"]), "num_workers": cfg.num_workers,
                "global_batch": cfg.global_batch, "steps": outcome["steps"], "use_gpu": cfg.use_gpu,
                "train": cfg.train, "base_model": cfg.base_model, "init_from": cfg.init_from,
                "finished_at": datetime.now(timezone.utc).isoformat()},
        "data": {"uri": safe_uri(prepared["uri"]), "fingerprint": prepared["fingerprint"],
                 "n_examples": prepared["n_examples"], "reused": prepared["reused"],
                 "prepare_seconds": round(prepared["seconds"], 3)},
        "timing": timing(outcome["history"], outcome["seconds"]),
        "restores": outcome["restores"],
        "final_metrics": outcome["final_metrics"],
        "checkpoints": checkpoints,
        "eval": {**evaluation, "current": {**evaluation.get("current", {}), "folder_source": current["source"]}},
        "decision": decision,
        "history": outcome["history"],
    }
