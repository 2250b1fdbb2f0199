/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <syslog.h>

#include "capture.h"
#include "parse.h"

static void on_chunk(void *userdata) {
        struct fh_capture *c = userdata;

        fh_log_refresh_clock(c->log);
}

static bool on_output(void *userdata, enum fh_stream stream, const char *line, size_t len, bool continued) {
        struct fh_capture *c = userdata;

        /* Past the limit (the log counts the bytes it writes) the output
         * is still read, so the hook never blocks on a full pipe, but only
         * counted (by on_discarded, this line included). Whole lines or
         * none. */
        return fh_log_hook_output(c->log, stream, line, len, continued);
}

static void on_discarded(void *userdata, size_t bytes) {
        struct fh_capture *c = userdata;

        c->dropped += bytes;
}

static void on_idle(void *userdata) {
        struct fh_capture *c = userdata;

        fh_log_flush(c->log);
}

void fh_capture_start(struct fh_capture *cap, struct fh_log *log, uint64_t max_output) {
        *cap = (struct fh_capture) {
                .log = log,
                .max_output = max_output,
                .observer = {
                        .chunk = on_chunk, .output = on_output, .discarded = on_discarded, .idle = on_idle,
                        .userdata = cap,
                },
        };
        fh_log_set_output_limit(log, max_output);
}

void fh_capture_finish(const struct fh_capture *cap) {
        char limit[32];

        if (cap->dropped == 0)
                return;
        fh_format_size(cap->max_output, limit, sizeof limit);
        fh_log_message(cap->log, LOG_WARNING, "output-dropped",
                       "output over the limit of %s: %" G_GUINT64_FORMAT " more bytes read and not logged "
                       "(see max-output)", limit, cap->dropped);
}
