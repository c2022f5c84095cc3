#!/usr/bin/env bash
# PostgreSQL benchmark (issue 14): minewatch on PostgreSQL beside minewatch on SQLite, in one run.
#  1. web: a private PostgreSQL cluster (initdb in a temporary folder, default settings but the
#     address, port, socket folder and max_connections=200: fsync stays on, as SQLite's does);
#     minewatch serve on a fresh SQLite file, on a fresh PostgreSQL database with one server, and
#     with two servers on that same database; each fills its empty record with the shipped data
#     on start. Against each: `wrk -t2 -c64 --latency` on the profile page and on the facts API,
#     a different as_of on every request over the 20 subjects of bench-scale.sh (pages also carry
#     a unique z=, so the page cache never answers). Two servers: two wrk processes at the same
#     time, -t1 -c32 each, one per server; their requests/s are added, p50 and p99 are the worse
#     of the two.
#  2. import: ROWS generated facts (scripts/gen_scale.py, as bench-scale.sh) into a fresh
#     PostgreSQL database holding the shipped record (`import facts-csv`), beside psql's `\copy`
#     of the same file into a bare table of TEXT columns in another fresh database (the floor the
#     issue names), psql's `\copy` of the rows the import wrote (batch, facts, citations) into
#     minewatch's own tables of a third database prepared as the first (the floor for this
#     schema: its indexes and checks), and, for reference, the same import into SQLite and
#     sqlite3's `.import` into a bare table.
#     Wall time and peak RSS of the client process (GNU time). An import into PostgreSQL that
#     runs longer than IMPORT_TIMEOUT seconds is stopped; the script then measures the
#     generator's PREFIX-row file the same way and extrapolates (labelled as such).
#  3. prints Markdown tables.
# Any non-2xx answer or socket error is reported (and the script exits 2).
# Usage: scripts/bench-pg.sh [ROWS]      (default 1000000)
#   DURATION=15s  WARMUP=3s  CONNECTIONS=64  THREADS=2  IMPORT_TIMEOUT=1200  PREFIX=100000
#   e.g. a quick check: DURATION=3s WARMUP=1s scripts/bench-pg.sh 20000
# Installs wrk, sqlite3, curl, GNU time and postgresql (Debian, as root) when missing. Honours
# CARGO_TARGET_DIR. Everything it writes goes to bench-out/pg/ (the cluster: a folder in /tmp,
# removed on exit with its server and minewatch's).
set -euo pipefail

rows=${1:-1000000}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-1200}
PREFIX=${PREFIX:-100000}
CODES=(USA UKR RUS AFG MMR KHM COL IRQ SYR YEM AGO BIH GRC THA MOZ ZWE SDN PER GIB VAT)

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
mw=$target/release/minewatch
out=$root/bench-out/pg
rm -rf "$out" && mkdir -p "$out"

# --- tools ---------------------------------------------------------------------------------------
pg_bin_dir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
command -v psql >/dev/null || need+=(postgresql-client)
[ -x /usr/bin/time ] || need+=(time)
pg_bin_dir >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "error: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
PG_BIN=$(pg_bin_dir)

echo "building minewatch (release)" >&2
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch

# --- everything started here is stopped on any exit ----------------------------------------------
pids=()
PG_DIR=""
PG_AS=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
mb() { awk -v k="$1" 'BEGIN{ if (k == "" || k == "?") print "?"; else printf "%.1f", k/1024 }'; }

# --- the PostgreSQL cluster (as scripts/pg-cluster.sh, but fsync on) -----------------------------
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "error: no postgres user to run the server as" >&2; exit 1; }
  PG_AS="runuser -u postgres --"
fi
PG_DIR=$(mktemp -d /tmp/minewatch-bench-pg-XXXXXX)
[ -z "$PG_AS" ] || chown postgres "$PG_DIR"
pg_port=$(free_port)
$PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" --username=minewatch --auth=trust --encoding=UTF8 \
  --locale=C >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-p $pg_port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
  { cat "$PG_DIR/server.log" >&2; exit 1; }
pg=postgres://minewatch@127.0.0.1:$pg_port
pg_version=$("$PG_BIN/postgres" --version | awk '{print $3}')
echo "PostgreSQL $pg_version at $pg ($PG_DIR; fsync $(psql -XAtq "$pg/postgres" -c 'SHOW fsync'))" >&2
createdb() { psql -XAtq "$pg/postgres" -c "CREATE DATABASE $1" >/dev/null; }

# --- 1. web --------------------------------------------------------------------------------------
# Request k (counted over all threads of one wrk, from an offset of its own) asks for subject
# CODES[k mod 20] as of day k * 7919 mod DAYS after 1997-01-01; pages also get a unique z=.
lua=$out/pg.lua
days=$(( ( $(date -u +%s) - 852076800 ) / 86400 ))
{
  echo "local codes = {$(printf '"%s",' "${CODES[@]}")}"
  cat <<'LUA'
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local n, mode, offset, nthreads, days = 0, "profile", 0, 1, 10000
statuses = {}
function init(args)
  mode = args[1] or "profile"
  offset = tonumber(args[2]) or 0
  nthreads = tonumber(args[3]) or 1
  days = tonumber(args[4]) or 10000
end
function request()
  local k = offset + n * nthreads + tid
  n = n + 1
  local code = codes[(k % #codes) + 1]
  local day = os.date("!%Y-%m-%d", 852076800 + 43200 + ((k * 7919) % days) * 86400)
  local path
  if mode == "profile" then path = "/states/" .. code .. "?as_of=" .. day .. "&z=" .. offset .. "-" .. k
  else path = "/api/v1/states/" .. code .. "/facts?as_of=" .. day end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for s, c in pairs(t:get("statuses")) do all[s] = (all[s] or 0) + c end
  end
  local parts = {}
  for s, c in pairs(all) do table.insert(parts, s .. "=" .. c) end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
LUA
} >"$lua"

# wrk_parse LOG: requests/s, p50 and p99 in ms, non-2xx/3xx answers, socket errors (sum).
wrk_parse() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    /^Requests\/sec:/ { r = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { n = $NF }
    /Socket errors:/ { gsub(",", ""); s = $4 + $6 + $8 + $10 }
    END { printf "%.1f %.2f %.2f %d %d\n", r, p50, p99, n, s }' "$1"
}

declare -A R
problems=()
runs=0
# wrk_run CONFIG NAME MODE DURATION BASE...: one wrk per base URL at the same time (the
# connections and threads split between them); sets R[CONFIG.NAME.{rps,p50,p99,bad}].
wrk_run() {
  local cfg=$1 name=$2 mode=$3 dur=$4; shift 4
  local nb=$# c t i=0 base wpids=() logs=()
  c=$((CONNECTIONS / nb)); t=$((THREADS / nb)); [ "$t" -ge 1 ] || t=1
  for base in "$@"; do
    runs=$((runs + 1)); i=$((i + 1))
    local log=$out/wrk-$cfg-$name-$i.txt
    wrk -t"$t" -c"$c" -d"$dur" --timeout 30s --latency -s "$lua" "$base" \
      -- "$mode" $((runs * 1000000)) "$t" "$days" >"$log" 2>&1 &
    wpids+=($!); pids+=($!); logs+=("$log")
  done
  for p in "${wpids[@]}"; do wait "$p"; done
  local rps=0 p50=0 p99=0 bad=0 r a b n s st
  for log in "${logs[@]}"; do
    read -r r a b n s < <(wrk_parse "$log")
    st=$(sed -n 's/^statuses: //p' "$log")
    rps=$(awk -v x="$rps" -v y="$r" 'BEGIN{printf "%.1f", x+y}')
    p50=$(awk -v x="$p50" -v y="$a" 'BEGIN{print (y > x) ? y : x}')
    p99=$(awk -v x="$p99" -v y="$b" 'BEGIN{print (y > x) ? y : x}')
    bad=$((bad + n + s))
    echo "   $name ($(basename "$log")): $r req/s, p50 $a ms, p99 $b ms; statuses: $st; socket errors: $s" >&2
    if [ "$n" != 0 ] || [ "$s" != 0 ]; then
      problems+=("$cfg $name: $n non-2xx/3xx answers (statuses: $st), $s socket errors; see $log")
    fi
  done
  R[$cfg.$name.rps]=$rps; R[$cfg.$name.p50]=$p50; R[$cfg.$name.p99]=$p99; R[$cfg.$name.bad]=$bad
}

# start_server CONFIG DB: serves DB on a free port; sets BASE and START (seconds from the
# process start to the first /healthz answer).
start_server() {
  local cfg=$1 db=$2 port pid t0 log
  port=$(free_port)
  log=$out/serve-$cfg-$port.log
  t0=$(now)
  "$mw" --db "$db" serve --bind "127.0.0.1:$port" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  servers+=("$pid")
  until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "error: the server on $db exited" >&2; exit 1; }
    awk -v t="$(since "$t0")" 'BEGIN{ exit !(t > 600) }' && { echo "error: no answer in 600 s" >&2; exit 1; }
    sleep 0.01
  done
  START=$(since "$t0")
  BASE=http://127.0.0.1:$port
}

# measure CONFIG BASE...: checks every measured URL shape answers 2xx, then warm-up and
# measured runs of both modes.
measure() {
  local cfg=$1; shift
  local base c url code
  for base in "$@"; do
    for c in "${CODES[@]}"; do
      for url in "/states/$c" "/api/v1/states/$c/facts"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 "$base$url")
        case $code in 2*) ;; *) problems+=("$cfg: GET $base$url answered $code") ;; esac
      done
    done
  done
  for m in profile facts; do
    wrk_run "$cfg" "$m-warmup" "$m" "$WARMUP" "$@" 2>/dev/null
    wrk_run "$cfg" "$m" "$m" "$DURATION" "$@"
  done
}

servers=()
stop_servers() {
  local p
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  servers=()
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== SQLite, one server" >&2
start_server sqlite "$out/web.sqlite"
R[sqlite.start]=$START
echo "   first /healthz (shipped data loaded) after $START s" >&2
measure sqlite "$BASE"
if grep -qi panic "$out"/serve-sqlite-*.log; then problems+=("sqlite: a server log mentions a panic"); fi
stop_servers

echo "== PostgreSQL, one server" >&2
createdb web
start_server pg1 "$pg/web"
R[pg1.start]=$START
echo "   first /healthz (shipped data loaded) after $START s" >&2
measure pg1 "$BASE"
stop_servers

echo "== PostgreSQL, two servers on the same database" >&2
start_server pg2 "$pg/web"
R[pg2.start]=$START
b1=$BASE
start_server pg2 "$pg/web"
measure pg2 "$b1" "$BASE"
if grep -qi panic "$out"/serve-pg*.log; then problems+=("postgres: a server log mentions a panic"); fi
stop_servers
web_facts_sqlite=$(sqlite3 "$out/web.sqlite" "SELECT count(*) FROM facts")
web_facts_pg=$(psql -XAtq "$pg/web" -c "SELECT count(*) FROM facts")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 2. the import -------------------------------------------------------------------------------
# timed LABEL CMD...: runs CMD under GNU time; sets T (wall s) and M (peak KB); output to LABEL.log.
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$label.time" "$@" >"$out/$label.log" 2>&1
}
read_time() { read -r T M < <(tail -n 1 "$out/$1.time"); }
bare_cols="key TEXT, subject TEXT, kind TEXT, valid_from TEXT, valid_to TEXT, payload TEXT, sources TEXT, note TEXT"

# import_set N FILE SOURCES TAG TIMEOUT: the four imports of FILE; sets R[TAG.*]; returns 124
# when the import into PostgreSQL timed out.
import_set() {
  local n=$1 file=$2 sources=$3 tag=$4 limit=$5 rc=0 sq=$out/import-$4.sqlite
  echo "== imports of $n facts ($file)" >&2
  # PostgreSQL: minewatch
  createdb "imp_$tag"
  "$mw" --db "$pg/imp_$tag" load >&2
  "$mw" --db "$pg/imp_$tag" import sources "$sources" >&2
  timed "import-pg-$tag" timeout "$limit" "$mw" --db "$pg/imp_$tag" import facts-csv "$file" || rc=$?
  if [ "$rc" = 124 ]; then
    R[$tag.pg.t]="> $limit"
    echo "   minewatch import into PostgreSQL stopped after $limit s" >&2
    psql -XAtq "$pg/postgres" -c "DROP DATABASE imp_$tag WITH (FORCE)" >/dev/null || true
    return 124
  elif [ "$rc" != 0 ]; then
    tail "$out/import-pg-$tag.log" >&2; echo "error: the import into PostgreSQL failed" >&2; exit 1
  fi
  grep -q ": $n facts added" "$out/import-pg-$tag.log" ||
    { tail "$out/import-pg-$tag.log" >&2; echo "error: not all $n facts were added" >&2; exit 1; }
  read_time "import-pg-$tag"; R[$tag.pg.t]=$T; R[$tag.pg.m]=$M
  R[$tag.pg.size]=$(psql -XAtq "$pg/postgres" -c "SELECT pg_database_size('imp_$tag') / 1048576")
  echo "   minewatch -> PostgreSQL: $T s, $(mb "$M") MB" >&2
  # The rows that import wrote (its batch, facts, citations), for the second floor below.
  local batch
  batch=$(psql -XAtq "$pg/imp_$tag" -c "SELECT MAX(id) FROM batches")
  psql -XAtq "$pg/imp_$tag" -c "\\copy (SELECT * FROM batches WHERE id = $batch) TO '$out/rows-batches.csv' CSV"
  psql -XAtq "$pg/imp_$tag" -c "\\copy (SELECT * FROM facts WHERE batch = $batch ORDER BY id) TO '$out/rows-facts.csv' CSV"
  psql -XAtq "$pg/imp_$tag" -c "\\copy (SELECT c.* FROM citations c JOIN facts f ON f.id = c.fact_id WHERE f.batch = $batch ORDER BY c.fact_id, c.position) TO '$out/rows-citations.csv' CSV"
  psql -XAtq "$pg/postgres" -c "DROP DATABASE imp_$tag" >/dev/null
  # PostgreSQL: psql \copy of those same rows into minewatch's own tables (their indexes and
  # checks), in one transaction, on a database prepared as the import's was: the floor for
  # writing these facts into this schema, whatever reads and checks them.
  createdb "same_$tag"
  "$mw" --db "$pg/same_$tag" load >&2
  "$mw" --db "$pg/same_$tag" import sources "$sources" >&2
  printf '%s\n' "\\copy batches FROM '$out/rows-batches.csv' CSV" "\\copy facts FROM '$out/rows-facts.csv' CSV" \
    "\\copy citations FROM '$out/rows-citations.csv' CSV" >"$out/same.sql"
  timed "copy-same-$tag" psql -XAtq -v ON_ERROR_STOP=1 -1 -f "$out/same.sql" "$pg/same_$tag" ||
    { cat "$out/copy-same-$tag.log" >&2; echo "error: the \\copy into minewatch's tables failed" >&2; exit 1; }
  read_time "copy-same-$tag"; R[$tag.same.t]=$T; R[$tag.same.m]=$M
  echo "   psql \\copy into minewatch's tables: $T s, $(mb "$M") MB" >&2
  psql -XAtq "$pg/postgres" -c "DROP DATABASE same_$tag" >/dev/null
  rm -f "$out"/rows-*.csv
  # PostgreSQL: psql \copy into a bare table
  createdb "bare_$tag"
  psql -XAtq "$pg/bare_$tag" -c "CREATE TABLE bare ($bare_cols)" >/dev/null
  timed "copy-pg-$tag" psql -XAtq "$pg/bare_$tag" -c "\\copy bare FROM '$file' CSV HEADER"
  read_time "copy-pg-$tag"; R[$tag.copy.t]=$T; R[$tag.copy.m]=$M
  R[$tag.copy.n]=$(psql -XAtq "$pg/bare_$tag" -c "SELECT count(*) FROM bare")
  echo "   psql \\copy: $T s (${R[$tag.copy.n]} rows), $(mb "$M") MB" >&2
  psql -XAtq "$pg/postgres" -c "DROP DATABASE bare_$tag" >/dev/null
  # SQLite: minewatch, and sqlite3's .import
  rm -f "$sq"* "$out/bare-$tag.sqlite"
  "$mw" --db "$sq" load >&2
  "$mw" --db "$sq" import sources "$sources" >&2
  timed "import-sqlite-$tag" "$mw" --db "$sq" import facts-csv "$file" ||
    { tail "$out/import-sqlite-$tag.log" >&2; echo "error: the import into SQLite failed" >&2; exit 1; }
  read_time "import-sqlite-$tag"; R[$tag.sq.t]=$T; R[$tag.sq.m]=$M
  echo "   minewatch -> SQLite: $T s, $(mb "$M") MB" >&2
  timed "import-sqlite3-$tag" sqlite3 "$out/bare-$tag.sqlite" ".import --csv $file t"
  read_time "import-sqlite3-$tag"; R[$tag.sq3.t]=$T; R[$tag.sq3.m]=$M
  echo "   sqlite3 .import: $T s, $(mb "$M") MB" >&2
  rm -f "$sq"* "$out/bare-$tag.sqlite"
}

python3 "$root/scripts/gen_scale.py" "$rows" "$out/facts.csv" "$out/sources.csv"
file_mb=$(stat -c %s "$out/facts.csv" | awk '{printf "%.1f", $1/1e6}')
timed_out=""
import_set "$rows" "$out/facts.csv" "$out/sources.csv" full "$IMPORT_TIMEOUT" || timed_out=$?
if [ -n "$timed_out" ]; then
  # The timed-out import's figures stay as "> limit"; the rest of the full set is still measured
  # (\copy, SQLite), then the generator's PREFIX-row file, all four again.
  createdb bare_full
  psql -XAtq "$pg/bare_full" -c "CREATE TABLE bare ($bare_cols)" >/dev/null
  timed copy-pg-full psql -XAtq "$pg/bare_full" -c "\\copy bare FROM '$out/facts.csv' CSV HEADER"
  read_time copy-pg-full; R[full.copy.t]=$T; R[full.copy.m]=$M
  psql -XAtq "$pg/postgres" -c "DROP DATABASE bare_full" >/dev/null
  sq=$out/import-full.sqlite; rm -f "$sq"*
  "$mw" --db "$sq" load >&2; "$mw" --db "$sq" import sources "$out/sources.csv" >&2
  timed import-sqlite-full "$mw" --db "$sq" import facts-csv "$out/facts.csv"
  read_time import-sqlite-full; R[full.sq.t]=$T; R[full.sq.m]=$M
  timed import-sqlite3-full sqlite3 "$out/bare-full.sqlite" ".import --csv $out/facts.csv t"
  read_time import-sqlite3-full; R[full.sq3.t]=$T; R[full.sq3.m]=$M
  rm -f "$sq"* "$out/bare-full.sqlite"
  python3 "$root/scripts/gen_scale.py" "$PREFIX" "$out/facts-prefix.csv" "$out/sources-prefix.csv"
  import_set "$PREFIX" "$out/facts-prefix.csv" "$out/sources-prefix.csv" prefix $((IMPORT_TIMEOUT * 4))
fi

# --- 3. the tables -------------------------------------------------------------------------------
echo
echo "## PostgreSQL $pg_version beside SQLite"
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk and PostgreSQL on the same machine;" \
  "load average before the web runs: $load_before, after: $load_after, after the imports: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: the shipped data, $web_facts_sqlite facts (SQLite) and $web_facts_pg (PostgreSQL);" \
  "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency after a $WARMUP warm-up (two servers: two wrk -t$((THREADS / 2 > 0 ? THREADS / 2 : 1)) -c$((CONNECTIONS / 2)) at once)," \
  "a different as_of on every request over ${#CODES[@]} subjects (${CODES[*]})"
echo
cell() { echo "${R[$1]:-?}"; }
echo "| figure | SQLite, one server | PostgreSQL, one server | PostgreSQL, two servers |"
echo "|---|---:|---:|---:|"
echo "| start on an empty record to first \`/healthz\` (loads the shipped data) | $(cell sqlite.start) s | $(cell pg1.start) s | $(cell pg2.start) s (already loaded) |"
for m in profile facts; do
  case $m in profile) what="profile page (uncached)" ;; facts) what="facts API (uncached)" ;; esac
  echo "| $what p50 | $(cell sqlite.$m.p50) ms | $(cell pg1.$m.p50) ms | $(cell pg2.$m.p50) ms |"
  echo "| $what p99 | $(cell sqlite.$m.p99) ms | $(cell pg1.$m.p99) ms | $(cell pg2.$m.p99) ms |"
  echo "| $what requests/s | $(cell sqlite.$m.rps) | $(cell pg1.$m.rps) | $(cell pg2.$m.rps) |"
  echo "| $what non-2xx and socket errors | $(cell sqlite.$m.bad) | $(cell pg1.$m.bad) | $(cell pg2.$m.bad) |"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a/b; else print "n/a" }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN{ if (t ~ /^[0-9.]+$/ && t > 0) printf "%.0f", n/t; else print "?" }'; }
import_table() {
  local tag=$1 n=$2 what=$3 q
  q=$(ratio "${R[$tag.pg.t]:-}" "${R[$tag.copy.t]:-}")
  echo "| import of $n facts ($what) | wall | rows/s | peak RSS (client) | goal | met? |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| minewatch \`import facts-csv\` into PostgreSQL (shipped record loaded) | ${R[$tag.pg.t]:-?} s | $(rate "$n" "${R[$tag.pg.t]:-}") | $(mb "${R[$tag.pg.m]:-}") MB | <= 3x \`\\copy\`, < 100 MB |" \
    "$(awk -v q="$q" -v m="${R[$tag.pg.m]:-}" 'BEGIN{ t = (q != "n/a" && q <= 3); r = (m != "" && m < 102400); print (t && r) ? "yes" : (t ? "**no** (RSS)" : (r ? "**no** (time)" : "**no**")) }') |"
  echo "| psql \`\\copy\` into a bare table (8 TEXT columns) | ${R[$tag.copy.t]:-?} s | $(rate "$n" "${R[$tag.copy.t]:-}") | $(mb "${R[$tag.copy.m]:-}") MB | | |"
  echo "| ratio PostgreSQL import / \`\\copy\` | ${q}x | | | | |"
  echo "| psql \`\\copy\` of the rows the import wrote into minewatch's own tables (indexes, checks; one transaction) | ${R[$tag.same.t]:-?} s | $(rate "$n" "${R[$tag.same.t]:-}") | $(mb "${R[$tag.same.m]:-}") MB | | |"
  echo "| ratio PostgreSQL import / that \`\\copy\` | $(ratio "${R[$tag.pg.t]:-}" "${R[$tag.same.t]:-}")x | | | | |"
  echo "| minewatch \`import facts-csv\` into SQLite (reference) | ${R[$tag.sq.t]:-?} s | $(rate "$n" "${R[$tag.sq.t]:-}") | $(mb "${R[$tag.sq.m]:-}") MB | | |"
  echo "| sqlite3 \`.import --csv\` into a bare table (reference) | ${R[$tag.sq3.t]:-?} s | $(rate "$n" "${R[$tag.sq3.t]:-}") | $(mb "${R[$tag.sq3.m]:-}") MB | | |"
  echo "| ratio SQLite import / sqlite3 \`.import\` | $(ratio "${R[$tag.sq.t]:-}" "${R[$tag.sq3.t]:-}")x | | | | |"
}
import_table full "$rows" "$file_mb MB CSV"
[ -z "${R[full.pg.size]:-}" ] || echo "(the PostgreSQL database after the import: ${R[full.pg.size]} MB)"
if [ -n "$timed_out" ]; then
  echo
  echo "**The import into PostgreSQL of $rows facts was stopped after $IMPORT_TIMEOUT s.** The" \
    "generator's own $PREFIX-row file (same mix), measured the same way:"
  echo
  import_table prefix "$PREFIX" "$(stat -c %s "$out/facts-prefix.csv" | awk '{printf "%.1f", $1/1e6}') MB CSV"
  echo
  echo "**extrapolated, not measured**: $rows facts into PostgreSQL at the $PREFIX-row rate:" \
    "$(awk -v t="${R[prefix.pg.t]:-0}" -v n="$rows" -v p="$PREFIX" 'BEGIN{printf "%.0f", t*n/p}') s;" \
    "ratio to the measured \`\\copy\` of the full file: $(awk -v t="${R[prefix.pg.t]:-0}" -v n="$rows" -v p="$PREFIX" -v c="${R[full.copy.t]:-0}" 'BEGIN{ if (c > 0) printf "%.1f", t*n/p/c; else print "n/a" }')x"
fi
echo
if [ ${#problems[@]} -gt 0 ]; then
  echo "**Errors: these figures are not a result until they are gone:**"
  printf -- '- %s\n' "${problems[@]}"
  exit 2
fi
echo "every request answered 2xx (no non-2xx/3xx answers, no socket errors)"
