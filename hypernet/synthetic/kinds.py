"""The document kinds: each names its entity, draws its facts and opens with one of its intros."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.facts_articles import (bridge_facts, club_facts, disease_facts, mountain_facts, river_facts,
                                               software_facts, university_facts)
from hypernet.synthetic.facts_basic import (company_facts, event_facts, person_facts, product_facts, species_facts,
                                            town_facts)
from hypernet.synthetic.facts_eval import book_facts, ship_facts
from hypernet.synthetic.facts_records import (booking_facts, case_facts, job_facts, record_facts, tenancy_facts,
                                              trial_facts)
from hypernet.synthetic.facts_reports import (album_facts, expedition_facts, incident_facts, mission_facts,
                                              restaurant_facts)
from hypernet.synthetic.names import book_title, code, name_word, org_name, person_name, place_name
from hypernet.synthetic.words import ANIMALS, CLUB_SUFFIX, ROLES


@dataclass
class DocKind:
    """A kind of document: how its entity is named, its facts, and the sentences that open it."""

    name: str
    entity: Callable[[random.Random], str]
    facts: Callable[[random.Random], dict[str, Fact]]
    intros: list[str]
    eval_only: bool = False
    train_only: bool = False  # never drawn for eval files: held-out figures stay comparable


DOC_KINDS: list[DocKind] = [
    DocKind("person", person_name, person_facts,
            ["{e} is a well-known figure in the region.", "This is a short biography of {e}.", "Profile: {e}."]),
    DocKind("company", org_name, company_facts,
            ["{e} is a private company.", "Company overview: {e}.", "This profile describes {e}."]),
    DocKind("town", place_name, town_facts,
            ["{e} is a small town.", "A guide to {e}.", "{e} is a market town with a long history."]),
    DocKind("product", lambda r: f"{name_word(r, 2, 2)} {r.choice(['X', 'Pro', 'Mini', 'S', 'Max'])}{r.randint(1, 99)}", product_facts,
            ["Product sheet: {e}.", "The {e} is a consumer product.", "This page describes the {e}."]),
    DocKind("species", lambda r: f"{name_word(r, 2, 2).lower()} {r.choice(ANIMALS)}", species_facts,
            ["The {e} is a rare species.", "Species account: {e}.", "Field notes on the {e}."]),
    DocKind("event", lambda r: f"{name_word(r, 2, 2)} {r.choice(['Marathon', 'Chess Open', 'Regatta', 'Science Fair', 'Cup'])}", event_facts,
            ["Report on the {e}.", "The {e} is an annual competition.", "Results of the {e}."]),
    DocKind("university", lambda r: r.choice([f"University of {place_name(r)}", f"{name_word(r)} College",
                                              f"{place_name(r)} Institute of Technology"]), university_facts,
            ["{e} is a public research university.", "{e} is one of the oldest universities in the country.",
             "This article is about {e}."]),
    DocKind("river", lambda r: f"{name_word(r, 2, 2)} River", river_facts,
            ["The {e} is a river in the north of the country.", "The {e} is a major river.",
             "This article describes the {e}."]),
    DocKind("mountain", lambda r: f"Mount {name_word(r)}" if r.random() < 0.5 else f"{name_word(r)} Peak", mountain_facts,
            ["{e} is a mountain in the northern highlands.", "{e} is a prominent peak.", "Climbing guide: {e}."]),
    DocKind("disease", lambda r: f"{name_word(r, 2, 2)} {r.choice(['fever', 'syndrome', 'disease'])}", disease_facts,
            ["{e} is a rare illness.", "Patient information: {e}.", "{e} is a medical condition first seen in rural areas."]),
    DocKind("club", lambda r: f"{place_name(r)} {r.choice(CLUB_SUFFIX)}", club_facts,
            ["{e} is a professional football club.", "Club history: {e}.", "{e} is a football club with a loyal following."]),
    DocKind("software", lambda r: name_word(r, 2, 3), software_facts,
            ["{e} is an open-source software project.", "Project overview: {e}.", "{e} is a free software library."]),
    DocKind("bridge", lambda r: f"{name_word(r, 2, 2)} Bridge", bridge_facts,
            ["{e} is a road bridge.", "{e} is a listed structure.", "History of {e}."]),
    DocKind("expedition", lambda r: f"{name_word(r, 2, 2)} Expedition", expedition_facts,
            ["The {e} was a scientific expedition.", "Expedition report: the {e}.",
             "The {e} is remembered as one of the great journeys of its time."]),
    DocKind("album", lambda r: f"{name_word(r, 2, 2)} {r.choice(['Nights', 'Letters', 'Tapes', 'Sessions', 'Weather', 'Rooms'])}",
            album_facts, ["{e} is a studio album.", "Album review: {e}.", "{e} is a record that divided critics."]),
    DocKind("restaurant", lambda r: f"{name_word(r, 2, 2)} {r.choice(['Kitchen', 'Bistro', 'Tavern', 'Grill', 'Brasserie'])}",
            restaurant_facts, ["{e} is a restaurant.", "Restaurant review: {e}.", "{e} is a family-run restaurant."]),
    DocKind("mission", lambda r: f"{name_word(r, 2, 2)} {r.randint(1, 9)}", mission_facts,
            ["{e} is a robotic space mission.", "Mission summary: {e}.", "{e} is an uncrewed spacecraft."]),
    # Record-like reports: an identifier, not a name, is the entity.
    DocKind("incident", lambda r: f"Incident {r.choice(['INC', 'OPS', 'SEC', 'NET'])}-{r.randint(100, 9999)}",
            incident_facts, ["Post-incident report for {e}.", "{e} was a service outage.",
                             "This review covers {e}."]),
    # Arbitrary attributes of anything, in the generic forms only: relations no template lists.
    DocKind("record", lambda r: f"{name_word(r, 2, 2)} {r.choice(['Project', 'House', 'Estate', 'Programme', 'Station', 'Collection', 'Fund', 'Depot', 'Works'])}",
            record_facts, ["Record: {e}.", "Fact sheet for {e}.", "{e} is listed in the register."], train_only=True),
    DocKind("job", lambda r: f"the {r.choice(ROLES)} role at {org_name(r)}", job_facts,
            ["Job advert: {e}.", "{e} is open to applicants.", "We are recruiting for {e}."], train_only=True),
    DocKind("booking", lambda r: f"booking {code(r, 3, 4)}", booking_facts,
            ["Travel confirmation for {e}.", "Itinerary: {e}.", "This email confirms {e}."], train_only=True),
    DocKind("case", lambda r: f"{name_word(r, 2, 2)} v {name_word(r, 2, 3)}", case_facts,
            ["Case summary: {e}.", "{e} was a civil claim.", "Law report: {e}."], train_only=True),
    DocKind("trial", lambda r: f"the {code(r, 4, 1)} trial", trial_facts,
            ["Trial summary: {e}.", "{e} is a randomised controlled study.", "Study record for {e}."], train_only=True),
    DocKind("tenancy", lambda r: f"{r.randint(1, 240)} {name_word(r, 2, 2)} {r.choice(['Road', 'Street', 'Lane', 'Close'])}",
            tenancy_facts, ["Tenancy agreement: {e}.", "This agreement covers {e}.", "Letting details for {e}."],
            train_only=True),
    # Kinds the eval split alone uses: unseen entities, facts and phrasing.
    DocKind("ship", lambda r: f"{name_word(r, 2, 2)} {r.choice(['Star', 'Dawn', 'Spirit', 'Wind'])}", ship_facts,
            ["The {e} is a merchant vessel.", "Vessel record: {e}."], eval_only=True),
    DocKind("book", book_title, book_facts,
            ["{e} is a novel.", "Book notes: {e}."], eval_only=True),
]
