#!/usr/bin/env bash
# Benchmarks of the record (issue 2), written to bench-out/ and summarised on stdout:
#  1. loading the whole shipped dataset into an empty database (release build);
#  2. importing a 1,000,000-row facts CSV, beside the sqlite3 shell's .import of the same file into
#     a bare table (the practical floor): wall time and peak memory (RSS) of each.
# Usage: scripts/bench.sh [ROWS]      (installs sqlite3 and GNU time from Debian when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-1000000}
out=$root/bench-out
mkdir -p "$out"
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"; fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch
mw=$root/target/release/minewatch
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
echo "== load of the shipped dataset (5 runs, fresh database each) =="
for i in 1 2 3 4 5; do
  rm -f "$out"/load.sqlite*
  /usr/bin/time -f "wall %e s, peak %M KB" "$mw" --db "$out/load.sqlite" load 2>&1 | tr '\n' ' '
  echo
done

echo "== import of $rows facts =="
python3 "$root/scripts/gen_facts.py" "$rows" "$out/facts.csv" "$out/sources.csv"
ls -l "$out/facts.csv" | awk '{printf "file: %.1f MB\n", $5/1e6}'
rm -f "$out"/import.sqlite* "$out/bare.sqlite"
"$mw" --db "$out/import.sqlite" import sources "$out/sources.csv" >/dev/null
read -r t_mw m_mw < <(measure "$mw" --db "$out/import.sqlite" import facts-csv "$out/facts.csv")
read -r t_sq m_sq < <(measure sqlite3 "$out/bare.sqlite" ".import --csv $out/facts.csv t")
echo "minewatch import facts-csv: ${t_mw} s, $(awk -v r="$rows" -v t="$t_mw" 'BEGIN{printf "%.0f", r/t}') rows/s, peak ${m_mw} KB"
echo "sqlite3 .import (bare table): ${t_sq} s, $(awk -v r="$rows" -v t="$t_sq" 'BEGIN{printf "%.0f", r/t}') rows/s, peak ${m_sq} KB"
echo "ratio: $(awk -v a="$t_mw" -v b="$t_sq" 'BEGIN{printf "%.2f", a/b}')x the sqlite3 shell"
read -r t_re m_re < <(measure "$mw" --db "$out/import.sqlite" import facts-csv "$out/facts.csv")
echo "re-import of the same file (all unchanged): ${t_re} s, peak ${m_re} KB"
