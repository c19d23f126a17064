"""Prompt formats shared by meta-training, evaluation and serving (they must agree)."""
from __future__ import annotations

import re
import string


def question_prompt(question: str) -> str:
    """The student's prompt: no document, the adapter carries it."""
    return f"Question: {question.strip()}\nAnswer:"


def context_prompt(document: str, question: str) -> str:
    """The teacher's prompt: the document in the context window."""
    return f"{document.strip()}\n\n{question_prompt(question)}"


def task_student_prompt(input_text: str) -> str:
    """The student's prompt for a task (Text-to-LoRA): the input alone, the adapter carries the task."""
    return f"Input: {input_text.strip()}\nOutput:"


def task_context_prompt(description: str, input_text: str) -> str:
    """The teacher's prompt for a task: its description where a document would be, then the input."""
    return f"{description.strip()}\n\n{task_student_prompt(input_text)}"


# The line openings with which a model starts a turn of its own after a task's output, and after an answer.
TASK_TURNS = ("Input:", "Output:")
QUESTION_TURNS = ("Question:", "Answer:")


def clean_task_output(generated: str, turns: tuple[str, ...] = TASK_TURNS) -> str:
    """A task's output may span lines (a list, JSON, a sign-off): keep all of it up to the line where the
    model starts a new example of its own (a later line opening with one of `turns`: "Input:" or "Output:"
    after a task prompt, "Question:" or "Answer:" after a question prompt), without the white space around it."""
    kept = []
    for i, line in enumerate(generated.strip().split("\n")):
        if i and line.lstrip().startswith(turns):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def clean_answer(generated: str) -> str:
    """Keep the first line of a generated answer (the model tends to run on with new questions)."""
    return generated.strip().split("\n", 1)[0].strip()


_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def normalise_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse spaces (SQuAD-style)."""
    text = _PUNCT.sub(" ", text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def is_correct(generated: str, gold: str) -> bool:
    """A question counts as answered when the normalised gold answer appears in the answer."""
    g = normalise_answer(gold)
    return bool(g) and g in normalise_answer(clean_answer(generated))


def token_f1(generated: str, gold: str) -> float:
    """SQuAD token-F1 between the normalised answer's first line and the normalised gold answer."""
    pred, ref = normalise_answer(clean_answer(generated)).split(), normalise_answer(gold).split()
    common = sum(min(pred.count(w), ref.count(w)) for w in set(ref))
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
