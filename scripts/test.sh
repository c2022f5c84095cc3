#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). Installs what the tests need when it
# can (Chromium and ChromeDriver from Debian for the browser tests, PostgreSQL for the PostgreSQL
# tests, when run as root with apt-get), then: formatting, lints, every test. The browser tests fail when Chromium or ChromeDriver is
# missing; MINEWATCH_SKIP_BROWSER=1 skips them instead (and skips installing them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The browser tests (crates/cli/tests/browser.rs) drive /usr/bin/chromium through /usr/bin/chromedriver.
browser_missing() { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }
if [ "${MINEWATCH_SKIP_BROWSER:-}" = 1 ]; then
  echo "note: MINEWATCH_SKIP_BROWSER=1: the browser tests will be skipped" >&2
elif browser_missing; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver (Debian) for the browser tests" >&2
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }; then
      echo "warning: apt-get could not install chromium and chromium-driver" >&2
    fi
  fi
  if browser_missing; then
    echo "warning: /usr/bin/chromium or /usr/bin/chromedriver is missing and could not be installed" \
      "(needs root and apt-get); the browser tests will FAIL. Install them with" \
      "'apt-get install -y chromium chromium-driver', or set MINEWATCH_SKIP_BROWSER=1 to skip them." >&2
  fi
fi

# The Python tools of the open-data and API contract tests (crates/cli/tests/opendata.rs runs the
# real Datasette, frictionless and libhxl on the exports; crates/cli/tests/api.rs runs schemathesis
# and openapi-spec-validator on the API): a virtualenv at target/pytools with pinned versions.
# To add a tool, add its pinned requirement to pytools_pins. Those tests fail when a tool is
# missing; MINEWATCH_SKIP_PYTOOLS=1 skips them instead (and skips installing the tools).
pytools_pins=(
  "datasette==0.65.5"
  "frictionless==5.18.0"
  "libhxl==5.2.2"
  "six==1.16.0" # libhxl imports six without declaring it
  "schemathesis==4.32.5"
  "openapi-spec-validator==0.9.0"
)
if [ "${MINEWATCH_SKIP_PYTOOLS:-}" = 1 ]; then
  echo "note: MINEWATCH_SKIP_PYTOOLS=1: the tests that use the Python tools will be skipped" >&2
else
  pytools="$root/target/pytools"
  if ! { { [ -x "$pytools/bin/python" ] || python3 -m venv "$pytools"; } &&
    "$pytools/bin/python" -m pip install --quiet --disable-pip-version-check "${pytools_pins[@]}"; }; then
    echo "warning: could not install the Python tools (${pytools_pins[*]}) into $pytools;" \
      "the open-data tests will FAIL. Check python3 -m venv and pip, or set" \
      "MINEWATCH_SKIP_PYTOOLS=1 to skip them." >&2
  fi
  export MINEWATCH_PYTOOLS="$pytools/bin"
fi

# The PostgreSQL tests (crates/cli/tests/postgres.rs) run against a private cluster that this
# script starts (scripts/pg-cluster.sh: initdb in a temporary folder, a free port on 127.0.0.1, a
# user that is not root) and stops at the end, also when tests fail. Debian's postgresql is
# installed when it can be (root, apt-get). Without a server those tests FAIL (never pass);
# MINEWATCH_SKIP_POSTGRES=1 leaves them out instead and says so.
# shellcheck source=scripts/pg-cluster.sh
source "$root/scripts/pg-cluster.sh"
nextest_filter=()
if [ "${MINEWATCH_SKIP_POSTGRES:-}" = 1 ]; then
  echo "note: MINEWATCH_SKIP_POSTGRES=1: the PostgreSQL tests are SKIPPED (not run, not passed)" >&2
  nextest_filter=(-E 'not test(/^postgres::/)')
else
  if ! pg_bin_dir >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql (Debian) for the PostgreSQL tests" >&2
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }; then
      echo "warning: apt-get could not install postgresql" >&2
    fi
  fi
  if ! pg_cluster_start; then
    echo "warning: no PostgreSQL server could be started (install Debian's postgresql, or run as" \
      "root with apt-get); the PostgreSQL tests will FAIL. Set MINEWATCH_SKIP_POSTGRES=1 to skip them." >&2
  fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The public site (and what it builds on) compiles without the store's `private` feature: no public
# page, twin or feed can read accounts, subscribers, the outbox or feedback (ARCHITECTURE.md).
cargo check -p minewatch-site -p minewatch-answers -p minewatch-web -p minewatch-export --quiet
# The integration suite a second time with every test's database on PostgreSQL
# (MINEWATCH_TEST_BACKEND=postgres: crates/cli/tests/support.rs maps each test's database file to
# a database of the cluster). Left out, because they are about SQLite itself: a mistyped folder
# of a database file, and the command line's "waiting for another writer" message (SQLite's busy
# handler; PostgreSQL waits in lock_timeout).
pg_suite_filter='package(minewatch) and not test(/^postgres::/) and not test(=import::a_mistyped_db_path_is_an_error_not_an_empty_record) and not test(=desk::a_cli_import_waits_for_another_writer_and_says_so)'
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "${nextest_filter[@]}" || status=$?
  if [ "${MINEWATCH_SKIP_POSTGRES:-}" = 1 ]; then
    echo "note: MINEWATCH_SKIP_POSTGRES=1: the suite on PostgreSQL is SKIPPED" >&2
  else
    echo "the integration suite again, on PostgreSQL" >&2
    # --workspace, as above, so that nothing is built again (features resolve the same way).
    MINEWATCH_TEST_BACKEND=postgres cargo nextest run --workspace --no-fail-fast \
      -E "$pg_suite_filter" || status=$?
  fi
  [ "$status" = 0 ] || exit "$status"
elif [ "${MINEWATCH_SKIP_POSTGRES:-}" = 1 ]; then
  cargo test --workspace --no-fail-fast -- --skip postgres::
else
  cargo test --workspace --no-fail-fast
fi

# A short run of every fuzz target from its seeds (about a minute after the build; skipped
# without a nightly toolchain); fails on any crash. See scripts/fuzz.sh and RELIABILITY.md.
bash scripts/fuzz.sh smoke
