"""A document adapter and a task adapter composed: ranks side by side, each part's B scaled, the task's B
projected off the document's output directions; with the task's scale at zero the composition is the
document adapter alone."""
import pytest
import torch

from hypernet import base_model
from hypernet.config import ComposeConfig
from hypernet.evaluate import read_eval_file
from hypernet.generate import AdapterGenerator
from hypernet.lora import LoraTensors, applied, compose, concat_ranks, project_off
from hypernet.model import HyperNetwork
from hypernet.tasks import make_task
from hypernet.tasks.compose import SHARES, evaluate_composition

TARGET = "mlp.down_proj"


def random_lora(rank: int, seed: int, layers: int = 2, d_in: int = 128, d_out: int = 64, target: str = TARGET):
    g = torch.Generator().manual_seed(seed)
    return LoraTensors({target: (torch.randn(layers, rank, d_in, generator=g),
                                 torch.randn(layers, d_out, rank, generator=g))})


def test_composed_rank_is_the_sum_and_its_update_the_scaled_sum_of_the_document_and_the_projected_task():
    doc, task = random_lora(8, 1), random_lora(4, 2)
    both = compose(doc, task, doc_scale=0.5, task_scale=2.0)
    assert both.rank == 12
    projected = project_off(task, doc)
    for layer in range(2):
        expected = 0.5 * doc.delta(TARGET, layer) + 2.0 * projected.delta(TARGET, layer)
        torch.testing.assert_close(both.delta(TARGET, layer), expected, rtol=1e-4, atol=1e-4)
        # The task part writes nothing along the document's output directions.
        doc_b = doc.factors[TARGET][1][layer]
        assert (doc_b.T @ projected.delta(TARGET, layer)).abs().max() < 1e-3
        assert not torch.allclose(projected.delta(TARGET, layer), task.delta(TARGET, layer), atol=1e-2)


def test_projecting_off_keeps_what_is_already_orthogonal_and_ignores_zero_columns():
    doc, task = random_lora(8, 1), random_lora(4, 2)
    doc_b, task_b = doc.factors[TARGET][1], task.factors[TARGET][1]
    # The document writes in the first 32 output rows only, the task in the last 32: already orthogonal.
    doc = LoraTensors({TARGET: (doc.factors[TARGET][0], torch.cat([doc_b[:, :32], torch.zeros_like(doc_b[:, 32:])], 1))})
    task = LoraTensors({TARGET: (task.factors[TARGET][0],
                                 torch.cat([torch.zeros_like(task_b[:, :32]), task_b[:, 32:]], 1))})
    torch.testing.assert_close(project_off(task, doc).factors[TARGET][1], task.factors[TARGET][1], atol=1e-5, rtol=1e-5)
    # A document adapter padded with zero rank columns removes no more than its real columns.
    padded = LoraTensors({TARGET: (torch.cat([doc.factors[TARGET][0], torch.zeros(2, 4, 128)], 1),
                                   torch.cat([doc.factors[TARGET][1], torch.zeros(2, 64, 4)], 2))})
    torch.testing.assert_close(project_off(task, padded).factors[TARGET][1], task.factors[TARGET][1], atol=1e-5, rtol=1e-5)
    other_target = random_lora(4, 3, d_in=64, target="self_attn.o_proj")
    assert project_off(task, other_target).factors[TARGET][1] is task.factors[TARGET][1]


def test_a_target_only_one_adapter_patches_keeps_that_adapters_factors_scaled():
    doc, task = random_lora(8, 1), random_lora(4, 2, d_in=64, d_out=64, target="self_attn.o_proj")
    both = concat_ranks([(doc, 1.0), (task, 3.0)])
    assert set(both.factors) == {TARGET, "self_attn.o_proj"}
    torch.testing.assert_close(both.delta("self_attn.o_proj", 1), 3.0 * task.delta("self_attn.o_proj", 1))
    with pytest.raises(ValueError, match="layer counts"):
        concat_ranks([(doc, 1.0), (random_lora(4, 3, layers=3), 1.0)])


@pytest.fixture(scope="module")
def tiny(tiny_model_path, tiny_hypernet_path):
    model, tok, _ = base_model.load(tiny_model_path)
    return model, tok, AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path))


def test_with_task_scale_zero_the_model_computes_what_the_document_adapter_alone_does(tiny):
    model, tok, gen = tiny
    doc, task = (a.lora for a in gen.generate(["The Alpha lighthouse was built in 1874.", "Answer in capitals."]))
    ids = tok("Question: When was it built?\nAnswer:", return_tensors="pt").input_ids
    with torch.no_grad(), applied(model, doc):
        alone = model(ids).logits
    with torch.no_grad(), applied(model, compose(doc, task, doc_scale=1.0, task_scale=0.0)):
        muted = model(ids).logits
    with torch.no_grad(), applied(model, compose(doc, task, doc_scale=1.0, task_scale=1.0)):
        composed = model(ids).logits
    torch.testing.assert_close(muted, alone, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(composed, alone, atol=1e-4), "the task adapter should change the outputs"


def test_composition_report_counts_both_jobs_and_a_muted_task_leaves_the_answers_alone(tiny):
    model, tok, gen = tiny
    doc = dict(read_eval_file("bench/data/eval_short48.jsonl")[0])
    doc["qa"] = doc["qa"][:2]
    task = make_task(7, "eval", family="upper_case", n_inputs=2)
    make = lambda text: gen.generate([text])[0].lora  # noqa: E731
    report = evaluate_composition([(doc, task)], model, tok, doc_adapter_for=lambda d: make(d["text"]),
                                  task_adapter_for=lambda t: make(t.description), doc_scale=1.0, task_scale=0.0,
                                  compose_cfg=ComposeConfig(steps=0), max_new_tokens=4)
    assert report["n_pairs"] == 1 and set(SHARES) <= set(report) and list(report["by_family"]) == ["upper_case"]
    assert all(0.0 <= report[s] <= 1.0 for s in SHARES)
    assert report["doc_composed"] == report["doc_alone"]
