#!/usr/bin/env bash
# Web benchmark: minewatch's pages and API beside Datasette serving the same facts, with wrk.
#  1. minewatch's country profile page (PROFILE_PATH; falls back to the API when it is not built);
#  2. minewatch's /api/v1/states/USA/facts (facts with their sources, engine-backed server);
#  3. Datasette's closest page: the facts table filtered to subject=USA, as a JSON array
#     (a plain SQLite file made from `minewatch export --format csv`, index on facts.subject);
#  4. the time of `minewatch export --site` (the static site), when that subcommand exists.
# Each URL: a warm-up, then `wrk -t2 -c64 -d15s --latency`; a Markdown table on stdout.
# Usage: scripts/bench-web.sh            (DURATION=15s CONNECTIONS=64 THREADS=2 WARMUP=3s to change)
# Installs wrk (Debian, as root) and Datasette (PyPI, into bench-out/venv) when missing. Honours
# CARGO_TARGET_DIR. Everything it writes goes to bench-out/.
set -euo pipefail

# What is measured (change here).
PROFILE_PATH=/states/USA                       # the country profile page
PROFILE_FALLBACK=/api/v1/states/USA/facts      # used while the page answers non-2xx
API_PATH=/api/v1/states/USA/facts
DATASETTE_QUERY='facts.json?subject=USA&_shape=array&_size=max'
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-3s}

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bench-out
target=${CARGO_TARGET_DIR:-$root/target}
mw=$target/release/minewatch
mkdir -p "$out"

# --- tools ---------------------------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "error: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
venv=$out/venv
if [ ! -x "$venv/bin/datasette" ]; then
  echo "installing Datasette into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet datasette
fi

echo "building minewatch (release)" >&2
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch

# --- servers -------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=${PORT:-$(free_port)}
PORT2=${PORT2:-$(free_port)}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# wait_http URL WHAT: until URL answers (any HTTP status), at most 60 s.
wait_http() {
  for _ in $(seq 600); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "error: $2 did not answer on $1 within 60 s" >&2
  exit 1
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$1"; }

rm -f "$out"/web.sqlite*
"$mw" --db "$out/web.sqlite" serve --bind "127.0.0.1:$PORT" 2>"$out/minewatch-serve.log" &
pids+=($!)
mwbase=http://127.0.0.1:$PORT
wait_http "$mwbase/healthz" "minewatch serve"

# The facts as a plain SQLite file for Datasette (serve has loaded the shipped data by now).
rm -rf "$out/export" "$out/datasette.sqlite"
"$mw" --db "$out/web.sqlite" export --format csv --out "$out/export" >&2
sqlite3 "$out/datasette.sqlite" <<SQL
.import --csv $out/export/facts.csv facts
.import --csv $out/export/sources.csv sources
CREATE INDEX facts_subject ON facts(subject);
ANALYZE;
SQL
dsdb=$(basename "$out/datasette.sqlite" .sqlite)
"$venv/bin/datasette" serve "$out/datasette.sqlite" -h 127.0.0.1 -p "$PORT2" \
  >"$out/datasette.log" 2>&1 &
pids+=($!)
dsbase=http://127.0.0.1:$PORT2
wait_http "$dsbase/-/versions.json" "datasette"

profile_note=""
if [ "$(status_of "$mwbase$PROFILE_PATH")" != 200 ]; then
  profile_note="($PROFILE_PATH answered $(status_of "$mwbase$PROFILE_PATH"): not built yet; measured $PROFILE_FALLBACK instead)"
  PROFILE_PATH=$PROFILE_FALLBACK
fi

# --- measurements --------------------------------------------------------------------------------
# run NAME URL: warm-up, then the measured run; appends a table row to $rows.
rows=()
declare -A rps
run() {
  local name=$1 url=$2 log
  log=$out/wrk-$(echo "$name" | tr -c 'a-zA-Z0-9' '-' | sed 's/-*$//').txt
  local code bytes
  code=$(status_of "$url")
  bytes=$(curl -s -o /dev/null -w '%{size_download}' "$url")
  echo "== $name: $url (HTTP $code)" >&2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" | tee "$log" >&2
  # requests/s, p50 and p99 in ms, non-2xx/3xx responses, socket errors (sum).
  local parsed
  parsed=$(awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    /^Requests\/sec:/ { r = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { n = $NF }
    /Socket errors:/ { gsub(",", ""); s = $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d %d\n", r, p50, p99, n, s }' "$log")
  local r p50 p99 n s
  read -r r p50 p99 n s <<<"$parsed"
  rps[$name]=$r
  rows+=("| $name | \`$url\` | $code | $bytes | $r | $p50 | $p99 | $n | $s |")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run "minewatch profile page" "$mwbase$PROFILE_PATH"
run "minewatch API facts" "$mwbase$API_PATH"
run "Datasette facts table" "$dsbase/$dsdb/$DATASETTE_QUERY"

mw_rows=$(curl -s "$mwbase$API_PATH" | python3 -c 'import json,sys; v=json.load(sys.stdin); v=v.get("facts", v) if isinstance(v, dict) else v; print(len(v))' 2>/dev/null || echo "?")
ds_rows=$(curl -s "$dsbase/$dsdb/$DATASETTE_QUERY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")
mw_bytes=$(curl -s "$mwbase$API_PATH" | wc -c)
ds_bytes=$(curl -s "$dsbase/$dsdb/$DATASETTE_QUERY" | wc -c)
ds_version=$("$venv/bin/datasette" --version)

# --- static site ---------------------------------------------------------------------------------
site_line="minewatch export --site: not built yet (\`minewatch export --help\` does not mention --site)"
if "$mw" export --help 2>/dev/null | grep -q -- '--site'; then
  rm -rf "$out/site"
  start=$(date +%s.%N)
  "$mw" --db "$out/web.sqlite" export --site "$out/site" >"$out/export-site.log" 2>&1
  end=$(date +%s.%N)
  files=$(find "$out/site" -type f | wc -l)
  size=$(du -sh "$out/site" | cut -f1)
  site_line="minewatch export --site bench-out/site: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s, $files files, $size"
fi

# --- report --------------------------------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk on the same machine"
echo "load average before the runs: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up); $ds_version"
if [ -n "$profile_note" ]; then echo "note: $profile_note"; fi
echo
echo "| target | URL | HTTP | bytes | requests/s | p50 ms | p99 ms | non-2xx/3xx | socket errors |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "payloads: minewatch API $mw_rows facts (with their sources), $mw_bytes bytes;" \
  "Datasette $ds_rows rows (flat table), $ds_bytes bytes"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "n/a" }'; }
echo "ratio minewatch API / Datasette: $(ratio "${rps[minewatch API facts]}" "${rps[Datasette facts table]}")x requests/s"
echo "ratio minewatch profile page / Datasette: $(ratio "${rps[minewatch profile page]}" "${rps[Datasette facts table]}")x requests/s"
echo "$site_line"
