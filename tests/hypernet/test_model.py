"""The hypernetwork: shapes, zero update at init, checkpoints that rebuild themselves."""
import pytest
import torch

from hypernet.config import HypernetConfig, TargetModule
from hypernet.model import HyperNetwork, checkpoint_id


def small_cfg(**kw) -> HypernetConfig:
    base = dict(n_layers=3, hidden_size=32, targets=[TargetModule("mlp.down_proj", 48, 32)], rank=4, bias_rank=2,
                latent_dim=16, n_latents=4, n_heads=2, head_dim=8, chunk_len=32)
    base.update(kw)
    return HypernetConfig(**base)


def test_shapes_and_zero_update_at_init():
    net = HyperNetwork(small_cfg())
    acts = torch.randn(2, 3, 10, 32)
    mask = torch.ones(2, 10, dtype=torch.long)
    loras = net(acts, mask)
    assert len(loras) == 2
    a, b = loras[0].factors["mlp.down_proj"]
    assert a.shape == (3, 4, 48) and b.shape == (3, 32, 4)
    assert torch.count_nonzero(loras[0].delta("mlp.down_proj", 0)) == 0
    assert torch.count_nonzero(net.bias_lora().delta("mlp.down_proj", 2)) == 0


def test_padding_does_not_change_a_chunks_lora():
    net = HyperNetwork(small_cfg())
    for head in net.heads.values():
        head.b_scale.data.fill_(1.0)
    acts = torch.randn(1, 3, 7, 32)
    alone = net(acts, torch.ones(1, 7, dtype=torch.long))[0]
    padded = torch.cat([acts, torch.randn(1, 3, 5, 32) * 100], dim=2)
    mask = torch.tensor([[1] * 7 + [0] * 5])
    with_pad = net(padded, mask)[0]
    torch.testing.assert_close(alone.delta("mlp.down_proj", 1), with_pad.delta("mlp.down_proj", 1), rtol=1e-4, atol=1e-5)


def test_checkpoint_round_trip_is_exact(tmp_path):
    net = HyperNetwork(small_cfg())
    net.save(str(tmp_path / "ck"))
    again = HyperNetwork.load(str(tmp_path / "ck"))
    assert again.cfg == net.cfg
    for (k, v), (k2, v2) in zip(net.state_dict().items(), again.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    first = checkpoint_id(str(tmp_path / "ck"))
    with torch.no_grad():
        again.heads["mlp__down_proj"].b_scale.add_(1.0)
    again.save(str(tmp_path / "ck"))
    assert checkpoint_id(str(tmp_path / "ck")) != first


def test_missing_checkpoint_and_bad_config_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no hypernetwork checkpoint"):
        HyperNetwork.load(str(tmp_path))
    with pytest.raises(ValueError, match="chunk_combine"):
        small_cfg(chunk_combine="avg")
    with pytest.raises(ValueError, match="divisible"):
        small_cfg(latent_dim=15)
    with pytest.raises(ValueError, match="unknown fields"):
        HypernetConfig.from_dict({"nope": 1})
