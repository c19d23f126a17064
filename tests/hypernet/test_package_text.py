"""Real prose from the installed packages' descriptions, and training documents made of it."""
from hypernet import package_text
from hypernet.package_text import _prose_paragraphs, passages
from hypernet.self_questions import BLANK
from hypernet.train import TrainConfig, document_for_step

README = """<p align="center"><img src="logo.svg"></p>

[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/project/x/)

# Quillkit

Quillkit is a library for binding `ledgers` to [archives](https://example.org/archives). It was
written by Edda Vrane in 2014 at the Ossel Institute and is maintained by **four volunteers**.

```python
import quillkit
quillkit.bind("a", "b")  # a long enough line of code that must never be read as prose, ever, at all
```

    $ pip install quillkit and more words to make this indented block long enough to count here

| option | meaning | default | notes | more | columns | to | pass | the | word | count | test |
"""


def test_only_prose_survives_with_its_markup_removed():
    assert _prose_paragraphs(README) == [
        "Quillkit is a library for binding ledgers to archives. It was written by Edda Vrane in 2014 at "
        "the Ossel Institute and is maintained by four volunteers."]


def test_the_installed_packages_give_passages_of_training_length():
    found = passages()
    assert len(found) >= 50 and len({p.source for p in found}) >= 20
    for p in found:
        assert 60 <= len(p.text.split()) <= 220, p.source
        assert "```" not in p.text and "http://" not in p.text and "https://" not in p.text
    package_text.passages.cache_clear()
    assert package_text.digest(passages()) == package_text.digest(found)  # same packages, same list


def test_a_share_of_training_documents_is_package_prose_with_blanks():
    with_prose = TrainConfig(package_text_prob=1.0, vocab_names=0.0, questions_per_doc=4)
    for step in range(5):
        doc, split = document_for_step(with_prose, step, None)
        assert doc.kind == "package" and split is None and len(doc.qa) == 4
        assert doc.gold_only  # the teacher answers few of these: trained on the gold answers
        flat = " ".join(doc.text.split())
        for qa in doc.qa:
            context = qa.q.removeprefix("Fill in the blank from the text: ")
            assert " ".join(context.replace(BLANK, qa.a).split()) in flat
    without = TrainConfig(package_text_prob=0.0, vocab_names=0.0)
    assert all(document_for_step(without, s, None)[0].kind != "package" for s in range(20))
    assert not any(document_for_step(without, s, None)[0].gold_only for s in range(20))
