#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (fuzz/seeds/<target>/) from the shipped files.

Small slices only: a few rows of each research file, a payload of each fact kind, a few dozen
names and dates. Run from anywhere: `python3 fuzz/make_seeds.py`. The seeds are committed; run
this again when the shipped files or the importers' order change (the first byte of an
`import_csv` seed is the importer's index among the CSV importers of crates/import/src/kinds.rs).
"""

import csv
import io
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
OUT = ROOT / "fuzz" / "seeds"
MAX_SEED = 4096  # bytes; the targets run with -max_len=8192

# Which shipped file each CSV importer reads.
FILES = {
    "sources": ["curated/sources.csv", "converted/sources.csv"],
    "facts-csv": [
        "curated/facts/seed002_usa.csv",
        "curated/facts/conflicts.csv",
        "curated/facts/succession.csv",
    ],
    "parties": ["research/treaty/parties.csv"],
    "treaty-actions": ["research/treaty/actions_sample.csv"],
    "art5-extensions": ["research/treaty/art5_extensions_sample.csv"],
    "meetings": ["research/treaty/meetings.csv"],
    "art5-events": ["research/treaty/art5_events.csv"],
    "art4-events": ["research/treaty/art4_events.csv"],
    "art5-status": ["research/impact/art5_status.csv"],
    "art4-status": ["research/impact/art4_status.csv"],
    "armed-conflict": ["research/treaty/armed_conflict_sample.csv"],
    "unga-roll-calls": ["research/unga/roll_calls.csv"],
    "unga-votes": ["research/unga/votes.csv"],
    "us-policies": ["research/policies/us_policies.csv"],
    "us-events": ["research/policies/us_events.csv"],
    "us-stockpile": ["research/policies/us_stockpile_2002.csv"],
    "headline-figures": ["research/monitor/headline_figures.csv"],
    "stockpiles": ["research/monitor/stockpiles.csv"],
}


def csv_kinds():
    """The CSV importers in the order of KINDS in crates/import/src/kinds.rs."""
    text = (ROOT / "crates/import/src/kinds.rs").read_text()
    block = text[text.index("pub const KINDS") :]
    block = block[: block.index("\n];")]
    names = re.findall(r'name: "([a-z0-9-]+)"', block)
    return [n for n in names if n != "facts-json"]


def records(path):
    with open(DATA / path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def to_csv(rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def slice_csv(header, rows):
    """The header and as many of `rows` as fit in MAX_SEED bytes (at least one)."""
    out = [header]
    for r in rows:
        if len(to_csv(out + [r]).encode()) > MAX_SEED and len(out) > 1:
            break
        out.append(r)
    return to_csv(out)


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def import_csv():
    kinds = csv_kinds()
    assert sorted(kinds) == sorted(FILES), f"importers changed: {kinds}"
    for i, kind in enumerate(kinds):
        for path in FILES[kind]:
            rows = records(path)
            header, body = rows[0], rows[1:]
            stem = f"{Path(path).parent.name}-{Path(path).stem}"
            picks = [("head", body[:6])]
            if len(body) > 40:
                mid = len(body) // 2
                picks.append(("mid", body[mid : mid + 6]))
            for label, part in picks:
                write("import_csv", f"{kind}-{stem}-{label}.csv", bytes([i]) + slice_csv(header, part).encode())
    # facts-csv: rows of every fact kind from the converted file.
    i = kinds.index("facts-csv")
    rows = records("converted/facts.csv")
    header, body = rows[0], rows[1:]
    kind_col = header.index("kind")
    by_kind = {}
    for r in body:
        by_kind.setdefault(r[kind_col], []).append(r)
    for k, rs in sorted(by_kind.items()):
        write("import_csv", f"facts-csv-converted-{k}.csv", bytes([i]) + slice_csv(header, rs[:3]).encode())
    # The UN files have no source column: imported with a default source (the high bit).
    for kind, path in [("unga-roll-calls", "research/unga/roll_calls.csv"), ("unga-votes", "research/unga/votes.csv")]:
        rows = records(path)
        i = kinds.index(kind)
        write("import_csv", f"{kind}-default-source.csv", bytes([i | 0x80]) + slice_csv(rows[0], rows[1:6]).encode())


def json_fact(header, r):
    f = dict(zip(header, r))
    doc = {
        "key": f["key"] or None,
        "subject": f["subject"],
        "kind": f["kind"],
        "valid_from": f["valid_from"] or None,
        "valid_to": f["valid_to"] or None,
        "payload": json.loads(f["payload"]),
        "sources": [s.strip() for s in f["sources"].split(";") if s.strip()],
        "note": f["note"] or None,
    }
    return {k: v for k, v in doc.items() if v is not None}


def import_json():
    src_rows = records("curated/sources.csv")
    src_header = src_rows[0]
    sources = {r[0]: dict(zip(src_header, r)) for r in src_rows[1:]}

    def doc(facts, with_sources=True):
        keys = []
        for f in facts:
            for s in f["sources"]:
                k = s.split("#")[0]
                if k in sources and k not in keys:
                    keys.append(k)
        d = {}
        if with_sources:
            d["sources"] = [{k: v for k, v in sources[k].items() if v} for k in keys]
        d["facts"] = facts
        return json.dumps(d, ensure_ascii=False, indent=1)

    for path in ["curated/facts/seed002_usa.csv", "curated/facts/conflicts.csv", "curated/facts/succession.csv"]:
        rows = records(path)
        facts = [json_fact(rows[0], r) for r in rows[1:4]]
        write("import_json", f"{Path(path).stem}.json", doc(facts))
    # One fact of each kind of the converted file (their sources are in the record already).
    rows = records("converted/facts.csv")
    header = rows[0]
    seen = {}
    for r in rows[1:]:
        seen.setdefault(r[header.index("kind")], r)
    facts = [json_fact(header, r) for _, r in sorted(seen.items())]
    write("import_json", "converted-each-kind.json", doc(facts, with_sources=False))
    write(
        "import_json",
        "sources-only.json",
        json.dumps({"sources": [{k: v for k, v in s.items() if v} for s in list(sources.values())[:5]]}, indent=1),
    )


def payload():
    seen = {}
    for path in ["converted/facts.csv", "curated/facts/seed002_usa.csv", "curated/facts/succession.csv"]:
        rows = records(path)
        header = rows[0]
        for r in rows[1:]:
            f = dict(zip(header, r))
            seen.setdefault(f["kind"], []).append(f["payload"])
    for k, ps in sorted(seen.items()):
        for j, p in enumerate(ps[:2]):
            write("payload", f"{k}-{j}", f"{k}\n{p}")
    # Kinds the shipped facts do not use: payloads as data/README.md describes them.
    readme = {
        "art7_report": {"initial": True, "year_covered": 2019, "not_submitted": False},
        "legislation": {"title": "Law No. 1", "status": "adopted"},
        "meeting_participation": {"meeting": "12MSP", "role": "observer"},
        "retraction": {"reason": "duplicate"},
    }
    for k, p in readme.items():
        if k not in seen:
            write("payload", f"{k}-readme", f"{k}\n{json.dumps(p)}")


def dates():
    found = []
    for path in ["converted/facts.csv", "converted/sources.csv", "research/treaty/parties.csv"]:
        rows = records(path)
        header = rows[0]
        for col in ("valid_from", "valid_to", "published", "signed", "deposited"):
            if col in header:
                for r in rows[1:]:
                    v = r[header.index(col)]
                    shape = re.sub(r"\d", "9", v)
                    if v and shape not in [re.sub(r"\d", "9", x) for x in found]:
                        found.append(v)
    found += ["1997-12-03", "2024-02-29", "2025-02-30", "0000-01-01", "9999-12-31", "3 Dec 1997"]
    found += ["2026-12-02T10:15:00Z", "2010-10-18T00:00:00+00:00"]
    for j, v in enumerate(dict.fromkeys(found)):
        write("dates", f"date-{j:02}", v)


def resolve():
    names = []
    rows = records("research/treaty/parties.csv")
    names += [r[0] for r in rows[1:25]] + [r[1] for r in rows[1:6]]
    rows = records("research/unga/votes.csv")
    names += sorted({r[2] for r in rows[1:]})[:25] + [r[3] for r in rows[1:6]]
    rows = records("reference/aliases.csv")
    names += [r[1] for r in rows[1:30]]
    names += ["Côte d’Ivoire", "St. Kitts & Nevis", "Korea", "Congo", "NSAG-", "WLD", "XKX", "Türkiye", "  The  Gambia "]
    for j, n in enumerate(dict.fromkeys(names)):
        write("resolve", f"name-{j:03}", n)


def classify():
    readme = {"target": "person", "activation": "tripwire", "delivery": {"mode": "hand_emplaced"}}
    devices = {
        "readme": readme,
        "claymore-command": {
            "name": "M18A1 Claymore, command mode",
            "target": "person",
            "activation": "command",
            "directional": True,
            "delivery": {"mode": "hand_emplaced"},
        },
        "vehicle-ahd": {
            "target": "vehicle",
            "activation": "magnetic",
            "anti_handling_device": True,
            "delivery": {"mode": "hand_emplaced"},
            "detectable_iron_equivalent_g": 9,
        },
        "scatterable-smart": {
            "target": "person",
            "activation": "tripwire",
            "self_destruct": {"days": 4, "reliability": 0.99},
            "self_deactivation": {"days": 120, "reliability": 0.999},
            "delivery": {"mode": "remote", "distance_m": 15000},
            "detectable_iron_equivalent_g": 9,
        },
        "seismic": {"target": "person", "activation": "seismic", "delivery": {"mode": "hand_emplaced"}, "detectable_iron_equivalent_g": 9},
        "sensor-cue": {"target": "person", "activation": "command_with_sensor_cue", "delivery": {"mode": "hand_emplaced"}},
    }
    for name, d in devices.items():
        write("classify", f"device-{name}.json", json.dumps(d))
    write("classify", "as-of-1999.json", "1999-03-01\n" + json.dumps(devices["scatterable-smart"]))
    write("classify", "as-of-2014.json", "2014-09-23\n" + json.dumps(devices["claymore-command"]))
    for path in sorted((DATA / "definitions").glob("*.json")):
        definition = json.loads(path.read_text())
        body = {"device": devices["seismic"], "definitions": [definition]}
        write("classify", f"with-{path.stem}.json", json.dumps(body))


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    import_csv()
    import_json()
    payload()
    dates()
    resolve()
    classify()
    for d in sorted(OUT.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
