/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "nofollow.h"
#include "thaw_all.h"

static bool is_octal(char c) {
        return c >= '0' && c <= '7';
}

/* The kernel escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t len) {
        GString *out = g_string_sized_new(len);

        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
                    is_octal(s[i + 3])) {
                        g_string_append_c(out, (char) ((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                        i += 3;
                } else
                        g_string_append_c(out, s[i]);
        }
        return g_string_free(out, FALSE);
}

char *fh_mountinfo_mount_point(const char *line) {
        const char *p = line, *end;

        /* mount-id parent-id major:minor root mount-point ... */
        for (int field = 0; field < 4; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return NULL;
                p++;
        }
        end = strchr(p, ' ');
        if (!end || end == p || *p != '/')
                return NULL;
        return unescape(p, (size_t) (end - p));
}

/* Filesystems none of which can be frozen (no freeze_fs in the kernel),
 * whose open may wait on a daemon or a server: a user's FUSE mount with
 * allow_other whose daemon never answers, a hard NFS mount of a server
 * that is down, an automount. Opening one would hang the thaw of every
 * mount after it, with the state lock held. "fuse" also covers fuse.*
 * (a subtype a user chooses), fuseblk and fusectl. */
static bool cannot_freeze(const char *line) {
        static const char *const types[] = { "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "ceph",
                                             "afs", "autofs", "coda", "glusterfs", "lustre" };
        const char *type = strstr(line, " - ");
        size_t len;

        if (!type)
                return false;
        type += 3;
        len = strcspn(type, " \n");
        if (g_str_has_prefix(type, "fuse"))
                return true;
        for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
                if (strlen(types[i]) == len && strncmp(type, types[i], len) == 0)
                        return true;
        return false;
}

/* 'path' as mountinfo gave it, resolved by name again, as root: a user who
 * can rename a directory on the way (a mount below their home) could have
 * put a symlink there since, to a device whose open does something
 * (/dev/watchdog arms the watchdog). A mount point's path holds no symlink
 * (see nofollow.h), and a filesystem's mount point is a directory, or a
 * file bind-mounted: nothing else is opened, and what is opened is what
 * was checked. O_NONBLOCK, O_NOCTTY: should that ever not hold. */
static int open_mount_point(const char *path) {
        g_autofree char *again = NULL;
        struct stat st;
        int fd, r;

        if (fh_open_nofollow(path, &fd) < 0)
                return -1;
        if (fstat(fd, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
                close(fd);
                return -1;
        }
        again = g_strdup_printf("/proc/self/fd/%d", fd);
        r = open(again, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        close(fd);
        return r;
}

/* Whether a FITHAW on 'path' released at least one freeze. */
static bool thaw_one(const char *path) {
        bool thawed = false;
        int fd = open_mount_point(path);
        /* The kernel ignores FITHAW's argument, but its number says "int
         * *": a real one keeps checkers such as valgrind from reading 0. */
        int unused = 0;

        if (fd < 0)
                return false;
        /* Bounded: no filesystem is frozen a million times over. */
        for (int i = 0; i < 1000000 && ioctl(fd, FITHAW, &unused) == 0; i++)
                thawed = true;
        close(fd);
        return thawed;
}

int fh_thaw_all(FILE *mountinfo) {
        char *line = NULL;
        size_t size = 0;
        int n = 0;

        while (getline(&line, &size, mountinfo) > 0) {
                g_autofree char *path = fh_mountinfo_mount_point(line);

                if (path && !cannot_freeze(line) && thaw_one(path))
                        n++;
        }
        free(line);
        return ferror(mountinfo) ? -EIO : n;
}

int fh_thaw_all_mounted(void) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        int n;

        if (!f)
                return -errno;
        n = fh_thaw_all(f);
        fclose(f);
        return n;
}
