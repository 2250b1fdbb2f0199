/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

/* Thaws every mounted filesystem of our mount namespace, as qemu-ga's own
 * guest-fsfreeze-thaw does: FITHAW on each mount point of 'mountinfo' (a
 * /proc/self/mountinfo stream), repeated until the kernel refuses, since
 * each FIFREEZE needs its own FITHAW. Filesystems that were not frozen
 * refuse the first call and are left as they are. The mount points of
 * filesystems that cannot be frozen and whose open may block (FUSE,
 * network filesystems, autofs) are not opened. Returns how many
 * filesystems were thawed (at least one FITHAW succeeded), or -errno if
 * the mount table cannot be read. Writes nothing anywhere. */
int fh_thaw_all(FILE *mountinfo);

/* Same, on /proc/self/mountinfo. */
int fh_thaw_all_mounted(void);

/* The mount point (fifth field) of one mountinfo line, its octal escapes
 * (\040 for a space) decoded, or NULL if the line is malformed (g_free). */
char *fh_mountinfo_mount_point(const char *line);
