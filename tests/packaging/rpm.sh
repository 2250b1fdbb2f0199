#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The RPM package: the spec travels in the 'meson dist' tarball, and
# 'rpmbuild -ta' on that tarball builds the package (with Debian's rpm, so
# --nodeps: its rpm database knows no build dependency). Then its file list,
# configuration files, scriptlets and dependencies, with rpm -qp, and
# rpmlint without errors.
#
# usage: rpm.sh BUILD_DIR
set -euo pipefail

BUILD=$(readlink -f "$1")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

for tool in rpmbuild rpm; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install rpm)"
done
SRC=$(cd "$BUILD" && meson introspect --projectinfo 2>/dev/null | sed -n 's/.*"version": "\([^"]*\)".*/\1/p')
[ -n "$SRC" ] || fail "no project version from meson introspect"
VERSION=$SRC

TMP=$(mktemp -d /tmp/fsfreeze-rpm.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

src_dir=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
if command -v git >/dev/null && [ "$(git -C "$src_dir" rev-parse --show-toplevel 2>/dev/null)" = "$src_dir" ]; then
    echo "== meson dist (the tarball of the committed tree)"
    # meson dist packs the last commit: say so when the tree has more, since
    # those changes are then not what this RPM is made of.
    if [ -n "$(git -C "$src_dir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        echo "NOTE: uncommitted changes in $src_dir are not in the tarball: commit them to test them here"
    fi
    (cd "$BUILD" && meson dist --no-tests --allow-dirty --formats xztar >"$TMP/dist.log" 2>&1) ||
        { cat "$TMP/dist.log"; fail "meson dist"; }
    TARBALL=$BUILD/meson-dist/fsfreeze-hook-$VERSION.tar.xz
else
    # No git (meson dist needs it): this tree is a release tarball unpacked,
    # so pack its files again, as meson dist would have.
    echo "== the tarball of this release tree ($src_dir has no git)"
    mkdir "$TMP/dist"
    "$src_dir/.ci/source-files" "$src_dir" >"$TMP/files" || fail ".ci/source-files $src_dir"
    (cd "$src_dir" && tar -cf - -T "$TMP/files") | tar -xf - -C "$TMP/dist" --one-top-level="fsfreeze-hook-$VERSION"
    TARBALL=$TMP/fsfreeze-hook-$VERSION.tar.xz
    tar -cJf "$TARBALL" -C "$TMP/dist" "fsfreeze-hook-$VERSION"
fi
# (Output captured before grep -q: with pipefail, its early exit would
# fail the writer with SIGPIPE.)
contents=$(tar -tJf "$TARBALL")
grep -qx "fsfreeze-hook-$VERSION/fsfreeze-hook.spec" <<<"$contents" || fail "the spec is not in the tarball"
# Unpacked as root, a tarball keeps its modes: a group-writable example hook
# is then refused by the trust policy (git archive, under meson dist, writes
# 0775 and 0664 unless the dist script in meson.build clears go-w).
writable=$(tar -tvJf "$TARBALL" | awk '$1 ~ /^l/ { next } substr($1, 6, 1) == "w" || substr($1, 9, 1) == "w" { print $NF }')
[ -z "$writable" ] || fail "writable by group or others in the tarball: $(tr "\n" " " <<<"$writable" | head -c 300)"
grep -q "^Version: *$VERSION$" <(tar -xJOf "$TARBALL" "fsfreeze-hook-$VERSION/fsfreeze-hook.spec") ||
    fail "the spec's Version is not the project's ($VERSION)"

echo "== rpmbuild -ta"
rpmbuild -ta --nodeps --define "_topdir $TMP/rpm" "$TARBALL" >"$TMP/rpmbuild.log" 2>&1 ||
    { tail -40 "$TMP/rpmbuild.log"; fail "rpmbuild"; }
RPM=$(find "$TMP/rpm/RPMS" -name "fsfreeze-hook-$VERSION-*.rpm" ! -name '*debug*' | head -1)
[ -n "$RPM" ] || fail "no package built"
echo "built ${RPM##*/}"

echo "== contents"
list=$(rpm -qp --list "$RPM")
for f in /usr/sbin/fsfreeze-hook /usr/share/man/man8/fsfreeze-hook.8 /usr/share/man/man5/fsfreeze-hook.conf.5 \
         /etc/qemu-ga/fsfreeze-hook.conf /etc/logrotate.d/fsfreeze-hook /usr/lib/tmpfiles.d/fsfreeze-hook.conf \
         /usr/lib/systemd/system/qemu-guest-agent.service.d/fsfreeze-hook.conf /usr/lib/fsfreeze-hook/qemu-ga.env \
         /usr/lib/qemu-ga/fsfreeze-hook.d /usr/share/doc/fsfreeze-hook/examples/10-mysql-flush-lock; do
    grep -qx -- "$f" <<<"$list" || fail "$f is not in the package"
done
# %doc: /usr/share/doc/NAME on Fedora and RHEL, NAME-VERSION on Debian's rpm.
grep -Eqx -- "/usr/share/doc/fsfreeze-hook(-$VERSION)?/fsfreeze-hook-deploy" <<<"$list" ||
    fail "the host-side helper is not in the package's documentation"
# Nothing qemu-guest-agent owns on Fedora and RHEL.
for f in /etc/qemu-ga/fsfreeze-hook /etc/qemu-ga/fsfreeze-hook.d /etc/sysconfig/qemu-ga \
         /usr/lib/systemd/system/qemu-guest-agent.service; do
    grep -qx -- "$f" <<<"$list" && fail "$f belongs to qemu-guest-agent"
done
config=$(rpm -qp --configfiles "$RPM")
grep -qx /etc/qemu-ga/fsfreeze-hook.conf <<<"$config" || fail "the configuration is not %config"
flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$RPM")
grep -qx "cn /etc/qemu-ga/fsfreeze-hook.conf" <<<"$flags" || fail "the configuration is not %config(noreplace)"

echo "== what makes qemu-ga run it"
rpm2cpio "$RPM" | (cd "$TMP" && cpio -idm --quiet ./usr/lib/fsfreeze-hook/qemu-ga.env \
    ./usr/lib/systemd/system/qemu-guest-agent.service.d/fsfreeze-hook.conf ./etc/qemu-ga/fsfreeze-hook.conf)
grep -qx 'FSFREEZE_HOOK_PATHNAME=/usr/sbin/fsfreeze-hook' "$TMP/usr/lib/fsfreeze-hook/qemu-ga.env" || fail "qemu-ga.env"
grep -qx 'EnvironmentFile=/usr/lib/fsfreeze-hook/qemu-ga.env' \
    "$TMP/usr/lib/systemd/system/qemu-guest-agent.service.d/fsfreeze-hook.conf" || fail "the drop-in"
grep -qx 'hook-dirs=/usr/lib/qemu-ga/fsfreeze-hook.d;/etc/qemu-ga/fsfreeze-hook.d' "$TMP/etc/qemu-ga/fsfreeze-hook.conf" ||
    fail "the configuration's hook directories"

echo "== dependencies and scriptlets"
requires=$(rpm -qp --requires "$RPM")
grep -qx qemu-guest-agent <<<"$requires" || fail "no dependency on qemu-guest-agent"
grep -q '^libglib-2.0.so.0' <<<"$requires" || fail "no dependency on GLib"
grep -q '^libsystemd' <<<"$requires" && fail "libsystemd is loaded at run time, not linked"
grep -q 'python' <<<"$requires" && fail "the host-side helper made the guest's package need python: $requires"
scripts=$(rpm -qp --scripts "$RPM")
for s in "semanage fcontext -a -t virt_qemu_ga_unconfined_exec_t '/usr/lib/qemu-ga/fsfreeze-hook" \
         "restorecon -R /usr/lib/qemu-ga" "systemctl try-restart qemu-guest-agent.service" \
         "semanage fcontext -d '/usr/lib/qemu-ga/fsfreeze-hook"; do
    grep -qF -- "$s" <<<"$scripts" || fail "no '$s' in the scriptlets"
done
# The restart of qemu-ga that cannot kill its own caller: rpm's macro
# expansion left it exactly as in the Debian scripts (tests/packaging/restart.sh
# tests that block as shell).
block() { awk '/^# >>> qemu-ga restart/ { on = 1 } on { print } /^# <<< qemu-ga restart/ { on = 0 }'; }
deb_block=$(block <"$(dirname "$(readlink -f "$0")")/../../debian/postinst")
[ -n "$deb_block" ] || fail "no restart block in debian/postinst"
for tag in POSTIN POSTUN; do
    script=$(rpm -qp --qf "%{$tag}\n" "$RPM")
    [ "$(block <<<"$script")" = "$deb_block" ] || fail "%$tag's restart of qemu-ga is not the Debian scripts'"
    grep -qx '    fsfreeze_restart_qga /proc/\$\$/cgroup systemctl try-restart qemu-guest-agent.service' <<<"$script" ||
        fail "%$tag does not restart qemu-ga through fsfreeze_restart_qga"
done
# An erase ($1 == 0, not an upgrade) takes back what --attach made for
# other platforms' agents while the program is still there (%preun): the
# block of debian/prerm (tests/packaging/detach.sh tests it as shell).
dblock() { awk '/^# >>> detach/ { on = 1 } on { print } /^# <<< detach/ { on = 0 }'; }
deb_detach=$(dblock <"$(dirname "$(readlink -f "$0")")/../../debian/prerm")
[ -n "$deb_detach" ] || fail "no detach block in debian/prerm"
preun=$(rpm -qp --qf '%{PREUN}\n' "$RPM")
[ "$(dblock <<<"$preun")" = "$deb_detach" ] || fail "%preun has not the Debian prerm's detach: $preun"
# shellcheck disable=SC2016 # the scriptlet's own \$1
grep -A1 -x 'if \[ "\$1" -eq 0 \]; then' <<<"$preun" | grep -qx '    fsfreeze_detach_all /usr/sbin/fsfreeze-hook' ||
    fail "%preun does not detach /usr/sbin/fsfreeze-hook under \$1 == 0: $preun"
grep -q "preuninstall scriptlet" <<<"$scripts" || fail "no %preun in rpm -qp --scripts"
# The scriptlets are valid shell.
rpm -qp --qf '%{POSTIN}\n' "$RPM" | sh -n || fail "%post is not valid shell"
rpm -qp --qf '%{PREUN}\n' "$RPM" | sh -n || fail "%preun is not valid shell"
rpm -qp --qf '%{POSTUN}\n' "$RPM" | sh -n || fail "%postun is not valid shell"

if command -v rpmlint >/dev/null; then
    echo "== rpmlint"
    rpmlint -r "$(dirname "$0")/rpmlintrc" "$RPM" | tee "$TMP/rpmlint.log" | tail -3
    grep -q " 0 errors" "$TMP/rpmlint.log" || fail "rpmlint found errors"
else
    echo "rpmlint not installed: not linted"
fi
echo "PASS"
