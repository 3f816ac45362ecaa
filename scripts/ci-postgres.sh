#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the jeton-postgres tests, on 127.0.0.1 only.
#
# Source it (`source scripts/ci-postgres.sh`): it installs PostgreSQL from Debian's packages if
# no server is installed, creates a cluster in a temporary directory (initdb runs as the
# `postgres` user: PostgreSQL refuses to run as root), starts it on 127.0.0.1 with trust
# authentication (throwaway data, loopback only), creates the database `jeton_test`, exports
# DATABASE_URL, and stops the cluster and removes its directory when the sourcing shell exits.
#
# Local use: bash -c 'source scripts/ci-postgres.sh && cargo test -p jeton-postgres'
# The port is JETON_PG_PORT (default 55432), or the next free one above it.

jeton_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

jeton_pg_as_postgres() {
  # Run a command as the `postgres` user when we are root; as ourselves otherwise.
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

jeton_pg_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

jeton_pg_stop() {
  if [ -n "${JETON_PG_DIR:-}" ] && [ -d "$JETON_PG_DIR" ]; then
    jeton_pg_as_postgres "'$JETON_PG_BIN/pg_ctl' -D '$JETON_PG_DIR/data' -m immediate stop" \
      >/dev/null 2>&1 || true
    rm -rf "$JETON_PG_DIR"
  fi
}

jeton_pg_start() {
  JETON_PG_BIN="$(jeton_pg_bin)"
  if [ -z "$JETON_PG_BIN" ]; then
    echo "== postgres: not installed; installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    JETON_PG_BIN="$(jeton_pg_bin)"
  fi
  if [ -z "$JETON_PG_BIN" ]; then
    echo "== postgres: no server binaries under /usr/lib/postgresql after installing" >&2
    return 1
  fi
  local port="${JETON_PG_PORT:-55432}" tries=0
  while ! jeton_pg_port_free "$port"; do
    port=$((port + 1)); tries=$((tries + 1))
    if [ "$tries" -ge 50 ]; then echo "== postgres: no free port" >&2; return 1; fi
  done
  JETON_PG_DIR="$(mktemp -d /tmp/jeton-pg.XXXXXX)"
  chmod 755 "$JETON_PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$JETON_PG_DIR"; fi
  jeton_pg_as_postgres "'$JETON_PG_BIN/initdb' -D '$JETON_PG_DIR/data' -U postgres -A trust \
    --no-locale -E UTF8 --no-sync" >"$JETON_PG_DIR/initdb.log" 2>&1 || {
    cat "$JETON_PG_DIR/initdb.log" >&2; return 1; }
  # Durability off: the data is thrown away, and the tests run faster.
  jeton_pg_as_postgres "'$JETON_PG_BIN/pg_ctl' -D '$JETON_PG_DIR/data' -l '$JETON_PG_DIR/server.log' -w \
    -o \"-k $JETON_PG_DIR -h 127.0.0.1 -p $port -c max_connections=300 -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null || {
    cat "$JETON_PG_DIR/server.log" >&2; return 1; }
  trap jeton_pg_stop EXIT
  jeton_pg_as_postgres "'$JETON_PG_BIN/createdb' -h 127.0.0.1 -p $port -U postgres jeton_test"
  export JETON_PG_DIR JETON_PG_BIN
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/jeton_test"
  echo "== postgres: $("$JETON_PG_BIN/postgres" --version) on 127.0.0.1:$port, DATABASE_URL=$DATABASE_URL"
}

jeton_pg_start
