#!/bin/sh
# A throwaway PostgreSQL cluster for tests, on loopback only, with trust authentication.
#
#   tests/support/pgcluster.sh start DIR PORT   makes (first time) and starts a cluster in DIR listening on
#                                               127.0.0.1:PORT (socket in DIR); prints its URL:
#                                               postgresql://fetchgate@127.0.0.1:PORT/fetchgate
#   tests/support/pgcluster.sh stop DIR         stops it (fast shutdown) and waits until no server runs
#
# Both are idempotent: starting a running cluster prints its URL again; stopping a stopped one does
# nothing. The server refuses root, so as root it runs as the Debian `postgres` user, which is given
# DIR. Durability is off (fsync, synchronous_commit): the data is disposable.
set -eu

bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bindir/pg_ctl" ] || { echo "pgcluster: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

[ $# -ge 2 ] || usage
command=$1
dir=$(realpath -m "$2")
data=$dir/data

case $command in
start)
    [ $# -eq 3 ] || usage
    port=$3
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres: "$dir"
        chmod 700 "$dir"
        as_owner "$bindir/initdb" -D "$data" -U fetchgate -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$dir/server.log" -o \
            "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            >/dev/null || { tail -n 20 "$dir/server.log" >&2; exit 1; }
        if ! as_owner "$bindir/psql" -h "$dir" -p "$port" -U fetchgate -d postgres -tAc \
                "SELECT 1 FROM pg_database WHERE datname = 'fetchgate'" | grep -q 1; then
            as_owner "$bindir/createdb" -h "$dir" -p "$port" -U fetchgate fetchgate
        fi
    fi
    echo "postgresql://fetchgate@127.0.0.1:$port/fetchgate"
    ;;
stop)
    [ $# -eq 2 ] || usage
    if [ -f "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
    fi
    ;;
*) usage ;;
esac
