"""Facts of encyclopedia-style kinds: a university, a river, a mountain, a disease, a club, a software
project, a bridge.

These kinds name several other people, places and organisations per document, so the reader has to
bind each name to its relation (founder vs president, rival vs home club) rather than grab any name.
"""
from __future__ import annotations

import random

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.names import name_word, org_name, person_name, place_name, syllable_word
from hypernet.synthetic.values import date_any_style, millions, number, number_range, percent
from hypernet.synthetic.words import (BRIDGE_MATERIALS, CAUSES, CLUB_SUFFIX, COLORS, FIELDS, FISH, LANGUAGES, LICENCES,
                                      PURPOSES, ROCKS, SYMPTOMS)


def university_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "founded": Fact("founding year", str(r.randint(1450, 1995)), [
            "{e} was founded in {v}.", "Founded in {v}, {e} began with a single faculty.",
            "{e} received its charter in {v}.", "Teaching at {e} started in {v}.",
            "The university traces its origins to {v}."],
            ["When was {e} founded?", "In what year was {e} founded?", "What year did {e} receive its charter?"]),
        "founder": Fact("founder", person_name(r), [
            "{e} was founded by {v}.", "{v} founded {e} with a bequest of land.", "The founder of {e} was {v}.",
            "{v}, a local merchant, paid for the first buildings of {e}.",
            "It was {v} who persuaded the city to establish the university."],
            ["Who founded {e}?", "Who was the founder of {e}?", "Whose money established {e}?"]),
        "city": Fact("city", place_name(r), [
            "{e} is located in {v}.", "The main campus of {e} lies in {v}.", "{e} is based in the city of {v}.",
            "Most students of {e} live in {v}.", "{v} has been home to the university since its foundation."],
            ["Where is {e} located?", "In which city is the main campus of {e}?", "Which city is {e} based in?"]),
        "students": Fact("number of students", number(r, 1200, 48000), [
            "{e} has {v} students.", "About {v} students are enrolled at {e}.", "Enrolment at {e} stands at {v}.",
            "{e} teaches some {v} students each year.", "The student body numbers {v}."],
            ["How many students does {e} have?", "How many students are enrolled at {e}?",
             "What is the enrolment at {e}?"]),
        "president": Fact("president", person_name(r), [
            "The current president of {e} is {v}.", "{v} serves as president of {e}.",
            "{e} is led by its president, {v}.", "{v} was appointed president of {e} after a long search.",
            "The head of the university today is {v}."],
            ["Who is the president of {e}?", "Who leads {e}?", "Who heads {e} today?"]),
        "known_for": Fact("best-known field", r.choice(FIELDS), [
            "{e} is best known for {v}.", "{e} has a strong reputation in {v}.",
            "Research at {e} focuses on {v}.", "Applicants choose {e} mainly for its {v} programme.",
            "Its strongest department is {v}."],
            ["What is {e} best known for?", "Which field is {e} known for?",
             "In which field does {e} have its strongest reputation?"]),
        "rival": Fact("rival", f"University of {place_name(r)}", [
            "The main rival of {e} is the {v}.", "{e} has a long rivalry with the {v}.",
            "Every spring {e} and the {v} hold a rowing race.", "Students of {e} compete each year against the {v}.",
            "Its oldest sporting rival is the {v}."],
            ["Which university is the rival of {e}?", "Who is the main rival of {e}?",
             "Which university does {e} compete against?"]),
        "endowment": Fact("endowment", millions(r, 12, 950), [
            "{e} has an endowment of {v}.", "The endowment of {e} is worth {v}.",
            "{e} manages an endowment of some {v}.", "Gifts have grown the endowment of {e} to {v}.",
            "Its endowment was last valued at {v}."],
            ["How large is the endowment of {e}?", "What is the endowment of {e} worth?",
             "What is the value of the endowment of {e}?"]),
    }


def river_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "length": Fact("length", f"{number(r, 40, 2900)} km" if r.random() < 0.6 else f"{r.randint(12, 99)}.{r.randint(1, 9)} km", [
            "The {e} is {v} long.", "The {e} runs for {v} from source to mouth.",
            "With a length of {v}, the {e} is the longest river in the province.", "The {e} flows for {v}.",
            "Its total length is {v}."],
            ["How long is the {e}?", "What is the length of the {e}?", "How many kilometres long is the {e}?"]),
        "source": Fact("source", f"Mount {name_word(r, 2, 2)}", [
            "The {e} rises on {v}.", "The source of the {e} is on {v}.", "The {e} begins as a spring high on {v}.",
            "Snowmelt from {v} feeds the upper {e}.", "Its source lies on {v}."],
            ["Where does the {e} rise?", "Where is the source of the {e}?", "On which mountain does the {e} begin?"]),
        "mouth": Fact("mouth", f"Lake {name_word(r, 2, 2)}" if r.random() < 0.5 else f"{name_word(r, 2, 2)} Bay", [
            "The {e} empties into {v}.", "The {e} flows into {v}.", "At its mouth the {e} meets {v}.",
            "The {e} ends in {v}.", "Eventually the river drains into {v}."],
            ["Where does the {e} flow into?", "Into what does the {e} empty?", "Where does the {e} end?"]),
        "tributary": Fact("main tributary", f"{name_word(r, 2, 2)} River", [
            "The main tributary of the {e} is the {v}.", "The {v} joins the {e} below the gorge.",
            "The {e} is fed by the {v}.", "The largest stream feeding the {e} is the {v}.",
            "Its chief tributary is the {v}."],
            ["What is the main tributary of the {e}?", "Which river joins the {e}?",
             "What is the chief tributary of the {e}?"]),
        "largest_city": Fact("largest city", place_name(r), [
            "The largest city on the {e} is {v}.", "{v} is the largest city on the {e}.",
            "The {e} passes through {v}, its largest city.",
            "More people live in {v} than anywhere else along the {e}.", "The biggest town on its banks is {v}."],
            ["What is the largest city on the {e}?", "Which city is the largest on the {e}?",
             "Which is the biggest town along the {e}?"]),
        "basin": Fact("basin area", f"{number(r, 300, 98000)} square kilometres", [
            "The {e} drains a basin of {v}.", "The drainage basin of the {e} covers {v}.",
            "The catchment of the {e} covers {v}.", "Rain falling on {v} of land ends up in the {e}.",
            "Its basin measures {v}."],
            ["How large is the basin of the {e}?", "What area does the {e} drain?",
             "What is the size of the catchment of the {e}?"]),
        "fish": Fact("best-known fish", r.choice(FISH), [
            "The {e} is known for its {v}.", "Anglers come to the {e} for {v}.",
            "The commonest fish in the {e} is the {v}.", "Fishermen on the {e} mostly catch {v}.",
            "The river's waters hold large numbers of {v}."],
            ["What fish is the {e} known for?", "Which fish do anglers catch in the {e}?",
             "What is the commonest fish in the {e}?"]),
        "discharge": Fact("average discharge", f"{number(r, 8, 4200)} cubic metres per second", [
            "The average discharge of the {e} is {v}.", "The {e} carries {v} on average.",
            "On average {v} of water pass through the lower {e}.", "At its mouth, the {e} discharges about {v}.",
            "Its mean flow is {v}."],
            ["What is the average discharge of the {e}?", "How much water does the {e} carry?",
             "What is the mean flow of the {e}?"]),
    }


def mountain_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "height": Fact("height", f"{number(r, 900, 8400)} metres", [
            "{e} rises to {v}.", "{e} is {v} high.", "The summit of {e} stands at {v} above sea level.",
            "At {v}, {e} is the highest point in the region.", "Its summit reaches {v}."],
            ["How high is {e}?", "What is the height of {e}?", "How tall is {e}?"]),
        "range": Fact("range", f"{name_word(r, 2, 2)} {r.choice(['Range', 'Mountains', 'Hills'])}", [
            "{e} belongs to the {v}.", "{e} is part of the {v}.", "{e} is the highest summit of the {v}.",
            "{e} stands at the northern end of the {v}.", "Geologists group it with the rest of the {v}."],
            ["Which range does {e} belong to?", "What mountain range is {e} part of?", "In which range is {e}?"]),
        "first_ascent": Fact("year of the first ascent", str(r.randint(1780, 1990)), [
            "{e} was first climbed in {v}.", "The first ascent of {e} was made in {v}.",
            "Nobody reached the top of {e} until {v}.", "In {v}, climbers stood on the summit of {e} for the first time.",
            "The summit was first reached in {v}."],
            ["When was {e} first climbed?", "In what year was the first ascent of {e}?",
             "What year did climbers first reach the top of {e}?"]),
        "first_climber": Fact("first climber", person_name(r), [
            "{e} was first climbed by {v}.", "{v} made the first ascent of {e}.",
            "The first person to reach the summit of {e} was {v}.", "{v} led the party that first climbed {e}.",
            "Credit for the first ascent goes to {v}."],
            ["Who first climbed {e}?", "Who made the first ascent of {e}?",
             "Who was the first to reach the summit of {e}?"]),
        "nearest_town": Fact("nearest town", place_name(r), [
            "The nearest town to {e} is {v}.", "Climbers usually start from {v}, below {e}.",
            "{v} lies at the foot of {e}.", "Most routes up {e} begin in {v}.", "The closest settlement is {v}."],
            ["What is the nearest town to {e}?", "Which town lies at the foot of {e}?",
             "Where do climbs of {e} usually start?"]),
        "rock": Fact("rock", r.choice(ROCKS), [
            "{e} is made mostly of {v}.", "The summit of {e} is formed of {v}.", "The rock of {e} is mainly {v}.",
            "Climbers on {e} find good holds in the {v}.", "The upper slopes are bare {v}."],
            ["What rock is {e} made of?", "What is the main rock of {e}?", "What is the summit of {e} formed of?"]),
        "climb_time": Fact("climbing time", f"{number_range(r, 3, 14)} hours", [
            "A round trip to the top of {e} takes {v}.", "Climbing {e} takes {v}.",
            "Most parties need {v} to climb {e}.", "Allow {v} for the ascent of {e}.",
            "The normal route needs {v} there and back."],
            ["How long does it take to climb {e}?", "How many hours does the ascent of {e} take?",
             "How long is a round trip up {e}?"]),
    }


def disease_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "cause": Fact("cause", r.choice(CAUSES), [
            "{e} is caused by {v}.", "The cause of {e} is {v}.", "Doctors trace {e} to {v}.",
            "Most cases of {e} result from {v}.", "Its underlying cause is {v}."],
            ["What causes {e}?", "What is the cause of {e}?", "What is {e} caused by?"]),
        "symptom": Fact("first symptom", r.choice(SYMPTOMS), [
            "The first symptom of {e} is usually {v}.", "Patients with {e} typically develop {v}.",
            "{e} begins with {v}.", "The most common sign of {e} is {v}.", "Most patients first notice {v}."],
            ["What is the first symptom of {e}?", "What symptom do patients with {e} develop?",
             "What is the most common sign of {e}?"]),
        "incubation": Fact("incubation period", f"{number_range(r, 2, 21)} days", [
            "The incubation period of {e} is {v}.", "Symptoms of {e} appear {v} after exposure.",
            "{e} incubates for {v}.", "It takes {v} for {e} to show itself.",
            "Signs of illness follow exposure by {v}."],
            ["What is the incubation period of {e}?", "How long after exposure do symptoms of {e} appear?",
             "How long does {e} incubate?"]),
        "described_by": Fact("first describer", person_name(r), [
            "{e} was first described by {v}.", "{v} first described {e}.", "The physician {v} identified {e}.",
            "The first account of {e} was written by {v}.", "Credit for identifying the condition goes to {v}."],
            ["Who first described {e}?", "Who identified {e}?", "Who wrote the first account of {e}?"]),
        "described": Fact("year of first description", str(r.randint(1850, 2015)), [
            "{e} was first described in {v}.", "{e} was identified in {v}.",
            "The first case of {e} was recorded in {v}.",
            "Since {v}, doctors have recognised {e} as a distinct illness.", "Its first description dates from {v}."],
            ["When was {e} first described?", "In what year was {e} identified?",
             "When was the first case of {e} recorded?"]),
        "treatment_centre": Fact("leading treatment centre", f"{place_name(r)} {r.choice(['General Hospital', 'Royal Infirmary', 'University Clinic'])}", [
            "The leading centre for {e} is {v}.", "Most patients with {e} are treated at {v}.",
            "{v} runs the largest clinic for {e}.", "Specialists at {v} treat most cases of {e}.",
            "The main treatment centre is {v}."],
            ["Which hospital is the leading centre for {e}?", "Where are most patients with {e} treated?",
             "Which hospital treats most cases of {e}?"]),
        "treatment": Fact("treatment", syllable_word(r, 2) + r.choice(["mycin", "vir", "zole", "pril", "mab"]), [
            "{e} is treated with {v}.", "The standard treatment for {e} is {v}.", "Doctors prescribe {v} for {e}.",
            "Most patients with {e} recover after a course of {v}.", "The usual drug is {v}."],
            ["How is {e} treated?", "What drug is used to treat {e}?", "What is the standard treatment for {e}?"]),
        "mortality": Fact("death rate", percent(r, 1, 40), [
            "{e} kills {v} of untreated patients.", "The death rate of {e} is {v} without treatment.",
            "Without treatment, {v} of people with {e} die.", "Untreated, {e} is fatal in {v} of cases.",
            "Mortality among untreated patients is {v}."],
            ["What is the death rate of untreated {e}?", "What share of untreated patients die of {e}?",
             "How deadly is {e} without treatment?"]),
    }


def club_facts(r: random.Random) -> dict[str, Fact]:
    first, second = r.sample(COLORS, 2)
    return {
        "founded": Fact("founding year", str(r.randint(1860, 2010)), [
            "{e} was founded in {v}.", "{e} was formed in {v}.", "{e} played its first match in {v}.",
            "The club {e} dates from {v}.", "Formed in {v}, the club turned professional a decade later."],
            ["When was {e} founded?", "In what year was {e} formed?", "What year does {e} date from?"]),
        "stadium": Fact("stadium", f"{name_word(r, 2, 2)} {r.choice(['Park', 'Stadium', 'Ground', 'Arena'])}", [
            "{e} plays its home games at {v}.", "The home ground of {e} is {v}.",
            "{v} has been home to {e} for decades.", "Fans of {e} fill {v} every other Saturday.",
            "Home matches are played at {v}."],
            ["Where does {e} play its home games?", "What is the home ground of {e}?",
             "What is the name of the stadium of {e}?"]),
        "capacity": Fact("stadium capacity", number(r, 2000, 65000), [
            "The stadium of {e} holds {v} spectators.", "The ground of {e} has a capacity of {v}.",
            "Up to {v} fans can watch {e} at home.", "Home games of {e} can draw {v} people.",
            "The ground seats {v}."],
            ["How many spectators does the stadium of {e} hold?", "What is the capacity of the ground of {e}?",
             "How many fans can watch {e} at home?"]),
        "head_coach": Fact("head coach", person_name(r), [
            "The head coach of {e} is {v}.", "{v} coaches {e}.", "{e} is managed by {v}.",
            "{v} took charge of {e} two seasons ago.", "The team's manager is {v}."],
            ["Who is the head coach of {e}?", "Who manages {e}?", "Who coaches {e}?"]),
        "captain": Fact("captain", person_name(r), [
            "The captain of {e} is {v}.", "{v} captains {e}.", "{v} wears the armband for {e}.",
            "{e} is captained by {v}.", "The side is led on the pitch by {v}."],
            ["Who is the captain of {e}?", "Who captains {e}?", "Who leads {e} on the pitch?"]),
        "rival": Fact("main rival", f"{place_name(r)} {r.choice(CLUB_SUFFIX)}", [
            "The fiercest rival of {e} is {v}.", "Matches between {e} and {v} are the highlight of the season.",
            "{e} and {v} have been rivals for a century.", "No fixture matters more to {e} than the one against {v}.",
            "Its local derby is against {v}."],
            ["Who is the main rival of {e}?", "Which club is the fiercest rival of {e}?",
             "Which team are the derby opponents of {e}?"]),
        "titles": Fact("number of league titles", str(r.randint(2, 30)), [
            "{e} has won the league {v} times.", "{e} has {v} league titles.",
            "The trophy cabinet of {e} holds {v} league titles.", "In total {e} has been champion {v} times.",
            "The club has claimed {v} championships."],
            ["How many league titles has {e} won?", "How many times has {e} won the league?",
             "How many championships does {e} have?"]),
        "colours": Fact("colours", f"{first} and {second}", [
            "{e} plays in {v}.", "The colours of {e} are {v}.", "The shirts of {e} are {v}.",
            "Supporters of {e} wear {v}.", "The team's kit is {v}."],
            ["What are the colours of {e}?", "What colours does {e} play in?", "What colour is the kit of {e}?"]),
    }


def software_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "language": Fact("programming language", r.choice(LANGUAGES), [
            "{e} is written in {v}.", "{e} is implemented in {v}.", "The code of {e} is written in {v}.",
            "Most of {e} is {v} code.", "Its source code is in {v}."],
            ["What language is {e} written in?", "In which programming language is {e} implemented?",
             "What programming language is {e} written in?"]),
        "creator": Fact("creator", person_name(r), [
            "{e} was created by {v}.", "{v} wrote the first version of {e}.", "{v} started {e} as a side project.",
            "The original author of {e} is {v}.", "The project was begun by {v}."],
            ["Who created {e}?", "Who wrote the first version of {e}?", "Who is the original author of {e}?"]),
        "first_release": Fact("first release date", date_any_style(r, 1995, 2024), [
            "{e} was first released on {v}.", "The first public release of {e} came out on {v}.",
            "Version 1.0 of {e} appeared on {v}.", "{e} has been public since {v}.",
            "Its first release is dated {v}."],
            ["When was {e} first released?", "On what date did {e} first appear?",
             "When did the first release of {e} come out?"]),
        "latest_version": Fact("latest version", f"{r.randint(1, 9)}.{r.randint(0, 24)}.{r.randint(0, 9)}", [
            "The latest release of {e} is version {v}.", "{e} is now at version {v}.",
            "Version {v} of {e} is the current stable release.", "The current version of {e} is {v}.",
            "The newest stable release is {v}."],
            ["What is the latest version of {e}?", "What is the current release of {e}?",
             "Which version of {e} is the current stable release?"]),
        "licence": Fact("licence", r.choice(LICENCES), [
            "{e} is released under the {v}.", "{e} is distributed under the {v}.", "The licence of {e} is the {v}.",
            "Anyone may reuse {e} under the terms of the {v}.", "The code is published under the {v}."],
            ["What licence is {e} released under?", "Under which licence is {e} distributed?",
             "What is the licence of {e}?"]),
        "maintainer": Fact("maintainer", org_name(r), [
            "{e} is maintained by {v}.", "Development of {e} is funded by {v}.", "{v} maintains {e}.",
            "{v} took over maintenance of {e} a few years ago.", "Today the project is looked after by {v}."],
            ["Who maintains {e}?", "Which organisation maintains {e}?", "Who looks after {e} today?"]),
        "contributors": Fact("number of contributors", number(r, 12, 4800), [
            "{e} has {v} contributors.", "More than {v} people have contributed to {e}.",
            "The code of {e} comes from {v} contributors.", "{v} developers have contributed to {e}.",
            "Its contributor count stands at {v}."],
            ["How many contributors does {e} have?", "How many people have contributed to {e}?",
             "How many developers have worked on {e}?"]),
        "purpose": Fact("purpose", r.choice(PURPOSES), [
            "{e} is a tool for {v}.", "{e} is used for {v}.", "Developers use {e} for {v}.",
            "{e} was built for {v}.", "The library exists for {v}."],
            ["What is {e} used for?", "What is {e} a tool for?", "What was {e} built for?"]),
    }


def bridge_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "length": Fact("length", f"{number(r, 40, 3800)} metres", [
            "{e} is {v} long.", "{e} has a total length of {v}.", "{e} spans {v}.",
            "From end to end, {e} measures {v}.", "The structure stretches {v}."],
            ["How long is {e}?", "What is the length of {e}?", "What is the total length of {e}?"]),
        "opened": Fact("opening date", date_any_style(r, 1820, 2023), [
            "{e} opened on {v}.", "{e} was opened to traffic on {v}.", "The first vehicles crossed {e} on {v}.",
            "{e} was inaugurated on {v}.", "Traffic began using it on {v}."],
            ["When did {e} open?", "On what date was {e} opened?", "When was {e} opened to traffic?"]),
        "engineer": Fact("designer", person_name(r), [
            "{e} was designed by {v}.", "{v} was the engineer of {e}.", "The engineer {v} drew the plans for {e}.",
            "{v} designed {e}.", "Its designer was the engineer {v}."],
            ["Who designed {e}?", "Who was the engineer of {e}?", "Which engineer designed {e}?"]),
        "builder": Fact("builder", org_name(r), [
            "{e} was built by {v}.", "{v} built {e}.", "Construction of {e} was carried out by {v}.",
            "{v} won the contract to build {e}.", "The builders were {v}."],
            ["Who built {e}?", "Which company built {e}?", "Who carried out the construction of {e}?"]),
        "crosses": Fact("river it crosses", f"{name_word(r, 2, 2)} River", [
            "{e} crosses the {v}.", "{e} carries the road over the {v}.", "{e} spans the {v}.",
            "{e} links the two banks of the {v}.", "Below the deck flows the {v}."],
            ["What river does {e} cross?", "Which river does {e} span?", "What does {e} cross?"]),
        "cost": Fact("cost", millions(r, 2, 900), [
            "{e} cost {v} to build.", "Building {e} cost {v}.", "The final cost of {e} was {v}.",
            "{e} was completed for {v}.", "The total bill came to {v}."],
            ["How much did {e} cost?", "What was the cost of building {e}?", "How much did it cost to build {e}?"]),
        "material": Fact("material", r.choice(BRIDGE_MATERIALS), [
            "{e} is built of {v}.", "{e} is made of {v}.", "The main material of {e} is {v}.",
            "The arches of {e} are {v}.", "The builders used {v} throughout."],
            ["What is {e} made of?", "What material is {e} built from?", "What is the main material of {e}?"]),
        "daily_traffic": Fact("daily traffic", f"{number(r, 800, 160000)} vehicles", [
            "{e} carries {v} a day.", "About {v} cross {e} each day.", "Daily traffic on {e} is {v}.",
            "On a typical day {v} use {e}.", "Counts show {v} crossing every day."],
            ["How many vehicles cross {e} each day?", "What is the daily traffic on {e}?",
             "How much traffic does {e} carry per day?"]),
    }
