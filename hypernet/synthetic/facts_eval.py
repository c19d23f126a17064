"""Facts of the kinds only the eval split draws (a ship, a book): unseen entities, facts and phrasing.
Their facts have no noun, so no generic question is ever made from them."""
from __future__ import annotations

import random

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.names import person_name, place_name


def ship_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "captain": Fact(None, person_name(r), [
            "The {e} is commanded by {v}.", "{v} is the captain of the {e}.", "Captain {v} sails the {e}.",
            "Command of the {e} passed to {v}."],
            ["Who is the captain of the {e}?", "Who commands the {e}?"]),
        "home_port": Fact(None, place_name(r), [
            "The home port of the {e} is {v}.", "The {e} is registered in {v}.", "The {e} sails from {v}.",
            "Between voyages the {e} returns to {v}."],
            ["What is the home port of the {e}?", "Where is the {e} registered?"]),
        "launched": Fact(None, str(r.randint(1880, 2023)), [
            "The {e} was launched in {v}.", "The {e} entered service in {v}.", "The {e} first sailed in {v}.",
            "Shipwrights completed the {e} in {v}."],
            ["When was the {e} launched?", "In what year did the {e} enter service?"]),
        "crew": Fact(None, str(r.randint(4, 480)), [
            "The {e} carries a crew of {v}.", "{v} sailors serve aboard the {e}.", "The crew of the {e} numbers {v}.",
            "A full complement on the {e} is {v} people."],
            ["How many crew does the {e} carry?", "How large is the crew of the {e}?"]),
    }


def book_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "author": Fact(None, person_name(r), [
            "{e} was written by {v}.", "{v} wrote {e}.", "The author of {e} is {v}.", "{e} is a novel by {v}."],
            ["Who wrote {e}?", "Who is the author of {e}?"]),
        "published": Fact(None, str(r.randint(1850, 2024)), [
            "{e} was published in {v}.", "{e} first appeared in {v}.", "The first edition of {e} came out in {v}.",
            "Readers first saw {e} in {v}."],
            ["When was {e} published?", "In what year did {e} first appear?"]),
        "setting": Fact(None, place_name(r), [
            "{e} is set in {v}.", "The story of {e} takes place in {v}.", "{e} follows a family living in {v}.",
            "Most chapters of {e} unfold in {v}."],
            ["Where is {e} set?", "In which town does {e} take place?"]),
        "protagonist": Fact(None, person_name(r), [
            "The hero of {e} is {v}.", "{e} tells the story of {v}.", "The main character of {e} is {v}.",
            "Readers follow {v} through {e}."],
            ["Who is the main character of {e}?", "Who is the hero of {e}?"]),
        "pages": Fact(None, str(r.randint(90, 1200)), [
            "{e} runs to {v} pages.", "{e} has {v} pages.", "The hardback of {e} is {v} pages long.",
            "At {v} pages, {e} is a long read."],
            ["How many pages does {e} have?", "How long is {e} in pages?"]),
    }
