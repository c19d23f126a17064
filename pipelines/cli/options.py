"""Flags from dataclass fields and the options every sub-command shares.

A knob is a field of a dataclass (pipelines.settings.Settings, hypernet.config.TrainConfig,
pipelines.meta_train.job.MetaTrainJob); its flag shows the field's help and default and has a default
of None ("not given"), so the field's default, or a lower source of settings, applies.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipelines.settings import COMMON, INGEST, TRAIN, WORKERS, Settings, flag_of, settings_fields

from pipelines.cli.output import UserError

GROUP_TITLES = {COMMON: "common options", WORKERS: "worker options", INGEST: "ingest options",
                TRAIN: "training storage"}


@dataclass(frozen=True)
class Command:
    """One sub-command: its name, its help, what runs it, its own arguments and the settings flag groups
    it takes (none: its actions take the common options each, as `adapters list` does)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    add_arguments: Callable[[argparse.ArgumentParser], None]
    groups: tuple[str, ...] = (COMMON,)


def field_flag(options, f: dataclasses.Field, flag: str = "", *, note: str = "", extra: str = "",
               metavar: str | None = None) -> None:
    """A flag for the dataclass field `f`, its help and default shown from the field."""
    flag = flag or "--" + f.name.replace("_", "-")
    text = f"{f.metadata['help']}{extra} [{note}default: {f.default!r}]"
    if isinstance(f.default, bool):
        options.add_argument(flag, dest=f.name, action="store_true", default=None, help=text)
    else:
        kind = type(f.default)
        options.add_argument(flag, dest=f.name, type=kind, default=None, metavar=metavar or kind.__name__.upper(),
                             help=text)


def add_settings_flags(options, group: str = "", names: tuple[str, ...] = ()) -> None:
    """The flags of the Settings fields of one flag group (or the named ones)."""
    for f in settings_fields():
        flag, flag_group = flag_of(f)
        if (names and f.name in names) or (not names and flag_group == group):
            field_flag(options, f, flag, note=f"env DOCPATCH_{f.name.upper()}; ")


def settings_parent(group: str, title: str | None = None) -> argparse.ArgumentParser:
    """An argparse parent holding the flags of the Settings fields of one group (the common group adds
    --config, --json and --verbose)."""
    parent = argparse.ArgumentParser(add_help=False)
    options = parent.add_argument_group(title or GROUP_TITLES[group])
    add_settings_flags(options, group)
    if group == COMMON:
        options.add_argument("--config", default=None, metavar="PATH",
                             help="settings file (default: $DOCPATCH_CONFIG, else ./docpatch.toml if present)")
        options.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
        options.add_argument("--verbose", "-v", action="store_true", help="log Prefect, Ray and library messages")
    return parent


def load_settings(args: argparse.Namespace) -> Settings:
    """Flags > DOCPATCH_* environment > docpatch.toml > defaults."""
    flags = {f.name: getattr(args, f.name, None) for f in settings_fields()}
    return Settings.load(flags, config_path=args.config)


def add_corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, metavar="NAME", help="corpus name (letters, digits, . _ -)")


def add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE",
                   help="a directory tree, a .jsonl/.json/.parquet/.csv/.tsv file, or an s3://bucket/prefix")


def check_source(source: str) -> None:
    """A local source must exist before Prefect starts (seconds); a URI is read by the flow."""
    if "://" not in source and not Path(source).exists():
        raise UserError(f"source not found: {source}")
