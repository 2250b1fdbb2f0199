/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze deadline's record keeps who armed it: its fire thaws the
 * filesystems only for qemu-ga (or a shell); another platform's agent
 * thaws its own. A record of a version that did not keep it is qemu-ga's;
 * a caller that is no platform makes it no record of ours. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "deadline.h"
#include "platform.h"
#include "testlib.h"

static int setup(void **state) {
        *state = tl_mkdtemp();
        return 0;
}

static int teardown(void **state) {
        tl_rmtree(*state);
        g_free(*state);
        return 0;
}

static void test_caller_round_trip(void **state) {
        const char *dir = *state;
        int callers[] = { -1, FH_PLATFORM_VMWARE, FH_PLATFORM_NUTANIX, FH_PLATFORM_GCE, FH_PLATFORM_AZURE };

        for (size_t i = 0; i < G_N_ELEMENTS(callers); i++) {
                g_autoptr(fh_deadline) d = fh_deadline_new(1000, callers[i]);
                g_autoptr(fh_deadline) back = NULL;

                assert_int_equal(fh_deadline_write(dir, d), 0);
                assert_int_equal(fh_deadline_read(dir, &back), 0);
                assert_int_equal(back->caller, callers[i]);
                assert_int_equal(fh_deadline_thaws(back), callers[i] < 0);
        }
}

/* Rewrites the record's caller= line: 'caller' NULL removes it. */
static int read_with_caller(const char *dir, const char *caller, struct fh_deadline **ret) {
        g_autofree char *path = g_build_filename(dir, "deadline", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(fh_deadline) d = fh_deadline_new(1000, FH_PLATFORM_GCE);

        assert_int_equal(fh_deadline_write(dir, d), 0);
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        if (caller)
                g_key_file_set_string(kf, "deadline", "caller", caller);
        else
                assert_true(g_key_file_remove_key(kf, "deadline", "caller", NULL));
        assert_true(g_key_file_save_to_file(kf, path, NULL));
        return fh_deadline_read(dir, ret);
}

static void test_record_without_caller_is_qemu_gas(void **state) {
        g_autoptr(fh_deadline) d = NULL;

        assert_int_equal(read_with_caller(*state, NULL, &d), 0);
        assert_int_equal(d->caller, -1);
        assert_true(fh_deadline_thaws(d));
}

static void test_unknown_caller_is_no_record_of_ours(void **state) {
        struct fh_deadline *d = NULL;

        assert_int_equal(read_with_caller(*state, "hyperv", &d), -EBADMSG);
        assert_null(d);
        assert_int_equal(read_with_caller(*state, "", &d), -EBADMSG);
        assert_null(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_caller_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_record_without_caller_is_qemu_gas, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_caller_is_no_record_of_ours, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
