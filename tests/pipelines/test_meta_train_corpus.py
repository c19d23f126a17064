"""Corpus training's pieces without models or Ray: the split, the targets, the corpus QA, the decision, the flywheel."""
from __future__ import annotations

import hashlib

import pytest
import torch

from hypernet.lora import LoraTensors
from hypernet.peft_format import to_peft_files
from pipelines.meta_train import corpus as ct
from pipelines.registry import AdapterKey
from pipelines.settings import Settings
from pipelines.snapshot import ingest
from pipelines.versioned_store import now

DOCS = {
    "bridge.txt": "The Tarrow Bridge was opened in 1974. It was built by Wux Systems in Caldenport.",
    "maker.txt": "Mirela Vostrikova was born in Caldenport in 1974. She works as a glassblower.",
    "list.txt": "Record 3: harbour lantern copper meadow violet engine pepper orbit falcon marble.",
}


def _settings(tmp_path) -> Settings:
    return Settings(store=str(tmp_path / "store"), cache_dir=str(tmp_path / "cache"))


def _corpus(tmp_path, settings: Settings) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    ingest(str(folder), "kb", settings.store)


def _publish(settings: Settings, doc_id: str, lineage: dict, base: tuple[str, str] = ("tiny", "r1"),
             refine: str = "") -> None:
    lora = LoraTensors({"mlp.down_proj": (torch.randn(2, 8, 16), torch.randn(2, 4, 8))})
    sha = hashlib.sha256(DOCS[doc_id].encode()).hexdigest()
    key = AdapterKey(doc_id, sha, f"hn-{len(lineage)}", *base, refine=refine)
    ct.registry_of(settings, "kb").publish_many([(key, to_peft_files(lora, base[0]), lineage)], run_id="test")


def test_the_held_out_split_is_a_pure_function_of_the_doc_id():
    ids = [f"doc-{i}" for i in range(4000)]
    held = [i for i in ids if ct.held_out(i, 0.1)]
    assert 0.08 < len(held) / len(ids) < 0.12
    assert held == [i for i in ids if ct.held_out(i, 0.1)]
    assert set(held) <= {i for i in ids if ct.held_out(i, 0.3)}  # a larger share only adds documents
    assert not any(ct.held_out(i, 0.0) for i in ids)


def test_the_split_records_its_held_out_ids(tmp_path):
    settings = _settings(tmp_path)
    _corpus(tmp_path, settings)
    split = ct.split_corpus(settings, "kb", 0.5)
    assert sorted(d["doc_id"] for d in split.train + split.holdout) == sorted(DOCS)
    record = split.record()
    assert record["holdout_ids"] == sorted(d["doc_id"] for d in split.holdout)
    assert record["n_train"] + record["n_holdout"] == 3 and len(record["holdout_digest"]) == 16
    with pytest.raises(FileNotFoundError, match="no snapshot"):
        ct.split_corpus(settings, "other", 0.1)


def test_targets_are_the_latest_adapters_and_a_corpus_without_any_is_refused(tmp_path):
    settings = _settings(tmp_path)
    _corpus(tmp_path, settings)
    docs = [{"doc_id": d, "text": t} for d, t in DOCS.items()]
    with pytest.raises(ValueError, match="has no adapters to train on; run `docpatch patch --corpus kb`"):
        ct.dense_targets(settings, "kb", docs, "tiny", "r1")
    _publish(settings, "bridge.txt", {}, refine="steps=5")  # the pipeline keys a refined adapter by its recipe
    _publish(settings, "maker.txt", {"corpus": "kb"})
    _publish(settings, "list.txt", {}, base=("other-model", "r9"))
    targets = ct.dense_targets(settings, "kb", docs, "tiny", "r1")
    assert sorted(d["doc_id"] for d in targets.docs) == ["bridge.txt", "maker.txt"]
    assert (targets.refined, targets.unrefined, targets.other_base_model, targets.missing) == (1, 1, 1, 0)
    files = ct.adapter_loader(settings, "kb")(targets.docs[0])
    assert set(files) == {"adapter_config.json", "adapter_model.safetensors"}
    assert not ct.is_refined({"lineage": {"refine": {"steps": 0}}}) and ct.is_refined({"lineage": {"refine": True}})


def test_the_corpus_qa_keeps_what_the_teacher_answers_and_drops_empty_documents():
    docs = [{"doc_id": d, "text": t} for d, t in DOCS.items()]
    seen = []

    def teacher(records):
        seen.extend(records)
        return [[i == 0 for i in range(len(r["qa"]))] if r["id"] == "maker.txt" else [False] * len(r["qa"])
                for r in records]

    kept = ct.corpus_qa(docs, 4, teacher)
    assert [r["id"] for r in seen] == ["bridge.txt", "maker.txt"]  # the list yields no natural question
    assert [(r["id"], len(r["qa"])) for r in kept] == [("maker.txt", 1)]
    assert kept[0]["qa"][0] == seen[1]["qa"][0]


def test_a_corpus_qa_with_a_limit_judges_only_the_documents_it_needs():
    """The first `limit` documents with a kept question, as without the limit; the teacher judges them in order
    and stops there."""
    docs = [{"doc_id": f"d{i}.txt", "text": DOCS["bridge.txt"]} for i in range(6)]
    seen = []

    def teacher(records):  # answers nothing of d1 and d2
        seen.extend(r["id"] for r in records)
        return [[r["id"] not in ("d1.txt", "d2.txt")] * len(r["qa"]) for r in records]

    kept = ct.corpus_qa(docs, 2, teacher, limit=3)
    assert [r["id"] for r in kept] == ["d0.txt", "d3.txt", "d4.txt"]
    assert seen == ["d0.txt", "d1.txt", "d2.txt", "d3.txt", "d4.txt"]  # d5 never judged
    seen.clear()
    assert ct.corpus_qa(docs, 2, teacher)[:3] == kept and len(seen) == 6


def test_distillation_documents_fall_back_to_gold_blanks():
    docs = ct.distillation_documents([{"doc_id": d, "text": t} for d, t in DOCS.items()], 2)
    by_id = {d["doc_id"]: d for d in docs}
    assert not by_id["bridge.txt"].get("gold_only") and by_id["bridge.txt"]["qa"][0][1] == "1974"
    assert by_id["list.txt"]["gold_only"] and "___" in by_id["list.txt"]["qa"][0][0]


def _evals(corpus_new, corpus_old, generic_new, generic_old, n=10, compatible=True):
    current = {"id": "hn-old", "accuracy": corpus_old, "compatible": compatible}
    return ({"n_questions": n, "checkpoints": {"4": corpus_new}, "current": current},
            {"n_questions": 20, "checkpoints": {"4": generic_new}, "current": {"id": "hn-old", "accuracy": generic_old}})


@pytest.mark.parametrize("scores, register, reason", [
    ((0.5, 0.3, 0.45, 0.5), True, "beats the current hypernetwork on the corpus"),  # 10 % lost: allowed
    ((0.5, 0.3, 0.44, 0.5), False, "loses more than 10% on the generic file"),
    ((0.3, 0.3, 0.9, 0.5), False, "does not beat the current hypernetwork on the corpus"),
])
def test_the_decision_needs_a_corpus_win_within_the_generic_tolerance(scores, register, reason):
    decision = ct.decide("hn-new", *_evals(*scores), 4, tolerance=0.1, force=False)
    assert decision["register"] is register and reason in decision["reason"]
    assert decision["corpus"]["candidate"] == scores[0] and decision["generic"]["current"] == scores[3]


def test_the_decision_without_questions_or_current_and_when_forced():
    empty = ct.decide("hn-new", *_evals(0.0, 0.0, 0.5, 0.5, n=0), 4, 0.1, force=False)
    assert not empty["register"] and "nothing to judge by" in empty["reason"]
    forced = ct.decide("hn-new", *_evals(0.0, 0.0, 0.5, 0.5, n=0), 4, 0.1, force=True)
    assert forced["register"] and forced["reason"].startswith("forced")
    assert ct.decide("hn-new", *_evals(0.0, None, 0.0, None, compatible=False), 4, 0.1, False)["register"]
    assert not ct.decide("hn-old", *_evals(0.9, 0.1, 0.9, 0.1), 4, 0.1, True)["register"]


def test_the_flywheel_counts_refined_adapters_since_the_last_training(tmp_path):
    settings = _settings(tmp_path)
    _corpus(tmp_path, settings)
    assert ct.last_training(settings, "kb") is None
    _publish(settings, "bridge.txt", {}, refine="steps=5")
    _publish(settings, "maker.txt", {})
    assert ct.refined_since(settings, "kb", None) == 1
    started = now()
    ct.record_training(settings, "kb", {"run_name": "r1", "started_at": started})
    ct.record_training(settings, "kb", {"run_name": "r2", "started_at": started})  # replaced, not refused
    assert ct.last_training(settings, "kb")["run_name"] == "r2"
    assert ct.refined_since(settings, "kb", started) == 0
    _publish(settings, "list.txt", {"refine": {"steps": 2}})
    assert ct.refined_since(settings, "kb", started) == 1
