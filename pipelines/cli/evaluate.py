"""`docpatch eval`: answers measured on an eval file (hypernet.evaluate.evaluate_file), or on a task file the
share of outputs the tasks' checkers accept (pipelines.task_adapters.evaluate_task_file)."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.settings import Settings

from pipelines.cli.options import Command, add_settings_flags
from pipelines.cli.output import UserError, emit, format_table, note, one_line


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from hypernet.evaluate import FinetuneConfig, evaluate_file
    from pipelines.answering import default_device

    from pipelines.task_adapters import is_task_file

    if not Path(args.data).is_file():
        raise UserError(f"eval file not found: {args.data}")
    if is_task_file(args.data):
        return evaluate_tasks(args, settings)
    modes, finetune, steps = _modes(args.modes), _finetune(args), _refine_steps(args, settings)
    try:
        report = evaluate_file(args.data, modes, base_model_spec=settings.base_model,
                               hypernet_path=settings.to_worker_config().hypernet_path, limit=args.limit,
                               chunk_len=args.chunk_len, window_len=args.window_len,
                               window_combine=args.window_combine, finetune=FinetuneConfig(**finetune),
                               refine_steps=steps, oracle_steps=args.oracle_steps, progress=note,
                               device=args.device or default_device(), read_dtype=settings.read_dtype)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not args.answers:
        report.pop("answers", None)
    rows = [{"mode": m, "exact": f"{r['accuracy']:.3f}", "f1": f"{r['f1']:.3f}",
             "exact/context": _ratio(r, "accuracy"), "f1/context": _ratio(r, "f1"),
             "gold nll": f"{r['gold_nll']:.2f}", "s/doc to make": f"{r.get('seconds_per_doc', 0):.2f}"}
            for m, r in report.items() if isinstance(r, dict) and "accuracy" in r]
    emit(args, report, rows=rows, text=f"{report['n_docs']} documents, {report['n_questions']} questions")
    return 0


def evaluate_tasks(args: argparse.Namespace, settings: Settings) -> int:
    """Per mode the share of outputs the checkers accept, over all tasks, by group and by family."""
    from pipelines.answering import default_device
    from pipelines.task_adapters import evaluate_task_file

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    try:
        report = evaluate_task_file(settings, args.data, modes, limit=args.limit, progress=note,
                                    device=args.device or default_device())
    except ValueError as exc:  # unknown modes, a malformed task file
        raise UserError(one_line(exc)) from None
    if not args.answers:
        report.pop("outputs", None)
    groups = sorted({g for m in modes for g in report[m]["by_group"]})
    rows = [{"mode": m, "accepted": f"{report[m]['accepted']:.3f}",
             **{g: f"{report[m]['by_group'][g]:.3f}" for g in groups},
             "/context": _ratio(report[m], None), "outputs": report[m]["outputs"]} for m in modes]
    families = sorted({f for m in modes for f in report[m]["by_family"]})
    by_family = [{"family": f, **{m: f"{report[m]['by_family'].get(f, 0):.3f}" for m in modes}} for f in families]
    emit(args, report, rows=rows, text=f"\n{format_table(by_family)}\n\n{report['n_tasks']} tasks, "
                                       f"{report['n_outputs']} outputs per mode")
    return 0


def _modes(text: str) -> list[str]:
    from hypernet.evaluate import MODES

    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = sorted(set(modes) - set(MODES))
    if bad:
        raise UserError(f"unknown --modes {bad}; choose from {', '.join(MODES)}")
    return modes


def _finetune(args: argparse.Namespace) -> dict[str, int]:
    """The FinetuneConfig fields given by flags."""
    finetune = {k: v for k, v in (("steps", args.finetune_steps), ("self_questions", args.finetune_self_questions))
                if v is not None}
    if any(v < 0 for v in finetune.values()):
        raise UserError("--finetune-steps and --finetune-self-questions take counts of 0 or more")
    return finetune


def _refine_steps(args: argparse.Namespace, settings: Settings) -> tuple[int, ...]:
    try:
        steps = tuple(int(k) for k in (args.eval_refine_steps or str(settings.refine_steps)).split(",") if k.strip())
    except ValueError:
        raise UserError(f"--refine-curve takes a comma list of step counts, got {args.eval_refine_steps!r}") from None
    if not steps or min(steps) < 0 or args.oracle_steps < 1:
        raise UserError("--refine-curve takes counts of 0 or more and --oracle-steps a count of 1 or more")
    return steps


def _ratio(row: dict, metric: str | None) -> str:
    """A mode's ratio to context (the task report has one ratio, the document report one per metric)."""
    value = row.get("ratio_to_context") if metric is None else (row.get("ratio_to_context") or {}).get(metric)
    return "" if value is None else f"{value:.2f}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from hypernet.config import CHUNK_COMBINE_RULES

    p.add_argument("--data", required=True, metavar="FILE.jsonl",
                   help='eval file: one {"id", "text", "qa": [{"q", "a"}]} per line, or a task file (one '
                        'hypernet.tasks.TaskExample per line: the task modes base, context and adapter, with '
                        '--task-hypernet)')
    p.add_argument("--modes", default="base,context,adapter",
                   help="comma list of base, context, adapter, refine, fresh, finetune, oracle (default: "
                        "base,context,adapter); refine and fresh give one row per --refine-curve count, oracle is a "
                        "ceiling trained on the eval questions themselves, never a product mode")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N documents")
    p.add_argument("--chunk-len", type=int, default=None, help="override the checkpoint's chunk length")
    p.add_argument("--window-len", type=int, default=None,
                   help="override the checkpoint's window length (tokens per LoRA inside a chunk; 0: one LoRA per chunk)")
    p.add_argument("--window-combine", default=None, choices=CHUNK_COMBINE_RULES,
                   help="override the checkpoint's scaling of a chunk's window LoRAs (sum, mean or sqrt)")
    add_settings_flags(p, names=("read_dtype", "task_hypernet_path"))
    # Defaults come from hypernet.evaluate.FinetuneConfig (not imported here: it pulls in torch).
    p.add_argument("--finetune-steps", type=int, default=None, metavar="N",
                   help="gradient steps of the finetune baseline (default: 30)")
    p.add_argument("--finetune-self-questions", type=int, default=None, metavar="N",
                   help="fill-in-the-blank items the finetune baseline makes from each document's own sentences "
                        "and trains on beside its text, never the eval questions (0: the text alone; default: 16)")
    p.add_argument("--refine-curve", dest="eval_refine_steps", default=None, metavar="K[,K...]",
                   help="refinement step counts reported by the refine and fresh modes, e.g. 2,5,10,20 (default: "
                        "the refine_steps setting, --refine-steps on patch)")
    p.add_argument("--oracle-steps", type=int, default=20, metavar="N",
                   help="distillation steps of the oracle ceiling (default: 20)")
    p.add_argument("--answers", action="store_true", help="include every generated answer (or task output) in --json "
                                                          "output")
    p.add_argument("--device", default="", help="where the models run: cpu, cuda or cuda:N (default: the GPU when there is one)")


COMMANDS = (Command("eval", "measure answers on an eval file: base, context, adapter, finetune; or, on a task "
                            "file, the share of outputs that follow their task", evaluate, add_arguments),)
