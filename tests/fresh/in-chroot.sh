#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run by demo-chroot.sh as root inside a fresh Debian 12 root, in the tree
# under test: what a new user does first, following README.md, and what
# they read next.
#   0. CI (.ci/run) runs the README's second command, the tests.
#   1. The README's first command passes and shows freeze and thaw run on
#      the example hooks, on a machine without the test packages.
#   2. The man pages the README points at exist once it has run, and read
#      well (no @PLACEHOLDER@ left).
#   3. A set-up that fails says which step failed and why (here: meson,
#      cmocka missing), and the half-configured build/ it leaves does not
#      break the README's first command.
# usage: in-chroot.sh TREE
set -u
cd "$1" || exit 1

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Prints OUTPUT_FILE, indented, and checks it has a line matching the
# extended regular expression.
expect_line() {
    grep -Eq -- "$2" "$1" || fail "$3: no line matching '$2'"
}

first_command=$(sed -n '/^## Try it/,/^## /{/^```sh$/{n;p;q}}' README.md)
[ -n "$first_command" ] || { echo "FAIL: no command under '## Try it' in README.md"; exit 1; }
# CI (.ci/run) runs exactly the README's second command, the tests.
test_command=$(sed -n '/^## Try it/,/^## /{/^```sh$/{n;p}}' README.md | sed -n 2p)
ci_command=$(sed -n 's/^exec //p' .ci/run)
if [ -z "$test_command" ] || [ "$ci_command" != "$test_command" ]; then
    fail ".ci/run runs '$ci_command', README.md says '$test_command'"
fi

echo "== 1. the README's first command: $first_command"
if dpkg-query -W -f='${Status}\n' libcmocka-dev 2>/dev/null | grep -q 'install ok installed'; then
    fail "libcmocka-dev is installed: this root is not a machine without the test packages"
fi
rc=0
sh -c "$first_command" >/tmp/first.out 2>&1 || rc=$?
sed 's/^/    /' /tmp/first.out
[ "$rc" = 0 ] || fail "'$first_command' exited with status $rc"
expect_line /tmp/first.out '^freeze: exit 0$' "$first_command"
expect_line /tmp/first.out '^thaw: exit 0$' "$first_command"
expect_line /tmp/first.out ': execute .*/00-template freeze$' "the freeze in the log"
expect_line /tmp/first.out ': freeze: done in .*: [1-9][0-9]* run, 0 failed$' "the freeze in the log"
expect_line /tmp/first.out ': execute .*/00-template thaw$' "the thaw in the log"
expect_line /tmp/first.out ': thaw: done in .*: [1-9][0-9]* run, 0 failed$' "the thaw in the log"

echo "== 2. the man pages the README points at"
# (Lines joined first: a pointer may be wrapped.)
pages=$(tr '\n' ' ' <README.md | grep -o 'man -l [^`]*' | sed 's/^man -l //' | sort -u)
[ -n "$pages" ] || fail "README.md points at no man page (man -l PATH)"
for p in $pages; do
    if [ ! -f "$p" ]; then
        fail "README.md points at $p, which '$first_command' did not make"
    elif grep -q '@[A-Z_]*@' "$p"; then
        fail "$p has unreplaced placeholders: $(grep -o '@[A-Z_]*@' "$p" | sort -u | tr '\n' ' ')"
    else
        echo "    $p"
    fi
done

echo "== 3. a failed set-up names its step and does not break the next try"
if command -v meson >/dev/null; then
    rm -rf build
    rc=0
    .ci/configure build -Dtests=enabled >/tmp/setup.out 2>&1 || rc=$?
    sed 's/^/    /' /tmp/setup.out
    [ "$rc" != 0 ] || fail "meson setup -Dtests=enabled passed without cmocka"
    expect_line /tmp/setup.out 'meson setup build .*failed' "the failed set-up"
    expect_line /tmp/setup.out 'cmocka' "the failed set-up"
    # What a failed 'meson setup' leaves, as the old tests/demo left it.
    rm -rf build
    meson setup build -Dtests=enabled >/dev/null 2>&1 && fail "meson setup -Dtests=enabled passed without cmocka"
    [ -d build/meson-private ] || fail "a failed meson setup left no half-configured build/ to try"
    rc=0
    sh -c "$first_command" >/tmp/again.out 2>&1 || rc=$?
    sed 's/^/    /' /tmp/again.out
    [ "$rc" = 0 ] || fail "'$first_command' after a failed set-up exited with status $rc"
    expect_line /tmp/again.out ': thaw: done in .*: [1-9][0-9]* run, 0 failed$' "$first_command after a failed set-up"
else
    fail "no meson after '$first_command'"
fi

[ "$failures" = 0 ] || exit 1
echo "PASS"
