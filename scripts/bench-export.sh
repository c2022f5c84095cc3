#!/usr/bin/env bash
# Export benchmark (open-data issue): `minewatch export --format sqlite` and `--format
# datapackage`, and the first /downloads build, on the shipped record and on the shipped record
# plus ROWS generated facts (scripts/gen_scale.py), side by side in one run with the sqlite3
# shell's `VACUUM INTO` of the same database (the least a copy of the whole file costs: no
# derived tables, no full-text index, no metadata). Wall time and peak RSS by GNU time, sizes by
# stat. Prints a Markdown table.
# Usage: scripts/bench-export.sh [ROWS]      (default 1000000)
# Installs sqlite3 and GNU time (Debian, as root) when missing. Honours CARGO_TARGET_DIR.
# Everything it writes goes to bench-out/export/ (removed at the start of each run).
set -euo pipefail
rows=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
mw=$target/release/minewatch
out=$root/bench-out/export
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "error: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch
rm -rf "$out" && mkdir -p "$out"
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }
mb() { awk -v b="$1" 'BEGIN{ printf "%.1f", b/1e6 }'; }
du_b() { du -sb "$1" | cut -f1; }

echo "== databases ($rows generated facts)" >&2
"$mw" --db "$out/small.sqlite" load >&2
"$mw" --db "$out/large.sqlite" load >&2
python3 "$root/scripts/gen_scale.py" "$rows" "$out/facts.csv" "$out/sources.csv"
"$mw" --db "$out/large.sqlite" import sources "$out/sources.csv" >&2
"$mw" --db "$out/large.sqlite" import facts-csv "$out/facts.csv" >"$out/import.log" 2>&1 ||
  { tail "$out/import.log" >&2; echo "error: the import failed" >&2; exit 1; }
rm -f "$out/facts.csv" "$out/sources.csv"

printf '| record | facts | database | export --format sqlite (time, peak RSS) | snapshot + metadata | export --format datapackage (time, peak RSS) | package | sqlite3 VACUUM INTO (time, peak RSS) | copy |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for which in small large; do
  db=$out/$which.sqlite
  facts=$(sqlite3 "$db" "SELECT count(*) FROM facts")
  read -r t_s m_s < <(measure "$mw" --db "$db" export --format sqlite --out "$out/$which-snap.sqlite")
  snap=$(( $(stat -c %s "$out/$which-snap.sqlite") + $(stat -c %s "$out/$which-snap.sqlite.metadata.json") ))
  read -r t_p m_p < <(measure "$mw" --db "$db" export --format datapackage --out "$out/$which-package")
  pkg=$(du_b "$out/$which-package")
  read -r t_v m_v < <(measure sqlite3 "$db" "VACUUM INTO '$out/$which-copy.sqlite'")
  copy=$(stat -c %s "$out/$which-copy.sqlite")
  label=$([ "$which" = small ] && echo "shipped" || echo "shipped + $rows generated")
  printf '| %s | %s | %s MB | %s s, %s MB | %s MB | %s s, %s MB | %s MB | %s s, %s MB | %s MB |\n' \
    "$label" "$facts" "$(mb "$(stat -c %s "$db")")" "$t_s" "$(awk -v k="$m_s" 'BEGIN{printf "%.0f", k/1024}')" \
    "$(mb "$snap")" "$t_p" "$(awk -v k="$m_p" 'BEGIN{printf "%.0f", k/1024}')" "$(mb "$pkg")" \
    "$t_v" "$(awk -v k="$m_v" 'BEGIN{printf "%.0f", k/1024}')" "$(mb "$copy")"
  rm -rf "$out/$which-snap.sqlite"* "$out/$which-package" "$out/$which-copy.sqlite"
done
