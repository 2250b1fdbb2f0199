#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The freeze deadline, end to end, with the real qemu-ga (Debian's
# qemu-guest-agent, run as a plain process) around a real FIFREEZE, and the
# deadline's own process (this machine has no systemd as PID 1; the VM
# suite tests the systemd timer):
# - no thaw from the host: the deadline thaws the filesystem (a blocked
#   write completes by itself) and runs the thaw hooks once; the log and
#   --status say why; the host's late thaw returns and releases nothing;
# - a normal freeze and thaw: the deadline is disarmed, nothing is left;
# - qemu-ga killed with SIGKILL while frozen: the deadline still thaws, and
#   the restarted agent's thaw releases nothing twice.
#
# SAFETY: everything happens in a private mount namespace, and the only
# filesystem ever frozen is a loop-mounted ext4 image made here: qemu-ga
# only ever gets guest-fsfreeze-freeze-list with that one mountpoint. The
# deadline thaws "every filesystem" of this namespace, of which only that
# one is frozen. An EXIT trap thaws it whatever happens.
#
# usage: deadline.sh FSFREEZE_HOOK_BINARY QGA_CMD_BINARY
set -euo pipefail

BIN=$(readlink -f "$1")
QGA_CMD=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, loop device)"
for tool in qemu-ga unshare mkfs.ext4 fsfreeze mount; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install qemu-guest-agent e2fsprogs util-linux)"
done

if [ -z "${FSFREEZE_E2E_IN_NS:-}" ]; then
    FSFREEZE_E2E_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/fsfreeze-deadline.XXXXXX)
MNT=$TMP/mnt
STATE=/run/fsfreeze-hook
QGA_PID=

cleanup() {
    fsfreeze -u "$MNT" 2>/dev/null || true
    # SIGKILL: qemu-ga ignores SIGTERM while it believes the guest frozen,
    # which it does after the deadline thawed it until a thaw comes.
    [ -n "$QGA_PID" ] && kill -KILL "$QGA_PID" 2>/dev/null || true
    # A deadline still armed: its sleeper must not outlive the test.
    if [ -f "$STATE/deadline" ]; then
        pid=$(sed -n 's/^pid=//p' "$STATE/deadline")
        id=$(sed -n 's/^id=//p' "$STATE/deadline")
        if [ -n "$pid" ] && tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qx -- "--deadline-fire=$id"; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    umount "$MNT" 2>/dev/null || true
    umount /etc 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

mount -t tmpfs -o mode=0755 tmpfs /var/log   # as a real /var/log; a tmpfs is 1777
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$TMP/etc-upper" "$TMP/etc-work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$TMP/etc-upper,workdir=$TMP/etc-work" /etc 2>/dev/null ||
    skip "overlayfs is not available (needed to configure the dispatcher without touching /etc)"
CONF=/etc/qemu-ga/fsfreeze-hook.conf
mkdir -p /etc/qemu-ga

mkdir -p "$MNT" "$TMP/etc/fsfreeze-hook.d"
truncate -s 64M "$TMP/img"
mkfs.ext4 -q "$TMP/img"
mount -o loop "$TMP/img" "$MNT" 2>/dev/null || skip "cannot loop-mount an image here (no loop devices?)"

ln -s "$BIN" "$TMP/etc/fsfreeze-hook"
HOOKS=$TMP/etc/fsfreeze-hook.d
RECORD=$TMP/record
LOG=/var/log/qga-fsfreeze-hook.log
cat > "$HOOKS/10-writer" <<HOOK
#!/bin/sh
# Writes into the frozen filesystem on thaw: it blocks unless thawed first.
echo "10-writer \$1" >> "$RECORD"
echo "\$1" >> "$MNT/written-by-hook"
HOOK
cat > "$HOOKS/30-recorder" <<HOOK
#!/bin/sh
echo "30-recorder \$1" >> "$RECORD"
HOOK
chmod 755 "$HOOKS"/*

start_qga() {
    rm -f "$TMP/qga.sock"
    qemu-ga -m unix-listen -p "$TMP/qga.sock" -F"$TMP/etc/fsfreeze-hook" \
        -t "$TMP/qga-state" -f "$TMP/qga.pid" -l "$TMP/qga.log" &
    QGA_PID=$!
    for _ in $(seq 1 100); do
        [ -S "$TMP/qga.sock" ] && qga '{"execute":"guest-ping"}' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "qemu-ga does not answer"
}
mkdir -p "$TMP/qga-state"
qga() { "$QGA_CMD" -t 60 "$TMP/qga.sock" "$1"; }

freeze() {
    local reply
    reply=$(qga "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"$MNT\"]}}") ||
        fail "guest-fsfreeze-freeze-list failed: $reply"
    [ "$reply" = '{"return": 1}' ] || fail "expected one frozen filesystem, got $reply"
}

# Starts a write into the frozen filesystem and waits until it blocks.
WRITER=
blocked_write() {
    ( echo "$1" > "$MNT/$1" ) &
    WRITER=$!
    local state=
    for _ in $(seq 1 100); do
        state=$(sed 's/.*) //' "/proc/$WRITER/stat" 2>/dev/null | cut -d' ' -f1) || true
        [ "$state" = D ] && return 0
        sleep 0.05
    done
    fail "a write to the frozen filesystem did not block (state '$state')"
}

# Waits for the blocked write to complete by itself, at most $1 seconds.
await_write() {
    for _ in $(seq 1 $(($1 * 20))); do
        kill -0 "$WRITER" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$WRITER" 2>/dev/null && fail "the write is still blocked $1 s later: the deadline did not thaw"
    wait "$WRITER" || fail "the blocked write failed"
    grep -qx "$2" "$MNT/$2" || fail "the blocked write did not complete"
}

# Waits until the log has had $1 lines saying the deadline fired (the
# thaw hooks run after the filesystem is thawed: the write completes first).
await_fired() {
    for _ in $(seq 1 1200); do
        [ "$(grep -c 'and no thaw came: thawed' "$LOG" 2>/dev/null)" -ge "$1" ] && return 0
        sleep 0.05
    done
    fail "the deadline's thaw did not finish: $(cat "$LOG")"
}

sleeper_pid() { sed -n 's/^pid=//p' "$STATE/deadline"; }

start_qga

echo "== no thaw: the deadline thaws by itself"
printf '[fsfreeze-hook]\nfreeze-deadline=4\n' > "$CONF"
freeze
grep -q "^mechanism=process$" "$STATE/deadline" || fail "no deadline armed: $(cat "$STATE/deadline" 2>&1)"
"$BIN" --status | grep -q "Freeze deadline: armed" || fail "--status does not show the armed deadline"
blocked_write first
await_write 60 first
await_fired 1
expected="10-writer freeze
30-recorder freeze
30-recorder thaw
10-writer thaw"
[ "$(cat "$RECORD")" = "$expected" ] || fail "hooks ran in this order:
$(cat "$RECORD")"
grep -qx thaw "$MNT/written-by-hook" || fail "the thaw hook's write is missing"
cat "$LOG"
grep -Eq "the guest was frozen for [0-9]+ s and no thaw came: thawed 1 filesystems and released the hooks$" "$LOG" ||
    fail "the log does not say why the guest was thawed"
"$BIN" --status | tee "$TMP/status"
grep -q "Freeze deadline: fired at .*thawed 1 filesystems and released the hooks" "$TMP/status" ||
    fail "--status does not show that the deadline fired"
grep -q "Awaiting thaw: no" "$TMP/status" || fail "--status still awaits a thaw"
json=$("$BIN" --status --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["deadline"]; assert d["fired"] is True and d["thawed_filesystems"] == 1 and d["seconds"] == 4, d' "$json" ||
    fail "--status --json: $json"
# The same document, for the host to read through the agent.
[ "$(cat "$STATE/status.json")" = "$json" ] || fail "status.json differs from --status --json"

echo "== the dry run of the late thaw says what the thaw will do: nothing"
"$BIN" --dry-run thaw | tee "$TMP/dry"
grep -q "^thaw: the freeze deadline already thawed 1 filesystems and released the hooks at .*: a thaw now runs no hook$" \
    "$TMP/dry" || fail "--dry-run thaw does not say that the deadline released everything"
grep -q "^run " "$TMP/dry" && fail "--dry-run thaw lists hooks that the thaw will not run"

echo "== the host's late thaw returns and releases nothing twice"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "the late thaw failed: $reply"
[ "$reply" = '{"return": 0}' ] || fail "expected zero filesystems thawed by qemu-ga, got $reply"
[ "$(cat "$RECORD")" = "$expected" ] || fail "the late thaw ran hooks again:
$(cat "$RECORD")"
grep -q "thaw: the freeze deadline already thawed 1 filesystems and released the hooks at .*: nothing is released twice" "$LOG" ||
    fail "the late thaw does not say that the deadline released the hooks"
"$BIN" --status | grep -q "Late thaw: at " || fail "--status does not show the late thaw"

echo "== a further thaw is a thaw of its own; --status still shows what the deadline did"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "the further thaw failed: $reply"
[ "$(grep -c ' thaw$' "$RECORD")" = 4 ] || fail "the further thaw did not run the thaw hooks as an unpaired thaw:
$(cat "$RECORD")"
"$BIN" --status | grep -q "Freeze deadline: fired at " || fail "--status forgot the deadline after a further thaw"

echo "== a normal freeze and thaw: the deadline is disarmed, nothing is left"
printf '[fsfreeze-hook]\nfreeze-deadline=60\n' > "$CONF"
: > "$RECORD"
freeze
pid=$(sleeper_pid)
id=$(sed -n 's/^id=//p' "$STATE/deadline")
[ -n "$pid" ] && kill -0 "$pid" || fail "no deadline process"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "thaw failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one thawed filesystem, got $reply"
[ ! -e "$STATE/deadline" ] || fail "the deadline is still recorded after the thaw"
for _ in $(seq 1 100); do
    [ -e "/proc/$pid" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" != Z ] || break
    sleep 0.05
done
if [ -e "/proc/$pid" ] && tr '\0' '\n' < "/proc/$pid/cmdline" | grep -qx -- "--deadline-fire=$id"; then
    fail "the deadline's process $pid is still running after the thaw"
fi
[ "$(grep -c ' thaw$' "$RECORD")" = 2 ] || fail "the thaw hooks did not run once each: $(cat "$RECORD")"
"$BIN" --status | grep -q "Freeze deadline: not armed" || fail "--status shows a deadline after the thaw"

echo "== qemu-ga killed with SIGKILL while frozen: the deadline still thaws"
printf '[fsfreeze-hook]\nfreeze-deadline=4\n' > "$CONF"
: > "$RECORD"
freeze
blocked_write second
kill -KILL "$QGA_PID"
wait "$QGA_PID" 2>/dev/null || true
QGA_PID=
await_write 60 second
await_fired 2
[ "$(cat "$RECORD")" = "$expected" ] || fail "hooks ran in this order:
$(cat "$RECORD")"
start_qga
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "the restarted agent's thaw failed: $reply"
echo "restarted qemu-ga's thaw: $reply"
[ "$(cat "$RECORD")" = "$expected" ] || fail "the restarted agent's thaw ran hooks again:
$(cat "$RECORD")"
[ "$(grep -c 'nothing is released twice' "$LOG")" = 2 ] || fail "the second late thaw is not logged"

echo "== a thaw hook the deadline cannot run: it does not say it released the hooks; the late thaw runs it"
printf '[fsfreeze-hook]\nfreeze-deadline=4\n' > "$CONF"
: > "$RECORD"
freeze
# Group-writable after the freeze: the trust policy refuses it, and a
# refused thaw hook stays held.
chmod 775 "$HOOKS/30-recorder"
await_fired 3
grep -Eq "and no thaw came: thawed 1 filesystems; 1 hooks could not be released and stay held for the next thaw$" "$LOG" ||
    fail "the log does not say that a hook stays held: $(tail -5 "$LOG")"
"$BIN" --status | grep -q "Freeze deadline: fired at .*thawed 1 filesystems; hooks are still held" ||
    fail "--status says the deadline released the hooks: $("$BIN" --status)"
chmod 755 "$HOOKS/30-recorder"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "the late thaw failed: $reply"
[ "$(grep -c '^30-recorder thaw$' "$RECORD")" = 1 ] || fail "the late thaw did not run the held hook:
$(cat "$RECORD")"
[ "$(grep -c '^10-writer thaw$' "$RECORD")" = 1 ] || fail "the late thaw ran a released hook again:
$(cat "$RECORD")"

echo "== a freeze run by hand with relative paths: the deadline fires from its working directory"
mkdir -p "$TMP/by-hand/hooks"
cat > "$TMP/by-hand/hooks/10-rel" <<HOOK
#!/bin/sh
echo "10-rel \$1" >> "$TMP/by-hand/record"
HOOK
chmod 755 "$TMP/by-hand/hooks/10-rel"
(cd "$TMP/by-hand" && "$BIN" --config=/dev/null --no-journal -d hooks --state-dir=state -l log \
    --freeze-deadline=1 freeze) || fail "the freeze by hand failed"
for _ in $(seq 1 1200); do
    grep -qx "10-rel thaw" "$TMP/by-hand/record" 2>/dev/null && break
    sleep 0.05
done
[ "$(cat "$TMP/by-hand/record")" = "10-rel freeze
10-rel thaw" ] || fail "the deadline of a freeze by hand did not release its hook: $(cat "$TMP/by-hand/record")"
grep -q "and no thaw came" "$TMP/by-hand/log" || fail "the relative log does not say the deadline fired"
echo "PASS"
