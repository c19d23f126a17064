"""Recipes (refinement, composition fit) written on a benchmark's command line (run as `python bench/NAME.py`,
so this is importable)."""
from __future__ import annotations

import dataclasses

from hypernet.config import RefineConfig


def recipe(text: str, steps: int, config: type = RefineConfig):
    """A `config` (RefineConfig, or another recipe dataclass with a `steps` field) from space-separated
    `field=value` overrides of its defaults ("" is the defaults), at `steps`."""
    defaults = dataclasses.asdict(config())
    kwargs = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"recipe override {pair!r}: want field=value")
        if key not in defaults:
            raise SystemExit(f"unknown {config.__name__} field {key!r}; fields: {', '.join(defaults)}")
        if isinstance(defaults[key], bool):  # bool("false") is True
            if value.lower() not in ("true", "false"):
                raise SystemExit(f"recipe override {pair!r}: want true or false")
            kwargs[key] = value.lower() == "true"
        else:
            kwargs[key] = type(defaults[key])(value)
    return config(**{**kwargs, "steps": steps})
