"""Fill-in-the-blank items: each blanks one span of one sentence (a field's value, a number, a name,
the words that end a sentence) and asks for it."""
from __future__ import annotations

import re

from hypernet.self_questions.item import SelfQuestion, answered_twice, within
from hypernet.self_questions.natural import natural_units
from hypernet.self_questions.sentences import field_value, sentences
from hypernet.self_questions.words import TITLE_ABBREVIATIONS

BLANK = "___"

_NUMBER = re.compile(r"[$£€]?\d[\d,.]*\d%?|[$£€]?\d%?")
_NAME = re.compile(r"\b(?:(?:" + "|".join(TITLE_ABBREVIATIONS) + r")\.\s+)?"  # "Dr. " stays with its name
                   r"[A-Z][\w'’-]+(?:\s+(?:of|de|da|van|von|del|la|le|and)?\s*[A-Z][\w'’-]+)*")
_ENDING = re.compile(r"(\b[\w'’-]+(?:\s+[\w'’-]+)?)\s*[.!?]?\s*$")
_STOPWORDS = frozenset(
    "a an the of in on at to for by from with and or is are was were be been it its this that these those "
    "as into than then there here which who whom whose what when where why how not no".split())
_MAX_CONTEXT_WORDS = 24  # words kept either side of the blank: long sentences become a window


def _spans(sentence: str) -> list[tuple[int, int]]:
    """Candidate answer spans in one sentence, most answer-like first."""
    value = field_value(sentence)
    if value:  # "Length: 1,155 km": the value is the answer to "what is the length"
        return [value]
    found: list[tuple[int, int]] = [_whole_token(sentence, *m.span()) for m in _NUMBER.finditer(sentence)]
    for m in _NAME.finditer(sentence):
        first_word = m.start() == 0 and " " not in m.group()
        if not first_word and m.group().lower() not in _STOPWORDS:
            found.append(m.span())
    ending = _ENDING.search(sentence)
    if ending:
        start, end = ending.span(1)
        words = sentence[start:end].split()
        while words and words[0].lower() in _STOPWORDS:  # "from ceramic tiles" -> "ceramic tiles"
            start += len(words.pop(0)) + 1
        if words and words[-1].lower() not in _STOPWORDS:
            found.append((start, end))
    kept: list[tuple[int, int]] = []
    for span in found:  # first come, first kept; overlapping later spans dropped
        if all(span[1] <= s or span[0] >= e for s, e in kept):
            kept.append(span)
    return kept


def _whole_token(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Widen a number to the token it sits in ("SEC-1363", "4x4", "10am"), edge punctuation left out."""
    while start > 0 and not sentence[start - 1].isspace() and sentence[start - 1] not in "([\"'":
        start -= 1
    while end < len(sentence) and not sentence[end].isspace():
        end += 1
    while end > start + 1 and sentence[end - 1] in ".,;:!?)]\"'":
        end -= 1
    return start, end


def _blanked(sentence: str, start: int, end: int) -> str | None:
    """The sentence with the span blanked, cut to a window around the blank; None when too little
    context is left to ask about (a line that is nothing but the answer)."""
    before = " ".join(sentence[:start].split()[-_MAX_CONTEXT_WORDS:])
    rest = sentence[end:]
    after = " ".join(rest.split()[:_MAX_CONTEXT_WORDS])
    if not re.search(r"\w", before + after):
        return None
    glue_before = "" if start and not sentence[start - 1].isspace() else " "
    glue_after = "" if not after or not rest[:1].isspace() else " "
    return f"{before}{glue_before}{BLANK}{glue_after}{after}".strip()


def self_questions(text: str, limit: int, spread_out: bool = False) -> list[SelfQuestion]:
    """Up to `limit` fill-in-the-blank items from `text`, spread over its sentences.

    Sentences are visited in order, one span each per round, so a limit covers the whole document
    before it asks twice about one sentence; when the document has more sentences than the limit,
    the first round stops partway, or with `spread_out` is taken evenly over them. A record's
    field line is prefixed with the record's name, and a blanked line the document fills in two
    ways is not asked. Deterministic: the same text gives the same items."""
    record_of = _record_of(text)
    per_sentence = [[_item(s, start, end, record_of) for start, end in _spans(s)] for s in sentences(text)]
    ambiguous = answered_twice(item for found in per_sentence for item in found if item)
    rounds: list[list[SelfQuestion]] = []
    seen: set[str] = set()
    asked: dict[str, int] = {}  # the document's own name fills many blanks: ask for it twice at most
    for round_ in range(max((len(found) for found in per_sentence), default=0)):
        rounds.append([])
        for found in per_sentence:
            if round_ >= len(found) or found[round_] is None:
                continue
            blanked, answer = found[round_]
            if blanked in seen or blanked in ambiguous or asked.get(answer, 0) >= 2:
                continue
            seen.add(blanked)
            asked[answer] = asked.get(answer, 0) + 1
            rounds[-1].append(SelfQuestion(f"Fill in the blank from the text: {blanked}", answer))
    return within(rounds, limit, spread_out)


def _record_of(text: str) -> dict[str, str]:
    """Each field line's record name, where the document gives one: "Stadium: ___" alone does not
    say whose stadium, and a document may hold several records of one kind."""
    return {line: subject for line, subject, _ in natural_units(text) if subject and field_value(line)}


def _item(sentence: str, start: int, end: int, record_of: dict[str, str]) -> tuple[str, str] | None:
    """(blanked text, answer) for one span, or None when too little is left to ask about."""
    blanked = _blanked(sentence, start, end)
    if blanked is None:
        return None
    subject = record_of.get(sentence)
    if subject and subject.lower().removeprefix("the ") not in sentence.lower():
        blanked = f"{subject[:1].upper()}{subject[1:]}. {blanked}"
    return blanked, sentence[start:end].strip()
