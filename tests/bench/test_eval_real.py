"""The committed real-text eval file (bench/make_real_eval.py): its shape and its answer spans.

Reads only the committed file, never the sources it was made from (man pages, iso-codes, tzdata,
the Python standard library), so it runs on machines that lack them.
"""
from collections import Counter
from pathlib import Path

import pytest

from hypernet.evaluate import read_eval_file
from hypernet.prompts import normalise_answer

EVAL_REAL = Path(__file__).resolve().parents[2] / "bench" / "data" / "eval_real.jsonl"


@pytest.fixture(scope="module")
def docs():
    return read_eval_file(str(EVAL_REAL))


def test_enough_documents_with_unique_ids(docs):
    assert len(docs) >= 100
    ids = [d["id"] for d in docs]
    assert len(set(ids)) == len(ids)


def test_mixed_sources(docs):
    sources = Counter(d["source"] for d in docs)
    assert len(sources) >= 3, sources
    assert min(sources.values()) >= 10, sources


def test_two_to_four_questions_each(docs):
    for d in docs:
        assert 2 <= len(d["qa"]) <= 4, d["id"]


def test_answers_are_verbatim_short_spans(docs):
    for d in docs:
        for qa in d["qa"]:
            assert qa["a"] in d["text"], (d["id"], qa)
            assert 1 <= len(qa["a"].split()) <= 5, (d["id"], qa)
            # the eval matches normalised substrings: a gold of 1-2 characters would match anything
            assert len(normalise_answer(qa["a"])) >= 3, (d["id"], qa)


def test_no_answer_in_its_question(docs):
    for d in docs:
        for qa in d["qa"]:
            assert qa["a"] not in qa["q"], (d["id"], qa)
            assert normalise_answer(qa["a"]) not in normalise_answer(qa["q"]), (d["id"], qa)
