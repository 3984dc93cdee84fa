#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests, in a directory of its own.
#
#   pgcluster.sh start DIR PORT   initdb (once) and start on 127.0.0.1:PORT; prints the URL
#   pgcluster.sh stop DIR         stop it (fast shutdown); nothing of it is left running
#   pgcluster.sh restart DIR      stop and start again on the same port (prints the URL)
#   pgcluster.sh url DIR          the URL of a cluster made by `start`
#   pgcluster.sh fresh DIR NAME   (re)create an empty database NAME in it (connections to it are ended)
#
# The URL is postgresql://fetchgate@127.0.0.1:PORT/fetchgate: the role `fetchgate` is the
# cluster's superuser and trust authentication is used (loopback only, socket in DIR).
# `start` is idempotent: a running cluster is left as it is. initdb and postgres refuse to
# run as root, so as root they run as the Debian `postgres` user, which then owns DIR.
set -euo pipefail

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROLE=fetchgate

usage() { echo "usage: $0 start DIR PORT | stop DIR | restart DIR | url DIR | fresh DIR NAME" >&2; exit 2; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://$ROLE@127.0.0.1:$(cat "$1/port")/$ROLE"; }

running() { [ -f "$1/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"; chmod 700 "$dir"
        # The postgres user must reach DIR: let it search (not list) each ancestor it cannot.
        local up=$dir
        while ! runuser -u postgres -- test -x "$dir"; do
            up=$(dirname "$up"); [ "$up" != / ] || { echo "pgcluster: postgres cannot reach $dir" >&2; exit 1; }
            runuser -u postgres -- test -x "$up" || chmod o+x "$up"
        done
    fi
    if [ -f "$dir/port" ] && [ "$(cat "$dir/port")" != "$port" ] && running "$dir"; then
        echo "pgcluster: $dir already runs on port $(cat "$dir/port")" >&2; exit 1
    fi
    echo "$port" > "$dir/port"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$BIN/initdb" -D "$dir/data" -U "$ROLE" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
    fi
    if ! running "$dir"; then
        # No descriptor of ours may reach the server: a caller reading our output to its end would wait forever.
        as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start </dev/null >"$dir/pg_ctl.log" 2>&1 \
            || { cat "$dir/pg_ctl.log" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    if ! as_owner "$BIN/psql" -h "$dir" -p "$port" -U "$ROLE" -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$ROLE'" | grep -q 1; then
        as_owner "$BIN/createdb" -h "$dir" -p "$port" -U "$ROLE" "$ROLE"
    fi
    url "$dir"
}

stop() {
    local dir=$1
    [ -d "$dir/data" ] || return 0
    if running "$dir"; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    # pg_ctl waits for the postmaster; make sure no backend of this cluster outlives it.
    if [ -f "$dir/data/postmaster.pid" ]; then
        local pid; pid=$(head -1 "$dir/data/postmaster.pid")
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/data/postmaster.pid"
    fi
}

fresh() {
    local dir=$1 name=$2 port; port=$(cat "$dir/port")
    PGOPTIONS="-c client_min_messages=warning" as_owner "$BIN/psql" -h "$dir" -p "$port" -U "$ROLE" -d postgres -v ON_ERROR_STOP=1 -Atq \
        -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
}

case "${1:-}" in
    start) [ $# = 3 ] || usage; start "$2" "$3" ;;
    stop) [ $# = 2 ] || usage; stop "$2" ;;
    restart) [ $# = 2 ] || usage; stop "$2"; start "$2" "$(cat "$2/port")" ;;
    url) [ $# = 2 ] || usage; url "$2" ;;
    fresh) [ $# = 3 ] || usage; fresh "$2" "$3" ;;
    *) usage ;;
esac
