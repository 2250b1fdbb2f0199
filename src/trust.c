/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "trust.h"

struct fh_trust {
        uid_t owner;
        GHashTable *dirs;       /* real directory path -> problem, or "" when trusted */
};

struct fh_trust *fh_trust_new(uid_t owner) {
        struct fh_trust *t = g_new0(struct fh_trust, 1);

        t->owner = owner;
        t->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        return t;
}

void fh_trust_free(struct fh_trust *t) {
        if (!t)
                return;
        g_hash_table_unref(t->dirs);
        g_free(t);
}

/* 'path', escaped for the log and quoted for the shell, for the fix. */
static char *quoted(const char *path) {
        g_autofree char *q = g_shell_quote(path);

        return fh_escape_dup(q);
}

char *fh_trust_judge(const struct stat *st, const char *path, uid_t owner, bool above_hook_dir) {
        g_autofree char *shown = fh_escape_dup(path);
        g_autofree char *q = quoted(path);

        if (st->st_uid != 0 && st->st_uid != owner)
                return g_strdup_printf("%s is owned by uid %u, not by root (fix: chown root %s)", shown,
                                       (unsigned) st->st_uid, q);
        if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
                return NULL;
        /* The sticky bit lets nobody but an entry's owner rename or remove
         * it: what root put in /tmp stays root's. */
        if (above_hook_dir && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
                return NULL;
        return g_strdup_printf("%s is writable by group or others (fix: chmod go-w %s)", shown, q);
}

/* Walks 'real' (absolute, no symlinks) from / down, opening each step with
 * O_NOFOLLOW relative to the previous one, so that what is checked is what
 * the path leads to, even if a directory is being swapped meanwhile. */
static int check_chain(const struct fh_trust *t, const char *real, char **ret_problem) {
        g_auto(GStrv) all = g_strsplit(real, "/", -1);
        g_autoptr(GPtrArray) parts = g_ptr_array_new();
        g_autoptr(GString) sofar = g_string_new("/");
        int fd, r = 0;

        for (char **p = all; *p; p++)
                if (**p)
                        g_ptr_array_add(parts, *p);

        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                r = -errno;
        for (guint k = 0; r == 0; k++) {
                struct stat st;
                char *problem;
                int next;

                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        break;
                }
                /* All but the last are above the hook directory. */
                problem = fh_trust_judge(&st, sofar->str, t->owner, k < parts->len);
                if (problem) {
                        *ret_problem = problem;
                        r = -EPERM;
                        break;
                }
                if (k == parts->len)
                        break;
                next = openat(fd, parts->pdata[k], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        r = -errno;
                        break;
                }
                close(fd);
                fd = next;
                if (sofar->len > 1)
                        g_string_append_c(sofar, '/');
                g_string_append(sofar, parts->pdata[k]);
        }
        if (fd >= 0)
                close(fd);
        if (r < 0 && r != -EPERM) {
                g_autofree char *shown = fh_escape_dup(sofar->str);
                *ret_problem = g_strdup_printf("cannot examine %s: %s", shown, g_strerror(-r));
        }
        return r;
}

static int cached_answer(struct fh_trust *t, const char *dir, char **ret_problem) {
        const char *cached = g_hash_table_lookup(t->dirs, dir);

        if (!cached)
                return 1;
        if (!*cached)
                return 0;
        *ret_problem = g_strdup(cached);
        return -EPERM;
}

int fh_trust_check_dir(struct fh_trust *t, const char *dir, char **ret_problem) {
        g_autofree char *real = NULL;
        char *problem = NULL;
        int r;

        /* Every hook asks about its directory: answer from the cache
         * without walking the path again (realpath costs a system call
         * per component). */
        r = cached_answer(t, dir, ret_problem);
        if (r <= 0)
                return r;
        real = realpath(dir, NULL);
        if (!real) {
                r = -errno;
                g_autofree char *shown = fh_escape_dup(dir);
                *ret_problem = g_strdup_printf("cannot examine %s: %s", shown, g_strerror(-r));
                return r;
        }
        r = cached_answer(t, real, ret_problem);
        if (r <= 0)
                return r;
        r = check_chain(t, real, &problem);
        if (r == 0 || r == -EPERM) {
                g_hash_table_insert(t->dirs, g_strdup(real), g_strdup(problem ? problem : ""));
                g_hash_table_insert(t->dirs, g_strdup(dir), g_strdup(problem ? problem : ""));
        }
        if (r < 0)
                *ret_problem = problem;
        return r;
}

/* Where the open file really is: the kernel knows, through /proc. Without
 * /proc, resolve the name, which the directory checks then vouch for. */
static char *real_path_of(int fd, const char *path) {
        g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
        char buf[PATH_MAX];
        ssize_t n = readlink(link, buf, sizeof buf - 1);

        if (n > 0 && buf[0] == '/') {
                buf[n] = '\0';
                return g_strdup(buf);
        }
        return realpath(path, NULL);
}

int fh_trust_check_file(struct fh_trust *t, int fd, const struct stat *st, const char *path, char **ret_problem) {
        g_autofree char *real = real_path_of(fd, path);
        g_autofree char *dir = NULL;
        char *problem;

        if (!real) {
                int r = -errno;
                g_autofree char *shown = fh_escape_dup(path);
                *ret_problem = g_strdup_printf("cannot examine %s: %s", shown, g_strerror(-r));
                return r;
        }
        problem = fh_trust_judge(st, real, t->owner, false);
        if (problem) {
                *ret_problem = problem;
                return -EPERM;
        }
        dir = g_path_get_dirname(real);
        return fh_trust_check_dir(t, dir, ret_problem);
}
