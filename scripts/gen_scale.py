#!/usr/bin/env python3
"""Writes a synthetic record of N facts in minewatch's facts-csv format, for the scale benchmark.

Usage: gen_scale.py N OUT_FACTS.csv OUT_SOURCES.csv

Deterministic (seeded): the same N gives the same files. The facts cover every subject but PRI of
data/reference/subjects.csv and subjects_extra.csv (states, territories, historical states,
other areas, the armed group, WLD) and every fact kind, each with a payload of its kind's shape
(crates/domain/src/fact.rs; shapes taken from the shipped data) and its numbers, words and dates
varied. Each fact cites one of a few generated sources (import OUT_SOURCES.csv first).

The mix (KIND_SHARE below) is meant to look like a record grown large, not like a worst case:
  - per-subject kinds (developments, Art. 7 reports, votes, counts, ...) take almost all rows;
    subjects get them unevenly, weight 1/(rank + 10): at N = 1,000,000 the heaviest (HEAVY, in
    that order: USA about 30,000 facts, UKR 27,000, RUS 25,000, ...) tens of thousands each,
    most subjects 1,000 to 3,000, and FEW (the Holy See, VAT) about 275;
  - kinds every subject engine carries for all subjects (deposits among treaty actions, meetings,
    UN roll calls, policy instruments: the web crate's SHARED_KINDS) stay a small share, as in
    life: at N = 1,000,000 2,400 roll calls, 200 meetings, 2,000 policy instruments and 5,000
    treaty actions (two fifths of them deposits);
  - roll calls and meetings are the world's (subject WLD), as in the shipped data; a state's
    votes name the generated roll calls, each vote dated by its roll call (one vote per roll
    call per state until a state has more votes than there are roll calls);
  - meetings get codes no shipped meeting has (30MSP and up, 6RC and up), so they dispute no
    shipped meeting's dates; Art. 5 events and participations name the shipped meetings;
  - retractions: facts-csv has no `supersedes` column, so a retraction can only withdraw a fact
    by reusing its key, and a key may not appear twice in one file. Generated retractions carry
    keys of their own and therefore withdraw nothing (they are stored, and every read skips
    them as it skips any retraction).
Dates run from 1997 to 2026, as a day (60 %), a month (20 %) or a year (18 %); 2 % are undated.
The distribution actually written is printed on standard error.
"""
import bisect
import csv
import json
import random
import sys
from collections import Counter
from pathlib import Path

SEED = 20260401

# Share of each kind in the N rows (unga_vote also takes what the others leave). Kinds marked WLD
# are written for subject WLD only.
KIND_SHARE = {
    "unga_vote": 0.12,
    "development": 0.25,
    "art7_report": 0.12,
    "stockpile_count": 0.10,
    "mine_activity": 0.07,
    "art5_event": 0.07,
    "art4_event": 0.06,
    "meeting_participation": 0.05,
    "headline_figure": 0.05,
    "legislation": 0.04,
    "armed_conflict": 0.02,
    "retraction": 0.01,
    "treaty_action": 0.005,
    "unga_roll_call": 0.0024,  # WLD
    "policy_instrument": 0.002,
    "meeting": 0.0002,  # WLD
}
WORLD_KINDS = {"unga_roll_call", "meeting"}
# Subjects that get the most facts, in this order; FEW gets the fewest.
HEAVY = ["USA", "UKR", "RUS", "AFG", "MMR", "KHM", "COL", "IRQ", "SYR", "YEM", "AGO", "BIH"]
FEW = "VAT"
# A subject the generator leaves alone (the resilience issue's example: Puerto Rico gained no
# facts, yet its profile slowed tenfold): its pages must cost the same on both records.
QUIET = "PRI"

SHIPPED_MEETINGS = [f"{i}MSP" for i in range(1, 23)] + [f"{i}RC" for i in range(1, 6)]
SOURCES = [
    ("scale-src-monitor", "Synthetic Landmine Monitor country profiles", "minewatch bench", ""),
    ("scale-src-isu", "Synthetic ISU records", "minewatch bench", ""),
    ("scale-src-unga", "Synthetic UN General Assembly voting records", "minewatch bench", ""),
    ("scale-src-art7", "Synthetic Article 7 database", "minewatch bench", ""),
    ("scale-src-press", "Synthetic press archive", "minewatch bench", ""),
    ("scale-src-early", "Synthetic early report (published 1997)", "minewatch bench", "1997"),
]
FIRST_YEAR, LAST_YEAR = 1997, 2026


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_scale.py N OUT_FACTS.csv OUT_SOURCES.csv")
    n = int(sys.argv[1])
    facts_path, sources_path = sys.argv[2], sys.argv[3]
    root = Path(__file__).resolve().parent.parent
    rng = random.Random(SEED)

    # --- subjects, in weight order -----------------------------------------------------------
    codes = []
    for name in ("subjects.csv", "subjects_extra.csv"):
        for r in csv.DictReader(open(root / "data/reference" / name, encoding="utf-8")):
            if r["code"] not in codes:
                codes.append(r["code"])
    codes = [c for c in codes if c != QUIET]
    rest = sorted(c for c in codes if c not in HEAVY and c != FEW)
    rng.shuffle(rest)
    order = [c for c in HEAVY if c in codes] + rest + ([FEW] if FEW in codes else [])
    weights = [1.0 / (r + 10) for r in range(len(order))]
    weights[-1] = weights[-1] / 4  # FEW: clearly the fewest
    cum = []
    t = 0.0
    for w in weights:
        t += w
        cum.append(t)

    def weighted_subject():
        return order[bisect.bisect_right(cum, rng.random() * t)]

    # --- how many of each kind, in a shuffled order ------------------------------------------
    if n < 22:
        sys.exit("N must be at least 22 (some facts of every kind)")
    counts = {k: max(1, int(n * s)) for k, s in KIND_SHARE.items()}
    counts["unga_vote"] += n - sum(counts.values())
    if counts["unga_vote"] < 1:
        sys.exit(f"N={n} is too small for the mix (some facts of every kind)")
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)

    # --- dates ---------------------------------------------------------------------------------
    def day(lo=FIRST_YEAR, hi=LAST_YEAR):
        y = rng.randint(lo, hi)
        m = rng.randint(1, 11 if y == LAST_YEAR else 12)
        return y, m, rng.randint(1, 28)

    def fmt(ymd, precision):
        y, m, d = ymd
        return {"day": f"{y:04d}-{m:02d}-{d:02d}", "month": f"{y:04d}-{m:02d}", "year": f"{y:04d}"}[precision]

    def partial(lo=FIRST_YEAR, hi=LAST_YEAR):
        r = rng.random()
        p = "day" if r < 0.6 else "month" if r < 0.8 else "year"
        return fmt(day(lo, hi), p)

    def valid_from():
        return "" if rng.random() < 0.02 else partial()

    def later(ymd, max_days):
        """A day after ymd by 1..max_days (in a 28-day month model: dates stay valid)."""
        y, m, d = ymd
        d += rng.randint(1, max_days)
        while d > 28:
            d -= 28
            m += 1
            if m > 12:
                m, y = 1, y + 1
        return (y, m, d)

    # --- shared things: roll calls, meetings -------------------------------------------------
    n_rc = counts["unga_roll_call"]
    roll_calls = []  # (rcid, resolution, date)
    for j in range(n_rc):
        ymd = day(FIRST_YEAR, LAST_YEAR)
        session = ymd[0] - 1945 - (1 if ymd[1] < 9 else 0)
        letter = "ABCDEFGHJKLMNPQRSTUVWXYZ"[j % 24]
        roll_calls.append((900001 + j, f"{session}/{100 + j // 24}{letter}", fmt(ymd, "day"), session))
    meeting_codes = [f"{i}MSP" for i in range(30, 1000)] + [f"{i}RC" for i in range(6, 1000)]

    # --- rows ----------------------------------------------------------------------------------
    per_subject = Counter()
    per_kind = Counter()
    votes_of = Counter()
    policies_of = {}
    next_rc = 0
    next_meeting = 0
    covered = 0  # per-subject rows so far: the first len(order) go round the subjects once

    counts_words = ["total", "remaining", "retained", "destroyed"]
    mine_types = ["all antipersonnel mines", "PMN", "PMN-2", "POM-2", "M14", "M16A1", "VS-50",
                  "PFM-1", "OZM-72", "Type 72", "MON-50", "M18A1 (victim-activated)"]
    topics = ["mine_action", "stockpile", "meetings", "unga", "ban_policy", "universalization",
              "ccw", "use", "transfer", "production"]
    metrics = [("casualties_total", "people"), ("killed", "people"), ("injured", "people"),
               ("civilian_share", "percent"), ("area_cleared", "km2"), ("land_released", "km2"),
               ("funding_total", "million USD"), ("funding_international", "million USD"),
               ("apm_destroyed_in_clearance", "mines"), ("children", "people")]
    legislation_status = ["adopted", "in_progress", "existing_law_deemed_sufficient",
                          "not_started", "draft_submitted"]
    actors = ["armed forces", "non-state armed group", "unknown", "police", "a neighbouring state"]
    cities = ["Geneva", "Maputo", "Managua", "Bangkok", "Zagreb", "Nairobi", "Cartagena",
              "Amman", "Phnom Penh", "Siem Reap", "Oslo", "The Hague", "Santiago"]
    activities = ["use", "develop", "produce", "acquire", "stockpile", "retain", "transfer", "assist"]
    stances = ["prohibited", "prohibited_with_exceptions", "capped", "permitted_with_conditions",
               "permitted", "not_addressed"]

    def payload(kind, subject, i, vf):
        if kind == "treaty_action":
            r = rng.random()
            if r < 0.35:
                return {"action": "deposit",
                        "method": rng.choice(["ratification", "acceptance", "approval", "accession"]),
                        **({"date_inferred": True} if rng.random() < 0.1 else {})}
            if r < 0.40:
                p = {"action": "deposit", "method": "succession"}
                if rng.random() < 0.5:
                    p["succession_date"] = partial()
                if rng.random() < 0.3:
                    p["dated_as_accession"] = True
                return p
            if r < 0.80:
                return {"action": "signature"}
            if r < 0.88:
                return {"action": "provisional_application"}
            if r < 0.95:
                return {"action": "withdrawal_notice"}
            return {"action": "suspension_declaration"}
        if kind == "armed_conflict":
            return {"description": f"armed conflict {i % 997}: fighting between government forces "
                                   f"and armed groups in region {rng.randint(1, 40)}"}
        if kind == "art5_event":
            ev = rng.choice(["extension_requested", "extension_granted", "deadline_missed",
                             "completion_declared", "new_contamination_reported",
                             "obligation_reinstated", "deadline_reported"])
            p = {"event": ev}
            if ev in ("extension_granted", "completion_declared", "obligation_reinstated") or rng.random() < 0.2:
                p["meeting"] = rng.choice(SHIPPED_MEETINGS)
            if rng.random() < 0.1:
                p["inferred"] = True
            if ev == "extension_requested":
                p["requested"] = partial()
            if ev == "extension_granted":
                p["decided"] = partial()
            if ev in ("extension_requested", "extension_granted", "deadline_reported"):
                p["new_deadline"] = partial(2003, 2035)
            return p
        if kind == "art4_event":
            ev = rng.choice(["completed", "deadline_missed", "no_stockpile_declared", "stockpile_reported"])
            p = {"event": ev}
            if ev == "completed":
                p["destroyed"] = rng.randrange(10**6)
                if rng.random() < 0.5:
                    p["retained"] = rng.randrange(5000)
            elif ev in ("stockpile_reported", "deadline_missed") and rng.random() < 0.8:
                p["stockpile"] = rng.randrange(10**7)
            return p
        if kind == "art7_report":
            p = {"initial": rng.random() < 0.1}
            if not p["initial"]:
                y = int(vf[:4]) if vf else rng.randint(FIRST_YEAR, LAST_YEAR)
                p["year_covered"] = y - 1
            if rng.random() < 0.05:
                p["not_submitted"] = True
            return p
        if kind == "legislation":
            return {"title": f"Act No. {rng.randint(1, 300)} on anti-personnel mines ({i})",
                    "status": rng.choice(legislation_status)}
        if kind == "unga_vote":
            k = votes_of[subject]
            votes_of[subject] += 1
            rcid, res, _, _ = roll_calls[(k * 7 + hash_code(subject)) % n_rc]
            p = {"rcid": rcid, "resolution": res, "vote": rng.choices(["yes", "no", "abstain"], [8, 1, 2])[0]}
            if rng.random() < 0.02:
                p["name_in_source"] = f"{subject} (as written)"
            return p
        if kind == "unga_roll_call":
            nonlocal next_rc
            rcid, res, _, session = roll_calls[next_rc]
            next_rc += 1
            yes = rng.randint(100, 170)
            no = rng.randint(0, 3)
            return {"rcid": rcid, "session": session, "resolution": res,
                    "topic": rng.choice(["apmbc_implementation", "ban_landmines", "ccw", "other"]),
                    "yes": yes, "no": no, "abstain": rng.randint(0, 25)}
        if kind == "meeting_participation":
            return {"meeting": rng.choice(SHIPPED_MEETINGS + ["intersessional Standing Committee meetings"]),
                    "role": rng.choice(["party", "observer", "not_attended"])}
        if kind == "mine_activity":
            p = {"activity": rng.choice(["use", "production", "transfer"]),
                 "certainty": rng.choice(["confirmed", "alleged"])}
            if rng.random() < 0.4:
                p["actor"] = rng.choice(actors)
            if rng.random() < 0.1:
                p["last_known"] = True
            if rng.random() < 0.3:
                p["quantity"] = rng.randrange(100000)
            p["detail"] = f"reported {p['activity']} of antipersonnel mines, incident {i}"
            return p
        if kind == "stockpile_count":
            return {"mine_type": rng.choice(mine_types), "measure": rng.choice(counts_words),
                    "quantity": rng.randrange(10**7)}
        if kind == "policy_instrument":
            pid = f"scale-{subject.lower()}-{i}"
            acts = rng.sample(activities, rng.randint(1, 4))
            provisions = []
            for a in acts:
                pr = {"activity": a, "stance": rng.choice(stances)}
                if rng.random() < 0.5:
                    pr["mine_scope"] = rng.choice(["all antipersonnel mines", "non-self-destructing mines"])
                if rng.random() < 0.3:
                    pr["geography"] = rng.choice(["global", "except Korea"])
                if rng.random() < 0.3:
                    pr["authority"] = rng.choice(["President", "Congress", "Ministry of Defence"])
                if rng.random() < 0.1:
                    pr["effective_from"] = rng.randint(FIRST_YEAR, LAST_YEAR)
                if rng.random() < 0.2:
                    pr["note"] = "generated provision"
                provisions.append(pr)
            p = {"policy_id": pid, "instrument": rng.choice(["statute", "presidential policy", "decree",
                                                              "ministerial order"]),
                 "provisions": provisions}
            prev = policies_of.get(subject)
            if prev and rng.random() < 0.3:
                p["rescinds"] = [prev]
            policies_of[subject] = pid
            return p
        if kind == "headline_figure":
            metric, unit = rng.choice(metrics)
            y = rng.randint(FIRST_YEAR, LAST_YEAR - 1)
            p = {"metric": metric, "value": round(rng.uniform(0, 10000), 1), "unit": unit,
                 "data_year": y, "report_edition": y + 1}
            if rng.random() < 0.3:
                p["basis"] = "generated basis"
            return p
        if kind == "development":
            return {"topic": rng.choice(topics), "summary": f"generated development {i}: a statement, "
                                                            f"letter or review of {rng.randint(1, 10**6)}"}
        if kind == "retraction":
            return {"reason": f"generated retraction {i} (withdraws nothing: a key of its own)"}
        if kind == "meeting":
            nonlocal next_meeting
            code = meeting_codes[next_meeting % len(meeting_codes)]
            next_meeting += 1
            return {"code": code, "name": f"Meeting {code} (generated)", **(
                {"city": rng.choice(cities)} if rng.random() < 0.9 else {})}
        raise ValueError(kind)

    with open(sources_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["key", "title", "publisher", "published", "url", "note"])
        for key, title, publisher, published in SOURCES:
            w.writerow([key, title, publisher, published, "", "generated by scripts/gen_scale.py"])

    with open(facts_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["key", "subject", "kind", "valid_from", "valid_to", "payload", "sources", "note"])
        for i, kind in enumerate(kinds):
            if kind in WORLD_KINDS:
                subject = "WLD"
            elif covered < len(order):
                subject = order[covered]
                covered += 1
            else:
                subject = weighted_subject()
            vt = ""
            if kind == "unga_roll_call":
                vf = roll_calls[next_rc][2]
            elif kind == "meeting":
                start = day()
                vf = fmt(start, "day")
                vt = fmt(later(start, 5), "day")
            else:
                vf = valid_from()
                if kind == "armed_conflict" and vf and rng.random() < 0.6:
                    y = int(vf[:4])
                    vt = str(rng.randint(y, min(LAST_YEAR, y + 8)))
            p = payload(kind, subject, i, vf)
            if kind == "headline_figure":  # dated by the report edition that gives it
                vf = str(p["report_edition"]) if rng.random() < 0.7 else f"{p['report_edition']}-{rng.randint(1, 11):02d}"
            if kind == "unga_vote":  # dated by its roll call, as the shipped votes are
                vf = roll_calls[p["rcid"] - 900001][2]
            src = SOURCES[2][0] if kind.startswith("unga") else rng.choice(SOURCES)[0]
            cites = f"{src}#row {i}"
            if rng.random() < 0.05:
                other = rng.choice(SOURCES)[0]
                if other != src:
                    cites += f";{other}"
            note = f"generated note {i}" if rng.random() < 0.1 else ""
            w.writerow([f"scale:{kind}:{i}", subject, kind, vf, vt,
                        json.dumps(p, separators=(",", ":")), cites, note])
            per_subject[subject] += 1
            per_kind[kind] += 1

    top = per_subject.most_common()
    print(f"gen_scale: {n} facts over {len(per_subject)} subjects and {len(per_kind)} kinds", file=sys.stderr)
    print("  kinds: " + ", ".join(f"{k} {c}" for k, c in per_kind.most_common()), file=sys.stderr)
    print("  most: " + ", ".join(f"{s} {c}" for s, c in top[:8]), file=sys.stderr)
    print("  fewest: " + ", ".join(f"{s} {c}" for s, c in top[-5:]), file=sys.stderr)


def hash_code(code):
    """A stable small number per subject code (Python's hash() of str is salted per run)."""
    h = 0
    for ch in code:
        h = (h * 131 + ord(ch)) % 1000003
    return h


if __name__ == "__main__":
    main()
