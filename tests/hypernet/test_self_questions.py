"""Fill-in-the-blank items and natural questions made from a document's own sentences."""
import json
import time
from pathlib import Path

from hypernet.self_questions import (BLANK, mixed_questions, natural_questions, question_yield, self_questions,
                                     sentences)

ROOT = Path(__file__).resolve().parents[2]


def test_wrapped_prose_joins_into_sentences_and_record_lines_stand_alone():
    text = ("# Ash Lane\n\nAsking price: 385,000 pounds.\nAgent: Foxley and Marsh.\n\n"
            "The house was built in 1936, on a quiet\nstreet. It has been owned by one family for 41 years.\n"
            "- Viewings on Saturdays.")
    assert sentences(text) == ["Ash Lane", "Asking price: 385,000 pounds.", "Agent: Foxley and Marsh.",
                               "The house was built in 1936, on a quiet street.",
                               "It has been owned by one family for 41 years.", "Viewings on Saturdays."]


def test_option_lines_stand_alone_and_headings_in_capitals_are_left_out():
    text = ("NAME\nmoorctl - assign berths\n\nDESCRIPTION\nmoorctl reads the harbour plan\nand prints berths.\n"
            "OPTIONS (excerpt)\n-d DIRECTORY: base directory of plans\n-q, --quiet: print nothing")
    assert sentences(text) == ["moorctl - assign berths", "moorctl reads the harbour plan and prints berths.",
                               "-d DIRECTORY: base directory of plans", "-q, --quiet: print nothing"]


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
            restored = " ".join((before + item.answer + after).split())
            record, _, line = restored.partition(". ")  # a record's field line comes after the record's name
            assert restored in flat or line in flat and record.lower().removeprefix("the ") in flat.lower(), (doc["id"], item)
        few = self_questions(doc["text"], 4)
        assert few == items[:4]
        assert set(self_questions(doc["text"], 4, spread_out=True)) <= set(self_questions(doc["text"], 1 << 30))
        restored = {item.question.replace(BLANK, item.answer) for item in few}
        assert len(restored) == len(few)  # four sentences, not one asked four times


def test_a_short_budget_covers_every_record_of_a_document():
    """Three records, a budget of six: the questions and blanks are spread over all three, where the
    first six facts would all be about the first record."""
    records = [("Jyrmouth Harriers", ["Stadium: Macoth Park", "Founded: 1893", "Captain: Bilal Davthi",
                                      "Head coach: Diego Hompar", "Capacity: 16,858", "Titles: 27"]),
               ("Diavton Rovers", ["Stadium: Skensin Stadium", "Founded: 1902", "Captain: Amara Skeafean",
                                   "Head coach: Lior Pesk", "Capacity: 9,120", "Titles: 4"]),
               ("Maxshean Peak", ["Height: 3,412 metres", "Rock: andesite", "First climbed: 1804",
                                  "Nearest town: Nurktrivburg", "Range: Oskel Mountains", "Huts: 2"])]
    text = "\n\n".join(name + "\n" + "\n".join(lines) for name, lines in records)

    def records_asked(items):
        return {name for name, lines in records for item in items
                if any(item.answer == line.split(": ")[1] for line in lines)}
    assert records_asked(natural_questions(text, 6, spread_out=True)) == {name for name, _ in records}
    assert records_asked(self_questions(text, 6, spread_out=True)) == {name for name, _ in records}
    assert records_asked(natural_questions(text, 6)) == {"Jyrmouth Harriers"}
    assert records_asked(self_questions(text, 6)) == {"Jyrmouth Harriers"}


def test_records_of_one_kind_are_told_apart_by_name():
    """Two records with the same fields in one document: each field's blank and question names its
    record, and a question the document answers in two ways is not asked."""
    text = ("# Club notes\n\nThe league has two clubs.\n\n"
            "Jyrmouth Harriers\nStadium: Macoth Park\nCaptain: Bilal Davthi\n\n"
            "Diavton Rovers\nStadium: Skensin Stadium\nCaptain: Amara Skeafean")
    blanks = {(item.question.removeprefix("Fill in the blank from the text: "), item.answer)
              for item in self_questions(text, 20)}
    assert ("Jyrmouth Harriers. Stadium: ___", "Macoth Park") in blanks
    assert ("Diavton Rovers. Stadium: ___", "Skensin Stadium") in blanks
    assert not any(context.startswith("Stadium") for context, _ in blanks)
    asks = _asks(text)
    assert ("What is the stadium of Jyrmouth Harriers?", "Macoth Park") in asks
    assert ("Who is the captain of Diavton Rovers?", "Amara Skeafean") in asks
    assert not any(question in ("What is the stadium?", "Who is the captain?") for question, _ in asks)
    one = _asks("Jyrmouth Harriers\nStadium: Macoth Park\nCaptain: Bilal Davthi")
    assert ("What is the stadium?", "Macoth Park") in one  # one record: the short phrasing is no guess


def test_nothing_to_ask_gives_no_items():
    assert self_questions("", 8) == []
    assert self_questions("Hello.", 8) == []
    assert self_questions("Some text about things.", 0) == []


# --- natural questions ------------------------------------------------------------------------

PROSE = ("# The Halden Footbridge\n\n"
         "The Halden Footbridge is a timber footbridge across the River Esk at Halden. It was designed by "
         "the architect Miriam Osei and opened on 3 May 1998 by the Bishop of Carrow. The bridge is 48 metres "
         "long.\n\nIn 2011 the council replaced the deck. About 2,300 people cross the bridge each day. "
         "Its keeper is Tomas Varga. The old ferry, built in 1850, closed in 1997.")
RECORD = ("Orchard Lane Surgery\n"
          "Practice manager: Helen Achterberg\n"
          "Postcode: KT4 9QB\n"
          "Patients: 11,200\n"
          "Opened: 14 March 1986\n"
          "Opening hours: 8:00 to 18:30, Monday to Friday\n"
          "Colours: Blue, White and Gold\n\n"
          "The surgery moved to its present building in 2004.")
LISTED = ("Company overview: Brennick Tools.\n\n"
          "- The company Brennick Tools was established in 1931.\n"
          "- About 640 staff work for Brennick Tools.\n"
          "- Its headquarters sit in the city of Larsby.\n"
          "- Agnes Vell started Brennick Tools with a loan from her uncle.\n"
          "- Its best-selling product is the Brennick K2 saw.")


def _asks(text):
    return {(item.question, item.answer) for item in natural_questions(text, 100)}


def test_prose_gives_when_who_where_and_how_questions():
    asks = _asks(PROSE)
    assert ("Who designed the Halden Footbridge?", "Miriam Osei") in asks
    assert ("When was the Halden Footbridge opened?", "3 May 1998") in asks
    assert ("Who opened the Halden Footbridge?", "Bishop of Carrow") in asks
    assert ("How long is the bridge?", "48 metres") in asks
    assert ("When did the council replace the deck?", "2011") in asks
    assert ("How many people cross the bridge each day?", "2,300") in asks
    assert ("Who is the keeper of the Halden Footbridge?", "Tomas Varga") in asks
    assert ("When was the old ferry built?", "1850") in asks
    assert ("When did the old ferry close?", "1997") in asks
    assert ("In what year did the council replace the deck?", "2011") in asks


def test_record_fields_ask_for_their_values_about_the_record():
    asks = _asks(RECORD)
    assert ("Who is the practice manager of Orchard Lane Surgery?", "Helen Achterberg") in asks
    assert ("Who is the practice manager?", "Helen Achterberg") in asks
    assert ("What is the postcode of Orchard Lane Surgery?", "KT4 9QB") in asks
    assert ("How many patients does Orchard Lane Surgery have?", "11,200") in asks
    assert ("When was Orchard Lane Surgery opened?", "14 March 1986") in asks
    assert ("What are the opening hours of Orchard Lane Surgery?", "8:00 to 18:30") in asks
    assert ("What are the colours of Orchard Lane Surgery?", "Blue, White and Gold") in asks
    assert ("When did the surgery move to its present building?", "2004") in asks


def test_a_list_of_statements_is_read_item_by_item():
    asks = _asks(LISTED)
    assert ("When was the company Brennick Tools established?", "1931") in asks
    assert ("How many staff work for Brennick Tools?", "640") in asks
    assert ("Where do the headquarters of Brennick Tools sit?", "Larsby") in asks
    assert ("Who started Brennick Tools with a loan from her uncle?", "Agnes Vell") in asks
    assert ("What is the best-selling product of Brennick Tools?", "Brennick K2 saw") in asks


def test_biography_asks_birth_and_career():
    text = ("Sofia Marchetti (born 4 May 1958 in Turin) is an Italian architect. She opened her first studio "
            "in Genoa in 1986. Marchetti designed more than 40 public buildings. She lives in Rome.")
    asks = _asks(text)
    assert ("When was Sofia Marchetti born?", "4 May 1958") in asks
    assert ("Where was Sofia Marchetti born?", "Turin") in asks
    assert ("When did Sofia Marchetti open her first studio in Genoa?", "1986") in asks
    assert ("How many public buildings did Marchetti design?", "40") in asks
    assert ("Where does Sofia Marchetti live?", "Rome") in asks


def test_a_participle_after_the_predicate_noun_asks_its_agent():
    """"X is a N operated by Y" with no comma: the ongoing verb is asked in the present, a thing done
    once in the past, and a participle that may describe another noun ("of a man") asks nothing."""
    ferry = _asks("# MV Ostrand\n\nThe MV Ostrand is a passenger ferry operated by the Nordlink Company in Bergen.")
    assert ("Who operates the MV Ostrand?", "Nordlink Company") in ferry
    club = _asks("# Harwell Club\n\nThe Harwell Club is a rowing club in Leeds founded by the engineer Walter Pryce.")
    assert ("Who founded the Harwell Club?", "Walter Pryce") in club
    assert natural_questions("# Tom Reed\n\nTom Reed is the son of a sailor rescued by the Hale lifeboat.", 10) == []


def test_a_title_with_a_full_stop_stays_with_its_name():
    text = "# GEO 101\n\nInstructor: Dr. Anna Lindqvist\nCredits: 3\n\nSymphony No. 4 opens the term. Mr. Brown plays it."
    assert sentences(text) == ["Instructor: Dr. Anna Lindqvist", "Credits: 3",
                               "Symphony No. 4 opens the term.", "Mr. Brown plays it."]
    assert ("Who is the instructor?", "Dr. Anna Lindqvist") in _asks(text)
    assert all(q.answer not in ("Dr", "Mr") for q in self_questions(text, 20))
    assert "Mr. Brown" in {q.answer for q in self_questions(text, 20)}


def test_sentences_that_do_not_parse_cleanly_ask_nothing():
    """Negations, fragments and subordinate clauses are left to the blanks."""
    assert natural_questions("The museum did not open in 1990. The archive never closed in 2001.", 10) == []
    # a fragment: "built" is a participle, so "When did a house build?" would be nonsense
    assert natural_questions("A three-bedroom house built in 1936, on a quiet street.", 10) == []
    assert natural_questions("Records show that the town received its charter in 1725.", 10) == []
    assert natural_questions("Ecology: the frog lives in bromeliads, laying 20 to 40 eggs in the water.", 10) == [] \
        or all("ecology" not in q.question.lower() for q in natural_questions(
            "Ecology: the frog lives in bromeliads, laying 20 to 40 eggs in the water.", 10))


def _corpus():
    docs = [json.loads(line) for name in ("bench/data/eval_short48.jsonl", "bench/data/eval_mid32.jsonl")
            for line in (ROOT / name).read_text().splitlines()]
    docs += [{"id": p.name, "text": p.read_text()} for p in sorted((ROOT / "pipelines/sample_corpus/docs").iterdir())]
    return docs + [{"id": "prose", "text": PROSE}, {"id": "record", "text": RECORD}, {"id": "list", "text": LISTED}]


def test_every_natural_answer_is_a_verbatim_span_that_the_question_does_not_give_away():
    total = 0
    for doc in _corpus():
        items = natural_questions(doc["text"], 1000)
        total += len(items)
        for item in items:
            assert item.answer and item.answer in doc["text"], (doc["id"], item)
            assert item.answer == item.answer.strip() and "\n" not in item.answer, (doc["id"], item)
            q, a = f" {_norm(item.question)} ", f" {_norm(item.answer)} "
            assert a not in q, (doc["id"], item)
            assert item.question.endswith("?") and item.question[0].isupper() and BLANK not in item.question
            assert len(item.answer.split()) <= 8 and len(item.question.split()) <= 28, (doc["id"], item)
            assert item.form in ("field", "when", "who", "where", "how", "what"), item
        assert len({item.question for item in items}) == len(items), doc["id"]
    assert total >= 400  # the rules fire across the shipped documents, not on a handful


def _norm(text):
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def test_natural_questions_are_deterministic_and_respect_the_limit():
    for doc in _corpus():
        full = natural_questions(doc["text"], 1000)
        assert natural_questions(doc["text"], 1000) == full
        for limit in (0, 1, 3, 8):
            few = natural_questions(doc["text"], limit)
            assert len(few) == min(limit, len(full)) and few == full[:limit], doc["id"]
            spread = natural_questions(doc["text"], limit, spread_out=True)
            assert len(spread) == len(few) and set(spread) <= set(full), doc["id"]
    # first phrasings come before second ones: with a short limit, seven facts, not four asked twice
    first = natural_questions(RECORD, 7)
    assert len({item.answer for item in first}) == 7


def test_mixed_questions_interleave_natural_first_and_fill_from_the_other_kind():
    mixed = mixed_questions(PROSE, 10)
    assert len(mixed) == 10
    assert [item.form == "blank" for item in mixed[:6]] == [False, True] * 3
    assert mixed == mixed_questions(PROSE, 10)
    assert mixed_questions(PROSE, 3) == mixed[:3]
    only_blanks = "Some prose about nothing in particular. It rains a lot here and the wind blows."
    assert natural_questions(only_blanks, 5) == []
    assert mixed_questions(only_blanks, 5) == self_questions(only_blanks, 5)
    assert mixed_questions("", 5) == [] and mixed_questions(PROSE, 0) == []


def test_question_yield_counts_what_a_document_offers():
    y = question_yield(PROSE)
    assert y["natural"] == len(natural_questions(PROSE, 10**6)) == sum(y["by_form"].values())
    assert y["blanks"] == len(self_questions(PROSE, 10**6))
    assert y["by_form"]["when"] >= 4 and y["by_form"]["who"] >= 2
    assert y["natural_facts"] == len({item.answer for item in natural_questions(PROSE, 10**6)}) < y["natural"]
    assert question_yield("") == {"sentences": 0, "blanks": 0, "natural": 0, "natural_facts": 0, "by_form": {}}


def test_natural_questions_are_fast_on_a_long_document():
    docs = sorted((ROOT / "pipelines/sample_corpus/docs").iterdir())
    text = "\n\n".join(p.read_text() for p in docs)
    text = " ".join(text.split(" ")[:800])  # about 1,000 tokens
    natural_questions(text, 10**6)
    best = min(_timed(lambda: natural_questions(text, 10**6)) for _ in range(5))
    assert best < 0.05, best


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_record_shapes_ask_for_attributes_bounded_states_and_glossary_entries():
    """Reference data is written in shapes the clause rules do not read: an attribute and its
    value, a state bounded by a date, and "term: what it does" lines."""
    text = ("Harbour registry (an excerpt)\n\n"
            "The Morwenna has the call sign MZQT4 and the hull number 5521.\n"
            "Pelk Point is a lighthouse with the light code FL-W3.\n\n"
            "Port Ardane is a harbour town of the western coast. Its tide history, oldest first:\n"
            "Until 1931 it used the Ardane datum, later abandoned.\n"
            "Since 1931 it has used chart datum CD-2 (metric).\n\n"
            "Options\n"
            "-q, --quiet: Print nothing but errors.\n"
            "-m, --mooring-file name: read the berths from a file\n"
            "--prefix=: Only list vessels with the given prefix.\n"
            "moor(vessel, berth=None): Return the berth assigned to a vessel.\n")
    asked = {item.question: item.answer for item in natural_questions(text, 64)}
    assert asked["Which call sign does the Morwenna have?"] == "MZQT4"
    assert asked["What is the hull number of the Morwenna?"] == "5521"
    assert asked["Which lighthouse has the light code FL-W3?"] == "Pelk Point"
    assert asked["Which light code does Pelk Point have?"] == "FL-W3"
    assert asked["What did Port Ardane use until 1931?"] == "Ardane datum"
    assert asked["Since when has Port Ardane used chart datum CD-2?"] == "1931"
    assert asked["Which option prints nothing but errors?"] == "--quiet"
    assert asked["What does --quiet do?"] == "Print nothing but errors"
    assert asked["Which option reads the berths from a file?"] == "--mooring-file", "a lower-case argument and description"
    assert asked["What does --prefix do?"] == "Only list vessels with the given prefix"
    assert asked["Which function returns the berth assigned to a vessel?"] == "moor"
    # a superlative is no attribute, and a pronoun lead-in is no subject
    plain = natural_questions("The Morwenna has the largest hold in the fleet. Its crew has the rank order.", 16)
    assert not [item for item in plain if item.form == "attribute"]
    # a pronoun subject is asked about by the topic's name, and never given as an answer
    pronoun = {item.question: item.answer for item in natural_questions(
        "Pelk Point is a lighthouse of the north shore. It is a beacon with the light code FL-W3.", 16)}
    assert pronoun.get("Which light code does Pelk Point have?") == "FL-W3" and "It" not in pronoun.values()
