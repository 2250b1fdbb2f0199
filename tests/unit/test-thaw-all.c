/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading mount points from mountinfo, as the freeze deadline's thaw
 * does. No FITHAW reaches a real filesystem here: the one stream given to
 * fh_thaw_all() names only paths that do not exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "thaw_all.h"

static void check_point(const char *line, const char *want) {
        g_autofree char *got = fh_mountinfo_mount_point(line);

        if (!want)
                assert_null(got);
        else
                assert_string_equal(got, want);
}

static void test_mount_point(void **state) {
        check_point("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
                    "/mnt/parent");
        check_point("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n", "/");
        /* The kernel escapes space, tab, newline and backslash. */
        check_point("40 22 7:0 / /mnt/with\\040space\\011tab\\134back rw - ext4 /dev/loop0 rw\n",
                    "/mnt/with space\ttab\\back");
        /* A backslash not followed by three octal digits stays as it is. */
        check_point("40 22 7:0 / /mnt/a\\9 rw - ext4 /dev/loop0 rw\n", "/mnt/a\\9");
        check_point("40 22 7:0 / /mnt/end\\04 rw - ext4 /dev/loop0 rw\n", "/mnt/end\\04");
        /* Malformed: too few fields, not absolute, empty. */
        check_point("40 22 7:0 /\n", NULL);
        check_point("40 22 7:0 / relative rw - ext4 x rw\n", NULL);
        check_point("", NULL);
        check_point("40 22 7:0 /  rw - ext4 x rw\n", NULL);
}

static void test_nothing_to_thaw(void **state) {
        const char text[] = "40 22 7:0 / /nonexistent/fsfreeze-hook-test/a rw - ext4 /dev/loop0 rw\n"
                            "garbage\n"
                            "41 22 7:1 / /nonexistent/fsfreeze-hook-test/b\\040c rw - ext4 /dev/loop1 rw\n";
        FILE *f = fmemopen((void *) text, sizeof text - 1, "r");

        assert_non_null(f);
        assert_int_equal(fh_thaw_all(f), 0);
        fclose(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mount_point),
                cmocka_unit_test(test_nothing_to_thaw),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
