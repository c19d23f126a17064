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
"""
from __future__ import annotations

import re
from dataclasses import dataclass

BLANK = "___"

# A sentence ends at . ! ? before a space and an upper-case letter, a digit or a quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
_PARAGRAPH_END = re.compile(r"\n\s*\n")
_MARKER = re.compile(r"^\s*(?:[-*•>]|#+|\d+[.)])\s+")  # list, quote and heading markers
_FIELD = re.compile(r"^([A-Z][\w ()/'-]{0,40}):\s+(\S.{0,60}?)[.;]?\s*$")
_MAX_FIELD_WORDS = 6  # a longer "Label: ..." is prose after a label, not a value
_NUMBER = re.compile(r"[$£€]?\d[\d,.]*\d%?|[$£€]?\d%?")
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:of|de|da|van|von|del|la|le|and)?\s*[A-Z][\w'’-]+)*")
_ENDING = re.compile(r"(\b[\w'’-]+(?:\s+[\w'’-]+)?)\s*[.!?]?\s*$")
_STOPWORDS = frozenset(
    "a an the of in on at to for by from with and or is are was were be been it its this that these those "
    "as into than then there here which who whom whose what when where why how not no".split())
_MAX_CONTEXT_WORDS = 24  # words kept either side of the blank: long sentences become a window


@dataclass(frozen=True)
class SelfQuestion:
    question: str
    answer: str
    form: str = "blank"  # which rule made it: "blank", or a natural form ("field", "when", "who", ...)


def _field_value(line: str) -> tuple[int, int] | None:
    """Where the value of a "Label: value" line sits, or None when the line is not one."""
    field = _FIELD.match(line)
    return field.span(2) if field and len(field.group(2).split()) <= _MAX_FIELD_WORDS else None


def sentences(text: str) -> list[str]:
    """Sentences and record lines of a document, markers stripped.

    A list item or a "Label: value" line stands alone; other lines of a paragraph are joined
    first, so prose wrapped at a fixed width reads as whole sentences."""
    units: list[str] = []
    for paragraph in _PARAGRAPH_END.split(text):
        prose: list[str] = []
        for line in paragraph.splitlines():
            marked = bool(_MARKER.match(line))
            line = _MARKER.sub("", line).strip()
            if marked or _field_value(line):
                units += _SENTENCE_END.split(" ".join(prose)) + [line]
                prose = []
            elif line:
                prose.append(line)
        units += _SENTENCE_END.split(" ".join(prose))
    return [u.strip() for u in units if len(u.split()) >= 2]


def _spans(sentence: str) -> list[tuple[int, int]]:
    """Candidate answer spans in one sentence, most answer-like first."""
    value = _field_value(sentence)
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


def self_questions(text: str, limit: int) -> list[SelfQuestion]:
    """Up to `limit` fill-in-the-blank items from `text`, spread over its sentences.

    Sentences are visited in order, one span each per round, so a short limit still covers the
    whole document before it asks twice about one sentence. Deterministic: the same text gives
    the same items."""
    per_sentence = [(s, _spans(s)) for s in sentences(text)]
    items: list[SelfQuestion] = []
    seen: set[str] = set()
    asked: dict[str, int] = {}  # the document's own name fills many blanks: ask for it twice at most
    for round_ in range(max((len(sp) for _, sp in per_sentence), default=0)):
        for sentence, spans in per_sentence:
            if len(items) >= limit:
                return items
            if round_ >= len(spans):
                continue
            start, end = spans[round_]
            blanked, answer = _blanked(sentence, start, end), sentence[start:end].strip()
            if blanked is None or blanked in seen or asked.get(answer, 0) >= 2:
                continue
            seen.add(blanked)
            asked[answer] = asked.get(answer, 0) + 1
            items.append(SelfQuestion(f"Fill in the blank from the text: {blanked}", answer))
    return items


# --------------------------------------------------------------------------------------------
# Natural questions. A sentence is read as tokens and, where it parses, as one clause: an
# optional leading adverbial ("In 2015", "Since last year,"), a subject, a verb group (auxiliaries,
# adverbs, a main verb) and the rest. Each rule below turns one pattern of that clause into a
# wh-question whose answer is a short span of the sentence; anything that does not fit a rule
# cleanly is left to the blanks. Precision over recall: a wrong question teaches a wrong answer.
# --------------------------------------------------------------------------------------------

def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


_MONTHS = _words("january february march april may june july august september october november december "
                 "jan feb mar apr jun jul aug sep sept oct nov dec")
_DAYS = _words("monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays "
               "thursdays fridays saturdays sundays weekend weekends")
_DET = _words("the a an this that these those its her his their our my your each every some any all both "
              "many most several few no another other such")
_AUX = _words("is are was were am be been being has have had will would can could may might must should "
              "shall does do did")
_COPULA = _words("is are was were am be been being")
_NEG = _words("not never no n't nor")
_ADV = _words("also still now first then later already only usually often currently originally recently "
              "once just formally officially finally eventually jointly initially previously mostly mainly "
              "generally typically again later further soon")
_QUANT_WORDS = _words("about around roughly nearly almost over under some only just exactly approximately between")
_QUANT_PAIRS = frozenset({"up to", "at least", "at most", "more than", "fewer than", "less than", "an estimated",
                          "as many", "as much"})
_QUANT = _QUANT_WORDS | _words("more than fewer less up to at least most an estimated")
_PREPS = _words("in on at by for from with to of into onto over under after before during since until per "
                "within across through near via among between against towards toward around about")
_SUBORDINATE = _words("that which who whom whose when where while if because although though as since unless "
                      "whether after before until so than")
_NUMBER_WORDS = _words("two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                       "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                       "hundred dozen")
_COUNT_PLURALS = _words("staff people children men women police cattle sheep fish personnel crew deer")
_MONEY = _words("pounds dollars euros yen francs kronor kroner krona rupees cents pence pound dollar euro "
                "usd gbp eur")
_TIME_UNITS = _words("seconds minutes hours days weeks months years decades centuries second minute hour day "
                     "week month year")
_PERCENT = _words("percent per-cent %")
_UNITS = _words("millimetres millimeters centimetres centimeters metres meters metre meter km kilometres "
                "kilometers kilometre kilometer miles mile feet foot ft inches inch cm mm m kg g grams gram "
                "kilograms kilogram tonnes tonne tons ton lb lbs litres liters litre liter ml hectares hectare "
                "acres acre degrees degree mph km/h knots w kw mw v wh kwh nm lux gb mb tb kb ghz mhz hz "
                "calories kcal mg mcg square cubic storeys stories floors")
_MEASURE_ADJ = _words("long tall high wide deep old thick heavy")
_TITLES = _words("dr dr. mr mr. mrs mrs. ms ms. prof prof. professor captain capt. sir dame chef director "
                 "president judge justice senator lord lady saint st. reverend rev. father sister brother "
                 "king queen prince princess duke duchess general colonel major lieutenant sergeant")
_ORG_WORDS = _words("river bridge street road lane avenue university college school institute institution "
                    "museum church hall club company ltd inc plc group council society association railway "
                    "station park lake mountain mount peak valley island hospital bank systems centre center "
                    "library zoo festival orchestra band team league cup trust foundation agency department "
                    "ministry office court house hotel restaurant theatre theater gallery corporation labs "
                    "press times news journal review market square building tower castle farm harbour harbor "
                    "city town village county state country region district province")
_ROLE_LABELS = _words("author agent instructor teacher lecturer tutor chair chairman chairwoman chairperson "
                      "director manager owner founder president ceo editor publisher architect designer engineer "
                      "assistant contact reviewer coach captain conductor composer maintainer landlord tenant "
                      "applicant judge defendant claimant plaintiff respondent doctor surgeon patient lead officer "
                      "secretary treasurer head principal supervisor organiser organizer host presenter speaker "
                      "artist photographer illustrator translator narrator producer holder mayor minister "
                      "chancellor dean coordinator investigator examiner inspector witness buyer seller vendor "
                      "signatory recipient sender addressee winner leader champion scientist physician executive "
                      "chief member partner wife husband spouse son daughter successor predecessor pilot "
                      "commander skipper curator priest vicar pastor rector bishop governor")
_FIELD_SKIP = _words("note notes warning warnings tip tips re cc bcc ps present absent apologies attendees "
                     "example examples see subject summary")
_SUBJECT_PRONOUNS = _words("we our us you your i my me it them they he she him this these those")
_PARTICLES = _words("after up out off down over into through")
_BAD_PRONOUNS = _words("we our us you your i my me they them their it its she he her his him this these those")
_CLAUSE_BREAK = _words("and but or which who whom whose when where while because although though so that if "
                       "as unless whereas")

# Verbs: base forms, the irregular ones as "base past participle". Forms and lemmas are derived.
_REGULAR = _words(
    "accept achieve acquire add admit adopt agree aim allow announce appear apply appoint approve argue "
    "arrange arrive ask assemble attend attract audition award ban base believe belong book borrow call "
    "capsize carry cause celebrate change charge claim clean climb close coach collect combine commission "
    "compete complete compose conclude conduct connect consider contain continue contribute control convert "
    "cook cost cover create cross damage debut decide declare decline deliver demolish describe design "
    "destroy detect develop die direct discover discuss display divide donate double drain drown earn edit "
    "elect employ enable end enter equip establish estimate examine expand expect explain explore export "
    "extend face fail feature file fill finish fire fix flow follow form found fund gain graduate guide "
    "handle happen head help hire host house identify import improve include increase inherit install "
    "introduce invent invest invite involve issue join judge kill land last launch lift like limit list live "
    "locate look love maintain manage manufacture mark marry match measure merge mine mount move name need "
    "nominate note obtain occupy occur offer open operate order organise organize own paint pass perform pick "
    "place plan plant play point populate post prefer prepare present preserve print produce programme "
    "promote propose protect prove provide publish purchase qualify raise rank reach receive recommend record "
    "recover reduce refer refit refuse register rehearse reject release relocate remain remove rename renovate "
    "rent repair replace report represent request require rescue research reserve resign restore retain "
    "retire return reveal review sail save score seat seem select serve settle ship sign slow sponsor stage "
    "start stay step stop store study submit succeed suffer supervise supply support survive suspend switch "
    "test total tour trade train transfer travel treat try turn unite unveil upgrade use visit vote wait walk "
    "want watch weigh welcome work")
_IRREGULAR = {w[0]: (w[1], w[2]) for w in (line.split() for line in """
    arise arose arisen|bear bore born|beat beat beaten|become became become|begin began begun
    bend bent bent|bite bit bitten|blow blew blown|break broke broken|bring brought brought
    build built built|burn burnt burnt|buy bought bought|catch caught caught|choose chose chosen
    come came come|cut cut cut|deal dealt dealt|dig dug dug|do did done|draw drew drawn
    drink drank drunk|drive drove driven|eat ate eaten|fall fell fallen|feed fed fed|feel felt felt
    fight fought fought|find found found|flee fled fled|fly flew flown|forget forgot forgotten
    freeze froze frozen|get got got|give gave given|go went gone|grow grew grown|hang hung hung
    have had had|hear heard heard|hide hid hidden|hit hit hit|hold held held|keep kept kept
    know knew known|lay laid laid|lead led led|leave left left|lend lent lent|let let let
    lie lay lain|light lit lit|lose lost lost|make made made|mean meant meant|meet met met
    oversee oversaw overseen|pay paid paid|put put put|quit quit quit|read read read
    rebuild rebuilt rebuilt|rewrite rewrote rewritten|ride rode ridden|ring rang rung|rise rose risen
    run ran run|say said said|see saw seen|seek sought sought|sell sold sold|send sent sent
    set set set|shake shook shaken|shoot shot shot|show showed shown|shut shut shut|sing sang sung
    sink sank sunk|sit sat sat|sleep slept slept|speak spoke spoken|spend spent spent|split split split
    spread spread spread|stand stood stood|steal stole stolen|stick stuck stuck|strike struck struck
    swim swam swum|take took taken|teach taught taught|tear tore torn|tell told told|think thought thought
    throw threw thrown|undergo underwent undergone|undertake undertook undertaken|understand understood understood
    wake woke woken|wear wore worn|win won won|withdraw withdrew withdrawn|write wrote written
    """.replace("\n", "|").split("|") if line.strip())}
_DOUBLING = _words("admit ban commit control drop equip occur plan prefer refer refit ship step stop submit "
                   "transfer travel")
_NOT_VERB_ED = _words("red bed hundred need seed shed speed wed sacred naked wicked kindred hatred talented "
                      "skilled beloved aged bred breed proceed exceed succeed indeed feed weed")


def _past_regular(base: str) -> str:
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "o", "u"):
        return base[:-1] + "ied"
    if base in _DOUBLING:
        return base + base[-1] + "ed"
    return base + "ed"


def _third(base: str) -> str:
    if base in ("have", "be"):
        return {"have": "has", "be": "is"}[base]
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "o", "u"):
        return base[:-1] + "ies"
    return base + "s"


_BASES = _REGULAR | frozenset(_IRREGULAR)
_PAST: dict[str, str] = {}  # past tense -> base
_PARTICIPLE: dict[str, str] = {}  # past participle -> base
for _b in _REGULAR:
    _PAST[_past_regular(_b)] = _PARTICIPLE[_past_regular(_b)] = _b
for _b, (_p, _pp) in _IRREGULAR.items():
    _PAST.setdefault(_p, _b)
    _PARTICIPLE.setdefault(_pp, _b)
_PAST.update({"travelled": "travel", "cancelled": "cancel", "labelled": "label", "modelled": "model"})
_PARTICIPLE.update({"travelled": "travel", "cancelled": "cancel", "labelled": "label", "modelled": "model",
                    "gotten": "get", "borne": "bear"})
_THIRD = {_third(b): b for b in _BASES}
_PAST_OF = {b: _IRREGULAR[b][0] if b in _IRREGULAR else _past_regular(b) for b in _BASES}


def _guess_base(past: str) -> str | None:
    """The base of a regular past form outside the lexicon ("renovated" -> "renovate"), or None
    where the spelling leaves it open ("abandoned": "abandon" or "abandone"?)."""
    if not past.endswith("ed") or len(past) < 5 or past in _NOT_VERB_ED:
        return None
    stem = past[:-2]
    if past.endswith("ied"):
        return stem[:-1] + "y"
    if past.endswith("eed"):
        return past[:-1]  # agreed -> agree
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "bgmnprt":
        return stem[:-1]  # shipped -> ship
    if stem[-2:] in ("ss", "ll", "ff", "zz", "dd") or stem[-1] in "wxyhfk" and not stem.endswith("ak"):
        return stem
    if past in ("focused", "biased", "bathed"):
        return {"focused": "focus", "biased": "bias", "bathed": "bathe"}[past]
    if re.search(r"(?:[^aeiou][aiou][dgmbzkr]|[cvzu]|dg|[^aeiou]at|[^aeiou]ut|[aeiou]s|[rnpl]s|[^aeiou]l|rg|ang"
                 r"|[^aeiou]in|uir|[^aeiou]y[^aeiou])$", stem):
        return stem + "e"  # created, moved, closed, retired, graded, settled, merged, changed
    if re.search(r"(?:[^aeiou][aeiou]{2}[^aeiou]|[^aeiou]{2}|[^aeiou][aeiou]?[nr]|en|er|on|[^aeiou]?[aeiou]t)$", stem):
        return stem if not stem.endswith(("ot", "it", "et", "on", "ap", "op")) else None
    return None


@dataclass(frozen=True)
class _Tok:
    raw: str  # as written, punctuation and all
    word: str  # without edge punctuation
    start: int  # where `word` sits in the sentence
    end: int
    pause: bool  # a comma, semicolon, colon or closing bracket ends the token: a phrase boundary
    low: str = ""  # `word` lower-cased
    cap: bool = False  # `word` starts with a capital


_ABBREVIATIONS = _words("st. dr. mr. mrs. ms. prof. capt. rev. jr. sr. no. co. ltd. inc. vs.")


def _tokens(sentence: str) -> list[_Tok]:
    toks = []
    for m in re.finditer(r"\S+", sentence):
        raw, start = m.group(), m.start()
        lead = len(raw) - len(raw.lstrip("\"'([“‘"))
        core = raw[lead:]
        if core.lower() not in _ABBREVIATIONS:
            core = core.rstrip(".,;:!?)]\"'”’")
        if not core:
            continue
        pause = bool(re.search(r"[,;:)\]]\W*$", raw)) or raw.endswith(("—", "–"))
        toks.append(_Tok(raw, core, start + lead, start + lead + len(core), pause, core.lower(), core[:1].isupper()))
    return toks


def _is_year(word: str) -> bool:
    return bool(re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", word))


def _date_end(toks: list[_Tok], k: int) -> int | None:
    """Index one past the date that starts at token k ("1927", "6 June 1927", "October 11, 2000",
    "January 2025", "22 March", "the 1950s", "09:14"), or None."""
    n, w = len(toks), toks[k].low

    def month(i):
        return i < n and toks[i].low.rstrip(".") in _MONTHS and toks[i].cap

    def day(i):
        return i < n and re.fullmatch(r"[0-3]?\d(?:st|nd|rd|th)?", toks[i].low) is not None

    def year(i):
        return i < n and _is_year(toks[i].word)
    if re.fullmatch(r"[0-2]?\d[:.][0-5]\d(?:\s*[ap]\.?m\.?)?|[01]?\d\s*[ap]\.?m\.?", w):
        return k + 1
    if day(k) and month(k + 1):
        return k + 3 if year(k + 2) and not toks[k + 1].pause else k + 2
    if month(k):
        if day(k + 1):
            return k + 3 if year(k + 2) else (k + 2 if toks[k].word != "May" else None)
        if year(k + 1):
            return k + 2
        return k + 1 if k > 0 and toks[k - 1].low in ("in", "during", "since", "until") else None
    if re.fullmatch(r"1[0-9]{3}s|20[0-9]0s", w):
        return k + 1
    if w == "the" and k + 1 < n and re.fullmatch(r"1[0-9]{3}s|20[0-9]0s", toks[k + 1].low):
        return k + 2
    if year(k) and not (k + 1 < n and toks[k + 1].low in _UNITS | _MONEY | _TIME_UNITS | _COUNT_PLURALS):
        return k + 1
    return None


def _verb(toks: list[_Tok], k: int, after_aux: bool = False) -> tuple[str, str] | None:
    """(form, base) when token k reads as a verb here: form is "aux", "ed" (past or participle),
    "past", "pp" (participle only), "3sg" or "base". The context keeps nouns out: no verb follows
    a determiner, and a bare base form only follows a plural noun ("Members pay") or an auxiliary."""
    w = toks[k].low
    if not w.isalpha() or (toks[k].cap and k > 0 and w not in _AUX):
        return None
    prev = toks[k - 1].low if k > 0 else ""
    if w in _AUX:
        return "aux", {"is": "be", "are": "be", "was": "be", "were": "be", "am": "be", "been": "be",
                       "being": "be", "has": "have", "had": "have", "does": "do", "did": "do"}.get(w, w)
    if prev in _DET or re.fullmatch(r"[\d,.]+", prev or "x") and not toks[k - 1].pause:
        return None
    past, pp = w in _PAST, w in _PARTICIPLE
    if past and pp:
        return "ed", _PAST[w]
    if pp and (after_aux or w not in _BASES):
        return "pp", _PARTICIPLE[w]
    if past and w not in _BASES:
        return "past", _PAST[w]
    if w in _THIRD and k > 0:
        return "3sg", _THIRD[w]
    if w in _BASES and (after_aux or k > 0 and (prev.endswith("s") and not prev.endswith("ss")
                                                 or prev in _COUNT_PLURALS or prev in _ADV)):
        return "base", w
    if w.endswith("ed") and k > 0:
        base = _guess_base(w)
        return ("ed", base) if base else None
    return None


@dataclass
class _Clause:
    toks: list[_Tok]
    lead: int  # where the clause starts (after a leading adverbial)
    lead_date: tuple[int, int] | None  # "In 2015 ..." : the date's token range
    subj: tuple[int, int]  # token range of the subject
    aux: list[int]  # auxiliaries, in order
    advs: list[int]  # adverbs inside the verb group
    verb: int | None  # the main verb (None: a copula with no participle, "X is Y")
    verb_form: str  # "aux" for copula/possession, else the _verb form
    base: str  # the main verb's base ("be" for a copula)
    rest: int  # the first token after the verb group
    extras: list[tuple[int, int]]  # appositives and brackets cut out of the subject
    lead_part: bool = False  # the clause follows a participle phrase: "Formed in 1873, the club ..."
    heads: list[tuple[int, str]] | None = None  # _heads, once found


def _leading(toks: list[_Tok]) -> tuple[int, tuple[int, int] | None] | None:
    """Where the clause starts once a leading adverbial is skipped, and the date it names."""
    first = toks[0].low
    if (first in _PARTICIPLE or _guess_base(first)) and len(toks) > 2 and toks[1].low in _PREPS:
        for k in range(1, min(len(toks) - 1, 10)):
            if toks[k].pause:
                return k + 1, None
        return None
    if first in ("in", "on", "at", "by", "after", "before", "during", "since", "from", "until", "following",
                 "today", "now", "later", "then", "eventually", "currently", "originally", "recently",
                 "meanwhile", "initially", "finally", "earlier", "yesterday", "tomorrow"):
        for k in range(min(len(toks), 8)):
            if toks[k].pause:
                end = _date_end(toks, 1) if len(toks) > 1 and first in ("in", "on") else None
                return k + 1, ((1, end) if end == k + 1 else None)
        if first in ("in", "on") and len(toks) > 2:
            end = _date_end(toks, 1)
            if end:
                return end, (1, end)
        if first in _ADV or first in ("today", "meanwhile", "yesterday", "tomorrow"):
            return 1, None
        return None
    return 0, None


def _clause(sentence: str) -> _Clause | None:
    toks = _tokens(sentence)
    if len(toks) < 3:
        return None
    lead = _leading(toks)
    if lead is None:
        return None
    i, lead_date = lead
    k, extras, subj_end = i, [], None
    while k < len(toks):
        tok = toks[k]
        if tok.raw.startswith("(") and k > i:  # a bracket inside the subject: "(born 1971 in Troms)"
            close = next((m for m in range(k, min(len(toks), k + 16)) if ")" in toks[m].raw), None)
            if close is None:
                return None
            extras.append((k, close + 1))
            k = close + 1
            continue
        if tok.low in _SUBORDINATE and k > i or tok.low in _NEG:
            return None
        if k > i and (_verb(toks, k) or tok.low in _ADV and k + 1 < len(toks) and _verb(toks, k + 1)):
            subj_end = k
            break
        if tok.pause and k > i:  # "The lighthouse, built in 1874, was ..." : an appositive
            close = next((m for m in range(k + 1, min(len(toks), k + 16)) if toks[m].pause), None)
            if close is None or close + 1 >= len(toks) or not (_verb(toks, close + 1) or toks[close + 1].low in _ADV):
                return None
            if any(toks[m].low in _NEG for m in range(k + 1, close + 1)):
                return None
            extras.append((k + 1, close + 1))
            subj_end = close + 1
            k = close + 1
            break
        k += 1
    if subj_end is None:
        return None
    subj_last = min((s for s, _ in extras), default=subj_end)
    if not 1 <= subj_last - i <= 8 or toks[subj_last - 1].low in _DET | _PREPS:
        return None
    aux, advs = [], []
    k = subj_end
    while k < len(toks):
        w = toks[k].low
        if w in _NEG:
            return None
        if w in _AUX and not (aux and w in ("have", "do") and toks[k - 1].low not in _AUX - _COPULA):
            aux.append(k)
        elif w in _ADV or (w.endswith("ly") and len(w) > 4 and aux):
            advs.append(k)
        else:
            break
        k += 1
    verb, form, base = None, "aux", "be"
    if k < len(toks) and (v := _verb(toks, k, after_aux=bool(aux))) and v[0] != "aux":
        if aux and toks[aux[-1]].low in _COPULA and v[0] in ("base", "3sg"):
            v = None  # "is home to": a noun after a copula
        if v:
            verb, form, base = k, v[0], v[1]
            k += 1
    if verb is None:
        if not aux:
            return None
        base = _verb(toks, aux[-1])[1]
        if base not in ("be", "have"):
            return None
        if base == "have":
            verb, form, aux = aux[-1], "have", aux[:-1]
    lead_part = i > 0 and not lead_date and toks[0].low not in _PREPS | _ADV \
        and (toks[0].low in _PARTICIPLE or bool(_guess_base(toks[0].low)))
    return _Clause(toks, i, lead_date, (i, subj_last), aux, advs, verb, form, base, k, extras, lead_part)


# --- who or what the document is about -------------------------------------------------------

_GENERIC_TITLE = _words("memo memorandum abstract notice review report summary overview guide profile "
                        "announcement letter minutes")


def _title_subject(title: str, text_lower: frozenset[str] = frozenset()) -> str | None:
    """The thing a record or article is about, from its title line: "Company overview: Wux
    Systems." -> "Wux Systems"; "RV Holm: a research vessel" -> "RV Holm"; "The Tarrow Bridge" ->
    "the Tarrow Bridge"; "Amber-throated tree frog (Hyla)" -> "the amber-throated tree frog"."""
    title = re.sub(r"\s*\([^)]*\)", "", _MARKER.sub("", title)).strip().rstrip(".:")
    if ": " in title:
        left, right = title.split(": ", 1)
        first = right.split()[0] if right.split() else ""
        if first.lower() in ("a", "an"):
            title = left
        elif first[:1].isupper() or first[:1].isdigit():
            title = right
        elif left.lower() in _GENERIC_TITLE:
            title = "the " + right
        else:
            title = left
    title = re.sub(r"\s+\d{1,2}$", "", title.split(", ")[0].strip())  # "Dunmore Harriers 3, Kelsby Rovers 1"
    words = title.split()
    if not words or len(words) > 7 or any(w.lower() in _AUX for w in words):
        return None
    if words[0].lower() in ("a", "an"):
        of = re.search(r"\bof ((?:[A-Z][\w'’-]*\s?)+)$", title)
        return of.group(1).strip() if of else None
    if words[0].lower() == "the":
        return "the " + " ".join(words[1:]) if len(words) > 1 else None
    content = [w for w in words[1:] if w.lower() not in _PREPS | _DET | {"and", "or", "&"}]
    if all(w[:1].isupper() or w[:1].isdigit() for w in content):
        return title  # a name: "Veltrano Robotics", "Kestrel K7 Commuter E-Bike"
    if len(words) > 5:
        return None  # a headline or a description, not a name
    first = words[0]
    if first.lower() in text_lower:  # "Amber-throated tree frog": a common noun phrase
        first = first[:1].lower() + first[1:]
    return " ".join(["the", first] + words[1:])


def _role_noun(word: str) -> bool:
    """A noun for what a person does: "author", "keeper", "violinist", "librarian"."""
    return word in _ROLE_LABELS or len(word) > 4 and word.endswith(("er", "or", "ist", "ian"))


def _person_like(words: list[str]) -> bool:
    """Two to four capitalised words that name a person, not a place or an organisation."""
    names = [w for w in words if w.lower() not in _TITLES]
    if not 2 <= len(names) <= 4:
        return False
    for w in names:
        low = w.lower()
        if not re.fullmatch(r"[A-Z][^\W\d_]*(?:['’.-][^\W\d_]*)*", w) or low.rstrip("s") in _ORG_WORDS \
                or low in _NUMBER_WORDS | _ORG_WORDS | _MONTHS | _DAYS | _DET:
            return False
    return True


# --- phrases ----------------------------------------------------------------------------------

def _cap_run(toks: list[_Tok], k: int, end: int) -> int:
    """One past the run of capitalised words starting at k ("Duke of Kentmere", "Mount Gecend")."""
    m = k
    while m < end and (toks[m].cap or toks[m].word[:1].isdigit() and m > k
                       or toks[m].low in ("of", "de", "da", "van", "von", "del", "la", "le", "and", "&", "the")
                       and m + 1 < end and toks[m + 1].cap and m > k and not toks[m - 1].pause):
        m += 1
        if toks[m - 1].pause:
            break
    while m > k and not toks[m - 1].cap:
        m -= 1
    return m


def _phrase(toks: list[_Tok], a: int, b: int) -> str:
    """Tokens a..b as question text: spacing normalised, the last token's trailing punctuation dropped."""
    if a >= b:
        return ""
    text = " ".join(t.raw for t in toks[a:b])
    return re.sub(r"[\s,;:.!?]+$", "", text.rstrip(")\"'”’") if "(" not in text else text)


@dataclass
class _Context:
    """What pronouns point to: the section's subject and the person last named as a subject."""
    topic: str | None = None
    person: str | None = None


@dataclass(frozen=True)
class _Doc:
    text: str
    lower: frozenset[str]  # words written in lower case somewhere: "Construction" is a common noun
    mid_caps: frozenset[str]  # capitalised words seen inside a sentence: "Bellhaven" is a name

    @classmethod
    def of(cls, text: str) -> "_Doc":
        return cls(text, frozenset(re.findall(r"\b[a-z][\w'’-]*", text)),
                   frozenset(re.findall(r"(?<=[\w,;] )[A-Z][\w'’-]*", text)))


def _subject_text(cl: _Clause, ctx: _Context, doc: _Doc) -> str | None:
    """The clause subject as it reads inside a question: pronouns resolved, "Its X" -> "the X of T",
    a sentence-initial common word lower-cased; None when it cannot be said without the document."""
    toks, (a, b) = cl.toks, cl.subj
    words = [t.raw for t in toks[a:b]]
    words[-1] = _phrase(toks, b - 1, b)
    first = toks[a].low
    if b - a == 1 and first in ("it", "she", "he"):
        return ctx.topic if first == "it" else ctx.person
    if first in ("its", "her", "his") and b - a >= 2:
        owner = ctx.topic if first == "its" else ctx.person
        if not owner:
            return None
        rest = words[1:]
        if any(w.lower() in _BAD_PRONOUNS for w in rest):
            return None
        return f"the {' '.join(rest)} of {owner}"
    for m in range(a + 1, b - 1):
        if toks[m].low == "its" and ctx.topic and toks[m + 1].word.isalpha() and m + 2 == b:
            words[m - a:] = [f"the {toks[m + 1].word} of {ctx.topic}"]
            break
    if any(w.lower() in _BAD_PRONOUNS for w in words):
        return None
    if first in _DET | _QUANT or a == cl.lead and first in doc.lower and toks[a].word not in doc.mid_caps:
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


def _invert(cl: _Clause, subj: str) -> str:
    """The clause as the rest of a wh-question about its object: "was the bridge opened",
    "did the shipyard close", "has Sorvik supervised"."""
    toks = cl.toks
    advs = " ".join(toks[k].low for k in cl.advs)
    if cl.aux:
        first, more = toks[cl.aux[0]].low, " ".join(toks[k].low for k in cl.aux[1:])
        verb = toks[cl.verb].low if cl.verb is not None and cl.verb_form != "have" else \
            ("have" if cl.verb_form == "have" else "")
        return " ".join(x for x in (first, subj, more, advs, verb) if x)
    if cl.verb_form == "have" and cl.verb is not None:
        form = toks[cl.verb].low
        do = {"has": "does", "have": "do", "had": "did"}[form]
        return " ".join(x for x in (do, subj, advs, "have") if x)
    form = cl.verb_form
    if form in ("ed", "past"):
        do = "did"
    elif form == "3sg":
        do = "does"
    elif form == "base":
        do = "do"
    else:
        return ""
    return " ".join(x for x in (do, subj, advs, cl.base) if x)


def _object(toks: list[_Tok], a: int, limit: int = 10) -> int:
    """One past the object that starts at token a: up to a pause, a clause break, or `limit` words;
    a itself when there is none (the verb ends a phrase, or a clause break follows it)."""
    if a == 0 or a >= len(toks) or toks[a - 1].pause or toks[a].low in _CLAUSE_BREAK:
        return a
    m = a
    while m < len(toks) and m - a < limit:
        if toks[m].low in _CLAUSE_BREAK:
            break
        m += 1
        if toks[m - 1].pause:
            break
    return m if m - a < limit or m == len(toks) else a


def _clean(question: str) -> str:
    question = " ".join(question.split())
    return question[:1].upper() + question[1:] + "?"


# --- the rules --------------------------------------------------------------------------------
# Each yields (form, question, answer start, answer end) with the answer's offsets in the sentence.

def _field_items(sentence: str, subject: str | None):
    """ "Weight: 21.4 kg including battery" -> "What is the weight of <subject>?" and "What is the
    weight?"; a role asks "Who" ("Author: ..."), a participle asks when, where or who
    ("Opened: 7 May 1931" -> "When was <subject> opened?")."""
    m = re.match(r"^([A-Z][\w '/-]{0,40}?):\s+(\S.*?)[.;]?\s*$", sentence)
    if not m:
        return
    label, value_start = m.group(1).strip(), m.start(2)
    words = label.split()
    lows = [w.lower() for w in words]
    if not 1 <= len(words) <= 5 or re.search(r"\d", label) or label.lower() in _GENERIC_TITLE \
            or lows[0] in _PREPS | _FIELD_SKIP or any(w in _DET | _AUX for w in lows):
        return
    value = m.group(2)
    if not re.match(r"[\w$£€]", value) or value[:1].islower() and len(value.split()) > 6:
        return  # "Ecology: the frog lives in bromeliads, laying ...": prose after a label
    bare = re.sub(r"\s*\([^)]*\)", "", value)
    if re.search(r",\s+[A-Z][^,]*(?:,|\band\s)", bare):  # a list of names: the whole list or nothing
        value = value if "(" not in value and len(value.split()) <= 8 else ""
    else:
        cut = re.search(r"\s\(|;\s|,\s", value)
        if cut and not re.search(r",\s[^,]*\b(?:and|or)\s", value[cut.start():]):
            value = value[:cut.start()]
    value = value.rstrip(" .,;:")
    vwords = value.split()
    if not 1 <= len(vwords) <= 8 or any(w.lower() in _AUX for w in vwords):
        return
    span = value_start, value_start + len(value)
    participle = lows[0] in _PARTICIPLE or lows[0].endswith("ed") and _guess_base(lows[0])
    if participle:  # "Opened: ...", "Recorded in: ...", "Built by: ..."
        if not subject or len(words) > 2:
            return
        prep = lows[1] if len(words) == 2 else ""
        date = _date_end(_tokens(value), 0)
        if prep in ("", "on", "in") and date and (value[:1].isdigit() or vwords[0].lower().rstrip(".") in _MONTHS):
            yield "field", f"When was {subject} {lows[0]}?", *span
        elif prep in ("in", "at") and value[:1].isupper():
            yield "field", f"Where was {subject} {lows[0]}?", *span
        elif prep == "by" and value[:1].isupper():
            base = _PARTICIPLE.get(lows[0]) or _guess_base(lows[0])
            yield "field", f"Who {_PAST_OF.get(base, lows[0])} {subject}?", *span
        return
    if len(words) == 1 and lows[0] in _THIRD:
        return  # "Crosses: ..." reads as a verb
    lab = " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in words)
    head = lows[lows.index("of") - 1] if "of" in lows[1:] else lows[-1]
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is", "ics")) and len(head) > 3
    who = head in _ROLE_LABELS or head == "name" and len(words) > 1 and lows[-2] in _ROLE_LABELS \
        or _role_noun(head) and _person_like(value.split())
    wh = "Who" if who else "What"
    be = "are" if plural else "is"
    if plural and re.fullmatch(r"\d[\d,]*", value) and "of" not in lows:  # "Students: 45,663"
        if subject:
            yield "field", f"How many {lab} does {subject} have?", *span
        yield "field", f"What is the number of {lab}?", *span
        return
    if "of" in lows or not subject:
        yield "field", f"{wh} {be} the {lab}?", *span
    else:
        yield "field", f"{wh} {be} the {lab} of {subject}?", *span
        yield "field", f"{wh} {be} the {lab}?", *span


def _heads(cl: _Clause) -> list[tuple[int, str]]:
    """Verbs that share the clause subject: the main verb, verbs after "and" of the same kind
    ("was designed ... and opened"), and participles that describe the subject (", built in 1874,"
    right after it, or after "X is a ...,": "is a community orchestra ..., founded in 1987")."""
    if cl.heads is None:
        cl.heads = _find_heads(cl)
    return cl.heads


def _find_heads(cl: _Clause) -> list[tuple[int, str]]:
    toks = cl.toks
    heads = [(cl.verb if cl.verb is not None else cl.aux[-1], "main")]
    if cl.lead_part:
        heads.append((0, "reduced"))
    for a, _ in cl.extras:
        v = _verb(toks, a, after_aux=True)
        if v and v[0] in ("ed", "pp") and a + 1 < len(toks) and toks[a + 1].low in _PREPS:
            heads.append((a, "reduced"))
    main_form = cl.verb_form
    describes = cl.verb is None and cl.aux and toks[cl.aux[-1]].low in _COPULA and cl.rest < len(toks) \
        and toks[cl.rest].low in ("a", "an", "the")
    for k in range(cl.rest, len(toks)):
        prev = toks[k - 1]
        v = _verb(toks, k, after_aux=True)
        if not v or v[0] == "aux":
            continue
        if prev.low == "and" and not prev.pause and (main_form in ("ed", "past", "pp") and v[0] in ("ed", "past", "pp")
                                                    or v[0] in ("3sg", "past") or main_form == v[0] == "base"):
            heads.append((k, "and"))
        elif describes and prev.pause and not prev.raw.endswith(")") and v[0] in ("ed", "pp") \
                and k + 1 < len(toks) and toks[k + 1].low in _PREPS:
            heads.append((k, "reduced"))
    return sorted(heads)


def _head_for(cl: _Clause, heads, k: int, limit: int = 8) -> tuple[int, str] | None:
    """The verb that governs token k: the nearest head before it with no pause or other verb between."""
    best = None
    for h, kind in heads:
        if h < k and k - h <= limit:
            best = (h, kind)
    if best is None:
        return None
    h = best[0]
    for m in range(h, k):
        if cl.toks[m].pause and m != k - 1 or m > h and cl.toks[m].low in _CLAUSE_BREAK:
            return None
    if any(m > h and _verb(cl.toks, m, after_aux=True) and cl.toks[m].low not in _PREPS for m in range(h + 1, k)):
        return None
    return best


def _ask_about(cl: _Clause, head: tuple[int, str], subj: str, wh: str, obj_end: int,
               asks_object: bool = False) -> str | None:
    """ "<wh> <inverted clause with head as its verb> <words from head to obj_end>?"
    asks_object: the wh-phrase stands for the verb's object ("How many buildings did she design?")."""
    toks = cl.toks
    h, kind = head
    obj = _phrase(toks, h + 1, obj_end)
    if any(t.low in _SUBJECT_PRONOUNS for t in toks[h + 1:obj_end]):
        return None
    v = _verb(toks, h, after_aux=True)
    active = kind != "reduced" and not cl.aux and v is not None and v[0] in ("ed", "past")
    if active and not obj and not asks_object and v[1] not in _INTRANSITIVE:
        return None  # "A house built in 1936": a participle, not "the house built (something)"
    if kind == "main":
        inv = _invert(cl, subj)
        if not inv:
            return None
        if cl.verb is None:  # "Her best-known voyage was in 2006" -> "When was her best-known voyage?"
            return _clean(f"{wh} {toks[cl.aux[0]].low} {subj} {obj}")
        return _clean(f"{wh} {inv} {obj}")
    if v is None:
        return None
    passive_main = cl.aux and cl.verb_form in ("ed", "pp") and toks[cl.aux[-1]].low in _COPULA
    takes_object = h + 1 < len(toks) and toks[h + 1].low in _DET
    if kind == "reduced" or passive_main and v[0] in ("ed", "pp") and not takes_object:
        be = toks[cl.aux[0]].low if cl.aux and kind == "and" else "was"
        return _clean(f"{wh} {be} {subj} {toks[h].low} {obj}")
    do = {"ed": "did", "past": "did", "3sg": "does", "base": "do"}.get(v[0])
    if do is None or cl.aux and not passive_main:
        return None
    return _clean(f"{wh} {do} {subj} {v[1]} {obj}")


def _when_items(cl: _Clause, subj: str):
    toks = cl.toks
    if cl.lead_date:  # "In 2015 Sorvik moved to Copenhagen" -> "When did Sorvik move to Copenhagen?"
        a, b = cl.lead_date
        end = _object(toks, cl.rest)
        if cl.verb is not None and end > cl.rest and not any(_date_end(toks, m) for m in range(cl.rest, end)):
            q = _ask_about(cl, (cl.verb, "main"), subj, "When", end)
            if q:
                yield "when", q, toks[a].start, toks[b - 1].end
                if b - a == 1 and _is_year(toks[a].word):
                    yield "when", "In what year" + q[4:], toks[a].start, toks[b - 1].end
    heads = _heads(cl)
    k = 1
    while k < len(toks):
        end = _date_end(toks, k) if toks[k - 1].low in ("in", "on", "at") else None
        if not end:
            k += 1
            continue
        head = _head_for(cl, heads, k - 1)
        if head and not (end + 1 < len(toks) and toks[end].low in ("and", "to", "or") and not toks[end - 1].pause
                         and (_date_end(toks, end + 1) or toks[end + 1].word[:1].isdigit())):
            wh = "At what time" if toks[k - 1].low == "at" else "When"
            if wh == "When" or re.match(r"\d", toks[k].word):
                q = _ask_about(cl, head, subj, wh, k - 1)
                if q:
                    a = k + 1 if toks[k].low == "the" else k
                    yield "when", q, toks[a].start, toks[end - 1].end
                    if end - a == 1 and _is_year(toks[a].word) and wh == "When":
                        yield "when", "In what year" + q[4:], toks[a].start, toks[end - 1].end
        k = end


def _agent(toks: list[_Tok], k: int) -> tuple[int, int] | None:
    """The named agent after "by" at token k-1: "by the engineer Eleanor Whitcombe" -> Eleanor Whitcombe."""
    m = k
    while m < len(toks) and m - k < 4 and not toks[m].cap and toks[m].word.isalpha() and not toks[m - 1].pause:
        m += 1
    if m >= len(toks) or not toks[m].cap or toks[m].low in _MONTHS | _DAYS:
        return None
    end = _cap_run(toks, m, len(toks))
    if end == m or toks[m].low in _TITLES and end - m == 1:
        return None
    if end < len(toks) and not toks[end - 1].pause and toks[end].word.isalpha() and toks[end].word.islower() \
            and toks[end].low not in _PREPS | _CLAUSE_BREAK and not _verb(toks, end, after_aux=True):
        if end - m > 1 or m > k:
            return None  # "the Peene shipyard": the name is a modifier, the head is a common noun
        end += 1  # "Loyalist settlers"
        if end < len(toks) and toks[end].word.islower() and toks[end].low not in _PREPS | _CLAUSE_BREAK \
                and not _verb(toks, end, after_aux=True) and not toks[end - 1].pause:
            return None
    return m, end


def _who_items(cl: _Clause, subj: str | None):
    toks = cl.toks
    # Passive with a named agent: "It was designed by Eleanor Whitcombe" -> "Who designed the Tarrow Bridge?"
    if subj:
        for h, kind in _heads(cl):
            v = _verb(toks, h, after_aux=True)
            passive = kind == "reduced" or cl.aux and toks[cl.aux[-1]].low in _COPULA and v and v[0] in ("ed", "pp")
            if not passive or not v or v[0] not in ("ed", "pp"):
                continue
            by = next((m for m in range(h + 1, min(len(toks), h + 8)) if toks[m].low == "by"), None)
            if by is None or any(toks[m].pause or toks[m].low in _CLAUSE_BREAK for m in range(h, by)):
                continue
            particle = toks[h + 1].low if by == h + 2 and toks[h + 1].low in _PARTICLES else ""
            if by > h + 1 and not particle and toks[h + 1].low not in _PREPS:
                continue
            span = _agent(toks, by + 1)
            if not span:
                continue
            base = v[1]
            dated = any(_date_end(toks, m) for m in range(h + 1, by))
            present = kind != "reduced" and toks[cl.aux[0]].low in ("is", "are") or \
                kind == "reduced" and not dated and cl.aux and toks[cl.aux[0]].low in ("is", "are")
            if kind == "main" and len(cl.aux) > 1 and toks[cl.aux[0]].low in ("has", "have"):
                verb = f"has {toks[h].low}"
            else:
                verb = _third(base) if present else _PAST_OF.get(base, toks[h].low)
            advs = " ".join(toks[m].low for m in cl.advs) if kind == "main" else ""
            q = _clean(f"Who {advs} {verb} {particle} {subj}")
            a, b = span
            yield "who", q, toks[a].start, toks[b - 1].end
    # A named person or team as the subject: "Nikolai Quounsta started Wux Systems with borrowed money."
    a, b = cl.subj
    names = [t.word for t in toks[a:b]]
    if cl.verb is not None and _person_like(names) and not toks[b - 1].pause and cl.rest < len(toks):
        start = a + next(i for i, w in enumerate(names) if w.lower() not in _TITLES)
        end = _object(toks, cl.rest)
        if end > cl.rest and not any(t.low in _SUBJECT_PRONOUNS for t in toks[cl.rest:end]):
            group = " ".join(toks[m].low if m != cl.verb else toks[m].raw.rstrip(",;:")
                             for m in sorted(cl.aux + cl.advs + [cl.verb]))
            q = _clean(f"Who {group} {_phrase(toks, cl.rest, end)}")
            yield "who", q, toks[start].start, toks[b - 1].end


def _noun_after(toks: list[_Tok], k: int) -> tuple[int, str] | None:
    """After a number at token k-1: one past its noun phrase and the noun's kind ("count", "money",
    "time", "percent", "unit"), e.g. "1,206 employees", "450 euros", "64 metres", "square kilometres",
    "23 doctoral students". The phrase ends at its first head noun (a plural or a unit)."""
    def kind(m: int) -> str | None:
        w = toks[m].low
        if w in _MONEY:
            return "money"
        if w in _TIME_UNITS:
            return "time"
        if w in _PERCENT:
            return "percent"
        if w in _UNITS:
            return "unit"
        if w in _COUNT_PLURALS or w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 2:
            return "count"
        return None
    m = k
    while m < len(toks) and m - k < 3 and re.fullmatch(r"[a-z][a-z/-]*|[A-Z]{1,3}|[kMG]?W[h]?", toks[m].word) \
            and toks[m].low not in _PREPS | _CLAUSE_BREAK | _DET | _AUX | _MEASURE_ADJ:
        found = kind(m)
        if found and toks[m].low not in ("square", "cubic"):
            return m + 1, found
        if toks[m].pause or toks[m].word.endswith("ed"):
            return None
        m += 1
    return None


def _number_at(toks: list[_Tok], k: int) -> int | None:
    """One past the number (or range "28 to 34") that starts at token k."""
    w = toks[k].word
    num = re.fullmatch(r"[$£€]?\d[\d,]*(?:\.\d+)?", w) or toks[k].low in _NUMBER_WORDS
    if not num or _is_year(w) and k > 0 and toks[k - 1].low in ("in", "since", "of", "from", "until", "by"):
        return None
    if k > 0 and (toks[k - 1].word[:1].isupper() and toks[k - 1].low not in _QUANT | {"about", "over"}
                  and k - 1 > 0 or toks[k - 1].low in ("no", "no.", "number", "page", "room", "grade", "level")):
        return None  # "GEO 215", "Room 3", "K7": a name, not a quantity
    end = k + 1
    if end + 1 < len(toks) and toks[end].low in ("to", "and", "-", "or") \
            and re.fullmatch(r"\d[\d,.]*", toks[end + 1].word):
        end += 2
    return end


def _how_items(cl: _Clause, subj: str | None):
    toks = cl.toks
    heads = _heads(cl) if subj else []
    for k in range(cl.subj[0], len(toks)):
        end = _number_at(toks, k)
        if not end or toks[k - 1].pause and k > cl.subj[0] and k < cl.rest:
            continue
        money_sign = toks[k].word[:1] in "$£€"
        noun = _noun_after(toks, end)
        if money_sign:
            noun = (end, "money")
        if noun is None:
            # "The ship is 64 metres long" handled below; "The room seats 48" has no noun to ask about
            continue
        n_end, kind = noun
        unit_end = n_end
        noun_text = _phrase(toks, end, n_end)
        if n_end + 1 < len(toks) and toks[n_end].low == "of" and kind in ("time", "unit") and not toks[n_end - 1].pause:
            m = n_end + 1  # "16 weeks of paid leave": the unit counts the thing after "of"
            while m < len(toks) and m - n_end <= 3 and toks[m].word.isalpha() and toks[m].word.islower() \
                    and toks[m].low not in _PREPS | _CLAUSE_BREAK | _DET:
                m += 1
                if toks[m - 1].pause:
                    break
            if m > n_end + 1:
                noun_text = _phrase(toks, end, m)
                kind, unit_end, n_end = "unit", n_end, m
        if n_end < len(toks) and toks[n_end].low in ("more", "less", "higher", "lower", "fewer", "of") \
                and kind != "count":
            continue
        q_start = k
        while q_start > 0 and not toks[q_start - 1].pause:  # "about", "up to", "more than", "an estimated"
            w, before = toks[q_start - 1].low, toks[q_start - 2].low if q_start > 1 else ""
            if w in _QUANT_WORDS:
                q_start -= 1
            elif q_start > 1 and f"{before} {w}" in _QUANT_PAIRS:
                q_start -= 2
            else:
                break
        answer = (toks[k].start, toks[unit_end - 1].end) if kind != "count" else (toks[k].start, toks[end - 1].end)
        # The number inside the subject: "About 8478 staff work for Wux" -> "How many staff work for Wux?"
        if cl.subj[0] <= k < cl.subj[1] and kind == "count" and q_start == cl.subj[0] and n_end == cl.subj[1]:
            obj_end = _object(toks, cl.rest)
            if obj_end > cl.rest or cl.rest == len(toks):
                group = " ".join(toks[m].low if m != cl.verb else toks[m].word
                                 for m in sorted(cl.aux + cl.advs + ([cl.verb] if cl.verb is not None else [])))
                yield "how", _clean(f"How many {noun_text} {group} {_phrase(toks, cl.rest, obj_end)}"), *answer
            continue
        if not subj or k < cl.rest:
            continue
        # "The ship is 64 metres long" -> "How long is the ship?"
        if cl.verb is None and cl.aux and kind in ("unit", "time") and n_end < len(toks) \
                and toks[n_end].low in _MEASURE_ADJ and q_start == cl.rest:
            q = _clean(f"How {toks[n_end].low} {toks[cl.aux[0]].low} {subj}")
            yield "how", q, toks[k].start, toks[n_end - 1].end
            continue
        # The number as the object: "Bellhaven had 8,412 residents at the 2021 census"
        if kind == "time" and toks[q_start - 1].low == "for":
            head = _head_for(cl, heads, q_start - 1)
            if head:
                q = _ask_about(cl, head, subj, "How long", q_start - 1)
                if q:
                    yield "how", q, toks[k].start, toks[n_end - 1].end
            continue
        price_prep = ""  # "is priced at $91" -> "How much is it priced?"; "sold for" -> "... sold for?"
        if kind == "money" and toks[q_start - 1].low in ("at", "for") and not toks[q_start - 1].pause:
            price_prep, q_start = toks[q_start - 1].low, q_start - 1
        head = _head_for(cl, heads, q_start, limit=4)
        if not head or head[0] != q_start - 1 and not (head[0] == cl.verb and q_start == cl.rest):
            continue
        if head[1] == "main" and cl.verb is None:
            continue  # "Its length is 38 km": asked by the copula rule
        tail_end = n_end
        if n_end < len(toks) and toks[n_end].low in _PREPS - {"of"} and not toks[n_end - 1].pause:
            tail_end = _object(toks, n_end, limit=6)
        tail = _phrase(toks, n_end, tail_end)
        if any(_number_at(toks, m) for m in range(n_end, tail_end)) and kind != "count":
            tail = ""
        wh = {"count": f"How many {noun_text}", "money": "How much", "percent": "How much",
              "time": "How long", "unit": f"How many {noun_text}"}[kind]
        if kind == "unit" and toks[head[0]].low in ("weighs", "weighed", "weigh", "costs", "cost"):
            wh = "How much"
        if head[1] == "main" and cl.verb is not None and cl.verb_form == "have" and not cl.aux:
            q = _clean(f"{wh} {_invert(cl, subj)} {tail}")
        else:
            q = _ask_about(cl, head, subj, wh, head[0] + 1, asks_object=True)
            ending = " for" if price_prep == "for" else ""
            q = q[:-1] + ending + (f" {tail}?" if tail else "?") if q else None
        if q:
            yield "how", q, *answer


_INTRANSITIVE = _words("open close start begin end die arrive return retire move happen occur ship finish "
                       "graduate marry collapse capsize drown sail rise fall fail resign split merge expand grow "
                       "stop debut settle emigrate live stay work perform play compete reopen launch land "
                       "premiere")
_PLACE_VERBS = _words("live settle move die work study train lie sit stand stay rehearse meet perform play "
                      "teach retire marry grow base locate house hold keep store situate headquarter found "
                      "build open bury drain flow empty rise")
_PLACE_NOUNS = _words("city town village county region state country province district island borough parish "
                      "municipality suburb")


def _where_items(cl: _Clause, subj: str):
    toks = cl.toks
    for h, kind in _heads(cl):
        v = _verb(toks, h, after_aux=True)
        base = v[1] if v else None
        if base not in _PLACE_VERBS or kind == "reduced":
            continue
        for p in range(h + 1, min(len(toks), h + 5)):
            if toks[p - 1].pause and p > h + 1:
                break
            if toks[p].low not in ("in", "at", "near", "on", "into") or p + 1 >= len(toks):
                continue
            m = p + 1
            if toks[m].low == "the" and m + 3 < len(toks) and toks[m + 1].low in _PLACE_NOUNS \
                    and toks[m + 2].low == "of":  # "in the city of Manby"
                m += 3
            elif toks[m].low == "the":
                m += 1
            if m >= len(toks) or not toks[m].cap or toks[m].low in _MONTHS | _DAYS or _date_end(toks, m):
                break
            end = _cap_run(toks, m, len(toks))
            if end == m or end < len(toks) and toks[end].word.islower() \
                    and toks[end].low not in _PREPS | _CLAUSE_BREAK \
                    and not toks[end - 1].pause:
                break
            if toks[p].low == "on" and base not in ("lie", "sit", "stand", "live", "build", "rise") \
                    or (toks[p].low == "into") != (base in ("drain", "flow", "empty")):
                break
            q = _ask_about(cl, (h, kind), subj, "Where", p)
            if q:
                yield "where", q, toks[m].start, toks[end - 1].end
            break


def _born_items(cl: _Clause, subj: str | None, names: str | None):
    """ "Imelda Sorvik (born 12 March 1971 in Tromso, Norway)" -> when and where she was born."""
    toks = cl.toks
    who = names or subj
    if not who:
        return
    for a, b in cl.extras:
        if toks[a].low != "born":
            continue
        d = _date_end(toks, a + 1)
        if d:
            yield "when", _clean(f"When was {who} born"), toks[a + 1].start, toks[d - 1].end
        for p in range(a + 1, b - 1):
            if toks[p].low == "in" and toks[p + 1].cap and not _date_end(toks, p + 1):
                end = _cap_run(toks, p + 1, b)
                if end > p + 1:
                    yield "where", _clean(f"Where was {who} born"), toks[p + 1].start, toks[end - 1].end
                break


def _copula_items(cl: _Clause, subj: str):
    """ "Its chief tributary is the Jizov River." -> "What is the chief tributary of <topic>?" """
    toks = cl.toks
    if cl.verb is not None or len(cl.aux) != 1 or toks[cl.aux[0]].low not in ("is", "are", "was", "were"):
        return
    a, b = cl.subj
    first = toks[a].low
    if first not in ("its", "her", "his", "the") or not 2 + (first == "the") <= b - a <= 6 or cl.extras or not subj:
        return
    of = next((m for m in range(a, b) if toks[m].low == "of"), b)
    if any(re.search(r"\d", t.word) for t in toks[a:b]) or (first == "the" and any(t.cap for t in toks[a + 1:of])):
        return
    k = cl.rest
    if k >= len(toks) or toks[k].low in ("a", "an"):
        return
    v0 = k + 1 if toks[k].low == "the" else k
    if v0 >= len(toks):
        return
    if toks[v0].cap and toks[v0].low not in _DET:  # a name: "the Jizov River", "Dorothy Quill"
        end = _cap_run(toks, v0, len(toks))
        if end + 1 == len(toks) and not toks[end - 1].pause and toks[end].word.isalpha() and toks[end].word.islower():
            end += 1  # "the Brennick K2 saw": a name and its head noun
    elif re.match(r"[$£€]?\d", toks[v0].word):  # a quantity: "38.1 km", "3,428 cubic metres per second"
        end = v0
        while end < len(toks) and end - v0 < 5 and (
                end == v0 or toks[end].word.isalpha() and (toks[end].word.islower() or toks[end].low in _UNITS)
                and toks[end].low not in _CLAUSE_BREAK | _MEASURE_ADJ):
            end += 1
            if toks[end - 1].pause:
                break
    else:
        return
    if end == v0 or end < len(toks) and not toks[end - 1].pause and toks[end].low not in ("in", "on", "at", "of"):
        return
    head = toks[of - 1].low.removesuffix("'s")
    who = _person_like([t.word for t in toks[v0:end]]) and (head in _ROLE_LABELS or _role_noun(head))
    wh = "Who" if who else "What"
    yield "what", _clean(f"{wh} {toks[cl.aux[0]].low} {subj}"), toks[v0].start, toks[end - 1].end


def _natural_units(text: str):
    """(sentence, section subject, kind) in order; kind is "heading" for a title or heading,
    "first" for a paragraph's first sentence, else "". The subject comes from the latest title or
    heading. Unlike `sentences`, a list item runs on over its wrapped lines and is split into
    sentences ("2. Equipment. Each employee may claim ..."), and a "Label: ..." line always starts
    a unit of its own."""
    paragraphs = [p for p in _PARAGRAPH_END.split(text.strip()) if p.strip()]
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
            for part in _SENTENCE_END.split(joined):
                if len(part.split()) >= 2:
                    yield part.strip(), subject, "first" if fresh[0] else ""
                    fresh[0] = False
        for i, line in enumerate(lines):
            heading = re.match(r"^\s*#+\s+(.*)$", line)
            # A title: a heading; a short line with no closing punctuation that opens a paragraph
            # (above a record, or alone); the document's first paragraph when it is one short line;
            # a paragraph's first sentence "Label: Name." ("Club history: Cerhurwick Athletic. ...")
            bare = not marked_up and i == 0 and len(line.split()) <= 8 and ": " not in line \
                and not re.search(r"[.!?:;,]\s*$", line) and not _MARKER.match(line)
            titled = bare or n == 0 and i == 0 and len(lines) == 1 and len(line.split()) <= 12 and len(paragraphs) > 1
            labelled = i == 0 and re.match(r"^([A-Z][\w ]{0,30}): ([A-Z][^.:]{0,60})\.(?:\s+|$)", line)
            if labelled and len(labelled.group(2).split()) <= 6 and len(labelled.group(1).split()) <= 3:
                subject = _title_subject(labelled.group(0), doc_lower)
                yield labelled.group(0).strip(), subject, "heading"
                line = line[labelled.end():]
                if not line.strip():
                    continue
            elif heading or titled:
                yield from flush()
                title = heading.group(1) if heading else line
                if not title.isupper():  # "DESCRIPTION", "EXIT STATUS": a section of the same thing
                    subject = _title_subject(title, doc_lower)
                yield title.strip(), subject, "heading"
                continue
            marked = bool(_MARKER.match(line))
            line = _MARKER.sub("", line).strip()
            if marked or re.match(r"^[A-Z][\w '/()-]{0,40}:\s", line):
                yield from flush()
            unit.append(line)
        yield from flush()


def _candidates(text: str) -> list[list[SelfQuestion]]:
    """Per fact (one answer span of one sentence), its question variants, in document order."""
    doc = _Doc.of(text)
    facts: list[list[SelfQuestion]] = []
    ctx = _Context()
    for sentence, subject, kind in _natural_units(text):
        if kind == "heading":
            ctx = _Context(topic=subject, person=subject if subject and _person_like(subject.split()) else None)
            continue
        found: dict[tuple[str, int, int], list[tuple[str, str]]] = {}

        def add(source, items):
            for form, q, s, e in items:
                found.setdefault((source, s, e), []).append((form, q))
        body = sentence
        field = re.match(r"^[A-Z][\w '/()-]{0,40}:\s+", sentence)
        if field:
            add(sentence, _field_items(sentence, ctx.topic))
            rest = sentence[field.end():]
            # "Notes: the K7 replaces the K5, which ...": the prose after a label is a sentence too
            body = rest[:1].upper() + rest[1:] if len(rest.split()) > 6 else ""
        cl = _clause(body) if body else None
        if cl is not None:
            subj = _subject_text(cl, ctx, doc)
            a, b = cl.subj
            names = [t.word for t in cl.toks[a:b]]
            if subj:
                add(body, _when_items(cl, subj))
                add(body, _where_items(cl, subj))
                add(body, _copula_items(cl, subj))
            add(body, _who_items(cl, subj))
            add(body, _how_items(cl, subj))
            add(body, _born_items(cl, subj, " ".join(names) if _person_like(names) else None))
            if _person_like(names):
                ctx.person = " ".join(w for w in names if w.lower() not in _TITLES)
            if (ctx.topic is None or kind == "first") and subj and cl.verb is None and cl.aux \
                    and cl.base == "be" and not cl.extras \
                    and cl.rest < len(cl.toks) and cl.toks[cl.rest].low in ("a", "an", "one") \
                    and all(t.cap for t in cl.toks[a:b] if t.low not in ("the", "of", "and")):
                ctx.topic = subj  # "The Miaxhaix River is a major river.": what "it" means from here on
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


def natural_questions(text: str, limit: int) -> list[SelfQuestion]:
    """Up to `limit` natural questions about `text`, each answered by a verbatim span of it.

    Each fact's first phrasing comes first, in document order; second phrasings ("What is the
    weight?" beside "What is the weight of the K7?", "In what year ...?" beside "When ...?") fill
    what is left of the limit. An answer is asked for twice at most. Deterministic."""
    facts = _candidates(text)
    items: list[SelfQuestion] = []
    seen: set[str] = set()
    asked: dict[str, int] = {}
    for round_ in range(max((len(f) for f in facts), default=0)):
        for variants in facts:
            if len(items) >= limit:
                return items
            if round_ >= len(variants):
                continue
            item = variants[round_]
            if item.question in seen or asked.get(item.answer, 0) >= 2:
                continue
            seen.add(item.question)
            asked[item.answer] = asked.get(item.answer, 0) + 1
            items.append(item)
    return items


def mixed_questions(text: str, limit: int) -> list[SelfQuestion]:
    """Natural questions and blanks interleaved, natural first: n, b, n, b, ...; when one kind runs
    out the other fills the rest of the limit. Deterministic."""
    natural, blanks = natural_questions(text, limit), self_questions(text, limit)
    items: list[SelfQuestion] = []
    for i in range(max(len(natural), len(blanks))):
        items += natural[i:i + 1] + blanks[i:i + 1]
    return items[:limit]


def question_yield(text: str) -> dict:
    """How many items a document offers with no limit: its sentences, blanks, natural questions
    (every phrasing), natural facts (answer spans asked about: first phrasings only), and the
    natural questions by form."""
    big = 1 << 30
    natural = natural_questions(text, big)
    by_form: dict[str, int] = {}
    for item in natural:
        by_form[item.form] = by_form.get(item.form, 0) + 1
    return {"sentences": len(sentences(text)), "blanks": len(self_questions(text, big)),
            "natural": len(natural), "natural_facts": len(_candidates(text)), "by_form": dict(sorted(by_form.items()))}
