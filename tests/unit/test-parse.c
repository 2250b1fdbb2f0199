/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "parse.h"

static void test_parse_seconds(void **state) {
        int64_t ms = -1;

        assert_int_equal(fh_parse_seconds("60", &ms), 0);
        assert_int_equal(ms, 60000);
        assert_int_equal(fh_parse_seconds("0", &ms), 0);
        assert_int_equal(ms, 0);
        assert_int_equal(fh_parse_seconds("0.5", &ms), 0);
        assert_int_equal(ms, 500);
        assert_int_equal(fh_parse_seconds("1.25", &ms), 0);
        assert_int_equal(ms, 1250);
        assert_int_equal(fh_parse_seconds("2.001", &ms), 0);
        assert_int_equal(ms, 2001);
        assert_int_equal(fh_parse_seconds("86400", &ms), 0);
        assert_int_equal(ms, 86400000);
}

static void test_parse_seconds_rejects(void **state) {
        const char *bad[] = { "", "-1", "+1", "1e3", "1.", ".5", "1.0001", "abc", "5s", " 5", "5 ", "0x10" };
        int64_t ms = 42;

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_true(fh_parse_seconds(bad[i], &ms) < 0);
        assert_int_equal(fh_parse_seconds("86401", &ms), -ERANGE);
        assert_int_equal(fh_parse_seconds("86400.001", &ms), -ERANGE);  /* found by fuzz-config */
        assert_int_equal(fh_parse_seconds("99999999999999999999", &ms), -ERANGE);
        assert_int_equal(ms, 42);       /* untouched on failure */
}

static void test_parse_size(void **state) {
        uint64_t n = 0;

        assert_int_equal(fh_parse_size("0", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(fh_parse_size("4194304", &n), 0);
        assert_int_equal(n, 4194304);
        assert_int_equal(fh_parse_size("512K", &n), 0);
        assert_int_equal(n, 512 * 1024);
        assert_int_equal(fh_parse_size("4M", &n), 0);
        assert_int_equal(n, 4 * 1024 * 1024);
        assert_int_equal(fh_parse_size("4MiB", &n), 0);
        assert_int_equal(n, 4 * 1024 * 1024);
        assert_int_equal(fh_parse_size("1G", &n), 0);
        assert_int_equal(n, 1024 * 1024 * 1024);
        assert_int_equal(fh_parse_size("1024G", &n), 0);
}

static void test_parse_size_rejects(void **state) {
        const char *bad[] = { "", "M", "-1", "+4", "4m", "4 M", "4MB", "4.5M", "0x10", "4T", " 4" };
        uint64_t n = 42;

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_int_equal(fh_parse_size(bad[i], &n), -EINVAL);
        assert_int_equal(fh_parse_size("1025G", &n), -ERANGE);
        assert_int_equal(fh_parse_size("99999999999999999999999", &n), -ERANGE);
        assert_int_equal(n, 42);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_seconds),
                cmocka_unit_test(test_parse_seconds_rejects),
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_parse_size_rejects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
