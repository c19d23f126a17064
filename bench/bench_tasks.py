"""Text-to-LoRA in one run: task compliance per mode, and a task adapter composed with documents' adapters.

    python bench/bench_tasks.py --task-hypernet hypernet/checkpoints/tasks --tasks 36 --docs 12 \
        --data bench/data/eval_short48.jsonl --task-scale 1.0 --doc-scale 1.0

Table 1 (`hypernet.tasks.evaluate`): on eval-split tasks (families and wordings training never shows) and as
many training-split ones, the share of outputs the checkers accept in base, context (the description in the
prompt) and adapter mode, over all and by group, with the ratio to context and the seconds per task adapter.
Table 2 (`hypernet.tasks.compose`): each of the first --docs documents of --data paired with an eval-split task
of the --families in turn (kinds of reply that can also answer a question), or with --pairs train
training-split synthetic documents (seeds 7000+) each paired with a training-split task of those families
that the training split has (the split to choose a composition rule on); the document questions' accuracy
under the document adapter alone and composed, the task's share under the task adapter alone and composed
(on the task's inputs), and the task's share on the composed answers to the document questions. The document
adapters are refined as the pipeline publishes them (--refine-steps, the setting's default; 0: one pass).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from recipes import recipe  # noqa: E402
from tables import table  # noqa: E402

from hypernet import base_model  # noqa: E402
from hypernet.activations import read_autocast  # noqa: E402
from hypernet.config import ComposeConfig, RefineConfig  # noqa: E402
from hypernet.evaluate import read_eval_file  # noqa: E402
from hypernet.generate import AdapterGenerator  # noqa: E402
from hypernet.model import HyperNetwork, checkpoint_id, default_checkpoint  # noqa: E402
from hypernet.refine import refine_texts  # noqa: E402
from hypernet.synthetic import NamesRandom, make_doc  # noqa: E402
from hypernet.tasks import FAMILY_BY_NAME, families_for, make_task  # noqa: E402
from hypernet.tasks.compose import SHARES, evaluate_composition  # noqa: E402
from hypernet.tasks.evaluate import GROUPS, TASK_MODES, evaluate_tasks  # noqa: E402
from pipelines.settings import Settings  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data", "eval_short48.jsonl")
FAMILIES = "upper_case,prefix,sign_off,end_tag,title_case,max_words"


def parse_args() -> argparse.Namespace:
    defaults = Settings.__dataclass_fields__
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task-hypernet", required=True, help="task hypernetwork checkpoint folder")
    p.add_argument("--hypernet", default="", help="document hypernetwork folder (default: the shipped one)")
    p.add_argument("--base-model", default=base_model.PACKAGED, help="base model (default: the packaged one)")
    p.add_argument("--tasks", type=int, default=36, help="eval-split tasks of table 1, and as many training ones")
    p.add_argument("--docs", type=int, default=12, help="documents of table 2 (the first N of --data; 0: no table)")
    p.add_argument("--data", default=DATA, help="eval file of table 2 ({id, text, qa} per line)")
    p.add_argument("--families", default=FAMILIES, help="comma list: the task families paired with documents")
    p.add_argument("--pairs", choices=("eval", "train"), default="eval",
                   help="table 2's pairs: --data documents with eval-split tasks, or training-split documents and tasks")
    p.add_argument("--task-scale", type=float, default=defaults["task_scale"].default,
                   help="factor on the task adapter's B in the composition")
    p.add_argument("--doc-scale", type=float, default=defaults["doc_scale"].default,
                   help="factor on the document adapter's B in the composition")
    p.add_argument("--compose-steps", default=str(ComposeConfig().steps),
                   help="comma list: steps of each composition's fit (hypernet.tasks.fit; 0: the projection alone), "
                        "a table 2 per count over the same adapters")
    p.add_argument("--compose-recipe", action="append", default=None,
                   help="ComposeConfig overrides of the fit, e.g. 'task_weight=0.5' (repeat to compare; default: '')")
    p.add_argument("--refine-steps", type=int, default=RefineConfig().steps,
                   help="refinement steps of each document adapter, as the pipeline publishes it (0: the one-pass adapter)")
    p.add_argument("--recipe", default="", help="RefineConfig overrides of the document adapters' refinement, e.g. 'adam_beta1=0.9'")
    p.add_argument("--max-new-tokens", type=int, default=48, help="output length cap")
    p.add_argument("--seed", type=int, default=20261210, help="seed of the tasks drawn")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return p.parse_args()


def timed(generator: AdapterGenerator, seconds: list[float]):
    """An adapter maker over texts that records the seconds each adapter took."""
    def make(text: str):
        started = time.perf_counter()
        lora = generator.generate([text])[0].lora
        seconds.append(time.perf_counter() - started)
        return lora

    return make


def composition_pairs(args) -> list[tuple[dict, object]]:
    """Table 2's (document, task) pairs: held-out documents with eval-split tasks, or both from the training split."""
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    if args.pairs == "eval":
        docs, seed = read_eval_file(args.data)[:args.docs], args.seed
    else:
        families = [f for f in families if FAMILY_BY_NAME[f] in families_for("train")]
        docs = [make_doc(NamesRandom(7_000 + i), "train", n_questions=4).record() for i in range(args.docs)]
        seed = 9_000
    return [(doc, make_task(seed + i, args.pairs, family=families[i % len(families)])) for i, doc in enumerate(docs)]


def compliance_table(report: dict, seconds: list[float]) -> str:
    rows = []
    for mode in TASK_MODES:
        r = report[mode]
        ratio = r.get("ratio_to_context")
        rows.append([mode, f"{r['accepted']:.3f}", *(f"{r['by_group'].get(g, 0):.3f}" for g in GROUPS),
                     "" if ratio is None else f"{ratio:.2f}",
                     f"{sum(seconds) / len(seconds):.3f}" if mode == "adapter" and seconds else ""])
    return table(rows, ["mode", "accepted", *GROUPS, "/context", "s/adapter"])


def composition_table(report: dict) -> str:
    rows = [["all", *(f"{report[s]:.3f}" for s in SHARES)]]
    rows += [[family, *(f"{shares.get(s, 0):.3f}" for s in SHARES)] for family, shares in report["by_family"].items()]
    return table(rows, ["family", *SHARES])


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    progress = lambda m: print("  " + m, file=sys.stderr, flush=True)  # noqa: E731
    model, tok, _ref = base_model.load(args.base_model)
    task_gen = AdapterGenerator(model, tok, HyperNetwork.load(args.task_hypernet))
    seconds: list[float] = []
    make_task_lora = timed(task_gen, seconds)
    print(f"task hypernetwork {checkpoint_id(args.task_hypernet)}, torch threads {torch.get_num_threads()}", flush=True)
    if args.tasks:
        tasks = [make_task(args.seed + i, split) for split in ("eval", "train") for i in range(args.tasks)]
        report = evaluate_tasks(tasks, list(TASK_MODES), model, tok, max_new_tokens=args.max_new_tokens,
                                adapter_for=lambda t: make_task_lora(t.description), progress=progress)
        print(f"\ntask compliance: {len(tasks)} tasks, {report['n_outputs']} outputs per mode", flush=True)
        print(compliance_table(report, seconds), flush=True)
    if args.docs:
        doc_path = args.hypernet or default_checkpoint()
        doc_gen = AdapterGenerator(model, tok, HyperNetwork.load(doc_path))
        make_doc_lora = timed(doc_gen, [])
        refine_cfg, autocast = recipe(args.recipe, args.refine_steps), read_autocast(model, "auto")

        refined: dict[str, object] = {}  # each document refined once, whatever the step counts compared

        def doc_adapter(d: dict):
            if d["id"] not in refined:
                refined[d["id"]] = refine_texts(model, tok, [d["text"]], [make_doc_lora(d["text"])], refine_cfg,
                                                bias_rank=doc_gen.cfg.bias_rank, autocast=autocast)[0]
            return refined[d["id"]]
        pairs = composition_pairs(args)
        runs = [(text, int(k)) for text in args.compose_recipe or [""] for k in args.compose_steps.split(",")]
        for compose_recipe, steps in runs:
            started = time.perf_counter()
            report = evaluate_composition(pairs, model, tok, doc_adapter_for=doc_adapter,
                                          task_adapter_for=lambda t: make_task_lora(t.description),
                                          doc_scale=args.doc_scale, task_scale=args.task_scale,
                                          compose_cfg=recipe(compose_recipe, steps, ComposeConfig), max_new_tokens=args.max_new_tokens,
                                          autocast=autocast, progress=progress)
            print(f"\ncomposition: {len(pairs)} document + task pairs ({args.pairs} split), document hypernetwork {checkpoint_id(doc_path)}, "
                  f"refine steps {args.refine_steps}{' ' + args.recipe if args.recipe else ''}, doc_scale {args.doc_scale}, "
                  f"task_scale {args.task_scale}, compose steps {steps}{' ' + compose_recipe if compose_recipe else ''}, "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            print(composition_table(report), flush=True)


if __name__ == "__main__":
    main()
