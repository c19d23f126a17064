"""Context encoding: the frozen base model's hidden states entering each decoder layer."""
from __future__ import annotations

import contextlib

import torch

from hypernet.config import READ_DTYPES
from hypernet.lora import decoder_layers


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX tiles)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def read_autocast(model: torch.nn.Module, read_dtype: str = "auto") -> torch.dtype | None:
    """The autocast dtype for reading documents, or None to read in the model's own dtype.

    'auto' reads a float32 model on the CPU under a bfloat16 autocast where the CPU has native
    bf16: the pass is faster there (docs/benchmarks.md), and the hypernetwork was meta-trained on
    bf16 activations on GPUs, so its answers do not suffer. The residual stream stays float32; the
    layer inputs differ slightly from a float32 read, and a little with the batch's shape (float32
    reads do not).
    'model' always reads in the model's dtype (no bf16 rounding; adapters independent of batching);
    'bfloat16' forces the autocast on a float32 model.
    """
    if read_dtype not in READ_DTYPES:
        raise ValueError(f"read_dtype={read_dtype!r} not in {READ_DTYPES}")
    param = next(model.parameters())
    if read_dtype == "model" or param.dtype != torch.float32:
        return None
    if read_dtype == "auto" and not (param.device.type == "cpu" and cpu_has_native_bf16()):
        return None
    return torch.bfloat16


def under_autocast(device_type: str, dtype: torch.dtype | None):
    """A context that runs under `dtype` autocast, or does nothing when `dtype` is None."""
    return torch.autocast(device_type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


@torch.inference_mode()
def layer_inputs(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 autocast: torch.dtype | None = None) -> torch.Tensor:
    """(N, T) token ids -> (N, L, T, H) layer inputs, optionally under an autocast (see read_autocast)."""
    with under_autocast(input_ids.device.type, autocast):
        acts = _capture(model, input_ids, attention_mask, stop_early=True)[0]
    return acts.float() if autocast is not None else acts


def layer_inputs_and_final(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Layer inputs (N, L, T, H) and the final normed hidden states (N, T, H) of one full forward."""
    return _capture(model, input_ids, attention_mask, stop_early=False)


def _capture(model, input_ids, attention_mask, stop_early: bool):
    """(N, T) token ids -> (N, L, T, H) hidden states entering each of the L decoder layers.

    Hooks capture each layer's input, and the last layer's output is never needed, so the
    forward stops early by raising out of the last layer (saving one layer and the LM head).
    """
    layers = decoder_layers(model)
    captured: list[torch.Tensor] = []

    def grab(_module, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        captured.append(hidden)
        if stop_early and len(captured) == len(layers):
            raise _StopForward

    handles = [layer.register_forward_pre_hook(grab, with_kwargs=True) for layer in layers]
    try:
        inner = getattr(model, "model", model)
        final = inner(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    except _StopForward:
        final = None
        pass
    finally:
        for h in handles:
            h.remove()
    assert len(captured) == len(layers), f"captured {len(captured)} of {len(layers)} layer inputs"
    return torch.stack(captured, dim=1), final  # (N, L, T, H), (N, T, H)


class _StopForward(Exception):
    pass
