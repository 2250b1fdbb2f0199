/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "nofollow.h"

int fh_open_nofollow(const char *path, int *ret_fd) {
        g_auto(GStrv) parts = NULL;
        int fd;

        if (!g_path_is_absolute(path))
                return -EINVAL;
        parts = g_strsplit(path, "/", -1);
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (char **p = parts; *p; p++) {
                struct stat st;
                int next, r = 0;

                if (!**p || strcmp(*p, ".") == 0)
                        continue;
                /* After a component that was a symlink: ENOTDIR here. */
                next = openat(fd, *p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                if (next < 0)
                        return -errno;
                fd = next;
                if (fstat(fd, &st) < 0)
                        r = -errno;
                else if (S_ISLNK(st.st_mode))
                        r = -ELOOP;
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        *ret_fd = fd;
        return 0;
}

int fh_open_regular(const char *path, struct stat *ret_st) {
        char proc[64];
        struct stat st;
        int fd = open(path, O_PATH | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else {
                g_snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                r = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (r < 0)
                        r = -errno;
        }
        close(fd);
        if (r >= 0)
                *ret_st = st;
        return r;
}
