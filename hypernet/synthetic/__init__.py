"""Synthetic meta-training documents with questions: invented entities, varied prose and layout.

Each document kind lists its facts; every fact has several ways to be written and several
ways to be asked. A split ("train" or "eval") picks disjoint sentence templates, question
templates and two document kinds that only the eval split uses, so evaluation measures
generalisation to unseen prose, unseen questions and unseen entities, not memorisation.

Modules: `words` (word lists), `names` and `values` (invented names and values), `fact` and the
`facts_*` modules (each kind's facts, each fact carrying its own noun for the generic questions),
`kinds` (the kinds), `paraphrase` (questions in other words) and `documents` (the documents).
"""
from hypernet.synthetic.documents import QA, SyntheticDoc, make_doc, make_long_doc, write_jsonl
from hypernet.synthetic.fact import Fact
from hypernet.synthetic.kinds import DOC_KINDS, DocKind
from hypernet.synthetic.names import NamesRandom, org_name, person_name, place_name
from hypernet.synthetic.paraphrase import paraphrased_question
from hypernet.synthetic.values import date_str

__all__ = ["DOC_KINDS", "QA", "DocKind", "Fact", "NamesRandom", "SyntheticDoc", "date_str", "make_doc", "make_long_doc",
           "org_name", "paraphrased_question", "person_name", "place_name", "write_jsonl"]
