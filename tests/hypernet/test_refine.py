"""Refinement: its batched loss equals the per-row definition, it learns, and it moves only what the recipe says."""
import pytest
import torch
import torch.nn.functional as F

from hypernet import base_model
from hypernet.config import RefineConfig
from hypernet.distill import bos_ids
from hypernet.lora import LoraTensors, applied, concat_ranks, decoder_layers
from hypernet.refine import (Item, Prepared, _bucket_loss, _rivals, _shortlist, _step_rows, _Trainable, length_units,
                             prepare, refine)
from hypernet.self_questions import self_questions

TEXT = ("Quillton is the capital of Zorbania. It was founded in 1821 by Ada Brun. "
        "Its river is the Ossel and its mayor is Edda Vrane.")


@pytest.fixture(scope="module")
def tiny(tiny_model_path):
    model, tok, _ = base_model.load(tiny_model_path)
    return model, tok


def _lora(model, seed=0) -> LoraTensors:
    gen = torch.Generator().manual_seed(seed)
    n, d_in, d_out = model.config.num_hidden_layers, model.config.intermediate_size, model.config.hidden_size
    return LoraTensors({"mlp.down_proj": (torch.randn(n, 4, d_in, generator=gen) / d_in**0.5,
                                          torch.randn(n, d_out, 4, generator=gen) * 0.01)})


def test_bucket_loss_is_each_rows_weighted_mean():
    torch.manual_seed(0)
    logp = torch.log_softmax(torch.randn(7, 50), dim=-1)
    blank = Item(ids=[1, 5, 6, 9, 11], first=3, gold=True)  # answer tokens 9, 11
    teacher = Item(ids=[1, 5, 8, 12], first=2, gold=False, topk_ids=torch.tensor([[8, 3], [12, 4]]),
                   topk_logp=torch.log(torch.tensor([[0.7, 0.3], [0.9, 0.1]])))
    bucket = [([1, 2, 3, 4], [0, 1, 2], "text", 0, [2, 3, 4]),
              (blank.ids, [2, 3], "item", 0, blank),
              (teacher.ids, [1, 2], "item", 1, teacher)]
    counts = {(0, "text"): 3, (0, "item"): 2, (1, "item"): 2}
    cfg = RefineConfig(text_weight=0.5, blank_weight=2.0, question_weight=3.0)
    want = (0.5 * F.nll_loss(logp[0:3], torch.tensor([2, 3, 4]), reduction="sum") / 3
            + 2.0 * F.nll_loss(logp[3:5], torch.tensor([9, 11]), reduction="sum") / 2
            - 3.0 * (torch.tensor([[0.7, 0.3], [0.9, 0.1]]) * logp[5:7].gather(-1, teacher.topk_ids)).sum() / 2)
    assert _bucket_loss(logp, bucket, counts, cfg).item() == pytest.approx(want.item(), rel=1e-5)


def test_bucket_loss_reads_token_ids_through_the_shortlist():
    torch.manual_seed(0)
    logp = torch.log_softmax(torch.randn(3, 4), dim=-1)  # columns: token ids 7, 20, 31, 45
    where = torch.full((50,), -1, dtype=torch.long)
    where[torch.tensor([7, 20, 31, 45])] = torch.arange(4)
    teacher = Item(ids=[1, 31, 45], first=1, gold=False, topk_ids=torch.tensor([[31, 7], [45, 20]]),
                   topk_logp=torch.log(torch.tensor([[0.6, 0.4], [0.8, 0.2]])))
    bucket = [([1, 20], [0], "text", 0, [20]), (teacher.ids, [1, 2], "item", 0, teacher)]
    counts = {(0, "text"): 1, (0, "item"): 2}
    cfg = RefineConfig(text_weight=1.0, question_weight=1.0)
    want = -logp[0, 1] - ((0.6 * logp[1, 2] + 0.4 * logp[1, 0]) + (0.8 * logp[2, 3] + 0.2 * logp[2, 1])) / 2
    assert _bucket_loss(logp, bucket, counts, cfg, where).item() == pytest.approx(want.item(), rel=1e-5)


def test_the_shortlist_holds_every_target_and_the_common_ids(tiny):
    model, tok = tiny
    cfg = RefineConfig(vocab_common=10)
    prepared = prepare(model, tok, [TEXT], cfg)
    head = _shortlist(model, prepared, cfg, None)
    targets = set(prepared[0].text_ids) | set(range(10))
    for item in prepared[0].items:
        targets |= set(item.ids) | (set(item.topk_ids.flatten().tolist()) if item.topk_ids is not None else set())
    rows = head.where[0][torch.tensor(sorted(targets))]
    assert (rows >= 0).all(), "every token a target names has a row"
    assert int((head.where[0] >= 0).sum()) == len(targets) == head.weight[0].shape[0], "and nothing else does"
    assert torch.equal(head.weight[0][rows], model.lm_head.weight[torch.tensor(sorted(targets))])
    whole = _shortlist(model, prepared, RefineConfig(vocab_common=-1), None)
    assert whole.where == [None] and whole.weight[0].shape == model.lm_head.weight.shape


def test_each_document_keeps_its_own_shortlist(tiny):
    """A document's list in a batch is the list it has alone: a batch-mate's tokens never join its softmax."""
    model, tok = tiny
    cfg = RefineConfig(vocab_common=10)
    prepared = prepare(model, tok, [TEXT, "Wux Systems has 40 staff. It was founded in 1990 by Ola Brenn."], cfg)
    together = _shortlist(model, prepared, cfg, None, {1: {5000}})
    for d in range(2):
        alone = _shortlist(model, prepared[d:d + 1], cfg, None, {0: {5000}} if d == 1 else {})
        assert torch.equal(together.where[d], alone.where[0]) and torch.equal(together.weight[d], alone.weight[0])
    assert together.where[0][5000] < 0 <= together.where[1][5000]
    assert together.weight[0].shape != together.weight[1].shape, "the two documents' lists differ"


def test_rivals_hold_the_students_own_answers(tiny):
    model, tok = tiny
    cfg = RefineConfig(steps=3, rivals=2)
    prepared = prepare(model, tok, [TEXT], cfg)
    lora = _lora(model)
    rivals = _rivals(model, tok, [_Trainable(lora, cfg, 0)], prepared, cfg, bos_ids(tok), torch.device("cpu"), None)[0]
    item = prepared[0].items[0]
    with torch.no_grad(), applied(model, lora):
        logits = model(input_ids=torch.tensor([item.ids])).logits[0, item.first - 1:len(item.ids) - 1]
    assert set(logits.argmax(-1).tolist()) <= rivals, "the student's greedy answer tokens join the shortlist"
    assert set(logits.topk(2, dim=-1).indices.flatten().tolist()) <= rivals
    assert _rivals(model, tok, [_Trainable(lora, cfg, 0)], prepared, RefineConfig(steps=3, rivals=0), bos_ids(tok),
                   torch.device("cpu"), None) == {}


def test_refinement_lowers_its_own_loss(tiny):
    model, tok = tiny
    cfg = RefineConfig(steps=6, lr=1e-2)
    prepared = prepare(model, tok, [TEXT], cfg)
    assert prepared[0].items, "the document yields refinement items"
    lora = _lora(model)
    _, snaps = refine(model, tok, [lora], prepared, cfg, snapshots=(0, 6))
    gold = [i for i in prepared[0].items if i.gold]
    assert gold, "the document yields fill-in-the-blank items"

    def blank_nll(l):
        from hypernet.distill import pad_rows
        from hypernet.lora import applied
        with torch.no_grad(), applied(model, l):
            total = 0.0
            for item in gold:
                ids, mask = pad_rows([item.ids], tok)
                logits = model(input_ids=ids, attention_mask=mask).logits[0, item.first - 1:-1]
                total += F.cross_entropy(logits.float(), torch.tensor(item.ids[item.first:])).item()
            return total / len(gold)

    assert blank_nll(snaps[6][0][0]) < blank_nll(snaps[0][0][0])


def test_frozen_share_and_b_only_freeze_what_they_say(tiny):
    model, tok = tiny
    n = model.config.num_hidden_layers
    assert n >= 2
    lora = _lora(model)
    cfg = RefineConfig(steps=2, lr=1e-2, frozen_share=(n - 1) / n, train="B")
    out = refine(model, tok, [lora], prepare(model, tok, [TEXT], cfg), cfg)[0][0]
    (a0, b0), (a1, b1) = lora.factors["mlp.down_proj"], out.factors["mlp.down_proj"]
    assert torch.equal(a1, a0.float()), "train=B leaves A as generated"
    assert torch.equal(b1[:n - 1], b0[:n - 1].float()), "the frozen lower layers stay as generated"
    assert not torch.equal(b1[n - 1:], b0[n - 1:].float()), "the layers above them move"


def test_higher_rank_adapters_and_warmup_steps_take_smaller_steps(tiny):
    """Adam's first step moves each entry by about its learning rate: lr_rank scales it by rank, warmup by step."""
    model, tok = tiny
    low, high = _lora(model), concat_ranks([(_lora(model, 1), 1.0), (_lora(model, 2), 1.0)])  # ranks 4 and 8

    def first_move(cfg):
        out = refine(model, tok, [low, high], prepare(model, tok, [TEXT, TEXT], cfg), cfg)[0]
        return [(o.factors["mlp.down_proj"][1] - l.factors["mlp.down_proj"][1].float()).abs().max().item()
                for o, l in zip(out, (low, high))]

    lr = 1e-3
    assert first_move(RefineConfig(steps=1, lr=lr, lr_rank=0, warmup=0)) == pytest.approx([lr, lr], rel=0.05)
    assert first_move(RefineConfig(steps=1, lr=lr, lr_rank=4, warmup=0)) == pytest.approx([lr, lr / 2], rel=0.05)
    assert first_move(RefineConfig(steps=1, lr=lr, lr_rank=0, warmup=3)) == pytest.approx([lr / 4, lr / 4], rel=0.05)
    with pytest.raises(ValueError, match="lr_rank"):
        RefineConfig(lr_rank=-1)


def test_adams_averages_are_the_recipes(tiny):
    """With both of Adam's averages off, every step moves each entry by the learning rate (the sign of its
    gradient); with the recipe's averages an entry whose gradient changed moves by another amount."""
    model, tok = tiny
    lora, lr = _lora(model), 1e-3

    def second_moves(cfg):
        _, taken = refine(model, tok, [lora], prepare(model, tok, [TEXT], cfg), cfg, snapshots=(1, 2))
        (one,), _ = taken[1]
        (two,), _ = taken[2]
        return (two.factors["mlp.down_proj"][1] - one.factors["mlp.down_proj"][1]).abs().flatten()

    memoryless = second_moves(RefineConfig(steps=2, lr=lr, lr_rank=0, warmup=0, adam_beta1=0.0, adam_beta2=0.0))
    assert memoryless.median().item() == pytest.approx(lr, rel=0.02)
    averaged = second_moves(RefineConfig(steps=2, lr=lr, lr_rank=0, warmup=0))
    assert (averaged - memoryless).abs().max().item() > 0.2 * lr
    with pytest.raises(ValueError, match="adam_beta1"):
        RefineConfig(adam_beta1=1.0)


def test_a_changed_recipe_changes_the_key():
    assert RefineConfig(steps=0).key() == ""
    assert RefineConfig(steps=5).key() != RefineConfig(steps=5, frozen_share=0.25).key()
    assert RefineConfig(steps=5).key() != RefineConfig(steps=5, adam_beta1=0.9).key()
    with pytest.raises(ValueError, match="frozen_share"):
        RefineConfig(frozen_share=1.0)


@pytest.mark.parametrize("n_tokens", [5, 64, 65, 130, 200])
def test_every_text_window_has_tokens_to_predict(n_tokens):
    cfg = RefineConfig(text_tokens=64)
    prep = Prepared(text_ids=list(range(n_tokens)), items=[], made=0, kept=0)
    windows = [w for step in range(6) for w in _step_rows(prep, step, cfg)[0]]
    assert len(windows) == 6, "a text of one unit gives one window per step"
    assert all(len(w) == min(n_tokens, 64) for w in windows)
    assert set().union(*windows) == set(range(n_tokens)), "the windows cover the whole text"


def test_a_long_document_gets_budgets_in_proportion_to_its_length():
    cfg = RefineConfig(text_tokens=64, unit_tokens=256, items_per_step=2, length_scales="rows")
    n_tokens = 3 * 256 - 10
    assert length_units(n_tokens, cfg) == 3 and length_units(1, cfg) == 1 and length_units(256, cfg) == 1
    items = [Item([1, 2, 3], 2, gold=True) for _ in range(20)]
    prep = Prepared(text_ids=list(range(n_tokens)), items=items, made=0, kept=0, units=3)
    texts, step_items = _step_rows(prep, 0, cfg)
    assert len(texts) == 3 and len(step_items) == 6
    # Four steps of three windows read the whole text (twelve windows of 64 tokens).
    seen = {t for step in range(4) for w in _step_rows(prep, step, cfg)[0] for t in w}
    assert seen == set(range(n_tokens))


def test_length_can_scale_the_steps_instead_of_the_rows(tiny):
    """With length_scales=steps a document of three units takes three times the steps, each of one unit's rows;
    its snapshot at K is taken after its own 3K steps, and a shorter batch-mate stops moving after K."""
    cfg = RefineConfig(steps=2, text_tokens=64, unit_tokens=256, items_per_step=2, length_scales="steps")
    items = [Item([1, 2, 3], 2, gold=True) for _ in range(20)]
    prep = Prepared(text_ids=list(range(3 * 256 - 10)), items=items, made=0, kept=0, units=3)
    rows = [_step_rows(prep, step, cfg) for step in range(7)]
    assert [(len(t), len(i)) for t, i in rows] == [(1, 2)] * 6 + [(0, 0)]
    with pytest.raises(ValueError, match="length_scales"):
        RefineConfig(length_scales="tokens")

    model, tok = tiny
    cfg = RefineConfig(steps=2, questions=2, blanks=2, length_scales="steps",
                       unit_tokens=len(tok(TEXT, add_special_tokens=False).input_ids))
    short, long_ = prepare(model, tok, [TEXT, " ".join([TEXT] * 3)], cfg)
    assert short.units == 1 and long_.units >= 3
    out, snaps = refine(model, tok, [_lora(model), _lora(model, 1)], [short, long_], cfg, snapshots=(1, 2))
    same = [[torch.equal(got.factors["mlp.down_proj"][1], final.factors["mlp.down_proj"][1])
             for got, final in zip(snaps[k][0], out)] for k in (1, 2)]
    assert same == [[False, False], [True, True]], "each document's K=2 snapshot is its final adapter"
    alone = refine(model, tok, [_lora(model)], [short], cfg)[0][0]
    assert torch.allclose(alone.factors["mlp.down_proj"][1], out[0].factors["mlp.down_proj"][1], atol=1e-6)


def test_prepare_asks_more_of_a_longer_document(tiny):
    model, tok = tiny
    cfg = RefineConfig(questions=2, blanks=2, unit_tokens=len(tok(TEXT, add_special_tokens=False).input_ids))
    long_text = " ".join([TEXT] * 4)
    short, long_ = prepare(model, tok, [TEXT, long_text], cfg)
    assert short.units == 1 and long_.units >= 4
    assert sum(i.gold for i in long_.items) == min(cfg.blanks * long_.units, len(self_questions(long_text, 99)))
    assert sum(i.gold for i in short.items) <= cfg.blanks


def test_a_long_documents_items_reach_its_end_and_a_short_ones_start_at_its_start(tiny):
    """More facts than budget: a document of several units is asked about over its whole length
    (spread_items), one of a single unit about its first facts, as before."""
    model, tok = tiny
    names = ["Ostra Mill", "Pell Bridge", "Dunmore Hall", "Kestrel Quay", "Varn Tower", "Lisk Abbey"]
    text = "\n\n".join(f"{name}\nBuilt: {1700 + 10 * i}\nOwner: Family {chr(65 + i)}\nStaff: {20 + i}"
                       for i, name in enumerate(names))
    n_tokens = len(tok(text, add_special_tokens=False).input_ids)

    def asked(cfg, doc):
        prep, = prepare(model, tok, [doc], cfg)
        return prep.units, tok.decode([t for item in prep.items for t in item.ids])
    units, spread = asked(RefineConfig(questions=0, blanks=2, unit_tokens=n_tokens // 3), text)
    _, first = asked(RefineConfig(questions=0, blanks=2, unit_tokens=n_tokens // 3, spread_items=False), text)
    assert units >= 3 and "Lisk Abbey" in spread and "Lisk Abbey" not in first
    _, one_unit = asked(RefineConfig(questions=0, blanks=2, unit_tokens=n_tokens + 1), text)
    assert "Lisk Abbey" not in one_unit and "Ostra Mill" in one_unit


def test_a_question_the_teacher_misses_is_trained_on_its_span_or_dropped(tiny):
    model, tok = tiny  # a random teacher misses nearly every question
    text = "Ostra Mill\nBuilt: 1750\nOwner: Pell Dunmore\n\nOstra Mill was founded in 1750 by Pell Dunmore."
    gold, = prepare(model, tok, [text], RefineConfig(missed_questions="gold"))
    drop, = prepare(model, tok, [text], RefineConfig(missed_questions="drop"))
    assert gold.made > gold.kept == drop.kept
    assert sum(not i.gold for i in drop.items) == drop.kept, "dropped: only the teacher's answers stay"
    assert len(gold.items) == len(drop.items) + gold.made - gold.kept, "kept: every made-up question stays"
    missed = [i for i in gold.items if i.gold][:gold.made - gold.kept]
    assert all(i.topk_ids is None for i in missed)


def test_frozen_below_stops_the_backward_pass_above_those_layers(tiny):
    model, tok = tiny
    n = model.config.num_hidden_layers
    lora = _lora(model)
    a, b = lora.factors["mlp.down_proj"]
    trainable = LoraTensors({"mlp.down_proj": (a.clone().requires_grad_(), b.clone().requires_grad_())})
    needs_grad = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: needs_grad.append(
        (out[0] if isinstance(out, tuple) else out).requires_grad)) for layer in decoder_layers(model)]
    try:
        ids = torch.tensor([tok(TEXT).input_ids])
        with applied(model, trainable, frozen_below=n - 1):
            model(input_ids=ids).logits.sum().backward()
    finally:
        for h in hooks:
            h.remove()
    assert needs_grad == [False] * (n - 1) + [True]
    grad_b = trainable.factors["mlp.down_proj"][1].grad
    assert grad_b[: n - 1].abs().sum() == 0 and grad_b[n - 1].abs().sum() > 0
