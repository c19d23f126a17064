"""Meta-training on a tiny model: the loss falls when overfitting one example; runs resume."""
import dataclasses
import json
import os

import pytest
import torch

from hypernet import base_model
from hypernet.config import HypernetConfig
from hypernet.distill import student_loss, teacher_example, teacher_examples
from hypernet.model import HyperNetwork
from hypernet.train import TrainConfig, train


def _tiny_setup(tiny_model_path, text: str, qa: list[tuple[str, str]], **config):
    """The tiny base model, a fresh small hypernetwork for it and one document's teacher example."""
    torch.manual_seed(0)
    model, tok, _ = base_model.load(tiny_model_path)
    cfg = HypernetConfig.for_base_model(model.config, latent_dim=32, n_latents=4, n_heads=2, head_dim=16, **config)
    return model, HyperNetwork(cfg), teacher_example(model, tok, text, qa, chunk_len=512, max_chunks=4)


def _overfit(model, net, ex, steps: int, after_backward=lambda: None) -> tuple[dict, dict]:
    """`steps` Adam steps of the student loss on one example: the first and the last metrics."""
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    first = None
    for _ in range(steps):
        loss, metrics = student_loss(model, net, ex)
        opt.zero_grad()
        loss.backward()
        after_backward()
        opt.step()
        first = first or metrics
    return first, metrics


def test_student_loss_trains_the_hypernetwork(tiny_model_path):
    model, net, ex = _tiny_setup(tiny_model_path, "Mirela Vostrikova was born in Caldenport in 1974.",
                                 [("Where was Mirela Vostrikova born?", "Caldenport")])
    assert ex.chunk_acts[0].shape[0] == model.config.num_hidden_layers
    first, metrics = _overfit(model, net, ex, 30)
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


def _two_docs():
    return [("Mirela Vostrikova was born in Caldenport in 1974. She works as a glassblower.",
             [("Where was Mirela Vostrikova born?", "Caldenport"), ("What is her job?", "glassblower")], 512),
            ("The Ostrel X9 weighs 4.2 kg and is sold in teal by Brannock Industries, a firm in a town "
             "of the north with a long history of making small machines.",
             [("What colour is the Ostrel X9?", "teal")], 12)]  # 12-token chunks: several chunks


def test_batched_teacher_matches_one_document_at_a_time(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    docs = _two_docs()
    batched = teacher_examples(model, tok, docs, max_chunks=8, top_k=8)
    assert len(batched[1].chunk_acts) > 1
    for (text, qa, chunk_len), got in zip(docs, batched):
        alone = teacher_example(model, tok, text, qa, chunk_len=chunk_len, max_chunks=8, top_k=8)
        assert len(got.chunk_acts) == len(alone.chunk_acts)
        for a, b in zip(got.chunk_acts, alone.chunk_acts):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(got.teacher_topk_logp, alone.teacher_topk_logp, atol=1e-4, rtol=1e-4)
        assert torch.equal(got.teacher_topk_ids[:, 0], alone.teacher_topk_ids[:, 0])
        assert torch.equal(got.student_ids, alone.student_ids) and torch.equal(got.answer_pos, alone.answer_pos)


def test_batched_student_loss_is_the_token_weighted_mean_of_single_losses(tiny_model_path):
    """Each question row must get its own document's adapter and its own answer positions."""
    torch.manual_seed(0)
    model, tok, _ = base_model.load(tiny_model_path)
    cfg = HypernetConfig.for_base_model(model.config, latent_dim=32, n_latents=4, n_heads=2, head_dim=16)
    net = HyperNetwork(cfg)
    with torch.no_grad():  # a non-zero update, different per document
        for head in net.heads.values():
            head.b_scale.fill_(3.0)
    examples = teacher_examples(model, tok, _two_docs(), max_chunks=8, top_k=8)
    _, both = student_loss(model, net, examples, l1_weight=0.0)
    singles = [student_loss(model, net, ex, l1_weight=0.0)[1] for ex in examples]
    weights = [len(ex.answer_ids) for ex in examples]
    for key in ("kd", "ce"):
        expected = sum(w * m[key] for w, m in zip(weights, singles)) / sum(weights)
        assert abs(both[key] - expected) < 1e-4, (key, both[key], expected, singles)
    # Swapping the adapters between documents changes the loss: rows really use their own.
    swapped = [dataclasses.replace(examples[0], chunk_acts=examples[1].chunk_acts),
               dataclasses.replace(examples[1], chunk_acts=examples[0].chunk_acts)]
    assert abs(student_loss(model, net, swapped, l1_weight=0.0)[1]["kd"] - both["kd"]) > 1e-4


def test_training_in_batches_starts_from_a_checkpoint(tiny_model_path, tmp_path):
    cfg = dict(base_model=tiny_model_path, save_every=2, latent_dim=32, n_latents=4, head_dim=16, warmup=1)
    first = train(TrainConfig(out_dir=str(tmp_path / "a"), steps=2, **cfg), log=lambda m: None)
    logs = []
    second = train(TrainConfig(out_dir=str(tmp_path / "b"), steps=2, batch_docs=3, init_from=first,
                               multi_chunk_prob=0.5, copy_next=1, **cfg), log=logs.append)
    assert any("starting from the weights" in line for line in logs)
    # The checkpoint's run drew documents 0-1 of seed 0, which this one (same seed) draws again: said.
    assert any("trained on --seed 0 (2 documents at least)" in line for line in logs)
    fresh = []
    # A pull of the whole distance back to the start (start_decay) leaves the step's weights where they began.
    pulled = train(TrainConfig(out_dir=str(tmp_path / "c"), steps=1, init_from=first, seed=1, start_decay=1e6, **cfg),
                   log=fresh.append)
    assert not any("draws those documents again" in line for line in fresh)
    step = json.loads((tmp_path / "c" / "metrics.jsonl").read_text().splitlines()[0])
    assert step["lr"] > 0 and step["grad_norm"] > 0
    start_state, end_state = HyperNetwork.load(first).state_dict(), HyperNetwork.load(pulled).state_dict()
    assert all(torch.equal(end_state[k], v) for k, v in start_state.items())
    # --copy-next added the induction path to a checkpoint without it, and trained it.
    widened = HyperNetwork.load(second)
    assert widened.cfg.copy_next and widened.copy_heads["mlp__down_proj"].to_b_token.abs().sum() > 0
    lines = [json.loads(l) for l in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [m["docs"] for m in lines] == [3, 3]
    state = json.loads((tmp_path / "b" / "latest" / "train_state.json").read_text())
    assert state["step"] == 2
    # The batch's documents differ from each other and from the next step's (seeded by step and index).
    from hypernet.train import document_for_step

    tc = TrainConfig(batch_docs=3, vocab_names=0.0)
    texts = {document_for_step(tc, s, None, (), j)[0].text for s in range(2) for j in range(3)}
    assert len(texts) == 6


def test_a_time_limit_stops_with_a_checkpoint_and_ends_the_schedule(tiny_model_path, tmp_path):
    from hypernet.train import lr_at

    cfg = TrainConfig(steps=1000, warmup=10, lr=1e-3, min_lr_ratio=0.1)
    assert lr_at(500, cfg) > lr_at(500, cfg, time_fraction=0.9) > lr_at(500, cfg, time_fraction=1.0) == 1e-4
    assert lr_at(5, cfg, time_fraction=1.0) == lr_at(5, cfg)  # warm-up is by steps
    logs = []
    train(TrainConfig(out_dir=str(tmp_path / "run"), base_model=tiny_model_path, steps=50, save_every=100,
                      latent_dim=32, n_latents=4, head_dim=16, max_seconds=1e-3), log=logs.append)
    state = json.loads((tmp_path / "run" / "latest" / "train_state.json").read_text())
    assert state["step"] == 1 and any("time limit" in line for line in logs)


def test_a_bfloat16_base_model_trains_a_float32_hypernetwork(tiny_model_path, tmp_path):
    """The GPU set-up (bfloat16 base, float32 hypernetwork and logits), run on the CPU, with every
    loss on: the retrieval loss meets bfloat16 captured inputs here."""
    logs = []
    latest = train(TrainConfig(out_dir=str(tmp_path / "run"), base_model=tiny_model_path, steps=3, save_every=3,
                               latent_dim=32, n_latents=4, head_dim=16, warmup=1, batch_docs=2, dtype="bfloat16",
                               multi_chunk_prob=0.5, retrieval_weight=0.5, copy_next=1), log=logs.append)
    assert any("torch.bfloat16 base model" in line for line in logs)
    metrics = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 3 and all(m["loss"] == m["loss"] and m["grad_norm"] > 0 for m in metrics)  # no NaN
    assert any("retrieval_top1" in m for m in metrics)
    net = HyperNetwork.load(latest)
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in net.parameters())


def test_answers_are_located_in_one_chunk_documents_only(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    text = "Mirela Vostrikova was born in Caldenport in 1974. She works as a glassblower."
    ex = teacher_example(model, tok, text, [("Where was she born?", "Caldenport"), ("Her pet?", "a grey cat")],
                         chunk_len=512, max_chunks=4)
    ids = tok(text, add_special_tokens=False).input_ids
    where = ex.answer_doc_pos.tolist()
    assert tok.decode(ids[where[0]:]).strip().startswith("Caldenport") and where[1] == -1
    sliced = teacher_example(model, tok, text, [("Where was she born?", "Caldenport")], chunk_len=8, max_chunks=4)
    assert len(sliced.chunk_acts) > 1 and sliced.answer_doc_pos.tolist() == [-1]


@pytest.mark.parametrize("copy_next,window_len", [(False, 128), (True, 128), (True, 8)])
def test_the_retrieval_loss_teaches_copy_heads_where_answers_are(tiny_model_path, copy_next, window_len):
    model, net, ex = _tiny_setup(
        tiny_model_path, "Mirela Vostrikova was born in Caldenport in 1974. She works as a glassblower.",
        [("Where was Mirela Vostrikova born?", "Caldenport"), ("What is her job?", "glassblower")],
        copy_next=copy_next, window_len=window_len, chunk_len=64, max_chunks=4)
    n_tokens = ex.chunk_acts[0].shape[1]
    lora = net(ex.chunk_acts[0][None], torch.ones(1, n_tokens, dtype=torch.long))[0]
    assert lora.rank == net.cfg.rank * -(-n_tokens // window_len)  # one rank-r LoRA per window
    assert "retrieval_top1" not in student_loss(model, net, ex)[1]  # off by default
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    history = []
    for _ in range(40):
        loss, metrics = student_loss(model, net, ex, ce_weight=0.0, retrieval_weight=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(metrics)
    first, last = history[0], history[-1]
    # Rank rows come to attend to the positions before the answers, and the questions' states
    # come to match those positions' keys better than any other position's.
    assert last["retrieval_select"] < 0.5 * first["retrieval_select"], (first, last)
    assert last["retrieval_top1"] == 1.0 and last["retrieval_key"] < first["retrieval_key"], (first, last)


def test_gold_only_examples_learn_the_gold_answer_not_the_teacher(tiny_model_path):
    """Real prose with blanks is trained on its gold answers: whatever the teacher says is ignored there,
    and only there."""
    from hypernet.distill import mark_gold_only
    from hypernet.examples_io import example_from_bytes, example_to_bytes

    torch.manual_seed(0)
    model, tok, _ = base_model.load(tiny_model_path)
    cfg = HypernetConfig.for_base_model(model.config, latent_dim=32, n_latents=4, n_heads=2, head_dim=16)
    net = HyperNetwork(cfg)
    with torch.no_grad():
        for head in net.heads.values():
            head.b_scale.fill_(3.0)
    trusted, prose = teacher_examples(model, tok, _two_docs(), max_chunks=8, top_k=8)
    gold = mark_gold_only(prose)
    assert gold.is_gold_only() and not prose.is_gold_only()
    # A teacher that puts all its mass on a wrong token: distillation follows it, the gold-only example does not.
    wrong = dataclasses.replace(gold, teacher_topk_ids=torch.zeros_like(gold.teacher_topk_ids),
                                teacher_topk_logp=torch.zeros_like(gold.teacher_topk_logp))
    _, alone = student_loss(model, net, wrong, l1_weight=0.0)
    assert abs(alone["kd"] - alone["ce"]) < 1e-5
    _, distilled = student_loss(model, net, dataclasses.replace(wrong, gold_only=None), l1_weight=0.0)
    assert abs(distilled["kd"] - alone["ce"]) > 0.1
    # In a batch, the teacher still sets the other document's target: token-weighted mean of the two.
    _, both = student_loss(model, net, [trusted, wrong], l1_weight=0.0)
    single = student_loss(model, net, trusted, l1_weight=0.0)[1]
    n_trusted, n_gold = len(trusted.answer_ids), len(gold.answer_ids)
    expected = (n_trusted * single["kd"] + n_gold * alone["ce"]) / (n_trusted + n_gold)
    assert abs(both["kd"] - expected) < 1e-4
    # The flag survives the meta-training job's cache.
    assert example_from_bytes(example_to_bytes(gold)).is_gold_only()
    assert not example_from_bytes(example_to_bytes(prose)).is_gold_only()


def test_with_first_target_layer_the_student_backward_stops_there(tiny_model_path):
    """Adapting only the upper layers, a student step reaches the upper heads' weights and no lower
    ones, and the loss still falls."""
    model, net, ex = _tiny_setup(tiny_model_path, "Mirela Vostrikova was born in Caldenport in 1974.",
                                 [("Where was Mirela Vostrikova born?", "Caldenport")], first_target_layer=1)
    head, bias = net.heads["mlp__down_proj"], net.bias_loras["mlp__down_proj"]

    def only_upper_layers_learn():
        assert head.weight.grad[0].abs().sum() == 0 and head.weight.grad[1:].abs().sum() > 0
        assert bias.b.grad[0].abs().sum() == 0

    first, metrics = _overfit(model, net, ex, 15, only_upper_layers_learn)
    assert metrics["ce"] < first["ce"], (first, metrics)
    with pytest.raises(ValueError, match="retrieval loss reads every layer"):
        TrainConfig(first_target_layer=1, retrieval_weight=0.1)


def test_start_decay_pulls_the_weights_back_toward_where_the_run_started(tiny_model_path):
    """The same step drifts less from the starting weights with the pull, and a pull of the whole
    distance (lr * start_decay >= 1) leaves the weights where they started."""
    from hypernet.train import make_optimizer, start_weights, train_step

    model, net, ex = _tiny_setup(tiny_model_path, "Mirela Vostrikova was born in Caldenport in 1974.",
                                 [("Where was Mirela Vostrikova born?", "Caldenport")])
    initial = {k: v.clone() for k, v in net.state_dict().items()}

    def drift(start_decay: float) -> float:
        net.load_state_dict(initial)
        cfg = TrainConfig(lr=1e-2, warmup=0, weight_decay=0.0, start_decay=start_decay)
        train_step(model, net, make_optimizer(net, cfg), [ex], cfg, 5, start=start_weights(cfg, initial))
        return sum((p.detach() - initial[k]).norm().item() ** 2 for k, p in net.named_parameters()) ** 0.5

    free, pulled = drift(0.0), drift(30.0)
    assert 0 < pulled < 0.8 * free, (free, pulled)
    assert drift(1000.0) == 0.0
    with pytest.raises(ValueError, match="init_from"):
        start_weights(TrainConfig(start_decay=1.0), None)
