"""Facts of the first document kinds: a person, a company, a town, a product, a species, an event.

Each fact function draws one entity's facts; every fact lists its statements and questions with the
held-out (eval-only) template last.
"""
from __future__ import annotations

import random

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.names import name_word, org_name, person_name, place_name
from hypernet.synthetic.values import date_str
from hypernet.synthetic.words import COLORS, FOODS, HABITATS, INDUSTRIES, INSTRUMENTS, MATERIALS, PROFESSIONS


def person_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "born_year": Fact("birth year", str(r.randint(1920, 2001)), [
            "{e} was born in {v}.", "Born in {v}, {e} grew up in a large family.",
            "{e}'s birth year is recorded as {v}.", "The year {v} saw the birth of {e}."],
            ["In what year was {e} born?", "What year was {e} born in?", "When was {e} born (year)?"]),
        "birthplace": Fact("birthplace", place_name(r), [
            "{e} was born in the town of {v}.", "{e} comes from {v}.", "{e}'s hometown is {v}.",
            "Before moving away, {e} spent a childhood in {v}."],
            ["Where was {e} born?", "What is the hometown of {e}?", "Which town does {e} come from?"]),
        "job": Fact("profession", r.choice(PROFESSIONS), [
            "{e} works as a {v}.", "By profession, {e} is a {v}.", "{e} has had a long career as a {v}.",
            "Colleagues know {e} as a respected {v}."],
            ["What is {e}'s profession?", "What does {e} do for a living?", "What job does {e} have?"]),
        "employer": Fact("employer", org_name(r), [
            "{e} is employed by {v}.", "{e} joined {v} early on.", "Since then {e} has worked at {v}.",
            "{v} is where {e} currently works."],
            ["Which organisation employs {e}?", "Where does {e} work?", "Who is {e}'s employer?"]),
        "instrument": Fact("instrument", r.choice(INSTRUMENTS), [
            "In spare time, {e} plays the {v}.", "{e} is an amateur {v} player.", "{e} learned to play the {v} as a child.",
            "Friends say {e} practises the {v} every evening."],
            ["What instrument does {e} play?", "Which musical instrument does {e} play?"]),
        "pet": Fact("dog's name", name_word(r, 1, 2), [
            "{e} has a dog named {v}.", "{e}'s dog is called {v}.", "A dog called {v} lives with {e}.",
            "{e} adopted a dog and named it {v}."],
            ["What is the name of {e}'s dog?", "What is {e}'s dog called?"]),
    }


def company_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "founded": Fact("founding year", str(r.randint(1890, 2022)), [
            "{e} was founded in {v}.", "Founded in {v}, {e} started as a small workshop.",
            "{e} has been in business since {v}.", "The company {e} was established in {v}."],
            ["When was {e} founded?", "In what year was {e} founded?", "What year was {e} established?"]),
        "hq": Fact("headquarters", place_name(r), [
            "{e} is headquartered in {v}.", "The head office of {e} is in {v}.", "{e} runs its operations from {v}.",
            "Its headquarters sit in the city of {v}."],
            ["Where is {e} headquartered?", "In which city is the head office of {e}?", "Where is {e} based?"]),
        "founder": Fact("founder", person_name(r), [
            "{e} was founded by {v}.", "{v} founded {e}.", "The founder of {e} is {v}.",
            "{v} started {e} with borrowed money."],
            ["Who founded {e}?", "Who is the founder of {e}?"]),
        "product": Fact("main product", r.choice(INDUSTRIES), [
            "{e} makes {v}.", "{e} is best known for its {v}.", "The main business of {e} is {v}.",
            "Most of the revenue of {e} comes from {v}."],
            ["What does {e} make?", "What is {e} known for producing?", "What is the main product of {e}?"]),
        "employees": Fact("number of employees", str(r.randint(12, 9800)), [
            "{e} employs {v} people.", "{e} has {v} employees.", "The workforce of {e} numbers {v}.",
            "About {v} staff work for {e}."],
            ["How many people does {e} employ?", "How many employees does {e} have?"]),
        "ceo": Fact("chief executive", person_name(r), [
            "The current CEO of {e} is {v}.", "{v} leads {e} as chief executive.", "{e} is run by {v}.",
            "Since last year, {v} has been chief executive of {e}."],
            ["Who is the CEO of {e}?", "Who runs {e}?", "Who is the chief executive of {e}?"]),
    }


def town_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "population": Fact("population", f"{r.randint(1, 99)},{r.randint(100, 999)}", [
            "{e} has a population of {v}.", "About {v} people live in {e}.", "The population of {e} is {v}.",
            "The last census counted {v} residents in {e}."],
            ["What is the population of {e}?", "How many people live in {e}?"]),
        "river": Fact("river", name_word(r, 2, 2) + " River", [
            "{e} lies on the {v}.", "The {v} flows through {e}.", "{e} was built along the banks of the {v}.",
            "Boats on the {v} once carried goods to {e}."],
            ["Which river flows through {e}?", "On what river does {e} lie?"]),
        "mayor": Fact("mayor", person_name(r), [
            "The mayor of {e} is {v}.", "{v} serves as mayor of {e}.", "{e} elected {v} as mayor.",
            "{v} was chosen to lead the town council of {e}."],
            ["Who is the mayor of {e}?", "Who serves as mayor of {e}?"]),
        "festival": Fact("festival", f"{name_word(r, 2, 2)} Festival", [
            "Every summer {e} hosts the {v}.", "{e} is famous for the {v}.", "The {v} takes place in {e} each year.",
            "Thousands travel to {e} for the {v}."],
            ["What festival does {e} host?", "What annual festival takes place in {e}?"]),
        "dish": Fact("local speciality", r.choice(FOODS), [
            "The local speciality of {e} is {v}.", "Visitors to {e} often try {v}.", "{e} is known for its {v}.",
            "No meal in {e} is complete without {v}."],
            ["What is the local speciality of {e}?", "What dish is {e} known for?"]),
        "founded": Fact("founding year", str(r.randint(1100, 1900)), [
            "{e} was founded in {v}.", "The first settlers reached {e} in {v}.", "{e} dates back to {v}.",
            "Records show that {e} received its charter in {v}."],
            ["When was {e} founded?", "In what year was {e} founded?"]),
    }


def product_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "maker": Fact("maker", org_name(r), [
            "The {e} is made by {v}.", "{v} manufactures the {e}.", "The {e} comes from {v}.",
            "Engineers at {v} designed the {e}."],
            ["Who makes the {e}?", "Which company manufactures the {e}?"]),
        "weight": Fact("weight", f"{r.randint(2, 95)}{r.choice(['', '.5'])} kg", [
            "The {e} weighs {v}.", "At {v}, the {e} is easy to carry.", "The {e} has a weight of {v}.",
            "Its total weight is {v}."],
            ["How much does the {e} weigh?", "What is the weight of the {e}?"]),
        "price": Fact("price", f"${r.randint(19, 4999)}", [
            "The {e} sells for {v}.", "The {e} costs {v}.", "The retail price of the {e} is {v}.",
            "Shops list the {e} at {v}."],
            ["How much does the {e} cost?", "What is the price of the {e}?"]),
        "color": Fact("colour", r.choice(COLORS), [
            "The {e} is sold in {v}.", "The {e} comes in {v} only.", "Its casing is {v}.",
            "Buyers can only order the {e} in {v}."],
            ["What color is the {e}?", "In what color is the {e} sold?"]),
        "material": Fact("material", r.choice(MATERIALS), [
            "The frame of the {e} is made of {v}.", "The {e} is built from {v}.", "Its body uses {v}.",
            "Designers chose {v} for the frame of the {e}."],
            ["What material is the {e} made of?", "What is the frame of the {e} made of?"]),
        "released": Fact("release date", date_str(r, 1990, 2025), [
            "The {e} was released on {v}.", "The {e} went on sale on {v}.", "Launch day for the {e} was {v}.",
            "The first units of the {e} shipped on {v}."],
            ["When was the {e} released?", "On what date did the {e} go on sale?"]),
    }


def species_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "habitat": Fact("habitat", r.choice(HABITATS), [
            "The {e} lives in {v}.", "The {e} is found only in {v}.", "Its habitat is {v}.",
            "Researchers look for the {e} in {v}."],
            ["Where does the {e} live?", "What is the habitat of the {e}?"]),
        "discoverer": Fact("discoverer", person_name(r), [
            "The {e} was first described by {v}.", "{v} discovered the {e}.", "The {e} was discovered by {v}.",
            "Credit for finding the {e} goes to {v}."],
            ["Who discovered the {e}?", "Who first described the {e}?"]),
        "length": Fact("length", f"{r.randint(2, 90)} millimetres", [
            "Adults of the {e} reach {v} in length.", "The {e} grows to {v}.", "The {e} measures about {v}.",
            "A typical {e} is {v} long."],
            ["How long is the {e}?", "What length does the {e} reach?"]),
        "diet": Fact("diet", r.choice(["nectar", "algae", "small insects", "fallen fruit", "moss", "seeds", "plankton"]), [
            "The {e} feeds on {v}.", "Its diet consists of {v}.", "The {e} survives mostly on {v}.",
            "Observers have watched the {e} eating {v}."],
            ["What does the {e} eat?", "What does the {e} feed on?"]),
        "year": Fact("year of description", str(r.randint(1790, 2023)), [
            "The {e} was described in {v}.", "Scientists named the {e} in {v}.", "The first record of the {e} dates from {v}.",
            "The {e} entered the catalogue in {v}."],
            ["When was the {e} described?", "In what year was the {e} named?"]),
    }


def event_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "date": Fact("date", date_str(r, 1950, 2025), [
            "The {e} took place on {v}.", "The {e} was held on {v}.", "On {v}, the {e} began.",
            "The {e} is remembered for the day it happened: {v}."],
            ["When did the {e} take place?", "On what date was the {e} held?"]),
        "venue": Fact("venue", place_name(r), [
            "The {e} was held in {v}.", "{v} hosted the {e}.", "The {e} took place in {v}.",
            "Organisers chose {v} as the venue for the {e}."],
            ["Where was the {e} held?", "Which town hosted the {e}?"]),
        "winner": Fact("winner", person_name(r), [
            "The {e} was won by {v}.", "{v} won the {e}.", "First prize at the {e} went to {v}.",
            "The winner of the {e} was {v}."],
            ["Who won the {e}?", "Who took first prize at the {e}?"]),
        "attendance": Fact("attendance", str(r.randint(150, 60000)), [
            "The {e} drew {v} spectators.", "Attendance at the {e} reached {v}.", "{v} people attended the {e}.",
            "Ticket records show {v} visitors at the {e}."],
            ["How many people attended the {e}?", "What was the attendance at the {e}?"]),
        "organiser": Fact("organiser", org_name(r), [
            "The {e} was organised by {v}.", "{v} organised the {e}.", "Organisation of the {e} fell to {v}.",
            "{v} ran the {e} for the first time."],
            ["Who organised the {e}?", "Which group organised the {e}?"]),
    }
