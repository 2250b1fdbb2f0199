/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int fh_now_monotonic_usec(int64_t *ret_usec) {
        struct timespec ts;

        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return -errno;
        *ret_usec = (int64_t) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
        return 0;
}

int fh_format_timestamp(const struct timespec *ts, char buf[static FH_TIMESTAMP_MAX]) {
        struct tm tm;
        char date[32], zone[16];
        int off_min, ms;

        if (!localtime_r(&ts->tv_sec, &tm))
                return -EINVAL;
        if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return -EINVAL;

        /* strftime's %z gives +0100; ISO 8601 extended format wants +01:00. */
        off_min = (int) (tm.tm_gmtoff / 60) % (24 * 60);
        snprintf(zone, sizeof zone, "%c%02d:%02d", off_min < 0 ? '-' : '+', abs(off_min) / 60, abs(off_min) % 60);
        ms = (int) (ts->tv_nsec / 1000000) % 1000;
        snprintf(buf, FH_TIMESTAMP_MAX, "%s.%03d%s", date, ms, zone);
        return 0;
}

void fh_format_usec_timestamp(int64_t usec, const char *unknown, char buf[static FH_TIMESTAMP_MAX]) {
        struct timespec ts = { .tv_sec = usec / USEC_PER_SEC, .tv_nsec = usec % USEC_PER_SEC * 1000 };

        if (usec <= 0 || fh_format_timestamp(&ts, buf) < 0)
                snprintf(buf, FH_TIMESTAMP_MAX, "%s", unknown);
}

void fh_format_timestamp_now(char buf[static FH_TIMESTAMP_MAX]) {
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || fh_format_timestamp(&ts, buf) < 0)
                snprintf(buf, FH_TIMESTAMP_MAX, "(time unknown)");
}

void fh_format_duration(int64_t usec, char *buf, size_t size) {
        if (usec < 0)
                usec = 0;
        snprintf(buf, size, "%lld.%03lld s",
                 (long long) (usec / USEC_PER_SEC),
                 (long long) (usec % USEC_PER_SEC / USEC_PER_MSEC));
}
