"""Small real PEFT adapters and registry keys for the adapter registry's tests (tests/pipelines/test_registry*.py)."""
from __future__ import annotations

import torch

from hypernet.lora import LoraTensors
from hypernet.peft_format import to_peft_files
from pipelines.registry import AdapterKey

TARGET = "mlp.down_proj"
D_IN, D_OUT, LAYERS = 16, 8, 2  # matches the tiny Gemma-3 of the export test: down_proj is 16 -> 8


def make_lora(seed: int, rank: int = 8) -> LoraTensors:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(LAYERS, rank, D_IN, generator=g)
    b = torch.randn(LAYERS, D_OUT, rank, generator=g)
    return LoraTensors({TARGET: (a, b)})


def make_files(seed: int, rank: int = 8) -> dict[str, bytes]:
    return to_peft_files(make_lora(seed, rank), "tiny/base")


def make_key(doc_id: str, doc_sha: str = "s1") -> AdapterKey:
    return AdapterKey(doc_id=doc_id, doc_sha256=doc_sha, hypernet_id="hn-1", base_model_id="tiny/base",
                      base_model_revision="r0")
