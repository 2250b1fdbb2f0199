/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <glib.h>

#include "timeutil.h"

/* POSIX TZ strings need no tzdata: "XXX-05:30" is five and a half hours
 * east of UTC. */
static void format_in_zone(const char *tz, time_t sec, long nsec, char buf[static FH_TIMESTAMP_MAX]) {
        struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };

        setenv("TZ", tz, 1);
        tzset();
        assert_int_equal(fh_format_timestamp(&ts, buf), 0);
}

static void test_timestamp_utc(void **state) {
        char buf[FH_TIMESTAMP_MAX];

        /* 2026-11-23 03:04:25 UTC */
        format_in_zone("UTC0", 1795403065, 123456789, buf);
        assert_string_equal(buf, "2026-11-23T03:04:25.123+00:00");
}

static void test_timestamp_offsets(void **state) {
        char buf[FH_TIMESTAMP_MAX];

        format_in_zone("IST-05:30", 1795403065, 0, buf);
        assert_string_equal(buf, "2026-11-23T08:34:25.000+05:30");
        format_in_zone("NST03:30", 1795403065, 999999999, buf);
        assert_string_equal(buf, "2026-11-22T23:34:25.999-03:30");
}

static void test_usec_timestamp(void **state) {
        char buf[FH_TIMESTAMP_MAX];

        setenv("TZ", "UTC0", 1);
        tzset();
        fh_format_usec_timestamp(INT64_C(1795403065123456), "unknown", buf);
        assert_string_equal(buf, "2026-11-23T03:04:25.123+00:00");
        /* Not set: each caller's own words, never 1970 or a negative
         * fraction. */
        fh_format_usec_timestamp(0, "an unknown time", buf);
        assert_string_equal(buf, "an unknown time");
        fh_format_usec_timestamp(-1500000, "unknown", buf);
        assert_string_equal(buf, "unknown");
}

static void test_format_duration(void **state) {
        char buf[32];

        fh_format_duration(0, buf, sizeof buf);
        assert_string_equal(buf, "0.000 s");
        fh_format_duration(12345, buf, sizeof buf);
        assert_string_equal(buf, "0.012 s");
        fh_format_duration(61250000, buf, sizeof buf);
        assert_string_equal(buf, "61.250 s");
}

static void test_monotonic_advances(void **state) {
        int64_t a, b;

        assert_int_equal(fh_now_monotonic_usec(&a), 0);
        assert_int_equal(fh_now_monotonic_usec(&b), 0);
        assert_true(b >= a);
        assert_true(a > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_timestamp_utc),
                cmocka_unit_test(test_timestamp_offsets),
                cmocka_unit_test(test_usec_timestamp),
                cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_monotonic_advances),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
