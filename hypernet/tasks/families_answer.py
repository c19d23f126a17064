"""Families that fix what kind of answer is given: JSON with given keys, a label from a given set, a
number, a date in ISO form, yes or no, a quantity in a given unit. Each draws inputs that invite that
answer; the last two description templates of each are the eval split's."""
from __future__ import annotations

from hypernet.tasks import checks, references
from hypernet.tasks.family import TaskFamily
from hypernet.tasks.inputs import (any_input, count_question, date_sentence, labelled_input, measure_question,
                                   yes_no_question)
from hypernet.tasks.words import JSON_KEYS, LABEL_SETS, UNITS

ANSWER_FAMILIES = [
    TaskFamily("json_keys", [
        "Reply with a JSON object that has exactly these keys: {keys}.",
        "Return only JSON, with the keys {keys_quoted} and no others.",
        "Format the answer as a JSON object containing the fields {keys}.",
        "Output valid JSON: one object whose keys are {keys_quoted}.",
        "Answer in JSON. Use the keys {keys} and nothing else.",
        "Give the result as a JSON dictionary with keys {keys_quoted}.",
        "Produce a single JSON object; its only fields must be {keys_quoted}.",
        "Encode the reply as JSON with exactly the keys {keys} (no extra keys, no text around it).",
    ], any_input, checks.json_with_keys, params=lambda rng: {"keys": list(rng.choice(JSON_KEYS))},
       reference=references.json_keys),
    TaskFamily("label", [
        "Classify the input as one of: {labels_or}. Reply with the label only.",
        "Choose exactly one label from {labels_quoted} and output just that label.",
        "Which of these fits the input best: {labels_or}? Answer with one label from the list.",
        "Label the text. Allowed labels: {labels_quoted}. Output nothing but the label.",
        "Sort the input into one category ({labels_or}) and write only the category name.",
        "Respond with a single label, {labels_or}, and no explanation.",
        "Assign the input to one of the classes {labels_quoted_or}; the output is that class name alone.",
        "Your entire reply must be one of the following labels: {labels_or}.",
    ], labelled_input, checks.one_label, params=lambda rng: {"labels": list(rng.choice(list(LABEL_SETS.values())))}),
    TaskFamily("number_only", [
        "Answer with a number only.",
        "Reply with just the numeric answer, no words.",
        "Output only the number and nothing else.",
        "Give the result as a bare number.",
        "Respond with a single number and no units or explanation.",
        "The answer must be a number alone, without any text.",
        "Write nothing except the figure itself.",
        "Only the numerical value, please: no sentence around it.",
    ], count_question, checks.number_only),
    TaskFamily("iso_date", [
        "Reply with the date in ISO format (YYYY-MM-DD) and nothing else.",
        "Give the date mentioned in the input as YYYY-MM-DD.",
        "Write the date as year-month-day with dashes, for example 2024-01-31, and no other text.",
        "Convert the date in the text to ISO 8601 (YYYY-MM-DD); output only the date.",
        "Answer with a single date formatted YYYY-MM-DD.",
        "Extract the date and print it in the form YYYY-MM-DD.",
        "Return just the date, four-digit year first, then month and day, separated by hyphens.",
        "Output the date from the input in ISO style, e.g. 1999-12-31, with nothing around it.",
    ], date_sentence, checks.iso_date,
       reference=references.iso_date),
    TaskFamily("yes_no", [
        "Answer only with yes or no.",
        "Reply with a single word: yes or no.",
        'Respond "yes" or "no" and nothing more.',
        "Give a one-word answer, either yes or no.",
        "Your reply must be exactly yes or no.",
        "Say yes or no, with no explanation.",
        "The output is either the word yes or the word no, nothing else.",
        "Decide, and write just yes or no.",
    ], yes_no_question, checks.yes_or_no),
    TaskFamily("unit", [
        "Answer with a number followed by the unit {unit}, nothing else.",
        "Give the value in {unit}, as a number and the unit only.",
        'Reply with one measurement in {unit} (for example "12 {unit}").',
        'Express the answer in {unit}: a number, then "{unit}".',
        "Respond with just a quantity in {unit}.",
        "State the amount as a number with the unit {unit} and no other words.",
        "Write only the figure and its unit, using {unit}.",
        'Output a single value measured in {unit}, like "3 {unit}", and nothing more.',
    ], measure_question, checks.number_with_unit, params=lambda rng: {"unit": rng.choice(sorted(UNITS))}),
]
