"""The synthetic data keeps eval phrasing and kinds apart from training."""
import random

from hypernet.synthetic import DOC_KINDS, NamesRandom, make_doc, make_long_doc, paraphrased_question


def test_answers_occur_in_their_documents():
    rng = random.Random(0)
    for split in ("train", "eval"):
        for _ in range(50):
            doc = make_doc(rng, split)
            assert doc.qa and all(qa.a in doc.text for qa in doc.qa)


def test_eval_questions_use_phrasings_training_never_sees():
    rng = random.Random(1)
    train_questions = {qa.q for _ in range(400) for qa in make_doc(rng, "train").qa}
    eval_docs = [make_doc(rng, "eval") for _ in range(100)]
    assert not {qa.q for d in eval_docs for qa in d.qa} & train_questions
    assert {d.kind for d in eval_docs} & {k.name for k in DOC_KINDS if k.eval_only}
    assert not {make_doc(rng, "train").kind for _ in range(200)} & {k.name for k in DOC_KINDS if k.eval_only}


def test_long_documents_collect_questions_from_every_part():
    doc = make_long_doc(random.Random(2), 4)
    assert len(doc.qa) == 8 and doc.text.count("\n\n") >= 3


def test_real_words_replace_that_share_of_invented_names():
    words = ("Corinth", "Heine", "Renault", "Boyle")
    docs = [make_doc(NamesRandom(i, words, share=1.0), "train") for i in range(40)]
    assert all(qa.a in d.text for d in docs for qa in d.qa)  # answers still occur in their documents
    with_words = sum(any(w in d.text for w in words) for d in docs)
    assert with_words >= 30, with_words
    # Without words it is a plain seeded Random: the documents of earlier runs are unchanged.
    assert [make_doc(NamesRandom(i), "train") for i in range(5)] == [make_doc(random.Random(i), "train") for i in range(5)]
    mixed = [make_doc(NamesRandom(i, words, share=0.5), "train") for i in range(40)]
    assert 0 < sum(any(w in d.text for w in words) for d in mixed) < 40


def test_first_names_also_come_from_the_words():
    from hypernet.synthetic import person_name
    from hypernet.synthetic.words import FIRST_NAMES

    words = ("Corinth", "Heine", "Renault", "Boyle")
    firsts = [person_name(NamesRandom(i, words, share=0.5)).split()[0] for i in range(200)]
    assert 40 < sum(f in words for f in firsts) < 160 and all(f in words or f in FIRST_NAMES for f in firsts)
    assert all(person_name(NamesRandom(i)).split()[0] in FIRST_NAMES for i in range(50))


ORIGINAL_KINDS = {"person", "company", "town", "product", "species", "event", "ship", "book"}
EVAL_ONLY = {k.name for k in DOC_KINDS if k.eval_only}
WORDS = ("Corinth", "Heine", "Renault", "Boyle")


def test_new_kinds_are_rich_training_kinds():
    new = [k for k in DOC_KINDS if k.name not in ORIGINAL_KINDS]
    assert len(new) >= 8 and not any(k.eval_only for k in new)
    assert EVAL_ONLY == {"ship", "book"} and len({k.name for k in DOC_KINDS}) == len(DOC_KINDS)
    for kind in new:
        facts = kind.facts(random.Random(0))
        assert 6 <= len(facts) <= 8, kind.name
        for name, f in facts.items():
            assert len(f.statements) >= 4 and len(f.questions) >= 3, (kind.name, name)


def test_new_kinds_bind_several_other_names():
    # With share=1.0 every invented name is the marker word, so marked values are names of other entities.
    new = [k for k in DOC_KINDS if k.name not in ORIGINAL_KINDS]
    named = [sum("Zqx" in f.value for f in k.facts(NamesRandom(0, ("Zqx",), share=1.0)).values()) for k in new]
    assert sum(n >= 2 for n in named) * 2 >= len(new), named


def test_templates_format_and_keep_the_eval_template_apart():
    for seed in range(10):
        for kind in DOC_KINDS:
            for intro in kind.intros:
                intro.format(e="E")
            for name, f in kind.facts(random.Random(seed)).items():
                assert f.value.strip(), (kind.name, name)
                assert len(f.statements) >= 2 and len(f.questions) >= 2, (kind.name, name)
                for s in f.statements:
                    assert "{v}" in s and "V" in s.format(e="E", v="V"), (kind.name, s)
                for q in f.questions:
                    assert "{e}" in q and "{v}" not in q and "E" in q.format(e="E"), (kind.name, q)
                # The eval template must not also be reachable as a train template.
                assert f.statements[-1] not in f.statements[:-1] and f.questions[-1] not in f.questions[:-1]


def test_answers_occur_in_their_documents_for_many_seeds():
    for seed in range(300):
        for split in ("train", "eval"):
            for rng in (random.Random(seed), NamesRandom(seed, WORDS, share=0.5)):
                doc = make_doc(rng, split)
                text = doc.text.lower()
                assert doc.qa and "{" not in doc.text, doc.text
                for qa in doc.qa:
                    assert qa.a and qa.a.lower() in text and "{" not in qa.q, (qa, doc.text)
    for seed in range(20):
        doc = make_long_doc(random.Random(seed), 3, split="train")
        assert all(qa.a.lower() in doc.text.lower() for qa in doc.qa)


def test_documents_are_deterministic_for_a_seed():
    for seed in range(20):
        for split in ("train", "eval"):
            assert make_doc(random.Random(seed), split) == make_doc(random.Random(seed), split)
            assert make_doc(NamesRandom(seed, WORDS), split) == make_doc(NamesRandom(seed, WORDS), split)
        assert make_long_doc(random.Random(seed), 3) == make_long_doc(random.Random(seed), 3)


def test_layouts_include_markdown_articles_and_every_training_kind():
    docs = [make_doc(random.Random(seed), "train") for seed in range(600)]
    markdown = [d for d in docs if d.text.startswith("# ")]
    assert 0.08 * len(docs) < len(markdown) < 0.25 * len(docs), len(markdown)
    assert any("\n## " in d.text for d in markdown) and any("\n## " not in d.text for d in markdown)
    assert all(d.text.split("\n", 1)[0][2:].strip() for d in markdown)  # a title, not an empty heading
    assert sum("\n- " in d.text for d in docs) > 0.05 * len(docs)  # the list layout survives
    assert sum(not d.text.startswith("# ") and "\n- " not in d.text for d in docs) > 0.5 * len(docs)
    assert {d.kind for d in docs} == {k.name for k in DOC_KINDS if not k.eval_only and not k.train_only}


def _mark_last_templates(facts_fn):
    def marked(r):
        facts = facts_fn(r)
        for f in facts.values():
            f.statements = f.statements[:-1] + [f.statements[-1] + " EVALONLY"]
            f.questions = f.questions[:-1] + [f.questions[-1] + " EVALONLY"]
        return facts
    return marked


def test_train_never_uses_eval_only_kinds_or_the_last_template(monkeypatch):
    for kind in DOC_KINDS:
        monkeypatch.setattr(kind, "facts", _mark_last_templates(kind.facts))
    rng = random.Random(7)
    for _ in range(400):
        doc = make_doc(rng, "train")
        assert doc.kind not in EVAL_ONLY
        assert "EVALONLY" not in doc.text and not any("EVALONLY" in qa.q for qa in doc.qa)
    long_doc = make_long_doc(rng, 4, split="train")
    assert "EVALONLY" not in long_doc.text
    eval_docs = [make_doc(rng, "eval") for _ in range(100)]
    assert all("EVALONLY" in qa.q for d in eval_docs for qa in d.qa)
    assert sum("EVALONLY" in d.text for d in eval_docs) > 90


def test_paraphrased_training_questions_stay_answerable_and_apart_from_eval():
    plain = [make_doc(NamesRandom(seed, WORDS), "train") for seed in range(300)]
    para = [make_doc(NamesRandom(seed, WORDS), "train", paraphrase=1.0) for seed in range(300)]
    assert all(qa.a in d.text for d in para for qa in d.qa)
    plain_questions = {qa.q for d in plain for qa in d.qa}
    rewritten = [qa.q for d in para for qa in d.qa if qa.q not in plain_questions]
    assert len(rewritten) > 0.5 * sum(len(d.qa) for d in para), len(rewritten)
    assert sum(d.kind == "record" for d in para) > 5 and not any(d.kind == "record" for d in plain)
    # Never a fact's held-out (eval) question, and never a kind eval draws.
    rng = random.Random(5)
    for kind in DOC_KINDS:
        if kind.eval_only or kind.train_only:
            continue
        for fact in kind.facts(random.Random(0)).values():
            held_out = fact.questions[-1].format(e="Zed")
            for _ in range(40):
                asked = paraphrased_question(rng, fact.questions[0].format(e="Zed"), fact.noun,
                                             "Zed", held_out)
                assert asked != held_out and "Zed" in asked
    assert not any(make_doc(random.Random(s), "eval").kind == "record" for s in range(300))
    long_doc = make_long_doc(random.Random(3), 3, split="train", paraphrase=1.0)
    assert all(qa.a in long_doc.text for qa in long_doc.qa)


def test_every_training_fact_has_a_noun_for_the_generic_questions():
    for kind in DOC_KINDS:
        nouns = [f.noun for f in kind.facts(random.Random(0)).values()]
        if kind.eval_only:  # their facts are asked only in their own templates
            assert not any(nouns), kind.name
        elif not kind.train_only:
            assert all(nouns), kind.name


RECORD_KINDS = {"job", "booking", "case", "trial", "tenancy"}


def test_everyday_record_kinds_are_train_only_and_drawn_with_paraphrases():
    kinds = {k.name: k for k in DOC_KINDS}
    assert RECORD_KINDS <= set(kinds) and all(kinds[n].train_only for n in RECORD_KINDS)
    para = [make_doc(random.Random(seed), "train", paraphrase=0.5).kind for seed in range(600)]
    assert RECORD_KINDS <= set(para)
    # Plain draws and eval draws never see them, so those documents are what they were.
    assert not RECORD_KINDS & {make_doc(random.Random(s), split).kind for s in range(300) for split in ("train", "eval")}


def test_everyday_records_keep_their_people_apart():
    for name in sorted(RECORD_KINDS):
        kind = next(k for k in DOC_KINDS if k.name == name)
        for seed in range(60):
            doc = make_doc(NamesRandom(seed, WORDS, share=0.3), "train", kind=kind, n_questions=8, paraphrase=0.5)
            assert doc.qa and "{" not in doc.text, doc.text
            assert all(qa.a.lower() in doc.text.lower() for qa in doc.qa), doc.text
        assert all(f.noun for f in kind.facts(random.Random(1)).values()), name
        # Two or more names (people, organisations, places) in roles only the text tells apart:
        # with share=1.0 every invented name is the marker word.
        named = sum("Zqx" in f.value for f in kind.facts(NamesRandom(0, ("Zqx",), share=1.0)).values())
        assert named >= 2, (name, named)
