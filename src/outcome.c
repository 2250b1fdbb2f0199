/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "outcome.h"
#include "status.h"

/* Write to PATH.new, then rename: readable by all (the host reads it
 * through the agent, which runs as root anyway; nothing in it is secret
 * that the log does not already show to its readers). */
static int write_atomically(const char *path, const char *data, size_t len) {
        g_autofree char *tmp = g_strconcat(path, ".new", NULL);
        int fd, r = 0;

        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, data, len) != (ssize_t) len)
                r = errno ? -errno : -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int fh_outcome_write_status(const char *state_dir) {
        g_autofree char *doc = fh_status_json(state_dir, NULL);
        g_autofree char *path = g_build_filename(state_dir, FH_STATUS_FILE, NULL);

        return write_atomically(path, doc, strlen(doc));
}
