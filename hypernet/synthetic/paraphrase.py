"""Training questions in words the templates do not use.

Adapters answer questions in the training templates' words far better than in unseen words, and real
readers ask in their own words, so training also asks through generic forms built from a fact's noun
("What is the birth year of X?") and through frames around any question ("According to the text, ...").
"""
from __future__ import annotations

import random

# Generic forms: {n} the fact's noun, {e} the entity, {v} the value.
GENERIC_STATEMENTS = ["The {n} of {e} is {v}.", "For {e}, the {n} is {v}.", "{v} is the {n} of {e}.",
                      "{e}'s {n} is {v}.", "Records list {v} as the {n} of {e}.", "As for the {n} of {e}, it is {v}."]
GENERIC_QUESTIONS = ["What is the {n} of {e}?", "What is {e}'s {n}?", "Name the {n} of {e}.", "Give the {n} of {e}.",
                     "Tell me the {n} of {e}.", "{e}: what is the {n}?", "Which {n} does the text give for {e}?",
                     "What {n} is listed for {e}?", "The {n} of {e} is what?", "Do you know the {n} of {e}?"]


# Frames around any question; {q} as asked, {lq} with a leading question word lower-cased.
_QUESTION_FRAMES = ["According to the text, {lq}", "Based on the document, {lq}", "{q} Answer briefly.",
                    "Quick question: {q}", "Question: {q}", "I need to know: {lq}", "{q} Just the answer, please.",
                    "From what you read, {lq}"]
_QUESTION_WORDS = {"What", "Who", "Where", "When", "Which", "How", "In", "On", "Why", "Name", "Give", "Tell", "Do"}


def paraphrased_question(rng: random.Random, question: str, noun: str | None, entity: str, held_out: str) -> str:
    """A training question in other words: a generic form from the fact's noun (when it has one)
    and/or a frame around it; never the fact's held-out (eval) question `held_out`."""
    if noun and rng.random() < 0.6:
        generic = rng.choice(GENERIC_QUESTIONS).format(n=noun, e=entity)
        question = generic if generic != held_out else question
    if rng.random() < 0.5:
        first, _, rest = question.partition(" ")
        lowered = first.lower() + " " + rest if first in _QUESTION_WORDS else question
        framed = rng.choice(_QUESTION_FRAMES).format(q=question, lq=lowered)
        question = framed if framed != held_out else question
    return question
