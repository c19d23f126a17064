"""Families that shape the form of any reply: letter case, a prefix, a sign-off, a wrapper, a bullet list,
a word limit, the language. Their inputs are any question, statement, ticket, note or review; the
last two description templates of each are the eval split's."""
from __future__ import annotations

from hypernet.tasks import checks, references
from hypernet.tasks.family import TaskFamily
from hypernet.tasks.inputs import any_input, question
from hypernet.tasks.words import LIST_ITEMS, PERSONAS, PREFIXES, WORD_LIMITS, WRAPPERS


def _persona(rng) -> dict:
    persona, sign_off = rng.choice(PERSONAS)
    return {"persona": persona, "sign_off": sign_off}


def _wrapper(rng) -> dict:
    opening, closing = rng.choice(WRAPPERS)
    return {"open": opening, "close": closing}


FORM_FAMILIES = [
    TaskFamily("upper_case", [
        "Write your whole reply in upper case letters.",
        "Answer using capital letters only.",
        "Every letter of the response must be uppercase.",
        "Respond in ALL CAPS.",
        "Use no lowercase letters at all in what you write.",
        "Shout the answer: capitals only, from the first letter to the last.",
        "Make sure the output contains uppercase letters exclusively.",
        "Type the response as if caps lock were stuck on.",
    ], any_input, checks.upper_case,
       reference=references.upper_case),
    TaskFamily("lower_case", [
        "Write your whole reply in lower case.",
        "Use only lowercase letters, no capitals anywhere.",
        "Do not use any capital letters in the answer.",
        "Respond entirely in small letters.",
        "Keep every letter of the response lowercase, even at the start of sentences and in names.",
        "No uppercase letters: write everything in lowercase.",
        "Answer without a single capital letter.",
        "Type the reply as if the shift key were broken, all in lowercase.",
    ], any_input, checks.lower_case,
       reference=references.lower_case),
    TaskFamily("prefix", [
        'Begin every reply with "{prefix}".',
        "Start your answer with the exact text {prefix}",
        'The response must open with "{prefix}" followed by the answer.',
        'Put "{prefix}" at the very beginning of the output.',
        'Always lead with the marker "{prefix}", then answer.',
        'Prefix the answer with "{prefix}".',
        'Whatever you write, the first characters must be "{prefix}".',
        'Open the output with the string "{prefix}" and continue after it.',
    ], any_input, checks.starts_with_prefix, params=lambda rng: {"prefix": rng.choice(PREFIXES)},
       reference=references.prefix),
    TaskFamily("sign_off", [
        'You are {persona}. End every reply with the sign-off "{sign_off}".',
        'Answer in the voice of {persona} and finish with "{sign_off}".',
        'Close the response with the line "{sign_off}".',
        'Sign off as {persona}: the last words must be "{sign_off}".',
        'Write as {persona}, always ending your message with "{sign_off}".',
        "Finish every answer with this signature: {sign_off}",
        'Play {persona}; the reply has to conclude with "{sign_off}".',
        'The final line of the output is always "{sign_off}", as {persona} would write it.',
    ], any_input, checks.signs_off, params=_persona,
       reference=references.sign_off),
    TaskFamily("wrap", [
        "Wrap the whole answer in {open} and {close}.",
        "Put the entire reply between {open} and {close}.",
        "Enclose your response: start with {open} and end with {close}.",
        "The output must begin with {open} and finish with {close}, with the answer inside.",
        "Surround the answer with {open} on the left and {close} on the right.",
        "Place everything you write inside the pair {open} {close}.",
        "Bracket the full response, opening with {open} and closing with {close}.",
        "Your reply goes between the markers {open} and {close}, nothing outside them.",
    ], any_input, checks.wrapped, params=_wrapper,
       reference=references.wrap),
    TaskFamily("bullets", [
        'Answer as a bulleted list of {items} items, each line starting with "- ".',
        "Reply with exactly {items} bullet points, one per line, each beginning with a dash and a space.",
        'Format the response as {items} lines that each start with "- ".',
        'Give {items} points as a dash list ("- " at the start of every line), nothing else.',
        'Write a list of {items} bullets using "- " markers.',
        'Break the answer into {items} bullet points; every line begins "- ".',
        'Use a hyphen list: {items} lines, each opening with "- ", and no other text.',
        'The output is {items} dash-prefixed lines ("- "), one idea per line.',
    ], question, checks.bullet_list, params=lambda rng: {"items": rng.choice(LIST_ITEMS)},
       reference=references.bullets),
    TaskFamily("max_words", [
        "Answer in at most {limit} words.",
        "Keep the reply to {limit} words or fewer.",
        "Use no more than {limit} words.",
        "Be brief: the response may not exceed {limit} words.",
        "Limit yourself to {limit} words at most.",
        "Write a short reply of {limit} words maximum.",
        "The whole output has to fit within {limit} words.",
        "Do not go over {limit} words in total.",
    ], any_input, checks.at_most_words, params=lambda rng: {"limit": rng.choice(WORD_LIMITS)},
       reference=references.max_words),
    TaskFamily("french", [
        "Answer in {language}.",
        "Reply in {language} only.",
        "Write your response in the {language} language.",
        "Use {language} for the whole answer, whatever language the input is in.",
        "The reply must be written in {language}.",
        "All output should be in {language}, not English.",
        "Give the answer in {language}, as a native speaker would.",
        "Compose the response in {language} (no English).",
    ], any_input, checks.in_language, params=lambda rng: {"language": "French"}),
]
