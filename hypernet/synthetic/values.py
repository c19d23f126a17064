"""Values written as real prose writes them: thousands separators, ranges, money, two date styles."""
from __future__ import annotations

import random

from hypernet.synthetic.words import CURRENCIES, MONTHS


def date_str(rng: random.Random, lo: int = 1900, hi: int = 2024) -> str:
    return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(lo, hi)}"


def number(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi):,}"


def number_range(rng: random.Random, lo: int, hi: int) -> str:
    a = rng.randint(lo, hi - 1)
    return f"{a} to {rng.randint(a + 1, hi)}"


def money(rng: random.Random, lo: int, hi: int) -> str:
    n = number(rng, lo, hi)
    return f"${n}" if rng.random() < 0.3 else f"{n} {rng.choice(CURRENCIES)}"


def millions(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}.{rng.randint(1, 9)} million {rng.choice(CURRENCIES)}"


def percent(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}{rng.choice([' percent', '%'])}"


def date_any_style(rng: random.Random, lo: int = 1900, hi: int = 2024) -> str:
    """ "March 3, 1999" or "3 March 1999", even odds."""
    if rng.random() < 0.5:
        return date_str(rng, lo, hi)
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(lo, hi)}"
