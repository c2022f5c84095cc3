#!/usr/bin/env bash
# Scale benchmark (resilience issue, item 4): the shipped record beside the shipped record plus
# ROWS generated facts (scripts/gen_scale.py: every subject, every fact kind), in one run.
#  1. builds both databases in bench-out/scale/ (small.sqlite: `minewatch load`; large.sqlite:
#     the same plus the generated facts) and times the large import beside the sqlite3 shell's
#     `.import` of the same file into a bare table (wall time and peak RSS, GNU time);
#  2. serves each database in turn (small, then large) and measures: time from process start to
#     the first /healthz answer and to the first /states/USA answer; RSS (VmRSS) at start;
#     wrk -c64 --latency on the profile page, the status API and the facts API with a different
#     as_of on every request (pages also carry a unique z=, so the page cache never answers);
#     then MIXED of mixed cache-busting load (those three plus /?z=, /states?z=,
#     /api/v1/parties?as_of=) with RSS sampled every RSS_EVERY s, RSS at its end and IDLE later;
#  3. prints a Markdown table: figure | shipped only | +ROWS facts | ratio | goal | met?
# Goals: the large record within 1.5x the small one on every figure, RSS under 200 MB
# throughout; the import at most 3x the sqlite3 shell's .import, peak RSS under 100 MB.
# Any non-2xx answer or socket error is reported (and the script exits 2): a benchmark that
# answers errors is not a result.
# Usage: scripts/bench-scale.sh [ROWS]      (default 1000000)
#   DURATION=15s (each measured wrk run)  WARMUP=3s  MIXED=60s  IDLE=30s  RSS_EVERY=5
#   CONNECTIONS=64  THREADS=2   e.g. a quick check: DURATION=3s MIXED=10s IDLE=5s scripts/bench-scale.sh 20000
# Installs wrk, sqlite3, curl and GNU time (Debian, as root) when missing. Honours
# CARGO_TARGET_DIR. Everything it writes goes to bench-out/scale/.
set -euo pipefail

rows=${1:-1000000}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
MIXED=${MIXED:-60s}
IDLE=${IDLE:-30s}
RSS_EVERY=${RSS_EVERY:-5}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
# Subjects of the measured requests: the generator's heaviest (USA, UKR, RUS, AFG, MMR, KHM, COL,
# IRQ), a middle band, a territory (GIB: no shipped facts), and VAT, the one it gives the fewest.
CODES=(USA UKR RUS AFG MMR KHM COL IRQ SYR YEM AGO BIH GRC THA MOZ ZWE SDN PER GIB VAT)
secs() { local v=${1%s}; echo "${v%.*}"; }   # "60s" or "60" -> 60
mixed_s=$(secs "$MIXED")
idle_s=$(secs "$IDLE")

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
mw=$target/release/minewatch
out=$root/bench-out/scale
mkdir -p "$out"

# --- tools ---------------------------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "error: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

echo "building minewatch (release)" >&2
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch

# --- servers are killed on any exit --------------------------------------------------------------
pids=()
wrk_pid=""
cleanup() {
  for p in $wrk_pid "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the two databases and the import ---------------------------------------------------------
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }
mb() { awk -v k="$1" 'BEGIN{ if (k == "" || k == "?") print "?"; else printf "%.1f", k/1024 }'; }

echo "== databases in $out ($rows generated facts)" >&2
rm -f "$out"/small.sqlite* "$out"/large.sqlite* "$out"/bare.sqlite*
"$mw" --db "$out/small.sqlite" load >&2
"$mw" --db "$out/large.sqlite" load >&2
start=$(date +%s.%N)
python3 "$root/scripts/gen_scale.py" "$rows" "$out/facts.csv" "$out/sources.csv"
gen_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
file_mb=$(stat -c %s "$out/facts.csv" | awk '{printf "%.1f", $1/1e6}')
echo "generated $out/facts.csv: $file_mb MB in $gen_s s" >&2
"$mw" --db "$out/large.sqlite" import sources "$out/sources.csv" >&2
import_log=$out/import.log
/usr/bin/time -f "%e %M" -o "$out/import.time" "$mw" --db "$out/large.sqlite" import facts-csv "$out/facts.csv" \
  >"$import_log" 2>&1 || { cat "$import_log" >&2; echo "error: the import failed" >&2; exit 1; }
read -r t_mw m_mw < <(tail -n 1 "$out/import.time")
tail -n 3 "$import_log" >&2
if ! grep -q ": $rows facts added" "$import_log"; then
  echo "error: the import did not add all $rows facts (see $import_log)" >&2
  exit 1
fi
read -r t_sq m_sq < <(measure sqlite3 "$out/bare.sqlite" ".import --csv $out/facts.csv t")
sq_rows=$(sqlite3 "$out/bare.sqlite" "SELECT count(*) FROM t")
import_ratio=$(awk -v a="$t_mw" -v b="$t_sq" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }')
echo "minewatch import facts-csv: ${t_mw} s, peak ${m_mw} KB; sqlite3 .import: ${t_sq} s ($sq_rows rows), peak ${m_sq} KB; ratio ${import_ratio}x" >&2
small_facts=$(sqlite3 "$out/small.sqlite" "SELECT count(*) FROM facts")
large_facts=$(sqlite3 "$out/large.sqlite" "SELECT count(*) FROM facts")
small_size=$(du -m "$out/small.sqlite" | cut -f1)
per_code=()
for c in "${CODES[@]}"; do
  per_code+=("$c $(sqlite3 "$out/small.sqlite" "SELECT count(*) FROM facts WHERE subject = '$c'")/$(sqlite3 "$out/large.sqlite" "SELECT count(*) FROM facts WHERE subject = '$c'")")
done
large_size=$(du -m "$out/large.sqlite" | cut -f1)

# --- the wrk script: a different as_of (and z=) on every request ---------------------------------
# Request k (counted over all threads, from an offset of its own for each run) asks for subject
# CODES[k mod 20] as of day k * 7919 mod DAYS after 1997-01-01 (DAYS: up to today): each request
# a different day from the one before, no date repeated within DAYS (about 10,900) requests;
# pages also get z=<mode>-<offset>-<k>, unique, so the page cache never answers them.
lua=$out/scale.lua
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
statuses = {}  -- a global: done() reads it from each thread
function init(args)
  mode = args[1] or "profile"
  offset = tonumber(args[2]) or 0
  nthreads = tonumber(args[3]) or 1
  days = tonumber(args[4]) or 10000
end
local kinds = {"profile", "status", "facts", "home", "states", "parties"}
function request()
  local k = offset + n * nthreads + tid
  n = n + 1
  local c = #codes
  local code = codes[(k % c) + 1]
  local day = os.date("!%Y-%m-%d", 852076800 + 43200 + ((k * 7919) % days) * 86400)
  local m = mode
  -- mixed: the kind changes every #codes requests, so that every kind meets every subject
  if m == "mixed" then m = kinds[(math.floor(k / c) % #kinds) + 1] end
  local z = mode .. "-" .. offset .. "-" .. k
  local path
  if m == "profile" then path = "/states/" .. code .. "?as_of=" .. day .. "&z=" .. z
  elseif m == "status" then path = "/api/v1/states/" .. code .. "/status?as_of=" .. day
  elseif m == "facts" then path = "/api/v1/states/" .. code .. "/facts?as_of=" .. day
  elseif m == "quiet" then
    if k % 2 == 0 then path = "/states/PRI?as_of=" .. day .. "&z=" .. z
    else path = "/api/v1/states/PRI/status?as_of=" .. day end
  elseif m == "home" then path = "/?z=" .. z
  elseif m == "states" then path = "/states?z=" .. z
  else path = "/api/v1/parties?as_of=" .. day end
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

# --- 2. serve each database and measure ----------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_of() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
declare -A R                 # R[<db>.<figure>] = value
problems=()
runs=0

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

# wrk_run DB NAME MODE DURATION: one wrk run; sets R[DB.NAME.{rps,p50,p99}], notes errors.
wrk_run() {
  local db=$1 name=$2 mode=$3 dur=$4 log
  runs=$((runs + 1))
  log=$out/wrk-$db-$name.txt
  # In the background and waited for, so that a signal stops the script (and wrk) at once.
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --timeout 30s --latency -s "$lua" "$base" \
    -- "$mode" $((runs * 1000000)) "$THREADS" "$days" >"$log" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid"
  wrk_pid=""
  local r p50 p99 n s st
  read -r r p50 p99 n s < <(wrk_parse "$log")
  st=$(sed -n 's/^statuses: //p' "$log")
  R[$db.$name.rps]=$r
  R[$db.$name.p50]=$p50
  R[$db.$name.p99]=$p99
  echo "   $name: $r req/s, p50 $p50 ms, p99 $p99 ms; statuses: $st; socket errors: $s" >&2
  if [ "$n" != 0 ] || [ "$s" != 0 ]; then
    problems+=("$db $name ($mode): $n non-2xx/3xx answers (statuses: $st), $s socket errors; see $log and $out/serve-$db.log")
  fi
}

measure_db() {
  local db=$1 path=$out/$1.sqlite port pid t0 c url code
  port=$(free_port)
  base=http://127.0.0.1:$port
  echo "== $db: $path" >&2
  t0=$(now)
  "$mw" --db "$path" serve --bind "127.0.0.1:$port" >"$out/serve-$db.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  # RSS every RSS_EVERY s for the server's whole life (the maximum is over these and the points).
  ( while kill -0 "$pid" 2>/dev/null; do
      echo "$(since "$t0") $(rss_of "$pid")"; sleep "$RSS_EVERY"
    done ) >"$out/rss-$db.txt" &
  pids+=($!)
  until curl -s -o /dev/null "$base/healthz"; do
    kill -0 "$pid" 2>/dev/null || { cat "$out/serve-$db.log" >&2; echo "error: the server exited" >&2; exit 1; }
    awk -v t="$(since "$t0")" 'BEGIN{ exit !(t > 600) }' && { echo "error: no answer in 600 s" >&2; exit 1; }
    sleep 0.01
  done
  R[$db.healthz]=$(since "$t0")
  R[$db.rss_start]=$(rss_of "$pid")
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 "$base/states/USA")
  R[$db.first]=$(since "$t0")
  R[$db.rss_first]=$(rss_of "$pid")
  [ "$code" = 200 ] || problems+=("$db: the first /states/USA answered $code")
  echo "   first /healthz after ${R[$db.healthz]} s, first /states/USA ($code) after ${R[$db.first]} s;" \
    "RSS $(mb "${R[$db.rss_start]}") MB at start, $(mb "${R[$db.rss_first]}") MB after the first profile" >&2
  # Every measured URL shape answers 2xx for every subject (today's date).
  for c in "${CODES[@]}"; do
    for url in "/states/$c" "/api/v1/states/$c/status" "/api/v1/states/$c/facts"; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 "$base$url")
      case $code in 2*) ;; *) problems+=("$db: GET $url answered $code") ;; esac
    done
  done
  for url in "/" "/states" "/api/v1/parties"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 "$base$url")
    case $code in 2*) ;; *) problems+=("$db: GET $url answered $code") ;; esac
  done
  for m in profile status facts quiet; do
    wrk_run "$db" "$m-warmup" "$m" "$WARMUP" >/dev/null
    wrk_run "$db" "$m" "$m" "$DURATION"
  done
  # Mixed load with RSS points every RSS_EVERY s, then idle.
  local mixed_max=0 r t1
  R[$db.rss_before_mixed]=$(rss_of "$pid")
  ( trap 'kill $wrk_pid 2>/dev/null; exit 143' TERM; wrk_run "$db" mixed mixed "${mixed_s}s" ) &
  local wpid=$!
  pids+=("$wpid")
  t1=$(now)
  while kill -0 "$wpid" 2>/dev/null; do
    r=$(rss_of "$pid"); [ "$r" != "?" ] && [ "$r" -gt "$mixed_max" ] && mixed_max=$r
    echo "   mixed +$(since "$t1") s: RSS $(mb "$r") MB" >&2
    sleep "$RSS_EVERY" & wait $!
  done
  wait "$wpid"
  # (wrk_run ran in a subshell: read its figures back from its log)
  read -r R[$db.mixed.rps] R[$db.mixed.p50] R[$db.mixed.p99] _ _ < <(wrk_parse "$out/wrk-$db-mixed.txt")
  if grep -q "Non-2xx or 3xx responses\|Socket errors" "$out/wrk-$db-mixed.txt"; then
    problems+=("$db mixed: $(grep -h "Non-2xx\|Socket errors\|^statuses" "$out/wrk-$db-mixed.txt" | tr '\n' ';') see $out/wrk-$db-mixed.txt")
  fi
  R[$db.rss_mixed]=$(rss_of "$pid")
  echo "   RSS at the end of ${mixed_s} s of mixed load: $(mb "${R[$db.rss_mixed]}") MB; idle ${idle_s} s" >&2
  sleep "$idle_s" &
  wait $!
  R[$db.rss_idle]=$(rss_of "$pid")
  echo "   RSS ${idle_s} s later: $(mb "${R[$db.rss_idle]}") MB" >&2
  R[$db.rss_max]=$(awk -v m="$mixed_max" -v a="${R[$db.rss_mixed]}" -v b="${R[$db.rss_idle]}" \
    '$2 ~ /^[0-9]+$/ && $2 > m { m = $2 } END { if (a > m) m = a; if (b > m) m = b; print m }' "$out/rss-$db.txt")
  grep -q -i "panic" "$out/serve-$db.log" && problems+=("$db: the server log mentions a panic (see $out/serve-$db.log)")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
measure_db small
measure_db large

# --- 3. the table --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }
# row FIGURE KEY UNIT KIND: KIND lat (lower is better, <= 1.5x), rps (higher is better,
# >= 1/1.5x), rss (<= 1.5x and < 200 MB).
row() {
  local figure=$1 key=$2 kind=$3 a b shown_a shown_b q goal met
  a=${R[small.$key]:-?}
  b=${R[large.$key]:-?}
  case $kind in
    rss) shown_a="$(mb "$a") MB"; shown_b="$(mb "$b") MB" ;;
    s) shown_a="$a s"; shown_b="$b s" ;;
    ms) shown_a="$a ms"; shown_b="$b ms" ;;
    rps) shown_a="$a"; shown_b="$b" ;;
  esac
  q=$(ratio "$b" "$a")
  case $kind in
    rps) goal=">= 0.67x"; met=$(awk -v q="$q" 'BEGIN{ print (q != "n/a" && q >= 1/1.5) ? "yes" : "**no**" }') ;;
    rss) goal="<= 1.5x, < 200 MB"
         met=$(awk -v q="$q" -v a="$a" -v b="$b" 'BEGIN{ print (q != "n/a" && q <= 1.5 && a < 204800 && b < 204800) ? "yes" : ((a < 204800 && b < 204800) ? "**no** (ratio)" : "**no** (200 MB)") }') ;;
    *) goal="<= 1.5x"; met=$(awk -v q="$q" 'BEGIN{ print (q != "n/a" && q <= 1.5) ? "yes" : "**no**" }') ;;
  esac
  echo "| $figure | $shown_a | $shown_b | ${q}x | $goal | $met |"
}

echo
echo "## Scale: the shipped record beside +$rows generated facts"
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); wrk on the same machine;" \
  "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: $small_facts facts (${small_size} MB) and $large_facts facts (${large_size} MB);" \
  "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency after a $WARMUP warm-up, a different as_of on each request" \
  "over ${#CODES[@]} subjects (${CODES[*]}); mixed load ${mixed_s} s, idle ${idle_s} s, RSS sampled every $RSS_EVERY s"
echo "facts of the measured subjects (shipped only/large): $(IFS=,; echo "${per_code[*]}" | sed 's/,/, /g')"
echo
echo "| figure | shipped only | +$rows facts | ratio | goal | met? |"
echo "|---|---:|---:|---:|---|---|"
row "start to first /healthz answer" healthz s
row "start to first /states/USA answer" first s
row "RSS at start (first /healthz)" rss_start rss
row "RSS after the first profile" rss_first rss
row "profile page p50 (uncached)" profile.p50 ms
row "profile page p99 (uncached)" profile.p99 ms
row "profile page requests/s" profile.rps rps
row "status API p50" status.p50 ms
row "status API p99" status.p99 ms
row "status API requests/s" status.rps rps
row "facts API p50" facts.p50 ms
row "facts API p99" facts.p99 ms
row "facts API requests/s" facts.rps rps
row "PRI (no generated facts): profile and status p50" quiet.p50 ms
row "PRI (no generated facts): profile and status p99" quiet.p99 ms
row "PRI (no generated facts): requests/s" quiet.rps rps
row "mixed load p50" mixed.p50 ms
row "mixed load p99" mixed.p99 ms
row "mixed load requests/s" mixed.rps rps
row "RSS at the end of ${mixed_s} s of mixed load" rss_mixed rss
row "RSS ${idle_s} s after" rss_idle rss
row "max RSS seen" rss_max rss
echo
echo "| import of $rows facts ($file_mb MB CSV) | wall | peak RSS | goal | met? |"
echo "|---|---:|---:|---|---|"
echo "| minewatch import facts-csv (shipped record loaded) | ${t_mw} s | $(mb "$m_mw") MB | <= 3x sqlite3, < 100 MB |" \
  "$(awk -v q="$import_ratio" -v m="$m_mw" 'BEGIN{ t = (q != "n/a" && q <= 3); r = (m < 102400); print (t && r) ? "yes" : (t ? "**no** (RSS)" : (r ? "**no** (time)" : "**no** (time, RSS)")) }') |"
echo "| sqlite3 .import --csv (bare table) | ${t_sq} s | $(mb "$m_sq") MB | | |"
echo "| ratio | ${import_ratio}x | | | |"
echo
if [ ${#problems[@]} -gt 0 ]; then
  echo "**Errors: these figures are not a result until they are gone:**"
  printf -- '- %s\n' "${problems[@]}"
  exit 2
fi
echo "every request answered 2xx (no non-2xx/3xx answers, no socket errors)"
