"""Facts of the training-only kinds: arbitrary attributes, and the everyday records a knowledge base
holds besides articles.

Job adverts, travel bookings, court rulings, trial summaries and tenancies name several people and
organisations per document in roles that only the text tells apart, with values in record formats.
These kinds are drawn only with paraphrased questions, so eval files and plain training draws never
contain them.
"""
from __future__ import annotations

import random
from typing import Callable

from hypernet.synthetic.fact import Fact
from hypernet.synthetic.names import code, name_word, org_name, person_name, place_name, syllable_word
from hypernet.synthetic.paraphrase import GENERIC_QUESTIONS, GENERIC_STATEMENTS
from hypernet.synthetic.values import date_any_style, millions, money, number, percent
from hypernet.synthetic.words import ANIMALS, COLORS, DRUG_SUFFIX, FIELDS, LANGS, MATERIALS, OUTCOMES

# Attributes of anything, stated and asked only in the generic forms: relations no template lists.
_ATTRIBUTES: list[tuple[str, Callable[[random.Random], str]]] = [
    ("owner", person_name), ("manager", person_name), ("architect", person_name), ("patron", person_name),
    ("founding member", person_name), ("sponsor", org_name), ("supplier", org_name), ("operator", org_name),
    ("location", place_name), ("registered office", place_name), ("nearest station", lambda r: f"{place_name(r)} Station"),
    ("code name", name_word), ("nickname", lambda r: name_word(r, 1, 2)),
    ("reference number", lambda r: f"{r.choice('ABCDEFGHKLMNPRSTVWXZ')}{r.randint(100, 9999)}-{r.randint(10, 99)}"),
    ("budget", lambda r: millions(r, 1, 900)), ("annual cost", lambda r: money(r, 200, 90000)),
    ("floor area", lambda r: f"{number(r, 40, 90000)} square metres"), ("depth", lambda r: f"{r.randint(2, 900)} metres"),
    ("top speed", lambda r: f"{r.randint(12, 320)} km/h"), ("capacity", lambda r: f"{number(r, 20, 60000)} people"),
    ("opening year", lambda r: str(r.randint(1850, 2024))), ("completion date", date_any_style), ("last inspection", date_any_style),
    ("main colour", lambda r: r.choice(COLORS)), ("main material", lambda r: r.choice(MATERIALS)),
    ("motto", lambda r: f"{name_word(r, 1, 2)} and {name_word(r, 1, 2)}"),
    ("postcode", lambda r: f"{r.choice('BCDFGHKLMNPRSTW')}{r.choice('BCDFGHKLMNPRSTW')}{r.randint(1, 29)} "
                           f"{r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}"),
    ("phone extension", lambda r: str(r.randint(100, 9999))), ("number of floors", lambda r: str(r.randint(2, 88))),
    ("rating", lambda r: f"{r.randint(1, 5)} stars"), ("mascot", lambda r: f"a {r.choice(COLORS)} {r.choice(ANIMALS)}"),
    ("working language", lambda r: r.choice(LANGS)), ("success rate", lambda r: percent(r, 3, 99)),
]


def record_facts(r: random.Random) -> dict[str, Fact]:
    """Six to eight arbitrary attributes, stated and asked only in the generic forms."""
    picked = r.sample(_ATTRIBUTES, r.randint(6, 8))
    return {noun: Fact(None, value(r), [t.replace("{n}", noun) for t in GENERIC_STATEMENTS],
                       [t.replace("{n}", noun) for t in GENERIC_QUESTIONS]) for noun, value in picked}


def job_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "salary": Fact("salary", money(r, 18000, 96000), [
            "{e} pays {v} a year.", "The salary for {e} is {v}.", "Pay: {v} per year for {e}.",
            "Whoever takes {e} will earn {v} a year.", "{e} comes with a salary of {v}."],
            ["What does {e} pay?", "What is the salary for {e}?", "How much does {e} pay a year?"]),
        "hiring_manager": Fact("hiring manager", person_name(r), [
            "Applications for {e} go to {v}.", "{v} is the hiring manager for {e}.", "The successful candidate for {e} will report to {v}.",
            "Contact {v} with questions about {e}.", "{v} will interview candidates for {e}."],
            ["Who is the hiring manager for {e}?", "Who do applications for {e} go to?", "Who will {e} report to?"]),
        "location": Fact("place of work", place_name(r), [
            "{e} is based in {v}.", "The place of work for {e} is {v}.", "{e} involves working from the office in {v}.",
            "Candidates for {e} must be able to travel to {v}.", "{e} sits in the team in {v}."],
            ["Where is {e} based?", "What is the place of work for {e}?", "In which town is {e}?"]),
        "closing_date": Fact("closing date", date_any_style(r, 2019, 2027), [
            "Applications for {e} close on {v}.", "The closing date for {e} is {v}.", "Apply for {e} by {v}.",
            "{e} will stop taking applications on {v}.", "No applications for {e} are accepted after {v}."],
            ["When do applications for {e} close?", "What is the closing date for {e}?", "By when must one apply for {e}?"]),
        "hours": Fact("weekly hours", f"{r.randint(16, 45)} hours a week", [
            "{e} is {v}.", "The hours for {e} are {v}.", "{e} is contracted at {v}.",
            "Working time for {e}: {v}.", "Expect {v} in {e}."],
            ["How many hours is {e}?", "What are the hours for {e}?", "How many hours a week does {e} involve?"]),
        "degree": Fact("required degree", r.choice(FIELDS), [
            "{e} requires a degree in {v}.", "Candidates for {e} need a qualification in {v}.",
            "A background in {v} is essential for {e}.", "Applicants to {e} should hold a degree in {v}.",
            "Only graduates in {v} will be considered for {e}."],
            ["What degree does {e} require?", "What qualification do candidates for {e} need?",
             "What must applicants to {e} have studied?"]),
        "team_size": Fact("team size", str(r.randint(3, 60)), [
            "{e} joins a team of {v}.", "The team behind {e} has {v} people.", "{e} is one of {v} posts in the team.",
            "Whoever fills {e} will work alongside {v} colleagues.", "The department of {e} counts {v} staff."],
            ["How large is the team of {e}?", "How many people are in the team for {e}?", "How many colleagues does {e} have?"]),
    }


def booking_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "traveller": Fact("traveller", person_name(r), [
            "{e} is in the name of {v}.", "The passenger on {e} is {v}.", "{v} made {e}.",
            "{e} was booked for {v}.", "Traveller: {v} ({e})."],
            ["Who is {e} for?", "In whose name is {e}?", "Who is the passenger on {e}?"]),
        "origin": Fact("departure city", place_name(r), [
            "{e} departs from {v}.", "The journey in {e} starts in {v}.", "Outbound for {e}: from {v}.",
            "{e} begins at {v} airport.", "The trip booked as {e} leaves from {v}."],
            ["Where does {e} depart from?", "Where does the journey in {e} start?", "From which city does {e} leave?"]),
        "destination": Fact("destination", place_name(r), [
            "{e} flies to {v}.", "The destination of {e} is {v}.", "{e} ends in {v}.",
            "Arrival for {e}: {v}.", "The traveller on {e} is heading to {v}."],
            ["Where does {e} go?", "What is the destination of {e}?", "Where does {e} end?"]),
        "departure": Fact("departure date", date_any_style(r, 2018, 2027), [
            "{e} departs on {v}.", "The outbound flight of {e} is on {v}.", "{e} starts on {v}.",
            "Travel date for {e}: {v}.", "The trip in {e} begins on {v}."],
            ["When does {e} depart?", "On what date does {e} start?", "What is the travel date of {e}?"]),
        "hotel": Fact("hotel", f"the {name_word(r, 2, 2)} Hotel", [
            "{e} includes a stay at {v}.", "Accommodation for {e}: {v}.", "The hotel on {e} is {v}.",
            "Guests on {e} stay at {v}.", "{e} reserves a room at {v}."],
            ["Which hotel is included in {e}?", "Where does the traveller on {e} stay?", "What is the hotel on {e}?"]),
        "flight": Fact("flight number", code(r, 2, 3 + r.randint(0, 1)), [
            "{e} is on flight {v}.", "The flight number for {e} is {v}.", "{e} travels on flight {v}.",
            "Flight {v} carries the traveller on {e}.", "Boarding pass for {e}: flight {v}."],
            ["What is the flight number of {e}?", "Which flight is {e} on?", "On what flight does {e} travel?"]),
        "total": Fact("total price", money(r, 90, 9000), [
            "{e} cost {v} in total.", "The total price of {e} is {v}.", "{v} was paid for {e}.",
            "Total charged for {e}: {v}.", "The invoice for {e} comes to {v}."],
            ["How much did {e} cost?", "What is the total price of {e}?", "What was paid for {e}?"]),
        "nights": Fact("number of nights", str(r.randint(1, 21)), [
            "{e} covers {v} nights.", "The stay in {e} lasts {v} nights.", "{e} books {v} nights in all.",
            "Nights booked under {e}: {v}.", "The hotel holds {e} for {v} nights."],
            ["How many nights does {e} cover?", "How long is the stay in {e}, in nights?", "How many nights are booked under {e}?"]),
    }


def case_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "judge": Fact("judge", person_name(r), [
            "{e} was heard by Judge {v}.", "The judge in {e} was {v}.", "Judge {v} presided over {e}.",
            "{v} gave judgment in {e}.", "Presiding in {e}: {v}."],
            ["Who was the judge in {e}?", "Who heard {e}?", "Which judge presided over {e}?"]),
        "court": Fact("court", f"{place_name(r)} County Court", [
            "{e} was heard at {v}.", "{e} came before {v}.", "The venue of {e} was {v}.",
            "{v} dealt with {e}.", "{e} was listed at {v}."],
            ["Which court heard {e}?", "Where was {e} heard?", "Before which court did {e} come?"]),
        "decided": Fact("date of judgment", date_any_style(r, 1990, 2026), [
            "{e} was decided on {v}.", "Judgment in {e} was given on {v}.", "The ruling in {e} came on {v}.",
            "{e} ended with a ruling on {v}.", "Date of judgment in {e}: {v}."],
            ["When was {e} decided?", "On what date was judgment given in {e}?", "When did the ruling in {e} come?"]),
        "damages": Fact("damages awarded", money(r, 500, 900000), [
            "The court in {e} awarded damages of {v}.", "{e} ended with {v} in damages.", "Damages in {e} came to {v}.",
            "The claimant in {e} was awarded {v}.", "An award of {v} was made in {e}."],
            ["How much was awarded in {e}?", "What damages were awarded in {e}?", "What did the claimant in {e} receive?"]),
        "claimant_lawyer": Fact("claimant's lawyer", person_name(r), [
            "The claimant in {e} was represented by {v}.", "{v} acted for the claimant in {e}.",
            "Counsel for the claimant in {e} was {v}.", "{v} argued the claimant's side of {e}.",
            "For the claimant in {e}: {v}."],
            ["Who represented the claimant in {e}?", "Who acted for the claimant in {e}?", "Who was counsel for the claimant in {e}?"]),
        "hearing_days": Fact("length of the hearing in days", str(r.randint(1, 40)), [
            "The hearing of {e} lasted {v} days.", "{e} took {v} days in court.", "{e} was argued over {v} days.",
            "Hearing length in {e}: {v} days.", "The trial of {e} ran for {v} days."],
            ["How many days did the hearing of {e} last?", "How long did {e} take in court, in days?",
             "Over how many days was {e} argued?"]),
        "filed": Fact("filing year", str(r.randint(1985, 2025)), [
            "{e} was filed in {v}.", "The claim in {e} was issued in {v}.", "{e} began in {v}.",
            "Proceedings in {e} started in {v}.", "{e} dates from {v}."],
            ["When was {e} filed?", "In what year was the claim in {e} issued?", "When did {e} begin?"]),
    }


def trial_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "drug": Fact("drug", syllable_word(r, 2) + r.choice(DRUG_SUFFIX), [
            "{e} tests {v}.", "The drug studied in {e} is {v}.", "{e} compares {v} with a placebo.",
            "Patients in {e} receive {v}.", "{e} is a study of {v}."],
            ["Which drug does {e} test?", "What drug is studied in {e}?", "What do patients in {e} receive?"]),
        "participants": Fact("number of participants", number(r, 40, 12000), [
            "{e} enrolled {v} participants.", "{v} patients took part in {e}.", "{e} recruited {v} people.",
            "The sample of {e} numbers {v}.", "Enrolment in {e} reached {v}."],
            ["How many participants did {e} enrol?", "How many patients took part in {e}?", "How many people did {e} recruit?"]),
        "investigator": Fact("chief investigator", person_name(r), [
            "{e} is led by {v}.", "The chief investigator of {e} is {v}.", "{v} runs {e}.",
            "{v} designed {e}.", "Principal investigator of {e}: {v}."],
            ["Who leads {e}?", "Who is the chief investigator of {e}?", "Who runs {e}?"]),
        "sponsor": Fact("sponsor", org_name(r), [
            "{e} is funded by {v}.", "The sponsor of {e} is {v}.", "{v} pays for {e}.",
            "{e} receives its funding from {v}.", "Funding for {e} comes from {v}."],
            ["Who funds {e}?", "Who is the sponsor of {e}?", "Who pays for {e}?"]),
        "sites": Fact("number of sites", str(r.randint(2, 140)), [
            "{e} runs at {v} hospitals.", "{e} recruits at {v} sites.", "Patients join {e} at {v} centres.",
            "{v} clinics take part in {e}.", "{e} spans {v} hospitals."],
            ["At how many hospitals does {e} run?", "How many sites does {e} recruit at?", "How many centres take part in {e}?"]),
        "outcome": Fact("primary outcome", r.choice(OUTCOMES), [
            "The primary outcome of {e} is {v}.", "{e} measures {v}.", "{e} was designed to change {v}.",
            "Success in {e} is judged by {v}.", "The main endpoint of {e} is {v}."],
            ["What is the primary outcome of {e}?", "What does {e} measure?", "What is the main endpoint of {e}?"]),
        "duration": Fact("duration", f"{r.randint(4, 160)} weeks", [
            "{e} follows patients for {v}.", "Treatment in {e} lasts {v}.", "{e} runs for {v}.",
            "Each patient stays in {e} for {v}.", "The follow-up in {e} is {v}."],
            ["How long does {e} follow patients?", "How long does treatment in {e} last?", "How long does {e} run?"]),
    }


def tenancy_facts(r: random.Random) -> dict[str, Fact]:
    return {
        "landlord": Fact("landlord", person_name(r), [
            "The landlord of {e} is {v}.", "{v} lets {e}.", "{e} is owned and let by {v}.",
            "{v} is named as landlord for {e}.", "Landlord for {e}: {v}."],
            ["Who is the landlord of {e}?", "Who lets {e}?", "Who owns {e}?"]),
        "tenant": Fact("tenant", person_name(r), [
            "The tenant of {e} is {v}.", "{v} rents {e}.", "{e} is let to {v}.",
            "{v} signed for {e}.", "Tenant for {e}: {v}."],
            ["Who is the tenant of {e}?", "Who rents {e}?", "To whom is {e} let?"]),
        "rent": Fact("monthly rent", money(r, 300, 6000), [
            "The rent for {e} is {v} a month.", "{e} costs {v} per month.", "Monthly rent on {e}: {v}.",
            "The tenant of {e} pays {v} each month.", "{e} is let at {v} a month."],
            ["What is the rent for {e}?", "How much does {e} cost per month?", "What is the monthly rent on {e}?"]),
        "deposit": Fact("deposit", money(r, 300, 9000), [
            "The deposit for {e} is {v}.", "A deposit of {v} was paid for {e}.", "{e} required a deposit of {v}.",
            "Deposit held for {e}: {v}.", "{v} is held as the deposit on {e}."],
            ["How much is the deposit for {e}?", "What deposit was paid for {e}?", "What deposit does {e} require?"]),
        "start": Fact("start date", date_any_style(r, 2010, 2027), [
            "{e} starts on {v}.", "The tenancy of {e} begins on {v}.", "{e} runs from {v}.",
            "Move-in date for {e}: {v}.", "Keys to {e} are handed over on {v}."],
            ["When does {e} start?", "When does the tenancy of {e} begin?", "What is the move-in date for {e}?"]),
        "term": Fact("term", f"{r.choice([6, 12, 18, 24, 36])} months", [
            "{e} is for a fixed term of {v}.", "The term of {e} is {v}.", "{e} lasts {v}.",
            "{e} is agreed for {v}.", "Length of {e}: {v}."],
            ["How long is the term of {e}?", "For how long is {e} agreed?", "What is the fixed term of {e}?"]),
        "notice": Fact("notice period", f"{r.randint(1, 12)} weeks", [
            "Either side must give {v} notice to end {e}.", "The notice period for {e} is {v}.",
            "Ending {e} requires {v} notice.", "{e} can be ended with {v} notice.", "Notice on {e}: {v}."],
            ["What is the notice period for {e}?", "How much notice is needed to end {e}?", "How much notice ends {e}?"]),
        "agent": Fact("letting agent", org_name(r), [
            "{e} is managed by {v}.", "The letting agent for {e} is {v}.", "{v} handles repairs at {e}.",
            "{v} manages {e} for the landlord.", "Agent for {e}: {v}."],
            ["Who manages {e}?", "Who is the letting agent for {e}?", "Who handles repairs at {e}?"]),
    }
