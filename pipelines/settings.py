"""The one settings object: every knob, its default and its help live in `Settings` below.

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
from urllib.parse import urlsplit, urlunsplit

from workers.config import READ_DTYPES

ENV_PREFIX = "DOCPATCH_"
CONFIG_ENV = "DOCPATCH_CONFIG"
STORAGE_OPTIONS_ENV = "DOCPATCH_STORAGE_OPTIONS"
CONFIG_FILE = "docpatch.toml"
DEFAULT_STORE = ".docpatch/store"

# Flag groups: "common" flags are on every sub-command, "workers" flags on those that generate adapters,
# "ingest" flags on those that read a source, "train" flags on `docpatch train`.
COMMON, WORKERS, INGEST, TRAIN = "common", "workers", "ingest", "train"


class SettingsError(ValueError):
    """A setting has a bad value or a config file cannot be read (a user error, one line)."""


def _opt(default: Any, help: str, flag: str = "", group: str = "") -> Any:
    """A settings field: its default, its help text and (optionally) its command-line flag."""
    return field(default=default, metadata={"help": help, "flag": flag, "group": group})


@dataclass(frozen=True)
class Settings:
    """Resolved docpatch settings (see the module docstring for where each value comes from)."""

    store: str = _opt(DEFAULT_STORE, "where corpora, snapshots and registries live: a directory or an "
                      "fsspec URI such as s3://bucket/prefix", "--store", COMMON)
    base_model: str = _opt("packaged:gemma-3-270m", "frozen base LLM: 'packaged:gemma-3-270m', a local "
                           "Hugging Face model folder, or a hub id already in the offline cache",
                           "--base-model", COMMON)
    hypernet_path: str = _opt("", "hypernetwork checkpoint folder (empty: the store's current registered "
                              "hypernetwork, see `docpatch train`; without one, the checkpoint shipped in "
                              "the package)", "--hypernet", COMMON)
    cache_dir: str = _opt("", "cache for converted base models (empty: ~/.cache/docpatch)",
                          "--cache-dir", COMMON)
    ray_address: str = _opt("", "Ray cluster to join (empty: start a local Ray)", "--ray-address", COMMON)
    num_actors: int = _opt(1, "adapter-generating Ray actors", "--num-actors", WORKERS)
    gpus_per_actor: float = _opt(0.0, "GPUs per actor (0: run on CPU)", "--gpus-per-actor", WORKERS)
    cpus_per_actor: float = _opt(1.0, "CPUs per actor (fractions allowed; keep the total under the "
                                 "CPU count so reading is not starved)", "--cpus-per-actor", WORKERS)
    torch_threads: int = _opt(0, "torch threads per actor (0: torch's default)", "--torch-threads", WORKERS)
    batch_docs: int = _opt(16, "documents per batch sent to an actor", "--batch-docs", WORKERS)
    max_batch_tokens: int = _opt(4096, "tokens per forward pass inside an actor", "--max-batch-tokens", WORKERS)
    dtype: str = _opt("auto", "model dtype: auto, float32, bfloat16 or float16")
    read_dtype: str = _opt("auto", "precision of the document-reading pass: auto (a bfloat16 autocast over a "
                           "float32 model on CPUs with native bf16, AVX512-BF16 or AMX: ~1.6x faster; else "
                           "the model's dtype), model (always the model's dtype: no bf16 rounding, adapters "
                           "independent of batching) or bfloat16", "--read-dtype", WORKERS)
    train_storage: str = _opt("", "where meta-training keeps prepared data, checkpoints and reports: a "
                              "directory or s3://bucket/prefix (empty: STORE/training)", "--train-storage", TRAIN)
    id_field: str = _opt("id", "the field of a record (a JSONL/JSON key, a Parquet/CSV/TSV column) that holds "
                         "its document id", "--id-field", INGEST)
    text_field: str = _opt("text", "the field of a record that holds its document text", "--text-field", INGEST)
    max_doc_bytes: int = _opt(10_000_000, "documents larger than this are rejected at ingest")
    row_group_size: int = _opt(1000, "rows per Parquet row group in snapshots")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, _type_of(f.type)) or isinstance(value, bool):
                object.__setattr__(self, f.name, _coerce(f.name, f.type, value, f"setting {f.name}"))
        if not self.store:
            raise SettingsError("store must not be empty")
        if "://" not in self.store:
            object.__setattr__(self, "store", str(Path(self.store).expanduser().resolve()))
        for name in ("num_actors", "batch_docs", "max_batch_tokens", "max_doc_bytes", "row_group_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("gpus_per_actor", "cpus_per_actor", "torch_threads"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in ("id_field", "text_field"):
            if not getattr(self, name):
                raise SettingsError(f"{name} must not be empty")
        if self.id_field == self.text_field:
            raise SettingsError(f"id_field and text_field must differ, both are {self.id_field!r}")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise SettingsError(f"dtype must be auto, float32, bfloat16 or float16, got {self.dtype!r}")
        if self.read_dtype not in READ_DTYPES:
            raise SettingsError(f"read_dtype must be {', '.join(READ_DTYPES[:-1])} or {READ_DTYPES[-1]}, "
                                f"got {self.read_dtype!r}")

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

    def to_worker_config(self):
        """The workers' view of these settings."""
        from workers.config import WorkerConfig

        from pipelines.hypernets import resolve_hypernet_path

        return WorkerConfig(
            base_model=self.base_model, hypernet_path=resolve_hypernet_path(self), cache_dir=self.cache_dir,
            ray_address=self.ray_address, num_actors=self.num_actors, num_gpus_per_actor=self.gpus_per_actor,
            num_cpus_per_actor=self.cpus_per_actor, torch_threads=self.torch_threads,
            batch_docs=self.batch_docs, max_batch_tokens=self.max_batch_tokens, dtype=self.dtype,
            read_dtype=self.read_dtype,
        )

    @property
    def training_uri(self) -> str:
        """Where meta-training runs live: `train_storage`, else `{store}/training`."""
        return self.train_storage or f"{self.store.rstrip('/')}/training"

    def record(self) -> dict:
        """A JSON-able copy safe to store beside snapshots and adapters (credentials stripped from URIs)."""
        out = asdict(self)
        for key in ("store", "ray_address", "train_storage"):
            out[key] = strip_credentials(out[key])
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


def _known(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Reject names that are not settings, naming the offender and the valid names."""
    unknown = sorted(set(values) - set(_field_types()))
    if unknown:
        raise SettingsError(f"unknown setting {what} {unknown[0]!r}; known: {', '.join(_field_types())}")
    return dict(values)


def _type_of(annotation: str) -> type:
    return {"str": str, "int": int, "float": float}[annotation]


_TYPE_WORDS = {"str": "string", "int": "whole number", "float": "number"}


def _coerce(name: str, annotation: str, value: Any, where: str) -> Any:
    """Turn a string / TOML value into the field's type, or raise a SettingsError naming `where`."""
    target = _type_of(annotation)
    if isinstance(value, bool) or (target is str and not isinstance(value, str)):
        raise SettingsError(f"{where} must be a {_TYPE_WORDS[annotation]}, got {value!r}")
    try:
        if target is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return target(value.strip() if isinstance(value, str) and target is not str else value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where} must be a {_TYPE_WORDS[annotation]}, got {value!r}") from None


def strip_credentials(uri: str) -> str:
    """Remove a user:password part from a URI (s3://key:secret@bucket -> s3://bucket)."""
    if "://" not in uri:
        return uri
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
