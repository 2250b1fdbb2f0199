/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <cmocka.h>

#include "result.h"

#define assert_describes(r, expected)                           \
        do {                                                    \
                char _b[256];                                   \
                fh_result_describe(&(r), _b, sizeof _b);        \
                assert_string_equal(_b, expected);              \
        } while (0)

static void test_clean_exit(void **state) {
        struct fh_result r = { .exit_status = 0 };

        assert_describes(r, "status=0");
        assert_false(fh_result_failed(&r));
        assert_int_equal(fh_result_priority(&r), LOG_INFO);
        assert_int_equal(fh_result_status(&r), 0);
}

static void test_nonzero_exit(void **state) {
        struct fh_result r = { .exit_status = 3 };

        assert_describes(r, "status=3");
        assert_true(fh_result_failed(&r));
        assert_int_equal(fh_result_priority(&r), LOG_WARNING);
}

static void test_signal_named(void **state) {
        struct fh_result r = { .exit_status = -1, .signal = SIGSEGV };

        /* 128 + signal, as QEMU's shell script would have logged it. */
        assert_describes(r, "status=139 (killed by SIGSEGV)");
        assert_int_equal(fh_result_priority(&r), LOG_ERR);
}

static void test_timeout(void **state) {
        struct fh_result term = { .exit_status = -1, .signal = SIGTERM, .timed_out = true, .timeout_usec = 60000000 };
        struct fh_result kill9 = { .exit_status = -1, .signal = SIGKILL, .timed_out = true, .sent_sigkill = true,
                                   .timeout_usec = 1500000 };
        struct fh_result trapped = { .exit_status = 1, .timed_out = true, .sent_sigkill = true, .timeout_usec = 1000000 };

        assert_describes(term, "status=143 (timed out after 60.000 s; killed by SIGTERM)");
        assert_describes(kill9, "status=137 (timed out after 1.500 s; killed by SIGKILL)");
        assert_describes(trapped,
                         "status=1 (timed out after 1.000 s; SIGKILL sent to the rest of its process group)");
        assert_int_equal(fh_result_priority(&trapped), LOG_ERR);
        assert_true(fh_result_failed(&trapped));
}

static void test_abandoned_and_interrupted(void **state) {
        struct fh_result gone = { .exit_status = -1, .timed_out = true, .abandoned = true };
        struct fh_result intr = { .exit_status = -1, .signal = SIGTERM, .interrupted_by = SIGINT };

        assert_describes(gone, "status=unknown (timed out; still alive after SIGKILL, abandoned)");
        assert_int_equal(fh_result_status(&gone), -1);
        assert_describes(intr, "status=143 (interrupted: fsfreeze-hook received SIGINT; killed by SIGTERM)");
}

static void test_signal_names(void **state) {
        char b[32];

        fh_signal_name(SIGSEGV, b, sizeof b);
        assert_string_equal(b, "SIGSEGV");
        fh_signal_name(SIGKILL, b, sizeof b);
        assert_string_equal(b, "SIGKILL");
        fh_signal_name(SIGRTMIN + 3, b, sizeof b);
        assert_true(b[0] != '\0');
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_exit),
                cmocka_unit_test(test_nonzero_exit),
                cmocka_unit_test(test_signal_named),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_abandoned_and_interrupted),
                cmocka_unit_test(test_signal_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
