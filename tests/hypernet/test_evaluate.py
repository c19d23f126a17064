"""Evaluation: the report's shape and the eval-file checks."""
import contextlib
import json

import pytest
import torch

from hypernet import base_model
from hypernet.evaluate import FinetuneConfig, evaluate_docs, finetune_lora, read_eval_file
from hypernet.generate import answer_nll
from hypernet.lora import applied
from hypernet.model import HyperNetwork
from hypernet.prompts import is_correct, token_f1


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


def test_token_f1_is_squad_style():
    assert token_f1("The Quiet Tide.\nmore", "quiet tide") == 1.0
    assert token_f1("quiet harbour", "quiet tide") == 0.5
    assert token_f1("nothing alike", "quiet tide") == 0.0


def test_refine_fresh_and_oracle_rows_per_step_count(tiny_model_path, tiny_hypernet_path):
    from hypernet.config import RefineConfig

    model, tok, _ = base_model.load(tiny_model_path)
    net = HyperNetwork.load(tiny_hypernet_path)
    docs = [{"id": "d1", "text": "Quillton is the capital of Zorbania. It was founded in 1821 by Ada Brun.",
             "qa": [{"q": "What is the capital?", "a": "Quillton"}, {"q": "When was it founded?", "a": "1821"}]}]
    report = evaluate_docs(docs, ["context", "adapter", "refine", "fresh", "oracle"], model, tok, net,
                           refine=RefineConfig(), refine_steps=(0, 2), oracle_steps=2, max_new_tokens=3)
    for name in ("adapter", "refine@0", "refine@2", "fresh@0", "fresh@2", "oracle"):
        row = report[name]
        assert 0.0 <= row["f1"] <= 1.0 and "ratio_to_context" in row and row["seconds_per_doc"] >= 0
    # Zero refinement steps is the generated adapter itself: the same answers and NLL.
    assert report["refine@0"]["gold_nll"] == pytest.approx(report["adapter"]["gold_nll"], abs=1e-4)
    assert report["refine@2"]["gold_nll"] != pytest.approx(report["adapter"]["gold_nll"], abs=1e-6)
    assert report["refine@2"]["seconds_per_doc"] > report["refine@0"]["seconds_per_doc"]
    assert report["oracle"]["ceiling"] is True and report["refine_recipe"]["steps"] == [0, 2]


def test_a_batch_refines_each_document_as_alone(tiny_model_path, tiny_hypernet_path):
    """Refined together (a model actor's batch), each document gets the adapter it gets alone."""
    from hypernet.config import RefineConfig

    model, tok, _ = base_model.load(tiny_model_path)
    net = HyperNetwork.load(tiny_hypernet_path)
    docs = [{"id": "d1", "text": "Quillton is the capital of Zorbania. It was founded in 1821 by Ada Brun.",
             "qa": [{"q": "What is the capital?", "a": "Quillton"}]},
            {"id": "d2", "text": "The Ossel river runs through Brandt. Its mayor is Edda Vrane.",
             "qa": [{"q": "Who is the mayor?", "a": "Edda Vrane"}]},
            {"id": "d3", "text": "Wux Systems has 40 staff. It was founded in 1990.",
             "qa": [{"q": "How many staff work for Wux Systems?", "a": "40"}]}]
    kwargs = dict(refine=RefineConfig(), refine_steps=(2,), max_new_tokens=3, read_dtype="model")
    alone = evaluate_docs(docs, ["adapter", "refine"], model, tok, net, batch=1, **kwargs)
    together = evaluate_docs(docs, ["adapter", "refine"], model, tok, net, batch=2, **kwargs)
    assert [(r["id"], r["refine@2"]) for r in alone["answers"]] == [(r["id"], r["refine@2"]) for r in together["answers"]]
    assert together["refine@2"]["gold_nll"] == pytest.approx(alone["refine@2"]["gold_nll"], rel=1e-3)
    assert together["refine@2"]["gold_nll"] != pytest.approx(together["adapter"]["gold_nll"], rel=1e-4)
    assert together["refine@2"]["seconds_per_doc"] > 0
    with pytest.raises(ValueError, match="batch"):
        evaluate_docs(docs, ["adapter"], model, tok, net, batch=0)


@pytest.mark.parametrize("autocast", [None, torch.bfloat16])
def test_finetune_baseline_learns_the_document(tiny_model_path, autocast):
    """The gradient baseline lowers the document's own loss, in float32 and under the bf16 autocast
    the evaluation gives it where the adapter reads in bf16; its LoRA stays float32."""
    model, tok, _ = base_model.load(tiny_model_path)
    text = "Quillton is the capital of Zorbania. Its mayor is Edda Vrane and its river is the Ossel."
    targets = {"mlp.down_proj": (model.config.intermediate_size, model.config.hidden_size)}
    enc = tok(text, return_tensors="pt")

    def doc_loss(lora=None):
        with torch.no_grad(), (applied(model, lora) if lora else contextlib.nullcontext()):
            return model(**enc, labels=enc.input_ids).loss.item()

    lora = finetune_lora(model, tok, text, targets, model.config.num_hidden_layers,
                         FinetuneConfig(steps=15, lr=1e-2), autocast=autocast)
    a, b = lora.factors["mlp.down_proj"]
    assert a.dtype == b.dtype == torch.float32 and lora.is_finite()
    assert doc_loss(lora) < doc_loss() - 0.5


def test_finetune_baseline_learns_to_answer_its_own_blanks(tiny_model_path):
    """With self-made questions the baseline learns to give the document's facts after the
    answering prompt, which the text alone does not teach; the eval questions never enter."""
    model, tok, _ = base_model.load(tiny_model_path)
    text = "Quillton is the capital of Zorbania. Its mayor is Edda Vrane and its river is the Ossel."
    targets = {"mlp.down_proj": (model.config.intermediate_size, model.config.hidden_size)}
    blank = "Fill in the blank from the text: Its mayor is ___ and its river is the Ossel."
    nll = {}
    for n in (0, 16):
        lora = finetune_lora(model, tok, text, targets, model.config.num_hidden_layers,
                             FinetuneConfig(steps=30, lr=3e-2, self_questions=n))
        nll[n] = answer_nll(model, tok, blank, "Edda Vrane", lora=lora)
    assert nll[16] < nll[0] - 0.5


def test_report_names_the_baselines_autocast(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    docs = [{"id": "d1", "text": "Quillton is the capital of Zorbania.", "qa": [{"q": "What is the capital?", "a": "Quillton"}]}]
    for read_dtype, expected in (("model", None), ("bfloat16", "bfloat16")):
        report = evaluate_docs(docs, ["finetune"], model, tok, None, finetune=FinetuneConfig(steps=1),
                               max_new_tokens=2, read_dtype=read_dtype)
        assert report["finetune"]["autocast"] == expected
        assert report["finetune"]["self_questions"] == FinetuneConfig().self_questions
