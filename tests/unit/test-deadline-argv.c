/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze deadline's command line as systemd's ExecStart= gets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "deadline.h"

/* systemd expands $VAR and ${VAR} in the arguments of ExecStart=, also
 * when it is set over D-Bus: a hook directory or configuration file whose
 * name has a $ would be another path when the deadline fires (the
 * configuration of the freeze not read, no state found: no thaw). Each $
 * is doubled, which systemd reads as one literal $; nothing else changes. */
static void test_dollar_is_literal(void **state) {
        char *in[] = { "/usr/sbin/fsfreeze-hook", "--deadline-fire=0123456789abcdef",
                       "--config=/etc/fs$HOME.conf", "-d", "/srv/${PATH}/$$x", "%n 'q' \"d\" \\", NULL };
        g_auto(GStrv) out = fh_deadline_exec_argv(in);

        assert_int_equal(g_strv_length(out), 6);
        assert_string_equal(out[0], "/usr/sbin/fsfreeze-hook");
        assert_string_equal(out[1], "--deadline-fire=0123456789abcdef");
        assert_string_equal(out[2], "--config=/etc/fs$$HOME.conf");
        assert_string_equal(out[3], "-d");
        assert_string_equal(out[4], "/srv/$${PATH}/$$$$x");
        assert_string_equal(out[5], "%n 'q' \"d\" \\");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dollar_is_literal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
