"""LoRA tensors, chunk combination and the PEFT format (the contract serving depends on)."""
import json

import pytest
import torch

from hypernet.lora import LoraTensors, applied, combine_chunks, pad_rank, serving_rank
from hypernet.peft_format import ADAPTER_CONFIG_FILE, from_peft_files, parse_peft_key, peft_key, to_peft_files


def random_lora(layers=2, rank=8, d_in=128, d_out=64, seed=0) -> LoraTensors:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(layers, rank, d_in, generator=g)
    b = torch.randn(layers, d_out, rank, generator=g) * 0.01
    return LoraTensors({"mlp.down_proj": (a, b)})


def test_peft_key_format_is_pinned():
    assert peft_key(3, "mlp.down_proj", "A") == "base_model.model.model.layers.3.mlp.down_proj.lora_A.weight"
    assert peft_key(0, "mlp.down_proj", "B") == "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"
    assert parse_peft_key(peft_key(3, "mlp.down_proj", "A")) == (3, "mlp.down_proj", "A")
    for bad in ("base_model.model.model.layers.03.mlp.down_proj.lora_A.weight",
                "base_model.model.model.layers.3.mlp.down_proj.lora_C.weight", "model.layers.3.mlp.lora_A.weight"):
        with pytest.raises(ValueError, match="unexpected key"):
            parse_peft_key(bad)


def test_combine_chunks_concatenates_ranks_and_scales_updates():
    c1, c2, bias = random_lora(seed=1), random_lora(seed=2), random_lora(seed=3)
    for rule, scale in (("sum", 1.0), ("mean", 0.5), ("sqrt", 2 ** -0.5)):
        out = combine_chunks([c1, c2], bias, rule)
        assert out.rank == 24
        expected = scale * (c1.delta("mlp.down_proj", 1) + c2.delta("mlp.down_proj", 1)) + bias.delta("mlp.down_proj", 1)
        torch.testing.assert_close(out.delta("mlp.down_proj", 1), expected, rtol=1e-4, atol=1e-5)


def test_padding_to_a_serving_rank_changes_nothing():
    lora = combine_chunks([random_lora(seed=1), random_lora(seed=2)], random_lora(seed=3), "sqrt")
    assert serving_rank(lora.rank) == 32
    padded = pad_rank(lora, 32)
    assert padded.rank == 32
    torch.testing.assert_close(padded.delta("mlp.down_proj", 0), lora.delta("mlp.down_proj", 0))
    with pytest.raises(ValueError, match="exceeds"):
        serving_rank(10_000)


def test_peft_files_round_trip_and_vllm_rules():
    lora = combine_chunks([random_lora(seed=1)], random_lora(seed=3), "sum")  # rank 16
    files = to_peft_files(lora, "some/base")
    cfg = json.loads(files[ADAPTER_CONFIG_FILE])
    assert cfg["r"] in (8, 16, 32, 64) and cfg["bias"] == "none" and not cfg["modules_to_save"]
    assert cfg["target_modules"] == ["down_proj"]
    back = from_peft_files(files)
    torch.testing.assert_close(back.delta("mlp.down_proj", 1), lora.delta("mlp.down_proj", 1))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("factor", [0, 1])
def test_broken_adapter_is_refused(bad, factor):
    lora = random_lora()
    lora.factors["mlp.down_proj"][factor][1, 3, 5] = bad
    assert not lora.is_finite() and random_lora().is_finite()
    with pytest.raises(ValueError, match="NaN"):
        to_peft_files(lora, "base")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_peft_weights_are_the_bytes_safetensors_writes(dtype):
    from safetensors.torch import save

    from hypernet.peft_format import ADAPTER_WEIGHTS_FILE, peft_state_dict

    lora = combine_chunks([random_lora(seed=1)], random_lora(seed=3), "sum")
    files = to_peft_files(lora, "some/base", dtype=dtype)
    assert files[ADAPTER_WEIGHTS_FILE] == save(peft_state_dict(lora, dtype), metadata={"format": "pt"})


def test_peft_loads_the_export_with_no_missing_keys_and_same_outputs(tiny_model_path, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from hypernet.peft_format import save_peft_folder

    model = AutoModelForCausalLM.from_pretrained(tiny_model_path).eval()
    cfg = model.config
    lora = random_lora(layers=cfg.num_hidden_layers, rank=8, d_in=cfg.intermediate_size, d_out=cfg.hidden_size)
    lora = LoraTensors({k: (a, b * 50) for k, (a, b) in lora.factors.items()})  # visible effect
    ids = torch.tensor([[2, 100, 200, 300, 400]])
    with torch.no_grad():
        base_logits = model(ids).logits
        with applied(model, lora):
            ours = model(ids).logits
    assert not torch.allclose(base_logits, ours, atol=1e-4), "the adapter should change the outputs"
    save_peft_folder(lora, str(tmp_path / "adapter"), tiny_model_path)
    peft_model = PeftModel.from_pretrained(model, str(tmp_path / "adapter")).eval()
    state = peft_model.state_dict()
    for layer in range(cfg.num_hidden_layers):
        key = f"base_model.model.model.layers.{layer}.mlp.down_proj.lora_A.default.weight"
        torch.testing.assert_close(state[key], lora.factors["mlp.down_proj"][0][layer])
    with torch.no_grad():
        theirs = peft_model(ids).logits
    torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-4)
