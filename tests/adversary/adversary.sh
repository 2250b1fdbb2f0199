#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The adversary suite: an unprivileged user, created for the test and
# removed after it (even on failure), attacks every path the dispatcher
# resolves as root, in every mode (run freeze, run thaw, --dry-run freeze,
# --dry-run thaw, --check, --status where it reads the path). Each attack's
# payload would write `id -u` to a marker file as root; after each run the
# marker must not exist AND the dispatcher must have reported a refusal
# naming the path the user controls.
#
# Classes covered (issue 10, #1 and #2, and those found while building it):
#   interp-of-refused  --check lints a refused (world-writable) hook whose
#                      #! interpreter is the user's 'sh' (#1)
#   interp-user        a trusted hook whose #! interpreter is the user's
#   interp-nested      a trusted hook whose interpreter is a root script
#                      whose own #! interpreter is the user's
#   interp-env-path    #!/usr/bin/env sh, with a user's directory in PATH
#   path-hook-cmd      a trusted hook that runs 'sh' by name, with a user's
#                      directory in the PATH root's caller gave (su without -)
#   path-wrapper       #!/usr/bin/nice sh: a wrapper that searches PATH too
#   path-relative      '.' or an empty entry in PATH, run from a user's
#                      directory: both name the working directory
#   env-S-assign       #!/usr/bin/env -S PATH=DIR sh: env's own assignment
#                      of the search path, to a user's directory
#   dir-user-link      -d through a user-owned symlink to a root directory
#                      of programs (as /usr/sbin) (#2)
#   dir-sticky-link    the same link in a sticky world-writable directory
#   hook-via-link      a root-owned hook symlink whose target goes through
#                      a user's symlink (#2)
#   conf-hook-dirs     a trusted configuration whose hook-dirs= is a user's
#                      symlink
#   conf-user-link     --config through a user's symlink to a root file the
#                      user chose
#   conf-proc-fd       --config=/proc/self/fd/0 with the user's file as stdin
#   dotdot             -d with '..' that leaves a root directory for a user's
#   state-user-link    --state-dir through a user's symlink to a forged
#                      freeze record that names a root program (thaw runs it)
#   state-create-user-link  a state directory still to be created, through a
#                      user's symlink (root would create it there)
#   state-shared-missing  a state directory still to be created in a sticky
#                      shared directory, which anyone could create first
#   log-user-link      -l through a user's symlinked directory (root would
#                      create the log where the user points)
#   hardlink-in-user-dir  a root program hard-linked into the user's own
#                      directory, used as the hook directory
#   mask-via-user-link a hook link to /dev/null through a user's link: not a
#                      silent mask, but refused
#   log-group-*        a log directory a group may write (Ubuntu's /var/log):
#                      its member's symlink or file as the log, a root file
#                      hard-linked there, or a readable root file of the
#                      directory renamed over it
#   metrics-user-parent  the metrics file in a root directory inside a user's
#                      (Debian's /var/lib/prometheus/node-exporter), swapped
#                      by the user for a symlink to a root directory
#   plat-vmware-user-dir  an image's backupScripts.d owned by the user, with
#                      platform-scripts= (issue 13)
#   plat-legacy-via-user-link  the legacy pre-freeze-script, root's link
#                      through a user's link to a root program
#   plat-azure-user-script  root's Azure JSON naming a script in a user's
#                      directory (read by sh: walked as a hook is)
#   plat-azure-user-json  the Azure JSON itself a user's, naming a root program
#   agent-arg-option   the host's scriptArg "-dDIR" after freeze/thaw/freezeFail
#                      to VMware's entry point: data, never an option
#   attach-user-dir    --attach into an image's directory the user owns, or
#                      through the user's symlink: nothing written
# Not covered here: a FUSE filesystem (no FUSE server on the test machines;
# the policy refuses any step on FUSE, see trust.h), bind mounts (root only),
# a walk deeper than PATH_MAX (unit test: test_resolution_longer_than_path_max;
# building 64,000 directories takes a minute).
# Design limits, not judged: what a trusted file says (a root hook that
# sources a user's file, '#!/bin/sh /home/u/x', a root binary whose ELF
# interpreter or RUNPATH is a user's), and the caller's environment other
# than PATH (BASH_ENV, PYTHONPATH...: qemu-ga's is systemd's, sudo resets it).
#
# usage: adversary.sh FSFREEZE_HOOK
set -u

bin=$1
# Absolute: some attacks run it from another working directory.
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the adversary suite needs root (it creates a user and runs the dispatcher as root)"
    exit 77
fi
if ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs useradd and setpriv"
    exit 77
fi

user=fhadv$$
top=
cleanup() {
    # The freeze deadlines these freezes armed (fsfreeze-hook(8)): their
    # processes name this run's directory, and some records are gone with
    # the attacks that replaced them.
    [ -n "$top" ] && for p in /proc/[0-9]*; do
        tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -q -- "^--deadline-fire=" &&
            tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "$top/" && kill "${p#/proc/}" 2>/dev/null
    done
    [ -n "$top" ] && rm -rf "$top"
    userdel "$user" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
useradd -M -N -d /nonexistent -s /usr/sbin/nologin "$user" || { echo "cannot create user $user"; exit 1; }
uid=$(id -u "$user")
gid=$(id -g "$user")

top=$(mktemp -d /tmp/fsfreeze-adversary-XXXXXX)
chmod 0755 "$top"
# What the user owns.
u=$top/u
mkdir "$u"
chown "$uid:$gid" "$u"
# A root-owned directory where things the user owns end up (what a sticky
# directory, a careless chown or a restored backup leaves): the issue's
# "a symlink owned by that user in the same place" as a refused directory.
l=$top/links
mkdir "$l"
# As the user, for real ownership of what the attack creates.
as_user() {
    setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
}

failures=0
n=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# A root-owned directory of programs the user would like root to run
# (stands for /usr/sbin): its only program writes the marker.
victim=$top/victim
mark=$top/marker
mkdir "$victim"
printf '#!/bin/sh\nid -u > %s\n' "$mark" > "$victim/10-payload"
chmod 0755 "$victim/10-payload"

hooks=$top/hooks            # the administrator's (root's) hook directory
state=$top/state
log=$top/log
conf=$top/conf              # root's trusted configuration
mkdir "$hooks" "$state"
: > "$conf"

# reset: empty hook directory, state, log, marker between attacks.
reset() {
    rm -rf "$hooks" "$state" "$log" "$mark"
    mkdir "$hooks" "$state"
}

# run NAME EXPECT MODE... -- ARGS: runs the dispatcher as root in each MODE
# (freeze, thaw, dry-freeze, dry-thaw, check, status) with ARGS, then
# checks the marker and that the output names EXPECT with a refusal.
run_modes() {
    name=$1 expect=$2
    shift 2
    modes=
    while [ "$1" != -- ]; do
        modes="$modes $1"
        shift
    done
    shift
    for mode in $modes; do
        n=$((n + 1))
        rm -rf "$mark" "$log" "$state"
        mkdir "$state"
        case $mode in
        freeze|thaw) out=$("$bin" --no-journal -l "$log" "$@" "$mode" 2>&1 < "${stdin:-/dev/null}") ;;
        dry-freeze) out=$("$bin" "$@" --dry-run freeze 2>&1 < "${stdin:-/dev/null}") ;;
        dry-thaw) out=$("$bin" "$@" --dry-run thaw 2>&1 < "${stdin:-/dev/null}") ;;
        check) out=$("$bin" "$@" --check 2>&1 < "${stdin:-/dev/null}") ;;
        status) out=$("$bin" "$@" --status 2>&1 < "${stdin:-/dev/null}") ;;
        esac
        [ -f "$log" ] && out="$out
$(cat "$log")"
        if [ -e "$mark" ]; then
            fail "$name [$mode]: the user's payload ran as uid $(cat "$mark")"
            continue
        fi
        case $out in
        *"$expect"*) ;;
        *) fail "$name [$mode]: no report naming $expect"; printf '%s\n' "$out" | sed 's/^/    /' ;;
        esac
        case $out in
        *"not trusted"*|*refused*) ;;
        *) fail "$name [$mode]: no refusal reported"; printf '%s\n' "$out" | sed 's/^/    /' ;;
        esac
    done
}

all="freeze thaw dry-freeze dry-thaw check"
base="--config=$conf --state-dir=$state"

# --- #! interpreters ------------------------------------------------------------

# The user's 'sh': what it would run as root is the payload.
printf '#!/bin/sh\nid -u > %s\n' "$mark" > "$l/sh"
chmod 0755 "$l/sh"
chown "$uid:$gid" "$l/sh"

reset
printf '#!%s\nexit 0\n' "$l/sh" > "$hooks/10-ww"
chmod 0777 "$hooks/10-ww"
run_modes interp-of-refused "$hooks/10-ww is writable by group or others" $all -- $base -d "$hooks"

reset
printf '#!%s\nexit 0\n' "$l/sh" > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
run_modes interp-user "$l/sh is owned by uid $uid" $all -- $base -d "$hooks"

reset
mkdir -p "$top/rootbin"
printf '#!%s\nexit 0\n' "$l/sh" > "$top/rootbin/myshell"
chmod 0755 "$top/rootbin/myshell"
printf '#!%s\nexit 0\n' "$top/rootbin/myshell" > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
run_modes interp-nested "$l/sh is owned by uid $uid" freeze thaw dry-freeze dry-thaw -- $base -d "$hooks"

reset
mkdir -p "$u/bin"
chown "$uid:$gid" "$u/bin"
cp -p "$l/sh" "$u/bin/sh"
printf '#!/usr/bin/env sh\nexit 0\n' > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
n=$((n + 1))
rm -f "$mark" "$log"
PATH=$u/bin:/usr/bin:/bin "$bin" --no-journal -l "$log" $base -d "$hooks" freeze > /dev/null 2>&1
if [ -e "$mark" ]; then
    fail "interp-env-path [freeze]: the user's payload ran as uid $(cat "$mark")"
elif ! grep -q "PATH entry $u/bin is not trusted: .*dropped from the hooks' PATH" "$log"; then
    fail "interp-env-path [freeze]: no refusal naming $u/bin"
    sed 's/^/    /' "$log"
fi

# PATH as root's caller passed it (su without -, sudo with a kept PATH):
# every directory in it decides what a hook's command names run.
# path_run NAME EXPECT PATH [CWD]: runs freeze and thaw with that PATH.
path_run() {
    for phase in freeze thaw; do
        n=$((n + 1))
        rm -f "$mark" "$log"
        (cd "${4:-/}" && PATH=$3 "$bin" --no-journal -l "$log" $base -d "$hooks" $phase > /dev/null 2>&1)
        if [ -e "$mark" ]; then
            fail "$1 [$phase]: the user's payload ran as uid $(cat "$mark")"
        elif ! grep -q "$2" "$log"; then
            fail "$1 [$phase]: no refusal naming $2"
            sed 's/^/    /' "$log"
        fi
    done
}

reset
printf '#!/bin/sh\nsh -c true\nexit 0\n' > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
path_run path-hook-cmd "PATH entry $u/bin is not trusted" "$u/bin:/usr/bin:/bin"

reset
printf '#!/usr/bin/nice sh\nexit 0\n' > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
path_run path-wrapper "PATH entry $u/bin is not trusted" "$u/bin:/usr/bin:/bin"

reset
printf '#!/usr/bin/env sh\nexit 0\n' > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
path_run path-relative "PATH entry '.' (relative: the working directory) is not trusted" ".:/usr/bin:/bin" "$u/bin"
path_run path-relative "PATH entry '' (relative: the working directory) is not trusted" ":/usr/bin:/bin" "$u/bin"

reset
printf '#!/usr/bin/env -S PATH=%s sh\nexit 0\n' "$u/bin" > "$hooks/10-x"
chmod 0755 "$hooks/10-x"
run_modes env-S-assign "env with options or assignments" $all -- $base -d "$hooks"

# --- hook directories --------------------------------------------------------------

reset
ln -s "$victim" "$l/link"
chown -h "$uid:$gid" "$l/link"
run_modes dir-user-link "$l/link is a symlink owned by uid $uid" $all -- $base -d "$l/link"

reset
mkdir -p "$top/sticky"
chmod 1777 "$top/sticky"
as_user ln -s "$victim" "$top/sticky/hooks"
run_modes dir-sticky-link "$top/sticky/hooks is a symlink owned by uid $uid" $all -- $base -d "$top/sticky/hooks"

reset
ln -s "$l/link/10-payload" "$hooks/20-via"
run_modes hook-via-link "$l/link is a symlink owned by uid $uid" $all -- $base -d "$hooks"

reset
printf '[fsfreeze-hook]\nhook-dirs=%s\n' "$l/link" > "$top/conf-dirs"
run_modes conf-hook-dirs "$l/link is a symlink owned by uid $uid" $all -- --config="$top/conf-dirs" --state-dir="$state"

reset
mkdir -p "$u/d"
chown "$uid:$gid" "$u/d"
as_user ln -s "$victim" "$u/link"
run_modes dotdot "$u is owned by uid $uid" $all -- $base -d "$hooks/../u/d/../../victim/../u/link"

reset
mkdir -p "$u/own"
chown "$uid:$gid" "$u/own"
ln "$victim/10-payload" "$u/own/10-payload" 2>/dev/null || cp -p "$victim/10-payload" "$u/own/10-payload"
run_modes hardlink-in-user-dir "$u is owned by uid $uid" $all -- $base -d "$u/own"

# A root hook link whose chain goes through a user's link: the user points
# it at /dev/null, and a refused hook (an error, and a failed freeze under
# on-failure=abort) would become a silent mask.
reset
ln -s /dev/null "$l/mask-link"
chown -h "$uid:$gid" "$l/mask-link"
ln -s "$l/mask-link" "$hooks/10-db"
run_modes mask-via-user-link "$l/mask-link is a symlink owned by uid $uid" $all -- $base -d "$hooks"

# --- the configuration ------------------------------------------------------------

reset
printf '[fsfreeze-hook]\nhook-dirs=%s\n' "$victim" > "$top/victim.conf"
ln -s "$top/victim.conf" "$l/conf-link"
chown -h "$uid:$gid" "$l/conf-link"
run_modes conf-user-link "$l/conf-link is a symlink owned by uid $uid" $all -- --config="$l/conf-link" --state-dir="$state"

reset
printf '[fsfreeze-hook]\nhook-dirs=%s\n' "$victim" > "$u/conf"
chown "$uid:$gid" "$u/conf"
stdin=$u/conf run_modes conf-proc-fd "$u is owned by uid $uid" $all -- --config=/proc/self/fd/0 --state-dir="$state"
stdin=

# --- the state directory -----------------------------------------------------------

# A freeze record, made by root, naming the root program: a thaw that
# pairs with it releases (runs) that program with 'thaw'.
reset
mkdir -p "$top/forged" "$top/thaw-only"
printf '#!/bin/sh\n[ "$1" = thaw ] && id -u > %s\nexit 0\n' "$mark" > "$top/thaw-only/10-payload"
chmod 0755 "$top/thaw-only/10-payload"
"$bin" --no-journal -l /dev/null --config="$conf" --state-dir="$top/forged" -d "$top/thaw-only" freeze > /dev/null 2>&1
rm -f "$mark"
ln -s "$top/forged" "$l/state-link"
chown -h "$uid:$gid" "$l/state-link"
run_modes state-user-link "$l/state-link is a symlink owned by uid $uid" thaw dry-thaw status -- \
    --config="$conf" --state-dir="$l/state-link" -d "$hooks"

# A state directory that does not exist yet, through a user's symlink: root
# must not create it where the link points.
reset
mkdir -p "$top/protected-state"
ln -s "$top/protected-state" "$l/state-new"
chown -h "$uid:$gid" "$l/state-new"
for phase in freeze thaw; do
    n=$((n + 1))
    out=$("$bin" --no-journal --config="$conf" --state-dir="$l/state-new/fsfreeze-hook" -d "$hooks" -l "$log" \
        $phase 2>&1; cat "$log")
    if [ -e "$top/protected-state/fsfreeze-hook" ]; then
        fail "state-create-user-link [$phase]: root created the state directory where the user's symlink points"
        rm -rf "$top/protected-state/fsfreeze-hook"
    fi
    case $out in
    *"$l/state-new is a symlink owned by uid $uid"*) ;;
    *) fail "state-create-user-link [$phase]: no refusal naming $l/state-new"; printf '%s\n' "$out" | sed 's/^/    /' ;;
    esac
done

# A state directory still to be created in a sticky shared directory (as
# /tmp): anyone can create it first, with forged records, between the check
# and the read (--status, --dry-run thaw), or make a missing parent a link
# so that root creates it elsewhere. Refused while missing, as it would be
# if the user had created it.
reset
printf '#!/bin/sh\nexit 0\n' > "$hooks/10-ok"
chmod 0755 "$hooks/10-ok"
mkdir -p "$top/shared"
chmod 1777 "$top/shared"
for mode in freeze dry-thaw status; do
    n=$((n + 1))
    case $mode in
    freeze) out=$("$bin" --no-journal --config="$conf" --state-dir="$top/shared/a/state" -d "$hooks" -l "$log" \
        freeze 2>&1; cat "$log") ;;
    dry-thaw) out=$("$bin" --config="$conf" --state-dir="$top/shared/a/state" -d "$hooks" --dry-run thaw 2>&1) ;;
    status) out=$("$bin" --config="$conf" --state-dir="$top/shared/a/state" --status 2>&1) ;;
    esac
    rm -f "$log"
    [ -e "$top/shared/a" ] && fail "state-shared-missing [$mode]: root created $top/shared/a"
    rm -rf "$top/shared/a"
    case $out in
    *"state directory $top/shared/a/state is not trusted: $top/shared is writable by group or others"*) ;;
    *) fail "state-shared-missing [$mode]: no refusal naming $top/shared"; printf '%s\n' "$out" | sed 's/^/    /' ;;
    esac
done

# --- the log -----------------------------------------------------------------------

reset
mkdir -p "$top/protected"
ln -s "$top/protected" "$l/logdir"
chown -h "$uid:$gid" "$l/logdir"
printf '#!/bin/sh\nexit 0\n' > "$hooks/10-ok"
chmod 0755 "$hooks/10-ok"
for phase in freeze thaw; do
    n=$((n + 1))
    out=$("$bin" --no-journal $base -d "$hooks" -l "$l/logdir/fsfreeze-hook.log" $phase 2>&1)
    if [ -e "$top/protected/fsfreeze-hook.log" ]; then
        fail "log-user-link [$phase]: root wrote its log where the user's symlink points"
        rm -f "$top/protected/fsfreeze-hook.log"
    fi
    case $out in
    *"$l/logdir is a symlink owned by uid $uid"*) ;;
    *) fail "log-user-link [$phase]: no refusal naming $l/logdir"; printf '%s\n' "$out" | sed 's/^/    /' ;;
    esac
done

# A log directory that a group may write, as Ubuntu's root:syslog 0775
# /var/log: the group's member is the attacker. A symlink or a file of the
# member's own as the log is refused by name; a root file hard-linked there
# (what fs.protected_hardlinks=0 lets anyone do; made by root here) would
# have root append every hook's output to it.
reset
logs=$top/var-log
mkdir "$logs"
chgrp "$gid" "$logs"
chmod 0775 "$logs"
printf 'root secret\n' > "$top/protected/victim"
chmod 0600 "$top/protected/victim"
glog=$logs/fsfreeze-hook.log
log_group() {
    for phase in freeze thaw; do
        n=$((n + 1))
        out=$("$bin" --no-journal $base -d "$hooks" -l "$glog" $phase 2>&1)
        if [ "$(cat "$top/protected/victim")" != "root secret" ]; then
            fail "$1 [$phase]: root wrote its log into $top/protected/victim"
            printf 'root secret\n' > "$top/protected/victim"
        fi
        case $out in
        *"$2"*) ;;
        *) fail "$1 [$phase]: no refusal naming $2"; printf '%s\n' "$out" | sed 's/^/    /' ;;
        esac
    done
}
as_user ln -s "$top/protected/victim" "$glog"
log_group log-group-symlink "$glog is a symlink owned by uid $uid"
rm -f "$glog"
as_user touch "$glog"
log_group log-group-own-file "$glog is owned by uid $uid"
rm -f "$glog"
ln "$top/protected/victim" "$glog"
log_group log-group-hardlink "$glog has 2 hard links"
rm -f "$glog"
# Any root file of the directory renamed over the log: a world-readable one
# (as /var/log/dpkg.log) would publish every hook's output.
printf 'other\n' > "$logs/other.log"
chmod 0644 "$logs/other.log"
as_user mv -f "$logs/other.log" "$glog"
log_group log-group-swap "$glog is readable by group or others in a directory a group can write"
if [ "$(cat "$glog")" != other ]; then
    fail "log-group-swap: root appended the hooks' output to a world-readable file"
fi
rm -f "$glog"

# --- the metrics file ------------------------------------------------------------

# Debian's layout for node_exporter's textfile collector: /var/lib/prometheus
# is the prometheus user's, node-exporter in it root's. The metrics file is
# written there; but the user can swap node-exporter for a symlink to any
# directory, where root would then create (and replace) the file.
reset
prom=$top/prometheus
mkdir -p "$prom/node-exporter" "$top/protected"
chown "$uid:$gid" "$prom"
mf=$prom/node-exporter/fsfreeze-hook.prom
printf '#!/bin/sh\nexit 0\n' > "$hooks/10-ok"
chmod 0755 "$hooks/10-ok"
n=$((n + 1))
"$bin" --no-journal $base -d "$hooks" -l "$log" --metrics-file="$mf" freeze >/dev/null 2>&1
[ -f "$mf" ] || fail "metrics-user-parent: no metrics file in the layout as it is"
as_user mv "$prom/node-exporter" "$prom/moved"
as_user ln -s "$top/protected" "$prom/node-exporter"
for phase in freeze thaw; do
    n=$((n + 1))
    out=$("$bin" --no-journal $base -d "$hooks" -l "$log" --metrics-file="$mf" $phase 2>&1; cat "$log")
    if [ -e "$top/protected/fsfreeze-hook.prom" ]; then
        fail "metrics-user-parent [$phase]: root wrote the metrics file where the user's symlink points"
        rm -f "$top/protected/fsfreeze-hook.prom"
    fi
    case $out in
    *"cannot write the metrics file $mf: Too many levels of symbolic links"*) ;;
    *) fail "metrics-user-parent [$phase]: no error naming $mf"; printf '%s\n' "$out" | sed 's/^/    /' ;;
    esac
done

# --- other platforms' scripts and entry points (issue 13) --------------------------

# An image (--root) whose platform directories the user owns or redirects:
# run as root with platform-scripts=, their scripts are judged as hooks.
img=$top/img
plat="--platform-scripts=all --root=$img"
reset
rm -rf "$img"
mkdir -p "$img/etc/vmware-tools/backupScripts.d"
chown "$uid:$gid" "$img/etc/vmware-tools/backupScripts.d"
cp -p "$l/sh" "$img/etc/vmware-tools/backupScripts.d/payload"
run_modes plat-vmware-user-dir "$img/etc/vmware-tools/backupScripts.d is owned by uid $uid" $all -- \
    $base -d "$hooks" $plat

# The legacy script, root's link through the user's link to the payload.
reset
rm -rf "$img"
mkdir -p "$img/usr/sbin"
ln -s "$victim/10-payload" "$l/legacy-link"
chown -h "$uid:$gid" "$l/legacy-link"
ln -s "$l/legacy-link" "$img/usr/sbin/pre-freeze-script"
run_modes plat-legacy-via-user-link "$l/legacy-link is a symlink owned by uid $uid" freeze dry-freeze check -- \
    $base -d "$hooks" $plat

# Azure's JSON, root's and trusted, names a user's script (read by sh):
# the script is walked as a hook is.
reset
rm -rf "$img"
mkdir -p "$img/etc/azure" "$img/home/u"
chown "$uid:$gid" "$img/home/u"
cp -p "$l/sh" "$img/home/u/pre.sh"
printf '{"preScriptLocation": "/home/u/pre.sh", "postScriptLocation": "/home/u/pre.sh"}\n' \
    > "$img/etc/azure/VMSnapshotScriptPluginConfig.json"
chmod 0600 "$img/etc/azure/VMSnapshotScriptPluginConfig.json"
run_modes plat-azure-user-script "$img/home/u is owned by uid $uid" $all -- $base -d "$hooks" $plat

# Azure's JSON of the user's own, naming the root payload.
reset
rm -rf "$img"
mkdir -p "$img/etc/azure" "$img/opt"
cp -p "$victim/10-payload" "$img/opt/payload"
printf '{"preScriptLocation": "/opt/payload", "postScriptLocation": "/opt/payload"}\n' > "$u/azure.json"
chown "$uid:$gid" "$u/azure.json"
ln -s "$u/azure.json" "$img/etc/azure/VMSnapshotScriptPluginConfig.json"
run_modes plat-azure-user-json "$u is owned by uid $uid" $all -- $base -d "$hooks" $plat

# The host's argument to an agent's entry point (vmtoolsd's scriptArg) is
# data: "-dDIR" must not make root run the programs of a root directory.
reset
rm -rf "$img"
mkdir -p "$img/etc/vmware-tools/backupScripts.d"
ln -s "$bin" "$img/etc/vmware-tools/backupScripts.d/fsfreeze-hook"
for phase in freeze thaw freezeFail; do
    n=$((n + 1))
    rm -f "$mark" "$log"
    "$img/etc/vmware-tools/backupScripts.d/fsfreeze-hook" --no-journal -l "$log" $base -d "$hooks" $phase \
        "-d$victim" > /dev/null 2>&1
    [ -e "$mark" ] && fail "agent-arg-option [$phase]: the scriptArg ran $victim as uid $(cat "$mark")"
done

# --attach as root into an image whose directories the user owns or
# redirects: nothing written there, nor where a link points.
reset
rm -rf "$img" "$top/protected"
mkdir -p "$img/usr/local/sbin" "$img/etc" "$top/protected"
chown "$uid:$gid" "$img/usr/local/sbin"
as_user ln -s "$top/protected" "$u/google"
ln -s "$u/google" "$img/etc/google"
for a in nutanix gce; do
    n=$((n + 1))
    out=$("$bin" --root="$img" --attach=$a 2>&1) && fail "attach-user-dir [$a]: attached"
    written=$(find "$img/usr/local/sbin" "$top/protected" -mindepth 1)
    [ -n "$written" ] && fail "attach-user-dir [$a]: root wrote into the user's directories: $written"
    case $a:$out in
    nutanix:*"$img/usr/local/sbin is owned by uid $uid"*|gce:*"$img/etc/google is a symlink"*) ;;
    *) fail "attach-user-dir [$a]: no refusal naming the user's path"; printf '%s\n' "$out" | sed 's/^/    /' ;;
    esac
done

echo "$n attacks, $failures failed"
[ "$failures" = 0 ]
