#!/usr/bin/env bash
# A private PostgreSQL server for the tests: `source scripts/pg-cluster.sh; pg_cluster_start`
# makes a cluster with initdb in a new temporary folder, owned by a user that is not root
# (PostgreSQL refuses to run as root; as root the folder goes to the `postgres` user that
# Debian's package creates), starts it on a free port on 127.0.0.1 only, and exports
# MINEWATCH_TEST_PG=postgres://minewatch@127.0.0.1:PORT/postgres (a superuser; the tests make
# one database each). `pg_cluster_stop` stops it and removes the folder; pg_cluster_start sets an
# EXIT trap that calls it, so the server never outlives the run, even when tests fail.
# Needs the server binaries (Debian: apt-get install postgresql); returns 1 without them.

pg_bin_dir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

pg_cluster_stop() {
  if [ -n "${PG_CLUSTER_DIR:-}" ] && [ -d "$PG_CLUSTER_DIR" ]; then
    $PG_AS "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_CLUSTER_DIR"
  fi
  PG_CLUSTER_DIR=
}

pg_cluster_start() {
  PG_BIN=$(pg_bin_dir) || return 1
  PG_AS=""
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || return 1
    PG_AS="runuser -u postgres --"
  fi
  PG_CLUSTER_DIR=$(mktemp -d /tmp/minewatch-pg-XXXXXX)
  trap pg_cluster_stop EXIT
  [ -z "$PG_AS" ] || chown postgres "$PG_CLUSTER_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if ! $PG_AS "$PG_BIN/initdb" -D "$PG_CLUSTER_DIR/data" --username=minewatch --auth=trust \
    --encoding=UTF8 --locale=C >"$PG_CLUSTER_DIR/initdb.log" 2>&1; then
    cat "$PG_CLUSTER_DIR/initdb.log" >&2
    pg_cluster_stop
    return 1
  fi
  # Many test databases at once, each with a few server processes: room for them all.
  if ! $PG_AS "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w \
    -o "-p $port -k $PG_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c shared_buffers=64MB" \
    start >/dev/null; then
    cat "$PG_CLUSTER_DIR/server.log" >&2
    pg_cluster_stop
    return 1
  fi
  export MINEWATCH_TEST_PG="postgres://minewatch@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') for the tests at $MINEWATCH_TEST_PG ($PG_CLUSTER_DIR)" >&2
}
