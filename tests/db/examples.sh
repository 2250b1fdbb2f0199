#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every example hook: shellcheck-clean as POSIX sh, exit 2 with a usage line
# for a wrong argument, exit 0 with a clear "nothing to do" where its
# application is absent, and a thaw that is safe without a freeze. The
# stop/start example's logic against a stand-in systemctl; the MongoDB
# example's credentials kept off mongosh's command line.
#
# usage: examples.sh EXAMPLES_DIR
set -euo pipefail

EXAMPLES=$(readlink -f "$1")
fail() { echo "FAIL: $*"; exit 1; }

TMP=$(mktemp -d /tmp/fsfreeze-examples.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

hooks=$(find "$EXAMPLES" -maxdepth 1 -type f -perm -u+x | sort)
[ -n "$hooks" ] || fail "no example hooks in $EXAMPLES"

if command -v shellcheck >/dev/null; then
    echo "== shellcheck"
    # shellcheck disable=SC2086
    shellcheck -s sh $hooks || fail "shellcheck"
else
    echo "shellcheck not installed: not checked (apt-get install shellcheck)"
fi

# A PATH with the basic tools but none of the applications' clients.
mkdir "$TMP/bin"
for tool in sh cat rm mkdir mkfifo sleep timeout grep sed tr id kill printf; do
    p=$(command -v "$tool") && ln -s "$p" "$TMP/bin/$tool"
done

for hook in $hooks; do
    name=${hook##*/}
    echo "== $name"
    if "$hook" bogus >"$TMP/out" 2>"$TMP/err"; then fail "$name accepted 'bogus'"; else rc=$?; fi
    [ "$rc" = 2 ] || fail "$name: exit $rc for a wrong argument, not 2"
    grep -q "usage: " "$TMP/err" || fail "$name: no usage line on stderr"
    case $name in *stop-start*) continue ;; esac
    for phase in freeze thaw thaw; do
        PATH=$TMP/bin MYSQL_STATE_DIR=$TMP/mysql "$hook" "$phase" >"$TMP/out" 2>&1 ||
            fail "$name $phase without its application: exit $?: $(cat "$TMP/out")"
        [ -s "$TMP/out" ] || fail "$name $phase said nothing"
    done
done

echo "== 20-mariadb-stop-start against a stand-in systemctl"
cat >"$TMP/bin/systemctl" <<'STUB'
#!/bin/sh
echo "$*" >> "$STUB_LOG"
case $1 in
is-active) [ -e "$STUB_ACTIVE" ] && { [ "$2" = --quiet ] || echo active; exit 0; }; [ "$2" = --quiet ] || echo inactive; exit 3 ;;
stop) rm -f "$STUB_ACTIVE" ;;
start) : > "$STUB_ACTIVE" ;;
esac
STUB
chmod 755 "$TMP/bin/systemctl"
export STUB_LOG=$TMP/calls STUB_ACTIVE=$TMP/active MARIADB_MARKER_DIR=$TMP
run() { PATH=$TMP/bin:$PATH "$EXAMPLES/20-mariadb-stop-start" "$1"; }
: >"$STUB_ACTIVE"
run freeze >/dev/null || fail "freeze"
run thaw >/dev/null || fail "thaw"
run thaw | grep -q "was not stopped by a freeze: nothing to start" || fail "a second thaw started it again"
rm -f "$STUB_ACTIVE"
run freeze | grep -q "is not running: nothing to stop" || fail "freeze of a stopped service"
run thaw >/dev/null
[ ! -e "$STUB_ACTIVE" ] || fail "thaw started a service that freeze had not stopped"
expected="is-active --quiet mariadb.service
stop mariadb.service
start mariadb.service
is-active mariadb.service
is-active --quiet mariadb.service"
[ "$(cat "$STUB_LOG")" = "$expected" ] || fail "systemctl calls:
$(cat "$STUB_LOG")"

echo "== 10-mongodb-fsynclock keeps the connection string off the command line"
# Any local user can read a command line; the password must stay in the
# file. The stand-in records its arguments and answers as a server would.
cat >"$TMP/bin/mongosh" <<'STUB'
#!/bin/sh
printf '%s\n' "$@" >> "$STUB_ARGS"
echo 1
STUB
chmod 755 "$TMP/bin/mongosh"
printf 'mongodb://backup:pa55word@127.0.0.1:27017/admin\n' >"$TMP/mongodb.uri"
export STUB_ARGS=$TMP/mongo-args
for phase in freeze thaw; do
    PATH=$TMP/bin:$PATH MONGODB_URI_FILE=$TMP/mongodb.uri "$EXAMPLES/10-mongodb-fsynclock" "$phase" >/dev/null ||
        fail "mongodb $phase against the stand-in"
done
grep -q "readFileSync('$TMP/mongodb.uri'" "$STUB_ARGS" || fail "the URI file is not read by mongosh: $(cat "$STUB_ARGS")"
if grep -q pa55word "$STUB_ARGS"; then fail "the MongoDB password is on mongosh's command line"; fi
echo "PASS"
