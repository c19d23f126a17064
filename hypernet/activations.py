"""Context encoding: the frozen base model's hidden states entering each decoder layer."""
from __future__ import annotations

import torch

from hypernet.lora import decoder_layers


@torch.inference_mode()
def layer_inputs(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    return _capture(model, input_ids, attention_mask, stop_early=True)[0]


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
