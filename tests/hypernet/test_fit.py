"""A fitted composition: the document's part stays as published, the task's part moves, and on the generic
inputs it was fitted on the composition continues more like the task adapter alone than the projection did."""
import dataclasses
import random

import pytest
import torch

from hypernet import base_model
from hypernet.config import ComposeConfig
from hypernet.evaluate import read_eval_file
from hypernet.generate import AdapterGenerator
from hypernet.lora import applied, compose
from hypernet.model import HyperNetwork
from hypernet.prompts import task_student_prompt
from hypernet.tasks.fit import fit_composition
from hypernet.tasks.inputs import any_input


@pytest.fixture(scope="module")
def tiny(tiny_model_path, tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    gen = AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path))
    text = read_eval_file("bench/data/eval_short48.jsonl")[0]["text"]
    doc, task = (a.lora for a in gen.generate([text, "Reply in capital letters only."]))
    return model, tok, text, doc, task


def _next_token_logp(model, tok, lora, prompts):
    enc = tok(prompts, return_tensors="pt", padding=True, padding_side="left")
    with torch.no_grad(), applied(model, lora):
        return torch.log_softmax(model(**enc).logits[:, -1].float(), dim=-1)


def test_zero_steps_is_the_projection(tiny):
    model, tok, text, doc, task = tiny
    fitted = fit_composition(model, tok, doc, task, text, ComposeConfig(steps=0), doc_scale=0.5, task_scale=2.0)
    expected = compose(doc, task, doc_scale=0.5, task_scale=2.0)
    for target, (a, b) in expected.factors.items():
        torch.testing.assert_close(fitted.factors[target][0], a)
        torch.testing.assert_close(fitted.factors[target][1], b)


def test_the_fit_moves_the_task_part_only_toward_the_task_adapter_alone(tiny):
    model, tok, text, doc, task = tiny
    cfg = ComposeConfig(steps=12, lr=5e-3)
    start = compose(doc, task, doc_scale=1.0, task_scale=1.0)
    fitted = fit_composition(model, tok, doc, task, text, cfg)
    assert fitted.is_finite() and fitted.rank == doc.rank + task.rank
    for target, (a, b) in doc.factors.items():  # the document's part, first, exactly as published
        torch.testing.assert_close(fitted.factors[target][0][:, :doc.rank], a.float())
        torch.testing.assert_close(fitted.factors[target][1][:, :, :doc.rank], b.float())
    assert any(not torch.allclose(fitted.factors[t][1][:, :, doc.rank:], start.factors[t][1][:, :, doc.rank:])
               for t in doc.factors)
    rng = random.Random(cfg.seed)
    prompts = [task_student_prompt(any_input(rng)) for _ in range(cfg.inputs)]
    alone = _next_token_logp(model, tok, task, prompts)

    def kl_to_alone(lora) -> float:
        return float(torch.nn.functional.kl_div(_next_token_logp(model, tok, lora, prompts), alone,
                                                log_target=True, reduction="batchmean"))
    assert kl_to_alone(fitted) < kl_to_alone(start)


def test_the_text_term_moves_the_composition_toward_the_document_adapter_on_its_text(tiny):
    model, tok, text, doc, task = tiny
    cfg = ComposeConfig(steps=12, lr=5e-3, text_weight=1.0, text_tokens=64, task_weight=0.0, questions=1)
    ids = torch.tensor([[tok.bos_token_id, *tok(text, add_special_tokens=False).input_ids[:cfg.text_tokens]]])

    def logp(lora):
        with torch.no_grad(), applied(model, lora):
            return torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    alone = logp(doc)

    def kl_to_doc_alone(lora) -> float:
        return float(torch.nn.functional.kl_div(logp(lora), alone, log_target=True, reduction="batchmean"))
    without = dataclasses.replace(cfg, text_weight=0.0)
    assert (kl_to_doc_alone(fit_composition(model, tok, doc, task, text, cfg))
            < kl_to_doc_alone(fit_composition(model, tok, doc, task, text, without)))


def test_recipe_checks_and_key():
    assert ComposeConfig(steps=0).key() == ""
    assert ComposeConfig().key().startswith(f"fit{ComposeConfig().steps}-")
    assert ComposeConfig(lr=1e-3).key() != ComposeConfig().key()
    with pytest.raises(ValueError, match="steps"):
        ComposeConfig(steps=-1)
    with pytest.raises(ValueError, match="text_weight"):
        ComposeConfig(text_weight=-1.0)
