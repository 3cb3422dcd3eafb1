#!/usr/bin/env bash
# Runs a PostgreSQL server for the AppHost's local hosting mode (no container runtime).
#
# Usage:       postgres-local.sh <bin-dir> <data-dir> <port>
# Environment: POSTGRES_PASSWORD  password of the superuser "postgres" (required, one line)
#
# 1. Initialises <data-dir> with initdb when it has no PG_VERSION yet (host connections need
#    the password, scram-sha-256; the Unix socket uses peer authentication).
# 2. Sets the superuser's password on every start, in single-user mode before the server
#    listens: the AppHost's password parameter may differ from the one the folder was
#    initialised with (another checkout's run, a test with its own password).
# 3. Runs the server on 127.0.0.1:<port> and turns the AppHost's stop signal into a fast
#    shutdown. The AppHost creates the databases once the server is ready.
#
# PostgreSQL refuses to run as root: when started by root, every PostgreSQL program runs as
# the "postgres" user (initdb and single-user mode through runuser, the server through
# setpriv, see below), which then owns <data-dir>.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 <bin-dir> <data-dir> <port>" >&2
    exit 2
fi

bin_dir=$1
data_dir=$2
port=$3

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
case $POSTGRES_PASSWORD in
    *$'\n'* | *$'\r'*) echo "POSTGRES_PASSWORD must be a single line" >&2; exit 2 ;;
esac

as_postgres=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id -u postgres >/dev/null 2>&1; then
        echo "running as root needs a 'postgres' user to run PostgreSQL as (apt-get install postgresql creates it)" >&2
        exit 2
    fi
    as_postgres=(runuser -u postgres --)
fi

mkdir -p "$data_dir"
if [ ${#as_postgres[@]} -gt 0 ]; then
    chown postgres: "$data_dir"
fi
chmod 700 "$data_dir"

if [ ! -s "$data_dir/PG_VERSION" ]; then
    echo "initialising a PostgreSQL cluster in $data_dir"
    pwfile=$(mktemp)
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    if [ ${#as_postgres[@]} -gt 0 ]; then
        chown postgres: "$pwfile"
    fi
    "${as_postgres[@]}" "$bin_dir/initdb" --pgdata="$data_dir" --username=postgres --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=peer --encoding=UTF8 --no-locale --no-instructions
    rm -f "$pwfile"
    trap - EXIT
fi

# Single-user mode reads one statement per line from standard input; the password never
# appears on a command line. Doubling quotes makes it a valid SQL literal.
escaped_password=${POSTGRES_PASSWORD//\'/\'\'}
printf "ALTER ROLE postgres WITH PASSWORD '%s';\n" "$escaped_password" |
    "${as_postgres[@]}" "$bin_dir/postgres" --single -D "$data_dir" postgres >/dev/null

# The server runs as a child of this script rather than replacing it: the AppHost (DCP) stops
# an executable with SIGTERM, which PostgreSQL takes as a "smart" shutdown that waits for every
# client to disconnect, so it would be killed before finishing. A "fast" shutdown (SIGINT)
# rolls back open transactions, disconnects clients and writes a checkpoint, so the next start
# needs no crash recovery. The server is started through setpriv, not runuser: runuser forwards
# a stop as SIGTERM and sends SIGKILL two seconds later.
run_server=()
if [ ${#as_postgres[@]} -gt 0 ]; then
    run_server=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi
"${run_server[@]}" "$bin_dir/postgres" -D "$data_dir" -p "$port" -k /tmp -c listen_addresses=127.0.0.1 &
server_pid=$!

stop_server() {
    echo "stopping PostgreSQL (fast shutdown)" >&2
    kill -INT "$server_pid" 2>/dev/null || true
}
trap stop_server TERM INT HUP

# `wait` returns early when a trapped signal arrives: wait again until the server has exited.
status=0
while true; do
    wait "$server_pid" && status=0 || status=$?
    kill -0 "$server_pid" 2>/dev/null || break
done
exit "$status"
