"""Meta-training the hypernetwork by context distillation: a plain, resumable loop.

    python -m hypernet.train --out runs/meta --steps 3000

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
import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file

from hypernet import base_model, package_text
from hypernet.config import HypernetConfig, checkpoint_meta
from hypernet.distill import mark_gold_only, student_loss, teacher_examples
from hypernet.model import HyperNetwork
from hypernet.self_questions import self_questions
from hypernet.synthetic import QA, NamesRandom, SyntheticDoc, make_doc, make_long_doc

LATEST = "latest"
STATE_FILE = "train_state.json"
OPTIM_FILE = "optimizer.safetensors"


@dataclass
class TrainConfig:
    """Knobs of one meta-training run, in one block of defaults."""

    out_dir: str = field(default="runs/meta", metadata={"help": "checkpoints and metrics go here"})
    base_model: str = field(default=base_model.PACKAGED, metadata={"help": "base model spec"})
    data: str = field(default="synthetic", metadata={"help": "'synthetic' or a JSONL file in the eval format"})
    steps: int = field(default=3000, metadata={"help": "optimizer steps (batch_docs documents each)"})
    batch_docs: int = field(default=1, metadata={"help": "documents per optimizer step (one teacher and one student batch)"})
    device: str = field(default="auto", metadata={"help": "'auto' (the GPU when there is one), 'cpu', 'cuda' or 'cuda:N'"})
    dtype: str = field(default="auto", metadata={
        "help": "the frozen base model's dtype: 'auto' (bfloat16 on a GPU, float32 on the CPU), 'float32', 'bfloat16', 'float16'"})
    init_from: str = field(default="", metadata={
        "help": "hypernetwork checkpoint folder to start from (weights and config only) when out_dir has none"})
    lr: float = field(default=5e-4, metadata={"help": "peak AdamW learning rate"})
    warmup: int = field(default=50, metadata={"help": "linear warm-up steps"})
    min_lr_ratio: float = field(default=0.1, metadata={"help": "cosine decays to lr * this"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    grad_clip: float = field(default=1.0, metadata={"help": "gradient norm clip"})
    ce_weight: float = field(default=0.5, metadata={"help": "weight of CE on gold answers beside the teacher KL"})
    l1_weight: float = field(default=1e-4, metadata={"help": "L1 penalty on generated A and B"})
    retrieval_weight: float = field(default=0.0, metadata={
        "help": "weight of the retrieval loss: copy heads are taught where answers sit in the document and "
                "which question state reads them (hypernet.distill.retrieval_loss; 0: off)"})
    top_k: int = field(default=16, metadata={"help": "teacher top-k kept per answer token"})
    questions_per_doc: int = field(default=4, metadata={"help": "questions per training document"})
    multi_chunk_prob: float = field(default=0.15, metadata={"help": "share of steps on 2-3 chunk documents"})
    two_section_prob: float = field(default=0.25, metadata={"help": "share of steps on one-chunk documents about two entities"})
    save_every: int = field(default=100, metadata={"help": "checkpoint interval in steps"})
    max_seconds: float = field(default=0.0, metadata={
        "help": "stop (with a checkpoint) after this many seconds of training in this process, the cosine "
                "schedule then ending at whichever comes first, steps or time (0: no time limit)"})
    seed: int = field(default=0, metadata={"help": "data and init seed"})
    threads: int = field(default=0, metadata={"help": "torch threads (0: all cores)"})
    latent_dim: int = field(default=128, metadata={"help": "hypernetwork width"})
    n_latents: int = field(default=16, metadata={"help": "Perceiver latents"})
    head_dim: int = field(default=64, metadata={"help": "per-layer head input width"})
    rank: int = field(default=8, metadata={"help": "LoRA rank per chunk"})
    copy_path: int = field(default=1, metadata={"help": "1: rank rows copy attended token vectors (see CopyHead)"})
    copy_next: int = field(default=0, metadata={
        "help": "1: copy heads also write 'after this context comes this token' (see CopyHead); with --init-from, "
                "adds that path (zero at first) to a checkpoint that lacks it"})
    vocab_names: float = field(default=0.5, metadata={
        "help": "share of invented names taken from the base model's vocabulary (real words) instead of syllables"})
    # At 0.5, 25 CPU minutes from the shipped weights moved the held-out real prose's gold NLL
    # 4.13 -> 3.83 where the same time on synthetic documents alone gave 4.30 (TRAINING.md). Gold
    # answers, not the teacher's: with a passage in its prompt the 270M teacher answers only 0.10 of
    # the blanks (distilled prose did as well at that scale, 3.78: a GPU run can tell them apart).
    package_text_prob: float = field(default=0.5, metadata={
        "help": "share of training documents that are real prose from the installed packages' descriptions "
                "(hypernet.package_text), asked fill-in-the-blank questions made from their own sentences and "
                "trained on the gold answers alone (the teacher answers few of them)"})
    paraphrase_questions: float = field(default=0.5, metadata={
        "help": "share of training questions asked in other words (generic forms, frames; see "
                "hypernet.synthetic.paraphrased_question); above 0 also draws the train-only kinds: attribute "
                "records, job adverts, travel bookings, court cases, trial summaries, tenancies"})

    def __post_init__(self) -> None:
        if self.steps <= 0 or self.save_every <= 0 or self.batch_docs <= 0:
            raise ValueError(f"TrainConfig steps={self.steps}, save_every={self.save_every} and "
                             f"batch_docs={self.batch_docs} must be positive")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ValueError(f"TrainConfig.device={self.device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise ValueError(f"TrainConfig.dtype={self.dtype!r}: use 'auto', 'float32', 'bfloat16' or 'float16'")
        for name in ("multi_chunk_prob", "two_section_prob", "vocab_names", "paraphrase_questions", "package_text_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)} must be in [0, 1]")


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


def train(cfg: TrainConfig, log=print) -> str:
    """Run (or resume) meta-training; returns the folder of the latest checkpoint."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"TrainConfig.device={cfg.device!r} but torch sees no CUDA GPU")
        torch.backends.cuda.matmul.allow_tf32 = True  # the hypernetwork's float32 matmuls
    model, tok, ref = base_model.load(cfg.base_model, device=str(device), dtype=cfg.dtype)
    log(f"training on {device} ({next(model.parameters()).dtype} base model), {cfg.batch_docs} documents per step")
    records = None if cfg.data == "synthetic" else _records(cfg.data)
    words = training_words(cfg, ref.path) if records is None else ()
    if records is None and cfg.package_text_prob:
        found = package_text.passages()
        log(f"package prose: {len(found)} passages from {len({p.source for p in found})} installed distributions "
            f"(digest {package_text.digest(found)}), {cfg.package_text_prob:.0%} of the documents")
    latest = os.path.join(cfg.out_dir, LATEST)

    def make_opt(net: HyperNetwork) -> torch.optim.Optimizer:
        return torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    if os.path.exists(os.path.join(latest, STATE_FILE)):
        net, opt, start, history = load_checkpoint(latest, make_opt)
        log(f"resuming from {latest} at step {start}")
    else:
        net = initial_hypernet(cfg, model.config, ref.model_id)
        if cfg.init_from:
            log(f"starting from the weights of {cfg.init_from}")
            reused = _reused_documents(cfg)
            if reused:
                log(f"warning: {cfg.init_from} was trained on --seed {cfg.seed} ({reused} documents at least); "
                    f"this run draws those documents again (pass another --seed for fresh ones)")
        start, history = 0, []
        opt = make_opt(net)
    net.to(device)
    optimizer_to(opt, device)
    net.train()
    metrics_path = os.path.join(cfg.out_dir, "metrics.jsonl")
    os.makedirs(cfg.out_dir, exist_ok=True)
    t0, window = time.time(), []
    for step in range(start, cfg.steps):
        batch, gold_only = [], []
        for index in range(cfg.batch_docs):
            doc, split = document_for_step(cfg, step, records, words, index)
            chunk_len = net.cfg.chunk_len
            if split:
                n_tokens = len(tok(doc.text, add_special_tokens=False).input_ids)
                chunk_len = max(16, math.ceil(n_tokens / -split))
            batch.append((doc.text, [(x.q, x.a) for x in doc.qa], chunk_len))
            gold_only.append(doc.gold_only)
        examples = teacher_examples(model, tok, batch, max_chunks=net.cfg.max_chunks, top_k=cfg.top_k)
        examples = [mark_gold_only(ex) if gold else ex for ex, gold in zip(examples, gold_only)]
        time_fraction = (time.time() - t0) / cfg.max_seconds if cfg.max_seconds else 0.0
        lr = lr_at(step, cfg, time_fraction)
        for group in opt.param_groups:
            group["lr"] = lr
        loss, met = student_loss(model, net, examples, ce_weight=cfg.ce_weight, l1_weight=cfg.l1_weight,
                                 retrieval_weight=cfg.retrieval_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip).item()
        opt.step()
        met.update(step=step + 1, lr=lr, grad_norm=grad_norm,
                   chunks=sum(len(ex.chunk_acts) for ex in examples), docs=len(examples), seconds=time.time() - t0)
        window.append(met)
        with open(metrics_path, "a") as fh:
            fh.write(json.dumps(met) + "\n")
        if (step + 1) % 10 == 0:
            avg = _means(window, ("loss", "kd", "ce", "token_acc", "retrieval_top1", "retrieval_select"))
            per_step = (time.time() - t0) / (step + 1 - start)
            retrieval = (f" retrieval top1 {avg['retrieval_top1']:.2f} select {avg['retrieval_select']:.2f}"
                         if "retrieval_top1" in avg else "")
            log(f"step {step + 1}/{cfg.steps} loss {avg['loss']:.3f} kd {avg['kd']:.3f} ce {avg['ce']:.3f} "
                f"tok_acc {avg['token_acc']:.2f}{retrieval} lr {met['lr']:.2e} {per_step:.2f}s/step "
                f"{cfg.batch_docs / per_step:.1f} docs/s")
            history.append({"step": step + 1, **avg})
            window = []
        out_of_time = bool(cfg.max_seconds) and time.time() - t0 >= cfg.max_seconds
        if (step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps or out_of_time:
            save_checkpoint(latest, net, opt, step + 1, cfg, history)
        if out_of_time:
            log(f"stopping at step {step + 1}: the time limit of {cfg.max_seconds:.0f} s is spent")
            break
    return latest


def _means(window: list[dict], keys: Sequence[str]) -> dict[str, float]:
    """Mean of each metric over the steps of the window that report it."""
    out = {}
    for k in keys:
        values = [m[k] for m in window if k in m]
        if values:
            out[k] = sum(values) / len(values)
    return out


def initial_hypernet(cfg: TrainConfig, base_config, base_model_id: str) -> HyperNetwork:
    """A run's first hypernetwork: `init_from`'s weights (widened with copy_next when asked), or a
    fresh one sized for the base model (`base_config`: its transformers config)."""
    if cfg.init_from:
        return HyperNetwork.load(cfg.init_from, **({"copy_next": True} if cfg.copy_next else {}))
    return HyperNetwork(HypernetConfig.for_base_model(
        base_config, base_model_id=base_model_id, latent_dim=cfg.latent_dim, n_latents=cfg.n_latents,
        head_dim=cfg.head_dim, rank=cfg.rank, copy_path=bool(cfg.copy_path), copy_next=bool(cfg.copy_next)))


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
