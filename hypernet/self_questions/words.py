"""Word lists the natural-question rules read sentences with: closed classes, units, titles, a verb lexicon.

Data only; `verbs` derives the verb forms from the lexicon here.
"""
from __future__ import annotations


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


# Dates.
MONTHS = _words("january february march april may june july august september october november december "
                "jan feb mar apr jun jul aug sep sept oct nov dec")
DAYS = _words("monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays "
              "thursdays fridays saturdays sundays weekend weekends")
# Closed word classes.
DET = _words("the a an this that these those its her his their our my your each every some any all both "
             "many most several few no another other such")
AUX = _words("is are was were am be been being has have had will would can could may might must should "
             "shall does do did")
COPULA = _words("is are was were am be been being")
NEG = _words("not never no n't nor")
ADV = _words("also still now first then later already only usually often currently originally recently "
             "once just formally officially finally eventually jointly initially previously mostly mainly "
             "generally typically again later further soon")
# Quantities: hedges before a number, number words, and the nouns that say what it counts.
QUANT_WORDS = _words("about around roughly nearly almost over under some only just exactly approximately between")
QUANT_PAIRS = frozenset({"up to", "at least", "at most", "more than", "fewer than", "less than", "an estimated",
                         "as many", "as much"})
QUANT = QUANT_WORDS | _words("more than fewer less up to at least most an estimated")
PREPS = _words("in on at by for from with to of into onto over under after before during since until per "
               "within across through near via among between against towards toward around about")
SUBORDINATE = _words("that which who whom whose when where while if because although though as since unless "
                     "whether after before until so than")
NUMBER_WORDS = _words("two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                      "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                      "hundred dozen")
COUNT_PLURALS = _words("staff people children men women police cattle sheep fish personnel crew deer")
MONEY = _words("pounds dollars euros yen francs kronor kroner krona rupees cents pence pound dollar euro "
               "usd gbp eur")
TIME_UNITS = _words("seconds minutes hours days weeks months years decades centuries second minute hour day "
                    "week month year")
PERCENT = _words("percent per-cent %")
UNITS = _words("millimetres millimeters centimetres centimeters metres meters metre meter km kilometres "
               "kilometers kilometre kilometer miles mile feet foot ft inches inch cm mm m kg g grams gram "
               "kilograms kilogram tonnes tonne tons ton lb lbs litres liters litre liter ml hectares hectare "
               "acres acre degrees degree mph km/h knots w kw mw v wh kwh nm lux gb mb tb kb ghz mhz hz "
               "calories kcal mg mcg square cubic storeys stories floors")
MEASURE_ADJ = _words("long tall high wide deep old thick heavy")
# People, organisations and places: what a capitalised run of words names.
TITLES = _words("dr dr. mr mr. mrs mrs. ms ms. prof prof. professor captain capt. sir dame chef director "
                "president judge justice senator lord lady saint st. reverend rev. father sister brother "
                "king queen prince princess duke duchess general colonel major lieutenant sergeant")
ORG_WORDS = _words("river bridge street road lane avenue university college school institute institution "
                   "museum church hall club company ltd inc plc group council society association railway "
                   "station park lake mountain mount peak valley island hospital bank systems centre center "
                   "library zoo festival orchestra band team league cup trust foundation agency department "
                   "ministry office court house hotel restaurant theatre theater gallery corporation labs "
                   "press times news journal review market square building tower castle farm harbour harbor "
                   "city town village county state country region district province")
ROLE_LABELS = _words("author agent instructor teacher lecturer tutor chair chairman chairwoman chairperson "
                     "director manager owner founder president ceo editor publisher architect designer engineer "
                     "assistant contact reviewer coach captain conductor composer maintainer landlord tenant "
                     "applicant judge defendant claimant plaintiff respondent doctor surgeon patient lead officer "
                     "secretary treasurer head principal supervisor organiser organizer host presenter speaker "
                     "artist photographer illustrator translator narrator producer holder mayor minister "
                     "chancellor dean coordinator investigator examiner inspector witness buyer seller vendor "
                     "signatory recipient sender addressee winner leader champion scientist physician executive "
                     "chief member partner wife husband spouse son daughter successor predecessor pilot "
                     "commander skipper curator priest vicar pastor rector bishop governor")
# Labels that head no fact ("Note: ...") and pronouns a question cannot carry.
FIELD_SKIP = _words("note notes warning warnings tip tips re cc bcc ps present absent apologies attendees "
                    "example examples see subject summary")
SUBJECT_PRONOUNS = _words("we our us you your i my me it them they he she him this these those")
PARTICLES = _words("after up out off down over into through")
BAD_PRONOUNS = _words("we our us you your i my me they them their it its she he her his him this these those")
CLAUSE_BREAK = _words("and but or which who whom whose when where while because although though so that if "
                      "as unless whereas")

# Verbs: base forms, the irregular ones as "base past participle". Forms and lemmas are derived.
REGULAR = _words(
    "accept achieve acquire add admit adopt agree aim allow announce appear apply appoint approve argue "
    "arrange arrive ask assemble attend attract audition award ban base believe belong book borrow call "
    "capsize carry cause celebrate change charge claim clean climb close coach collect combine commission "
    "compete complete compose conclude conduct connect consider contain continue contribute control convert "
    "cook cost cover create cross damage debut decide declare decline deliver demolish describe design "
    "destroy detect develop die direct discover discuss display divide donate double drain drown earn edit "
    "elect employ enable end enter equip establish estimate examine expand expect explain explore export "
    "extend face fail feature file fill finish fire fix flow follow form found fund gain graduate guide "
    "handle happen head help hire host house identify import improve include increase inherit install "
    "introduce invent invest invite involve issue join judge kill land last launch lift like limit list live "
    "locate look love maintain manage manufacture mark marry match measure merge mine mount move name need "
    "nominate note obtain occupy occur offer open operate order organise organize own paint pass perform pick "
    "place plan plant play point populate post prefer prepare present preserve print produce programme "
    "promote propose protect prove provide publish purchase qualify raise rank reach receive recommend record "
    "recover reduce refer refit refuse register rehearse reject release relocate remain remove rename renovate "
    "rent repair replace report represent request require rescue research reserve resign restore retain "
    "retire return reveal review sail save score seat seem select serve settle ship sign slow sponsor stage "
    "start stay step stop store study submit succeed suffer supervise supply support survive suspend switch "
    "test total tour trade train transfer travel treat try turn unite unveil upgrade use visit vote wait walk "
    "want watch weigh welcome work")
IRREGULAR = {w[0]: (w[1], w[2]) for w in (line.split() for line in """
    arise arose arisen|bear bore born|beat beat beaten|become became become|begin began begun
    bend bent bent|bite bit bitten|blow blew blown|break broke broken|bring brought brought
    build built built|burn burnt burnt|buy bought bought|catch caught caught|choose chose chosen
    come came come|cut cut cut|deal dealt dealt|dig dug dug|do did done|draw drew drawn
    drink drank drunk|drive drove driven|eat ate eaten|fall fell fallen|feed fed fed|feel felt felt
    fight fought fought|find found found|flee fled fled|fly flew flown|forget forgot forgotten
    freeze froze frozen|get got got|give gave given|go went gone|grow grew grown|hang hung hung
    have had had|hear heard heard|hide hid hidden|hit hit hit|hold held held|keep kept kept
    know knew known|lay laid laid|lead led led|leave left left|lend lent lent|let let let
    lie lay lain|light lit lit|lose lost lost|make made made|mean meant meant|meet met met
    oversee oversaw overseen|pay paid paid|put put put|quit quit quit|read read read
    rebuild rebuilt rebuilt|rewrite rewrote rewritten|ride rode ridden|ring rang rung|rise rose risen
    run ran run|say said said|see saw seen|seek sought sought|sell sold sold|send sent sent
    set set set|shake shook shaken|shoot shot shot|show showed shown|shut shut shut|sing sang sung
    sink sank sunk|sit sat sat|sleep slept slept|speak spoke spoken|spend spent spent|split split split
    spread spread spread|stand stood stood|steal stole stolen|stick stuck stuck|strike struck struck
    swim swam swum|take took taken|teach taught taught|tear tore torn|tell told told|think thought thought
    throw threw thrown|undergo underwent undergone|undertake undertook undertaken|understand understood understood
    wake woke woken|wear wore worn|win won won|withdraw withdrew withdrawn|write wrote written
    """.replace("\n", "|").split("|") if line.strip())}
DOUBLING = _words("admit ban commit control drop equip occur plan prefer refer refit ship step stop submit "
                  "transfer travel")
NOT_VERB_ED = _words("red bed hundred need seed shed speed wed sacred naked wicked kindred hatred talented "
                     "skilled beloved aged bred breed proceed exceed succeed indeed feed weed")

# Tokens whose final dot belongs to the word.
ABBREVIATIONS = _words("st. dr. mr. mrs. ms. prof. capt. rev. jr. sr. no. co. ltd. inc. vs.")
# Of those, the titles a name follows ("Dr. Helen Marsh", "Mt. Hood"), as written: their full stop never ends a
# sentence, where "Inc." or "Jr." often does.
TITLE_ABBREVIATIONS = ("Dr", "Mr", "Mrs", "Ms", "Prof", "Capt", "Rev", "Sgt", "St", "Mt")
# Title words that name a kind of text ("Company overview"), not what it is about.
GENERIC_TITLE = _words("memo memorandum abstract notice review report summary overview guide profile "
                       "announcement letter minutes")
# Verbs that end a clause with no object, so "the bridge opened" is a clause, not a noun phrase.
INTRANSITIVE = _words("open close start begin end die arrive return retire move happen occur ship finish "
                      "graduate marry collapse capsize drown sail rise fall fail resign split merge expand grow "
                      "stop debut settle emigrate live stay work perform play compete reopen launch land "
                      "premiere")
# Verbs of a thing done once: their agent is asked in the past ("a club founded by X": "Who founded ...?")
# where an ongoing one is asked in the present ("a ferry operated by X": "Who operates ...?").
DONE_ONCE = _words("found establish build design create write compose paint draw invent discover name launch "
                   "form open start publish release record commission complete develop produce direct")
# Verbs a "Where" question can be asked of, and the nouns of "in the city of X".
PLACE_VERBS = _words("live settle move die work study train lie sit stand stay rehearse meet perform play "
                     "teach retire marry grow base locate house hold keep store situate headquarter found "
                     "build open bury drain flow empty rise")
PLACE_NOUNS = _words("city town village county region state country province district island borough parish "
                     "municipality suburb")
