"""The one settings object: every knob, its default, its help and its check live in `Settings` below
or in `workers.config.WorkerConfig`, which it extends (models, cluster, actors, batching).

Sources, highest first:
    1. command-line flags            (`docpatch patch --store s3://bucket/kb ...`)
    2. environment                   (`DOCPATCH_STORE`, `DOCPATCH_BASE_MODEL`, ... = DOCPATCH_ + field name)
    3. a TOML file                   (`$DOCPATCH_CONFIG`, else `./docpatch.toml` when it exists;
                                      top-level keys are the field names)
    4. the defaults in the dataclass

Storage options (credentials, endpoints for fsspec) come from the environment only: the standard
AWS variables that s3fs reads itself, plus `DOCPATCH_STORAGE_OPTIONS` (a JSON object). They are not
fields, so they never land in a flow run's parameters, a snapshot or an adapter's lineage.

The default store is `.docpatch/store` under the working directory (made absolute), so a project
folder holds its `docpatch.toml` and its data side by side, the way git keeps `.git/`.
"""
from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hypernet.config import ComposeConfig
from workers.config import WorkerConfig
from workers.storage import redact_uri

ENV_PREFIX = "DOCPATCH_"
CONFIG_ENV = "DOCPATCH_CONFIG"
STORAGE_OPTIONS_ENV = "DOCPATCH_STORAGE_OPTIONS"
CONFIG_FILE = "docpatch.toml"
DEFAULT_STORE = ".docpatch/store"

# Flag groups: "common" flags are on every sub-command, "workers" flags on those that generate adapters,
# "ingest" flags on those that read a source, "train" flags on `docpatch train`; "" = no flag (environment
# and docpatch.toml only). A WorkerConfig field is a "workers" flag unless WORKER_FIELD_GROUPS says otherwise.
COMMON, WORKERS, INGEST, TRAIN, NO_FLAG = "common", "workers", "ingest", "train", ""
WORKER_FIELD_GROUPS = {"base_model": COMMON, "hypernet_path": COMMON, "cache_dir": COMMON, "ray_address": COMMON,
                       "dtype": NO_FLAG, "max_task_retries": NO_FLAG, "actor_report_dir": NO_FLAG}
# A field's flag is --field-name unless named here.
FLAG_NAMES = {"hypernet_path": "--hypernet", "task_hypernet_path": "--task-hypernet"}


class SettingsError(ValueError):
    """A setting has a bad value or a config file cannot be read (a user error, one line)."""


def _opt(default: Any, help: str, group: str = NO_FLAG) -> Any:
    """A settings field of pipelines' own: its default, its help text and its flag group."""
    return field(default=default, metadata={"help": help, "group": group})


@dataclass(frozen=True)
class Settings(WorkerConfig):
    """Resolved docpatch settings (see the module docstring for where each value comes from).

    The models, the cluster, the actors' resources and batching are the fields of
    workers.config.WorkerConfig (defaults, help and checks there); these add the store, ingest
    and training storage.
    """

    store: str = _opt(DEFAULT_STORE, "where corpora, snapshots and registries live: a directory or an "
                      "fsspec URI such as s3://bucket/prefix", COMMON)
    train_storage: str = _opt("", "where meta-training keeps prepared data, checkpoints and reports: a "
                              "directory or s3://bucket/prefix (empty: STORE/training)", TRAIN)
    id_field: str = _opt("id", "the field of a record (a JSONL/JSON key, a Parquet/CSV/TSV column) that holds "
                         "its document id", INGEST)
    text_field: str = _opt("text", "the field of a record that holds its document text", INGEST)
    train_after_refined: int = _opt(0, "the nightly flow starts meta-training on its corpus (the meta-train flow "
                                    "with job.training_corpus; see pipelines.meta_train.corpus) once at least this "
                                    "many of the corpus's documents got refined adapters since its last corpus "
                                    "training (0: never)")
    task_hypernet_path: str = _opt("", "task hypernetwork checkpoint folder: turns a task description into an "
                                   "adapter (`docpatch task`, `docpatch eval` on a task file; empty: the checkpoint "
                                   "shipped in hypernet/checkpoints/tasks)")
    task_scale: float = _opt(1.0, "factor on a task adapter's B when it is composed with a document's adapter "
                             "(`docpatch ask --task` with a document)")
    doc_scale: float = _opt(1.0, "factor on a document adapter's B when it is composed with a task adapter")
    compose_steps: int = _opt(ComposeConfig.steps, "optimizer steps that fit a task adapter to a document's adapter "
                              "when the two are composed (hypernet.tasks.fit; the fitted composition is stored and "
                              "reused; 0: the projection alone)")
    max_doc_bytes: int = _opt(10_000_000, "documents larger than this are rejected at ingest")
    row_group_size: int = _opt(1000, "rows per Parquet row group in snapshots")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, _type_of(f.type)) or (isinstance(value, bool) and f.type != "bool"):
                object.__setattr__(self, f.name, _coerce(f.name, f.type, value, f"setting {f.name}"))
        try:
            super().__post_init__()
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        if not self.store:
            raise SettingsError("store must not be empty")
        if "://" not in self.store:
            object.__setattr__(self, "store", str(Path(self.store).expanduser().resolve()))
        for name in ("max_doc_bytes", "row_group_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("task_scale", "doc_scale"):
            if not 0 <= getattr(self, name) < float("inf"):
                raise SettingsError(f"{name} must be a finite number of 0 or more, got {getattr(self, name)}")
        if self.compose_steps < 0:
            raise SettingsError(f"compose_steps must be 0 (the projection alone) or more, got {self.compose_steps}")
        if self.train_after_refined < 0:
            raise SettingsError(f"train_after_refined must be 0 (off) or more, got {self.train_after_refined}")
        for name in ("id_field", "text_field"):
            if not getattr(self, name):
                raise SettingsError(f"{name} must not be empty")
        if self.id_field == self.text_field:
            raise SettingsError(f"id_field and text_field must differ, both are {self.id_field!r}")

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None,
             config_path: str | None = None) -> "Settings":
        """Merge defaults < TOML file < DOCPATCH_* environment < flags (None values are 'not given')."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        values.update(_from_toml(config_path or env.get(CONFIG_ENV) or _default_config_file()))
        values.update(_from_env(env))
        values.update(_known({k: v for k, v in (flags or {}).items() if v is not None}, "flag"))
        return cls(**values)

    def with_overrides(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (checked like any other source)."""
        return replace(self, **_known(changes, "override"))

    # -- views -----------------------------------------------------------------------------------
    @property
    def storage_options(self) -> dict:
        """fsspec storage options, from DOCPATCH_STORAGE_OPTIONS (JSON) only; may hold secrets."""
        return storage_options_from_env(os.environ)

    def to_worker_config(self) -> WorkerConfig:
        """The workers' view of these settings: every WorkerConfig field, with hypernet_path resolved to a
        folder (the store's registered hypernetwork, else the shipped one; see pipelines.hypernets)."""
        from pipelines.hypernets import resolve_hypernet_path

        values = {f.name: getattr(self, f.name) for f in fields(WorkerConfig)}
        return WorkerConfig(**{**values, "hypernet_path": resolve_hypernet_path(self)})

    @property
    def training_uri(self) -> str:
        """Where meta-training runs live: `train_storage`, else `{store}/training`."""
        return self.train_storage or f"{self.store.rstrip('/')}/training"

    def record(self) -> dict:
        """A JSON-able copy safe to store beside snapshots and adapters (credentials stripped from URIs)."""
        out = asdict(self)
        for key in ("store", "ray_address", "train_storage"):
            out[key] = redact_uri(out[key])
        return out


# -- sources ---------------------------------------------------------------------------------------
def _default_config_file() -> str | None:
    return CONFIG_FILE if Path(CONFIG_FILE).is_file() else None


def _from_toml(path: str | None) -> dict[str, Any]:
    """The settings in a TOML file (top-level keys named like the fields)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} not found (set by {CONFIG_ENV} or --config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    return {name: _coerce(name, _field_types()[name], value, f"{path}: {name}")
            for name, value in _known(data, f"key in {path}").items()}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The DOCPATCH_<FIELD> variables that are set (an empty string counts as set)."""
    out = {}
    for name, type_ in _field_types().items():
        var = ENV_PREFIX + name.upper()
        if var in env:
            out[name] = _coerce(name, type_, env[var], var)
    return out


def storage_options_from_env(env: Mapping[str, str]) -> dict:
    """Parse DOCPATCH_STORAGE_OPTIONS (a JSON object); {} when unset."""
    raw = env.get(STORAGE_OPTIONS_ENV, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"{STORAGE_OPTIONS_ENV} must be a JSON object") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{STORAGE_OPTIONS_ENV} must be a JSON object")
    return value


# -- helpers ---------------------------------------------------------------------------------------
def _field_types() -> dict[str, str]:
    return {f.name: f.type for f in fields(Settings)}


def settings_fields():
    """The fields of Settings, for building command-line options from their metadata."""
    return fields(Settings)


def flag_of(f) -> tuple[str, str]:
    """A Settings field's command-line flag and its group (NO_FLAG: environment and docpatch.toml only)."""
    group = f.metadata["group"] if "group" in f.metadata else WORKER_FIELD_GROUPS.get(f.name, WORKERS)
    return FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-")), group


def _known(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Reject names that are not settings, naming the offender and the valid names."""
    unknown = sorted(set(values) - set(_field_types()))
    if unknown:
        raise SettingsError(f"unknown setting {what} {unknown[0]!r}; known: {', '.join(_field_types())}")
    return dict(values)


def _type_of(annotation: str) -> type:
    return {"str": str, "int": int, "float": float, "bool": bool}[annotation]


_TYPE_WORDS = {"str": "string", "int": "whole number", "float": "number", "bool": "boolean (true or false)"}
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _coerce(name: str, annotation: str, value: Any, where: str) -> Any:
    """Turn a string / TOML value into the field's type, or raise a SettingsError naming `where`."""
    target = _type_of(annotation)
    if target is bool and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    if (isinstance(value, bool) != (target is bool)) or (target is str and not isinstance(value, str)):
        raise SettingsError(f"{where} must be a {_TYPE_WORDS[annotation]}, got {value!r}")
    try:
        if target is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return target(value.strip() if isinstance(value, str) and target is not str else value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where} must be a {_TYPE_WORDS[annotation]}, got {value!r}") from None
