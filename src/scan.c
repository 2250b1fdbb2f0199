/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "scan.h"

static const char *const verdict_names[_FH_VERDICT_MAX] = {
        [FH_VERDICT_RUN] = "run",
        [FH_VERDICT_DOTFILE] = "hidden file",
        [FH_VERDICT_LEFTOVER] = "backup or package-manager leftover",
        [FH_VERDICT_NOT_EXECUTABLE] = "not executable",
        [FH_VERDICT_DIRECTORY] = "directory",
        [FH_VERDICT_FIFO] = "FIFO",
        [FH_VERDICT_SOCKET] = "socket",
        [FH_VERDICT_DEVICE] = "device node",
        [FH_VERDICT_OTHER_TYPE] = "not a regular file",
        [FH_VERDICT_BROKEN_SYMLINK] = "broken symlink",
        [FH_VERDICT_SYMLINK_LOOP] = "symlink loop",
        [FH_VERDICT_STAT_FAILED] = "cannot be examined",
        [FH_VERDICT_MASKED] = "masked",
        [FH_VERDICT_DISABLED] = "disabled",
        [FH_VERDICT_REFUSED] = "refused",
        [FH_VERDICT_GONE] = "gone",
};

/* QEMU's scripts/qemu-guest-agent/fsfreeze-hook, is_ignored_file(). */
static const char *const ignored_suffixes[] = {
        "~", ".bak", ".orig", ".rpmnew", ".rpmorig", ".rpmsave", ".sample",
        ".dpkg-old", ".dpkg-new", ".dpkg-tmp", ".dpkg-dist", ".dpkg-bak",
        ".dpkg-backup", ".dpkg-remove",
};

void fh_hook_free(struct fh_hook *hook) {
        if (!hook)
                return;
        g_free(hook->name);
        g_free(hook->path);
        g_free(hook->dir);
        if (hook->overridden)
                g_ptr_array_unref(hook->overridden);
        g_free(hook);
}

const char *fh_verdict_to_string(enum fh_verdict verdict) {
        if (verdict < 0 || verdict >= _FH_VERDICT_MAX)
                return NULL;
        return verdict_names[verdict];
}

char *fh_hook_describe_skip(const struct fh_hook *hook) {
        const char *what = fh_verdict_to_string(hook->verdict);

        switch (hook->verdict) {
        case FH_VERDICT_LEFTOVER:
                return g_strdup_printf("%s (*%s)", what, hook->suffix);
        case FH_VERDICT_NOT_EXECUTABLE:
                return g_strdup_printf("%s (chmod +x to run it)", what);
        case FH_VERDICT_STAT_FAILED:
                return g_strdup_printf("%s: %s", what, g_strerror(hook->error));
        case FH_VERDICT_MASKED:
                return g_strdup_printf("%s (symlink to /dev/null)", what);
        default:
                return g_strdup(what);
        }
}

bool fh_verdict_is_notable(enum fh_verdict verdict) {
        switch (verdict) {
        case FH_VERDICT_RUN:
        case FH_VERDICT_DOTFILE:
        case FH_VERDICT_LEFTOVER:
        case FH_VERDICT_DIRECTORY:
        case FH_VERDICT_MASKED:
        case FH_VERDICT_DISABLED:
                return false;
        default:
                return true;
        }
}

const char *fh_ignored_suffix(const char *name) {
        for (size_t i = 0; i < G_N_ELEMENTS(ignored_suffixes); i++)
                if (g_str_has_suffix(name, ignored_suffixes[i]))
                        return ignored_suffixes[i];
        return NULL;
}

enum fh_verdict fh_classify(const char *name, const struct stat *st) {
        if (name[0] == '.')
                return FH_VERDICT_DOTFILE;
        if (fh_ignored_suffix(name))
                return FH_VERDICT_LEFTOVER;
        switch (st->st_mode & S_IFMT) {
        case S_IFREG:
                break;
        case S_IFDIR:
                return FH_VERDICT_DIRECTORY;
        case S_IFIFO:
                return FH_VERDICT_FIFO;
        case S_IFSOCK:
                return FH_VERDICT_SOCKET;
        case S_IFCHR:
        case S_IFBLK:
                return FH_VERDICT_DEVICE;
        default:
                return FH_VERDICT_OTHER_TYPE;
        }
        /* Any execute bit, judged from the mode as systemd does, not with
         * access(X_OK): access() answers for the caller, and an admin's dry
         * run must show what qemu-ga's root will run. */
        if ((st->st_mode & 0111) == 0)
                return FH_VERDICT_NOT_EXECUTABLE;
        return FH_VERDICT_RUN;
}

/* stat() failed on a name readdir() just returned: tell a dangling or
 * looping symlink from anything else. */
static enum fh_verdict classify_stat_error(int dfd, const char *name, int err) {
        struct stat lst;

        if (err == ELOOP)
                return FH_VERDICT_SYMLINK_LOOP;
        if (err == ENOENT && fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
                return FH_VERDICT_BROKEN_SYMLINK;
        return FH_VERDICT_STAT_FAILED;
}

bool fh_is_mask(int dfd, const char *name) {
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return false;
        /* Where it leads, through any chain of links, relative or not:
         * stat() resolves without opening, so no device is touched. */
        return fstatat(dfd, name, &st, 0) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static struct fh_hook *examine_entry(int dfd, const char *dir, const char *name, unsigned char type) {
        g_autoptr(fh_hook) hook = g_new0(struct fh_hook, 1);
        struct stat st;

        hook->name = g_strdup(name);
        hook->path = g_build_filename(dir, name, NULL);
        hook->dir = g_strdup(dir);
        /* Only a symlink can be a mask; readdir usually knows the type. */
        if ((type == DT_LNK || type == DT_UNKNOWN) && fh_is_mask(dfd, name)) {
                hook->verdict = FH_VERDICT_MASKED;
                return g_steal_pointer(&hook);
        }

        /* Names are judged before the file: a dotfile or a leftover is
         * skipped for its name even when it is also a broken symlink. */
        if (name[0] == '.')
                hook->verdict = FH_VERDICT_DOTFILE;
        else if ((hook->suffix = fh_ignored_suffix(name)))
                hook->verdict = FH_VERDICT_LEFTOVER;
        else if (fstatat(dfd, name, &st, 0) < 0) {
                hook->error = errno;
                hook->verdict = classify_stat_error(dfd, name, errno);
        } else
                hook->verdict = fh_classify(name, &st);

        return g_steal_pointer(&hook);
}

static gint compare_names(gconstpointer a, gconstpointer b) {
        const struct fh_hook *x = *(struct fh_hook *const *) a;
        const struct fh_hook *y = *(struct fh_hook *const *) b;

        return strcmp(x->name, y->name);
}

int fh_scan_dir(const char *dir, GPtrArray **ret_hooks) {
        g_autoptr(GPtrArray) hooks = g_ptr_array_new_with_free_func((GDestroyNotify) fh_hook_free);
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = opendir(dir);
        if (!d)
                return -errno;

        errno = 0;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                g_ptr_array_add(hooks, examine_entry(dirfd(d), dir, de->d_name, de->d_type));
                errno = 0;
        }
        if (errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;

        g_ptr_array_sort(hooks, compare_names);
        *ret_hooks = g_steal_pointer(&hooks);
        return 0;
}

static void dir_scan_clear(gpointer p) {
        g_free(((struct fh_dir_scan *) p)->dir);
}

/* 'later' wins over 'earlier', which it takes the history of. */
static void override(struct fh_hook *later, struct fh_hook *earlier) {
        if (!later->overridden)
                later->overridden = g_ptr_array_new_with_free_func(g_free);
        if (earlier->overridden)
                for (guint i = 0; i < earlier->overridden->len; i++)
                        g_ptr_array_add(later->overridden, g_strdup(earlier->overridden->pdata[i]));
        g_ptr_array_add(later->overridden, g_strdup(earlier->path));
}

const char *fh_dir_scan_error(const struct fh_dir_scan *d) {
        if (d->error == 0)
                return NULL;
        return d->error == -ENOENT ? "does not exist" : g_strerror(-d->error);
}

void fh_scan_dirs(char *const *dirs, GPtrArray **ret_hooks, GArray **ret_dirs) {
        g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                               (GDestroyNotify) fh_hook_free);
        GArray *scans = g_array_new(FALSE, TRUE, sizeof(struct fh_dir_scan));
        GPtrArray *merged = g_ptr_array_new_with_free_func((GDestroyNotify) fh_hook_free);
        GHashTableIter it;
        gpointer value;

        g_array_set_clear_func(scans, dir_scan_clear);
        for (char *const *d = dirs; d && *d; d++) {
                g_autoptr(GPtrArray) hooks = NULL;
                struct fh_dir_scan scan = { .dir = g_strdup(*d) };

                scan.error = fh_scan_dir(*d, &hooks);
                g_array_append_val(scans, scan);
                for (guint i = 0; hooks && i < hooks->len; i++) {
                        struct fh_hook *h = hooks->pdata[i];
                        struct fh_hook *earlier = g_hash_table_lookup(by_name, h->name);

                        hooks->pdata[i] = NULL;
                        if (earlier)
                                override(h, earlier);
                        /* Replacing frees the earlier entry. */
                        g_hash_table_replace(by_name, h->name, h);
                }
        }

        g_hash_table_iter_init(&it, by_name);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                g_ptr_array_add(merged, value);
                g_hash_table_iter_steal(&it);
        }
        g_ptr_array_sort(merged, compare_names);
        *ret_hooks = merged;
        *ret_dirs = scans;
}

void fh_hooks_reverse(GPtrArray *hooks) {
        for (guint i = 0, j = hooks->len; i + 1 < j; i++, j--) {
                gpointer t = hooks->pdata[i];

                hooks->pdata[i] = hooks->pdata[j - 1];
                hooks->pdata[j - 1] = t;
        }
}
