#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The maintainer scripts' and RPM scriptlets' restart of qemu-ga, as shell,
# on this machine without changing it: the block is the same in every
# script; it finds qemu-guest-agent.service in cgroup v1, v2 and hybrid
# cgroup files and nothing else; from a shell it restarts at once; inside
# the agent's cgroup it hands the restart to systemd-run, once, says so, and
# says what to run when it cannot; the deferred restart waits until the
# agent has run nothing for the delay. systemctl, systemd-run, sleep and the
# restart command are fakes that record their calls.
#
# usage: restart.sh SOURCE_DIR
set -euo pipefail

SRC=$(readlink -f "$1")
fail() { echo "FAIL: $*"; exit 1; }

TMP=$(mktemp -d /tmp/fsfreeze-restart.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The block between the markers; the spec has it twice (%post, %postun).
extract() {
    awk '/^# >>> qemu-ga restart/ { on = 1 } on { print } /^# <<< qemu-ga restart/ { on = 0; print "#---" }' "$1"
}
extract "$SRC/debian/postinst" | sed '/^#---$/d' >"$TMP/block.sh"
[ -s "$TMP/block.sh" ] || fail "no restart block in debian/postinst"
for f in debian/postrm fsfreeze-hook.spec; do
    extract "$SRC/$f" | awk -v out="$TMP/other" '/^#---$/ { n++; next } { print > (out n) }'
    for part in "$TMP"/other*; do
        cmp -s "$TMP/block.sh" "$part" || { diff "$TMP/block.sh" "$part" || true; fail "$f's restart block differs from debian/postinst's"; }
    done
    n=$(find "$TMP" -maxdepth 1 -name 'other*' | wc -l)
    want=1
    [ "$f" = fsfreeze-hook.spec ] && want=2
    [ "$n" = "$want" ] || fail "$f has $n restart blocks, not $want"
    rm -f "$TMP"/other*
done
echo "ok: the restart block is the same in postinst, postrm and the spec's %post and %postun"

# Fakes: each records "name args" in $TMP/calls, one call a line (the
# newlines of an argument as ~).
mkdir "$TMP/bin"
for tool in systemctl systemd-run restart-now; do
    cat >"$TMP/bin/$tool" <<FAKE
#!/bin/sh
printf '%s %s\\n' "$tool" "\$(printf '%s' "\$*" | tr '\\n' '~')" >>"$TMP/calls"
case "$tool \$*" in
"systemctl is-active"*) [ -e "$TMP/pending" ] ;;
"systemd-run"*) [ ! -e "$TMP/systemd-run-fails" ] ;;
"restart-now"*) [ ! -e "$TMP/restart-fails" ] ;;
esac
FAKE
    chmod +x "$TMP/bin/$tool"
done

shells="sh"
command -v bash >/dev/null && shells="$shells bash"
command -v dash >/dev/null && shells="$shells dash"

# in_cgroup SHELL CONTENT: the unit's cgroup the block finds, or "no".
in_cgroup() {
    printf '%b' "$2" >"$TMP/cgroup"
    "$1" -c ". '$TMP/block.sh'; fsfreeze_qga_cgroup '$TMP/cgroup' || echo no"
}

expect_cgroup() {
    local content=$1 want=$2 sh got
    for sh in $shells; do
        got=$(in_cgroup "$sh" "$content")
        [ "$got" = "$want" ] || fail "$sh: for cgroup file '$content' the block finds '$got', not '$want'"
    done
}

QGA=/system.slice/qemu-guest-agent.service
# cgroup v2
expect_cgroup "0::$QGA\n" "$QGA"
expect_cgroup "0::$QGA/sub\n" "$QGA"
expect_cgroup "0::$QGA" "$QGA"      # no final newline
expect_cgroup "0::/system.slice/ssh.service\n" no
expect_cgroup "0::/user.slice/user-0.slice/session-3.scope\n" no
expect_cgroup "0::/system.slice/qemu-guest-agent.service.d\n" no
expect_cgroup "0::/system.slice/my-qemu-guest-agent.service\n" no
expect_cgroup "0::/system.slice/fsfreeze-hook-restart-qga.service\n" no
expect_cgroup "0::/\n" no
expect_cgroup "" no
# cgroup v1: the name=systemd hierarchy decides, not the controllers'.
V1_QGA="12:pids:$QGA\n11:memory:$QGA\n1:name=systemd:$QGA\n"
expect_cgroup "$V1_QGA" "$QGA"
expect_cgroup "12:pids:$QGA\n3:cpu,cpuacct:$QGA\n1:name=systemd:/user.slice/user-0.slice/session-1.scope\n" no
expect_cgroup "12:pids:/\n1:name=systemd:$QGA\n0::/\n" "$QGA"
# hybrid: both the unified and the named hierarchy
expect_cgroup "12:pids:$QGA\n1:name=systemd:$QGA\n0::$QGA\n" "$QGA"
expect_cgroup "1:name=systemd:/system.slice/cron.service\n0::/system.slice/cron.service\n" no
# A missing file: not in the cgroup.
for sh in $shells; do
    got=$("$sh" -c ". '$TMP/block.sh'; fsfreeze_qga_cgroup '$TMP/nonexistent' 2>/dev/null || echo no")
    [ "$got" = no ] || fail "$sh: a missing cgroup file gives '$got'"
done
echo "ok: qemu-guest-agent.service's cgroup found in v1, v2 and hybrid files, nothing else taken for it"

# decide SHELL CGROUP_CONTENT: runs fsfreeze_restart_qga as the maintainer
# scripts do (under set -e); its output in $TMP/out, the calls in $TMP/calls.
decide() {
    printf '%b' "$2" >"$TMP/cgroup"
    rm -f "$TMP/calls"
    PATH="$TMP/bin:$PATH" "$1" -ec ". '$TMP/block.sh'; fsfreeze_until='it runs no hook'
        fsfreeze_restart_qga '$TMP/cgroup' restart-now try-restart qemu-guest-agent.service; echo status=\$?" \
        >"$TMP/out" 2>&1 || fail "$1: fsfreeze_restart_qga failed: $(cat "$TMP/out")"
    touch "$TMP/calls"
}

for sh in $shells; do
    rm -f "$TMP/pending" "$TMP/systemd-run-fails" "$TMP/restart-fails"
    # From a shell: the restart at once, as before.
    decide "$sh" "0::/user.slice/user-0.slice/session-1.scope\n"
    grep -qx "restart-now try-restart qemu-guest-agent.service" "$TMP/calls" || fail "$sh: from a shell, no immediate restart: $(cat "$TMP/calls")"
    grep -q "systemd-run" "$TMP/calls" && fail "$sh: from a shell, the restart was deferred"
    grep -q "restarted qemu-guest-agent" "$TMP/out" || fail "$sh: the immediate restart is not reported: $(cat "$TMP/out")"
    grep -qx "status=0" "$TMP/out" || fail "$sh: not status 0"
    touch "$TMP/restart-fails"
    decide "$sh" "0::/user.slice/user-0.slice/session-1.scope\n"
    grep -q "could not restart qemu-guest-agent: until it restarts, it runs no hook (run: systemctl restart qemu-guest-agent)" \
        "$TMP/out" || fail "$sh: a failed immediate restart is not reported: $(cat "$TMP/out")"
    grep -qx "status=0" "$TMP/out" || fail "$sh: a failed restart fails the script"
    rm -f "$TMP/restart-fails"

    # Through the agent: deferred, never at once.
    decide "$sh" "0::$QGA\n"
    grep -q "^restart-now" "$TMP/calls" && fail "$sh: inside the agent's cgroup the agent was restarted at once"
    run=$(grep "^systemd-run" "$TMP/calls") || fail "$sh: inside the agent's cgroup, no systemd-run: $(cat "$TMP/calls")"
    for want in "--no-block" "--collect" "--unit=fsfreeze-hook-restart-qga" " 10 3600 /proc/uptime restart-now try-restart qemu-guest-agent.service"; do
        grep -qF -- "$want" <<<"$run" || fail "$sh: systemd-run without '$want': $run"
    done
    grep -q "restarting it once it has run nothing for 10 s (fsfreeze-hook-restart-qga.service)" "$TMP/out" ||
        fail "$sh: the deferred restart is not reported: $(cat "$TMP/out")"
    # The delay can be set through the environment (guest-exec's env).
    FSFREEZE_HOOK_RESTART_DELAY=45 decide "$sh" "0::$QGA\n"
    grep -qF " 45 3600 /proc/uptime restart-now" "$TMP/calls" || fail "$sh: FSFREEZE_HOOK_RESTART_DELAY=45 not used: $(cat "$TMP/calls")"
    FSFREEZE_HOOK_RESTART_DELAY=soon decide "$sh" "0::$QGA\n"
    grep -qF " 10 3600 /proc/uptime restart-now" "$TMP/calls" || fail "$sh: a bad delay is not replaced by 10: $(cat "$TMP/calls")"
    # A delay the watcher could never see (past its hour, or past what the
    # shell's test can compare: it would fail every second and the restart
    # never come) is capped at 600 s.
    for long in 3600 99999999999999999999; do
        FSFREEZE_HOOK_RESTART_DELAY=$long decide "$sh" "0::$QGA\n"
        grep -qF " 600 3600 /proc/uptime restart-now" "$TMP/calls" || fail "$sh: a delay of $long is not capped at 600: $(cat "$TMP/calls")"
    done
    # Idempotent: a restart already waiting (upgrade: new postinst, old
    # postrm; RPM: new %post, old %postun) is not scheduled twice.
    touch "$TMP/pending"
    decide "$sh" "0::$QGA\n"
    grep -q "^systemd-run" "$TMP/calls" && fail "$sh: a second deferred restart was scheduled"
    grep -q "^restart-now" "$TMP/calls" && fail "$sh: restarted at once while a deferred restart waits"
    grep -q "its restart is already scheduled" "$TMP/out" || fail "$sh: the pending restart is not reported: $(cat "$TMP/out")"
    rm -f "$TMP/pending"
    # systemd-run fails: say so, and what to run; no immediate restart.
    touch "$TMP/systemd-run-fails"
    decide "$sh" "$V1_QGA"
    grep -q "^restart-now" "$TMP/calls" && fail "$sh: restarted at once when systemd-run failed"
    grep -q "systemd-run could not defer it: until it restarts, it runs no hook (run, once this command has ended: systemctl restart qemu-guest-agent)" \
        "$TMP/out" || fail "$sh: a failed systemd-run is not reported: $(cat "$TMP/out")"
    grep -qx "status=0" "$TMP/out" || fail "$sh: a failed systemd-run fails the script"
    rm -f "$TMP/systemd-run-fails"
    # No systemd-run at all.
    mkdir -p "$TMP/nosdrun"
    cp "$TMP/bin/systemctl" "$TMP/bin/restart-now" "$TMP/nosdrun/"
    printf '%b' "0::$QGA\n" >"$TMP/cgroup"
    rm -f "$TMP/calls"
    shpath=$(command -v "$sh")
    out=$(PATH="$TMP/nosdrun" "$shpath" -ec ". '$TMP/block.sh'; fsfreeze_until='its freezes fail'
        fsfreeze_restart_qga '$TMP/cgroup' restart-now x" 2>&1) ||
        fail "$sh: fails without systemd-run: $out"
    grep -q "systemd-run could not defer it: until it restarts, its freezes fail" <<<"$out" || fail "$sh: no systemd-run is not reported: $out"
done
echo "ok: immediate restart from a shell, deferred once through systemd-run in the agent's cgroup, failures reported"

# The deferred restart itself, run as systemd-run would run it: sleep is a
# fake that counts and moves a fake /proc/uptime on by a second; the procs
# file says how many processes the agent's cgroup has. With the agent alone
# for more than 3 seconds in a row, it restarts.
# systemd expands ${...} in the command line systemd-run gives it (before
# systemd 254's --expand-environment=no): the watcher must have none.
for sh in $shells; do
    "$sh" -c ". '$TMP/block.sh'; printf '%s' \"\$fsfreeze_restart_watcher\"" >"$TMP/watcher"
    [ -s "$TMP/watcher" ] || fail "$sh: no watcher script"
    if grep -nF "\${" "$TMP/watcher"; then
        fail "the watcher has a \${...}, which systemd would expand away"
    fi
done
cat >"$TMP/bin/sleep" <<FAKE
#!/bin/sh
n=\$(cat "$TMP/slept" 2>/dev/null || echo 0)
n=\$((n + 1))
echo \$n >"$TMP/slept"
echo "\$n.37 0.00" >"$TMP/uptime"
# The caller (dpkg) ends after the 4th second; another command runs in
# the 6th only.
case \$n in
4) echo 100 >"$TMP/procs" ;;
5) printf '100\n200\n' >"$TMP/procs" ;;
6) echo 100 >"$TMP/procs" ;;
esac
FAKE
chmod +x "$TMP/bin/sleep"
watch() {
    rm -f "$TMP/calls" "$TMP/slept"
    echo "0.37 0.00" >"$TMP/uptime"
    PATH="$TMP/bin:$PATH" "$1" -c ". '$TMP/block.sh'; exec /bin/sh -c \"\$fsfreeze_restart_watcher\" fsfreeze-hook-restart-qga \"\$@\"" \
        sh "${@:2}" >"$TMP/out" 2>&1 && echo 0 >"$TMP/rc" || echo $? >"$TMP/rc"
    touch "$TMP/calls"
}
for sh in $shells; do
    printf '100\n4242\n' >"$TMP/procs"     # qemu-ga and the guest-exec'd dpkg
    watch "$sh" "$TMP/procs" 3 3600 "$TMP/uptime" restart-now try-restart qemu-guest-agent.service
    [ "$(cat "$TMP/rc")" = 0 ] || fail "$sh: the watcher failed: $(cat "$TMP/out")"
    grep -qx "restart-now try-restart qemu-guest-agent.service" "$TMP/calls" || fail "$sh: the watcher did not restart"
    # busy until 3, idle at 4, busy at 5 (the wait starts again), idle from
    # 6: more than 3 s idle at 9
    [ "$(cat "$TMP/slept")" = 9 ] || fail "$sh: restarted after $(cat "$TMP/slept") s, not 9"
    # A cgroup that stays busy: it gives up, says so, and does not restart.
    printf '100\n4242\n' >"$TMP/procs"
    watch "$sh" "$TMP/procs" 3 2 "$TMP/uptime" restart-now try-restart qemu-guest-agent.service
    [ "$(cat "$TMP/rc")" = 1 ] || fail "$sh: a watcher that gave up exits $(cat "$TMP/rc")"
    grep -q "^restart-now" "$TMP/calls" && fail "$sh: restarted while the agent still ran a command"
    grep -q "still runs commands after 2 s: not restarting it (run: systemctl restart qemu-guest-agent)" "$TMP/out" ||
        fail "$sh: giving up is not reported: $(cat "$TMP/out")"
    # No procs file known: the delay alone.
    watch "$sh" "" 3 3600 "$TMP/uptime" restart-now x
    if [ "$(cat "$TMP/slept")" != 4 ] || ! grep -qx "restart-now x" "$TMP/calls"; then
        fail "$sh: without a procs file, no restart after the delay"
    fi
done
echo "ok: the deferred restart waits until the agent has run nothing for the delay, and gives up rather than kill"
echo PASS
