#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks: initdb into DIR,
# start it on a free port of 127.0.0.1 with fsync=off, print its URL last.
# Nothing in it is meant to survive: `stop` then `rm -rf DIR`.
#
#   scripts/pg-throwaway.sh start DIR   # prints postgres://postgres@127.0.0.1:PORT
#   scripts/pg-throwaway.sh stop DIR
#
# As root the server runs as the postgres user (initdb refuses root).
#   PGBIN=/usr/lib/postgresql/15/bin   where initdb and pg_ctl are
set -uo pipefail

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
    local dir="$1"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl -D '$dir/data' -m fast -w stop" >/dev/null 2>&1 || true
    fi
}

start() {
    local dir="$1" port
    stop "$dir"
    rm -rf "$dir"
    mkdir -p "$dir" || return 1
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    port="$(free_port)" || return 1
    as_pg "$PGBIN/initdb -D '$dir/data' -U postgres --auth=trust -E UTF8 --no-sync" >/dev/null &&
        as_pg "$PGBIN/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -t 30 -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null &&
        echo "postgres://postgres@127.0.0.1:$port"
}

case "${1:-}:${2:-}" in
start:?*) start "$(realpath -m "$2")" ;;
stop:?*) stop "$(realpath -m "$2")" ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
