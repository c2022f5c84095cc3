#!/usr/bin/env bash
# Converts the research extracts in data/research (copied from the shared research folder) into minewatch's own format under
# data/converted/: each file goes through its importer into a fresh database, then the record is
# exported. Sources already in data/curated/sources.csv are not repeated.
# Usage: scripts/convert-shared-data.sh [SHARED_DATA_DIR]   (MINEWATCH=path/to/binary to skip the build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$root/data/research}
if [ -z "${MINEWATCH:-}" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml" -p minewatch
  MINEWATCH=$root/target/debug/minewatch
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mw() { "$MINEWATCH" --db "$tmp/convert.sqlite" "$@"; }
mw import sources "$root/data/curated/sources.csv"
mw import parties "$shared/treaty/parties.csv"
mw import treaty-actions "$shared/treaty/actions_sample.csv"
mw import art5-extensions "$shared/treaty/art5_extensions_sample.csv"
mw import meetings "$shared/treaty/meetings.csv"
mw import art5-events "$shared/treaty/art5_events.csv"
mw import art5-status "$shared/impact/art5_status.csv"
mw import art4-events "$shared/treaty/art4_events.csv"
mw import art4-status "$shared/impact/art4_status.csv"
mw import armed-conflict "$shared/treaty/armed_conflict_sample.csv"
mw import unga-roll-calls "$shared/unga/roll_calls.csv" --source voeten-unga-voting-data
mw import unga-votes "$shared/unga/votes.csv" --source voeten-unga-voting-data
# The UN Digital Library's format (2008 and 2020-2024); cites undl-ga-voting-data, recorded by the import.
mw import unga-undl "$shared/unga/undl_votes_2008_2024.csv"
mw import us-policies "$shared/policies/us_policies.csv"
mw import us-events "$shared/policies/us_events.csv"
mw import us-stockpile "$shared/policies/us_stockpile_2002.csv"
mw import headline-figures "$shared/monitor/headline_figures.csv"
mw import stockpiles "$shared/monitor/stockpiles.csv"
mw import casualties "$shared/impact/casualties_by_country.csv"
mw import mine-use "$shared/impact/mine_use.csv"
mw import art7-reporting "$shared/impact/art7_reporting.csv"
mw export --format csv --out "$tmp/out"
python3 - "$root/data/curated/sources.csv" "$tmp/out/sources.csv" "$root/data/converted/sources.csv" <<'PY'
import csv, sys
curated = {r["key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
rows = list(csv.reader(open(sys.argv[2], encoding="utf-8")))
with open(sys.argv[3], "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    w.writerows(r for r in rows[1:] if r[0] not in curated)
PY
# A fact whose key a curated file also records is left to the curated file (seed 002 transcribes
# the 2002 US stockpile rows with their GAO page reference): two shipped files with one key and
# different content would supersede each other on every load.
python3 - "$tmp/out/facts.csv" "$root/data/converted/facts.csv" "$root"/data/curated/facts/*.csv <<'PY'
import csv, sys
curated = set()
for path in sys.argv[3:]:
    curated |= {r["key"] for r in csv.DictReader(open(path, encoding="utf-8"))}
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    w.writerows(r for r in rows[1:] if r[0] not in curated)
PY
echo "data/converted: $(($(wc -l < "$root/data/converted/facts.csv") - 1)) facts, $(($(wc -l < "$root/data/converted/sources.csv") - 1)) sources"
