"""The PEFT adapter file format: key names, writing, reading and the checks serving depends on.

A PEFT adapter folder is `adapter_config.json` + `adapter_model.safetensors` with keys
`base_model.model.model.layers.N.<target>.lora_{A,B}.weight`. docpatch folds the LoRA scale into B,
so the export uses lora_alpha == r (PEFT scaling 1) and reading multiplies B by alpha / r.
"""
from __future__ import annotations

import json
import os
import re

import torch
from safetensors.numpy import save as np_save
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from hypernet.config import SERVING_RANKS
from hypernet.lora import LoraTensors, pad_rank, serving_rank

ADAPTER_CONFIG_FILE = "adapter_config.json"
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
ADAPTER_FILES = (ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE)  # safetensors only: no pickled weights
_PEFT_KEY = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(.+)\.lora_([AB])\.weight$")


def peft_key(layer: int, target: str, which: str) -> str:
    """The one place that builds PEFT state-dict keys (adapter-name free, as PEFT saves them)."""
    assert which in ("A", "B"), which
    return f"base_model.model.model.layers.{layer}.{target}.lora_{which}.weight"


def parse_peft_key(key: str) -> tuple[int, str, str]:
    """(layer, target, "A" or "B") of a key `peft_key` would build; ValueError for any other key."""
    match = _PEFT_KEY.match(key)
    if not match or peft_key(int(match[1]), match[2], match[3]) != key:
        raise ValueError(f"unexpected key in adapter: {key}")
    return int(match[1]), match[2], match[3]


# -- writing ------------------------------------------------------------------------------------------
def peft_state_dict(lora: LoraTensors, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    state = {}
    for target, (a, b) in lora.factors.items():
        for layer in range(a.shape[0]):
            state[peft_key(layer, target, "A")] = a[layer].to(dtype).contiguous()
            state[peft_key(layer, target, "B")] = b[layer].to(dtype).contiguous()
    return state


def peft_adapter_config(lora: LoraTensors, base_model_id: str) -> dict:
    targets = sorted({t.split(".")[-1] for t in lora.factors})
    r = lora.rank
    return {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model_id,
        "r": r,
        "lora_alpha": r,  # scaling = alpha / r = 1: the scale is already folded into B
        "lora_dropout": 0.0,
        "bias": "none",
        "target_modules": targets,
        "fan_in_fan_out": False,
        "modules_to_save": None,
        "use_rslora": False,
        "use_dora": False,
        "inference_mode": True,
    }


def to_peft_files(lora: LoraTensors, base_model_id: str, dtype: torch.dtype = torch.float32) -> dict[str, bytes]:
    """Serialise as a standard PEFT adapter folder (file name -> bytes), rank padded for serving."""
    if not lora.is_finite():
        raise ValueError("adapter has NaN or infinite weights; refusing to serialise it")
    padded = pad_rank(lora, serving_rank(lora.rank))
    config = peft_adapter_config(padded, base_model_id)
    state = peft_state_dict(padded, dtype)
    if dtype in (torch.float32, torch.float16):  # the same bytes, written faster than safetensors.torch.save
        weights = np_save({k: v.numpy() for k, v in state.items()}, metadata={"format": "pt"})
    else:  # numpy has no bfloat16
        weights = st_save(state, metadata={"format": "pt"})
    return {
        ADAPTER_CONFIG_FILE: (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
        ADAPTER_WEIGHTS_FILE: weights,
    }


def save_peft_folder(lora: LoraTensors, folder: str, base_model_id: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, data in to_peft_files(lora, base_model_id).items():
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)


# -- reading ------------------------------------------------------------------------------------------
def _factors_by_layer(state: dict[str, torch.Tensor]) -> dict[str, dict[int, dict[str, torch.Tensor]]]:
    """target -> layer -> {"A": tensor, "B": tensor}, strict about key names."""
    per_target: dict[str, dict[int, dict[str, torch.Tensor]]] = {}
    for key, tensor in state.items():
        layer, target, which = parse_peft_key(key)
        per_target.setdefault(target, {}).setdefault(layer, {})[which] = tensor
    return per_target


def from_peft_files(files: dict[str, bytes]) -> LoraTensors:
    """Parse PEFT adapter files back into LoraTensors (strict about key names)."""
    config = json.loads(files[ADAPTER_CONFIG_FILE])
    factors = {}
    for target, layers in _factors_by_layer(st_load(files[ADAPTER_WEIGHTS_FILE])).items():
        n = max(layers) + 1
        if sorted(layers) != list(range(n)) or any(set(v) != {"A", "B"} for v in layers.values()):
            raise ValueError(f"adapter for {target} is missing layers or factors")
        a = torch.stack([layers[i]["A"] for i in range(n)])
        b = torch.stack([layers[i]["B"] for i in range(n)])
        if a.shape[1] != config["r"]:
            raise ValueError(f"adapter rank {a.shape[1]} disagrees with adapter_config r={config['r']}")
        scaling = config["lora_alpha"] / config["r"]
        factors[target] = (a, b * scaling)
    return LoraTensors(factors)


# -- checks before storing --------------------------------------------------------------------------
def serving_config_problems(config: dict) -> list[str]:
    """vLLM's rules for a LoRA adapter_config (empty when it would load)."""
    problems = []
    if config.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type {config.get('peft_type')!r} is not LORA")
    if config.get("r") not in SERVING_RANKS:
        problems.append(f"rank r={config.get('r')!r} not in the serving ranks {SERVING_RANKS}")
    if config.get("bias", "none") != "none":
        problems.append(f"bias {config.get('bias')!r} must be 'none'")
    if config.get("modules_to_save"):
        problems.append("modules_to_save must be empty")
    if config.get("use_dora"):
        problems.append("DoRA adapters are not served")
    if not config.get("target_modules"):
        problems.append("target_modules is empty")
    return problems


def _read_config(data: bytes) -> dict:
    """adapter_config.json as a dict that would serve, or ValueError naming the problem."""
    try:
        config = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{ADAPTER_CONFIG_FILE} is not JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{ADAPTER_CONFIG_FILE} must hold a JSON object")
    if problems := serving_config_problems(config):
        raise ValueError(f"{ADAPTER_CONFIG_FILE} would not serve: {'; '.join(problems)}")
    return config


def validate_adapter(files: dict[str, bytes]) -> int:
    """Check a PEFT adapter before it is stored; its rank, or ValueError naming the problem."""
    if set(files) != set(ADAPTER_FILES):
        raise ValueError(f"an adapter is exactly {list(ADAPTER_FILES)}, got {sorted(files)}")
    config = _read_config(files[ADAPTER_CONFIG_FILE])
    try:
        state = st_load(files[ADAPTER_WEIGHTS_FILE])
    except Exception as exc:
        raise ValueError(f"{ADAPTER_WEIGHTS_FILE} does not parse as safetensors: {exc}") from None
    if not state:
        raise ValueError(f"{ADAPTER_WEIGHTS_FILE} holds no tensors")
    rank, targets = config["r"], set(config["target_modules"])
    pairs: dict[tuple[int, str], set[str]] = {}
    for key, tensor in state.items():
        layer, target, which = parse_peft_key(key)
        if target.rsplit(".", 1)[-1] not in targets:
            raise ValueError(f"{key}: module not in target_modules {sorted(targets)}")
        if tensor.ndim != 2 or tensor.shape[0 if which == "A" else 1] != rank:
            raise ValueError(f"{key}: shape {tuple(tensor.shape)} disagrees with r={rank}")
        if not tensor.is_floating_point() or not torch.isfinite(tensor).all():
            raise ValueError(f"{key}: not floating point, or NaN / infinite weights")
        pairs.setdefault((layer, target), set()).add(which)
    if incomplete := sorted(k for k, v in pairs.items() if v != {"A", "B"}):
        raise ValueError(f"lora_A / lora_B missing for {incomplete}")
    return rank
