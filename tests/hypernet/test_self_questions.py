"""Fill-in-the-blank items the gradient baseline makes from a document's own sentences."""
import json
from pathlib import Path

from hypernet.self_questions import BLANK, self_questions, sentences

ROOT = Path(__file__).resolve().parents[2]


def test_wrapped_prose_joins_into_sentences_and_record_lines_stand_alone():
    text = ("# Ash Lane\n\nAsking price: 385,000 pounds.\nAgent: Foxley and Marsh.\n\n"
            "The house was built in 1936, on a quiet\nstreet. It has been owned by one family for 41 years.\n"
            "- Viewings on Saturdays.")
    assert sentences(text) == ["Ash Lane", "Asking price: 385,000 pounds.", "Agent: Foxley and Marsh.",
                               "The house was built in 1936, on a quiet street.",
                               "It has been owned by one family for 41 years.", "Viewings on Saturdays."]


def test_blanks_take_values_numbers_names_and_endings():
    text = ("Length: 1,155 km\nSince last year, Lena Naxbrouvgian has been chief executive of Wux Systems. "
            "Most of its revenue comes from textile dyes.")
    items = {item.answer: item.question for item in self_questions(text, 20)}
    assert items["1,155 km"] == f"Fill in the blank from the text: Length: {BLANK}"
    assert items["Lena Naxbrouvgian"].endswith(f"Since last year, {BLANK} has been chief executive of Wux Systems.")
    assert items["textile dyes"].endswith(f"Most of its revenue comes from {BLANK}.")
    assert "Since" not in items and "Most" not in items  # a sentence's capitalised first word is no name


def test_every_item_is_answered_by_its_own_sentence_and_the_limit_holds():
    """On every eval document shipped, each item restores a sentence of the document, and a short
    limit still spreads over the document instead of asking one sentence many times."""
    lines = (ROOT / "bench/data/eval_short48.jsonl").read_text().splitlines()
    lines += (ROOT / "pipelines/sample_corpus/questions.jsonl").read_text().splitlines()
    for doc in map(json.loads, lines):
        flat = " ".join(doc["text"].split())
        items = self_questions(doc["text"], 16)
        assert 3 <= len(items) <= 16, doc["id"]
        for item in items:
            context = item.question.removeprefix("Fill in the blank from the text: ")
            assert context.count(BLANK) == 1 and item.answer
            before, after = context.split(BLANK)
            assert " ".join((before + item.answer + after).split()) in flat, (doc["id"], item)
        few = self_questions(doc["text"], 4)
        assert few == items[:4]
        restored = {item.question.replace(BLANK, item.answer) for item in few}
        assert len(restored) == len(few)  # four sentences, not one asked four times


def test_nothing_to_ask_gives_no_items():
    assert self_questions("", 8) == []
    assert self_questions("Hello.", 8) == []
    assert self_questions("Some text about things.", 0) == []
