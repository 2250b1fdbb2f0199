/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "nofollow.h"
#include "runfile.h"

/* Every byte or an error: a short write sets no errno, and the one left
 * over from an earlier call (the unlink of a stale PATH.new) must not be
 * shown. */
static int write_all(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t w = write(fd, data, len);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                if (w == 0)
                        return -ENOSPC;
                data += w;
                len -= (size_t) w;
        }
        return 0;
}

static int write_and_close(int fd, const char *data, size_t len) {
        int r = write_all(fd, data, len);

        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

int fh_runfile_write(const char *path, const char *data, size_t len, mode_t mode) {
        g_autofree char *tmp = g_strconcat(path, ".new", NULL);
        int fd, r;

        /* O_EXCL|O_NOFOLLOW: in a directory someone else may write, a
         * planted PATH.new is neither followed nor written into; the rename
         * then replaces whatever is at 'path', a link included, not what
         * it points to. */
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_and_close(fd, data, len);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* The same, for entry 'name' of the directory 'dir_fd'. */
static int write_in(int dir_fd, const char *name, const char *data, size_t len, mode_t mode) {
        g_autofree char *tmp = g_strconcat(name, ".new", NULL);
        int fd, r;

        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_and_close(fd, data, len);
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* Absolute 'dir', without following any symlink (see nofollow.h). */
static int open_dir_nofollow(const char *dir, int *ret_fd) {
        struct stat st;
        int fd, r = fh_open_nofollow(dir, &fd);

        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                close(fd);
                return -ENOTDIR;
        }
        *ret_fd = fd;
        return 0;
}

int fh_runfile_write_nofollow(const char *path, const char *data, size_t len, mode_t mode) {
        g_autofree char *dir = g_path_get_dirname(path), *name = g_path_get_basename(path);
        int fd = -1, r;

        if (!g_path_is_absolute(path))
                return -EINVAL;
        r = open_dir_nofollow(dir, &fd);
        if (r < 0)
                return r;
        r = write_in(fd, name, data, len, mode);
        close(fd);
        return r;
}

char *fh_runfile_boot_id(void) {
        char *id = NULL;

        if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
                return NULL;
        return g_strstrip(id);
}
