"""Task adapters (Text-to-LoRA): a plain-language task description becomes an adapter, stored like a document's.

The task registry is a `pipelines.registry.Registry` at `{store}/tasks`: a corpus registry's layout with the
task's name in the document id's place, so versions, manifests, pointers, verify, gc and the PEFT export are
the document adapters' own (`docpatch adapters ACTION --tasks`):

    {store}/tasks/docs/{name}/versions/{version_id}/adapter_config.json, adapter_model.safetensors, manifest.json
    {store}/tasks/docs/{name}/latest.json
    {store}/tasks/index.parquet

A version is keyed by (name, the description's sha256, the task hypernetwork's id, the base model id and
revision): the same description again does no model work, a changed one makes a new version. Its lineage
holds the description itself. The task hypernetwork is the `task_hypernet_path` setting, else the checkpoint
shipped in hypernet/checkpoints/tasks. Heavy modules are imported inside the functions.
"""
from __future__ import annotations

import json
import os
import time

from workers.storage import check_store

from pipelines.lookup import Unavailable, check_base_model
from pipelines.registry import AdapterKey, Registry, check_doc_id
from pipelines.settings import Settings
from pipelines.versioned_store import sha256_hex

TASKS_DIR = "tasks"


class BrokenAdapter(ValueError):
    """The task hypernetwork made an adapter with NaN or infinite weights: it is not published."""


def default_task_checkpoint() -> str:
    """The task hypernetwork shipped in the package, beside the document one."""
    from hypernet.config import default_checkpoint

    return os.path.join(os.path.dirname(default_checkpoint()), "tasks")


def resolve_task_hypernet_path(settings: Settings) -> str:
    """The task hypernetwork's folder (the setting, else the shipped one), or Unavailable saying what to pass."""
    from hypernet.config import CONFIG_FILE

    folder = settings.task_hypernet_path or default_task_checkpoint()
    if not os.path.isfile(os.path.join(folder, CONFIG_FILE)):
        raise Unavailable(f"no task hypernetwork in {folder} (no {CONFIG_FILE}); pass --task-hypernet FOLDER "
                          "or set DOCPATCH_TASK_HYPERNET_PATH (see docs/tasks.md)")
    return folder


def task_registry_uri(store: str) -> str:
    return f"{check_store(store).rstrip('/')}/{TASKS_DIR}"


def open_task_registry(settings: Settings) -> Registry:
    """The store's task registry; files read for serving are cached locally by sha256, as documents' are."""
    from pipelines.patching import adapter_cache_dir

    return Registry(task_registry_uri(settings.store), settings.storage_options, cache_dir=adapter_cache_dir(settings))


def check_task_name(name: str) -> None:
    """ValueError unless `name` is safe as a folder name in the registry."""
    try:
        check_doc_id(name)
    except ValueError:
        raise ValueError(f"unsafe task name {name!r}: no '/', '\\', '..', NUL or leading '.'") from None


def task_key(settings: Settings, name: str, description: str, hypernet_folder: str) -> AdapterKey:
    """The registry key of a task adapter: its name, description, task hypernetwork and base model."""
    from hypernet.base_model import resolve
    from hypernet.model import checkpoint_id

    base = resolve(settings.base_model, settings.cache_dir or None)
    return AdapterKey(name, sha256_hex(description.encode()), checkpoint_id(hypernet_folder), base.model_id,
                      base.revision)


def make_task_adapter(settings: Settings, name: str, description: str, loaded: tuple | None = None) -> dict:
    """Publish the task adapter of `description` under `name`, or reuse the version it already has.

    `loaded` is pipelines.answering.load_base_model's result, reused. The result says whether a version was
    created and whether `latest` moved; `seconds` is the generation's (0 when reused)."""
    description = description.strip()
    check_task_name(name)
    if not description:
        raise ValueError("a task description must not be empty")
    folder = resolve_task_hypernet_path(settings)
    key = task_key(settings, name, description, folder)
    registry = open_task_registry(settings)
    pointer = registry.pointer(name)
    created = moved = False
    seconds = 0.0
    if pointer and not pointer.get("tombstone") and pointer.get("version_id") == key.version_id:
        pass  # already the latest: no model work, no write
    elif registry.has_version(key):
        registry.rollback(name, key.version_id, run_id="task")  # an earlier description again
        moved = True
    else:
        files, lineage = generate_task_files(settings, folder, description, loaded)
        (result,) = registry.publish_many([(key, files, lineage)], run_id="task")
        created, moved, seconds = result.created, result.pointer_moved, lineage["generate_seconds"]
    manifest = registry.manifest(name, key.version_id)
    return {"name": name, "version_id": key.version_id, "rank": manifest["rank"], "created": created,
            "pointer_moved": moved, "seconds": seconds, "hypernet_id": key.hypernet_id,
            "base_model_id": key.base_model_id, "description": description}


def generate_task_files(settings: Settings, folder: str, description: str,
                        loaded: tuple | None = None) -> tuple[dict[str, bytes], dict]:
    """(PEFT files, lineage) of the description's adapter; BrokenAdapter when its weights are not finite."""
    from hypernet.generate import AdapterGenerator
    from hypernet.model import HyperNetwork, checkpoint_id
    from hypernet.peft_format import to_peft_files
    from pipelines.answering import load_base_model
    from workers.stages import check_compatible

    model, tok, ref = loaded or load_base_model(settings)
    net = HyperNetwork.load(folder)
    check_compatible(model.config, net.cfg)
    generator = AdapterGenerator(model, tok, net, max_batch_tokens=settings.max_batch_tokens,
                                 read_dtype=settings.read_dtype)
    started = time.perf_counter()
    (adapter,) = generator.generate([description])
    seconds = round(time.perf_counter() - started, 3)
    if not adapter.lora.is_finite():
        raise BrokenAdapter("the task hypernetwork made an adapter with NaN or infinite weights; nothing was "
                            "published (check --task-hypernet)")
    lineage = {"kind": "task", "description": description, "task_hypernet_id": checkpoint_id(folder),
               "base_model_id": ref.model_id, "base_model_revision": ref.revision, "n_tokens": adapter.n_tokens,
               "generate_seconds": seconds, "settings": settings.record()}
    return to_peft_files(adapter.lora, ref.model_id), lineage


def latest_task_adapter(settings: Settings, name: str):
    """(LoraTensors, manifest) of the task's latest adapter, checked to fit the configured base model."""
    from hypernet.peft_format import from_peft_files

    registry = open_task_registry(settings)
    try:
        check_task_name(name)
        manifest = registry.latest(name)
    except ValueError as exc:
        raise Unavailable(str(exc)) from None
    if manifest is None:
        raise Unavailable(f"no task adapter named {name!r}; make one with `docpatch task \"DESCRIPTION\" "
                          f"--name {name}` (or check `docpatch adapters list --tasks`)")
    check_base_model(settings, manifest, f"task adapter {name!r}", "make it again with `docpatch task`")
    files = registry.load_files(name, manifest["version_id"])
    return from_peft_files(files), manifest


def is_task_file(path: str) -> bool:
    """Whether a JSONL file holds tasks (hypernet.tasks.write_jsonl's) rather than documents with questions."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(row, dict) and "description" in row and "family" in row
    return False


def evaluate_task_file(settings: Settings, path: str, modes: list[str], *, limit: int | None = None,
                       device: str = "cpu", max_new_tokens: int = 48, progress=None) -> dict:
    """The task report of hypernet.tasks.evaluate on a task file, with the configured models."""
    from hypernet.tasks.evaluate import evaluate_task_file as evaluate

    folder = resolve_task_hypernet_path(settings) if "adapter" in modes else ""
    return evaluate(path, modes, base_model_spec=settings.base_model, task_hypernet_path=folder, limit=limit,
                    device=device, max_new_tokens=max_new_tokens, progress=progress)
