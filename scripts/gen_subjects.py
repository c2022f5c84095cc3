#!/usr/bin/env python3
"""Generate minewatch's reference table of subjects: data/reference/subjects.csv.

Usage:
    python3 scripts/gen_subjects.py [--world-countries PATH] [--out PATH]
    python3 scripts/gen_subjects.py --check [--shared DIR] [--out PATH]

Inputs (see data/reference/ATTRIBUTION.md for their licences):
  * Debian's iso-codes: /usr/share/iso-codes/json/iso_3166-1.json (current codes) and
    iso_3166-3.json (withdrawn codes, for historical entities). `apt-get install iso-codes`.
  * data/reference/subjects_extra.csv (hand-written, same columns as the output): subjects ISO
    does not have (Kosovo, Somaliland, Nagorno-Karabakh, the world, armed groups), historical
    entities (codes, alpha-2 and numeric taken from iso_3166-3.json), and overrides of ISO
    subjects. In an override row an empty field keeps the generated value.
  * data/reference/aliases.csv (hand-written, `code,alias`): extra names.
  * optional: npm `world-countries` countries.json (ODbL-1.0), read only if the file exists
    (`npm install --prefix /tmp/wc world-countries`). Only `region` and the Latin-script
    `altSpellings` are copied; `unMember` is only used to cross-check the hand list of states.
    Without it the region column stays empty for ISO subjects.

The output is sorted by code and deterministic for the same inputs. `--check` reads the
written table back, checks its consistency, and checks that every country name used in the
shared research data (../shared/data) resolves to exactly one subject under the same matching
rules as minewatch_domain::subject::Gazetteer (see normalize() below); it exits 1 on any problem.
Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "data" / "reference"
OUT_DEFAULT = REF / "subjects.csv"
EXTRA = REF / "subjects_extra.csv"
ALIASES = REF / "aliases.csv"
SHARED_DEFAULT = ROOT.parent / "shared" / "data"
ISO_DIR = Path("/usr/share/iso-codes/json")
ISO_1 = ISO_DIR / "iso_3166-1.json"
ISO_3 = ISO_DIR / "iso_3166-3.json"
WC_DEFAULT = Path("/tmp/wc/node_modules/world-countries/countries.json")

COLUMNS = ["code", "alpha2", "numeric", "name", "kind", "region", "aliases", "successors", "parent"]
KINDS = {"state", "territory", "other_area", "historical", "armed_group", "world"}
REGIONS = {"Africa", "Americas", "Asia", "Europe", "Oceania"}

# States: the 193 UN member states, the two observer states (VAT Holy See, PSE State of
# Palestine) and two States Parties to the Mine Ban Treaty that are not UN members (COK Cook
# Islands, NIU Niue): 197 codes. Written by hand as the union of every iso3 in
# shared/data/treaty/parties.csv and every alpha-2 in shared/data/unga/votes.csv (YU excepted:
# Yugoslavia is historical). Every UN member appears in one of the two files, so no code had to
# be added by hand beyond them. When world-countries is available the list is cross-checked
# against its `unMember` flag (which wrongly marks VAT as a member).
STATES = frozenset("""
    AFG AGO ALB AND ARE ARG ARM ATG AUS AUT AZE BDI BEL BEN BFA BGD
    BGR BHR BHS BIH BLR BLZ BOL BRA BRB BRN BTN BWA CAF CAN CHE CHL
    CHN CIV CMR COD COG COK COL COM CPV CRI CUB CYP CZE DEU DJI DMA
    DNK DOM DZA ECU EGY ERI ESP EST ETH FIN FJI FRA FSM GAB GBR GEO
    GHA GIN GMB GNB GNQ GRC GRD GTM GUY HND HRV HTI HUN IDN IND IRL
    IRN IRQ ISL ISR ITA JAM JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT
    LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAR MCO MDA MDG MDV
    MEX MHL MKD MLI MLT MMR MNE MNG MOZ MRT MUS MWI MYS NAM NER NGA
    NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PER PHL PLW PNG POL PRK
    PRT PRY PSE QAT ROU RUS RWA SAU SDN SEN SGP SLB SLE SLV SMR SOM
    SRB SSD STP SUR SVK SVN SWE SWZ SYC SYR TCD TGO THA TJK TKM TLS
    TON TTO TUN TUR TUV TZA UGA UKR URY USA UZB VAT VCT VEN VNM VUT
    WSM YEM ZAF ZMB ZWE
""".split())
NON_UN_STATES = frozenset({"VAT", "PSE", "COK", "NIU"})

# Display names where iso-codes' common_name/name is not what a reader expects (inverted
# "X, Republic of" forms and the like). Everything else: common_name, else name.
NAME_OVERRIDES = {
    "COD": "Democratic Republic of the Congo",
    "FSM": "Micronesia",
    "KOR": "Republic of Korea",
    "PRK": "Democratic People's Republic of Korea",
    "PSE": "State of Palestine",
    "VAT": "Holy See",
    "VGB": "British Virgin Islands",
    "VIR": "United States Virgin Islands",
}
# ISO names whose comma is a list, not an inversion ("X, Republic of").
COMMA_NAMES_OK = {"BES", "SHN"}

# world-countries codes that differ from ours.
WC_CODE_MAP = {"UNK": "XKX"}


def fail(msg: str, code: int = 1) -> None:
    print(msg, file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Matching rules (mirror of minewatch_domain::subject::normalize_name and Gazetteer::resolve)

APOSTROPHES = {"'", "\u2019", "\u2018", "`", "\u00b4"}


def normalize(name: str) -> str:
    """NFKD, combining marks removed; apostrophes deleted; & -> and; ß -> ss; other
    alphanumerics lower-cased; anything else a space; "st" -> "saint"; every "the" dropped."""
    out = []
    for c in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(c):
            continue
        if c in APOSTROPHES:
            continue
        if c == "&":
            out.append(" and ")
        elif c == "ß":
            out.append("ss")
        elif c.isalnum():
            out.append(c.lower())
        else:
            out.append(" ")
    words = ["saint" if w == "st" else w for w in "".join(out).split()]
    return " ".join(w for w in words if w != "the")


def looks_like_code(s: str) -> bool:
    return (2 <= len(s.encode()) <= 3 and s.isascii() and s.isalpha()) or s.startswith("NSAG-")


class Index:
    """Codes and folded names -> subject codes, as the Rust Gazetteer builds them."""

    def __init__(self, rows: list[dict]):
        self.by_code: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = {}
        for r in rows:
            self.by_code[r["code"].upper()] = r["code"]
        for r in rows:
            if r["alpha2"]:
                self.by_code.setdefault(r["alpha2"].upper(), r["code"])
        for r in rows:
            names = [r["name"]] + [a for a in r["aliases"].split("|") if a]
            for n in names:
                key = normalize(n)
                if not key:
                    continue
                slot = self.by_name.setdefault(key, [])
                if r["code"] not in slot:
                    slot.append(r["code"])

    def resolve(self, name: str) -> list[str]:
        """Every subject the name resolves to (exactly one when it resolves)."""
        t = name.strip()
        if looks_like_code(t) and t.upper() in self.by_code:
            return [self.by_code[t.upper()]]
        return list(self.by_name.get(normalize(t), []))


# ---------------------------------------------------------------------------------------------
# Generation


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_iso() -> tuple[list[dict], dict[str, dict]]:
    if not ISO_1.exists() or not ISO_3.exists():
        fail(
            f"iso-codes JSON not found ({ISO_1}, {ISO_3}).\n"
            "Install Debian's iso-codes package:  apt-get install iso-codes"
        )
    current = json.loads(ISO_1.read_text(encoding="utf-8"))["3166-1"]
    withdrawn = json.loads(ISO_3.read_text(encoding="utf-8"))["3166-3"]
    return current, {e["alpha_3"]: e for e in withdrawn}


def load_world_countries(path: Path) -> dict[str, dict] | None:
    if not path.exists():
        print(
            f"note: {path} not found: region left empty for ISO subjects and no alternative "
            "spellings added (npm install --prefix /tmp/wc world-countries)",
            file=sys.stderr,
        )
        return None
    out = {}
    for c in json.loads(path.read_text(encoding="utf-8")):
        code = WC_CODE_MAP.get(c["cca3"], c["cca3"])
        region = c.get("region", "")
        out[code] = {
            "region": region if region in REGIONS else "",  # "Antarctic" is no UN region
            "alt": list(c.get("altSpellings", [])),
            "unMember": bool(c.get("unMember")),
        }
    return out


def latin_only(s: str) -> bool:
    for c in unicodedata.normalize("NFKD", s):
        if unicodedata.combining(c):
            continue
        if c.isalpha() and ord(c) > 0x24F:
            return False
    return True


def split_bar(s: str) -> list[str]:
    return [x.strip() for x in s.split("|") if x.strip()]


def build(wc_path: Path) -> list[dict]:
    current, withdrawn = load_iso()
    wc = load_world_countries(wc_path)
    subjects: dict[str, dict] = {}
    # Candidate aliases per code in priority order: ISO names, hand-written, world-countries.
    iso_names: dict[str, list[str]] = {}
    hand: dict[str, list[str]] = {}
    withdrawal: dict[str, str] = {}  # code -> ISO withdrawal date, for alpha-2 reuse

    for e in current:
        code = e["alpha_3"]
        name = NAME_OVERRIDES.get(code) or e.get("common_name") or e["name"]
        if ", " in name and code not in COMMA_NAMES_OK:
            fail(f"{code}: display name {name!r} looks inverted: add it to NAME_OVERRIDES")
        subjects[code] = {
            "code": code,
            "alpha2": e["alpha_2"],
            "numeric": e.get("numeric", "").zfill(3) if e.get("numeric") else "",
            "name": name,
            "kind": "state" if code in STATES else "territory",
            "region": (wc or {}).get(code, {}).get("region", ""),
            "successors": "",
            "parent": "",
        }
        iso_names[code] = [e[k] for k in ("common_name", "name", "official_name") if e.get(k)]
        withdrawal[code] = "9999"

    for row in read_csv(EXTRA):
        code = row["code"].strip()
        if code in subjects:  # override: non-empty fields win
            s = subjects[code]
        else:
            s = {k: "" for k in COLUMNS if k != "aliases"}
            s["code"] = code
            w = withdrawn.get(code)
            if w is not None:
                s["alpha2"] = w["alpha_2"]
                s["numeric"] = w.get("numeric", "").zfill(3) if w.get("numeric") else ""
                iso_names[code] = [w["name"]]
                withdrawal[code] = w.get("withdrawal_date", "")
            if wc and code in wc:
                s["region"] = wc[code]["region"]
            subjects[code] = s
        for k in ("alpha2", "numeric", "name", "kind", "region", "successors", "parent"):
            v = row.get(k, "").strip()
            if v:
                s[k] = v
        hand.setdefault(code, []).extend(split_bar(row.get("aliases", "")))
        withdrawal.setdefault(code, "9999")

    for row in read_csv(ALIASES):
        code, alias = row["code"].strip(), row["alias"].strip()
        if code not in subjects:
            fail(f"aliases.csv: unknown code {code!r} (alias {alias!r})")
        hand.setdefault(code, []).append(alias)

    # One alpha-2 per subject: a withdrawn alpha-2 later reassigned (CS: Czechoslovakia until
    # 1993, then Serbia and Montenegro) stays with the latest holder.
    holders: dict[str, list[str]] = {}
    for code, s in subjects.items():
        if s["alpha2"]:
            holders.setdefault(s["alpha2"], []).append(code)
    for a2, codes in sorted(holders.items()):
        if len(codes) > 1:
            keep = max(codes, key=lambda c: withdrawal.get(c, ""))
            for c in codes:
                if c != keep:
                    print(f"note: alpha-2 {a2} kept by {keep}, dropped from {c}", file=sys.stderr)
                    subjects[c]["alpha2"] = ""

    # Folded names and aliases taken so far, to keep world-countries spellings that would make
    # a name ambiguous out of the table.
    owner: dict[str, set[str]] = {}
    for code, s in subjects.items():
        for n in [s["name"]] + iso_names.get(code, []) + hand.get(code, []):
            owner.setdefault(normalize(n), set()).add(code)
    codes_taken = {c.upper() for c in subjects} | {s["alpha2"] for s in subjects.values() if s["alpha2"]}

    alt: dict[str, list[str]] = {}
    if wc:
        proposals: dict[str, set[str]] = {}
        for code in sorted(subjects):
            for a in wc.get(code, {}).get("alt", []):
                if not latin_only(a) or not normalize(a):
                    continue
                if looks_like_code(a) and (a.upper() in codes_taken or len(a) == 2):
                    continue
                proposals.setdefault(normalize(a), set()).add(code)
                alt.setdefault(code, []).append(a)
        for code in list(alt):
            kept = []
            for a in alt[code]:
                key = normalize(a)
                others = (owner.get(key, set()) | proposals[key]) - {code}
                if others:
                    print(f"note: world-countries spelling {a!r} of {code} dropped "
                          f"(also {', '.join(sorted(others))})", file=sys.stderr)
                else:
                    kept.append(a)
            alt[code] = kept

    rows = []
    for code in sorted(subjects):
        s = subjects[code]
        seen = {normalize(s["name"])}
        aliases = []
        for a in iso_names.get(code, []) + hand.get(code, []) + alt.get(code, []):
            key = normalize(a)
            if key and key not in seen:
                seen.add(key)
                aliases.append(a)
        aliases.sort(key=lambda a: (normalize(a), a))
        if "|" in "".join(aliases):
            fail(f"{code}: an alias contains '|'")
        row = dict(s)
        row["aliases"] = "|".join(aliases)
        rows.append({k: row.get(k, "") for k in COLUMNS})

    if wc:
        wc_states = {c for c, v in wc.items() if v["unMember"]} - NON_UN_STATES | NON_UN_STATES
        if wc_states != STATES:
            print(f"warning: hand list of states differs from world-countries unMember: "
                  f"only in hand list {sorted(STATES - wc_states)}, "
                  f"only in world-countries {sorted(wc_states - STATES)}", file=sys.stderr)
    return rows


def write(rows: list[dict], out: Path) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue(), encoding="utf-8", newline="")


# ---------------------------------------------------------------------------------------------
# Check

# Common variants the table must resolve (point 3 of the task); "Korea" is deliberately
# ambiguous and checked separately.
VARIANTS = {
    "Republic of Korea": "KOR", "Korea, Rep.": "KOR", "South Korea": "KOR",
    "Korea, Dem. People's Rep.": "PRK", "DPRK": "PRK", "North Korea": "PRK",
    "Ivory Coast": "CIV", "Côte d'Ivoire": "CIV", "Cote d'Ivoire": "CIV",
    "Swaziland": "SWZ", "Eswatini": "SWZ",
    "Türkiye": "TUR", "Turkey": "TUR", "Turkiye": "TUR",
    "Holy See": "VAT", "Vatican": "VAT",
    "Lao PDR": "LAO", "Laos": "LAO",
    "Viet Nam": "VNM", "Vietnam": "VNM",
    "State of Palestine": "PSE", "Palestine": "PSE",
    "Burma": "MMR", "Myanmar": "MMR",
    "Cabo Verde": "CPV", "Cape Verde": "CPV",
    "Czech Republic": "CZE", "Czechia": "CZE",
    "Macedonia": "MKD", "North Macedonia": "MKD",
    "Russian Federation": "RUS", "Russia": "RUS",
    "United States of America": "USA", "United States": "USA", "USA": "USA",
    "UK": "GBR", "Great Britain": "GBR", "United Kingdom": "GBR",
    "Democratic Republic of the Congo": "COD", "DR Congo": "COD", "DRC": "COD",
    "Republic of the Congo": "COG", "Congo": "COG",
    "East Timor": "TLS", "Timor-Leste": "TLS",
    "Micronesia": "FSM", "Syrian Arab Republic": "SYR", "Syria": "SYR",
    "Iran (Islamic Republic of)": "IRN", "Iran": "IRN",
    "Bolivia (Plurinational State of)": "BOL", "Bolivia": "BOL",
    "Venezuela (Bolivarian Republic of)": "VEN", "Venezuela": "VEN",
    "United Republic of Tanzania": "TZA", "Tanzania": "TZA",
    "Republic of Moldova": "MDA", "Moldova": "MDA",
    "Brunei Darussalam": "BRN", "Brunei": "BRN",
    "Gambia": "GMB", "The Gambia": "GMB",
    "Bahamas": "BHS", "The Bahamas": "BHS",
    "Netherlands": "NLD", "The Netherlands": "NLD",
    "Kosovo": "XKX", "Western Sahara": "ESH", "Somaliland": "XSL", "Nagorno-Karabakh": "XNK",
    "Taiwan": "TWN", "World": "WLD",
    "Bosnia": "BIH", "Bosnia and Herzegovina": "BIH",
    "Saint Lucia": "LCA", "St. Lucia": "LCA", "St Lucia": "LCA",
    "St. Vincent & Grenadines": "VCT", "Saint Vincent and the Grenadines": "VCT",
    "St. Kitts & Nevis": "KNA", "São Tomé & Príncipe": "STP",
    "Yugoslavia": "YUG", "Serbia and Montenegro": "SCG", "USSR": "SUN", "Soviet Union": "SUN",
    "Czechoslovakia": "CSK",
}
AMBIGUOUS = {"Korea": {"KOR", "PRK"}}

# country_of_use values in impact/mine_use.csv that are not a country's name (places inside
# a country, borders, groups of countries, blanks). A new value not listed here must resolve.
NOT_A_COUNTRY = {
    "",
    "Bani Jarmooz, north of Sanaa, Yemen",
    "Izium area, Ukraine",
    "Sirnak, Turkey",
    "Palestine (Gaza)",
    "Sahel countries",
    "Thailand-Cambodia border",
    "at least 13 countries incl. Sahel states, Colombia, India, Pakistan, Myanmar",
    "at least nine countries incl. Ukraine and Yemen",
}
AGGREGATES = {"GLOBAL", "ALL"}


def shared_names(shared: Path) -> list[tuple[str, str, str, str]]:
    """(name, expected code or "", how the code is given, where) for every country name."""
    names: dict[tuple[str, str, str], str] = {}
    votes = shared / "unga" / "votes.csv"
    for r in read_csv(votes):
        names.setdefault((r["country"], r["country_code"], "alpha2"), "unga/votes.csv country")
    for sub in ("treaty", "policies", "monitor", "impact"):
        for f in sorted((shared / sub).glob("*.csv")):
            rel = f"{sub}/{f.name}"
            for r in read_csv(f):
                for col in ("state", "country"):
                    v = r.get(col)
                    if v is None or v.strip() in AGGREGATES:
                        continue
                    names.setdefault((v, r.get("iso3", ""), "code"), f"{rel} {col}")
                v = r.get("country_of_use")
                if v is not None and v not in NOT_A_COUNTRY:
                    names.setdefault((v, "", "code"), f"{rel} country_of_use")
    return sorted((n, c, how, where) for (n, c, how), where in names.items())


def check(out: Path, shared: Path) -> int:
    problems: list[str] = []
    if not out.exists():
        fail(f"{out} not found: run python3 scripts/gen_subjects.py first")
    text = out.read_bytes().decode("utf-8")
    if "\r" in text:
        problems.append("subjects.csv has \\r line ends")
    rows = read_csv(out)
    if not rows or list(rows[0].keys()) != COLUMNS:
        problems.append(f"subjects.csv header is not {','.join(COLUMNS)}")
    codes = [r["code"] for r in rows]
    if codes != sorted(codes) or len(set(codes)) != len(codes):
        problems.append("codes are not unique and sorted")
    known = set(codes)
    a2s = [r["alpha2"] for r in rows if r["alpha2"]]
    for a in sorted({a for a in a2s if a2s.count(a) > 1}):
        problems.append(f"alpha-2 {a} used by several subjects")
    for r in rows:
        c = r["code"]
        if r["kind"] not in KINDS:
            problems.append(f"{c}: unknown kind {r['kind']!r}")
        if r["region"] and r["region"] not in REGIONS:
            problems.append(f"{c}: unknown region {r['region']!r}")
        if r["numeric"] and not (len(r["numeric"]) == 3 and r["numeric"].isdigit()):
            problems.append(f"{c}: numeric {r['numeric']!r} is not 3 digits")
        for s in split_bar(r["successors"]) + ([r["parent"]] if r["parent"] else []):
            if s not in known:
                problems.append(f"{c}: successor/parent {s} is not a subject")
        if r["kind"] == "armed_group" and not c.startswith("NSAG-"):
            problems.append(f"{c}: armed group code must start with NSAG-")
        if not r["name"]:
            problems.append(f"{c}: empty name")
    states = {r["code"] for r in rows if r["kind"] == "state"}
    if states != STATES:
        problems.append(f"states differ from the hand list: extra {sorted(states - STATES)}, "
                        f"missing {sorted(STATES - states)}")

    index = Index(rows)
    by_code = {r["code"]: r for r in rows}

    # Names shared by several subjects (only "korea" is allowed).
    for key, owners in sorted(index.by_name.items()):
        if len(owners) > 1 and key != "korea":
            problems.append(f"name/alias {key!r} shared by {', '.join(sorted(owners))}")
    # Aliases that look like codes must not be another subject's code.
    for r in rows:
        for a in split_bar(r["aliases"]):
            if looks_like_code(a) and a.upper() in index.by_code and index.by_code[a.upper()] != r["code"]:
                problems.append(f"{r['code']}: alias {a!r} is the code of {index.by_code[a.upper()]}")

    def expect(name: str, want: str, how: str, where: str) -> None:
        got = index.resolve(name)
        if len(got) != 1:
            problems.append(f"{where}: {name!r} resolves to {len(got)} subjects {got}")
            return
        if want:
            have = by_code[got[0]]["alpha2"] if how == "alpha2" else got[0]
            if have != want:
                problems.append(f"{where}: {name!r} resolves to {got[0]}, the file says {want}")

    if not shared.is_dir():
        fail(f"shared data not found at {shared} (use --shared DIR)")
    names = shared_names(shared)
    for name, want, how, where in names:
        expect(name, want, how, where)
    for name, want in VARIANTS.items():
        expect(name, want, "code", "variant")
    for name, want in AMBIGUOUS.items():
        got = set(index.resolve(name))
        if got != want:
            problems.append(f"variant: {name!r} should be ambiguous between {sorted(want)}, got {sorted(got)}")

    for p in problems:
        print(p)
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"{len(rows)} subjects ({summary}); {len(names)} names from the shared data and "
          f"{len(VARIANTS) + len(AMBIGUOUS)} variants checked; {len(problems)} problems")
    return 1 if problems else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="check the written table instead of generating it")
    ap.add_argument("--world-countries", type=Path, default=WC_DEFAULT, metavar="PATH",
                    help=f"world-countries countries.json (default {WC_DEFAULT}; used only if it exists)")
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT, help="the subjects CSV (default %(default)s)")
    ap.add_argument("--shared", type=Path, default=SHARED_DEFAULT, help="shared research data, for --check")
    args = ap.parse_args()
    if args.check:
        return check(args.out, args.shared)
    rows = build(args.world_countries)
    write(rows, args.out)
    print(f"wrote {len(rows)} subjects to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
