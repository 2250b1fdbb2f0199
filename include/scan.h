/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include <glib.h>

/* Why an entry of the hook directory is or is not run. */
enum fh_verdict {
        FH_VERDICT_RUN,
        FH_VERDICT_DOTFILE,
        FH_VERDICT_LEFTOVER,            /* backup or package-manager file */
        FH_VERDICT_NOT_EXECUTABLE,
        FH_VERDICT_DIRECTORY,
        FH_VERDICT_FIFO,
        FH_VERDICT_SOCKET,
        FH_VERDICT_DEVICE,
        FH_VERDICT_OTHER_TYPE,
        FH_VERDICT_BROKEN_SYMLINK,
        FH_VERDICT_SYMLINK_LOOP,
        FH_VERDICT_STAT_FAILED,
        FH_VERDICT_MASKED,              /* a symlink to /dev/null */
        FH_VERDICT_DISABLED,            /* enabled=false in its [hook NAME] group */
        FH_VERDICT_REFUSED,             /* the trust policy: its directory */
        FH_VERDICT_GONE,                /* a thaw: it ran freeze but is gone */
        _FH_VERDICT_MAX,
};

struct fh_hook {
        char *name;             /* entry name, raw bytes */
        char *path;             /* directory + "/" + name: the entry that wins */
        char *dir;              /* its directory */
        enum fh_verdict verdict;
        int error;              /* errno behind FH_VERDICT_STAT_FAILED */
        const char *suffix;     /* the ignored suffix behind FH_VERDICT_LEFTOVER */
        GPtrArray *overridden;  /* paths of the same name in earlier directories */
};

void fh_hook_free(struct fh_hook *hook);
typedef struct fh_hook fh_hook;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_hook, fh_hook_free)

/* Short human reason, e.g. "not executable". */
const char *fh_verdict_to_string(enum fh_verdict verdict);

/* Why this entry is skipped, with details and the fix where there is one,
 * e.g. "not executable (chmod +x to run it)". A new string (g_free). */
char *fh_hook_describe_skip(const struct fh_hook *hook);

/* Whether a skip deserves a line in the log at every run: yes for what
 * looks like a mistake (a hook without execute bit, a broken symlink, a
 * FIFO); no for what is skipped on purpose (dotfiles, package leftovers,
 * subdirectories). */
bool fh_verdict_is_notable(enum fh_verdict verdict);

/* The suffix of QEMU's ignore list that 'name' ends with ("~", ".rpmnew",
 * ".dpkg-old", ...), or NULL. Kept identical to QEMU's script so that
 * moving to this dispatcher runs exactly the same files. */
const char *fh_ignored_suffix(const char *name);

/* Verdict for an entry from its name and the stat() of what it points to
 * (symlinks followed). Pure: used by the scanner and the tests. */
enum fh_verdict fh_classify(const char *name, const struct stat *st);

/* systemd's convention: an entry that is a symlink resolving, through any
 * chain of links, relative or absolute, to /dev/null masks the name.
 * 'dfd' as for fstatat() (AT_FDCWD and a path work). */
bool fh_is_mask(int dfd, const char *name);

/* Lists every entry of 'dir' but "." and "..", classified, in byte order of
 * the names (strcmp, whatever the locale). Never opens an entry, so FIFOs
 * and devices cannot block it. Returns -errno if 'dir' cannot be read
 * (-ENOENT: no hook directory). */
int fh_scan_dir(const char *dir, GPtrArray **ret_hooks);

/* What happened to one directory of a scan. */
struct fh_dir_scan {
        char *dir;
        int error;              /* 0, or -errno: -ENOENT if it does not exist */
};

/* What went wrong with the directory, for a message: "does not exist", or
 * what reading it said; NULL if nothing did. The caller words the rest
 * and chooses the severity (a missing directory is no error). */
const char *fh_dir_scan_error(const struct fh_dir_scan *d);

/* Scans 'dirs' (lowest priority first) and merges them by name, as systemd
 * merges its configuration directories: an entry in a later directory
 * overrides the entries of the same name in earlier ones (they are listed
 * in ->overridden), and an entry that is a symlink to /dev/null masks the
 * name. The result is in byte order of the names. *ret_dirs gets one
 * struct fh_dir_scan per directory. Never fails: a directory that cannot
 * be read contributes nothing and says why in *ret_dirs. */
void fh_scan_dirs(char *const *dirs, GPtrArray **ret_hooks, GArray **ret_dirs);

/* Reverses the array in place (thaw runs the freeze order backwards). */
void fh_hooks_reverse(GPtrArray *hooks);
