"""The in-process path: document -> adapter -> answers, on a tiny random model."""
import pytest
import torch

from hypernet import base_model
from hypernet.activations import cpu_has_native_bf16, read_autocast
from hypernet.generate import AdapterGenerator, answer
from hypernet.model import HyperNetwork


def load(tiny_model_path, tiny_hypernet_path, **kw):
    model, tok, _ = base_model.load(tiny_model_path)
    return AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path), **kw), model, tok


def test_batched_generation_equals_one_by_one(tiny_model_path, tiny_hypernet_path):
    # read_dtype "model": a float32 read is exact across batch shapes; a bf16 one is not (its own test below).
    gen, _, _ = load(tiny_model_path, tiny_hypernet_path, max_batch_tokens=100_000, read_dtype="model")
    texts = ["A short note about Quillhaven.", "A much longer text. " * 30, "Mid sized text about a river and a town."]
    together = gen.generate(texts)
    for text, made in zip(texts, together):
        alone = gen.generate([text])[0]
        assert alone.n_chunks == made.n_chunks and alone.lora.rank == made.lora.rank
        torch.testing.assert_close(alone.lora.delta("mlp.down_proj", 1), made.lora.delta("mlp.down_proj", 1),
                                   rtol=1e-3, atol=1e-5)


def test_long_documents_are_chunked_and_ranks_concatenated(tiny_model_path, tiny_hypernet_path):
    gen, _, _ = load(tiny_model_path, tiny_hypernet_path)
    made = gen.generate(["word " * 300])[0]  # chunk_len 64 in the tiny checkpoint
    assert made.n_chunks == 5
    assert made.lora.rank == (5 + 1) * gen.cfg.rank  # chunks + the bias LoRA


def test_windows_inside_a_chunk_add_rank_and_do_not_depend_on_the_batch(tiny_model_path, tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    gen = AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path, window_len=16), max_batch_tokens=100_000,
                          read_dtype="model")
    texts = ["word " * 40, "A short note about Quillhaven."]  # 40 tokens: one chunk (64), three windows (16)
    together = gen.generate(texts)
    assert together[0].n_chunks == 1 and together[0].lora.rank == (3 + 1) * gen.cfg.rank
    assert together[1].lora.rank == (1 + 1) * gen.cfg.rank
    for text, made in zip(texts, together):
        alone = gen.generate([text])[0]
        assert alone.lora.rank == made.lora.rank
        torch.testing.assert_close(alone.lora.delta("mlp.down_proj", 1), made.lora.delta("mlp.down_proj", 1),
                                   rtol=1e-3, atol=1e-5)


def test_adapter_changes_the_answer_path(tiny_model_path, tiny_hypernet_path):
    gen, model, tok = load(tiny_model_path, tiny_hypernet_path)
    lora = gen.generate(["The capital of Zorbania is Quillton."])[0].lora
    scaled = type(lora)({k: (a, b * 1000) for k, (a, b) in lora.factors.items()})
    enc = tok("Question: What is the capital?\nAnswer:", return_tensors="pt")
    from hypernet.lora import applied

    with torch.no_grad():
        plain = model(**enc).logits
        with applied(model, scaled):
            patched = model(**enc).logits
    assert not torch.allclose(plain, patched)
    assert isinstance(answer(model, tok, "What is the capital?", lora=lora, max_new_tokens=4), str)


def test_read_dtype_picks_the_autocast_and_a_bf16_read_stays_close(tiny_model_path, tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    assert read_autocast(model, "model") is None
    assert read_autocast(model, "bfloat16") is torch.bfloat16
    assert read_autocast(model, "auto") is (torch.bfloat16 if cpu_has_native_bf16() else None)
    with pytest.raises(ValueError, match="read_dtype='float8'"):
        read_autocast(model, "float8")
    half, _ = base_model.load_model(tiny_model_path, dtype="bfloat16")
    assert read_autocast(half, "bfloat16") is None  # already bf16: nothing to cast

    net = HyperNetwork.load(tiny_hypernet_path)
    text = "The Quillhaven ferry leaves at 7:40 from pier 12, run by Marta Oyelaran since 1998. " * 3
    exact = AdapterGenerator(model, tok, net, read_dtype="model").generate([text])[0].lora
    fast = AdapterGenerator(model, tok, net, read_dtype="bfloat16").generate([text])[0].lora
    assert fast.rank == exact.rank
    a, b = exact.delta("mlp.down_proj", 1), fast.delta("mlp.down_proj", 1)
    assert b.dtype == torch.float32 and not torch.equal(a, b)  # the read really ran in bf16
    assert (a - b).norm() / a.norm() < 0.05
