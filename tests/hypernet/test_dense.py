"""The dense objective on a tiny model: zero at the reference, trainable, blind to how A and B are factored."""
import dataclasses
import math

import torch

from hypernet import base_model
from hypernet.config import HypernetConfig
from hypernet.dense import CACHE_DTYPE, DenseExample, dense_examples, dense_loss, effect, relative_error, sketch
from hypernet.distill import adapters_for
from hypernet.examples_io import example_from_bytes, example_to_bytes
from hypernet.lora import LoraTensors
from hypernet.model import HyperNetwork

TEXT = ("Mirela Vostrikova was born in Caldenport in 1974. She works as a glassblower at the Ostrel "
        "works, a firm of forty people in the north.")


def _setup(tiny_model_path, **config):
    torch.manual_seed(0)
    model, tok, _ = base_model.load(tiny_model_path)
    cfg = HypernetConfig.for_base_model(model.config, latent_dim=32, n_latents=4, n_heads=2, head_dim=16, **config)
    net = HyperNetwork(cfg)
    with torch.no_grad():  # a non-zero update, as a trained network makes
        for head in net.heads.values():
            head.b_scale.fill_(1.0)
    return model, tok, net


def _random_lora(cfg: HypernetConfig, rank: int, seed: int) -> LoraTensors:
    gen = torch.Generator().manual_seed(seed)
    return LoraTensors({t.name: (torch.randn(cfg.n_layers, rank, t.d_in, generator=gen) / t.d_in**0.5,
                                 torch.randn(cfg.n_layers, t.d_out, rank, generator=gen) * 0.1) for t in cfg.targets})


def _generated(net: HyperNetwork, ex: DenseExample) -> LoraTensors:
    adapters, _ = adapters_for(net, [[a.float() for a in ex.chunk_acts]])
    return LoraTensors({t: (a.detach(), b.detach()) for t, (a, b) in adapters[0].factors.items()})


def test_the_loss_is_zero_when_the_generated_adapter_is_the_reference(tiny_model_path):
    model, tok, net = _setup(tiny_model_path, chunk_len=16)  # several chunks
    (probe,) = dense_examples(model, tok, [(TEXT, _random_lora(net.cfg, 4, 0))], net.cfg, positions=8)
    assert len(probe.chunk_acts) > 1 and all(a.dtype == CACHE_DTYPE for a in probe.chunk_acts)
    assert probe.inputs[0].shape == (net.cfg.n_layers, 8, net.cfg.targets[0].d_in)
    (ex,) = dense_examples(model, tok, [(TEXT, _generated(net, probe))], net.cfg, positions=8)
    loss, metrics = dense_loss(net, ex, l1_weight=0.0)
    assert metrics["dense"] < 1e-5, metrics
    (other,) = dense_examples(model, tok, [(TEXT, _random_lora(net.cfg, 4, 1))], net.cfg, positions=8)
    assert dense_loss(net, other, l1_weight=0.0)[1]["dense"] > 0.1


def test_a_few_optimizer_steps_reduce_the_loss_on_a_batch(tiny_model_path):
    model, tok, net = _setup(tiny_model_path)
    docs = [(TEXT, _random_lora(net.cfg, 4, 0)), ("The Ostrel X9 weighs 4.2 kg and is sold in teal.",
                                                 _random_lora(net.cfg, 8, 1))]
    examples = dense_examples(model, tok, docs, net.cfg, positions=16)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss, metrics = dense_loss(net, examples)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(metrics["dense"])
    assert losses[-1] < 0.8 * losses[0], losses


def test_the_loss_sees_the_product_not_the_factors(tiny_model_path):
    """A' = M A, B' = B M^-1 is the same adapter: the same loss, and the same cached target."""
    model, tok, net = _setup(tiny_model_path)
    ref = _random_lora(net.cfg, 4, 0)
    gen = _random_lora(net.cfg, 4, 2)
    torch.manual_seed(3)

    def reparametrised(lora: LoraTensors) -> LoraTensors:
        out = {}
        for t, (a, b) in lora.factors.items():
            m = torch.eye(a.shape[1]) + 0.3 * torch.randn(a.shape[0], a.shape[1], a.shape[1])  # (L, r, r)
            out[t] = (m @ a, b @ torch.linalg.inv(m))
        return LoraTensors(out)

    (ex,) = dense_examples(model, tok, [(TEXT, ref)], net.cfg, positions=16)
    (ex_again,) = dense_examples(model, tok, [(TEXT, reparametrised(ref))], net.cfg, positions=16)
    torch.testing.assert_close(ex_again.ref_out[0].float(), ex.ref_out[0].float(), atol=2e-2, rtol=2e-2)
    targets = [t.name for t in net.cfg.targets]
    torch.testing.assert_close(relative_error([reparametrised(gen)], [ex], targets),
                               relative_error([gen], [ex], targets), atol=1e-4, rtol=1e-4)


def test_the_batched_loss_is_that_of_the_assembled_adapters(tiny_model_path):
    """The loss never assembles an adapter; it must equal the error of the adapters generation assembles
    (chunks side by side, each scaled by the combine rule, plus the bias LoRA), and its L1 the student's."""
    model, tok, net = _setup(tiny_model_path, chunk_len=16, chunk_combine="sqrt")
    docs = [(TEXT, _random_lora(net.cfg, 4, 0)), ("The Ostrel X9 weighs 4.2 kg.", _random_lora(net.cfg, 8, 1))]
    examples = dense_examples(model, tok, docs, net.cfg, positions=8)
    assert [len(e.chunk_acts) for e in examples][0] > 1
    with torch.no_grad():
        net.bias_loras["mlp__down_proj"].b.normal_()
        adapters, per_chunk = adapters_for(net, [[a.float() for a in e.chunk_acts] for e in examples])
        expected = relative_error(adapters, examples, ["mlp.down_proj"]).mean()
        l1 = sum(a.abs().mean() + b.abs().mean() for c in per_chunk for a, b in c.factors.values()) / 2
        loss, metrics = dense_loss(net, examples, l1_weight=0.5)
    assert abs(metrics["dense"] - expected.item()) < 1e-4 * max(1.0, expected.item()), (metrics, expected)
    assert abs(loss.item() - (expected.item() + 0.5 * l1.item())) < 1e-4 * max(1.0, loss.item())
    # The CPU's bfloat16 autocast (hypernet.dense.step_autocast) moves it by little.
    low = dense_loss(net, examples, l1_weight=0.5, autocast=torch.bfloat16)[1]["dense"]
    assert abs(low - metrics["dense"]) < 0.05 * metrics["dense"], (low, metrics)


def test_the_sketch_keeps_the_second_moment_and_so_the_loss():
    torch.manual_seed(0)
    x = torch.randn(3, 40, 24)  # (L, T, d)
    exact = sketch(x, 64)  # more rows than min(T, d): exact
    assert exact.shape == (3, 24, 24)
    torch.testing.assert_close(exact.transpose(1, 2) @ exact, x.transpose(1, 2) @ x, atol=1e-3, rtol=1e-4)
    a, b = torch.randn(3, 4, 24), torch.randn(3, 16, 4)
    torch.testing.assert_close(effect(a, b, exact).pow(2).sum(), effect(a, b, x).pow(2).sum(), rtol=1e-4, atol=1e-3)
    assert sketch(x, 0) is x


def test_a_dense_example_round_trips_through_bytes(tiny_model_path):
    model, tok, net = _setup(tiny_model_path, chunk_len=16)
    (ex,) = dense_examples(model, tok, [(TEXT, _random_lora(net.cfg, 4, 0))], net.cfg, positions=8)
    back = example_from_bytes(example_to_bytes(ex))
    assert isinstance(back, DenseExample)
    for f in dataclasses.fields(ex):
        assert all(torch.equal(x, y) for x, y in zip(getattr(ex, f.name), getattr(back, f.name))), f.name


def test_activations_beyond_the_float16_range_stay_finite_in_the_cache(tiny_model_path):
    model, tok, net = _setup(tiny_model_path)
    with torch.no_grad():  # a residual stream as large as Gemma's on real prose (float16 overflows at 65504)
        model.get_input_embeddings().weight.mul_(1e7)
    (ex,) = dense_examples(model, tok, [(TEXT, _random_lora(net.cfg, 4, 0))], net.cfg, positions=8)
    assert max(a.float().abs().max().item() for a in ex.chunk_acts) > 65504
    assert all(torch.isfinite(t).all() for t in ex.chunk_acts + ex.inputs + ex.ref_out)


def test_a_step_with_a_non_finite_gradient_updates_nothing(tiny_model_path):
    from hypernet.config import TrainConfig
    from hypernet.train import train_step

    model, tok, net = _setup(tiny_model_path)
    (ex,) = dense_examples(model, tok, [(TEXT, _random_lora(net.cfg, 4, 0))], net.cfg, positions=8)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    cfg = TrainConfig(warmup=0)
    assert "nonfinite_skipped" not in train_step(model, net, opt, [[ex]], cfg, 0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ex.chunk_acts[0][0, 0, 0] = float("inf")
    met = train_step(model, net, opt, [[ex]], cfg, 1)
    assert met["nonfinite_skipped"] == 1 and not math.isfinite(met["grad_norm"])
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
