"""The "iso-codes" source: a country with its subdivisions, or a run of rows of the currency,
language, script and withdrawn-code tables, one entry a sentence, asked the code an entry has."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable, Iterator

from real_eval.records import Record, SourceMissing, finish, unique


ISO_DIR = Path("/usr/share/iso-codes/json")


def _iso(name: str) -> list[dict]:
    path = ISO_DIR / f"iso_{name}.json"
    if not path.is_file():
        raise SourceMissing(f"iso-codes: {path} is missing (install the iso-codes package)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data[name]


def _iso_currencies(rows):
    lines = [f"The {r['name']} has the alphabetic code {r['alpha_3']} and the numeric code {r['numeric']}."
             for r in rows]
    cands = []
    for r in rows:
        cands.append((f"Which numeric code does the {r['name']} have?", r["numeric"]))
    return "ISO 4217 currency codes (a run of consecutive entries of the iso-codes table)", lines, cands


_SCOPE = {"I": "an individual language", "M": "a macrolanguage", "S": "a special code"}
_TYPE = {"L": "living", "E": "extinct", "A": "ancient", "H": "historical", "C": "constructed", "S": "special"}


def _iso_languages(rows):
    lines = [f"{r['name']} is {_SCOPE.get(r.get('scope'), 'a language')} ({_TYPE.get(r.get('type'), 'other')}) "
             f"with the ISO 639-3 code {r['alpha_3']}." for r in rows]
    cands = [(f"Which ISO 639-3 code does {r['name']} have?", r["alpha_3"]) for r in rows]
    return "ISO 639-3 language codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_scripts(rows):
    lines = [f"The {r['name']} script has the code {r['alpha_4']} and the numeric code {r['numeric']}."
             for r in rows]
    cands = []
    for r in rows:
        cands.append((f"Which numeric code does the {r['name']} script have?", r["numeric"]))
    return "ISO 15924 script codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_withdrawn(rows):
    lines, cands = [], []
    for r in rows:
        codes = f"alpha-3 code {r['alpha_3']}" + (f", numeric code {r['numeric']}" if r.get("numeric") else "")
        line = f"The codes of {r['name']} ({codes}) were withdrawn in {r['withdrawal_date']}."
        if r.get("comment"):
            line += f" Note: {r['comment']}."
        lines.append(line)
        cands.append((f"In what year were the codes of {r['name']} withdrawn?", r["withdrawal_date"][:4]))
    return "ISO 3166-3 withdrawn country codes (a run of consecutive entries of the iso-codes table)", lines, cands


def _iso_country(country: dict, subdivisions: list[dict]):
    """One country of ISO 3166-1 with its ISO 3166-2 subdivisions."""
    name = country["name"]
    official = f", officially the {country['official_name']}," if country.get("official_name") else ""
    lines = [f"{name}{official} has the ISO 3166-1 alpha-2 code {country['alpha_2']}, the alpha-3 code "
             f"{country['alpha_3']} and the numeric code {country['numeric']}. Its subdivisions in ISO 3166-2:"]
    lines += [f"{r['name']} is a {r['type'].lower()} with the code {r['code']}." for r in subdivisions]
    names = unique([r["name"] for r in subdivisions])  # a name given twice would make its code ambiguous
    cands = [(f"Which numeric code does {name} have?", country["numeric"])]
    cands += [(f"Which ISO 3166-2 code does {r['name']} have?", r["code"])
              for r in subdivisions if r["name"] in names and r["name"] != name]
    return f"ISO 3166 codes of {name} (from the iso-codes tables)", lines, cands


def iso_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    """Round-robin over the tables: a country with its subdivisions, then a run of 4-6 consecutive
    rows of the currency, language, script and withdrawn-code tables. Only questions whose answer
    follows the name it is asked about (name -> code), never the reverse lookup."""
    tables = {"4217": (_iso("4217"), _iso_currencies), "639-3": (_iso("639-3"), _iso_languages),
              "15924": (_iso("15924"), _iso_scripts), "3166-3": (_iso("3166-3"), _iso_withdrawn)}
    countries = {r["alpha_2"]: r for r in _iso("3166-1")}
    by_country: dict[str, list[dict]] = {}
    for r in _iso("3166-2"):
        by_country.setdefault(r["code"].split("-")[0], []).append(r)
    small = sorted(c for c, rows in by_country.items() if 4 <= len(rows) <= 14 and c in countries)
    rng.shuffle(small)
    used: set[str] = set()
    while True:
        progressed = False
        for kind in ["3166"] + list(tables):
            if kind == "3166":
                if not small:
                    continue
                cc = small.pop()
                title, lines, cands = _iso_country(countries[cc], by_country[cc])
                rid = f"real-iso-3166-{cc.lower()}"
            else:
                rows_all, render = tables[kind]
                n = rng.randint(4, 6)
                start = rng.randrange(0, len(rows_all) - n)
                title, lines, cands = render(rows_all[start:start + n])
                rid = f"real-iso-{kind}-{start:04d}"
                if any(u.startswith(f"real-iso-{kind}-") and abs(int(u.rsplit("-", 1)[1]) - start) < 6 for u in used):
                    continue  # overlapping rows of a listing already drawn
            text = title + "\n\n" + "\n".join(lines)
            if not fits(text):
                continue
            # a code asked for must occur once in the listing (not also inside another code or name)
            cands = [(q, a) for q, a in cands if text.count(a) == 1]
            used.add(rid)
            rng.shuffle(cands)
            # one question per row at most (two about the country itself): spread them over the listing
            spread, seen_rows, name_line = [], set(), lines[0]
            for q, a in cands:
                row = next((l for l in text.splitlines() if a in l), None)
                if row not in seen_rows or kind == "3166" and row.startswith(name_line):
                    seen_rows.add(row)
                    spread.append((q, a))
            rec = finish(Record(rid, "iso-codes", f"iso-{kind}", text), spread, rng)
            if rec:
                progressed = True
                yield rec
        if not progressed:
            return
