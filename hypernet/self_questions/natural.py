"""Natural questions about a document: its units are read with the section's subject in mind, and
each rule turns one pattern of a field line or a clause into a wh-question answered by a short
verbatim span. Anything that fits no rule cleanly is left to the blanks: precision over recall,
since a wrong question teaches a wrong answer."""
from __future__ import annotations

import re

from hypernet.self_questions.amounts import how_items
from hypernet.self_questions.clause import parse_clause
from hypernet.self_questions.fields import field_items
from hypernet.self_questions.item import SelfQuestion, answered_twice, within
from hypernet.self_questions.records import attribute_items, bounded_items, glossary_items, topic_of
from hypernet.self_questions.rules import born_items, copula_items, when_items, where_items, who_items
from hypernet.self_questions.sentences import MARKER, PARAGRAPH_END, SENTENCE_END
from hypernet.self_questions.subjects import Context, Doc, person_like, subject_text, title_subject
from hypernet.self_questions.words import TITLE_ABBREVIATIONS, TITLES


FIELD_LABEL = re.compile(r"^[A-Z][\w '/()-]{0,40}:\s+")  # "Head coach: ...", "Built by: ..."


def natural_units(text: str):
    """(sentence, section subject, kind) in order; kind is "heading" for a title or heading,
    "first" for a paragraph's first sentence, else "". The subject comes from the latest title or
    heading. Unlike `sentences`, a list item runs on over its wrapped lines and is split into
    sentences ("2. Equipment. Each employee may claim ..."), and a "Label: ..." line always starts
    a unit of its own."""
    paragraphs = [p for p in PARAGRAPH_END.split(text.strip()) if p.strip()]
    doc_lower = frozenset(re.findall(r"\b[a-z][\w'’-]*", text))
    marked_up = re.search(r"(?m)^\s*#+\s", text) is not None  # with headings, a bare line is a subtitle
    subject = None
    for n, paragraph in enumerate(paragraphs):
        lines = [ln for ln in paragraph.splitlines() if ln.strip()]
        unit: list[str] = []
        fresh = [True]

        def flush():
            joined = " ".join(unit)
            unit.clear()
            for part in SENTENCE_END.split(joined):
                if len(part.split()) >= 2:
                    yield part.strip(), subject, "first" if fresh[0] else ""
                    fresh[0] = False
        for i, line in enumerate(lines):
            heading = re.match(r"^\s*#+\s+(.*)$", line)
            # A title: a heading; a short line with no closing punctuation that opens a paragraph
            # (above a record, or alone); the document's first paragraph when it is one short line;
            # a paragraph's first sentence "Label: Name." ("Club history: Cerhurwick Athletic. ...")
            # With headings, a bare line is a subtitle, unless field lines follow it: a record's name
            record_head = len(lines) > 1 and FIELD_LABEL.match(lines[1]) is not None
            bare = (not marked_up or record_head) and i == 0 and len(line.split()) <= 8 and ": " not in line \
                and not re.search(r"[.!?:;,]\s*$", line) and not MARKER.match(line)
            titled = bare or n == 0 and i == 0 and len(lines) == 1 and len(line.split()) <= 12 and len(paragraphs) > 1
            labelled = i == 0 and re.match(r"^([A-Z][\w ]{0,30}): ([A-Z][^.:]{0,60})\.(?:\s+|$)", line)
            if labelled and len(labelled.group(2).split()) <= 6 and len(labelled.group(1).split()) <= 3 \
                    and labelled.group(2).split()[-1] not in TITLE_ABBREVIATIONS:
                subject = title_subject(labelled.group(0), doc_lower)
                yield labelled.group(0).strip(), subject, "heading"
                line = line[labelled.end():]
                if not line.strip():
                    continue
            elif heading or titled:
                yield from flush()
                title = heading.group(1) if heading else line
                if not title.isupper():  # "DESCRIPTION", "EXIT STATUS": a section of the same thing
                    subject = title_subject(title, doc_lower)
                yield title.strip(), subject, "heading"
                continue
            marked = bool(MARKER.match(line))
            line = MARKER.sub("", line).strip()
            if marked or FIELD_LABEL.match(line):
                yield from flush()
            unit.append(line)
        yield from flush()


def candidates(text: str) -> list[list[SelfQuestion]]:
    """Per fact (one answer span of one sentence), its question variants, in document order."""
    doc = Doc.of(text)
    facts: list[list[SelfQuestion]] = []
    ctx = Context()
    for sentence, subject, kind in natural_units(text):
        if kind == "heading":
            ctx = Context(topic=subject, person=subject if subject and person_like(subject.split()) else None)
            continue
        found: dict[tuple[str, int, int], list[tuple[str, str]]] = {}

        def add(source, items):
            for form, q, s, e in items:
                found.setdefault((source, s, e), []).append((form, q))
        body = sentence
        field = FIELD_LABEL.match(sentence)
        if field:
            add(sentence, field_items(sentence, ctx.topic))
            rest = sentence[field.end():]
            # "Notes: the K7 replaces the K5, which ...": the prose after a label is a sentence too
            body = rest[:1].upper() + rest[1:] if len(rest.split()) > 6 else ""
        cl = parse_clause(body) if body else None
        if cl is not None:
            subj = subject_text(cl, ctx, doc)
            a, b = cl.subj
            names = [t.word for t in cl.toks[a:b]]
            if subj:
                add(body, when_items(cl, subj))
                add(body, where_items(cl, subj))
                add(body, copula_items(cl, subj))
            add(body, who_items(cl, subj))
            add(body, how_items(cl, subj))
            add(body, born_items(cl, subj, " ".join(names) if person_like(names) else None))
            if person_like(names):
                ctx.person = " ".join(w for w in names if w.lower() not in TITLES)
            if (ctx.topic is None or kind == "first") and subj and cl.verb is None and cl.aux \
                    and cl.base == "be" and not cl.extras \
                    and cl.rest < len(cl.toks) and cl.toks[cl.rest].low in ("a", "an", "one") \
                    and all(t.cap for t in cl.toks[a:b] if t.low not in ("the", "of", "and")):
                ctx.topic = subj  # "The Miaxhaix River is a major river.": what "it" means from here on
        add(sentence, attribute_items(sentence, ctx.topic))
        add(sentence, bounded_items(sentence, ctx.topic))
        if ctx.topic is None and kind == "first":
            ctx.topic = topic_of(sentence)  # "America/Curacao is a time zone ...": "it" from here on
        facts += _facts(found, sentence, text)
    for line in text.splitlines():  # glossary lines are read whole: list units run them together
        facts += _facts({(line, s, e): [(form, q)] for form, q, s, e in glossary_items(line)}, line, text)
    return facts


def _facts(found: dict[tuple[str, int, int], list[tuple[str, str]]], sentence: str, text: str) -> list[list[SelfQuestion]]:
    """Per answer span, its good question variants; spans of the sentence itself first."""
    facts = []
    for (source, s, e), variants in sorted(found.items(), key=lambda kv: (kv[0][0] != sentence, kv[0][1])):
        answer = source[s:e].strip()
        if answer.lower().startswith("the "):
            answer = answer[4:]
        items = [SelfQuestion(q, answer, form) for form, q in variants if _good(q, answer, text)]
        if items:
            facts.append(items)
    return facts


def _good(question: str, answer: str, text: str) -> bool:
    """Well-formed, answered by a verbatim span, and not giving the answer away."""
    if not answer or answer not in text or len(answer.split()) > 8 or len(question.split()) > 28:
        return False
    norm_q, norm_a = f" {_normalise(question)} ", f" {_normalise(answer)} "
    return norm_a.strip() != "" and norm_a not in norm_q and "  " not in question and " ?" not in question


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def natural_questions(text: str, limit: int, spread_out: bool = False) -> list[SelfQuestion]:
    """Up to `limit` natural questions about `text`, each answered by a verbatim span of it.

    Each fact's first phrasing comes first, in document order; second phrasings ("What is the
    weight?" beside "What is the weight of the K7?", "In what year ...?" beside "When ...?") fill
    what is left of the limit. When the document has more facts than the limit, the first
    phrasings asked are its first facts, or with `spread_out` are taken evenly over it. An
    answer is asked for twice at most, and a question the document answers in two ways not at
    all. Deterministic."""
    facts = candidates(text)
    ambiguous = answered_twice((item.question, item.answer) for variants in facts for item in variants)
    rounds: list[list[SelfQuestion]] = []
    seen: set[str] = set()
    asked: dict[str, int] = {}
    for round_ in range(max((len(f) for f in facts), default=0)):
        rounds.append([])
        for variants in facts:
            if round_ >= len(variants):
                continue
            item = variants[round_]
            if item.question in seen or item.question in ambiguous or asked.get(item.answer, 0) >= 2:
                continue
            seen.add(item.question)
            asked[item.answer] = asked.get(item.answer, 0) + 1
            rounds[-1].append(item)
    return within(rounds, limit, spread_out)
