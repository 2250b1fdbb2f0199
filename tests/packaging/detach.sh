#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The packages' detach on removal, as shell, on this machine without
# changing it: the block is the same in debian/prerm and the spec's %preun;
# Debian's prerm runs it on remove only (an upgrade, a failed upgrade and a
# deconfigure keep the program installed, and what is attached with it),
# the %preun on an erase only ($1 == 0); it asks the program to detach from
# every platform, says what was removed and nothing about what was not
# attached, and a failure, or a missing program, is a warning that never
# fails the removal. Then the block with the real program, in a --root
# tree: what --attach made is gone, somebody else's file is not.
#
# usage: detach.sh SOURCE_DIR FSFREEZE_HOOK
set -euo pipefail

SRC=$(readlink -f "$1")
BIN=$(readlink -f "$2")
fail() { echo "FAIL: $*"; exit 1; }

TMP=$(mktemp -d /tmp/fsfreeze-detach.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

extract() {
    awk '/^# >>> detach/ { on = 1 } on { print } /^# <<< detach/ { on = 0; print "#---" }' "$1"
}
[ -f "$SRC/debian/prerm" ] || fail "no debian/prerm: removing the package leaves other platforms' agents calling a program that is gone"
extract "$SRC/debian/prerm" | sed '/^#---$/d' >"$TMP/block.sh"
[ -s "$TMP/block.sh" ] || fail "no detach block in debian/prerm"
[ "$(extract "$SRC/debian/prerm" | grep -c '^#---$')" = 1 ] || fail "debian/prerm has more than one detach block"
extract "$SRC/fsfreeze-hook.spec" >"$TMP/spec-blocks"
[ "$(grep -c '^#---$' "$TMP/spec-blocks")" = 1 ] || fail "fsfreeze-hook.spec has not one detach block"
sed '/^#---$/d' "$TMP/spec-blocks" | cmp -s "$TMP/block.sh" - ||
    { sed '/^#---$/d' "$TMP/spec-blocks" | diff "$TMP/block.sh" - || true; fail "the spec's detach block differs from debian/prerm's"; }
# The spec's block is in %preun, the scriptlet rpm runs while the files
# are still there.
awk '/^%preun$/ { on = 1; next } /^%/ && !/^%\{/ { on = 0 } on' "$SRC/fsfreeze-hook.spec" >"$TMP/preun"
grep -q '^# >>> detach' "$TMP/preun" || fail "the spec's detach block is not in %preun"
echo "ok: the detach block is the same in debian/prerm and the spec's %preun"

# A fake program: records each call in $TMP/calls; per platform, as
# fh_detach answers: vmware had our link, gce had one it cannot remove
# (exit 1, the reason on stderr), the others nothing.
cat >"$TMP/fake" <<FAKE
#!/bin/sh
echo "\$*" >>"$TMP/calls"
case "\$*" in
--detach=vmware) echo "vmware: removed /etc/vmware-tools/backupScripts.d/fsfreeze-hook" ;;
--detach=gce)
    echo "gce: removed /etc/google/snapshots/post.sh"
    echo "fsfreeze-hook: /etc/google/snapshots/pre.sh: cannot remove: Read-only file system" >&2
    exit 1 ;;
--detach=nutanix|--detach=azure) echo "\${1#--detach=}: not attached" ;;
*) echo "unexpected arguments: \$*" >&2; exit 2 ;;
esac
FAKE
chmod +x "$TMP/fake"

shells="sh"
command -v bash >/dev/null && shells="$shells bash"
command -v dash >/dev/null && shells="$shells dash"

# run SHELL SCRIPT ARGS...: as dpkg and rpm run the scripts; stdout in
# $TMP/out, stderr in $TMP/err, the exit status in $TMP/rc.
run() {
    local sh=$1
    shift
    rm -f "$TMP/calls"
    "$sh" "$@" >"$TMP/out" 2>"$TMP/err" && echo 0 >"$TMP/rc" || echo $? >"$TMP/rc"
    touch "$TMP/calls"
}

for sh in $shells; do
    run "$sh" -ec ". '$TMP/block.sh'; fsfreeze_detach_all '$TMP/fake'"
    [ "$(cat "$TMP/rc")" = 0 ] || fail "$sh: a failed detach fails the script: $(cat "$TMP/err")"
    [ "$(cat "$TMP/calls")" = "$(printf -- '--detach=%s\n' vmware nutanix gce azure)" ] ||
        fail "$sh: not every platform detached, in order: $(cat "$TMP/calls")"
    grep -qx "vmware: removed /etc/vmware-tools/backupScripts.d/fsfreeze-hook" "$TMP/out" || fail "$sh: the removal is not said: $(cat "$TMP/out")"
    grep -q "not attached" "$TMP/out" && fail "$sh: a platform with nothing attached is reported: $(cat "$TMP/out")"
    grep -qx "gce: removed /etc/google/snapshots/post.sh" "$TMP/out" || fail "$sh: a partial detach's removal is not said"
    grep -qx "fsfreeze-hook: /etc/google/snapshots/pre.sh: cannot remove: Read-only file system" "$TMP/err" ||
        fail "$sh: the program's reason is lost: $(cat "$TMP/err")"
    grep -q "^fsfreeze-hook: could not detach from gce: .*remove it by hand" "$TMP/err" || fail "$sh: the failure is not warned: $(cat "$TMP/err")"
    [ "$(wc -l <"$TMP/err")" = 2 ] || fail "$sh: more on stderr than the failure: $(cat "$TMP/err")"

    # The program gone already (removed by hand): a warning, no failure.
    run "$sh" -ec ". '$TMP/block.sh'; fsfreeze_detach_all '$TMP/nonexistent'"
    [ "$(cat "$TMP/rc")" = 0 ] || fail "$sh: a missing program fails the script"
    grep -q "^fsfreeze-hook: $TMP/nonexistent is missing: " "$TMP/err" || fail "$sh: a missing program is not warned: $(cat "$TMP/err")"
done
echo "ok: every platform detached, removals said, a failure or a missing program a warning that does not fail"

# Debian's prerm and the spec's %preun, with the program's path pointed at
# the fake: when they detach.
sed "s|/usr/sbin/fsfreeze-hook|$TMP/fake|g" "$SRC/debian/prerm" >"$TMP/prerm"
grep -q "$TMP/fake" "$TMP/prerm" || fail "debian/prerm does not name /usr/sbin/fsfreeze-hook"
sed "s|%{_sbindir}/fsfreeze-hook|$TMP/fake|g" "$TMP/preun" >"$TMP/preun.sh"
grep -q "$TMP/fake" "$TMP/preun.sh" || fail "%preun does not name %{_sbindir}/fsfreeze-hook"
grep -q '%' <(grep -v '^#' "$TMP/preun.sh" | grep -v "printf '%s") && fail "%preun has a macro this test does not expand: $(cat "$TMP/preun.sh")"
for sh in $shells; do
    # Debian policy 6.5/6.6: prerm remove [in-favour PKG VERSION] before the
    # files go; upgrade, failed-upgrade and deconfigure leave them.
    for args in "remove" "remove in-favour other-hook 1.0" "upgrade 0.2.0" "failed-upgrade 0.1.0 0.2.0" \
                "deconfigure in-favour libfoo 2.0 removing libbar 1.0"; do
        # shellcheck disable=SC2086 # the arguments, split
        run "$sh" "$TMP/prerm" $args
        [ "$(cat "$TMP/rc")" = 0 ] || fail "$sh: prerm $args exits $(cat "$TMP/rc"): $(cat "$TMP/err")"
        case $args in
        remove*) [ -s "$TMP/calls" ] || fail "$sh: prerm $args does not detach" ;;
        *) [ -s "$TMP/calls" ] && fail "$sh: prerm $args detaches, and the program stays: $(cat "$TMP/calls")" ;;
        esac
    done
    # rpm: $1 is the number of versions left, 0 on erase, 1 or more on an
    # upgrade (the old package's %preun, after the new one's %post).
    for n in 0 1 2; do
        run "$sh" "$TMP/preun.sh" "$n"
        [ "$(cat "$TMP/rc")" = 0 ] || fail "$sh: %preun $n exits $(cat "$TMP/rc"): $(cat "$TMP/err")"
        if [ "$n" = 0 ]; then
            [ -s "$TMP/calls" ] || fail "$sh: %preun 0 (erase) does not detach"
        else
            [ -s "$TMP/calls" ] && fail "$sh: %preun $n (upgrade) detaches: $(cat "$TMP/calls")"
        fi
    done
done
echo "ok: prerm detaches on remove only, %preun on erase only"

# The real program, in a --root tree standing for the machine: attached
# to VMware and Google, somebody else's Nutanix script and VMware script
# beside ours. The block takes the program as one path: a wrapper adds
# --root.
ROOT=$TMP/root
mkdir -p "$ROOT/usr/local/sbin" "$ROOT/etc/vmware-tools/backupScripts.d"
printf '#!/bin/sh\necho theirs\n' | tee "$ROOT/usr/local/sbin/pre_freeze" >"$ROOT/etc/vmware-tools/backupScripts.d/10-theirs"
chmod 700 "$ROOT/usr/local/sbin/pre_freeze" "$ROOT/etc/vmware-tools/backupScripts.d/10-theirs"
printf '#!/bin/sh\nexec "%s" --root="%s" "$@"\n' "$BIN" "$ROOT" >"$TMP/program"
chmod +x "$TMP/program"
for p in vmware gce; do
    "$TMP/program" --attach="$p" >"$TMP/attach.out" 2>&1 || fail "--attach=$p: $(cat "$TMP/attach.out")"
done
entries="etc/vmware-tools/backupScripts.d/fsfreeze-hook etc/google/snapshots/pre.sh etc/google/snapshots/post.sh"
for e in $entries; do
    [ -L "$ROOT/$e" ] || fail "--attach made no $e"
done
run sh -ec ". '$TMP/block.sh'; fsfreeze_detach_all '$TMP/program'"
[ "$(cat "$TMP/rc")" = 0 ] || fail "the block with the real program fails: $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail "the block with the real program warns: $(cat "$TMP/err")"
for e in $entries; do
    if [ -e "$ROOT/$e" ] || [ -L "$ROOT/$e" ]; then fail "$e is left"; fi
    grep -q "removed $ROOT/$e" "$TMP/out" || fail "the removal of $e is not said: $(cat "$TMP/out")"
done
for f in usr/local/sbin/pre_freeze etc/vmware-tools/backupScripts.d/10-theirs; do
    [ "$(cat "$ROOT/$f")" = "$(printf '#!/bin/sh\necho theirs')" ] || fail "somebody else's $f changed"
done
echo "ok: with the real program, what --attach made is removed, somebody else's files are not"
echo PASS
