#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A VM migrated from VMware, end to end (issue 13): the real qemu-ga around a
# real FIFREEZE, with platform-scripts=vmware. The VMware scripts sit
# untouched at their real paths, /usr/sbin/pre-freeze-script,
# /usr/sbin/post-thaw-script and /etc/vmware-tools/backupScripts.d/*, and
# must run as vmtoolsd runs them (open-vm-tools
# services/plugins/vmbackup/scriptOps.c:49-55, 89-103, 136-166, 476-538;
# see tests/platform-sources.md section 1): legacy first and last, the
# directory in byte order and reversed at thaw, one argument
# freeze|thaw|freezeFail, a file without #! run by bash
# (lib/procMgr/procMgrPosix.c:1694-1757 runs `bash -c`); freezeFail to what
# froze when a later hook fails under on-failure=abort
# (stateMachine.c:476-481) and when the freeze deadline fires
# (stateMachine.c VmBackupDoAbort).
#
# SAFETY: as tests/e2e/qemu-ga.sh: everything happens in a private mount
# namespace, and the only filesystem ever frozen is a loop-mounted ext4
# image made here: qemu-ga only ever gets guest-fsfreeze-freeze-list with
# that one mountpoint, and an EXIT trap thaws it whatever happens. /usr/sbin
# and /etc are overlays inside the namespace only: the machine's are never
# written.
#
# usage: migrated.sh FSFREEZE_HOOK_BINARY QGA_CMD_BINARY
set -euo pipefail

BIN=$(readlink -f "$1")
QGA_CMD=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, loop device)"
for tool in qemu-ga unshare mkfs.ext4 fsfreeze mount bash; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install qemu-guest-agent e2fsprogs util-linux)"
done

if [ -z "${FSFREEZE_E2E_IN_NS:-}" ]; then
    FSFREEZE_E2E_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/fsfreeze-e2e.XXXXXX)
MNT=$TMP/mnt
STATE=/run/fsfreeze-hook
QGA_PID=

cleanup() {
    # Thaw first: a process blocked on a frozen filesystem cannot be
    # killed, only released.
    fsfreeze -u "$MNT" 2>/dev/null || true
    [ -n "$QGA_PID" ] && { kill -KILL "$QGA_PID"; wait "$QGA_PID"; } 2>/dev/null || true
    if [ -f "$STATE/deadline" ]; then
        pid=$(sed -n 's/^pid=//p' "$STATE/deadline")
        if [ -n "$pid" ] && tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- '^--deadline-fire='; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    umount "$MNT" 2>/dev/null || true
    umount /usr/sbin 2>/dev/null || true
    umount /etc 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

mount -t tmpfs -o mode=0755 tmpfs /var/log   # as a real /var/log; a tmpfs is 1777
mount -t tmpfs -o mode=0755 tmpfs /run   # as a real /run: a 1777 one is not trusted
# /etc and /usr/sbin through overlays: the configuration and the VMware
# scripts land in $TMP at their real paths; the machine's are untouched.
mkdir -p "$TMP/etc-upper" "$TMP/etc-work" "$TMP/sbin-upper" "$TMP/sbin-work"
chmod 0755 "$TMP/etc-upper" "$TMP/sbin-upper"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$TMP/etc-upper,workdir=$TMP/etc-work" /etc 2>/dev/null ||
    skip "overlayfs is not available (needed to place the scripts without touching /etc)"
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$TMP/sbin-upper,workdir=$TMP/sbin-work" /usr/sbin ||
    fail "cannot put an overlay over /usr/sbin in the private namespace"
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

# The VM's VMware scripts, as an administrator wrote them for vmtoolsd:
# they know nothing of fsfreeze-hook. The legacy freeze script has no #!
# line (vmtoolsd's bash runs it as a shell script). Each records its
# argument count and arguments: vmtoolsd >= 12.3.5 passes exactly one.
cat > /usr/sbin/pre-freeze-script <<SCRIPT
echo "pre-freeze-script \$# \$*" >> "$RECORD"
echo pre-freeze >> "$MNT/written-by-vmware"
SCRIPT
cat > /usr/sbin/post-thaw-script <<SCRIPT
#!/bin/sh
echo "post-thaw-script \$# \$*" >> "$RECORD"
SCRIPT
mkdir -p /etc/vmware-tools/backupScripts.d
for name in 10-app 20-db; do
    cat > "/etc/vmware-tools/backupScripts.d/$name" <<SCRIPT
#!/bin/sh
case "\$1" in
freeze|thaw|freezeFail) echo "$name \$# \$*" >> "$RECORD" ;;
*) echo "unknown operation \$1" >&2; exit 1 ;;
esac
SCRIPT
done
chmod 0755 /usr/sbin/pre-freeze-script /usr/sbin/post-thaw-script /etc/vmware-tools/backupScripts.d/*

cat > "$HOOKS/10-writer" <<HOOK
#!/bin/sh
echo "10-writer \$1 reason=\${FSFREEZE_THAW_REASON-}" >> "$RECORD"
echo "\$1" >> "$MNT/written-by-hook"
HOOK
chmod 755 "$HOOKS"/*

qga() { "$QGA_CMD" -t 60 "$TMP/qga.sock" "$1"; }
mkdir -p "$TMP/qga-state"
qemu-ga -m unix-listen -p "$TMP/qga.sock" -F"$TMP/etc/fsfreeze-hook" \
    -t "$TMP/qga-state" -f "$TMP/qga.pid" -l "$TMP/qga.log" &
QGA_PID=$!
for _ in $(seq 1 100); do
    [ -S "$TMP/qga.sock" ] && qga '{"execute":"guest-ping"}' >/dev/null 2>&1 && break
    sleep 0.1
done
qga '{"execute":"guest-ping"}' >/dev/null || fail "qemu-ga does not answer"

freeze_list() { qga "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"$MNT\"]}}"; }

echo "== off by default: listed, not run"
printf '[fsfreeze-hook]\nfreeze-deadline=0\n' > "$CONF"
"$TMP/etc/fsfreeze-hook" --dry-run freeze | tee "$TMP/dry"
grep -q "VMware Tools quiesce scripts are present but not run (3): platform-scripts=vmware runs them" "$TMP/dry" ||
    fail "--dry-run does not list the VMware scripts that are present"

echo "== freeze and thaw: the VMware scripts outside, our hooks next to the freeze"
printf '[fsfreeze-hook]\nplatform-scripts=vmware\nfreeze-deadline=0\n' > "$CONF"
reply=$(freeze_list) || fail "guest-fsfreeze-freeze-list failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one frozen filesystem, got $reply"
grep -qx pre-freeze "$MNT/written-by-vmware" || fail "pre-freeze-script's write is missing"
# A write now blocks until the thaw: the scripts ran before FIFREEZE.
( echo blocked > "$MNT/blocked-write" ) &
writer=$!
state=
for _ in $(seq 1 100); do
    state=$(sed 's/.*) //' "/proc/$writer/stat" 2>/dev/null | cut -d' ' -f1) || true
    [ "$state" = D ] && break
    sleep 0.05
done
[ "$state" = D ] || fail "a write to the frozen filesystem did not block (state '$state')"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "thaw failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one thawed filesystem, got $reply"
wait "$writer" || fail "the blocked write failed after the thaw"
expected="pre-freeze-script 1 freeze
10-app 1 freeze
20-db 1 freeze
10-writer freeze reason=
10-writer thaw reason=thaw
20-db 1 thaw
10-app 1 thaw
post-thaw-script 1 thaw"
[ "$(cat "$RECORD")" = "$expected" ] || fail "ran in this order:
$(cat "$RECORD")"
cat "$LOG"
grep -q "execute /etc/vmware-tools/backupScripts.d/10-app freeze$" "$LOG" ||
    fail "the log does not name the backupScripts.d script it ran"

echo "== on-failure=abort: a later hook fails; freezeFail reaches the VMware scripts that froze"
cat > "$HOOKS/20-fails" <<HOOK
#!/bin/sh
echo "20-fails \$1 reason=\${FSFREEZE_THAW_REASON-}" >> "$RECORD"
[ "\$1" = freeze ] && exit 1
exit 0
HOOK
chmod 755 "$HOOKS/20-fails"
printf '[fsfreeze-hook]\nplatform-scripts=vmware\non-failure=abort\nfreeze-deadline=0\n' > "$CONF"
: > "$RECORD"
if reply=$(freeze_list); then
    fail "the freeze succeeded although a hook failed under on-failure=abort: $reply"
fi
status=$(qga '{"execute":"guest-fsfreeze-status"}')
[ "$status" = '{"return": "thawed"}' ] || fail "status after an aborted freeze: $status"
expected="pre-freeze-script 1 freeze
10-app 1 freeze
20-db 1 freeze
10-writer freeze reason=
20-fails freeze reason=
20-fails thaw reason=abort
10-writer thaw reason=abort
20-db 1 freezeFail
10-app 1 freezeFail
post-thaw-script 1 freezeFail"
[ "$(cat "$RECORD")" = "$expected" ] || fail "abort ran, in this order:
$(cat "$RECORD")"
echo after-abort > "$MNT/after-abort"
rm "$HOOKS/20-fails"

echo "== the freeze deadline fires: the VMware scripts get freezeFail"
printf '[fsfreeze-hook]\nplatform-scripts=vmware\nfreeze-deadline=3\n' > "$CONF"
: > "$RECORD"
reply=$(freeze_list) || fail "guest-fsfreeze-freeze-list failed: $reply"
[ "$reply" = '{"return": 1}' ] || fail "expected one frozen filesystem, got $reply"
for _ in $(seq 1 1200); do
    grep -q "^post-thaw-script " "$RECORD" && break
    sleep 0.05
done
for _ in $(seq 1 1200); do
    grep -q 'and no thaw came: thawed' "$LOG" && break
    sleep 0.05
done
expected="pre-freeze-script 1 freeze
10-app 1 freeze
20-db 1 freeze
10-writer freeze reason=
10-writer thaw reason=deadline
20-db 1 freezeFail
10-app 1 freezeFail
post-thaw-script 1 freezeFail"
[ "$(cat "$RECORD")" = "$expected" ] || fail "the deadline ran, in this order:
$(cat "$RECORD")"
echo after-deadline > "$MNT/after-deadline"
reply=$(qga '{"execute":"guest-fsfreeze-thaw"}') || fail "the late thaw failed: $reply"
[ "$(cat "$RECORD")" = "$expected" ] || fail "the late thaw ran scripts again:
$(cat "$RECORD")"
echo "PASS"
