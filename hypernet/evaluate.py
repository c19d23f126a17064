"""Evaluation on the eval format: `{"id", "text", "qa": [{"q", "a"}]}` per JSONL line.

Modes, all answering greedily and briefly:
- base: no document (how much the base model knows or guesses);
- context: the document in the prompt (the teacher; the ceiling the adapter aims at);
- adapter: the generated adapter, no document;
- refine: the generated adapter refined on the document alone (`hypernet.refine`), one row per
  step count (`refine@K`), never on the eval questions;
- fresh: the same refinement from a fresh LoRA (the gradient baseline from zero, `fresh@K`);
- finetune: a fresh LoRA trained on next-token prediction plus fill-in-the-blank items only;
- oracle: a ceiling, not a product mode: the generated adapter distilled on the in-context
  teacher's answers to the eval questions themselves (what the adapter can hold).

Per mode: exact-match `accuracy`, SQuAD `f1`, `gold_nll` (the gold answer's mean per-token
negative log-likelihood: graded, lower is closer to knowing it), each one's ratio to `context`,
and for adapter modes the seconds each document's adapter cost.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Callable

import torch

from hypernet import base_model
from hypernet.activations import read_autocast, under_autocast
from hypernet.distill import bos_ids, pad_rows, qa_tokens
from hypernet.generate import AdapterGenerator, answer, answer_nll
from hypernet.lora import LoraTensors, applied
from hypernet.model import HyperNetwork, checkpoint_id, default_checkpoint
from hypernet.prompts import is_correct, token_f1
from hypernet.refine import RefineConfig, fresh_lora, prepare
from hypernet.refine import refine as refine_loras
from hypernet.self_questions import SelfQuestion, self_questions

MODES = ("base", "context", "adapter", "refine", "fresh", "finetune", "oracle")
STEPPED_MODES = ("refine", "fresh")  # one report row per step count


@dataclass
class FinetuneConfig:
    """The per-document gradient baseline."""

    steps: int = 30
    lr: float = 1e-3
    rank: int = 8
    # Fill-in-the-blank items made from the document's sentences, trained beside its text
    # (0: the text alone). They teach the answering format the eval asks in.
    self_questions: int = 16
    # Blanks per step, taken in turn: a step on all of them would cost several steps on the text alone.
    questions_per_step: int = 4


def read_eval_file(path: str) -> list[dict]:
    docs = []
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                assert isinstance(rec["id"], str) and isinstance(rec["text"], str) and isinstance(rec["qa"], list)
                for qa in rec["qa"]:
                    assert isinstance(qa["q"], str) and isinstance(qa["a"], str)
            except (ValueError, KeyError, AssertionError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not an eval record ({{id, text, qa: [{{q, a}}]}}): {exc}") from exc
            docs.append(rec)
    if not docs:
        raise ValueError(f"{path}: no eval records")
    return docs


def finetune_lora(model, tok, text: str, hidden_targets: dict[str, tuple[int, int]], n_layers: int,
                  cfg: FinetuneConfig, autocast: torch.dtype | None = None) -> LoraTensors:
    """Train a fresh LoRA on the document alone: next-token prediction on its text, plus (when
    `cfg.self_questions`) the answers to blanks made from its own sentences, the two losses summed.

    `autocast`: run the model's forward and backward under this autocast dtype (the LoRA and
    AdamW stay float32). The evaluation passes the adapter's reading autocast, so the baseline
    gets the same bf16 hardware the hypernetwork reads with."""
    torch.manual_seed(0)
    device = next(model.parameters()).device
    params = {}
    for target, (d_in, d_out) in hidden_targets.items():
        a = torch.nn.Parameter((torch.randn(n_layers, cfg.rank, d_in) / d_in**0.5).to(device))
        b = torch.nn.Parameter(torch.zeros(n_layers, d_out, cfg.rank, device=device))
        params[target] = (a, b)
    opt = torch.optim.AdamW([p for ab in params.values() for p in ab], lr=cfg.lr, weight_decay=0.0)
    enc = tok(text.strip(), return_tensors="pt").to(device)
    items = self_questions(text, cfg.self_questions)
    per_step = max(1, cfg.questions_per_step)
    blanks = [_blank_batch(tok, items[i:i + per_step], device) for i in range(0, len(items), per_step)]
    for step in range(cfg.steps):
        with applied(model, LoraTensors(params)), under_autocast(device.type, autocast):
            loss = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, labels=enc.input_ids).loss
            if blanks:
                loss = loss + model(**blanks[step % len(blanks)]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return LoraTensors({k: (a.detach(), b.detach()) for k, (a, b) in params.items()})


def _blank_batch(tok, items: list[SelfQuestion], device) -> dict[str, torch.Tensor]:
    """Fill-in-the-blank items as one padded batch, the loss on the answer tokens only."""
    bos = bos_ids(tok)
    rows, n_prompt = [], []
    for item in items:
        prompt, ans = qa_tokens(tok, item.question, item.answer)
        rows.append(bos + prompt + ans)
        n_prompt.append(len(bos) + len(prompt))
    ids, mask = pad_rows(rows, tok)
    labels = ids.masked_fill(mask == 0, -100)
    for row, n in enumerate(n_prompt):
        labels[row, :n] = -100
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def _lora_modes(modes: list[str], refine_steps: tuple[int, ...]) -> list[str]:
    """Report rows: one per mode, and one per step count for the refinement modes."""
    out = []
    for mode in modes:
        out += [f"{mode}@{k}" for k in refine_steps] if mode in STEPPED_MODES else [mode]
    return out


def evaluate_docs(docs: list[dict], modes: list[str], model, tok, hypernet: HyperNetwork | None, *,
                  finetune: FinetuneConfig | None = None, refine: RefineConfig | None = None,
                  refine_steps: tuple[int, ...] = (), oracle_steps: int = 20,
                  progress: Callable[[str], None] | None = None,
                  max_new_tokens: int = 16, read_dtype: str = "auto", batch: int = 1) -> dict:
    """Answer every question of `docs` in each mode; per mode exact match, token-F1, gold NLL, ratios
    to `context` and the seconds each document's adapter cost (see the module docstring).

    `batch` documents are generated and refined together, as a model actor does; each one's seconds
    are then its share of its batch's."""
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown eval modes {sorted(unknown)}; choose from {MODES}")
    if set(modes) & {"adapter", "refine", "oracle"} and hypernet is None:
        raise ValueError("adapter, refine and oracle modes need a hypernetwork checkpoint")
    gen = AdapterGenerator(model, tok, hypernet, read_dtype=read_dtype) if hypernet is not None else None
    finetune = finetune or FinetuneConfig()
    refine = refine or RefineConfig()
    refine_steps = tuple(sorted(set(refine_steps or (refine.steps,))))
    autocast = read_autocast(model, read_dtype)  # gradient modes train on the hardware the adapter reads with
    rows_of = _lora_modes(modes, refine_steps)
    stats = {m: {"correct": 0, "f1": 0.0, "questions": 0, "answer_seconds": 0.0, "nll": 0.0, "adapter_seconds": 0.0}
             for m in rows_of}
    by_chunks: dict[int, dict[str, dict[str, int]]] = {}
    rows = []
    if batch < 1:
        raise ValueError(f"batch={batch} must be >= 1")
    made = []
    for i, doc in enumerate(docs):
        if i % batch == 0:
            made = _batch_loras(docs[i:i + batch], modes, model, tok, hypernet, gen, finetune, refine,
                                refine_steps, oracle_steps, autocast, max_new_tokens)
        loras, seconds, n_chunks = made[i % batch]
        for name, secs in seconds.items():
            stats[name]["adapter_seconds"] += secs
        for qa in doc["qa"]:
            rows.append(_answer_question(doc, qa, loras, n_chunks, stats, by_chunks, model, tok, max_new_tokens))
        if progress:
            done = {m: f"{s['correct']}/{s['questions']}" for m, s in stats.items()}
            progress(f"[{i + 1}/{len(docs)}] {doc['id']}: {done}")
    report = _report(docs, stats, by_chunks)
    _add_recipes(report, modes, finetune, refine, refine_steps, oracle_steps, autocast)
    if gen is not None and gen.router is not None:
        report["routed"] = dict(gen.routed)  # documents the corpus hypernetwork and its fallback read
    report["answers"] = rows
    return report


def _answer_question(doc: dict, qa: dict, loras: dict[str, LoraTensors], n_chunks: int | None, stats: dict,
                     by_chunks: dict, model, tok, max_new_tokens: int) -> dict:
    """One question answered in every report row's mode; adds to `stats` and `by_chunks`, returns the answers row."""
    row = {"id": doc["id"], "q": qa["q"], "gold": qa["a"]}
    for name, st in stats.items():
        kwargs = {"base": {}, "context": {"document": doc["text"]}}.get(name, {"lora": loras.get(name)})
        t = time.perf_counter()
        got = answer(model, tok, qa["q"], max_new_tokens=max_new_tokens, **kwargs)
        st["answer_seconds"] += time.perf_counter() - t
        st["nll"] += answer_nll(model, tok, qa["q"], qa["a"], **kwargs)
        ok = is_correct(got, qa["a"])
        st["correct"] += ok
        st["f1"] += token_f1(got, qa["a"])
        st["questions"] += 1
        row[name], row[name + "_ok"] = got, ok
        if name != "base" and name != "context":
            bucket = by_chunks.setdefault(n_chunks, {}).setdefault(name, {"correct": 0, "questions": 0})
            bucket["correct"] += ok
            bucket["questions"] += 1
    return row


def _report(docs: list[dict], stats: dict, by_chunks: dict) -> dict:
    """Per report row: the means over questions and documents, and the ratios to `context`."""
    report: dict = {"n_docs": len(docs), "n_questions": sum(len(d["qa"]) for d in docs)}
    for name, s in stats.items():
        n = max(1, s["questions"])
        report[name] = {"accuracy": s["correct"] / n, "f1": s["f1"] / n, "gold_nll": s["nll"] / n,
                        "seconds_per_question": s["answer_seconds"] / n}
        if name not in ("base", "context"):
            report[name]["seconds_per_doc"] = s["adapter_seconds"] / len(docs)
            report[name]["accuracy_by_chunks"] = {
                str(k): v[name]["correct"] / v[name]["questions"] for k, v in sorted(by_chunks.items()) if name in v}
    if "context" in stats:
        for name in stats:
            ctx = report["context"]
            report[name]["ratio_to_context"] = {
                "accuracy": report[name]["accuracy"] / ctx["accuracy"] if ctx["accuracy"] else None,
                "f1": report[name]["f1"] / ctx["f1"] if ctx["f1"] else None}
    return report


def _add_recipes(report: dict, modes: list[str], finetune: FinetuneConfig, refine: RefineConfig,
                 refine_steps: tuple[int, ...], oracle_steps: int, autocast) -> None:
    """The settings each mode ran with, beside its figures."""
    if "adapter" in modes:
        report["adapter"]["generate_seconds_per_doc"] = report["adapter"]["seconds_per_doc"]
    if "finetune" in modes:
        report["finetune"]["train_seconds_per_doc"] = report["finetune"]["seconds_per_doc"]
        report["finetune"]["steps"] = finetune.steps
        report["finetune"]["self_questions"] = finetune.self_questions
        report["finetune"]["questions_per_step"] = finetune.questions_per_step
        report["finetune"]["autocast"] = _dtype_name(autocast)
    if "oracle" in modes:
        report["oracle"]["ceiling"] = True  # trained on the eval questions: what the adapter can hold, not a product mode
        report["oracle"]["steps"] = oracle_steps
    if set(modes) & set(STEPPED_MODES):
        report["refine_recipe"] = refine.recipe() | {"steps": list(refine_steps)}


def _batch_loras(docs: list[dict], modes: list[str], model, tok, hypernet, gen, finetune: FinetuneConfig,
                 refine: RefineConfig, refine_steps: tuple[int, ...], oracle_steps: int, autocast,
                 max_new_tokens: int) -> list[tuple[dict[str, LoraTensors], dict[str, float], int | None]]:
    """Each document's LoRA for every mode, the seconds each cost it (refinement includes the generation
    it starts from and its teacher pass; a batch's shared seconds are split evenly) and its chunk count."""
    texts = [doc["text"] for doc in docs]
    loras: list[dict[str, LoraTensors]] = [{} for _ in docs]
    seconds: list[dict[str, float]] = [{} for _ in docs]
    n_chunks: list[int | None] = [None] * len(docs)
    share = 1.0 / len(docs)
    gen_seconds = 0.0
    if set(modes) & {"adapter", "refine", "oracle"}:
        t = time.perf_counter()
        made = gen.generate(texts)
        gen_seconds = (time.perf_counter() - t) * share
        for d, m in enumerate(made):
            loras[d]["adapter"], seconds[d]["adapter"], n_chunks[d] = m.lora, gen_seconds, m.n_chunks
    bias_rank = hypernet.cfg.bias_rank if hypernet is not None else 0
    targets = {t.name: (t.d_in, t.d_out) for t in hypernet.cfg.targets} if hypernet else \
        {"mlp.down_proj": (model.config.intermediate_size, model.config.hidden_size)}
    for mode in ("refine", "fresh"):
        if mode not in modes:
            continue
        t = time.perf_counter()
        starts = [l["adapter"] for l in loras] if mode == "refine" else \
            [fresh_lora(model.config.num_hidden_layers, targets, hypernet.cfg.rank if hypernet else refine_rank())
             for _ in docs]
        cfg = dataclasses.replace(refine, steps=max(refine_steps))
        prepared = prepare(model, tok, texts, cfg, autocast=autocast)
        _, snaps = refine_loras(model, tok, starts, prepared, cfg, bias_rank=bias_rank if mode == "refine" else 0,
                                autocast=autocast, snapshots=refine_steps)
        prep_seconds = (time.perf_counter() - t - snaps[max(refine_steps)][1]) * share
        before = gen_seconds if mode == "refine" else 0.0
        for k, (adapters, secs) in snaps.items():
            for d, adapter in enumerate(adapters):
                loras[d][f"{mode}@{k}"], seconds[d][f"{mode}@{k}"] = adapter, before + prep_seconds + secs * share
    for d, (doc, text) in enumerate(zip(docs, texts)):
        if "finetune" in modes:
            t = time.perf_counter()
            loras[d]["finetune"] = finetune_lora(model, tok, text, targets, model.config.num_hidden_layers, finetune,
                                                 autocast=autocast)
            seconds[d]["finetune"] = time.perf_counter() - t
        if "oracle" in modes:
            t = time.perf_counter()
            taught = [SelfQuestion(qa["q"], got) for qa in doc["qa"]
                      if (got := answer(model, tok, qa["q"], document=text, max_new_tokens=max_new_tokens))]
            cfg = dataclasses.replace(refine, steps=oracle_steps, text_weight=0.0, items_per_step=max(1, len(taught)))
            if taught:
                prepared = prepare(model, tok, [text], cfg, questions=[taught], autocast=autocast)
                loras[d]["oracle"] = refine_loras(model, tok, [loras[d]["adapter"]], prepared, cfg,
                                                  bias_rank=bias_rank, autocast=autocast)[0][0]
            else:
                loras[d]["oracle"] = loras[d]["adapter"]
            seconds[d]["oracle"] = gen_seconds + time.perf_counter() - t
    return list(zip(loras, seconds, n_chunks))


def refine_rank() -> int:
    """The rank of the gradient baseline's fresh LoRA when no hypernetwork sets it."""
    return FinetuneConfig().rank


def evaluate_file(path: str, modes: list[str], *, base_model_spec: str = base_model.PACKAGED,
                  hypernet_path: str = "", limit: int | None = None, chunk_len: int | None = None,
                  chunk_combine: str | None = None, window_len: int | None = None,
                  window_combine: str | None = None,
                  finetune: FinetuneConfig | None = None, refine: RefineConfig | None = None,
                  refine_steps: tuple[int, ...] = (), oracle_steps: int = 20,
                  progress: Callable[[str], None] | None = None, device: str = "cpu",
                  read_dtype: str = "auto") -> dict:
    """Load the models, evaluate a JSONL file, return the JSON report."""
    docs = read_eval_file(path)[:limit] if limit else read_eval_file(path)
    model, tok, ref = base_model.load(base_model_spec, device=device)
    hypernet_path = hypernet_path or default_checkpoint()
    net = None
    if set(modes) - {"base", "context"}:
        # Overrides go through the config, so its checks (rule names, the serving-rank cap) apply to them.
        overrides = {"chunk_len": chunk_len or None, "chunk_combine": chunk_combine or None, "window_len": window_len,
                     "window_combine": window_combine or None}
        net = HyperNetwork.load(hypernet_path, **{k: v for k, v in overrides.items() if v is not None})
    report = evaluate_docs(docs, modes, model, tok, net, finetune=finetune, refine=refine,
                           refine_steps=refine_steps, oracle_steps=oracle_steps,
                           progress=progress, read_dtype=read_dtype)
    report["data"] = path
    report["base_model"] = {"id": ref.model_id, "revision": ref.revision}
    if net is not None:
        report["hypernet"] = {"id": checkpoint_id(hypernet_path), "path": hypernet_path,
                              "chunk_len": net.cfg.chunk_len, "chunk_combine": net.cfg.chunk_combine,
                              "window_len": net.cfg.window_len, "window_combine": net.cfg.window_combine,
                              "read_autocast": _dtype_name(read_autocast(model, read_dtype))}
    return report


def _dtype_name(dtype: torch.dtype | None) -> str | None:
    return None if dtype is None else str(dtype).removeprefix("torch.")
