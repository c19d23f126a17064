"""Fitted compositions: a document's adapter and a task's adapter fitted to work as one (hypernet.tasks.fit),
stored so that the fit runs once per pair.

Each corpus has a composition registry beside its adapter registry, a `pipelines.registry.Registry` with
`{task}+{doc_id}` in the document id's place:

    {store}/corpora/{corpus}/compositions/docs/{task}+{doc_id}/versions/{version_id}/...

A version is keyed by the two adapters' version ids (in the key's content and generator slots), the base
model, and the fit's recipe with the two scales: a re-patched document, a changed task description or
another recipe makes a new version; the same pair again reads the stored one. With `compose_steps` 0 the
projection alone is used and nothing is stored. Heavy modules are imported inside the functions.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

from pipelines.lookup import document_text, latest_adapter
from pipelines.registry import AdapterKey, Registry
from pipelines.settings import Settings
from pipelines.task_adapters import BrokenAdapter

COMPOSITIONS_DIR = "compositions"


def open_composition_registry(settings: Settings, corpus: str) -> Registry:
    from pipelines.patching import adapter_cache_dir
    from pipelines.snapshot import corpus_uri

    return Registry(f"{corpus_uri(settings.store, corpus)}/{COMPOSITIONS_DIR}", settings.storage_options,
                    cache_dir=adapter_cache_dir(settings))


def composition_key(settings: Settings, cfg, task: str, doc_id: str, doc_version: str,
                    task_version: str) -> AdapterKey:
    """The key of a pair's fitted composition under the recipe `cfg` (a ComposeConfig) and the settings' scales."""
    from hypernet.base_model import resolve

    base = resolve(settings.base_model, settings.cache_dir or None)
    recipe = f"{cfg.key()}-doc{settings.doc_scale:g}-task{settings.task_scale:g}"
    return AdapterKey(f"{task}+{doc_id}", doc_version, task_version, base.model_id, base.revision, recipe)


def composed_adapter(settings: Settings, corpus: str, doc_id: str, task: str, task_adapter: tuple,
                     load: Callable[[], tuple]) -> dict:
    """The composition of the document's latest adapter and the task's (`task_adapter`: the (LoraTensors,
    manifest) of pipelines.task_adapters.latest_task_adapter): `lora` (LoraTensors), the document adapter's
    `version_id`, `fitted` (whether a fit ran now) and its `seconds`.

    `load` returns pipelines.answering.load_base_model's result; it is called only when a fit runs. BrokenAdapter
    when a fit ends with weights that are not finite: nothing is stored."""
    from hypernet.activations import read_autocast
    from hypernet.config import ComposeConfig
    from hypernet.lora import compose
    from hypernet.peft_format import from_peft_files, to_peft_files
    from hypernet.tasks.fit import fit_composition

    doc_lora, doc_version = latest_adapter(settings, corpus, doc_id)
    task_lora, task_manifest = task_adapter
    out = {"version_id": doc_version, "fitted": False, "seconds": 0.0}
    cfg = ComposeConfig(steps=settings.compose_steps)
    if not cfg.steps:
        return {**out, "lora": compose(doc_lora, task_lora, doc_scale=settings.doc_scale,
                                       task_scale=settings.task_scale)}
    registry = open_composition_registry(settings, corpus)
    key = composition_key(settings, cfg, task, doc_id, doc_version, task_manifest["version_id"])
    if registry.has_version(key):
        return {**out, "lora": from_peft_files(registry.load_files(key.doc_id, key.version_id))}
    model, tok, ref = load()
    started = time.perf_counter()
    lora = fit_composition(model, tok, doc_lora, task_lora, document_text(settings, corpus, doc_id), cfg,
                           doc_scale=settings.doc_scale, task_scale=settings.task_scale,
                           autocast=read_autocast(model, settings.read_dtype))
    if not lora.is_finite():
        raise BrokenAdapter(f"fitting the composition of {doc_id!r} with task {task!r} ended with NaN or infinite "
                            "weights; nothing was stored (try --compose-steps 0)")
    seconds = round(time.perf_counter() - started, 3)
    lineage = {"kind": "composition", "corpus": corpus, "doc_version_id": doc_version,
               "task_version_id": task_manifest["version_id"], "compose": dataclasses.asdict(cfg),
               "doc_scale": settings.doc_scale, "task_scale": settings.task_scale, "base_model_id": ref.model_id,
               "fit_seconds": seconds}
    registry.publish_many([(key, to_peft_files(lora, ref.model_id), lineage)], run_id="compose")
    return {**out, "lora": lora, "fitted": True, "seconds": seconds}

