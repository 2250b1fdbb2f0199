/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define USEC_PER_SEC  INT64_C(1000000)
#define USEC_PER_MSEC INT64_C(1000)

/* "2026-11-23T03:04:25.123+01:00" plus NUL, with room to spare. */
#define FH_TIMESTAMP_MAX 64

/* Monotonic clock in microseconds, for durations and deadlines. Returns
 * -errno if the clock cannot be read (the caller logs the hook as not run). */
int fh_now_monotonic_usec(int64_t *ret_usec);

/* ISO 8601 local time with milliseconds and the UTC offset, e.g.
 * 2026-11-23T03:04:25.123+00:00. Returns -EINVAL if the time cannot be
 * broken down. */
int fh_format_timestamp(const struct timespec *ts, char buf[static FH_TIMESTAMP_MAX]);

/* Same, for 'usec' microseconds since the epoch (as g_get_real_time()
 * gives, and the state records keep); 'unknown' if it is not set (<= 0)
 * or cannot be broken down. Each caller words the unknown its own way. */
void fh_format_usec_timestamp(int64_t usec, const char *unknown, char buf[static FH_TIMESTAMP_MAX]);

/* Same, for the current wall-clock time. Never fails: on a clock error the
 * buffer holds a placeholder so that a log line is still written. */
void fh_format_timestamp_now(char buf[static FH_TIMESTAMP_MAX]);

/* "0.012 s", "61.250 s": durations as they appear in the log. */
void fh_format_duration(int64_t usec, char *buf, size_t size);
