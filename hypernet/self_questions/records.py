"""Questions from the shapes reference data is written in, which the clause rules do not read:
an attribute and its value ("The Nakfa has the alphabetic code ERN and the numeric code 232",
"Andijon is a region with the code UZ-AN"), a state bounded by a date ("Until 1965 it used
UTC-4:30") and glossary lines ("-b, --before DAYS: Print only records older than DAYS",
"median(data): Return the median of numeric data"). Every rule yields (form, question, answer
start, answer end) with offsets into the sentence or line it read, as the clause rules do."""
from __future__ import annotations

import re

from hypernet.self_questions.verbs import PAST, THIRD, guess_base, third_person
from hypernet.self_questions.words import AUX, BAD_PRONOUNS, DET, PREPS

# Nouns whose value is a name or a code whatever it looks like ("the ISO 639-3 code bns").
NAMING_NOUNS = frozenset("code codes number name symbol abbreviation identifier id tag prefix suffix "
                         "alias key version acronym initials".split())
_NOT_ATTR = PREPS | DET | AUX | {"and", "or", "but", "not", "which", "that", "who"}
_NOT_IMPERATIVE = _NOT_ATTR | {"only", "no", "if", "when", "see", "same", "default", "deprecated", "obsolete",
                               "alias", "synonym", "equivalent", "like", "as", "please", "note"}

_POSSESSION = re.compile(r"^(?P<subj>[^,]{1,80}?)(?:, [^,]{1,60},)? (?P<verb>has|had|have) the (?P<rest>.+)$")
_WITH = re.compile(r"^(?P<subj>[^,]{1,80}?) (?P<verb>is|was|are|were) (?:a|an) (?P<kind>[^,]{1,60}?) with the "
                   r"(?P<rest>.+)$")
_BOUNDED = re.compile(r"^(?P<prep>Until|Since|From|Before|After) (?P<date>[^,]{1,30}?\d[^,]{0,20}?),? "
                      r"it (?P<verb>(?:has |had )?[a-z]+) (?P<obj>.+)$")
# An option with its argument in any case ("-xoflen length", "--locale=LOCALE", "--prefix="), and a
# description in either case: man pages write both ways.
_OPTION = r"-{1,2}\w[\w-]*(?:=|[ =][\w<\[][\w<>\[\]_.|-]*)?"
_GLOSSARY = re.compile(rf"^\s*(?P<term>{_OPTION}(?:, {_OPTION})*|[A-Za-z_][\w.]*\([^()]*\)): (?P<desc>[A-Za-z].*)$")


def topic_of(sentence: str) -> str | None:
    """What "it" means after an opening sentence that names its subject and says what it is:
    "America/Curacao is a time zone of ..." -> "America/Curacao"."""
    m = re.match(r"^((?:The )?[A-Z][\w/.'’-]*(?: (?:of |de |the )?[A-Z0-9][\w/.'’-]*){0,5}) (?:is|was) (?:a|an|one) ",
                 sentence)
    return None if m is None else (m.group(1)[:1].lower() + m.group(1)[1:] if m.group(1).startswith("The ")
                                   else m.group(1))


def _after_label(sentence: str) -> tuple[int, str]:
    """The clause after a lead-in that ends in a colon ("Its history, oldest first: Until 1912 it
    kept ..."), with its offset; the whole sentence when there is none."""
    cut = sentence.rfind(": ")
    return (cut + 2, sentence[cut + 2:]) if cut >= 0 else (0, sentence)


def attribute_items(sentence: str, topic: str | None):
    """ "X has the A1 V1, the A2 V2 and the A3 V3." asks "Which A1 does X have?" and "What is the A1
    of X?" for each; "X is a K with the A V." also asks back "Which K has the A V?"."""
    offset, clause = _after_label(sentence)
    m = _POSSESSION.match(clause) or _WITH.match(clause)
    if m is None:
        return
    subj, verb = m.group("subj").strip(), m.group("verb")
    named = subj.lower() not in ("it", "he", "she")  # a pronoun cannot answer the question asked back
    if not named:
        subj = topic
    elif subj.split()[0] == "The":
        subj = "the " + subj[4:]
    if not subj or len(subj.split()) > 8 or any(w.lower() in AUX | BAD_PRONOUNS for w in subj.split()):
        return
    plural, past = verb in ("have", "are", "were"), verb in ("had", "was", "were")
    do = "did" if past else ("do" if plural else "does")
    be = ("were" if plural else "was") if past else ("are" if plural else "is")
    kind = m.groupdict().get("kind")
    start = offset + m.start("rest")
    for part in re.finditer(r"(?:^|,\s+(?:and\s+)?the\s+|\s+and\s+the\s+)(?P<part>[^,]+?)(?=,|\s+and\s+the\s|[.;]?$)",
                            m.group("rest")):
        words = part.group("part").split()
        if not 2 <= len(words) <= 6 or "(" in part.group("part"):
            break
        attr, value = " ".join(words[:-1]), words[-1]
        lows = [w.lower() for w in words[:-1]]
        if any(w in _NOT_ATTR or not re.fullmatch(r"[\w-]+", w) for w in lows) \
                or not re.fullmatch(r"[\w+:./-]*\w", value) \
                or not (re.search(r"[\dA-Z]", value) or lows[-1] in NAMING_NOUNS):
            break
        s = start + part.end("part") - len(value)
        yield "attribute", f"Which {attr} {do} {subj} have?", s, s + len(value)
        yield "attribute", f"What {be} the {attr} of {subj}?", s, s + len(value)
        if kind and named and len(kind.split()) <= 4:
            a = offset + m.start("subj")
            yield "attribute", f"Which {kind} {'had' if past else 'has'} the {attr} {value}?", a, a + len(m.group("subj"))


def bounded_items(sentence: str, topic: str | None):
    """ "Until 1965 it used UTC-4:30 (standard time)." asks "What did <topic> use until 1965?" and
    "Until when did <topic> use UTC-4:30?"; "Since 1965 it has used ..." asks in the perfect."""
    offset, clause = _after_label(sentence)
    m = _BOUNDED.match(clause)
    if m is None or not topic:
        return
    verbs = m.group("verb").split()
    perfect = len(verbs) == 2
    base = PAST.get(verbs[-1]) or guess_base(verbs[-1])
    if base is None:
        return
    obj = m.group("obj")
    cut = re.search(r"\s\(|,\s|;\s|\.\s*$|\s(?:abbreviated|which|when|until|since)\s", obj)
    answer = obj[:cut.start()] if cut else obj
    if not 1 <= len(answer.split()) <= 6:
        return
    prep = m.group("prep").lower()
    date = m.group("date")
    s = offset + m.start("obj")
    if perfect:
        what, when = f"What has {topic} {verbs[-1]} {prep} {date}?", f"{m.group('prep')} when has {topic} {verbs[-1]} {answer}?"
    else:
        what, when = f"What did {topic} {base} {prep} {date}?", f"{m.group('prep')} when did {topic} {base} {answer}?"
    yield "bounded", what, s, s + len(answer)
    yield "bounded", when, offset + m.start("date"), offset + m.end("date")


def glossary_items(line: str):
    """ "-b, --before DAYS: Print only records older than DAYS." asks "Which option prints only
    records older than DAYS?" (the long name answers) and "What does --before do?";
    "median(data): Return the median." asks "Which function returns the median?"."""
    m = _GLOSSARY.match(line)
    if m is None:
        return
    term, desc = m.group("term"), m.group("desc")
    first = re.match(r"[^.;]+", desc).group().strip()
    if m.group("term").lstrip().startswith("-"):
        names = [re.match(r"-{1,2}[\w-]+", t).group() for t in term.split(", ")]
        name = max(names, key=len)
        noun = "option"
    else:
        name = term[:term.index("(")]
        noun = "function"
    offset = m.start("term") + term.index(name)
    verb, _, rest = first.partition(" ")
    low = verb.lower()
    if rest and low.isalpha() and low not in _NOT_IMPERATIVE:
        third = low if low in THIRD or (low.endswith("s") and not low.endswith("ss")) else third_person(low)
        yield "glossary", f"Which {noun} {third} {rest}?", offset, offset + len(name)
    asked = name + ("()" if noun == "function" else "")
    yield "glossary", f"What does {asked} do?", m.start("desc"), m.start("desc") + len(first)
