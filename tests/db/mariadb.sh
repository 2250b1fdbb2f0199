#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The MySQL/MariaDB example hook against a real MariaDB server (Debian's
# mariadb-server), started here on a private socket and data directory,
# through the real dispatcher: after freeze a write waits, after thaw it
# completes, and the freeze returned at once although the client holding
# the lock runs on. Also: thaw twice, thaw without freeze, a server that is
# not running.
#
# usage: mariadb.sh FSFREEZE_HOOK EXAMPLES_DIR
set -euo pipefail

BIN=$(readlink -f "$1")
EXAMPLES=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (the server runs as root here)"
for tool in mariadbd mariadb-install-db mariadb mariadb-admin; do
    command -v "$tool" >/dev/null || skip "$tool not installed (apt-get install mariadb-server)"
done

TMP=$(mktemp -d /tmp/fsfreeze-mariadb.XXXXXX)
DATA=$TMP/data
SOCK=$TMP/mysqld.sock
HOOKS=$TMP/hooks
SERVER=

cleanup() {
    # Whatever happened, release the lock and stop the server.
    pkill -f "fsfreeze-hook-test-$TMP" 2>/dev/null || true
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$HOOKS"
cp "$EXAMPLES/10-mysql-flush-lock" "$HOOKS/"
chmod 755 "$HOOKS/10-mysql-flush-lock"

mariadb-install-db --no-defaults --user=root --datadir="$DATA" --auth-root-authentication-method=socket \
    >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "mariadb-install-db"; }
mariadbd --no-defaults --user=root --datadir="$DATA" --socket="$SOCK" --skip-networking \
    --pid-file="$TMP/mysqld.pid" --log-error="$TMP/mysqld.err" &
SERVER=$!

# The credentials file, as an administrator would write it.
printf '[client]\nuser=root\nsocket=%s\n' "$SOCK" >"$TMP/backup.cnf"
chmod 600 "$TMP/backup.cnf"
sql() { mariadb --defaults-extra-file="$TMP/backup.cnf" --batch --skip-column-names -e "$1"; }

for _ in $(seq 1 300); do
    mariadb-admin --defaults-extra-file="$TMP/backup.cnf" ping >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/mysqld.err"; fail "the server died"; }
    sleep 0.1
done
sql 'SELECT 1' >/dev/null || fail "the server does not answer"
sql 'CREATE DATABASE t; CREATE TABLE t.x (i INT) ENGINE=InnoDB; CREATE TABLE t.m (i INT) ENGINE=MyISAM'

export MYSQL_DEFAULTS_FILE=$TMP/backup.cnf MYSQL_STATE_DIR=$TMP/state MYSQL_LOCK_TIMEOUT=20
dispatch() {
    # Read to EOF, as qemu-ga 9.1+ does: it must end when the dispatcher
    # exits, although the lock holder runs on.
    timeout 60 "$BIN" --config="$TMP/none.conf" --state-dir="$TMP/dstate" --no-journal \
        -d "$HOOKS" -l "$TMP/hook.log" "$1" 2>&1
}

echo "== freeze"
out=$(dispatch freeze) || fail "freeze: exit $?: $out"
[ -f "$TMP/state/client.pid" ] || fail "no lock holder after freeze: $(cat "$TMP/hook.log")"
holder=$(cat "$TMP/state/client.pid")
kill -0 "$holder" 2>/dev/null || fail "no client holds the lock after freeze"
grep -q "10-mysql-flush-lock: stdout: tables flushed and read-locked until thaw" "$TMP/hook.log" ||
    fail "the hook did not report the lock: $(cat "$TMP/hook.log")"

echo "== a write waits"
sql 'INSERT INTO t.x VALUES (1)' &
writer=$!
state=
for _ in $(seq 1 200); do
    state=$(sql "SELECT state FROM information_schema.processlist WHERE info LIKE 'INSERT INTO t.x%'" || true)
    # MySQL says "global read lock"; MariaDB 10.4+, which takes it as a
    # backup lock, says "backup lock".
    case $state in "Waiting for global read lock" | "Waiting for backup lock") break ;; esac
    sleep 0.05
done
case $state in
"Waiting for global read lock" | "Waiting for backup lock") ;;
*) fail "the write did not wait for the lock (state '$state')" ;;
esac
kill -0 "$writer" 2>/dev/null || fail "the write finished while frozen"
# Reads go on.
[ "$(sql 'SELECT COUNT(*) FROM t.x')" = 0 ] || fail "a read did not go through"

echo "== thaw: the write completes"
out=$(dispatch thaw) || fail "thaw: exit $?: $out"
wait "$writer" || fail "the write failed after thaw"
[ "$(sql 'SELECT COUNT(*) FROM t.x')" = 1 ] || fail "the row is missing after thaw"
kill -0 "$holder" 2>/dev/null && fail "the lock holder still runs after thaw"
grep -q "10-mysql-flush-lock: stdout: tables unlocked" "$TMP/hook.log" || fail "thaw did not report the unlock"

echo "== thaw again, and thaw without freeze: nothing to release, exit 0"
dispatch thaw >/dev/null || fail "second thaw failed"
[ "$(grep -c 'no lock held: nothing to release' "$TMP/hook.log")" = 1 ] || fail "second thaw: $(tail -3 "$TMP/hook.log")"

echo "== a freeze never thawed releases its lock at the next freeze, and by itself"
MYSQL_MAX_LOCKED=2 dispatch freeze >/dev/null
holder=$(cat "$TMP/state/client.pid")
dispatch freeze >/dev/null
grep -q "a lock from an earlier freeze is still held: releasing it first" "$TMP/hook.log" ||
    fail "the stale lock was not released"
kill -0 "$holder" 2>/dev/null && fail "the earlier lock holder still runs"
dispatch thaw >/dev/null
MYSQL_MAX_LOCKED=1 dispatch freeze >/dev/null
holder=$(cat "$TMP/state/client.pid")
for _ in $(seq 1 100); do kill -0 "$holder" 2>/dev/null || break; sleep 0.05; done
kill -0 "$holder" 2>/dev/null && fail "the lock outlived MYSQL_MAX_LOCKED"
sql 'INSERT INTO t.x VALUES (2)' || fail "writes still blocked after MYSQL_MAX_LOCKED"
dispatch thaw >/dev/null

echo "== a server that is not running: nothing to do, exit 0"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
out=$(dispatch freeze) || fail "freeze without server: $out"
grep -q "no MySQL/MariaDB server running: nothing to do" "$TMP/hook.log" || fail "$(tail -3 "$TMP/hook.log")"
grep -q "10-mysql-flush-lock finished with status=0" "$TMP/hook.log" || fail "status"
echo "PASS"
