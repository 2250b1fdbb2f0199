#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The MySQL/MariaDB example hook against a real MariaDB server (Debian's
# mariadb-server), started here on a private socket and data directory,
# through the real dispatcher: after freeze a write waits, after thaw it
# completes, and the freeze returned at once although the client holding
# the lock runs on. Also: thaw twice, thaw without freeze, a server that is
# not running, the regressions below.
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
    pkill -f "fsfreeze-hook-mysql-session $TMP" 2>/dev/null || true
    pkill -f -- "--defaults-extra-file=$TMP/backup.cnf" 2>/dev/null || true
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
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
# Alive and not a zombie: a zombie answers kill -0, and here nobody may
# reap the orphans a hook leaves.
alive() { [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ] && kill -0 "$1" 2>/dev/null; }
sql() { mariadb --defaults-extra-file="$TMP/backup.cnf" --batch --skip-column-names -e "$1"; }
# The lock holder's pid, which the hook records once the lock is taken; a
# freeze that did not take it says why in the hook's log.
holder_pid() {
    cat "$TMP/state/client.pid" 2>/dev/null && return
    echo "FAIL: $1: no lock holder recorded; the log ends: $(tail -15 "$TMP/hook.log")" >&2
    return 1
}

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
    # No freeze deadline: these test the example hooks, some freezes are
    # left unthawed on purpose, and a deadline would outlive the test by
    # 15 minutes (the deadline has its own suites).
    timeout 60 "$BIN" --config="$TMP/none.conf" --state-dir="$TMP/dstate" --no-journal --freeze-deadline=0 \
        -d "$HOOKS" -l "$TMP/hook.log" "$1" 2>&1
}

echo "== freeze"
out=$(dispatch freeze) || fail "freeze: exit $?: $out"
[ -f "$TMP/state/client.pid" ] || fail "no lock holder after freeze: $(cat "$TMP/hook.log")"
holder=$(cat "$TMP/state/client.pid")
alive "$holder" || fail "no client holds the lock after freeze"
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
alive "$holder" && fail "the lock holder still runs after thaw"
grep -q "10-mysql-flush-lock: stdout: tables unlocked" "$TMP/hook.log" || fail "thaw did not report the unlock"

echo "== thaw again, and thaw without freeze: nothing to release, exit 0"
dispatch thaw >/dev/null || fail "second thaw failed"
[ "$(grep -c 'no lock held: nothing to release' "$TMP/hook.log")" = 1 ] || fail "second thaw: $(tail -3 "$TMP/hook.log")"

echo "== a freeze never thawed releases its lock at the next freeze, and by itself"
# Long enough that the holder surely still runs when it is read, however
# loaded the machine: the next freeze must end it, not its own limit.
MYSQL_MAX_LOCKED=60 dispatch freeze >/dev/null
holder=$(holder_pid "freeze never thawed") || exit 1
dispatch freeze >/dev/null
grep -q "a lock from an earlier freeze is still held: releasing it first" "$TMP/hook.log" ||
    fail "the stale lock was not released"
alive "$holder" && fail "the earlier lock holder still runs"
dispatch thaw >/dev/null
MYSQL_MAX_LOCKED=1 dispatch freeze >/dev/null
holder=$(holder_pid "freeze with MYSQL_MAX_LOCKED=1") || exit 1
for _ in $(seq 1 100); do alive "$holder" || break; sleep 0.05; done
alive "$holder" && fail "the lock outlived MYSQL_MAX_LOCKED"
sql 'INSERT INTO t.x VALUES (2)' || fail "writes still blocked after MYSQL_MAX_LOCKED"
dispatch thaw >/dev/null

echo "== the hook alone, read to EOF (QEMU's script under qemu-ga 9.1+): returns while the lock holds"
# If the lock session kept the hook's stdout, this would return only when
# the session ends (MYSQL_MAX_LOCKED), and the holder would be gone.
out=$(MYSQL_MAX_LOCKED=30 "$HOOKS/10-mysql-flush-lock" freeze 2>&1) || fail "freeze: $out"
holder=$(holder_pid "the hook alone") || exit 1
alive "$holder" || fail "the command substitution waited for the lock session to end"
"$HOOKS/10-mysql-flush-lock" thaw >/dev/null || fail "thaw after a direct freeze"

echo "== sql_mode=ANSI_QUOTES: the lock is still taken"
mode=$(sql 'SELECT @@GLOBAL.sql_mode')
sql "SET GLOBAL sql_mode='ANSI_QUOTES'"
dispatch freeze >/dev/null
sql "SET GLOBAL sql_mode='$mode'"
grep -q "10-mysql-flush-lock: stdout: tables flushed and read-locked until thaw" <(tail -3 "$TMP/hook.log") ||
    fail "no lock under ANSI_QUOTES: $(tail -4 "$TMP/hook.log")"
dispatch thaw >/dev/null

echo "== a long statement holds the lock off: the server gives up, nothing is left behind"
sql 'UPDATE t.x SET i = SLEEP(60) WHERE i = 1' >/dev/null 2>&1 &
long=$!
for _ in $(seq 1 200); do
    [ "$(sql "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'UPDATE t.x%'")" = 1 ] && break
    sleep 0.05
done
MYSQL_LOCK_TIMEOUT=2 dispatch freeze >/dev/null
grep -q "10-mysql-flush-lock: stderr: FLUSH TABLES WITH READ LOCK failed: ERROR 1205 .*Lock wait timeout" "$TMP/hook.log" ||
    fail "the failed lock was not reported: $(tail -4 "$TMP/hook.log")"
grep -q "10-mysql-flush-lock finished with status=1" "$TMP/hook.log" || fail "status of the failed lock"
[ "$(sql "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'FLUSH TABLES%'")" = 0 ] ||
    fail "FLUSH TABLES WITH READ LOCK still waits on the server, to lock behind the snapshot's back"
pgrep -f "fsfreeze-hook-mysql-session $TMP" >/dev/null && fail "the lock session outlived the failed freeze"
# Writes elsewhere go on while the long statement runs.
sql 'INSERT INTO t.m VALUES (1)' || fail "a write was blocked after the failed freeze"
alive "$long" || fail "the long statement ended too early for this test to mean anything"
sql "KILL QUERY (SELECT id FROM information_schema.processlist WHERE info LIKE 'UPDATE t.x%' LIMIT 1)" 2>/dev/null ||
    kill "$long" 2>/dev/null || true
wait "$long" 2>/dev/null || true

echo "== a stale state directory whose pid now belongs to someone else: thaw does not kill it"
sleep 300 &
bystander=$!
mkdir -p "$TMP/state"
echo "$bystander" >"$TMP/state/session.pid"
echo "$bystander" >"$TMP/state/client.pid"
dispatch thaw >/dev/null
alive "$bystander" || fail "thaw killed an unrelated process"
kill "$bystander"
[ -d "$TMP/state" ] && fail "the stale state directory was kept"

echo "== a server that is not running: nothing to do, exit 0"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
out=$(dispatch freeze) || fail "freeze without server: $out"
grep -q "no MySQL/MariaDB server running: nothing to do" "$TMP/hook.log" || fail "$(tail -3 "$TMP/hook.log")"
grep -q "10-mysql-flush-lock finished with status=0" "$TMP/hook.log" || fail "status"
# Nothing the test started outlives it. These tests are about the hooks (the
# deadline has its own, tests/e2e/deadline.sh): dispatch() arms none.
pgrep -f -- "--deadline-fire=.* --state-dir=$TMP/dstate " >/dev/null && fail "a freeze deadline is left asleep"
echo "PASS"
