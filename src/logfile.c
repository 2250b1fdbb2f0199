/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "logfile.h"

#define LOG_FLAGS (O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Whether others than root may write the directory that holds 'path'. */
static bool shared_dir(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        struct stat st;

        return stat(dir, &st) < 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_uid != 0;
}

int fh_logfile_open(const char *path) {
        struct stat st;
        bool created = true;
        int fd, r;

        /* O_EXCL first so that we know whether we created it: only then do
         * we set its mode, never changing an administrator's choice. */
        fd = open(path, LOG_FLAGS | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno == EEXIST) {
                created = false;
                fd = open(path, LOG_FLAGS);
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
        return fd;

fail:
        close(fd);
        return r;
}
