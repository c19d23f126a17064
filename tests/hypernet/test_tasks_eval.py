"""Text-to-LoRA on a tiny random model: the task report counts what the checkers accept, by mode, group
and family; the teacher's records are ones the document trainer steps on; outputs the checker rejects
never become targets."""
import math

import pytest
import torch

from hypernet import base_model
from hypernet.activations import layer_inputs
from hypernet.generate import AdapterGenerator, encode_batch
from hypernet.model import HyperNetwork
from hypernet.prompts import task_context_prompt, task_student_prompt
from hypernet.tasks import make_task
from hypernet.tasks.distill import output_tokens, task_reference_examples, task_teacher_examples
from hypernet.tasks.evaluate import GROUPS, generate_outputs, task_outputs
from hypernet.config import checkpoint_meta
from hypernet.tasks import families_for
from hypernet.train import TrainConfig, micro_batch_loss, task_for_step, train, train_step

TRAIN_FAMILIES = {f.name for f in families_for("train")}

NEW_TOKENS = 4  # the random model's outputs are noise: a few tokens test every path


@pytest.fixture(scope="module")
def tiny(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    return model, tok


def even_length(output: str) -> bool:
    """A stub checker the random model's outputs split both ways."""
    return len(output) % 2 == 0


def stubbed(task, check):
    task.check = check  # the instance's checker, in place of its family's
    return task


def test_batched_generation_equals_one_prompt_at_a_time(tiny):
    model, tok = tiny
    prompts = [task_context_prompt("Reply in capital letters only.", "Where do herons nest?"), "Input: hi\nOutput:"]
    batched = generate_outputs(model, tok, prompts, max_new_tokens=NEW_TOKENS)
    assert batched == [generate_outputs(model, tok, [p], max_new_tokens=NEW_TOKENS)[0] for p in prompts]


def test_report_shares_are_the_hand_count_by_mode_group_and_family(tiny, tiny_hypernet_path):
    from hypernet.tasks.evaluate import evaluate_tasks

    model, tok = tiny
    tasks = [stubbed(make_task(1, "train", family="upper_case", n_inputs=2), even_length),
             stubbed(make_task(2, "eval", family="upper_case", n_inputs=2), even_length),
             stubbed(make_task(3, "eval", family="title_case", n_inputs=2), even_length)]
    gen = AdapterGenerator(model, tok, HyperNetwork.load(tiny_hypernet_path))
    report = evaluate_tasks(tasks, ["base", "context", "adapter"], model, tok, max_new_tokens=NEW_TOKENS,
                            adapter_for=lambda t: gen.generate([t.description])[0].lora)
    rows = report["outputs"]
    assert report["n_outputs"] == len(rows) == 6
    assert [r["group"] for r in rows] == ["train"] * 2 + ["unseen_wording"] * 2 + ["unseen_family"] * 2
    assert [r["base"] for r in rows[:2]] == task_outputs(model, tok, tasks[0], mode="base", max_new_tokens=NEW_TOKENS)
    for mode in ("base", "context", "adapter"):
        verdicts = [even_length(r[mode]) for r in rows]
        assert verdicts == [r[mode + "_ok"] for r in rows]
        got = report[mode]
        assert got["accepted"] == sum(verdicts) / 6 and got["outputs"] == 6
        for i, group in enumerate(GROUPS):
            assert got["by_group"][group] == sum(verdicts[2 * i: 2 * i + 2]) / 2
        assert got["by_family"] == {"upper_case": sum(verdicts[:4]) / 4, "title_case": sum(verdicts[4:]) / 2}
        shares = [got["accepted"], *got["by_group"].values(), *got["by_family"].values()]
        assert all(0.0 <= s <= 1.0 for s in shares)


def test_report_refuses_an_adapter_mode_without_adapters(tiny):
    from hypernet.tasks.evaluate import evaluate_tasks

    with pytest.raises(ValueError, match="adapter_for"):
        evaluate_tasks([make_task(1, "eval")], ["adapter"], *tiny)


@pytest.fixture(scope="module")
def teacher(tiny):
    """Three tasks through the teacher: one whose outputs a stub accepts all of; JSON with given keys, which the
    random model cannot write (its real checker rejects every output); one whose stub accepts only the
    output of its second input."""
    model, tok = tiny
    everything = stubbed(make_task(4, "train", family="prefix", n_inputs=3), lambda out: True)
    json_task = make_task(5, "train", family="json_keys", n_inputs=3)
    partial = make_task(6, "train", family="lower_case", n_inputs=3)
    second = task_outputs(model, tok, partial, mode="context", max_new_tokens=NEW_TOKENS)[1]
    stubbed(partial, lambda out: out == second)
    tasks = [everything, json_task, partial]
    return tasks, task_teacher_examples(model, tok, tasks, top_k=8, max_new_tokens=NEW_TOKENS), second


def test_outputs_the_checker_rejects_are_dropped(tiny, teacher):
    model, tok = tiny
    (everything, _json_task, partial), (kept_all, rejected, kept_one), second = teacher
    assert rejected is None  # no output of the random model is JSON with the keys
    assert kept_all.student_ids.shape[0] == len(everything.inputs)
    assert kept_one.student_ids.shape[0] == 1
    assert partial.inputs[1] in tok.decode(kept_one.student_ids[0], skip_special_tokens=True)
    assert kept_one.answer_ids.tolist() == output_tokens(tok, second)


def test_teacher_examples_have_the_trainers_shapes(tiny, teacher):
    model, tok = tiny
    tasks, examples, _ = teacher
    n_layers, hidden = model.config.num_hidden_layers, model.config.hidden_size
    for task, ex in zip(tasks, examples):
        if ex is None:
            continue
        description = tok(task.description.strip(), add_special_tokens=False).input_ids
        assert len(ex.chunk_acts) == 1 and ex.chunk_acts[0].shape == (n_layers, len(description), hidden)
        ids, mask, _ = encode_batch([description], tok, ex.student_ids.device)
        assert torch.allclose(ex.chunk_acts[0], layer_inputs(model, ids, mask)[0, :, 1:], atol=1e-5)
        assert ex.student_ids.shape == ex.student_mask.shape
        n = ex.answer_ids.shape[0]
        assert ex.answer_pos.shape == (n, 2) and ex.teacher_topk_ids.shape == ex.teacher_topk_logp.shape == (n, 8)
        assert ex.answer_doc_pos.tolist() == [-1] * ex.student_ids.shape[0] and not ex.is_gold_only()
        # Each answer position predicts the gold token that follows it in the student row.
        rows, cols = ex.answer_pos[:, 0], ex.answer_pos[:, 1]
        assert torch.equal(ex.student_ids[rows, cols + 1], ex.answer_ids)
        assert bool(ex.student_mask[rows, cols + 1].all())


def test_teacher_targets_are_the_context_prompts_top_k(tiny, teacher):
    """The last task's rows sit after the first task's in the teacher batch: its targets must still be its own."""
    model, tok = tiny
    (_, _, partial), (_, _, ex), _ = teacher
    prompt = tok(task_context_prompt(partial.description, partial.inputs[1])).input_ids
    answer = ex.answer_ids.tolist()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + answer])).logits[0].float()
    logp = torch.log_softmax(logits[torch.arange(len(answer)) + len(prompt) - 1], dim=-1)
    assert torch.allclose(logp.gather(-1, ex.teacher_topk_ids), ex.teacher_topk_logp, atol=1e-4)
    assert torch.allclose(logp.topk(8, dim=-1).values, ex.teacher_topk_logp, atol=1e-4)


def test_the_trainer_steps_on_teacher_examples(tiny, tiny_hypernet_path, teacher):
    model, _ = tiny
    examples = [ex for ex in teacher[1] if ex is not None]
    net = HyperNetwork.load(tiny_hypernet_path).train()
    cfg = TrainConfig(warmup=1, steps=1)
    loss, metrics = micro_batch_loss(model, net, examples, cfg)
    assert math.isfinite(loss.item()) and math.isfinite(metrics["kd"])
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr)
    met = train_step(model, net, opt, [examples], cfg, 0)
    assert math.isfinite(met["loss"]) and math.isfinite(met["grad_norm"])
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_task_training_draws_training_split_tasks_from_the_seed():
    cfg = TrainConfig(data="tasks", batch_docs=3, seed=7)
    drawn = [task_for_step(cfg, step, index) for step in range(20) for index in range(3)]
    assert drawn[5].to_json() == task_for_step(cfg, 1, 2).to_json()  # a resumed run draws the same tasks
    assert task_for_step(cfg, 1, 2, attempt=1).id != drawn[5].id  # a redraw is another task
    assert all(t.split == "train" and t.family in TRAIN_FAMILIES for t in drawn)
    assert len({t.family for t in drawn}) > 5


def test_task_meta_training_runs_and_checkpoints(tiny_model_path, tmp_path):
    """Whatever the random teacher's outputs, the run ends with a checkpoint recording its task data."""
    latest = train(TrainConfig(out_dir=str(tmp_path / "run"), base_model=tiny_model_path, data="tasks", steps=2,
                               batch_docs=2, questions_per_doc=2, save_every=2, log_every=1), log=lambda m: None)
    assert checkpoint_meta(latest)["train_config"]["data"] == "tasks"
    assert HyperNetwork.load(latest) is not None


def test_reference_examples_teach_the_rule_made_output_as_gold(tiny):
    model, tok = tiny
    task = make_task(8, "train", family="prefix", n_inputs=2)
    ex = task_reference_examples(model, tok, [task], top_k=8, max_new_tokens=NEW_TOKENS)[0]
    replies = generate_outputs(model, tok, [task_student_prompt(x) for x in task.inputs], max_new_tokens=NEW_TOKENS)
    targets = [task.reference(reply, x) for reply, x in zip(replies, task.inputs)]
    assert all(t.startswith(task.params["prefix"]) for t in targets)
    assert ex.is_gold_only()
    assert ex.answer_ids.tolist() == [t for target in targets for t in output_tokens(tok, target, stop=True)]
    assert ex.answer_ids.tolist().count(tok.eos_token_id) == len(targets)  # each target ends the generation
    no_rule = make_task(9, "train", family="french")
    assert task_reference_examples(model, tok, [no_rule], top_k=8, max_new_tokens=NEW_TOKENS) == [None]
