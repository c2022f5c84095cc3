#!/usr/bin/env python3
"""Generates a synthetic file in the UN Digital Library's General Assembly voting-data format
(all 20 columns of the full dataset) for benchmarking `minewatch import unga-undl`.

Usage: scripts/gen_undl.py OUT.csv [ROWS] [MINE_ROLL_CALLS]
  ROWS             rows to write (default 914,624, the size of the full dataset)
  MINE_ROLL_CALLS  roll calls whose title names the Convention (default 36), spread through
                   the file; every other roll call gets an unrelated title.

Each roll call has one row per Member State (193, fewer for the last one if ROWS is not a
multiple), Y/N/A/X votes drawn at random with fixed seed, and totals that match its rows.
Member State codes are the first states of data/reference/subjects.csv, so they resolve. The
figures are invented: nothing here is the UN's data.
"""
import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "undl_id", "ms_code", "ms_name", "ms_vote", "date", "session", "resolution", "draft",
    "committee_report", "meeting", "title", "agenda_title", "subjects", "vote_note",
    "total_yes", "total_no", "total_abstentions", "total_non_voting", "total_ms", "undl_link",
]
MINE_TITLE = ("Implementation of the Convention on the Prohibition of the Use, Stockpiling, "
              "Production and Transfer of Anti-personnel Mines and on Their Destruction")
OTHER_TITLES = [
    "Nuclear disarmament", "Question of Palestine", "The situation in the Middle East",
    "Assistance in mine action", "Rights of the child", "Oceans and the law of the sea",
    "Prevention of an arms race in outer space", "Promotion of a democratic and equitable "
    "international order", "Towards a nuclear-weapon-free world", "Cooperation between the "
    "United Nations and regional organizations",
]


def states(n):
    out = []
    with open(ROOT / "data/reference/subjects.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["kind"] == "state" and len(r["code"]) == 3:
                out.append((r["code"], r["name"]))
    if len(out) < n:
        sys.exit(f"only {len(out)} states in subjects.csv; need {n}")
    return out[:n]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 914_624
    mines = int(sys.argv[3]) if len(sys.argv) > 3 else 36
    members = states(193)
    rng = random.Random(2024)
    calls = -(-rows // 193)
    mine_at = {round(i * calls / mines) for i in range(mines)} if mines else set()
    written = 0
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        for c in range(calls):
            n = min(193, rows - written)
            session = 1 + c * 79 // calls
            year = 1945 + session
            date = f"{year}-12-{1 + c % 28:02d}"
            undl_id = 100_000 + c
            mine = c in mine_at
            title = MINE_TITLE if mine else rng.choice(OTHER_TITLES)
            number = 1 + c % 250
            resolution = f"A/RES/{session}/{number}"
            votes = [rng.choices("YNAX", weights=(80, 3, 12, 5))[0] for _ in range(n)]
            t = {v: votes.count(v) for v in "YNAX"}
            for (code, name), v in zip(members[:n], votes):
                w.writerow([
                    undl_id, code, name, v, date, session, resolution,
                    f"A/{session}/L.{number}", f"A/{session}/{400 + number}",
                    f"A/{session}/PV.{40 + c % 30}", title, title, "DISARMAMENT", "",
                    t["Y"], t["N"], t["A"], t["X"], n,
                    f"https://digitallibrary.un.org/record/{undl_id}",
                ])
            written += n
    print(f"{out}: {written} rows, {calls} roll calls, {len(mine_at)} on the Convention",
          file=sys.stderr)


if __name__ == "__main__":
    main()
