/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <glib.h>

/* The trust policy, as OpenSSH's StrictModes and Azure's backup agent
 * apply it: a hook that qemu-ga's root runs must be one that nobody but
 * root could have written. The hook file, its directory and every
 * directory above it up to / must be owned by root and not writable by
 * group or others. A world-writable directory with the sticky bit (/tmp)
 * is acceptable above the hook directory: nobody else can replace an
 * entry that root owns there. For a symlinked hook the same holds for
 * where it really lives.
 *
 * Problems are returned as text naming the file and the fix, e.g.
 * "/etc/qemu/fsfreeze-hook.d is writable by group or others (fix: chmod go-w '/etc/qemu/fsfreeze-hook.d')". */
struct fh_trust;

/* Trusted owners are root and 'owner' (root too, except in tests). */
struct fh_trust *fh_trust_new(uid_t owner);
void fh_trust_free(struct fh_trust *t);
typedef struct fh_trust fh_trust;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_trust, fh_trust_free)

/* Checks 'dir' (symlinks resolved) and every directory above it. Returns 0
 * if trusted, -EPERM with *ret_problem set if not, or another -errno if it
 * cannot be examined (then *ret_problem says so too). Results are cached
 * per directory. */
int fh_trust_check_dir(struct fh_trust *t, const char *dir, char **ret_problem);

/* Checks an opened hook: 'st' is the fstat() of the descriptor 'fd' that
 * will be executed, 'path' the name it was opened by (for messages). The
 * file itself, then the directory it really is in, found through the
 * descriptor, so a symlink is judged by its target. Same returns. */
int fh_trust_check_file(struct fh_trust *t, int fd, const struct stat *st, const char *path, char **ret_problem);

/* The problem with one object, or NULL if it is fine: the pure rule.
 * 'owner' as for fh_trust_new(). */
char *fh_trust_judge(const struct stat *st, const char *path, uid_t owner, bool above_hook_dir);
