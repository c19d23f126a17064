"""Cached teacher examples survive the trip to bytes and back exactly."""
import dataclasses

import pytest
import torch
from safetensors.torch import save

from hypernet import base_model
from hypernet.distill import teacher_example
from hypernet.examples_io import example_from_bytes, example_to_bytes


def test_a_multi_chunk_example_round_trips_through_bytes(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    text = "Mirela Vostrikova was born in Caldenport in 1974. " * 6
    ex = teacher_example(model, tok, text, [("Where was she born?", "Caldenport"), ("When?", "1974")],
                         chunk_len=32, max_chunks=4, top_k=4)
    assert len(ex.chunk_acts) > 1
    back = example_from_bytes(example_to_bytes(ex))
    for f in dataclasses.fields(ex):
        a, b = getattr(ex, f.name), getattr(back, f.name)
        if a is None:  # an optional field left empty (gold_only) stays empty
            assert b is None, f.name
            continue
        pairs = zip(a, b) if isinstance(a, list) else [(a, b)]
        assert all(x.dtype == y.dtype and torch.equal(x, y) for x, y in pairs), f.name


def test_a_blob_without_the_optional_answer_positions_still_loads(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    ex = teacher_example(model, tok, "Mirela was born in Caldenport.", [("Where was she born?", "Caldenport")],
                         chunk_len=512, max_chunks=4, top_k=4)
    assert ex.answer_doc_pos.tolist()[0] >= 0
    old = dataclasses.replace(ex, answer_doc_pos=None)  # as written before the field existed
    assert example_from_bytes(example_to_bytes(old)).answer_doc_pos is None


def test_other_blobs_are_refused():
    with pytest.raises(ValueError, match="not a serialised Example"):
        example_from_bytes(save({"x": torch.zeros(1)}))
    with pytest.raises(ValueError, match="not a serialised Example"):
        example_from_bytes(b"junk")
