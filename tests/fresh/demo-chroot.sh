#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command on a fresh machine: a Debian 12 (bookworm)
# minbase root from debootstrap, without the build or test packages, gets a
# copy of the tree under test (its source files only: no build directory),
# and in-chroot.sh runs there as root what a new user runs first. That
# installs the build packages with apt-get from the mirror this machine
# uses, builds, and runs freeze and thaw on the example hooks.
#
# The root is built once and cached as a tarball keyed by its recipe
# (FSFREEZE_FRESH_CACHE, default /var/cache/fsfreeze-hook-fresh), beside
# the .debs apt downloads in it; each run unpacks a new copy, so every run
# starts from the same fresh machine. /proc and /dev are mounted into it
# in a private mount namespace (and unmounted in a trap); a policy-rc.d
# starts no service. Needs root, debootstrap and a Debian mirror; skips
# with a message otherwise.
#
# usage: demo-chroot.sh SOURCE_DIR
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$1" && pwd)
cache=${FSFREEZE_FRESH_CACHE:-/var/cache/fsfreeze-hook-fresh}

# What the root is. Changing any of it changes the cache key.
suite=bookworm
variant=minbase
recipe_version=1

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, mount, chroot)"
for tool in debootstrap unshare chroot sha256sum; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install debootstrap)"
done

# The Debian mirror this machine's apt uses (CI machines may have their
# own), as the VM test finds it.
mirror() {
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -r "$f" ] || continue
        m=$(sed -n -e 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)[[:space:]]*$|\1|p' \
                   -e "s|^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*/debian\)[[:space:]]\{1,\}${suite}[[:space:]].*|\2|p" "$f" | head -1)
        [ -n "$m" ] && { echo "$m"; return; }
    done
    echo http://deb.debian.org/debian
}

key=$(printf '%s %s %s\n' "$recipe_version" "$suite" "$variant" | sha256sum | cut -c1-16)
rootfs=$cache/root-$key.tar
work=
cleanup() {
    [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

mkdir -p "$cache/apt-archives/partial"
if [ -f "$rootfs" ]; then
    log "fresh root from the cache ($rootfs)"
else
    mirror=$(mirror)
    log "debootstrap --variant=$variant $suite from $mirror (once; cached after)"
    work=$(mktemp -d "$cache/build.XXXXXX")
    debootstrap --variant="$variant" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log"; skip "debootstrap cannot make a $suite root from $mirror"; }
    # Renamed into place: a run killed halfway leaves no broken cache.
    tar --numeric-owner -C "$work/root" -cf "$work/root.tar" .
    mv "$work/root.tar" "$rootfs"
    rm -rf "$work"
    log "cached $rootfs"
fi

work=$(mktemp -d /var/tmp/fsfreeze-fresh.XXXXXX)
root=$work/root
mkdir "$root"
tar --numeric-owner -C "$root" -xf "$rootfs"
tree=/root/fsfreeze-hook
mkdir "$root$tree"
"$here/../../.ci/source-files" "$src" >"$work/files" || fail "listing the source files of $src"
(cd "$src" && tar -cf - -T "$work/files") | tar -xf - -C "$root$tree"
cp "$here/in-chroot.sh" "$root/root/in-chroot.sh"
# Name resolution as this machine has it; no service started by a package.
cat /etc/resolv.conf >"$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
log "in a fresh $suite root ($root), as root, in $tree"

# A private mount namespace: the mounts cannot leak to this machine, and
# they go with the namespace even if this script is killed.
status=0
# shellcheck disable=SC2016 # expanded by the inner shell
ROOT=$root TREE=$tree ARCHIVES=$cache/apt-archives unshare -m --propagation private sh -euc '
    cleanup() {
        umount "$ROOT/var/cache/apt/archives" 2>/dev/null || true
        umount -R "$ROOT/dev" 2>/dev/null || true
        umount "$ROOT/proc" 2>/dev/null || true
    }
    trap cleanup EXIT
    mount -t proc proc "$ROOT/proc"
    mount --rbind /dev "$ROOT/dev"
    # The .debs downloaded by an earlier run (only downloaded: the root
    # itself is always fresh).
    mount --bind "$ARCHIVES" "$ROOT/var/cache/apt/archives"
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        sh /root/in-chroot.sh "$TREE"
' || status=$?
[ "$status" = 0 ] || fail "in the fresh root (exit status $status): see above"
