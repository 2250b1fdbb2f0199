/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logfile.h"

#define LOG_FLAGS (O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Read and write where we may, so that the last byte can be read; write
 * only where the file allows no more. */
static int open_existing(const char *path) {
        int fd = open(path, LOG_FLAGS | O_RDWR);

        if (fd < 0 && errno == EACCES)
                fd = open(path, LOG_FLAGS | O_WRONLY);
        return fd;
}

/* Whether the file ends inside a line: a record torn by a full disk (a
 * short write), ours or another writer's. Unknown counts as no. */
static bool ends_open_line(int fd, const struct stat *st) {
        char last;

        return st->st_size > 0 && pread(fd, &last, 1, st->st_size - 1) == 1 && last != '\n';
}

int fh_logfile_open(const char *path, bool *ret_open_line) {
        struct stat st;
        bool created = true;
        int fd, r;

        /* O_EXCL first so that we know whether we created it: only then do
         * we set its mode, never changing an administrator's choice. */
        fd = open(path, LOG_FLAGS | O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno == EEXIST) {
                created = false;
                fd = open_existing(path);
        }
        if (fd < 0)
                return -errno;

        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                goto fail;
        }
        if (created && fchmod(fd, 0600) < 0) {
                r = -errno;
                goto fail;
        }
        /* O_NONBLOCK only served to open without blocking. */
        if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
                r = -errno;
                goto fail;
        }
        *ret_open_line = ends_open_line(fd, &st);
        return fd;

fail:
        close(fd);
        return r;
}
