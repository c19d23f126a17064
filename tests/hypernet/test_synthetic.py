"""The synthetic data keeps eval phrasing and kinds apart from training."""
import random

from hypernet.synthetic import DOC_KINDS, NamesRandom, make_doc, make_long_doc


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
