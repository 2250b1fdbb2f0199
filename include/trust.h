/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <glib.h>

/* The trust policy, as OpenSSH's secure path check and systemd's chase()
 * apply it: what qemu-ga's root runs must be something nobody but root
 * could have written or redirected. A path is trusted only if every step
 * of its resolution is:
 * - every directory, from / down, is owned by root and not writable by
 *   group or others; a world-writable directory with the sticky bit (/tmp)
 *   is acceptable above the last directory, since nobody else can replace
 *   an entry that root owns there;
 * - every symlink met on the way is owned by root (a user's symlink, even
 *   in a sticky directory, could point anywhere), its directory is a
 *   directory of the walk, and its target is walked the same way, relative
 *   or absolute, at most 32 of them (loops are refused);
 * - no step is on a FUSE filesystem, whose owners and modes are whatever
 *   its user-space server reports;
 * - the object itself is owned by root and not writable by group or others,
 *   and the directory it really is in is not world-writable even if sticky.
 * The path is resolved once, from / with O_PATH|O_NOFOLLOW, one component
 * at a time, judging each step as it is taken, and the descriptor of what
 * was judged is the one used (executed, read).
 *
 * Problems are returned as text naming the file and the fix, e.g.
 * "/etc/qemu/fsfreeze-hook.d is writable by group or others (fix: chmod go-w '/etc/qemu/fsfreeze-hook.d')". */
struct fh_trust;

/* Trusted owners are root and 'owner' (root too, except in tests). */
struct fh_trust *fh_trust_new(uid_t owner);
/* For where root writes rather than what it runs (the log): a directory
 * that a group may write (Ubuntu's /var/log is root:syslog 0775) is
 * accepted; everything else is as above. */
struct fh_trust *fh_trust_new_for_output(uid_t owner);
void fh_trust_free(struct fh_trust *t);
typedef struct fh_trust fh_trust;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_trust, fh_trust_free)

/* Resolves and checks directory 'dir' as described above. Returns 0 if
 * trusted, -EPERM with *ret_problem set if not, or another -errno if it
 * cannot be resolved (then *ret_problem says so too). Results are cached
 * per directory name, so each directory is walked once per run. */
int fh_trust_check_dir(struct fh_trust *t, const char *dir, char **ret_problem);

/* The same for a directory root will create if missing, or read if it
 * exists (the state directory): missing, it is not trusted (-EPERM) if
 * its deepest existing directory is one others can add to, such as a
 * sticky /tmp: anyone could create it first, or a link on its way. */
int fh_trust_check_new_dir(struct fh_trust *t, const char *dir, char **ret_problem);

/* Resolves 'path' as described above and opens what it leads to: a
 * regular file (or /dev/null) with 'flags' (O_NOFOLLOW and O_CLOEXEC are
 * added), anything else with O_PATH. Returns 0 once resolved, with *ret_fd,
 * *ret_st (its fstat) and *ret_problem: NULL if trusted, else the first
 * problem met. The caller must not execute, or hand to anything it starts,
 * a descriptor that comes with a problem. Returns -errno, with
 * *ret_problem, if it cannot be resolved. */
int fh_trust_open(struct fh_trust *t, const char *path, int flags, int *ret_fd, struct stat *ret_st,
                  char **ret_problem);

/* The same for entry 'name' of directory 'dir', which is resolved once
 * for all its entries (fh_trust_check_dir) and is part of the judgement. */
int fh_trust_open_in(struct fh_trust *t, const char *dir, const char *name, int flags, int *ret_fd,
                     struct stat *ret_st, char **ret_problem);

/* The interpreter that running the opened script 'fd' would start, judged
 * as a hook is: the #! program, for "#!/usr/bin/env NAME" also NAME as
 * found in 'search_path' and every directory searched before it, and, if
 * the interpreter is itself a script, its own interpreter (at most 4
 * levels, as the kernel). Returns 0 if trusted (or 'fd' is no script),
 * -EPERM with *ret_problem if not. Cached per interpreter. */
int fh_trust_check_interpreter(struct fh_trust *t, int fd, const char *search_path, char **ret_problem);

/* The problem with one object, or NULL if it is fine: the pure rule.
 * 'owner' as for fh_trust_new(). A symlink is judged by its owner only. */
char *fh_trust_judge(const struct stat *st, const char *path, uid_t owner, bool above_hook_dir);

/* Whether 'st' is the null device (the empty file, a mask). */
bool fh_is_null_device(const struct stat *st);

/* Parses a #! line from the first 'len' bytes of a file as the kernel
 * does (the program, then all the rest as one argument): *ret_program is
 * the program it names; for env, *ret_env_name is the NAME env looks up in
 * PATH ("#!/usr/bin/env NAME", "#!/usr/bin/env -S NAME ARGS..."), "" if
 * env is given options or assignments the policy does not follow (they
 * could change the search path), NULL if env runs nothing or the program
 * is not env. Returns false if there is no #! line naming a program. Pure. */
bool fh_shebang_parse(const char *head, size_t len, char **ret_program, char **ret_env_name);

/* The search path 'search_path' without the directories the policy refuses
 * (a relative entry is the working directory, judged as such; a missing
 * one is dropped silently): each one refused is said in 'problems' ("PATH
 * entry /x is not trusted: ..."). Every directory in the hooks' PATH
 * decides what their commands, and "#!/usr/bin/env NAME", run. */
char *fh_trust_search_path(struct fh_trust *t, const char *search_path, GPtrArray *problems);
