"""The "tzdata" source: the offset history of one zone of the tz database, one era a sentence, asked
when local mean time ended and which offset or abbreviation an era used."""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable, Iterator

from real_eval.records import Record, SourceMissing, finish


TZ_DIR = Path("/usr/share/zoneinfo")


_MONTHS = {"Ja": "Jan", "F": "Feb", "Mar": "Mar", "Ap": "Apr", "May": "May", "Jun": "Jun", "Jul": "Jul",
           "Au": "Aug", "S": "Sep", "O": "Oct", "N": "Nov", "D": "Dec"}


def _tz_offset(s: str) -> str:
    sign = "-" if s.startswith("-") else "+"
    parts = s.lstrip("-").split(":")
    h = int(parts[0])
    rest = [f"{int(p):02d}" for p in parts[1:]]
    while rest and rest[-1] == "00":
        rest.pop()
    return f"UTC{sign}{':'.join([str(h)] + rest)}"


def _tz_until(fields: list[str]) -> str:
    if not fields:
        return ""
    out = [fields[0]]
    if len(fields) > 1:
        out.append(_MONTHS.get(fields[1], fields[1]))
    if len(fields) > 2:
        out.append(fields[2])
    return " ".join(out)


def _tz_era(fields: list[str], letters: dict[str, list[str]]) -> tuple[str, str, str, str]:
    """(offset, saving, abbreviation, until) of one zone line's fields; `letters`: the LETTER/S
    values of each rule set, which fill the %s of an abbreviation like CE%sT."""
    off, rules, fmt = fields[0], fields[1], fields[2]
    if "%s" in fmt:
        fmt = "/".join(fmt.replace("%s", l) for l in letters.get(rules, [])) or fmt
    until = _tz_until(fields[3:])
    if rules == "-":
        saving = "standard time"
    elif re.fullmatch(r"-?\d+(:\d+)*", rules):
        saving = f"plus {rules} h of daylight saving time" if ":" not in rules else f"plus {rules} of daylight saving time"
    else:
        saving = "with daylight saving time rules"
    return _tz_offset(off), saving, fmt, until


def _tz_tables() -> tuple[str, dict[str, str], dict[str, tuple], dict[str, list[list[str]]], dict[str, list[str]]]:
    """tzdata's version, country names, zone.tab rows, each zone's era lines and each rule's letters."""
    zi, zone_tab, iso_tab = TZ_DIR / "tzdata.zi", TZ_DIR / "zone.tab", TZ_DIR / "iso3166.tab"
    for p in (zi, zone_tab, iso_tab):
        if not p.is_file():
            raise SourceMissing(f"tzdata: {p} is missing (install the tzdata package)")
    version = ""
    countries = {}
    for line in iso_tab.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            cc, name = line.split("\t", 1)
            countries[cc] = name
    zone_info = {}
    for line in zone_tab.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            f = line.split("\t")
            zone_info[f[2]] = (f[0], f[1], f[3] if len(f) > 3 else "")
    zones: dict[str, list[list[str]]] = {}
    letters: dict[str, list[str]] = {}
    current = None
    for line in zi.read_text(encoding="utf-8").splitlines():
        if line.startswith("# version"):
            version = line.split()[-1]
        if line.startswith("R "):
            f = line.split()
            letter = "" if f[-1] == "-" else f[-1]
            if letter not in letters.setdefault(f[1], []):
                letters[f[1]].append(letter)
                letters[f[1]].sort(key=lambda x: (x != "", x))  # standard time first
        if line.startswith("Z "):
            f = line.split()
            current = f[1]
            zones[current] = [f[2:]]
        elif line[:1] in "R L #":
            current = None
        elif current and line.strip():
            zones[current].append(line.split())
    return version, countries, zone_info, zones, letters


def _tz_questions(zone: str, eras: list[tuple[str, str, str, str]], comment: str) -> list[tuple[str, str]]:
    """Offsets and abbreviations until each distinct change, the offset since the last, the area covered."""
    untils = [e[3] for e in eras]
    cands = []
    off0, _, fmt0, until0 = eras[0]
    if fmt0 == "LMT" and until0:
        cands.append((f"In what year did {zone} stop keeping local mean time?", until0.split()[0]))
    for off, _, fmt, until in eras:
        if not until or untils.count(until) != 1:
            continue
        cands.append((f"What UTC offset did {zone} use until {until}?", off))
        if fmt != "LMT" and re.fullmatch(r"[A-Z]{3,5}", fmt):
            cands.append((f"Which abbreviation did {zone} use until {until}?", fmt))
    if eras[-2][3] and untils.count(eras[-2][3]) == 1:
        cands.append((f"What UTC offset has {zone} used since {eras[-2][3]}?", eras[-1][0]))
    if comment and len(comment.split()) <= 5:
        cands.append((f"Which area does {zone} cover?", comment))
    return cands


def tz_docs(rng: random.Random, fits: Callable[[str], bool]) -> Iterator[Record]:
    version, countries, zone_info, zones, letters = _tz_tables()
    names = sorted(z for z in zones if z in zone_info and len(zones[z]) >= 3)
    rng.shuffle(names)
    for zone in names:
        cc, _coords, comment = zone_info[zone]
        eras = [_tz_era(f, letters) for f in zones[zone]]
        covering = f", covering {comment}" if comment else ""
        lines = [f"{zone} is a time zone of the tz database (version {version}) for "
                 f"{countries.get(cc, cc)} ({cc}){covering}. Its history, oldest first:"]
        for k, (off, saving, fmt, until) in enumerate(eras):
            abbr = "" if fmt in ("%z", "LMT") else f", abbreviated {fmt}"
            if fmt == "LMT":
                what = f"kept local mean time, {off}"
            else:
                what = f"used {off} ({saving}){abbr}"
            if until:
                lines.append(f"Until {until} it {what}.")
            else:
                lines.append(f"Since {eras[k - 1][3]} it has {what}.")
        text = "\n".join(lines)
        if not fits(text):
            continue
        rec = finish(Record(f"real-tz-{zone.lower().replace('/', '-')}", "tzdata", "tz-zone-history", text),
                      _tz_questions(zone, eras, comment), rng)
        if rec:
            yield rec
