/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The atomic writer of the state files and the metrics file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "runfile.h"
#include "testlib.h"

/* The metrics file's writer follows no symlink on the way to it, in any
 * directory of the path (-ELOOP, nothing written where it points), and
 * writes through real directories; the file's own name may be a link,
 * which the rename replaces. */
static void test_nofollow_refuses_a_linked_directory(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *real = g_build_filename(top, "real", NULL);
        g_autofree char *link = g_build_filename(top, "link", NULL);
        g_autofree char *via_link = g_build_filename(link, "m.prom", NULL);
        g_autofree char *deeper = g_build_filename(link, "sub", "m.prom", NULL);
        g_autofree char *in_real = g_build_filename(real, "m.prom", NULL);
        g_autofree char *sub = g_build_filename(real, "sub", NULL);
        g_autofree char *text = NULL;

        assert_int_equal(g_mkdir(real, 0755), 0);
        assert_int_equal(g_mkdir(sub, 0755), 0);
        assert_int_equal(symlink(real, link), 0);
        assert_int_equal(fh_runfile_write_nofollow(via_link, "x\n", 2, 0644), -ELOOP);
        assert_int_equal(fh_runfile_write_nofollow(deeper, "x\n", 2, 0644), -ELOOP);
        assert_false(g_file_test(in_real, G_FILE_TEST_EXISTS));
        assert_int_equal(fh_runfile_write_nofollow("relative/m.prom", "x\n", 2, 0644), -EINVAL);

        assert_int_equal(symlink("/nonexistent", in_real), 0);
        assert_int_equal(fh_runfile_write_nofollow(in_real, "y\n", 2, 0644), 0);
        assert_false(g_file_test(in_real, G_FILE_TEST_IS_SYMLINK));
        text = tl_read_file(in_real);
        assert_string_equal(text, "y\n");
        tl_rmtree(top);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nofollow_refuses_a_linked_directory),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
