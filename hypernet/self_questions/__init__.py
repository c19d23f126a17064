"""Questions a document asks of itself: fill-in-the-blank items and natural questions.

The `finetune` evaluation mode trains a per-document LoRA on the document alone. Next-token
prediction on the text teaches the facts in the document's own order; it does not teach the
model to give them back after "Question: ... Answer:". These items do, without ever seeing an
eval question: each blanks one span of one sentence (a field's value, a number, a name, the
words that end a sentence) and asks for it in the answering prompt the eval uses.

`natural_questions` asks the same facts the way a reader would ("When was the Tarrow Bridge
opened?", "What is the weight of the Kestrel K7?", "How many staff work for Wux Systems?"): field
lines, dates, counts and measures, agents, places and "its X is Y" sentences become wh-questions in
the answering prompt's own style, each answered by a short verbatim span of the document.
`mixed_questions` interleaves the two kinds; `question_yield` counts what a document offers.

Rule-based on purpose: it must work on any prose or record, in no time, with no model.

Modules, from the bottom up: `words` (word lists) and `verbs` (verb forms), `tokens` and `clause`
(a sentence read as one clause), `phrases` and `subjects` (question text), the rules in `fields`,
`amounts` and `rules`, then `blanks`, `natural` and `combined`.
"""
from hypernet.self_questions.blanks import BLANK, self_questions
from hypernet.self_questions.combined import mixed_questions, question_yield
from hypernet.self_questions.item import SelfQuestion
from hypernet.self_questions.natural import natural_questions
from hypernet.self_questions.sentences import sentences

__all__ = ["BLANK", "SelfQuestion", "mixed_questions", "natural_questions", "question_yield", "self_questions",
           "sentences"]
