#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Redis example hook against a real Redis server (Debian's
# redis-server), started here on a private socket and directory, through
# the real dispatcher: freeze leaves a fresh RDB file (one more finished
# save), twice in a row too; a server that refuses the hook's login is an
# error, not "nothing to do"; with the password file it works; no server
# is nothing to do.
#
# usage: redis.sh FSFREEZE_HOOK EXAMPLES_DIR
set -euo pipefail

BIN=$(readlink -f "$1")
EXAMPLES=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

for tool in redis-server redis-cli; do
    command -v "$tool" >/dev/null || skip "$tool not installed (apt-get install redis-server)"
done

TMP=$(mktemp -d /tmp/fsfreeze-redis.XXXXXX)
SOCK=$TMP/redis.sock
HOOKS=$TMP/hooks
SERVER=

cleanup() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$HOOKS" "$TMP/data"
cp "$EXAMPLES/10-redis-save" "$HOOKS/"
chmod 755 "$HOOKS/10-redis-save"

# No automatic saves: every save counted below is the hook's.
redis-server --port 0 --unixsocket "$SOCK" --dir "$TMP/data" --save "" --appendonly no \
    --logfile "$TMP/redis.log" &
SERVER=$!
cli() { redis-cli -s "$SOCK" "$@"; }
for _ in $(seq 1 200); do
    [ "$(cli PING 2>/dev/null)" = PONG ] && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/redis.log"; fail "the server died"; }
    sleep 0.05
done
[ "$(cli PING)" = PONG ] || fail "the server does not answer"
saves() { cli INFO persistence | tr -d '\r' | sed -n 's/^rdb_saves://p'; }

export REDIS_CLI_OPTS="-s $SOCK" REDIS_AUTH_FILE=$TMP/redis.auth
dispatch() {
    # No freeze deadline: these test the example hooks, some freezes are
    # left unthawed on purpose, and a deadline would outlive the test by
    # 15 minutes (the deadline has its own suites).
    timeout 120 "$BIN" --config="$TMP/none.conf" --state-dir="$TMP/dstate" --no-journal --freeze-deadline=0 \
        -d "$HOOKS" -l "$TMP/hook.log" "$1" >/dev/null 2>&1
}
last_status() { grep -o '10-redis-save finished with status=[0-9]*' "$TMP/hook.log" | tail -1; }

echo "== freeze: a fresh save, twice in a row"
cli SET k v >/dev/null
for round in 1 2; do
    before=$(saves)
    dispatch freeze || fail "freeze $round: exit $?"
    [ "$(last_status)" = "10-redis-save finished with status=0" ] || fail "freeze $round: $(tail -3 "$TMP/hook.log")"
    [ "$(saves)" = $((before + 1)) ] || fail "freeze $round: rdb_saves $before -> $(saves), not one more"
done
[ -s "$TMP/data/dump.rdb" ] || fail "no RDB file after freeze"
[ "$(grep -c 'stdout: snapshot saved to disk' "$TMP/hook.log")" = 2 ] || fail "the saves were not reported"

echo "== a server that refuses the login: an error, not nothing to do"
cli CONFIG SET requirepass s3cret >/dev/null
dispatch freeze || fail "freeze with a refused login: exit $?"
[ "$(last_status)" = "10-redis-save finished with status=1" ] || fail "refused login: $(tail -3 "$TMP/hook.log")"
grep -q "10-redis-save: stderr: Redis refused PING: NOAUTH" "$TMP/hook.log" || fail "no reason given: $(tail -3 "$TMP/hook.log")"

echo "== with the password file: saved"
printf 's3cret\n' >"$REDIS_AUTH_FILE"
chmod 600 "$REDIS_AUTH_FILE"
dispatch freeze || fail "freeze with the password: exit $?"
[ "$(last_status)" = "10-redis-save finished with status=0" ] || fail "with the password: $(tail -3 "$TMP/hook.log")"

echo "== no server: nothing to do"
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=
dispatch freeze || fail "freeze without a server: exit $?"
[ "$(last_status)" = "10-redis-save finished with status=0" ] || fail "no server: $(tail -3 "$TMP/hook.log")"
grep -q "stdout: no Redis server answering: nothing to do" "$TMP/hook.log" || fail "no server: $(tail -3 "$TMP/hook.log")"
# Nothing the test started outlives it. These tests are about the hooks (the
# deadline has its own, tests/e2e/deadline.sh): dispatch() arms none.
pgrep -f -- "--deadline-fire=.* --state-dir=$TMP/dstate " >/dev/null && fail "a freeze deadline is left asleep"
echo "PASS"
