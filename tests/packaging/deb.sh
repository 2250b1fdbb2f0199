#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian package: build it from the tree under test with
# dpkg-buildpackage, lint it, install it on this machine beside Debian's
# qemu-guest-agent, check its files and its drop-in, show that qemu-ga
# started as the unit says runs our binary (the real qemu-ga, in a private
# mount namespace), check that an administrator's configuration and hooks
# are kept, that what --attach made for other platforms' agents (VMware,
# Google) stays attached across a reinstall and is detached by the removal,
# somebody else's file beside it kept, then purge it and check that
# everything is as before.
#
# This installs a package: it runs only with FSFREEZE_TEST_SYSTEM=1 (tests/run
# sets it, for CI), as root, and never over an installed fsfreeze-hook.
#
# usage: deb.sh SOURCE_DIR QGA_CMD
set -euo pipefail

SRC=$(readlink -f "$1")
QGA_CMD=$(readlink -f "$2")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "${FSFREEZE_TEST_SYSTEM:-}" = 1 ] || skip "installs a package on this machine: set FSFREEZE_TEST_SYSTEM=1"
[ "$(id -u)" = 0 ] || skip "needs root"
for tool in dpkg-buildpackage lintian qemu-ga; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install devscripts debhelper lintian qemu-guest-agent)"
done
# Installed, or removed with its configuration kept: our purge would take
# an administrator's configuration.
case $(dpkg-query -W -f='${Status}' fsfreeze-hook 2>/dev/null || true) in
"" | *" not-installed") ;;
*) skip "fsfreeze-hook is known to dpkg on this machine: not touching it" ;;
esac

TMP=$(mktemp -d /tmp/fsfreeze-deb.XXXXXX)
UNIT=/lib/systemd/system/qemu-guest-agent.service
DROPIN=/lib/systemd/system/qemu-guest-agent.service.d/fsfreeze-hook.conf
ADMIN_HOOK=/etc/qemu/fsfreeze-hook.d/50-fsfreeze-deb-test
# What --attach writes into on this machine (no such agent is needed for
# it): saved as it is, or its absence, and put back exactly at the end.
PLATFORM_DIRS="/etc/google /etc/vmware-tools"
VMWARE_ENTRY=/etc/vmware-tools/backupScripts.d/fsfreeze-hook
GCE_ENTRIES="/etc/google/snapshots/pre.sh /etc/google/snapshots/post.sh"
FOREIGN=/etc/vmware-tools/backupScripts.d/50-fsfreeze-deb-foreign
saved_platform_dirs=
save_platform_dirs() {
    local d
    mkdir "$TMP/saved"
    for d in $PLATFORM_DIRS; do
        if [ -e "$d" ] || [ -L "$d" ]; then
            cp -a "$d" "$TMP/saved/${d##*/}" || fail "cannot save $d"
        fi
    done
    saved_platform_dirs=1
}
restore_platform_dirs() {
    local d
    [ -n "$saved_platform_dirs" ] || return 0
    for d in $PLATFORM_DIRS; do
        rm -rf "$d"
        if [ -e "$TMP/saved/${d##*/}" ] || [ -L "$TMP/saved/${d##*/}" ]; then
            cp -a "$TMP/saved/${d##*/}" "$d"
        fi
    done
}
cleanup() {
    dpkg --purge fsfreeze-hook >/dev/null 2>&1 || true
    restore_platform_dirs
    rm -f "$ADMIN_HOOK" /tmp/fsfreeze-deb-admin.out
    rm -rf "$TMP"
}
trap cleanup EXIT

# The unit's effective ExecStart= list, one command a line, as systemd
# builds it: the unit, then its drop-ins from /etc, /run and /lib (the
# first of a name wins) in name order; an empty ExecStart= resets the list.
exec_start() {
    local d f name
    local -A seen=()
    local files=()
    for d in /etc/systemd/system /run/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
        for f in "$d/${UNIT##*/}.d"/*.conf; do
            [ -e "$f" ] || continue
            name=${f##*/}
            [ -n "${seen[$name]:-}" ] && continue
            seen[$name]=$f
            files+=("$name")
        done
    done
    {
        cat "$UNIT"
        if [ "${#files[@]}" -gt 0 ]; then
            printf '%s\n' "${files[@]}" | LC_ALL=C sort | while read -r name; do cat "${seen[$name]}"; done
        fi
    } | awk '/^ExecStart=/ { v = substr($0, 11); if (v == "") n = 0; else list[++n] = v }
             END { for (i = 1; i <= n; i++) print list[i] }'
}

echo "== state before"
[ ! -e /usr/sbin/fsfreeze-hook ] || fail "/usr/sbin/fsfreeze-hook exists already"
before_exec=$(exec_start)
before_qga=$(dpkg --verify qemu-guest-agent 2>&1 || true)
echo "ExecStart: $before_exec"

echo "== build"
mkdir "$TMP/src"
# The tree's files: git's in a work tree, the unpacked ones in a release
# tarball (.ci/source-files leaves out every meson build directory).
"$SRC/.ci/source-files" "$SRC" >"$TMP/files" || fail ".ci/source-files $SRC"
(cd "$SRC" && tar -cf - -T "$TMP/files") | tar -xf - -C "$TMP/src"
(cd "$TMP/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >"$TMP/build.log" 2>&1) ||
    { tail -30 "$TMP/build.log"; fail "dpkg-buildpackage"; }
DEB=$(ls "$TMP"/fsfreeze-hook_*_*.deb)
echo "built ${DEB##*/}"

echo "== lintian"
lintian --fail-on error "$DEB" 2>&1 | grep -v "running with root privileges" || true
lintian --fail-on error "$DEB" >/dev/null 2>&1 || fail "lintian found errors"

echo "== install"
printf '#!/bin/sh\necho "admin hook $1"\n' >"$ADMIN_HOOK"
chmod 755 "$ADMIN_HOOK"
dpkg -i "$DEB" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "dpkg -i"; }
for f in /usr/sbin/fsfreeze-hook /usr/share/man/man8/fsfreeze-hook.8.gz /usr/share/man/man5/fsfreeze-hook.conf.5.gz \
         "$DROPIN" /etc/qemu-ga/fsfreeze-hook.conf /usr/lib/tmpfiles.d/fsfreeze-hook.conf \
         /etc/logrotate.d/fsfreeze-hook /usr/share/doc/fsfreeze-hook/examples/10-mysql-flush-lock \
         /usr/share/doc/fsfreeze-hook/fsfreeze-hook-deploy; do
    [ -e "$f" ] || fail "$f is not installed"
done
# The host-side helper, as documentation: readable as is.
python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' /usr/share/doc/fsfreeze-hook/fsfreeze-hook-deploy ||
    fail "the host-side helper is not shipped as python"
[ -d /usr/lib/qemu-ga/fsfreeze-hook.d ] || fail "no vendor hook directory"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' fsfreeze-hook)
grep -q " */etc/qemu-ga/fsfreeze-hook.conf " <<<"$conffiles" || fail "the configuration is not a conffile"
# Nothing of qemu-guest-agent's was changed.
[ "$(dpkg --verify qemu-guest-agent 2>&1 || true)" = "$before_qga" ] || fail "qemu-guest-agent's files changed"

after_exec=$(exec_start)
echo "ExecStart: $after_exec"
# One command: a drop-in without the reset line would make it two, and
# systemd would refuse the unit.
[ "$(wc -l <<<"$after_exec")" = 1 ] || fail "the unit has more than one ExecStart= command: $after_exec"
case $after_exec in
*"-F/usr/sbin/fsfreeze-hook"*) ;;
*) fail "the unit does not pass -F/usr/sbin/fsfreeze-hook: $after_exec" ;;
esac
if command -v systemd-analyze >/dev/null; then
    verify=$(systemd-analyze verify "$UNIT" 2>&1) || fail "systemd-analyze verify: $verify"
    if grep -Ei "fsfreeze|refusing|bad unit|more than one" <<<"$verify"; then
        fail "systemd-analyze verify complains about the unit"
    fi
fi

echo "== qemu-ga, started as the unit says, runs our hook"
hook_path=${after_exec##*-F}
hook_path=${hook_path%% *}
FSFREEZE_HOOK_PATH=$hook_path QGA_CMD=$QGA_CMD TMP=$TMP unshare -m --propagation private bash -euc '
    mount -t tmpfs -o mode=0755 tmpfs /var/log   # as a real /var/log; a tmpfs is 1777
    mount -t tmpfs -o mode=0755 tmpfs /run         # as a real /run
    mkdir -p "$TMP/qga-state"
    qemu-ga -m unix-listen -p "$TMP/qga.sock" -F"$FSFREEZE_HOOK_PATH" -t "$TMP/qga-state" -f "$TMP/qga.pid" &
    QGA=$!
    trap "kill $QGA" EXIT
    for _ in $(seq 1 100); do [ -S "$TMP/qga.sock" ] && break; sleep 0.05; done
    # A mountpoint that is not mounted: the hook runs, nothing is frozen.
    "$QGA_CMD" -t 60 "$TMP/qga.sock" "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":{\"mountpoints\":[\"$TMP/not-mounted\"]}}"
    "$QGA_CMD" -t 60 "$TMP/qga.sock" "{\"execute\":\"guest-fsfreeze-thaw\"}"
    cp /var/log/qga-fsfreeze-hook.log "$TMP/hook.log"
'
cat "$TMP/hook.log"
grep -q "execute $ADMIN_HOOK freeze" "$TMP/hook.log" || fail "the admin directory's hook did not run at freeze"
grep -q "thaw: 1 hooks to release" "$TMP/hook.log" || fail "the thaw did not pair with the freeze"

echo "== without its configuration file, the installed program still finds the admin hooks"
# An administrator may delete the conffile (dpkg does not bring it back).
mv /etc/qemu-ga/fsfreeze-hook.conf "$TMP/conf.saved"
plan=$(/usr/sbin/fsfreeze-hook --dry-run freeze 2>&1)
mv "$TMP/conf.saved" /etc/qemu-ga/fsfreeze-hook.conf
grep -q "$ADMIN_HOOK" <<<"$plan" || fail "without the configuration the admin hook is not planned: $plan"

echo "== attached to VMware's and Google's agents"
save_platform_dirs
for p in gce vmware; do
    /usr/sbin/fsfreeze-hook --attach="$p" >"$TMP/attach.log" 2>&1 || { cat "$TMP/attach.log"; fail "--attach=$p"; }
done
# Somebody else's script beside ours, which no removal of ours may touch.
printf '#!/bin/sh\nexit 0\n' >"$FOREIGN"
chmod 700 "$FOREIGN"
attached() {
    local e
    for e in $VMWARE_ENTRY $GCE_ENTRIES; do
        [ "$(readlink "$e")" = /usr/sbin/fsfreeze-hook ] || fail "$1: $e is not our link: $(ls -l "$e" 2>&1)"
    done
}
attached "after --attach"

echo "== an administrator's configuration survives reinstall, and so does the attachment"
# A plain file would be overwritten by the reinstall; a conffile is kept.
echo "# local change" >>/etc/qemu-ga/fsfreeze-hook.conf
dpkg -i --force-confold "$DEB" >/dev/null 2>&1 || fail "reinstall"
grep -q "# local change" /etc/qemu-ga/fsfreeze-hook.conf || fail "the local configuration was overwritten"
# An upgrade (old prerm upgrade, new postinst) keeps the program: what
# the agents run stays.
attached "after a reinstall"

echo "== an upgrade to a newer version keeps the attachment too"
mkdir "$TMP/up"
cp -a "$TMP/src" "$TMP/up/src"
{
    printf 'fsfreeze-hook (%s+upgrade1) unstable; urgency=medium\n\n  * Test upgrade.\n\n' \
        "$(dpkg-parsechangelog -l "$TMP/src/debian/changelog" -S Version)"
    printf ' -- fsfreeze-hook developers <dev@fsfreeze-hook.invalid>  %s\n\n' "$(date -R)"
    cat "$TMP/src/debian/changelog"
} >"$TMP/up/src/debian/changelog"
(cd "$TMP/up/src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >"$TMP/up/build.log" 2>&1) ||
    { tail -30 "$TMP/up/build.log"; fail "dpkg-buildpackage of the newer version"; }
dpkg -i --force-confold "$TMP"/up/fsfreeze-hook_*+upgrade1_*.deb >"$TMP/upgrade.log" 2>&1 ||
    { cat "$TMP/upgrade.log"; fail "the upgrade"; }
case $(dpkg-query -W -f='${Version}' fsfreeze-hook) in
*+upgrade1) ;;
*) fail "the upgrade did not install the newer version" ;;
esac
attached "after an upgrade"

echo "== remove: nothing of ours is left for the agents to run"
# A link left behind would dangle: vmtoolsd's bash exits 127 on it and
# every VMware quiesce fails; Google's agent reports a script error.
dpkg -r fsfreeze-hook >"$TMP/remove.log" 2>&1 || { cat "$TMP/remove.log"; fail "dpkg -r"; }
cat "$TMP/remove.log"
for e in $VMWARE_ENTRY $GCE_ENTRIES; do
    if [ -e "$e" ] || [ -L "$e" ]; then fail "$e is left after removal: $(ls -l "$e")"; fi
done
grep -qx "vmware: removed $VMWARE_ENTRY" "$TMP/remove.log" || fail "the removal does not say what it detached"
grep -q "could not detach" "$TMP/remove.log" && fail "the removal warns"
[ "$(cat "$FOREIGN")" = "$(printf '#!/bin/sh\nexit 0')" ] || fail "somebody else's $FOREIGN changed"
[ "$(stat -c %a "$FOREIGN")" = 700 ] || fail "somebody else's $FOREIGN changed mode"

echo "== purge"
dpkg --purge fsfreeze-hook >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; fail "dpkg --purge"; }
for f in /usr/sbin/fsfreeze-hook "$DROPIN" /etc/qemu-ga/fsfreeze-hook.conf /etc/logrotate.d/fsfreeze-hook \
         /usr/lib/tmpfiles.d/fsfreeze-hook.conf; do
    [ ! -e "$f" ] || fail "$f is left after purge"
done
[ "$(exec_start)" = "$before_exec" ] || fail "the unit's ExecStart is not back: $(exec_start)"
[ "$(dpkg --verify qemu-guest-agent 2>&1 || true)" = "$before_qga" ] || fail "qemu-guest-agent's files changed"
[ -x "$ADMIN_HOOK" ] || fail "the administrator's hook was removed"
echo "PASS"
