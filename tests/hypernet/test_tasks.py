"""Text-to-LoRA task data: every checker tells a followed task from a broken one, the eval split's families
and wordings never reach training, tasks are reproducible from their seed and survive a JSONL round trip."""
import random
import re
import string

import pytest

from hypernet.prompts import clean_task_output, task_context_prompt, task_student_prompt
from hypernet.tasks import FAMILY_BY_NAME, TASK_FAMILIES, TaskExample, families_for, make_task, read_jsonl, write_jsonl
from hypernet.tasks.checks import in_language, json_with_keys, language_votes

# family: (params, outputs that follow the task, outputs that do not)
CASES = {
    "upper_case": ({}, ["THE TIDE RISES TWICE A DAY.", "OK"], ["The tide rises twice a day.", "1234", ""]),
    "lower_case": ({}, ["the tide rises twice a day."], ["the Tide rises twice a day.", "42"]),
    "title_case": ({}, ["The Tide Rises Twice A Day.", "Water (Daily) And Sun"],
                   ["The tide rises twice a day.", "THE TIDE RISES", "Tide"]),
    "prefix": ({"prefix": "TL;DR:"}, ["TL;DR: plant them in spring.", "  TL;DR:plant in spring"],
               ["Plant them in spring. TL;DR:", "TL;DR:", "tl;dr: plant them in spring."]),
    "sign_off": ({"persona": "Captain Mira", "sign_off": "Fair winds, Captain Mira"},
                 ["Keep the herbs in water.\n\nFair winds, Captain Mira", "Sail at dawn. Fair winds, Captain Mira."],
                 ["Fair winds, Captain Mira. Keep the herbs in water.", "Fair winds, Captain Mira",
                  "Keep the herbs in water. Captain Mira"]),
    "end_tag": ({"tag": "[END]"}, ["Done for today. [END]", "Done.\n[END]"], ["[END] Done for today.", "[END]",
                                                                             "Done for today. [end]"]),
    "wrap": ({"open": "<<", "close": ">>"}, ["<<It rains.>>", " << It rains. >> "],
             ["It rains.", "<<It rains.", "<<>>", "<< >>", "It <<rains>>."]),
    "bullets": ({"items": 3}, ["- water\n- light\n- soil", "- water\n\n- light\n- soil\n"],
                ["- water\n- light", "1. water\n2. light\n3. soil", "Here you go:\n- water\n- light\n- soil",
                 "-water\n-light\n-soil"]),
    "numbered_list": ({"items": 2}, ["1. water\n2. light"],
                      ["1. water\n3. light", "- water\n- light", "1. water", "2. water\n1. light", "1.\n2. light"]),
    "max_words": ({"limit": 5}, ["Plant them in spring.", "Spring."],
                  ["Plant them early in the spring season.", "", "   "]),
    "french": ({"language": "French"}, ["Il faut arroser les plantes tous les jours et les mettre au soleil.",
                                        "Oui, c'est possible."],
               ["You should water the plants every day and keep them in the sun.",
                "Riega las plantas todos los días y ponlas al sol, es muy fácil.", "Non."]),
    "spanish": ({"language": "Spanish"}, ["Riega las plantas todos los días y ponlas al sol, es muy fácil."],
                ["Il faut arroser les plantes tous les jours et les mettre au soleil.",
                 "You should water the plants every day."]),
    "json_keys": ({"keys": ["answer", "confidence"]},
                  ['{"answer": "spring", "confidence": 0.8}', '```json\n{"confidence": 1, "answer": "spring"}\n```'],
                  ['{"answer": "spring"}', "answer: spring, confidence: high", '["answer", "confidence"]',
                   '{"answer": "spring", "confidence": 0.8, "why": "rain"}', 'Sure! {"answer": "x", "confidence": 1}']),
    "label": ({"labels": ["bug", "feature request", "documentation"]}, ["feature request", "Bug.", " documentation "],
              ["It is a bug.", "bug, feature request", "question", ""]),
    "number_only": ({}, ["42", "1,250", "-3.5", "7."], ["42 apples", "forty-two", "The answer is 42.", "4 2"]),
    "iso_date": ({}, ["2024-03-05", "1999-12-31."], ["5 March 2024", "2024-02-30", "Date: 2024-03-05", "2024-3-5"]),
    "yes_no": ({}, ["Yes.", "no", "NO!"], ["Yes, because it is late.", "maybe", "yes no"]),
    "unit": ({"unit": "km"}, ["12 km", "3.5km", "1,200 KM"], ["12", "12 kilometres", "about 12 km", "12 kg", "km 12"]),
}


def test_there_are_enough_families_and_each_has_a_hand_written_case():
    assert len(TASK_FAMILIES) >= 12 and any(f.eval_only for f in TASK_FAMILIES)
    assert set(CASES) == set(FAMILY_BY_NAME)


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_accepts_a_followed_task_and_rejects_a_broken_one(name):
    params, good, bad = CASES[name]
    check = FAMILY_BY_NAME[name].check
    assert [o for o in good if not check(o, params)] == []
    assert [o for o in bad if check(o, params)] == []


def test_language_vote_counts_only_one_languages_own_words():
    votes = language_votes("Il est très content, c'est vrai.")  # "c'est" splits into "c" and "est"
    assert votes == {"english": 0, "french": 4, "spanish": 0}  # il, est, très, est
    mixed = "The plants are dans le jardin et the sun is warm"
    assert not in_language(mixed, {"language": "French"})
    assert not json_with_keys("not json at all {", {"keys": ["a"]})


def _pattern(template: str) -> re.Pattern:
    """A template as a regex: its fixed text literally, every slot as some text."""
    parts = [re.escape(text) + ("(.+)" if slot is not None else "")
             for text, slot, _, _ in string.Formatter().parse(template)]
    return re.compile("".join(parts), re.S)


EVAL_TEMPLATES = [t for f in families_for("eval") for t in f.wordings("eval")]
TRAIN_TEMPLATES = [t for f in families_for("train") for t in f.wordings("train")]


def test_eval_wordings_are_not_training_wordings_of_any_family():
    assert not set(EVAL_TEMPLATES) & set(TRAIN_TEMPLATES)
    eval_only = {f.name for f in TASK_FAMILIES if f.eval_only}
    assert eval_only and not eval_only & {f.name for f in families_for("train")}
    with pytest.raises(ValueError, match="eval-only"):
        FAMILY_BY_NAME[sorted(eval_only)[0]].wordings("train")


def test_training_never_draws_an_eval_family_or_wording():
    eval_patterns = [_pattern(t) for t in EVAL_TEMPLATES]
    eval_only = {f.name for f in TASK_FAMILIES if f.eval_only}
    train = [make_task(seed, "train") for seed in range(1500)]
    assert {t.family for t in train} == {f.name for f in families_for("train")}  # every training family drawn
    assert not {t.family for t in train} & eval_only
    seen = [t.description for t in train if any(p.fullmatch(t.description) for p in eval_patterns)]
    assert seen == []


def test_eval_draws_every_family_in_eval_wordings_only():
    train_patterns = [_pattern(t) for t in TRAIN_TEMPLATES]
    tasks = [make_task(seed, "eval") for seed in range(1500)]
    assert {t.family for t in tasks} == set(FAMILY_BY_NAME)
    for t in tasks:
        assert any(_pattern(w).fullmatch(t.description) for w in FAMILY_BY_NAME[t.family].wordings("eval")), t
        assert not any(p.fullmatch(t.description) for p in train_patterns), t.description


def _values(params: dict) -> list[str]:
    return [str(v) for key, value in params.items() if key != "persona"  # a persona only colours the wording
            for v in (value if isinstance(value, list) else [value])]


@pytest.mark.parametrize("family", TASK_FAMILIES, ids=lambda f: f.name)
def test_every_wording_names_the_params_its_checker_reads(family):
    rng = random.Random(3)
    for template in family.descriptions:
        for _ in range(5):
            params = family.params(rng)
            description = family.describe(template, params)
            assert all(v in description for v in _values(params)), (description, params)


def test_the_same_seed_gives_the_same_task():
    for split in ("train", "eval"):
        assert [make_task(s, split) for s in range(30)] == [make_task(s, split) for s in range(30)]
        assert make_task(random.Random(11), split) == make_task(11, split)
    tasks = [make_task(s) for s in range(50)]
    assert len({t.id for t in tasks}) == 50 and len({t.description for t in tasks}) > 25
    rng = random.Random(5)
    assert make_task(rng) != make_task(rng)  # one generator goes on to new tasks


def test_tasks_have_distinct_inputs_and_an_id_naming_split_and_family():
    for seed in range(200):
        t = make_task(seed, "eval" if seed % 2 else "train", n_inputs=3)
        assert len(t.inputs) == 3 and all(t.inputs) and len(set(t.inputs)) == 3, t
        assert t.id.startswith(f"{t.split}-{t.family}-")


def test_make_task_refuses_an_eval_family_for_training_and_unknown_splits():
    assert make_task(0, "eval", family="spanish").family == "spanish"
    with pytest.raises(ValueError, match="not one the train split uses"):
        make_task(0, "train", family="spanish")
    with pytest.raises(ValueError, match="split must be one of"):
        make_task(0, "test")


def test_jsonl_round_trip(tmp_path):
    tasks = [make_task(s, split) for s in range(40) for split in ("train", "eval")]
    tasks.append(TaskExample("Réponds en français.", {"language": "French"}, ["Où est la gare ?"], "french", "x-1"))
    path = tmp_path / "tasks.jsonl"
    write_jsonl(tasks, str(path))
    assert read_jsonl(str(path)) == tasks
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(tasks)
    (tmp_path / "bad.jsonl").write_text('{"description": "d", "params": {}, "inputs": [], "family": "haiku"}\n')
    with pytest.raises(ValueError, match="unknown task family 'haiku'"):
        read_jsonl(str(tmp_path / "bad.jsonl"))


def test_a_read_task_checks_outputs_with_its_family():
    task = make_task(0, "train", family="label")
    assert task.check(task.params["labels"][0]) and not task.check("none of them")


def test_task_prompts_put_the_description_where_the_document_goes():
    student = task_student_prompt("  What is 2 plus 2? ")
    assert student == "Input: What is 2 plus 2?\nOutput:"
    teacher = task_context_prompt("Answer with a number only. ", "What is 2 plus 2?")
    assert teacher == "Answer with a number only.\n\n" + student
    assert "number" not in student


def test_clean_task_output_keeps_every_line_until_the_model_starts_a_new_example():
    assert clean_task_output(" - water\n- light\n\nInput: How do I\nOutput: - x") == "- water\n- light"
    assert clean_task_output("Sure.\n\nFair winds, Captain Mira\n") == "Sure.\n\nFair winds, Captain Mira"
    assert clean_task_output("Output: 4") == "Output: 4"  # only a later line ends the output


REPLIES = ["The tomatoes need sun. Water them daily.", "", "?!", "ok", "Line one\nline two, longer", "Paris est belle.",
           "It is 42 km away, near the old harbour, and takes about an hour on foot or a little less by bike."]


@pytest.mark.parametrize("family", [f for f in TASK_FAMILIES if f.reference], ids=lambda f: f.name)
def test_every_reference_output_passes_its_checker(family):
    """The rule-made targets train the task adapters, so each must follow its task, whatever the reply."""
    made = 0
    for seed in range(60):
        task = make_task(seed, "eval" if family.eval_only else "train", family=family.name)
        for reply in REPLIES:
            for x in task.inputs:
                out = task.reference(reply, x)
                if out is not None:
                    made += 1
                    assert task.check(out), (task.params, reply, x, out)
    assert made >= 60 * len(REPLIES)  # a rule that gives up most of the time trains nothing


def test_reference_outputs_keep_the_reply_and_read_the_inputs_date():
    upper = make_task(1, "train", family="upper_case")
    assert upper.reference("Water them daily.", "x") == "WATER THEM DAILY."
    assert upper.reference("  \n", "How tall is it?") == "HOW TALL IS IT?"  # no reply: the input's words
    date = make_task(2, "train", family="iso_date")
    assert date.reference("", "The invoice is dated 3 March 1999.") == "1999-03-03"
    assert date.reference("", "Please note that the audit takes place on February 29, 2001.") is None
    assert date.reference("", "No date here.") is None
    assert make_task(3, "train", family="french").reference("Bonjour", "x") is None  # no rule for a language
