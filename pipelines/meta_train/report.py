"""The report of a meta-training run: one JSON file and one PNG, written beside the run's checkpoints.

    {training storage}/{run}/training_report.json   run, data, timings, per-step metrics, restores,
                                                    eval accuracy per kept checkpoint, the decision
    {training storage}/{run}/training_report.png    loss curves (loss, KD, CE; dense on corpus runs),
                                                    answer-token accuracy and learning rate per step,
                                                    eval accuracy per checkpoint (and on the corpus's
                                                    held-out split for corpus runs)

build_report assembles the JSON from the flow's results; plot draws the PNG from that JSON, with
matplotlib's Agg backend (no display needed).
"""
from __future__ import annotations

import dataclasses
import io
import statistics
from datetime import datetime, timezone

from workers.storage import redact_uri

JSON_NAME = "training_report.json"
PNG_NAME = "training_report.png"


def _smooth(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def timing(history: list[dict], train_seconds: float) -> dict:
    """Step-time statistics of a run (the median is robust to the first, slow steps)."""
    times = [m["step_seconds"] for m in history]
    if not times:
        return {"train_seconds": round(train_seconds, 3)}
    median = statistics.median(times)
    return {"train_seconds": round(train_seconds, 3), "mean_step_seconds": round(statistics.fmean(times), 4),
            "median_step_seconds": round(median, 4), "steps_per_second": round(1 / median, 4) if median else None}


def plot(report: dict) -> bytes:
    """The PNG of a report: curves per step on the left, eval accuracy per checkpoint on the right."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.2), dpi=100)
    ax_loss, ax_acc, ax_eval = fig.subplots(1, 3)
    _plot_steps(report, ax_loss, ax_acc)
    _plot_eval(report, ax_eval)
    decision = report.get("decision") or {}
    fig.suptitle(f"meta-training run {report.get('run', {}).get('name', '')}: "
                 f"{'registered ' + str(decision.get('hypernet_id')) if decision.get('promoted') else 'not registered'}",
                 fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _curve(ax, history: list[dict], key: str, color: str) -> None:
    """A metric on the steps that report it (distillation and dense steps report different ones)."""
    points = [(m["step"], m[key]) for m in history if key in m]
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, color=color, alpha=0.25, linewidth=0.8)
        ax.plot(xs, _smooth(ys, max(1, len(ys) // 20)), color=color, label=key)


def _plot_steps(report: dict, ax_loss, ax_acc) -> None:
    """Loss curves, answer-token accuracy and learning rate per step, restores marked."""
    history = report.get("history") or []
    steps = [m["step"] for m in history]
    for key, color in (("loss", "black"), ("kd", "tab:blue"), ("ce", "tab:orange"), ("dense", "tab:purple")):
        _curve(ax_loss, history, key, color)
    _curve(ax_acc, history, "token_acc", "tab:green")
    ax_lr = ax_acc.twinx()
    ax_lr.plot(steps, [m["lr"] for m in history], color="tab:gray", linestyle=":", label="lr")
    ax_lr.set_ylabel("learning rate")
    for restore in report.get("restores") or []:
        for ax in (ax_loss, ax_acc):
            ax.axvline(restore["from_step"], color="tab:red", linestyle="--", linewidth=0.8)
    ax_loss.set(title="training loss (per step, smoothed)", xlabel="step")
    ax_acc.set(title="answer-token accuracy (train)", xlabel="step", ylim=(-0.02, 1.02))
    ax_loss.legend(loc="upper right", fontsize=8)
    if ax_acc.get_legend_handles_labels()[0]:  # a run of dense steps alone has no answer tokens
        ax_acc.legend(loc="upper left", fontsize=8)


def _plot_eval(report: dict, ax_eval) -> None:
    """Eval accuracy per checkpoint against the base model, the document in context and the current hypernetwork."""
    evaluation = report.get("eval") or {}
    points = [(c["step"], c["eval_accuracy"]) for c in report.get("checkpoints", []) if c.get("eval_accuracy") is not None]
    if points:
        ax_eval.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="tab:purple",
                     label="adapter (this run)")
    corpus_eval = (report.get("corpus") or {}).get("eval") or {}
    corpus_points = [(c["step"], c["corpus_accuracy"]) for c in report.get("checkpoints", [])
                     if c.get("corpus_accuracy") is not None]
    if corpus_points:
        ax_eval.plot([p[0] for p in corpus_points], [p[1] for p in corpus_points], marker="s", color="tab:brown",
                     label=f"adapter, corpus held-out ({corpus_eval.get('n_questions', 0)} q)")
    if (corpus_eval.get("current") or {}).get("accuracy") is not None:
        ax_eval.axhline(corpus_eval["current"]["accuracy"], color="tab:brown", linestyle=":",
                        label="current, corpus held-out")
    for key, label, color in (("base", "base model", "tab:gray"), ("context", "document in context", "tab:green")):
        if evaluation.get(key) is not None:
            ax_eval.axhline(evaluation[key], color=color, linestyle="--", label=label)
    current = evaluation.get("current") or {}
    if current.get("accuracy") is not None:
        ax_eval.axhline(current["accuracy"], color="tab:red", linestyle=":", label=f"current {current.get('id', '')}")
    ax_eval.set(title=f"eval accuracy ({evaluation.get('n_questions', 0)} {evaluation.get('unit', 'questions')})",
                xlabel="checkpoint step", ylim=(-0.02, 1.02))
    ax_eval.legend(loc="best", fontsize=7)


# -- the JSON record ---------------------------------------------------------------------------------------
def data_record(prepared: dict | None) -> dict | None:
    """What the report and the lineage keep of prepared training data (credentials redacted)."""
    if prepared is None:
        return None
    return {"uri": redact_uri(prepared["uri"]), "fingerprint": prepared["fingerprint"],
            "n_examples": prepared["n_examples"], "reused": prepared["reused"],
            "prepare_seconds": round(prepared["seconds"], 3)}


def eval_record(evaluation: dict, step: int) -> dict:
    """An evaluation reduced to one checkpoint's adapter accuracy beside base and context."""
    return ({k: evaluation[k] for k in ("file", "n_docs", "n_questions", "base", "context")}
            | {"adapter": evaluation["checkpoints"].get(str(step))})


def corpus_report(corpus: dict, dense: dict | None, corpus_eval: dict) -> dict:
    """The corpus part of a run's report: the split (held-out ids recorded), the targets, the held-out eval."""
    return {"split": corpus["split"], "targets": corpus["targets"], "dense_data": data_record(dense),
            "distill_documents": len(corpus["distill_docs"]), "routing": corpus.get("routing"), "eval": corpus_eval}


def build_report(cfg, worker, prepared: dict | None, outcome: dict, evaluation: dict, current: dict, decision: dict,
                 corpus: dict | None = None) -> dict:
    """The JSON report of a run (the PNG is drawn from it); `corpus` from corpus_report."""
    checkpoints = [{"step": c["step"], "uri": redact_uri(c["uri"]),
                    "eval_accuracy": evaluation["checkpoints"].get(str(c["step"])),
                    **({"corpus_accuracy": corpus["eval"]["checkpoints"].get(str(c["step"]))} if corpus else {})}
                   for c in outcome["checkpoints"]]
    report = {
        "run": {"name": cfg.run_name, "uri": redact_uri(outcome["run_uri"]), "num_workers": cfg.num_workers,
                "global_batch": cfg.global_batch, "steps": outcome["steps"], "use_gpu": worker.gpus_per_actor > 0,
                "train": dataclasses.asdict(cfg.train), "base_model": worker.base_model,
                "init_from": cfg.train.init_from, "corpus": cfg.training_corpus or None,
                "finished_at": datetime.now(timezone.utc).isoformat()},
        "data": data_record(prepared),
        "timing": timing(outcome["history"], outcome["seconds"]),
        "restores": outcome["restores"],
        "final_metrics": outcome["final_metrics"],
        "checkpoints": checkpoints,
        "eval": {**evaluation, "current": {**evaluation.get("current", {}), "folder_source": current["source"]}},
        "decision": decision,
        "history": outcome["history"],
    }
    if corpus is not None:
        report["corpus"] = corpus
    return report
