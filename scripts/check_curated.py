#!/usr/bin/env python3
"""Checks the hand-written curated data (data/curated) against the facts format of data/README.md.

Usage: python3 scripts/check_curated.py   (from the repository root or anywhere)

Checks: column sets; unique source and fact keys; source key syntax; known fact kinds; payloads
that are JSON objects with only the fields of their kind, required fields present, legal enum words
and the right JSON types; dates YYYY, YYYY-MM or YYYY-MM-DD that exist in the calendar; every cited
source key defined in sources.csv; seed 002 footnotes 1-28 each cited; and the footnote-28 stockpile
counts summing to 10,404,148. Exits non-zero on any problem.
"""
import calendar
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CURATED = ROOT / "data" / "curated"
SOURCE_COLUMNS = ["key", "title", "publisher", "published", "url", "note"]
FACT_COLUMNS = ["key", "subject", "kind", "valid_from", "valid_to", "payload", "sources", "note"]

# field -> type spec: "str", "bool", "uint", "num", "int", "date", ("enum", words), ("list", spec)
PD = "date"
TREATY_ACTIONS = ["signature", "deposit", "withdrawal_notice", "provisional_application", "suspension_declaration"]
METHODS = ["ratification", "acceptance", "approval", "accession", "succession"]
ACTIVITIES = ["use", "develop", "produce", "acquire", "stockpile", "retain", "transfer", "assist"]
STANCES = ["prohibited", "prohibited_with_exceptions", "capped", "permitted_with_conditions", "permitted", "not_addressed"]
PROVISION = {
    "fields": {"activity": ("enum", ACTIVITIES), "stance": ("enum", STANCES), "mine_scope": "str",
               "geography": "str", "authority": "str", "effective_from": "int", "note": "str"},
    "required": ["activity", "stance"],
}
KINDS = {
    "treaty_action": ({"action": ("enum", TREATY_ACTIONS), "method": ("enum", METHODS), "date_inferred": "bool",
                       "succession_date": PD, "dated_as_accession": "bool"},
                      ["action"]),
    "armed_conflict": ({"description": "str"}, ["description"]),
    "art5_event": ({"event": ("enum", ["extension_requested", "extension_granted", "deadline_missed",
                                       "completion_declared", "new_contamination_reported",
                                       "obligation_reinstated", "deadline_reported"]),
                    "meeting": "str", "inferred": "bool",
                    "requested": PD, "decided": PD, "new_deadline": PD}, ["event"]),
    "art4_event": ({"event": ("enum", ["completed", "deadline_missed", "no_stockpile_declared", "stockpile_reported"]),
                    "destroyed": "uint", "retained": "uint", "stockpile": "uint"}, ["event"]),
    "art7_report": ({"initial": "bool", "year_covered": "int"}, []),
    "legislation": ({"title": "str", "status": "str"}, ["title", "status"]),
    "unga_roll_call": ({"rcid": "uint", "session": "uint", "resolution": "str", "topic": "str",
                        "yes": "uint", "no": "uint", "abstain": "uint"},
                       ["rcid", "session", "resolution", "topic", "yes", "no", "abstain"]),
    "unga_vote": ({"rcid": "uint", "resolution": "str", "vote": ("enum", ["yes", "no", "abstain"]),
                   "name_in_source": "str"}, ["resolution", "vote"]),
    "meeting_participation": ({"meeting": "str", "role": ("enum", ["party", "observer", "not_attended"])},
                              ["meeting", "role"]),
    "mine_activity": ({"activity": ("enum", ["use", "production", "transfer"]), "actor": "str",
                       "certainty": ("enum", ["confirmed", "alleged"]), "last_known": "bool",
                       "quantity": "uint", "detail": "str"}, ["activity", "certainty", "detail"]),
    "stockpile_count": ({"mine_type": "str", "measure": ("enum", ["total", "remaining", "retained", "destroyed"]),
                         "quantity": "uint"}, ["mine_type", "measure", "quantity"]),
    "policy_instrument": ({"policy_id": "str", "instrument": "str", "provisions": ("list", PROVISION),
                           "rescinds": ("list", "str")}, ["policy_id", "instrument", "provisions"]),
    "headline_figure": ({"metric": "str", "value": "num", "unit": "str", "basis": "str", "data_year": "int",
                         "report_edition": "int"}, ["metric", "value", "unit", "data_year", "report_edition"]),
    "development": ({"topic": "str", "summary": "str"}, ["topic", "summary"]),
    "retraction": ({"reason": "str"}, ["reason"]),
    "meeting": ({"code": "str", "name": "str", "city": "str"}, ["code", "name"]),
}
# topics used by the curated files (the brief's list)
DEV_TOPICS = {"ban_policy", "meetings", "unga", "use", "production", "transfer", "stockpile", "ccw",
              "universalization"}
SOURCE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
FOOTNOTE28_TOTAL = 10_404_148

problems = []


def err(where, msg):
    problems.append(f"{where}: {msg}")


def date_ok(s):
    m = DATE.match(s)
    if not m:
        return False
    y, mo, d = m.groups()
    if int(y) < 1:
        return False
    if mo is not None and not 1 <= int(mo) <= 12:
        return False
    if d is not None and not 1 <= int(d) <= calendar.monthrange(int(y), int(mo))[1]:
        return False
    return True


def check_value(where, field, spec, v):
    if spec == "str":
        if not isinstance(v, str):
            err(where, f"{field} must be a string")
        elif not v.strip():
            err(where, f"{field} must not be empty")
    elif spec == "bool":
        if not isinstance(v, bool):
            err(where, f"{field} must be true/false")
    elif spec in ("uint", "int"):
        if isinstance(v, bool) or not isinstance(v, int) or (spec == "uint" and v < 0):
            err(where, f"{field} must be a{' non-negative' if spec == 'uint' else 'n'} integer, got {v!r}")
    elif spec == "num":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            err(where, f"{field} must be a number")
    elif spec == PD:
        if not isinstance(v, str) or not date_ok(v):
            err(where, f"{field} must be a date YYYY[-MM[-DD]], got {v!r}")
    elif isinstance(spec, tuple) and spec[0] == "enum":
        if v not in spec[1]:
            err(where, f"{field} {v!r} is not one of: {', '.join(spec[1])}")
    elif isinstance(spec, tuple) and spec[0] == "list":
        if not isinstance(v, list):
            err(where, f"{field} must be a list")
            return
        for i, item in enumerate(v):
            if isinstance(spec[1], dict):
                check_object(f"{where} {field}[{i}]", item, spec[1]["fields"], spec[1]["required"])
            else:
                check_value(where, f"{field}[{i}]", spec[1], item)


def check_object(where, obj, fields, required):
    if not isinstance(obj, dict):
        err(where, "payload must be a JSON object")
        return
    for f in obj:
        if f not in fields:
            err(where, f"unknown field {f!r} (allowed: {', '.join(fields)})")
    for f in required:
        if f not in obj:
            err(where, f"missing field {f!r}")
    for f, v in obj.items():
        if f in fields:
            check_value(where, f, fields[f], v)


def read_csv(path, columns):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != columns:
            err(path.name, f"header {header} != {columns}")
            return []
        rows = []
        for n, row in enumerate(reader, start=2):
            if len(row) != len(columns):
                err(f"{path.name}:{n}", f"{len(row)} columns, expected {len(columns)}")
                continue
            rows.append((n, dict(zip(columns, row))))
        return rows


def main():
    sources = read_csv(CURATED / "sources.csv", SOURCE_COLUMNS)
    source_keys = set()
    for n, r in sources:
        where = f"sources.csv:{n}"
        k = r["key"]
        if not SOURCE_KEY.match(k) or len(k) > 120:
            err(where, f"bad source key {k!r}")
        if k in source_keys:
            err(where, f"duplicate source key {k!r}")
        source_keys.add(k)
        if not r["title"].strip():
            err(where, "empty title")
        if r["published"] and not date_ok(r["published"]):
            err(where, f"bad published date {r['published']!r}")

    fact_keys = set()
    cited = set()
    footnotes = set()
    n_facts = 0
    stock28 = {}
    fact_files = sorted((CURATED / "facts").glob("*.csv"))
    for path in fact_files:
        for n, r in read_csv(path, FACT_COLUMNS):
            n_facts += 1
            where = f"{path.name}:{n}"
            k = r["key"]
            if not k:
                err(where, "empty key")
            elif k in fact_keys:
                err(where, f"duplicate fact key {k!r}")
            fact_keys.add(k)
            if not r["subject"].strip():
                err(where, "empty subject")
            kind = r["kind"]
            if kind not in KINDS:
                err(where, f"unknown kind {kind!r}")
                continue
            for col in ("valid_from", "valid_to"):
                if r[col] and not date_ok(r[col]):
                    err(where, f"bad {col} {r[col]!r}")
            try:
                payload = json.loads(r["payload"])
            except json.JSONDecodeError as e:
                err(where, f"payload is not JSON: {e}")
                continue
            fields, required = KINDS[kind]
            check_object(where, payload, fields, required)
            if kind == "treaty_action" and isinstance(payload, dict):
                if payload.get("action") == "deposit" and "method" not in payload:
                    err(where, "a deposit needs a method")
                if payload.get("action") != "deposit" and "method" in payload:
                    err(where, "only a deposit has a method")
            if kind == "development" and isinstance(payload, dict) and payload.get("topic") not in DEV_TOPICS:
                err(where, f"development topic {payload.get('topic')!r} not in {sorted(DEV_TOPICS)}")
            if not r["sources"].strip():
                err(where, "no sources")
            for cit in r["sources"].split(";"):
                key, _, locator = cit.partition("#")
                key = key.strip()
                if key not in source_keys:
                    err(where, f"cites unknown source {key!r}")
                cited.add(key)
                if key == "lm-2010-usa":
                    m = re.fullmatch(r"footnote (\d+)", locator.strip())
                    if m:
                        footnotes.add(int(m.group(1)))
                if "#" in cit and not locator.strip():
                    err(where, f"empty locator in {cit!r}")
            if (kind == "stockpile_count" and "lm-2010-usa#footnote 28" in r["sources"].split(";")
                    and isinstance(payload, dict)):
                stock28[payload.get("mine_type")] = payload.get("quantity")

    missing = sorted(set(range(1, 29)) - footnotes)
    if missing:
        err("seed002_usa.csv", f"footnotes never cited: {missing}")
    # seed-00N documents are cited by the converted shared data (data/converted), not here.
    unused = sorted(k for k in source_keys - cited if not k.startswith("seed-00"))
    if unused:
        err("sources.csv", f"sources never cited: {unused}")
    total = sum(q for q in stock28.values() if isinstance(q, int))
    if total != FOOTNOTE28_TOTAL:
        err("seed002_usa.csv", f"footnote-28 stockpile counts sum to {total:,}, expected {FOOTNOTE28_TOTAL:,}")

    print(f"{len(sources)} sources, {n_facts} facts in {len(fact_files)} files; "
          f"footnote-28 stockpile: {len(stock28)} types, total {total:,}; footnotes cited: {len(footnotes)}/28")
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
