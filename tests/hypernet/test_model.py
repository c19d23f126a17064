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


@pytest.mark.parametrize("copy_next,left", [(False, False), (True, False), (True, True)])
def test_padding_does_not_change_a_chunks_lora(copy_next, left):
    net = HyperNetwork(small_cfg(copy_next=copy_next))
    for head in net.heads.values():
        head.b_scale.data.fill_(1.0)
    for head in net.copy_heads.values():
        if copy_next:
            torch.nn.init.normal_(head.to_a_prev)
            torch.nn.init.normal_(head.to_b_token)
    acts = torch.randn(1, 3, 7, 32)
    alone = net(acts, torch.ones(1, 7, dtype=torch.long))[0]
    pad = torch.randn(1, 3, 5, 32) * 100
    padded = torch.cat([pad, acts] if left else [acts, pad], dim=2)
    mask = torch.tensor([[0] * 5 + [1] * 7] if left else [[1] * 7 + [0] * 5])
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


def test_copy_next_keys_on_the_previous_token_and_writes_the_attended_one():
    net = HyperNetwork(small_cfg(copy_next=True))
    head = net.copy_heads["mlp__down_proj"]
    with torch.no_grad():  # only the induction path: A from token t-1, B from token t at layer 0
        head.to_a.zero_()
        head.to_b.zero_()
        head.to_a_prev.normal_()
        head.to_b_token.normal_()
    rows = torch.randn(1, 3, 4, 16)
    tokens = torch.randn(1, 3, 6, 16)
    normed = torch.randn(1, 3, 6, 32)
    mask = torch.ones(1, 6, dtype=torch.long)
    with torch.no_grad():  # make every rank row attend to position 3 alone
        head.query.weight.copy_(torch.eye(16))
        head.key.weight.copy_(torch.eye(16))
    rows[:] = 1.0
    tokens[0, :, 3] = 50.0
    a, b, attention = head(rows, tokens, normed, mask)
    assert attention[0, :, :, 3].exp().min() > 0.99  # log weights
    torch.testing.assert_close(a[0, 1, 0], normed[0, 1, 2] @ head.to_a_prev, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(b[0, 2, 0], normed[0, 0, 3] @ head.to_b_token, rtol=1e-4, atol=1e-4)
    # A position's key is what it alone puts into A: here the token before it.
    keys = head.position_keys(normed)
    torch.testing.assert_close(keys[0, 1, 3], a[0, 1, 0], rtol=1e-4, atol=1e-4)
    assert keys[0, :, 0].abs().max() == 0  # nothing before the first token


def test_zero_initialised_paths_can_be_added_to_an_old_checkpoint(tmp_path):
    old = HyperNetwork(small_cfg())
    for head in old.heads.values():
        head.b_scale.data.fill_(1.0)
    old.save(str(tmp_path / "old"))
    widened = HyperNetwork.load(str(tmp_path / "old"), copy_next=True)
    assert widened.cfg.copy_next and hasattr(widened.copy_heads["mlp__down_proj"], "to_b_token")
    acts, mask = torch.randn(2, 3, 9, 32), torch.ones(2, 9, dtype=torch.long)
    for x, y in zip(old(acts, mask), widened(acts, mask)):
        torch.testing.assert_close(x.delta("mlp.down_proj", 1), y.delta("mlp.down_proj", 1))
    with torch.no_grad():
        widened.copy_heads["mlp__down_proj"].to_b_token.normal_()
    assert not torch.allclose(old(acts, mask)[0].delta("mlp.down_proj", 1), widened(acts, mask)[0].delta("mlp.down_proj", 1))
    # A path whose parameters start random would change the function: refused.
    HyperNetwork(small_cfg(copy_path=False)).save(str(tmp_path / "plain"))
    with pytest.raises(ValueError, match="missing="):
        HyperNetwork.load(str(tmp_path / "plain"), copy_path=True)
    with pytest.raises(ValueError, match="copy_next needs copy_path"):
        small_cfg(copy_path=False, copy_next=True)


def test_windows_are_separate_loras_side_by_side():
    torch.manual_seed(0)
    windowed = HyperNetwork(small_cfg(window_len=4, copy_next=True))
    for head in windowed.heads.values():
        head.b_scale.data.fill_(1.0)
    plain = HyperNetwork(small_cfg(window_len=0, copy_next=True))
    plain.load_state_dict(windowed.state_dict())
    acts = torch.randn(2, 3, 10, 32)
    mask = torch.tensor([[1] * 10, [1] * 4 + [0] * 6])  # 3 windows of 3-4 tokens; 1 window
    loras, trace = windowed(acts, mask, trace=True)
    assert [l.rank for l in loras] == [12, 4]  # trimmed: no zero rows from the batch's widest chunk
    a, b = loras[0].factors["mlp.down_proj"]
    for k, (s, e) in enumerate([(0, 3), (3, 7), (7, 10)]):  # chunking.chunk_spans(10, 4)
        alone = plain(acts[:1, :, s:e], torch.ones(1, e - s, dtype=torch.long))[0]
        a_k, b_k = alone.factors["mlp.down_proj"]
        torch.testing.assert_close(a[:, 4 * k:4 * (k + 1)], a_k, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(b[:, :, 4 * k:4 * (k + 1)], b_k, rtol=1e-4, atol=1e-5)
    short = plain(acts[1:, :, :4], torch.ones(1, 4, dtype=torch.long))[0]
    torch.testing.assert_close(loras[1].delta("mlp.down_proj", 2), short.delta("mlp.down_proj", 2), rtol=1e-4, atol=1e-5)
    # The copy heads' trace is in chunk positions: a row attends only inside its own window.
    attention = trace.attention["mlp.down_proj"]
    assert attention.shape == (2, 3, 12, 10) and trace.normed.shape == (2, 3, 10, 32)
    second = attention[0, :, 4:8].exp()  # the rows of window (3, 7)
    assert torch.all(second[..., :3] == 0) and torch.all(second[..., 7:] == 0)
    torch.testing.assert_close(second.sum(-1), torch.ones(3, 4))


def test_window_combine_scales_each_chunks_windows_by_its_own_count():
    torch.manual_seed(0)
    summed = HyperNetwork(small_cfg(window_len=4))
    for head in summed.heads.values():
        head.b_scale.data.fill_(1.0)
    scaled = HyperNetwork(small_cfg(window_len=4, window_combine="sqrt"))
    scaled.load_state_dict(summed.state_dict())
    acts = torch.randn(2, 3, 10, 32)
    mask = torch.tensor([[1] * 10, [1] * 4 + [0] * 6])  # 3 windows; 1 window
    for got, want, n_windows in zip(scaled(acts, mask), summed(acts, mask), (3, 1)):
        a, b = got.factors["mlp.down_proj"]
        a_sum, b_sum = want.factors["mlp.down_proj"]
        torch.testing.assert_close(a, a_sum)
        torch.testing.assert_close(b, b_sum / n_windows ** 0.5)
    with pytest.raises(ValueError, match="window_combine='max'"):
        small_cfg(window_combine="max")


def test_a_config_whose_adapters_outgrow_serving_ranks_is_refused():
    assert small_cfg(chunk_len=512, window_len=128, rank=8, bias_rank=8, max_chunks=15).max_rank == 488
    with pytest.raises(ValueError, match="largest serving rank"):
        small_cfg(chunk_len=512, window_len=128, rank=8, bias_rank=8, max_chunks=16)
    assert small_cfg(chunk_len=512, window_len=0, rank=8, bias_rank=8, max_chunks=16).max_rank == 136


@pytest.mark.parametrize("window_len", [0, 4])
def test_first_target_layer_keeps_the_upper_layers_and_zeros_the_lower(tmp_path, window_len):
    """A checkpoint loaded with first_target_layer writes the same upper layers as with every layer (the
    layers are read independently) and nothing below; the bias LoRA too."""
    torch.manual_seed(0)
    full = HyperNetwork(small_cfg(window_len=window_len))
    for head in full.heads.values():
        head.b_scale.data.fill_(1.0)
    for bias in full.bias_loras.values():
        bias.b.data.normal_()
    full.save(str(tmp_path / "ck"))
    upper = HyperNetwork.load(str(tmp_path / "ck"), first_target_layer=1)
    acts, mask = torch.randn(2, 3, 9, 32), torch.ones(2, 9, dtype=torch.long)
    for x, y in zip(full(acts, mask), upper(acts, mask)):
        a, b = y.factors["mlp.down_proj"]
        assert a.shape == x.factors["mlp.down_proj"][0].shape and b.shape == x.factors["mlp.down_proj"][1].shape
        assert torch.count_nonzero(y.delta("mlp.down_proj", 0)) == 0
        for layer in (1, 2):
            torch.testing.assert_close(x.delta("mlp.down_proj", layer), y.delta("mlp.down_proj", layer))
    assert torch.count_nonzero(upper.bias_lora().delta("mlp.down_proj", 0)) == 0
    torch.testing.assert_close(upper.bias_lora().delta("mlp.down_proj", 2), full.bias_lora().delta("mlp.down_proj", 2))
    with pytest.raises(ValueError, match="first_target_layer=3"):
        small_cfg(first_target_layer=3)


def test_the_written_out_attention_on_cpu_is_the_fused_kernels():
    from torch.nn import functional as F

    from hypernet.model import _attention

    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 4, 8), torch.randn(3, 2, 9, 8), torch.randn(3, 2, 9, 8)
    mask = torch.rand(3, 1, 1, 9) > 0.4
    mask[..., 0] = True  # every row reads at least one token, as every chunk has one
    torch.testing.assert_close(_attention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    torch.testing.assert_close(_attention(q, k, v, None), F.scaled_dot_product_attention(q, k, v))
