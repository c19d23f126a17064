"""Facts of report-style kinds, several names per document too: an expedition, an album, a
restaurant, a space mission, an incident."""
from __future__ import annotations

import random

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.names import name_word, org_name, person_name, place_name
from hypernet.synthetic.values import date_any_style, millions, money, number, percent
from hypernet.synthetic.words import CUISINES, FINDS, FOODS, INCIDENT_CAUSES, SYSTEMS, TARGETS, WEEKDAYS


def expedition_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "leader": Fact("leader", person_name(r), [
            "The {e} was led by {v}.", "{v} led the {e}.", "The leader of the {e} was {v}.",
            "{v} organised and led the {e}.", "Command of the party lay with {v}."],
            ["Who led the {e}?", "Who was the leader of the {e}?", "Who was in charge of the {e}?"]),
        "doctor": Fact("doctor", person_name(r), [
            "The doctor of the {e} was {v}.", "{v} served as doctor on the {e}.",
            "Medical care on the {e} was the job of {v}.", "{v} joined the {e} as its physician.",
            "The party's physician was {v}."],
            ["Who was the doctor of the {e}?", "Who served as physician on the {e}?",
             "Who looked after the health of the {e}?"]),
        "sponsor": Fact("sponsor", org_name(r), [
            "The {e} was funded by {v}.", "{v} paid for the {e}.", "The main sponsor of the {e} was {v}.",
            "Money for the {e} came from {v}.", "Its costs were met by {v}."],
            ["Who funded the {e}?", "Who was the sponsor of the {e}?", "Which organisation paid for the {e}?"]),
        "departed": Fact("departure date", date_any_style(r, 1870, 2020), [
            "The {e} set out on {v}.", "The {e} left port on {v}.", "On {v}, the {e} departed.",
            "The {e} began on {v}.", "The party sailed on {v}."],
            ["When did the {e} set out?", "On what date did the {e} depart?", "When did the {e} begin?"]),
        "destination": Fact("destination", f"{name_word(r, 2, 2)} {r.choice(['Glacier', 'Island', 'Plateau', 'Basin', 'Archipelago'])}", [
            "The {e} explored {v}.", "The goal of the {e} was {v}.", "The {e} travelled to {v}.",
            "The {e} spent two seasons surveying {v}.", "Its destination was {v}."],
            ["Where did the {e} go?", "What did the {e} explore?", "What was the destination of the {e}?"]),
        "members": Fact("number of members", str(r.randint(4, 60)), [
            "The {e} had {v} members.", "{v} people took part in the {e}.", "The party of the {e} numbered {v}.",
            "The {e} set out with {v} members.", "The team counted {v} people in all."],
            ["How many members did the {e} have?", "How many people took part in the {e}?",
             "How large was the party of the {e}?"]),
        "duration": Fact("duration", f"{r.randint(3, 30)} months" if r.random() < 0.5 else f"{r.randint(20, 400)} days", [
            "The {e} lasted {v}.", "The {e} spent {v} in the field.", "The {e} returned after {v}.",
            "In all, the {e} took {v}.", "The journey took {v} from start to finish."],
            ["How long did the {e} last?", "How long was the {e} in the field?", "How long did the {e} take?"]),
        "finding": Fact("main finding", r.choice(FINDS), [
            "The {e} discovered {v}.", "The most important find of the {e} was {v}.",
            "The {e} is remembered for finding {v}.", "Members of the {e} came back with reports of {v}.",
            "Its chief discovery was {v}."],
            ["What did the {e} discover?", "What was the main find of the {e}?",
             "What is the {e} remembered for finding?"]),
    }


def album_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "artist": Fact("artist", person_name(r), [
            "{e} is an album by {v}.", "{v} recorded {e}.", "{e} was written and sung by {v}.",
            "{e} is the third studio album by {v}.", "The record is credited to {v}."],
            ["Who recorded {e}?", "Who is {e} an album by?", "Which artist made {e}?"]),
        "producer": Fact("producer", person_name(r), [
            "{e} was produced by {v}.", "{v} produced {e}.", "The producer of {e} was {v}.",
            "{v} sat behind the mixing desk for {e}.", "Production duties fell to {v}."],
            ["Who produced {e}?", "Who was the producer of {e}?", "Who handled production of {e}?"]),
        "label": Fact("label", f"{name_word(r, 2, 2)} Records", [
            "{e} was released by {v}.", "{e} came out on {v}.", "{v} issued {e}.", "{v} put out {e}.",
            "The label behind it was {v}."],
            ["Which label released {e}?", "On what label did {e} come out?", "What record label issued {e}?"]),
        "released": Fact("release date", date_any_style(r, 1960, 2024), [
            "{e} was released on {v}.", "{e} reached shops on {v}.", "The release date of {e} was {v}.",
            "Fans first heard {e} on {v}.", "It appeared in stores on {v}."],
            ["When was {e} released?", "What is the release date of {e}?", "On what date did {e} come out?"]),
        "tracks": Fact("number of tracks", str(r.randint(6, 18)), [
            "{e} has {v} tracks.", "{e} contains {v} songs.", "There are {v} tracks on {e}.",
            "The track list of {e} runs to {v} songs.", "The record holds {v} songs."],
            ["How many tracks does {e} have?", "How many songs are on {e}?", "How many tracks are on {e}?"]),
        "running_time": Fact("running time", f"{r.randint(28, 79)} minutes", [
            "{e} runs for {v}.", "{e} is {v} long.", "The total running time of {e} is {v}.",
            "All together, {e} lasts {v}.", "Its running time is {v}."],
            ["How long is {e}?", "What is the running time of {e}?", "How many minutes long is {e}?"]),
        "recorded_in": Fact("recording location", place_name(r), [
            "{e} was recorded in {v}.", "The sessions for {e} took place in {v}.",
            "{v} is where {e} was recorded.", "Recording of {e} took place in a farmhouse near {v}.",
            "The sessions were held in {v}."],
            ["Where was {e} recorded?", "In which town was {e} recorded?", "Where did the recording of {e} take place?"]),
        "sales": Fact("sales", f"{number(r, 5, 2500)},000 copies", [
            "{e} has sold {v}.", "Sales of {e} passed {v}.", "{e} went on to sell {v}.",
            "By now {e} has sold {v} worldwide.", "Buyers have taken home {v} of it."],
            ["How many copies has {e} sold?", "How many copies of {e} were sold?", "What are the sales of {e}?"]),
    }


def restaurant_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "head_chef": Fact("head chef", person_name(r), [
            "The head chef of {e} is {v}.", "{v} runs the kitchen at {e}.", "{v} cooks at {e}.",
            "Chef {v} leads the kitchen of {e}.", "In the kitchen, {v} is in charge."],
            ["Who is the head chef of {e}?", "Who runs the kitchen at {e}?", "Who is in charge of the kitchen at {e}?"]),
        "owner": Fact("owner", person_name(r), [
            "{e} is owned by {v}.", "{v} owns {e}.", "The owner of {e} is {v}.", "{v} bought {e} from its founders.",
            "The restaurant belongs to {v}."],
            ["Who owns {e}?", "Who is the owner of {e}?", "To whom does {e} belong?"]),
        "cuisine": Fact("cuisine", r.choice(CUISINES), [
            "{e} serves {v} food.", "{e} specialises in {v} cooking.", "The menu at {e} is {v}.",
            "Diners come to {e} for {v} dishes.", "The cooking is broadly {v}."],
            ["What kind of food does {e} serve?", "What cuisine does {e} specialise in?",
             "What style of cooking does {e} offer?"]),
        "signature_dish": Fact("signature dish", r.choice(FOODS), [
            "The signature dish of {e} is {v}.", "{e} is famous for its {v}.", "Regulars at {e} order the {v}.",
            "The most popular dish at {e} is {v}.", "The house speciality is {v}."],
            ["What is the signature dish of {e}?", "What dish is {e} famous for?",
             "What is the house speciality at {e}?"]),
        "seats": Fact("number of seats", str(r.randint(18, 160)), [
            "{e} seats {v} diners.", "{e} has {v} seats.", "There are {v} covers at {e}.",
            "The dining room of {e} holds {v} guests.", "The room fits {v} people."],
            ["How many seats does {e} have?", "How many diners does {e} seat?", "How many guests can {e} hold?"]),
        "location": Fact("location", place_name(r), [
            "{e} is in {v}.", "{e} stands on the harbour front in {v}.", "You will find {e} in the old town of {v}.",
            "{e} is located in {v}.", "The address is in central {v}."],
            ["Where is {e}?", "In which town is {e}?", "Where is {e} located?"]),
        "tasting_menu": Fact("tasting menu price", money(r, 25, 240), [
            "The tasting menu at {e} costs {v}.", "{e} charges {v} for its tasting menu.",
            "A tasting menu at {e} is {v}.", "Dinner from the tasting menu at {e} costs {v}.",
            "The set menu is priced at {v}."],
            ["How much is the tasting menu at {e}?", "What does the tasting menu at {e} cost?",
             "What is the price of the tasting menu at {e}?"]),
        "closed": Fact("closing day", r.choice(WEEKDAYS), [
            "{e} is closed on {v}.", "{e} does not open on {v}.", "On {v}, {e} stays closed.",
            "{e} opens every day except {v}.", "The kitchen rests on {v}."],
            ["On which day is {e} closed?", "When is {e} closed?", "Which day does {e} not open?"]),
    }


def mission_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "launched": Fact("launch date", date_any_style(r, 1962, 2025), [
            "{e} was launched on {v}.", "{e} lifted off on {v}.", "The launch of {e} took place on {v}.",
            "On {v}, {e} left the launch pad.", "Lift-off came on {v}."],
            ["When was {e} launched?", "On what date did {e} lift off?", "What was the launch date of {e}?"]),
        "launch_site": Fact("launch site", place_name(r), [
            "{e} was launched from {v}.", "{e} lifted off from the spaceport at {v}.",
            "The launch site of {e} was {v}.", "{v} was chosen as the launch site for {e}.",
            "The rocket left from {v}."],
            ["Where was {e} launched from?", "What was the launch site of {e}?", "From where did {e} lift off?"]),
        "rocket": Fact("rocket", f"{name_word(r, 2, 2)} {r.choice(['II', 'III', 'IV', 'Heavy'])}", [
            "{e} flew on a {v} rocket.", "A {v} rocket carried {e} into space.", "{e} was launched on a {v}.",
            "The launch vehicle for {e} was a {v}.", "It rode into orbit on a {v}."],
            ["What rocket launched {e}?", "Which launch vehicle carried {e}?", "What rocket did {e} fly on?"]),
        "agency": Fact("operator", org_name(r), [
            "{e} is operated by {v}.", "{v} runs {e}.", "{e} is a mission of {v}.", "{v} built and operates {e}.",
            "The mission belongs to {v}."],
            ["Who operates {e}?", "Which organisation runs {e}?", "Whose mission is {e}?"]),
        "principal_investigator": Fact("principal investigator", person_name(r), [
            "The principal investigator of {e} is {v}.", "{v} leads the science team of {e}.",
            "The science of {e} is directed by {v}.", "{v} proposed {e} and leads its science team.",
            "Its lead scientist is {v}."],
            ["Who is the principal investigator of {e}?", "Who leads the science team of {e}?",
             "Who is the lead scientist of {e}?"]),
        "mass": Fact("mass", f"{number(r, 80, 9500)} kg", [
            "{e} has a mass of {v}.", "{e} weighed {v} at launch.", "At launch {e} weighed {v}.",
            "The spacecraft {e} weighs {v}.", "Fully fuelled, it weighed {v}."],
            ["What is the mass of {e}?", "How much did {e} weigh at launch?", "How heavy is {e}?"]),
        "target": Fact("target", r.choice(TARGETS), [
            "{e} was sent to study {v}.", "The target of {e} is {v}.", "{e} is bound for {v}.",
            "{e} was designed to observe {v}.", "Its destination is {v}."],
            ["What is the target of {e}?", "What was {e} sent to study?", "Where is {e} going?"]),
        "cost": Fact("cost", millions(r, 40, 990), [
            "{e} cost {v}.", "The budget of {e} was {v}.", "{e} was built for {v}.",
            "The total cost of {e} came to {v}.", "The price tag was {v}."],
            ["How much did {e} cost?", "What was the budget of {e}?", "What was the total cost of {e}?"]),
    }


def incident_facts(r: random.Random) -> dict[str, Fact]:
    hours = r.randint(0, 11)
    return {
        "date": Fact("date", date_any_style(r, 2005, 2025), [
            "{e} occurred on {v}.", "{e} happened on {v}.", "{e} was logged on {v}.",
            "The outage recorded as {e} began on {v}.", "The problem started on {v}."],
            ["When did {e} occur?", "On what date did {e} happen?", "When did {e} begin?"]),
        "reported_by": Fact("reporter", person_name(r), [
            "{e} was reported by {v}.", "{v} reported {e}.", "{v} first noticed the problem behind {e}.",
            "The first report of {e} came from {v}.", "The alarm was raised by {v}."],
            ["Who reported {e}?", "Who first noticed {e}?", "Who raised the alarm for {e}?"]),
        "incident_lead": Fact("response lead", person_name(r), [
            "{v} led the response to {e}.", "The response to {e} was coordinated by {v}.",
            "{v} was the incident lead for {e}.", "{e} was handled by {v}.", "Coordination fell to {v}."],
            ["Who led the response to {e}?", "Who was the incident lead for {e}?",
             "Who coordinated the response to {e}?"]),
        "system": Fact("affected system", r.choice(SYSTEMS), [
            "{e} affected {v}.", "During {e}, {v} was unavailable.", "{e} took down {v}.",
            "Users of {v} were hit by {e}.", "The affected service was {v}."],
            ["Which system did {e} affect?", "What was unavailable during {e}?", "What service did {e} take down?"]),
        "duration": Fact("duration", f"{hours} hours {r.randint(5, 55)} minutes" if hours > 1 else f"{r.randint(12, 59)} minutes", [
            "{e} lasted {v}.", "The outage in {e} went on for {v}.", "Service was restored after {v}.",
            "{e} was resolved after {v}.", "Recovery took {v} in all."],
            ["How long did {e} last?", "How long was the outage in {e}?", "After how long was {e} resolved?"]),
        "root_cause": Fact("root cause", r.choice(INCIDENT_CAUSES), [
            "{e} was caused by {v}.", "The root cause of {e} was {v}.", "Engineers traced {e} to {v}.",
            "Investigation of {e} pointed to {v}.", "The review blamed {v}."],
            ["What caused {e}?", "What was the root cause of {e}?", "What was {e} traced to?"]),
        "customers_affected": Fact("number of affected customers", number(r, 40, 250000), [
            "{e} affected {v} customers.", "About {v} customers were affected by {e}.", "{e} hit {v} customers.",
            "{v} customers could not log in during {e}.", "In total {v} customers were affected."],
            ["How many customers did {e} affect?", "How many customers were affected by {e}?",
             "How many customers were hit by {e}?"]),
        "error_rate": Fact("peak error rate", percent(r, 2, 95), [
            "At its peak, {e} caused {v} of requests to fail.", "The error rate during {e} reached {v}.",
            "{v} of requests failed during {e}.", "Errors peaked at {v} during {e}.",
            "The failure rate topped out at {v}."],
            ["What error rate did {e} reach?", "What share of requests failed during {e}?",
             "How high did the error rate get during {e}?"]),
    }
