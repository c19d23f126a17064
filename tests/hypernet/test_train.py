"""Meta-training on a tiny model: the loss falls when overfitting one example; runs resume."""
import json
import os

import torch

from hypernet import base_model
from hypernet.config import HypernetConfig
from hypernet.distill import student_loss, teacher_example
from hypernet.model import HyperNetwork
from hypernet.train import TrainConfig, train


def test_student_loss_trains_the_hypernetwork(tiny_model_path):
    torch.manual_seed(0)
    model, tok, _ = base_model.load(tiny_model_path)
    cfg = HypernetConfig.for_base_model(model.config, latent_dim=32, n_latents=4, n_heads=2, head_dim=16)
    net = HyperNetwork(cfg)
    ex = teacher_example(model, tok, "Mirela Vostrikova was born in Caldenport in 1974.",
                         [("Where was Mirela Vostrikova born?", "Caldenport")], chunk_len=512, max_chunks=4)
    assert ex.chunk_acts[0].shape[0] == model.config.num_hidden_layers
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    first = None
    for _ in range(30):
        loss, metrics = student_loss(model, net, ex)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first or metrics
    # A random tiny model's distribution is nearly flat, so judge by what it predicts: the
    # generated adapter alone must make it produce the answer tokens it could not before.
    assert first["token_acc"] < 0.5 <= metrics["token_acc"], (first, metrics)
    assert metrics["ce"] < first["ce"], (first, metrics)


def test_training_checkpoints_and_resumes(tiny_model_path, tmp_path):
    out = tmp_path / "run"
    cfg = dict(out_dir=str(out), base_model=tiny_model_path, steps=4, save_every=2, latent_dim=32, n_latents=4,
               head_dim=16, warmup=1, multi_chunk_prob=0.5)
    train(TrainConfig(**cfg), log=lambda m: None)
    state = json.loads((out / "latest" / "train_state.json").read_text())
    assert state["step"] == 4
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(l)["step"] for l in lines] == [1, 2, 3, 4]
    # Resume to 6 steps: only steps 5 and 6 run.
    train(TrainConfig(**{**cfg, "steps": 6}), log=lambda m: None)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(l)["step"] for l in lines] == [1, 2, 3, 4, 5, 6]
    net = HyperNetwork.load(str(out / "latest"))
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert not os.path.exists(str(out / "latest") + ".tmp")
