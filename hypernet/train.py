"""Meta-training the hypernetwork by context distillation: a plain, resumable loop.

    python -m hypernet.train --out-dir runs/meta --steps 3000

Each step draws `batch_docs` documents (synthetic, optionally with a share of real prose from the
installed packages' descriptions, or from a JSONL file in the eval format),
runs the teacher once over them (documents in context, one padded batch), then the student
(each document's generated LoRA, no document; all questions in one batch) and updates the
hypernetwork. Checkpoints are safetensors + JSON (never pickle), written atomically every
`save_every` steps; re-running the same command resumes from the last one. Document j of
step s is drawn from an RNG seeded by (seed, s * batch_docs + j), so a resumed run sees what
an uninterrupted one would have seen.

On a GPU (`--device cuda`) the frozen base model runs in bfloat16 and the hypernetwork in
float32; use a batch of 16-64 documents there, where one document per step leaves it idle.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
from typing import Callable, ContextManager, Sequence

import torch
from safetensors.torch import load_file, save_file

from hypernet import base_model, package_text
from hypernet.config import GENERATED_DATA, HypernetConfig, TrainConfig, checkpoint_meta
from hypernet.dense import DenseExample, dense_loss, step_autocast
from hypernet.distill import Example, mark_gold_only, student_loss, teacher_examples
from hypernet.model import HyperNetwork
from hypernet.self_questions import self_questions
from hypernet.synthetic import QA, NamesRandom, SyntheticDoc, make_doc, make_long_doc
from hypernet.tasks import TaskExample, families_for, make_task
from hypernet.tasks.distill import task_reference_examples, task_teacher_examples

LATEST = "latest"
STATE_FILE = "train_state.json"
OPTIM_FILE = "optimizer.safetensors"
TASK_DRAWS = 4  # a task that gives no example is drawn again, this many draws in all


def lr_at(step: int, cfg: TrainConfig, time_fraction: float = 0.0) -> float:
    """Linear warm-up, then cosine to `lr * min_lr_ratio` over the steps, or sooner: `time_fraction`
    (the share of a time budget spent) moves the schedule on when time runs out before the steps."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = max((step - cfg.warmup) / max(1, cfg.steps - cfg.warmup), time_fraction)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def document_for_step(cfg: TrainConfig, step: int, records: list[dict] | None,
                      words: Sequence[str] = (), index: int = 0) -> tuple[SyntheticDoc, int | None]:
    """Document `index` of the step's batch and, for multi-chunk documents, how many chunks to cut.

    `words`: real words for `cfg.vocab_names` of the invented names (training_words)."""
    rng = NamesRandom(cfg.seed * 1_000_003 + step * cfg.batch_docs + index, words, cfg.vocab_names)
    if records:
        rec = records[rng.randrange(len(records))]
        qa = rng.sample(rec["qa"], min(cfg.questions_per_doc, len(rec["qa"])))
        return SyntheticDoc(rec["id"], "file", rec["text"], [QA(x["q"], x["a"]) for x in qa]), None
    if cfg.package_text_prob and rng.random() < cfg.package_text_prob:
        doc = package_text_doc(rng, cfg.questions_per_doc)
        if doc is not None:
            return doc, None
    if rng.random() < cfg.multi_chunk_prob:
        parts = rng.randint(2, 3)
        doc = make_long_doc(rng, parts, split="train", paraphrase=cfg.paraphrase_questions)
        doc.qa = rng.sample(doc.qa, min(cfg.questions_per_doc, len(doc.qa)))
        return doc, -parts  # negative: split into this many chunks
    if rng.random() < cfg.two_section_prob:
        doc = make_long_doc(rng, 2, split="train", paraphrase=cfg.paraphrase_questions)
        doc.qa = rng.sample(doc.qa, min(cfg.questions_per_doc, len(doc.qa)))
        return doc, None
    return make_doc(rng, "train", n_questions=cfg.questions_per_doc, paraphrase=cfg.paraphrase_questions), None


def package_text_doc(rng: random.Random, n_questions: int) -> SyntheticDoc | None:
    """A passage of real prose with blanks from its own sentences (None when no package has prose)."""
    found = package_text.passages()
    if not found:
        return None
    passage = found[rng.randrange(len(found))]
    items = self_questions(passage.text, 16)
    picked = rng.sample(items, min(n_questions, len(items)))
    return SyntheticDoc(f"package-{passage.source}-{rng.randrange(16**8):08x}", "package", passage.text,
                        [QA(item.question, item.answer) for item in picked], gold_only=True)


def training_words(cfg: TrainConfig, model_folder: str) -> tuple[str, ...]:
    """The real words synthetic documents draw names from (none when cfg.vocab_names is 0)."""
    return base_model.vocabulary_names(model_folder) if cfg.vocab_names > 0 else ()


def optimizer_to(opt: torch.optim.Optimizer, device) -> None:
    """Move the optimizer's moment tensors to `device` (its step counters stay where AdamW wants them)."""
    for state in opt.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and key != "step":
                state[key] = value.to(device)


def save_checkpoint(folder: str, net: HyperNetwork, opt: torch.optim.Optimizer, step: int, cfg: TrainConfig,
                    history: list[dict]) -> None:
    """Write to a temp folder, then swap it in: a crash never leaves a half checkpoint."""
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    net.save(tmp, extra={"train_config": dataclasses.asdict(cfg), "step": step})
    names = {id(p): n for n, p in net.named_parameters()}
    tensors, scalars = {}, {}
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p, {})
            for k, v in state.items():
                if torch.is_tensor(v) and v.dim() > 0:
                    tensors[f"{names[id(p)]}::{k}"] = v.detach().cpu().contiguous()
                else:
                    scalars[f"{names[id(p)]}::{k}"] = float(v)
    save_file(tensors, os.path.join(tmp, OPTIM_FILE))
    with open(os.path.join(tmp, STATE_FILE), "w") as fh:
        json.dump({"step": step, "optim_scalars": scalars, "history": history}, fh)
    old = folder + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(folder):
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: str, opt_factory) -> tuple[HyperNetwork, torch.optim.Optimizer, int, list[dict]]:
    net = HyperNetwork.load(folder)
    opt = opt_factory(net)
    with open(os.path.join(folder, STATE_FILE)) as fh:
        state = json.load(fh)
    tensors = load_file(os.path.join(folder, OPTIM_FILE))
    for name, p in net.named_parameters():
        st = {}
        for key in ("exp_avg", "exp_avg_sq"):
            if f"{name}::{key}" in tensors:
                st[key] = tensors[f"{name}::{key}"]
        if f"{name}::step" in state["optim_scalars"]:
            st["step"] = torch.tensor(state["optim_scalars"][f"{name}::step"])
        if st:
            opt.state[p] = st
    return net, opt, state["step"], state["history"]


def _records(path: str) -> list[dict]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def make_optimizer(net: HyperNetwork, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def micro_batch_loss(model, net, micro: Example | DenseExample | list, cfg: TrainConfig
                     ) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one micro-batch, by what it holds: dense targets (hypernet.dense, no base-model pass)
    or teacher examples (context distillation through the base model)."""
    first = micro[0] if isinstance(micro, list) else micro
    if isinstance(first, DenseExample):
        return dense_loss(net, micro, l1_weight=cfg.l1_weight,
                          autocast=step_autocast(next(net.parameters()).device))
    return student_loss(model, net, micro, ce_weight=cfg.ce_weight, l1_weight=cfg.l1_weight,
                        retrieval_weight=cfg.retrieval_weight)


def train_step(model, net, opt: torch.optim.Optimizer,
               micro_batches: Sequence[Example | DenseExample | list[Example] | list[DenseExample]],
               cfg: TrainConfig, step: int, *, time_fraction: float = 0.0,
               no_sync: Callable[[], ContextManager] | None = None,
               start: dict[str, torch.Tensor] | None = None) -> dict:
    """One optimizer step: the scheduled lr, each micro-batch's loss (`micro_batch_loss`: distillation
    or dense targets) and its backward (scaled by their number, so the update is that of their mean),
    gradient clip, AdamW step, then the pull toward `start` (`cfg.start_decay`, `start_weights`).

    `net` is the hypernetwork or what stands for it in the loss (a DDP view); `no_sync`, under DDP,
    keeps every backward but the last from all-reducing. Returns the mean of each loss metric over
    the micro-batches that report it, with step, lr and grad_norm.
    """
    lr = lr_at(step, cfg, time_fraction)
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    metrics = []
    for i, micro in enumerate(micro_batches):
        last = i == len(micro_batches) - 1
        with contextlib.nullcontext() if last or no_sync is None else no_sync():
            loss, met = micro_batch_loss(model, net, micro, cfg)
            (loss / len(micro_batches)).backward()
        metrics.append(met)
    grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip).item()
    # One non-finite example would turn every weight to NaN for good: such a step updates nothing.
    finite = math.isfinite(grad_norm)
    if finite:
        opt.step()
        if start is not None and cfg.start_decay:
            _pull_toward(net, start, lr * cfg.start_decay)
    return {**_means(metrics, list(dict.fromkeys(k for m in metrics for k in m))),
            "step": step + 1, "lr": lr, "grad_norm": grad_norm, **({} if finite else {"nonfinite_skipped": 1})}


def start_weights(cfg: TrainConfig, state: dict[str, torch.Tensor] | None, device=None
                  ) -> dict[str, torch.Tensor] | None:
    """The weights `train_step` pulls toward when `cfg.start_decay` is set: the starting checkpoint's
    `state` (a run that resumes pulls toward where it first started, not toward its own checkpoint)."""
    if not cfg.start_decay:
        return None
    if state is None:
        raise ValueError(f"start_decay={cfg.start_decay} pulls toward a starting checkpoint: set init_from")
    return {k: v.detach().to(device or v.device, torch.float32).clone() for k, v in state.items()}


@torch.no_grad()
def _pull_toward(net, start: dict[str, torch.Tensor], rate: float) -> None:
    """Each weight moves `rate` of its distance back to its starting value (decoupled, as AdamW decays)."""
    rate = min(rate, 1.0)
    for name, p in net.named_parameters():
        if name in start:
            p.lerp_(start[name].to(p.dtype), rate)


def train(cfg: TrainConfig, log=print) -> str:
    """Run (or resume) meta-training; returns the folder of the latest checkpoint."""
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)
    device = _train_device(cfg)
    model, tok, ref = base_model.load(cfg.base_model, device=str(device), dtype=cfg.dtype)
    log(f"training on {device} ({next(model.parameters()).dtype} base model), {cfg.batch_docs} documents per step")
    records = None if cfg.data in GENERATED_DATA else _records(cfg.data)
    words = training_words(cfg, ref.path) if cfg.data == "synthetic" else ()
    if cfg.data == "synthetic" and cfg.package_text_prob:
        found = package_text.passages()
        log(f"package prose: {len(found)} passages from {len({p.source for p in found})} installed distributions "
            f"(digest {package_text.digest(found)}), {cfg.package_text_prob:.0%} of the documents")
    latest = os.path.join(cfg.out_dir, LATEST)
    net, opt, start, history = _resume_or_start(cfg, latest, model.config, ref.model_id, log)
    net.to(device)
    optimizer_to(opt, device)
    start_state = initial_hypernet(cfg, model.config, ref.model_id).state_dict() \
        if cfg.start_decay and cfg.init_from else None
    toward = start_weights(cfg, start_state, device)
    net.train()
    metrics_path = os.path.join(cfg.out_dir, "metrics.jsonl")
    os.makedirs(cfg.out_dir, exist_ok=True)
    t0, window = time.time(), []
    for step in range(start, cfg.steps):
        examples = _step_examples(cfg, step, records, words, model, tok, net.cfg)
        time_fraction = (time.time() - t0) / cfg.max_seconds if cfg.max_seconds else 0.0
        # A step whose tasks the teacher failed every time has nothing to learn from: no update.
        met = (train_step(model, net, opt, [examples], cfg, step, time_fraction=time_fraction, start=toward)
               if examples else {"step": step + 1, "skipped": 1})
        met.update(chunks=sum(len(ex.chunk_acts) for ex in examples), docs=len(examples), seconds=time.time() - t0)
        window.append(met)
        with open(metrics_path, "a") as fh:
            fh.write(json.dumps(met) + "\n")
        if cfg.log_every and (step + 1) % cfg.log_every == 0:
            avg = _means(window, ("loss", "kd", "ce", "token_acc", "retrieval_top1", "retrieval_select"))
            _log_progress(log, cfg, step, avg, met.get("lr", 0.0), (time.time() - t0) / (step + 1 - start))
            history.append({"step": step + 1, **avg})
            window = []
        out_of_time = bool(cfg.max_seconds) and time.time() - t0 >= cfg.max_seconds
        if (step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps or out_of_time:
            save_checkpoint(latest, net, opt, step + 1, cfg, history)
        if out_of_time:
            log(f"stopping at step {step + 1}: the time limit of {cfg.max_seconds:.0f} s is spent")
            break
    return latest


def _train_device(cfg: TrainConfig) -> torch.device:
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"TrainConfig.device={cfg.device!r} but torch sees no CUDA GPU")
        torch.backends.cuda.matmul.allow_tf32 = True  # the hypernetwork's float32 matmuls
    return device


def _resume_or_start(cfg: TrainConfig, latest: str, base_config, base_model_id: str, log
                     ) -> tuple[HyperNetwork, torch.optim.Optimizer, int, list[dict]]:
    """The network, optimizer, first step and history: from `latest` when it holds a checkpoint, else fresh."""
    if os.path.exists(os.path.join(latest, STATE_FILE)):
        net, opt, start, history = load_checkpoint(latest, lambda net: make_optimizer(net, cfg))
        log(f"resuming from {latest} at step {start}")
        return net, opt, start, history
    net = initial_hypernet(cfg, base_config, base_model_id)
    if cfg.init_from:
        log(f"starting from the weights of {cfg.init_from}")
        reused = _reused_documents(cfg)
        if reused:
            log(f"warning: {cfg.init_from} was trained on --seed {cfg.seed} ({reused} documents at least); "
                f"this run draws those documents again (pass another --seed for fresh ones)")
    return net, make_optimizer(net, cfg), 0, []


def _step_examples(cfg: TrainConfig, step: int, records: list[dict] | None, words: Sequence[str], model, tok,
                   hcfg: HypernetConfig) -> list[Example]:
    """The step's documents as teacher examples (a split document cut into its own number of chunks)."""
    if cfg.data == "tasks":
        return _task_examples(cfg, step, model, tok)
    batch, gold_only = [], []
    for index in range(cfg.batch_docs):
        doc, split = document_for_step(cfg, step, records, words, index)
        chunk_len = hcfg.chunk_len
        if split:
            n_tokens = len(tok(doc.text, add_special_tokens=False).input_ids)
            chunk_len = max(16, math.ceil(n_tokens / -split))
        batch.append((doc.text, [(x.q, x.a) for x in doc.qa], chunk_len))
        gold_only.append(doc.gold_only)
    examples = teacher_examples(model, tok, batch, max_chunks=hcfg.max_chunks, top_k=cfg.top_k)
    return [mark_gold_only(ex) if gold else ex for ex, gold in zip(examples, gold_only)]


def task_for_step(cfg: TrainConfig, step: int, index: int, attempt: int = 0) -> TaskExample:
    """Task `index` of the step's batch (a training-split family and wording; with reference targets, a
    family that has a rule), drawn from a seed as documents are."""
    rng = random.Random(f"{cfg.seed}-{step * cfg.batch_docs + index}-{attempt}")
    families = [f for f in families_for("train") if cfg.task_targets == "teacher" or f.reference]
    return make_task(rng, "train", family=rng.choice(families).name, n_inputs=cfg.questions_per_doc)


def task_examples(model, tok, draw: Callable[[int, int], TaskExample], n: int, *, targets: str, top_k: int
                  ) -> list[tuple[int, TaskExample, Example]]:
    """(i, task, example) for each task i < n that gives an example (`targets`: TrainConfig.task_targets, the
    teacher's accepted outputs or reference outputs): `draw(i, 0)`, else its redraws `draw(i, 1)`, ...
    (TASK_DRAWS in all); the first draws' examples in order, then the redraws'. The single-process trainer
    and the distributed job's data preparation (workers.train_data.TaskShards) both make them here."""
    make = task_teacher_examples if targets == "teacher" else task_reference_examples
    out: list[tuple[int, TaskExample, Example]] = []
    todo = list(range(n))
    for attempt in range(TASK_DRAWS):
        tasks = [draw(i, attempt) for i in todo]
        made = make(model, tok, tasks, top_k=top_k)
        out += [(i, task, ex) for i, task, ex in zip(todo, tasks, made) if ex is not None]
        todo = [i for i, ex in zip(todo, made) if ex is None]
        if not todo:
            break
    return out


def _task_examples(cfg: TrainConfig, step: int, model, tok) -> list[Example]:
    """The step's tasks as examples (`task_examples`), so the batch stays full unless a task and its redraws
    all fail."""
    made = task_examples(model, tok, lambda index, attempt: task_for_step(cfg, step, index, attempt),
                         cfg.batch_docs, targets=cfg.task_targets, top_k=cfg.top_k)
    return [ex for _index, _task, ex in made]


def _log_progress(log, cfg: TrainConfig, step: int, avg: dict[str, float], lr: float, per_step: float) -> None:
    if "loss" not in avg:
        log(f"step {step + 1}/{cfg.steps}: no teacher example in the last {cfg.log_every} steps")
        return
    retrieval = (f" retrieval top1 {avg['retrieval_top1']:.2f} select {avg['retrieval_select']:.2f}"
                 if "retrieval_top1" in avg else "")
    log(f"step {step + 1}/{cfg.steps} loss {avg['loss']:.3f} kd {avg['kd']:.3f} ce {avg['ce']:.3f} "
        f"tok_acc {avg['token_acc']:.2f}{retrieval} lr {lr:.2e} {per_step:.2f}s/step "
        f"{cfg.batch_docs / per_step:.1f} docs/s")


def _means(window: list[dict], keys: Sequence[str]) -> dict[str, float]:
    """Mean of each metric over the steps of the window that report it."""
    out = {}
    for k in keys:
        values = [m[k] for m in window if k in m]
        if values:
            out[k] = sum(values) / len(values)
    return out


def initial_hypernet(cfg: TrainConfig, base_config, base_model_id: str) -> HyperNetwork:
    """A run's first hypernetwork: `init_from`'s weights (widened with copy_next, or cut to the layers
    from first_target_layer up, when asked), or a fresh one sized for the base model (`base_config`:
    its transformers config)."""
    if cfg.init_from:
        overrides = {"copy_next": True} if cfg.copy_next else {}
        if cfg.first_target_layer:
            overrides["first_target_layer"] = cfg.first_target_layer
        return HyperNetwork.load(cfg.init_from, **overrides)
    return HyperNetwork(HypernetConfig.for_base_model(
        base_config, base_model_id=base_model_id, latent_dim=cfg.latent_dim, n_latents=cfg.n_latents,
        head_dim=cfg.head_dim, rank=cfg.rank, copy_path=bool(cfg.copy_path), copy_next=bool(cfg.copy_next),
        first_target_layer=cfg.first_target_layer))


def _reused_documents(cfg: TrainConfig) -> int:
    """Synthetic documents the init checkpoint's last run drew with this seed, which this run draws
    again (document k of a seed is the same whatever the batch size; 0: none)."""
    meta = checkpoint_meta(cfg.init_from)
    before = meta.get("train_config") or {}
    if cfg.data != "synthetic" or before.get("data") != "synthetic" or before.get("seed") != cfg.seed:
        return 0
    return int(meta.get("step", 0)) * int(before.get("batch_docs", 1))


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m hypernet.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                       help=f.metadata.get("help", "") + f" (default: {f.default})")
    return TrainConfig(**vars(p.parse_args(argv)))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    train(parse_args(), log=lambda m: print(m, file=sys.stderr, flush=True))
