#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The PostgreSQL example hook against a real PostgreSQL server (Debian's
# postgresql), a private cluster started here, through the real dispatcher:
# freeze makes the server checkpoint (pg_stat_bgwriter.checkpoints_req goes
# up) and writes are not held up; thaw has nothing to do; a server that is
# not running is nothing to do.
#
# usage: postgresql.sh FSFREEZE_HOOK EXAMPLES_DIR
set -euo pipefail

BIN=$(readlink -f "$1")
EXAMPLES=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (to run the cluster as the postgres user)"
id postgres >/dev/null 2>&1 || skip "no postgres user (apt-get install postgresql)"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] && command -v psql >/dev/null || skip "PostgreSQL is not installed (apt-get install postgresql)"

TMP=$(mktemp -d /tmp/fsfreeze-pg.XXXXXX)
DATA=$TMP/data
HOOKS=$TMP/hooks
STARTED=

cleanup() {
    [ -n "$STARTED" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$HOOKS"
cp "$EXAMPLES/10-postgresql-checkpoint" "$HOOKS/"
chmod 755 "$HOOKS/10-postgresql-checkpoint"
# The cluster belongs to postgres; the hook directory stays root's.
chmod 755 "$TMP"
mkdir "$DATA" && chown postgres: "$DATA"
runuser -u postgres -- "$PGBIN/initdb" -D "$DATA" -A peer >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; fail initdb; }
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -w -t 60 -l "$DATA/server.log" \
    -o "-c listen_addresses='' -c unix_socket_directories=$DATA -c port=5499" start >/dev/null ||
    { cat "$DATA/server.log"; fail "the server did not start"; }
STARTED=1

# The hook connects as the postgres system user through this socket.
export PGHOST=$DATA PGPORT=5499
sql() { runuser -u postgres -- psql -X -q -At -c "$1"; }
sql 'CREATE TABLE x (i int)'
# PostgreSQL 17 moved the counter to pg_stat_checkpointer.
if [ "$(sql 'SHOW server_version_num')" -ge 170000 ]; then
    requested='SELECT num_requested FROM pg_stat_checkpointer'
else
    requested='SELECT checkpoints_req FROM pg_stat_bgwriter'
fi
before=$(sql "$requested")

dispatch() {
    # No freeze deadline: these test the example hooks, some freezes are
    # left unthawed on purpose, and a deadline would outlive the test by
    # 15 minutes (the deadline has its own suites).
    timeout 60 "$BIN" --config="$TMP/none.conf" --state-dir="$TMP/dstate" --no-journal --freeze-deadline=0 \
        -d "$HOOKS" -l "$TMP/hook.log" "$1" 2>&1
}

echo "== freeze: a checkpoint"
out=$(dispatch freeze) || fail "freeze: $out"
grep -q "10-postgresql-checkpoint: stdout: checkpoint done" "$TMP/hook.log" || fail "$(cat "$TMP/hook.log")"
after=$(sql "$requested")
[ "$after" -gt "$before" ] || fail "no checkpoint was requested ($before -> $after)"
# Nothing is locked: a write goes through at once.
timeout 10 runuser -u postgres -- psql -X -q -c 'INSERT INTO x VALUES (1)' || fail "a write was held up"

echo "== thaw: nothing to do"
dispatch thaw >/dev/null || fail thaw
grep -q "10-postgresql-checkpoint: stdout: nothing to do at thaw" "$TMP/hook.log" || fail "thaw output"

echo "== no server: nothing to do"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null
STARTED=
dispatch freeze >/dev/null || fail "freeze without a server"
grep -q "no PostgreSQL server answering: nothing to do" "$TMP/hook.log" || fail "$(tail -3 "$TMP/hook.log")"
[ "$(grep -c 'finished with status=0' "$TMP/hook.log")" = 3 ] || fail "statuses: $(grep finished "$TMP/hook.log")"
# Nothing the test started outlives it. These tests are about the hooks (the
# deadline has its own, tests/e2e/deadline.sh): dispatch() arms none.
pgrep -f -- "--deadline-fire=.* --state-dir=$TMP/dstate " >/dev/null && fail "a freeze deadline is left asleep"
echo "PASS"
