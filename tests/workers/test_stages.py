"""The stages on one batch each, in this process, without Ray."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hypernet.lora import LoraTensors, pad_rank
from hypernet.peft_format import from_peft_files
from workers.config import WorkerConfig
from workers.stages import (
    ADAPTER_CONFIG, ADAPTER_WEIGHTS, CHUNK_LENS, DOC_ID, ERROR, OK, RANK, SHA256, TEXT, TOKEN_IDS,
    AdapterStage, ChunkStage, split_chunks,
)


def _batch(docs: list[dict]) -> dict[str, np.ndarray]:
    texts = np.empty(len(docs), dtype=object)
    texts[:] = [d["text"] for d in docs]
    return {DOC_ID: np.array([d["doc_id"] for d in docs], dtype=object),
            SHA256: np.array([d["sha256"] for d in docs], dtype=object), TEXT: texts}


@pytest.fixture(scope="module")
def chunk_stage(tiny_cfg):
    return ChunkStage(tiny_cfg)


@pytest.fixture(scope="module")
def adapter_stage(tiny_cfg):
    """The stage publishing adapters as generated (refinement is tested on its own below)."""
    return AdapterStage(dataclasses.replace(tiny_cfg, refine_steps=0))


@pytest.fixture(scope="module")
def reference(adapter_stage, tiny_model_path):
    """The in-process path, with the full tokenizer, on the stage's own models."""
    from hypernet.base_model import load_tokenizer
    from hypernet.generate import AdapterGenerator

    gen = adapter_stage.generator
    return AdapterGenerator(gen.model, load_tokenizer(tiny_model_path), gen.hypernet,
                            max_batch_tokens=gen.max_batch_tokens)


def test_chunk_stage_cuts_like_the_in_process_generator(chunk_stage, reference, make_docs):
    docs = make_docs(6)
    out = chunk_stage(_batch(docs))
    gen = reference
    for i, doc in enumerate(docs):
        expected = gen.chunk(gen.tokenize(doc["text"]))
        assert split_chunks(out[TOKEN_IDS][i], out[CHUNK_LENS][i]) == expected
        assert out[ERROR][i] == ""
    assert any(len(c) > 1 for c in out[CHUNK_LENS]), "some test documents should span several chunks"


def test_chunk_stage_records_empty_and_non_text_documents_as_errors(chunk_stage, make_docs):
    docs = make_docs(3)
    docs[0]["text"], docs[2]["text"] = "", None
    out = chunk_stage(_batch(docs))
    assert out[ERROR][0] == "ValueError: document has no tokens"
    assert out[ERROR][1] == ""
    assert out[ERROR][2].startswith("TypeError")


def test_adapter_stage_matches_the_in_process_generator(chunk_stage, adapter_stage, reference, make_docs):
    docs = make_docs(5)
    out = adapter_stage(chunk_stage(_batch(docs)))
    expected = reference.generate([d["text"] for d in docs])
    assert out[OK].all()
    for i, want in enumerate(expected):
        got = from_peft_files({"adapter_config.json": out[ADAPTER_CONFIG][i],
                               "adapter_model.safetensors": out[ADAPTER_WEIGHTS][i]})
        assert got.rank == out[RANK][i]
        want = pad_rank(want.lora, got.rank)
        for target, (a, b) in want.factors.items():
            torch.testing.assert_close(got.factors[target][0], a, atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(got.factors[target][1], b, atol=1e-5, rtol=1e-4)
            assert b.abs().sum() > 0, "the tiny hypernet has a non-zero B scale"


def test_adapter_stage_refines_the_generated_adapters_as_refine_texts_does(tiny_cfg, chunk_stage, adapter_stage,
                                                                          tiny_model_path, make_docs):
    from hypernet.base_model import load_tokenizer
    from hypernet.refine import refine_texts

    refining = AdapterStage(dataclasses.replace(tiny_cfg, refine_steps=2))
    docs = make_docs(3)
    chunked = chunk_stage(_batch(docs))
    out, plain = refining(chunked), adapter_stage(chunked)
    gen = refining.generator
    generated = refining._loras([split_chunks(t, c) for t, c in zip(chunked[TOKEN_IDS], chunked[CHUNK_LENS])])
    want = refine_texts(gen.model, load_tokenizer(tiny_model_path), [d["text"] for d in docs], generated,
                        refining.refine, bias_rank=gen.cfg.bias_rank, autocast=gen.read_autocast)
    assert out[OK].all()
    for i in range(len(docs)):
        got, unrefined = (from_peft_files({"adapter_config.json": o[ADAPTER_CONFIG][i],
                                           "adapter_model.safetensors": o[ADAPTER_WEIGHTS][i]}) for o in (out, plain))
        a_got = got.factors["mlp.down_proj"][0]
        assert not torch.allclose(a_got, unrefined.factors["mlp.down_proj"][0]), "refinement moved nothing"
        torch.testing.assert_close(a_got, pad_rank(want[i], got.rank).factors["mlp.down_proj"][0], atol=1e-4, rtol=1e-3)


def test_one_document_failing_in_the_model_does_not_fail_its_batch(chunk_stage, adapter_stage, monkeypatch, make_docs):
    docs = make_docs(4)
    batch = chunk_stage(_batch(docs))
    poison = batch[TOKEN_IDS][2][:5].tolist()
    real = adapter_stage.generator.generate_from_chunks

    def flaky(docs_chunks):
        if any(chunks[0][:5] == poison for chunks in docs_chunks):
            raise RuntimeError("kernel fell over")
        return real(docs_chunks)

    monkeypatch.setattr(adapter_stage.generator, "generate_from_chunks", flaky)
    out = adapter_stage(batch)
    assert out[OK].tolist() == [True, True, False, True]
    assert out[ERROR][2] == "RuntimeError: kernel fell over"
    assert out[ADAPTER_WEIGHTS][2] == b""


def test_nan_adapter_is_refused_and_recorded(chunk_stage, adapter_stage, monkeypatch, make_docs):
    batch = chunk_stage(_batch(make_docs(3)))
    real = adapter_stage.generator.combine
    calls = iter(range(100))

    def nan_second(per_chunk):
        lora = real(per_chunk)
        if next(calls) == 1:
            return LoraTensors({k: (a * float("nan"), b) for k, (a, b) in lora.factors.items()})
        return lora

    monkeypatch.setattr(adapter_stage.generator, "combine", nan_second)
    out = adapter_stage(batch)
    assert out[OK].tolist() == [True, False, True]
    assert "NaN" in out[ERROR][1]


def test_errors_from_the_chunk_stage_pass_through_without_model_work(chunk_stage, adapter_stage, make_docs):
    docs = make_docs(2)
    docs[1]["text"] = ""
    out = adapter_stage(chunk_stage(_batch(docs)))
    assert out[OK].tolist() == [True, False]
    assert out[ERROR][1] == "ValueError: document has no tokens"


@pytest.mark.parametrize("bad, field", [
    (dict(num_actors=0), "num_actors"), (dict(dtype="fp8"), "dtype"), (dict(batch_docs=0), "batch_docs"),
    (dict(gpus_per_actor=1.5), "gpus_per_actor"), (dict(ray_address="localhost"), "ray_address"),
    (dict(cpus_per_actor=0), "cpus_per_actor"),
])
def test_worker_config_rejects_bad_values_naming_the_field(bad, field):
    with pytest.raises(ValueError, match=field):
        WorkerConfig(**bad)


def test_gpu_actor_config_uses_cuda():
    cfg = WorkerConfig(gpus_per_actor=0.5, cpus_per_actor=0)
    assert cfg.device == "cuda"
    assert WorkerConfig().device == "cpu"


@pytest.mark.gpu
def test_adapter_stage_on_a_gpu_runs_the_base_model_in_bf16(tiny_cfg, make_docs):
    import dataclasses

    cfg = dataclasses.replace(tiny_cfg, gpus_per_actor=1.0)
    stage = AdapterStage(cfg)
    param = next(stage.generator.model.parameters())
    assert param.device.type == "cuda" and param.dtype == torch.bfloat16
    out = stage(ChunkStage(cfg)(_batch(make_docs(4))))
    assert out[OK].all(), out[ERROR]
    for i in range(4):
        from_peft_files({"adapter_config.json": out[ADAPTER_CONFIG][i], "adapter_model.safetensors": out[ADAPTER_WEIGHTS][i]})
