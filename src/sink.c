/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"

void fh_sink_init(struct fh_sink *sink, int fd) {
        sink->fd = fd;
        sink->error = 0;
        sink->len = 0;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (w == 0)
                        return -EIO;
                p += w;
                n -= (size_t) w;
        }
        return 0;
}

int fh_sink_flush(struct fh_sink *sink) {
        if (sink->fd < 0 || sink->error < 0) {
                sink->len = 0;
                return sink->error;
        }
        if (sink->len > 0)
                sink->error = write_all(sink->fd, sink->buf, sink->len);
        sink->len = 0;
        return sink->error;
}

int fh_sink_append(struct fh_sink *sink, const char *data, size_t n) {
        if (sink->fd < 0 || sink->error < 0)
                return sink->error;
        if (sink->len + n > sizeof sink->buf && fh_sink_flush(sink) < 0)
                return sink->error;
        if (n > sizeof sink->buf)
                return sink->error = write_all(sink->fd, data, n);
        memcpy(sink->buf + sink->len, data, n);
        sink->len += n;
        return 0;
}

void fh_sink_reserve(struct fh_sink *sink, size_t n) {
        if (sink->len + n > sizeof sink->buf)
                (void) fh_sink_flush(sink);
}
