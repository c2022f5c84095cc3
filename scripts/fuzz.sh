#!/usr/bin/env bash
# Fuzzing: the targets in fuzz/fuzz_targets (importers, stored payloads, dates, name resolution,
# the classify body), run with cargo-fuzz (libFuzzer) on the nightly toolchain. RELIABILITY.md
# records the long runs and what they found.
#
#   scripts/fuzz.sh smoke          each target for FUZZ_SMOKE_SECONDS (default 10) from its seeds
#                                  in fuzz/seeds (scripts/test.sh runs this); fails on any crash
#   scripts/fuzz.sh long [RUNS]    each target for RUNS executions (default 10000000), growing
#                                  fuzz/corpus/TARGET; prints a table row per target for
#                                  RELIABILITY.md. FUZZ_MAX_TIME=SECONDS caps each target's time.
#   scripts/fuzz.sh build          build the targets only
#
# FUZZ_TARGETS="dates payload" picks targets (default: all). One fuzzing process at a time (no
# -fork or -jobs): the machines have two cores. Crashing inputs are written to
# fuzz/artifacts/TARGET/; reproduce one with
#   fuzz/target/<host>/release/TARGET fuzz/artifacts/TARGET/crash-...
# and minimise it with -minimize_crash=1 -runs=100000.
#
# Without a nightly toolchain the script says so and exits 0 (fuzzing needs nightly; the build
# and tests do not). cargo-fuzz is installed with `cargo install --locked cargo-fuzz` if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=${1:-smoke}
case "$mode" in
  smoke | long | build) ;;
  *)
    echo "usage: scripts/fuzz.sh smoke | long [RUNS] | build" >&2
    exit 2
    ;;
esac

if ! command -v rustup >/dev/null 2>&1 || ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "note: no nightly Rust toolchain (rustup toolchain install nightly): fuzzing skipped" >&2
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (cargo install --locked cargo-fuzz)" >&2
  cargo install --locked cargo-fuzz
fi

all_targets=$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')
targets=${FUZZ_TARGETS:-$all_targets}

# No sanitizer: every crate forbids unsafe code, so AddressSanitizer would watch only the bundled
# SQLite, at half the speed. Panics, overflows (debug assertions are on), timeouts and memory
# limits are what the targets look for.
cargo +nightly fuzz build -s none
[ "$mode" = build ] && exit 0

host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin=fuzz/target/$host/release

max_len() {
  case "$1" in
    dates) echo 64 ;;
    resolve) echo 256 ;;
    payload) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

# Flags every run shares: a 10 s budget per input, 2 GiB of memory.
common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

failed=()
if [ "$mode" = smoke ]; then
  secs=${FUZZ_SMOKE_SECONDS:-10}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for t in $targets; do
    mkdir -p "$tmp/$t" "fuzz/artifacts/$t"
    start=$(date +%s)
    if "$bin/$t" "${common[@]}" -max_len="$(max_len "$t")" -max_total_time="$secs" \
      -artifact_prefix="fuzz/artifacts/$t/" "$tmp/$t" "fuzz/seeds/$t" >"$tmp/$t.log" 2>&1; then
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$t.log" | tail -1)
      echo "fuzz smoke: $t: ${runs:-?} executions in $(($(date +%s) - start)) s, no crash"
    else
      echo "fuzz smoke: $t: FAILED; the end of its log:" >&2
      tail -40 "$tmp/$t.log" >&2
      failed+=("$t")
    fi
  done
else
  runs=${2:-10000000}
  mkdir -p fuzz/logs
  echo "| target | executions | wall time | exec/s | peak RSS | crashes | exit |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for t in $targets; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log=fuzz/logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log
    limit=()
    [ -n "${FUZZ_MAX_TIME:-}" ] && limit=(-max_total_time="$FUZZ_MAX_TIME")
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    start=$(date +%s)
    status=0
    "$bin/$t" "${common[@]}" -max_len="$(max_len "$t")" -runs="$runs" "${limit[@]}" \
      -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" "fuzz/seeds/$t" >"$log" 2>&1 || status=$?
    wall=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    crashes=$(($(find "fuzz/artifacts/$t" -type f | wc -l) - before))
    printf '| %s | %s | %dh%02dm%02ds | %s | %s MB | %s | %s |\n' "$t" "${execs:-?}" \
      $((wall / 3600)) $((wall % 3600 / 60)) $((wall % 60)) "${rate:-?}" "${rss:-?}" "$crashes" "$status"
    [ "$status" = 0 ] || failed+=("$t")
  done
  echo "logs: fuzz/logs/; command: scripts/fuzz.sh long $runs (FUZZ_MAX_TIME=${FUZZ_MAX_TIME:-none})"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
