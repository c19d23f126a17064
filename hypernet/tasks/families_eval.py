"""Families the eval split alone uses: each is a near relative of a training family (title case of the
letter-case ones, a numbered list of the bullets, a closing tag of the prefix and the sign-off, Spanish
of French), so eval measures whether an adapter follows a kind of instruction training never showed."""
from __future__ import annotations

from hypernet.tasks import checks
from hypernet.tasks.family import TaskFamily
from hypernet.tasks.inputs import any_input, question
from hypernet.tasks.words import LIST_ITEMS, TAGS

EVAL_FAMILIES = [
    TaskFamily("title_case", [
        "Capitalise the first letter of every word in your reply.",
        "Write the answer in Title Case: every word starts with a capital letter.",
        "Start each word of the response with an uppercase letter.",
        "Make every single word of the output begin with a capital.",
    ], any_input, checks.title_case, eval_only=True),
    TaskFamily("numbered_list", [
        'Answer as a numbered list of {items} items: "1. ", "2. " and so on.',
        "Reply with exactly {items} lines numbered 1., 2., ... in order.",
        'Write a list numbered from 1 to {items}, one item per line, like "1. first point".',
        "Give {items} numbered points, each line starting with its number and a full stop.",
    ], question, checks.numbered_list, params=lambda rng: {"items": rng.choice(LIST_ITEMS)}, eval_only=True),
    TaskFamily("end_tag", [
        "End every reply with the tag {tag}",
        'Finish the output with the marker "{tag}".',
        "The last thing you write must be {tag}",
        'Append "{tag}" at the very end of the answer.',
    ], any_input, checks.ends_with_tag, params=lambda rng: {"tag": rng.choice(TAGS)}, eval_only=True),
    TaskFamily("spanish", [
        "Respond in {language}, please.",
        "Reply only in {language}, whatever the language of the input.",
        "Write the response in the {language} language.",
        "Use {language} for everything you write.",
    ], any_input, checks.in_language, params=lambda rng: {"language": "Spanish"}, eval_only=True),
]
