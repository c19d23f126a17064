"""Evaluation: the report's shape and the eval-file checks."""
import json

import pytest

from hypernet import base_model
from hypernet.evaluate import FinetuneConfig, evaluate_docs, read_eval_file
from hypernet.model import HyperNetwork
from hypernet.prompts import is_correct


def test_answer_matching_is_normalised():
    assert is_correct("It is The Quiet Tide, I think.\nQuestion: next", "the quiet tide")
    assert not is_correct("Something else\nThe Quiet Tide", "The Quiet Tide")  # only the first line counts
    assert not is_correct("anything", "")


def test_bad_eval_file_names_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "t", "qa": []}) + "\n" + '{"id": "b"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_eval_file(str(p))


def test_report_has_every_mode(tiny_model_path, tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    net = HyperNetwork.load(tiny_hypernet_path)
    docs = [{"id": "d1", "text": "Quillton is the capital of Zorbania.", "qa": [{"q": "What is the capital?", "a": "Quillton"}]}]
    report = evaluate_docs(docs, ["base", "context", "adapter", "finetune"], model, tok, net,
                           finetune=FinetuneConfig(steps=2), max_new_tokens=3)
    assert report["n_docs"] == 1 and report["n_questions"] == 1
    for mode in ("base", "context", "adapter", "finetune"):
        assert 0.0 <= report[mode]["accuracy"] <= 1.0 and report[mode]["seconds_per_question"] > 0
        assert 0.0 < report[mode]["gold_nll"] < 50.0
    assert report["adapter"]["generate_seconds_per_doc"] > 0
    assert report["finetune"]["train_seconds_per_doc"] > 0
    assert report["adapter"]["accuracy_by_chunks"].keys() == {"1"}
