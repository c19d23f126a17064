"""A cached training example as bytes: safetensors, never pickle. A distillation `Example` (teacher
targets and activations) or a `DenseExample` (hypernet.dense: activations and a reference's effect).

The meta-training job computes examples once, stores them (one Parquet row each, this blob
in a binary column) and reads them back every epoch. The layout follows the dataclass itself:
a tensor field is stored under its name, a list of tensors as `name.0`, `name.1`, ... with its
length in the header metadata, so a field added to `Example` later is carried without changes here
(an optional field, default None, may be absent: blobs written before it existed still load).
"""
from __future__ import annotations

import dataclasses
import json
import struct

import torch
from safetensors.torch import load, save

from hypernet.dense import DenseExample
from hypernet.distill import Example

FORMAT = "docpatch-example/1"
_LIST_PREFIX = "list:"
# The header's "kind" names the class; a blob without one is an Example (blobs written before dense ones).
KINDS = {"Example": Example, "DenseExample": DenseExample}


def example_to_bytes(ex: Example | DenseExample) -> bytes:
    """Serialise every field of the example (tensors and lists of tensors) into one safetensors blob."""
    tensors: dict[str, torch.Tensor] = {}
    kind = type(ex).__name__
    assert KINDS.get(kind) is type(ex), f"no serialisation for {kind}"
    meta = {"format": FORMAT, **({} if kind == "Example" else {"kind": kind})}
    for f in dataclasses.fields(ex):
        value = getattr(ex, f.name)
        if value is None and f.default is None:  # an optional field left empty
            continue
        if torch.is_tensor(value):
            tensors[f.name] = value.detach().cpu().contiguous()
        elif isinstance(value, (list, tuple)) and all(torch.is_tensor(v) for v in value):
            meta[f.name] = f"{_LIST_PREFIX}{len(value)}"
            for i, v in enumerate(value):
                tensors[f"{f.name}.{i}"] = v.detach().cpu().contiguous()
        else:
            raise TypeError(f"Example.{f.name} is a {type(value).__name__}; only tensors and lists of tensors are stored")
    return save(tensors, metadata=meta)


def _metadata(data: bytes) -> dict[str, str]:
    """The `__metadata__` of a safetensors blob (its header is 8 bytes of length, then JSON)."""
    if len(data) < 8:
        raise ValueError("not a serialised Example: too short")
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8: 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a serialised Example: bad safetensors header ({exc})") from None
    return header.get("__metadata__") or {}


def example_from_bytes(data: bytes) -> Example | DenseExample:
    """The inverse of `example_to_bytes`; ValueError for blobs of another format."""
    meta = _metadata(data)
    if meta.get("format") != FORMAT:
        raise ValueError(f"not a serialised Example: format {meta.get('format')!r}, expected {FORMAT!r}")
    cls = KINDS.get(meta.get("kind", "Example"))
    if cls is None:
        raise ValueError(f"not a serialised Example: unknown kind {meta.get('kind')!r}")
    tensors = load(data)
    values = {}
    for f in dataclasses.fields(cls):
        kind = meta.get(f.name, "")
        if kind.startswith(_LIST_PREFIX):
            values[f.name] = [tensors[f"{f.name}.{i}"] for i in range(int(kind[len(_LIST_PREFIX):]))]
        elif f.name in tensors:
            values[f.name] = tensors[f.name]
        elif f.default is None:  # optional, or written before the field existed
            values[f.name] = None
        else:
            raise ValueError(f"serialised {cls.__name__} lacks field {f.name!r}")
    return cls(**values)
