"""Short inputs the tasks are applied to: questions, statements, support tickets, product notes and reviews,
made up from word lists. Every generator takes the seeded `rng` and the task's params (most ignore them),
so a family names one generator whatever its params."""
from __future__ import annotations

import random

from hypernet.synthetic.values import date_any_style
from hypernet.synthetic.words import COLORS, FIRST_NAMES, MATERIALS
from hypernet.tasks.words import (ACTIVITIES, COMPLAINTS, COUNTABLES, EVENTS, FEATURES, LABEL_SETS, NEUTRAL,
                                  PLACES, PRAISE, PROBLEMS, PRODUCTS, THINGS, UNITS)


def question(rng: random.Random, params: dict | None = None) -> str:
    """An open question about an everyday activity or thing."""
    return rng.choice([
        f"What is the best way to {rng.choice(ACTIVITIES)}?",
        f"How long does it take to {rng.choice(ACTIVITIES)}?",
        f"Why do people like {rng.choice(THINGS)}?",
        f"Can you explain how {rng.choice(THINGS)} works?",
        f"What should a beginner know before trying to {rng.choice(ACTIVITIES)}?",
        f"Where would you put {rng.choice(THINGS)} in a children's book?",
        f"Give me some tips to {rng.choice(ACTIVITIES)}.",
    ])


def statement(rng: random.Random, params: dict | None = None) -> str:
    """A sentence of news or a note to react to."""
    return rng.choice([
        f"{rng.choice(FIRST_NAMES)} wants to {rng.choice(ACTIVITIES)} before the summer.",
        f"The {rng.choice(PRODUCTS)} near {rng.choice(PLACES)} was replaced last week.",
        f"Our team will {rng.choice(ACTIVITIES)} together on {rng.choice(['Friday', 'Monday', 'the weekend'])}.",
        f"Tell me about {rng.choice(THINGS)}.",
        f"A new exhibition about {rng.choice(THINGS)} opens at {rng.choice(PLACES)} tomorrow.",
    ])


def ticket(rng: random.Random, params: dict | None = None) -> str:
    """A customer's support ticket."""
    name, product, problem = rng.choice(FIRST_NAMES), rng.choice(PRODUCTS), rng.choice(PROBLEMS)
    return rng.choice([
        f"Hi, this is {name}. My {product} {problem}. Order #{rng.randint(10000, 99999)}.",
        f"Ticket from {name}: the {product} {problem} and I need it fixed this week.",
        f"Hello support, the {product} I bought {problem}. What can you do?",
    ])


def product_note(rng: random.Random, params: dict | None = None) -> str:
    """A line of product notes."""
    product = rng.choice(PRODUCTS)
    return (f"{product[0].upper()}{product[1:]}: {rng.choice(MATERIALS)} body, {rng.choice(COLORS)}, "
            f"{rng.choice(FEATURES)}, {rng.randint(9, 499)} euros.")


def review(rng: random.Random, params: dict | None = None, tone: str | None = None) -> str:
    """A one-line product review; `tone` (positive, negative, neutral) picks its verdict."""
    tone = tone or rng.choice(["positive", "negative", "neutral"])
    verdict = rng.choice({"positive": PRAISE, "negative": COMPLAINTS, "neutral": NEUTRAL}[tone])
    return f"Review of the {rng.choice(PRODUCTS)}: it {verdict}."


def any_input(rng: random.Random, params: dict | None = None) -> str:
    """Any of the above: the input of the tasks that only constrain the output's form."""
    return rng.choice([question, question, statement, ticket, product_note, review])(rng, params)


def yes_no_question(rng: random.Random, params: dict | None = None) -> str:
    """A question one can answer with yes or no."""
    return rng.choice([
        f"Is {rng.choice(THINGS)} bigger than {rng.choice(THINGS)}?",
        f"Should I {rng.choice(ACTIVITIES)} before {rng.choice(EVENTS)}?",
        f"Can a child {rng.choice(ACTIVITIES)}?",
        f"Is it hard to {rng.choice(ACTIVITIES)}?",
        f"Does {rng.choice(THINGS)} need electricity?",
        f"Would you recommend the {rng.choice(PRODUCTS)} to a friend?",
    ])


def count_question(rng: random.Random, params: dict | None = None) -> str:
    """A question whose answer is a number: a sum, a product or a count."""
    a, b = rng.randint(2, 99), rng.randint(2, 99)
    what, of = rng.choice(COUNTABLES)
    return rng.choice([
        f"What is {a} plus {b}?",
        f"What is {a} times {rng.randint(2, 12)}?",
        f"How many {what} are there in {rng.randint(2, 9)} {of}s?",
        f"How many {what} does one {of} have?",
        f"I had {a + b} boxes of {rng.choice(['apples', 'nails', 'pencils', 'tea'])} and sold {b}. How many are left?",
    ])


def date_sentence(rng: random.Random, params: dict | None = None) -> str:
    """A sentence with one date written out in words."""
    date = date_any_style(rng, 1990, 2030)
    return rng.choice([
        f"{rng.choice(EVENTS).capitalize()} has been moved to {date}.",
        f"Please note that {rng.choice(EVENTS)} takes place on {date}.",
        f"{rng.choice(FIRST_NAMES)} signed the lease on {date}.",
        f"The invoice for the {rng.choice(PRODUCTS)} is dated {date}.",
    ])


_MEASURES = {
    "weight": ["How heavy is the {p}?", "What does a typical {p} weigh?"],
    "distance": ["How far is it from {pl} to the coast?", "How long is a day's hike around {pl}?"],
    "length": ["How long is the {p}?", "How tall is the door of {pl}?"],
    "volume": ["How much water does a bathtub hold?", "How much soup fits in a large pot?",
               "How much coffee does the cafe near {pl} pour in a large cup?"],
    "duration": ["How long does it take to {a}?", "How long is the walk to {pl}?"],
    "speed": ["How fast does a cyclist ride through {pl}?", "What is the speed limit near {pl}?"],
}


def measure_question(rng: random.Random, params: dict) -> str:
    """A question about a quantity of the kind the task's unit measures (`params["unit"]`)."""
    template = rng.choice(_MEASURES[UNITS[params["unit"]]])
    return template.format(p=rng.choice(PRODUCTS), pl=rng.choice(PLACES), a=rng.choice(ACTIVITIES))


def labelled_input(rng: random.Random, params: dict) -> str:
    """An input that belongs to one of the task's labels (`params["labels"]`, one of LABEL_SETS)."""
    kind = next(k for k, labels in LABEL_SETS.items() if labels == params["labels"])
    if kind == "sentiment":
        return review(rng, tone=rng.choice(params["labels"]))
    if kind == "dev":
        action = rng.choice(["export a report", "log in twice", "rotate the screen"])
        wish = rng.choice(["dark mode", "an offline mode", "CSV export"])
        gap = rng.choice(["which cable to use", "how to reset it", "what the red light means"])
        return rng.choice([f"The {rng.choice(PRODUCTS)} app crashes when I {action}.",
                           f"Please add {wish} to the {rng.choice(PRODUCTS)} app.", f"The manual does not say {gap}."])
    if kind == "spam":
        return rng.choice([f"WIN a free {rng.choice(PRODUCTS)} now!!! Click here to claim your prize.",
                           ticket(rng), statement(rng)])
    if kind == "intent":
        return rng.choice([question(rng), ticket(rng), review(rng, tone="positive")])
    return ticket(rng)  # topic and urgency
