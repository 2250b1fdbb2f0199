#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# End to end with the real qemu-ga (Debian's qemu-guest-agent, run as a
# plain process) around a real FIFREEZE.
#
# SAFETY: everything happens in a private mount namespace, and the only
# filesystem ever frozen is a loop-mounted ext4 image made here: qemu-ga
# only ever gets guest-fsfreeze-freeze-list with that one mountpoint, and an
# EXIT trap thaws it whatever happens.
#
# usage: qemu-ga.sh FSFREEZE_HOOK_BINARY QGA_CMD_BINARY
set -euo pipefail

BIN=$(readlink -f "$1")
QGA_CMD=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, loop device)"
for tool in qemu-ga unshare mkfs.ext4 fsfreeze mount; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install qemu-guest-agent e2fsprogs util-linux)"
done

# Re-run inside a private mount namespace: the loop mount, the tmpfs over
# /var/log (so the default log path lands there) and over /run (so no real
# journald gets our test entries) are invisible to the rest of the machine.
if [ -z "${FSFREEZE_E2E_IN_NS:-}" ]; then
    FSFREEZE_E2E_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/fsfreeze-e2e.XXXXXX)
MNT=$TMP/mnt
QGA_PID=

cleanup() {
    # Thaw first: a process blocked on a frozen filesystem cannot be
    # killed, only released.
    fsfreeze -u "$MNT" 2>/dev/null || true
    [ -n "$QGA_PID" ] && kill "$QGA_PID" 2>/dev/null || true
    umount "$MNT" 2>/dev/null || true
    umount /etc 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

mount -t tmpfs -o mode=0755 tmpfs /var/log   # as a real /var/log; a tmpfs is 1777
mount -t tmpfs -o mode=0755 tmpfs /run   # as a real /run: a 1777 one is not trusted
# /etc through an overlay: the configuration at its default path lands in
# $TMP, the machine's /etc is untouched.
mkdir -p "$TMP/etc-upper" "$TMP/etc-work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$TMP/etc-upper,workdir=$TMP/etc-work" /etc 2>/dev/null ||
    skip "overlayfs is not available (needed to configure the dispatcher without touching /etc)"
CONF=/etc/qemu-ga/fsfreeze-hook.conf
mkdir -p /etc/qemu-ga

mkdir -p "$MNT" "$TMP/etc/fsfreeze-hook.d" "$TMP/state"
truncate -s 64M "$TMP/img"
mkfs.ext4 -q "$TMP/img"
mount -o loop "$TMP/img" "$MNT" 2>/dev/null || skip "cannot loop-mount an image here (no loop devices?)"

# Installed as users install it: the hook path qemu-ga runs is a symlink to
# the binary, with fsfreeze-hook.d beside it and the default log path.
ln -s "$BIN" "$TMP/etc/fsfreeze-hook"
HOOKS=$TMP/etc/fsfreeze-hook.d
RECORD=$TMP/record
cat > "$HOOKS/10-writer" <<HOOK
#!/bin/sh
# Writes into the filesystem qemu-ga freezes: before the freeze and after
# the thaw this must not block.
echo "10-writer \$1" >> "$RECORD"
echo "\$1" >> "$MNT/written-by-hook"
HOOK
cat > "$HOOKS/20-fails" <<HOOK
#!/bin/sh
echo "20-fails \$1" >> "$RECORD"
echo "this hook fails on purpose" >&2
exit 1
HOOK
cat > "$HOOKS/30-recorder" <<HOOK
#!/bin/sh
echo "30-recorder \$1" >> "$RECORD"
HOOK
chmod 755 "$HOOKS"/*

qemu-ga -m unix-listen -p "$TMP/qga.sock" -F"$TMP/etc/fsfreeze-hook" \
    -t "$TMP/state" -f "$TMP/qga.pid" -l "$TMP/qga.log" &
QGA_PID=$!

qga() { "$QGA_CMD" -t 60 "$TMP/qga.sock" "$1"; }

# Wait for the agent's socket, with a deadline.
for _ in $(seq 1 100); do
    [ -S "$TMP/qga.sock" ] && qga '{"execute":"guest-ping"}' >/dev/null 2>&1 && break
    sleep 0.1
done
qga '{"execute":"guest-ping"}' >/dev/null || fail "qemu-ga does not answer"

echo "== freeze $MNT"
reply=$(qga "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"$MNT\"]}}") ||
    fail "guest-fsfreeze-freeze-list failed although only a hook failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one frozen filesystem, got $reply"
status=$(qga '{"execute":"guest-fsfreeze-status"}')
[ "$status" = '{"return": "frozen"}' ] || fail "status after freeze: $status"

# The freeze hooks ran before FIFREEZE: their write is there.
grep -qx freeze "$MNT/written-by-hook" || fail "the freeze hook's write is missing"

# A write now blocks (uninterruptible, in the kernel) until the thaw.
( echo blocked > "$MNT/blocked-write" ) &
writer=$!
state=
for _ in $(seq 1 100); do
    state=$(sed 's/.*) //' "/proc/$writer/stat" 2>/dev/null | cut -d' ' -f1) || true
    [ "$state" = D ] && break
    sleep 0.05
done
[ "$state" = D ] || fail "a write to the frozen filesystem did not block (state '$state')"
[ ! -s "$MNT/blocked-write" ] || fail "a write went through while frozen"

echo "== thaw"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "thaw failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one thawed filesystem, got $reply"
wait "$writer" || fail "the blocked write failed after the thaw"
grep -qx blocked "$MNT/blocked-write" || fail "the blocked write did not complete"
# The thaw hooks ran after FITHAW: their write into the filesystem went through.
grep -qx thaw "$MNT/written-by-hook" || fail "the thaw hook's write is missing"

echo "== order"
expected="10-writer freeze
20-fails freeze
30-recorder freeze
30-recorder thaw
20-fails thaw
10-writer thaw"
[ "$(cat "$RECORD")" = "$expected" ] || fail "hooks ran in this order:
$(cat "$RECORD")"

echo "== log"
LOG=/var/log/qga-fsfreeze-hook.log
[ -f "$LOG" ] || fail "no log at the default path $LOG"
cat "$LOG"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}'
grep -Eq "^$ts: execute $HOOKS/10-writer freeze$" "$LOG" || fail "no execute line"
grep -Eq "^$ts: $HOOKS/20-fails finished with status=1 in [0-9.]+ s$" "$LOG" || fail "no status=1 line"
grep -Eq "^$ts: 20-fails: stderr: this hook fails on purpose$" "$LOG" || fail "stderr not captured"
[ "$(grep -c 'finished with status=0' "$LOG")" = 4 ] || fail "expected 4 successful runs"
if grep -v -E "^$ts: " "$LOG"; then fail "lines without a timestamp"; fi

# qemu-ga's own view: no hook failure reported.
if grep -i "hook.*fail" "$TMP/qga.log"; then fail "qemu-ga reported a hook failure"; fi

echo "== on-failure=abort: the failing hook fails the freeze, and what froze is thawed"
printf '[fsfreeze-hook]\non-failure=abort\n' > "$CONF"
: > "$RECORD"
if reply=$(qga "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"$MNT\"]}}"); then
    fail "the freeze succeeded although a hook failed under on-failure=abort: $reply"
fi
echo "qemu-ga: $reply"
case $reply in *'"error"'*hook*) ;; *) fail "expected qemu-ga's hook failure error, got $reply" ;; esac
status=$(qga '{"execute":"guest-fsfreeze-status"}')
[ "$status" = '{"return": "thawed"}' ] || fail "status after an aborted freeze: $status"
expected="10-writer freeze
20-fails freeze
20-fails thaw
10-writer thaw"
[ "$(cat "$RECORD")" = "$expected" ] || fail "abort ran, in this order:
$(cat "$RECORD")"
# Nothing is frozen: a write goes through at once.
echo after-abort > "$MNT/after-abort"
grep -q "freeze: aborted in " "$LOG" || fail "the abort is not in the log"
"$BIN" --status | grep -q "aborted by on-failure=abort" || fail "--status does not show the abort"
"$BIN" --status | grep -q "Awaiting thaw: no" || fail "--status shows a freeze awaiting thaw after an abort"
echo "PASS"
