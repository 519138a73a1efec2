# A throwaway PostgreSQL server for the consent and sharing store tests, sourced by .ci/run.
#
# Installs PostgreSQL from Debian's packages when its binaries are missing, creates a cluster
# in a temporary directory, starts it on 127.0.0.1 only (a free port), creates a database and
# exports PURPOSEFUL_TEST_POSTGRES_DSN. The server and its files go when the calling shell
# exits (an EXIT trap). It must not touch any other cluster on the machine, listen beyond
# loopback, or outlive the CI run.
#
# Authentication: the `postgres` superuser is trusted on loopback (the tests connect as it);
# every other role needs its password (scram-sha-256), so the tests can check what a wrong
# password does.
#
# The server refuses to run as root: as root (CI), it runs as the `postgres` OS user the
# Debian package creates; otherwise as the current user.

purposeful_pg_bin() {
    # The newest installed PostgreSQL's bin directory, or nothing.
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
}

PURPOSEFUL_PG_BIN="$(purposeful_pg_bin)"
if [ -z "$PURPOSEFUL_PG_BIN" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo ".ci/postgres.sh: PostgreSQL is not installed; run as root to install it" \
            "(apt-get install postgresql)" >&2
        exit 1
    fi
    echo ".ci/postgres.sh: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
    PURPOSEFUL_PG_BIN="$(purposeful_pg_bin)"
    if [ -z "$PURPOSEFUL_PG_BIN" ]; then
        echo ".ci/postgres.sh: apt-get installed postgresql but no server binaries" \
            "were found in /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
fi

# Run a command as the server's OS user, from a directory that user can read.
if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
        purposeful_as_pg() { (cd "$PURPOSEFUL_PG_DIR" && runuser -u postgres -- "$@"); }
    else
        purposeful_as_pg() {
            (cd "$PURPOSEFUL_PG_DIR" && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
        }
    fi
else
    purposeful_as_pg() { (cd "$PURPOSEFUL_PG_DIR" && "$@"); }
fi

PURPOSEFUL_PG_DIR="$(mktemp -d /tmp/purposeful-postgres.XXXXXX)"
PURPOSEFUL_PG_PORT="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"

purposeful_pg_stop() {
    local status=$?
    if [ -f "$PURPOSEFUL_PG_DIR/data/postmaster.pid" ]; then
        purposeful_as_pg "$PURPOSEFUL_PG_BIN/pg_ctl" -D "$PURPOSEFUL_PG_DIR/data" \
            -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PURPOSEFUL_PG_DIR"
    exit "$status"
}
trap purposeful_pg_stop EXIT

if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PURPOSEFUL_PG_DIR"
fi
if ! purposeful_as_pg "$PURPOSEFUL_PG_BIN/initdb" -D "$PURPOSEFUL_PG_DIR/data" -U postgres \
    --encoding=UTF8 --locale=C --auth=trust --no-sync >"$PURPOSEFUL_PG_DIR/initdb.log" 2>&1; then
    echo ".ci/postgres.sh: initdb failed:" >&2
    cat "$PURPOSEFUL_PG_DIR/initdb.log" >&2 || true
    exit 1
fi
cat >"$PURPOSEFUL_PG_DIR/data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       postgres                trust
host    all       postgres  127.0.0.1/32  trust
host    all       all       127.0.0.1/32  scram-sha-256
EOF
if ! purposeful_as_pg "$PURPOSEFUL_PG_BIN/pg_ctl" -D "$PURPOSEFUL_PG_DIR/data" \
    -l "$PURPOSEFUL_PG_DIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PURPOSEFUL_PG_PORT -k $PURPOSEFUL_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null; then
    echo ".ci/postgres.sh: the PostgreSQL server did not start; its log:" >&2
    cat "$PURPOSEFUL_PG_DIR/server.log" >&2 || true
    exit 1
fi
for _ in $(seq 1 60); do
    if "$PURPOSEFUL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PURPOSEFUL_PG_PORT"; then
        break
    fi
    sleep 0.5
done
"$PURPOSEFUL_PG_BIN/pg_isready" -h 127.0.0.1 -p "$PURPOSEFUL_PG_PORT" >/dev/null
"$PURPOSEFUL_PG_BIN/createdb" -h 127.0.0.1 -p "$PURPOSEFUL_PG_PORT" -U postgres purposeful_test

export PURPOSEFUL_TEST_POSTGRES_DSN="postgresql://postgres@127.0.0.1:$PURPOSEFUL_PG_PORT/purposeful_test"
echo ".ci/postgres.sh: PostgreSQL $("$PURPOSEFUL_PG_BIN/postgres" --version | awk '{print $3}')" \
    "on 127.0.0.1:$PURPOSEFUL_PG_PORT, PURPOSEFUL_TEST_POSTGRES_DSN set" >&2
