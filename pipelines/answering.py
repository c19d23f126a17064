"""Answering questions about a corpus's documents: with the document's latest adapter and no document
in the prompt, with the document in the prompt, or with neither (the base model alone).

What `docpatch ask` and the demo run, and what a server would import: `load_base_model` once, then
`ask(..., loaded=...)` per question. torch and the models are imported inside the functions. What a
request names but the store lacks raises `pipelines.lookup.Unavailable`.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipelines.lookup import document_text, latest_adapter
from pipelines.settings import Settings

MODES = ("adapter", "context", "base")
SAMPLE_CORPUS = Path(__file__).parent / "sample_corpus"


def default_device() -> str:
    """The GPU when there is one, else the CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_base_model(settings: Settings):
    """(model, tokenizer, ref) of the configured base model, on the GPU when there is one."""
    from hypernet import base_model

    return base_model.load(settings.base_model, settings.cache_dir or None, device=default_device(),
                           dtype=settings.dtype)


def ask(settings: Settings, corpus: str, doc_id: str, question: str, mode: str, max_new_tokens: int = 24,
        loaded: tuple | None = None) -> dict:
    """Answer a question about one document in one of MODES; `loaded` is load_base_model's result, reused."""
    from hypernet.generate import answer

    lora, document, version_id = None, None, None
    if mode == "adapter":
        lora, version_id = latest_adapter(settings, corpus, doc_id)
    elif mode == "context":
        document = document_text(settings, corpus, doc_id)
    model, tok, ref = loaded or load_base_model(settings)
    started = time.perf_counter()
    text = answer(model, tok, question, lora=lora, document=document, max_new_tokens=max_new_tokens)
    return {"corpus": corpus, "doc_id": doc_id, "question": question, "mode": mode, "answer": text,
            "version_id": version_id, "base_model_id": ref.model_id, "seconds": round(time.perf_counter() - started, 3)}


def ask_task(settings: Settings, task: str, question: str, *, corpus: str | None = None, doc_id: str | None = None,
             mode: str = "adapter", max_new_tokens: int = 48, loaded: tuple | None = None) -> dict:
    """Answer under a task adapter (pipelines.task_adapters): alone, the question is the task's input (the task
    prompt); with a document, the question is about it (the question prompt) and `mode` says how the document
    comes in: adapter (its adapter composed with the task's and fitted to it, pipelines.compositions), context
    (in the prompt, the task adapter alone) or base (not at all). The output may span lines (a list, a sign-off)."""
    from hypernet.prompts import QUESTION_TURNS, TASK_TURNS, context_prompt, question_prompt, task_student_prompt
    from hypernet.tasks.evaluate import generate_outputs
    from pipelines.compositions import composed_adapter
    from pipelines.task_adapters import latest_task_adapter

    lora, manifest = latest_task_adapter(settings, task)
    prompt, turns, version_id, fit_seconds = task_student_prompt(question), TASK_TURNS, None, 0.0
    load = functools.cache(lambda: loaded or load_base_model(settings))  # only once, and only when needed
    if doc_id is not None:
        prompt, turns = question_prompt(question), QUESTION_TURNS
        if mode == "adapter":
            composed = composed_adapter(settings, corpus, doc_id, task, (lora, manifest), load)
            lora, version_id, fit_seconds = composed["lora"], composed["version_id"], composed["seconds"]
        elif mode == "context":
            prompt = context_prompt(document_text(settings, corpus, doc_id), question)
    model, tok, ref = load()
    started = time.perf_counter()
    (text,) = generate_outputs(model, tok, [prompt], lora=lora, max_new_tokens=max_new_tokens, turns=turns)
    return {"corpus": corpus, "doc_id": doc_id, "question": question, "mode": mode if doc_id else "task",
            "task": task, "task_version_id": manifest["version_id"], "answer": text, "version_id": version_id,
            "rank": lora.rank, "base_model_id": ref.model_id, "fit_seconds": fit_seconds,
            "seconds": round(time.perf_counter() - started, 3)}


def sample_questions(n_docs: int) -> list[tuple[str, str, str]]:
    """(doc_id, question, gold) for the first question of n documents spread over the sample corpus."""
    records = [json.loads(line) for line in (SAMPLE_CORPUS / "questions.jsonl").read_text().splitlines() if line]
    step = max(1, len(records) // max(1, n_docs))
    return [(r["id"], r["qa"][0]["q"], r["qa"][0]["a"]) for r in records[::step][:n_docs]]


def compare_modes(settings: Settings, corpus: str, questions: Iterable[tuple[str, str, str]],
                  modes: tuple[str, ...], loaded: tuple | None = None) -> Iterator[dict]:
    """Each (doc_id, question, gold) asked in each mode, one row per question as it is answered: the
    answer under the mode's name and whether it holds the gold answer under `MODE_ok`."""
    from hypernet.prompts import is_correct

    loaded = loaded or load_base_model(settings)
    for doc_id, question, gold in questions:
        row = {"doc_id": doc_id, "question": question, "gold": gold}
        for mode in modes:
            row[mode] = ask(settings, corpus, doc_id, question, mode, loaded=loaded)["answer"]
            row[f"{mode}_ok"] = is_correct(row[mode], gold)
        yield row


def count_correct(rows: list[dict], modes: tuple[str, ...]) -> dict[str, int]:
    """Per mode, how many of compare_modes' rows hold the gold answer."""
    return {m: sum(r[f"{m}_ok"] for r in rows) for m in modes}
