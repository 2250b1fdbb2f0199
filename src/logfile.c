/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "logfile.h"

#define LOG_FLAGS (O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Whether others than root may write the directory that holds 'path'. */
static bool shared_dir(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        struct stat st;

        return stat(dir, &st) < 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_uid != 0;
}

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
        /* As root, what was opened is judged again: the name was checked
         * before, but in a directory a group may write, a member can put
         * a file of theirs, or a hard link, there in between. */
        if (geteuid() == 0 && !created && (st.st_uid != 0 || st.st_nlink != 1)) {
                r = st.st_uid != 0 ? -EPERM : -EMLINK;
                goto fail;
        }
        /* And in such a directory, a member can rename any file of it
         * over the log: it must be root's alone, or others could read it. */
        if (geteuid() == 0 && !created && (st.st_mode & 0077) && shared_dir(path)) {
                r = -EACCES;
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
