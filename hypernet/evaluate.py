"""Evaluation on the eval format: `{"id", "text", "qa": [{"q", "a"}]}` per JSONL line.

Modes, all answering greedily and briefly:
- base: no document (how much the base model knows or guesses);
- context: the document in the prompt (the teacher; the ceiling the adapter aims at);
- adapter: the generated adapter, no document;
- finetune: the gradient baseline: a LoRA of the same targets and rank trained per document on
  the document alone: next-token prediction on its text plus fill-in-the-blank questions made
  from its own sentences (`hypernet.self_questions`), never the eval questions.

Per mode: exact-match `accuracy` and `gold_nll`, the mean per-token negative log-likelihood of
the gold answer (graded: lower is closer to knowing it).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

import torch

from hypernet import base_model
from hypernet.activations import read_autocast, under_autocast
from hypernet.distill import pad_rows, qa_tokens
from hypernet.generate import AdapterGenerator, answer, answer_nll
from hypernet.lora import LoraTensors, applied
from hypernet.model import HyperNetwork, checkpoint_id, default_checkpoint
from hypernet.prompts import is_correct
from hypernet.self_questions import SelfQuestion, self_questions

MODES = ("base", "context", "adapter", "finetune")


@dataclass
class FinetuneConfig:
    """The per-document gradient baseline."""

    steps: int = 30
    lr: float = 1e-3
    rank: int = 8
    # Fill-in-the-blank items made from the document's sentences, trained beside its text
    # (0: the text alone). They teach the answering format the eval asks in.
    self_questions: int = 16
    # Blanks per step, taken in turn: a step on all 16 costs ~4x a step on the text alone.
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
    gets the same bf16 hardware the hypernetwork reads with (~1.5x faster on the AVX512-BF16 dev
    CPU, the document's NLL after 10 steps the same to 0.01 nats)."""
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
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
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


def evaluate_docs(docs: list[dict], modes: list[str], model, tok, hypernet: HyperNetwork | None, *,
                  finetune: FinetuneConfig | None = None, progress: Callable[[str], None] | None = None,
                  max_new_tokens: int = 16, read_dtype: str = "auto") -> dict:
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown eval modes {sorted(unknown)}; choose from {MODES}")
    if ("adapter" in modes) and hypernet is None:
        raise ValueError("adapter mode needs a hypernetwork checkpoint")
    gen = AdapterGenerator(model, tok, hypernet, read_dtype=read_dtype) if hypernet is not None else None
    finetune = finetune or FinetuneConfig()
    ft_autocast = read_autocast(model, read_dtype)  # the baseline trains on the hardware the adapter reads with
    stats = {m: {"correct": 0, "questions": 0, "answer_seconds": 0.0, "nll": 0.0} for m in modes}
    by_chunks: dict[int, dict[str, int]] = {}
    gen_seconds, ft_seconds, rows = 0.0, 0.0, []
    for i, doc in enumerate(docs):
        lora, n_chunks = None, None
        if "adapter" in modes:
            t = time.perf_counter()
            made = gen.generate([doc["text"]])[0]
            gen_seconds += time.perf_counter() - t
            lora, n_chunks = made.lora, made.n_chunks
        ft_lora = None
        if "finetune" in modes:
            targets = {t.name: (t.d_in, t.d_out) for t in hypernet.cfg.targets} if hypernet else \
                {"mlp.down_proj": (model.config.intermediate_size, model.config.hidden_size)}
            t = time.perf_counter()
            ft_lora = finetune_lora(model, tok, doc["text"], targets, model.config.num_hidden_layers, finetune,
                                    autocast=ft_autocast)
            ft_seconds += time.perf_counter() - t
        for qa in doc["qa"]:
            row = {"id": doc["id"], "q": qa["q"], "gold": qa["a"]}
            for mode in modes:
                kwargs = {"base": {}, "context": {"document": doc["text"]}, "adapter": {"lora": lora},
                          "finetune": {"lora": ft_lora}}[mode]
                t = time.perf_counter()
                got = answer(model, tok, qa["q"], max_new_tokens=max_new_tokens, **kwargs)
                stats[mode]["answer_seconds"] += time.perf_counter() - t
                stats[mode]["nll"] += answer_nll(model, tok, qa["q"], qa["a"], **kwargs)
                ok = is_correct(got, qa["a"])
                stats[mode]["correct"] += ok
                stats[mode]["questions"] += 1
                row[mode] = got
                row[mode + "_ok"] = ok
                if mode == "adapter":
                    bucket = by_chunks.setdefault(n_chunks, {"correct": 0, "questions": 0})
                    bucket["correct"] += ok
                    bucket["questions"] += 1
            rows.append(row)
        if progress:
            done = {m: f"{s['correct']}/{s['questions']}" for m, s in stats.items()}
            progress(f"[{i + 1}/{len(docs)}] {doc['id']}: {done}")
    n_q = sum(len(d["qa"]) for d in docs)
    report: dict = {"n_docs": len(docs), "n_questions": n_q}
    for mode, s in stats.items():
        report[mode] = {"accuracy": s["correct"] / max(1, s["questions"]),
                        "seconds_per_question": s["answer_seconds"] / max(1, s["questions"]),
                        "gold_nll": s["nll"] / max(1, s["questions"])}
    if "adapter" in modes:
        report["adapter"]["generate_seconds_per_doc"] = gen_seconds / len(docs)
        report["adapter"]["accuracy_by_chunks"] = {
            str(k): v["correct"] / v["questions"] for k, v in sorted(by_chunks.items())}
    if "finetune" in modes:
        report["finetune"]["train_seconds_per_doc"] = ft_seconds / len(docs)
        report["finetune"]["steps"] = finetune.steps
        report["finetune"]["self_questions"] = finetune.self_questions
        report["finetune"]["questions_per_step"] = finetune.questions_per_step
        report["finetune"]["autocast"] = _dtype_name(ft_autocast)
    report["answers"] = rows
    return report


def evaluate_file(path: str, modes: list[str], *, base_model_spec: str = base_model.PACKAGED,
                  hypernet_path: str = "", limit: int | None = None, chunk_len: int | None = None,
                  chunk_combine: str | None = None, window_len: int | None = None,
                  window_combine: str | None = None,
                  finetune: FinetuneConfig | None = None,
                  progress: Callable[[str], None] | None = None, device: str = "cpu",
                  read_dtype: str = "auto") -> dict:
    """Load the models, evaluate a JSONL file, return the JSON report."""
    docs = read_eval_file(path)[:limit] if limit else read_eval_file(path)
    model, tok, ref = base_model.load(base_model_spec, device=device)
    hypernet_path = hypernet_path or default_checkpoint()
    net = None
    if "adapter" in modes or "finetune" in modes:
        # Overrides go through the config, so its checks (rule names, the serving-rank cap) apply to them.
        overrides = {"chunk_len": chunk_len or None, "chunk_combine": chunk_combine or None, "window_len": window_len,
                     "window_combine": window_combine or None}
        net = HyperNetwork.load(hypernet_path, **{k: v for k, v in overrides.items() if v is not None})
    report = evaluate_docs(docs, modes, model, tok, net, finetune=finetune,
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
