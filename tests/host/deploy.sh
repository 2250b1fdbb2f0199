#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# host/fsfreeze-hook-deploy's error paths, against agents on this machine
# (its whole path runs against a real guest in tests/vm/vm_test.py):
#   - nothing listens on the socket, or the agent accepts and never answers:
#     "agent not answering", within its --timeout;
#   - the real qemu-ga started with guest-exec, or guest-file-*, blocked
#     (-b, as RHEL's default configuration does): it names the disabled
#     commands and stops before it copies or runs anything;
#   - the same through --domain, with a stand-in for virsh that passes the
#     requests to that qemu-ga and reports errors as libvirt does.
# Only guest-sync-delimited, guest-ping and guest-info reach the real
# qemu-ga: the helper checks what is enabled first. Each qemu-ga has its
# own socket and state directory.
#
# usage: deploy.sh SOURCE_DIR
set -euo pipefail

SRC=$(readlink -f "$1")
DEPLOY=$SRC/host/fsfreeze-hook-deploy
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v python3 >/dev/null || skip "python3 is not installed"
TMP=$(mktemp -d /tmp/fsfreeze-deploy.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# expect_fail WHAT PATTERN ARGS...: the helper exits 1, within 30 s,
# printing PATTERN.
expect_fail() {
    local what=$1 pattern=$2 rc=0
    shift 2
    timeout 30 "$DEPLOY" "$@" >"$TMP/out" 2>&1 || rc=$?
    [ "$rc" = 1 ] || { cat "$TMP/out"; fail "$what: exit $rc, not 1"; }
    grep -qF -- "$pattern" "$TMP/out" || { cat "$TMP/out"; fail "$what: no '$pattern'"; }
    echo "ok: $what: $(grep FAILED "$TMP/out")"
}

printf 'Package: x\n' >"$TMP/pkg.deb"
mkdir "$TMP/hooks"

echo "== an agent that does not answer"
expect_fail "no socket" "FAILED: agent not answering: the agent at $TMP/none.sock does not answer" \
    --socket "$TMP/none.sock" --timeout 2
# Accepts the connection, reads, never replies (a hung or absent guest
# agent behind a chardev looks like this).
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(65536)
' "$TMP/mute.sock" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$TMP/mute.sock" ] && break; sleep 0.05; done
start=$(date +%s)
expect_fail "an agent that never replies" "FAILED: agent not answering" --socket "$TMP/mute.sock" --timeout 2 \
    --package "$TMP/pkg.deb"
grep -q "is qemu-guest-agent installed and running in the guest" "$TMP/out" || fail "no hint at the guest's agent"
[ $(($(date +%s) - start)) -lt 15 ] || fail "the helper waited longer than its --timeout allows"

command -v qemu-ga >/dev/null || skip "qemu-ga is not installed (apt-get install qemu-guest-agent): the blocked commands are not tested"

# start_qga NAME BLOCKED: a qemu-ga of our own on $TMP/NAME.sock.
start_qga() {
    mkdir -p "$TMP/$1.state"
    qemu-ga -m unix-listen -p "$TMP/$1.sock" -t "$TMP/$1.state" -f "$TMP/$1.pid" -b "$2" \
        -l "$TMP/$1.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -S "$TMP/$1.sock" ] && return; sleep 0.05; done
    fail "qemu-ga $1 did not create its socket"
}

echo "== the agent's configuration blocks guest-exec"
start_qga noexec guest-exec
expect_fail "guest-exec blocked" "FAILED: the agent's configuration disables guest-exec (qemu-ga" \
    --socket "$TMP/noexec.sock" --package "$TMP/pkg.deb" --hooks "$TMP/hooks"
grep -q "/etc/sysconfig/qemu-ga" "$TMP/out" || fail "no hint where RHEL blocks it"
grep -q "copying" "$TMP/out" && fail "the helper copied the package although it cannot install it"

echo "== the agent's configuration blocks guest-file-*"
start_qga nofile guest-file-open,guest-file-write
expect_fail "guest-file-* blocked" "disables guest-file-open, guest-file-write" \
    --socket "$TMP/nofile.sock" --package "$TMP/pkg.deb"
# Checking alone needs no file commands.
timeout 30 "$DEPLOY" --socket "$TMP/nofile.sock" --timeout 5 >"$TMP/out" 2>&1 || true
grep -q "disables" "$TMP/out" && { cat "$TMP/out"; fail "a check alone asked for the blocked file commands"; }

echo "== through virsh"
mkdir "$TMP/bin"
cat >"$TMP/bin/virsh" <<'FAKE'
#!/usr/bin/env python3
# Stand-in for 'virsh qemu-agent-command DOMAIN --timeout N JSON': the
# domain names a socket in $FAKE_VIRSH_DIR; errors worded as libvirt's.
import importlib.machinery, json, os, sys
args = sys.argv[1:]
assert args[0] == "qemu-agent-command", args
sock = os.path.join(os.environ["FAKE_VIRSH_DIR"], args[1] + ".sock")
if not os.path.exists(sock):
    sys.exit(print("error: Guest agent is not responding: QEMU guest agent is not connected", file=sys.stderr) or 1)
deploy = importlib.machinery.SourceFileLoader("deploy", os.environ["DEPLOY"]).load_module()
reply = deploy.SocketTransport(sock).call(json.loads(args[-1]), float(args[3]))
if "error" in reply:
    print(f"error: internal error: unable to execute QEMU agent command '{json.loads(args[-1])['execute']}': "
          f"{reply['error']['desc']}", file=sys.stderr)
    sys.exit(1)
print(json.dumps(reply))
FAKE
chmod +x "$TMP/bin/virsh"
export FAKE_VIRSH_DIR=$TMP DEPLOY
PATH="$TMP/bin:$PATH" expect_fail "virsh: guest-exec blocked" "FAILED: the agent's configuration disables guest-exec" \
    --domain noexec --package "$TMP/pkg.deb"
PATH="$TMP/bin:$PATH" expect_fail "virsh: the agent not connected" \
    "FAILED: agent not answering: domain gone: Guest agent is not responding" --domain gone
echo PASS
