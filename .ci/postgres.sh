#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the bank tests and print the URL.
# Installs Debian's postgresql package if it is missing (CI runs as root). Idempotent: a
# server this script started earlier on the same port is reused.
set -euo pipefail
PORT="${UNMASK_PG_PORT:-54329}"
DIR="${UNMASK_PG_DIR:-/tmp/unmask-ci-postgres}"

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bin_dir)" ]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN="$(bin_dir)"
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_owner "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
        -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
