"""Invented names: people, places, organisations, codes and titles, from syllables or real words."""
from __future__ import annotations

import random
from typing import Sequence

from hypernet.synthetic.words import CODAS, FIRST_NAMES, ONSETS, ORG_KIND, PLACE_SUFFIX, VOWELS


class NamesRandom(random.Random):
    """A seeded Random that also carries real words (say, the capitalised words of the base model's
    vocabulary): that share of invented names then comes from them instead of made-up syllables.

    Names made only of syllables teach the hypernetwork one invented style, and its adapters answer
    in that style on real documents ("Thethourk Institute"); real words break that prior. With no
    words it draws exactly what a plain Random with the same seed draws.
    """

    def __init__(self, seed: int, words: Sequence[str] = (), share: float = 0.5):
        super().__init__(seed)
        self.words = tuple(words)
        self.share = share


def syllable_word(rng: random.Random, syllables: int) -> str:
    """An invented lower-case word of that many syllables."""
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))


def name_word(rng: random.Random, lo: int = 2, hi: int = 3) -> str:
    """One capitalised word of a name: invented, or for NamesRandom's share a real word."""
    words = getattr(rng, "words", ())
    if words and rng.random() < rng.share:
        return rng.choice(words)
    return syllable_word(rng, rng.randint(lo, hi)).capitalize()


def person_name(rng: random.Random) -> str:
    return f"{first_name(rng)} {name_word(rng)}"


def first_name(rng: random.Random) -> str:
    """A first name from the list or, for NamesRandom's share, a vocabulary word, so adapters learn
    to read a first name instead of picking the nearest listed one ("Keiko" for "Beatrix")."""
    words = getattr(rng, "words", ())
    if words and rng.random() < rng.share:
        return rng.choice(words)
    return rng.choice(FIRST_NAMES)


def place_name(rng: random.Random) -> str:
    return name_word(rng, 1, 2) + rng.choice(PLACE_SUFFIX)


def org_name(rng: random.Random) -> str:
    return f"{name_word(rng)} {rng.choice(ORG_KIND)}"


def code(r: random.Random, letters: int, digits: int) -> str:
    """A reference such as "KTR4821": capital letters, then a number of that many digits."""
    prefix = "".join(r.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(letters))
    return prefix + str(r.randint(10 ** (digits - 1), 10 ** digits - 1))


def book_title(r: random.Random) -> str:
    return "The " + r.choice(["Quiet", "Last", "Hidden", "Silver", "Broken", "Northern", "Distant"]) + " " \
        + name_word(r, 2, 2)
