/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trust policy as the real binary applies it (issue 10, #1, #2, #9,
 * #10): what it refuses is never run, in any mode, and what it says. The
 * attacks of a real unprivileged user are in tests/adversary. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

static void require_root(void) {
        if (geteuid() != 0)
                skip();         /* the trust policy applies to root only */
}

/* #10: /dev/null is the usual "no configuration", never advice to chmod it. */
static void test_config_dev_null_is_no_config(void **state) {
        struct tl_fx *f = *state;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-a");
        tl_run_hook(&r, "--config=/dev/null", f->state_opt, "-d", f->hooks, "--dry-run", "freeze", NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        assert_non_null(strstr(r.out, "run   10-a"));
        tl_run_clear(&r);
        tl_run_hook(&r, "--config=/dev/null", f->state_opt, "-d", f->hooks, "--check", NULL);
        assert_int_equal(r.status, 0);
        assert_null(strstr(r.out, "chmod"));
        assert_non_null(strstr(r.out, "No problems found; 1 hook would run"));
        tl_run_clear(&r);
}

/* #1 and #10: --check reads a refused hook, never runs its interpreter,
 * and does not count it among those that would run. */
static void test_check_refused_hook_not_run_not_counted(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *marker = g_build_filename(f->top, "marker", NULL);
        g_autofree char *ubin = g_build_filename(f->top, "ubin", NULL);
        g_autofree char *payload = g_strdup_printf("#!/bin/sh\nid -u > %s\n", marker);
        g_autofree char *sh = NULL, *body = NULL, *ww = NULL;
        struct tl_run r;

        require_root();
        g_mkdir(ubin, 0755);
        sh = tl_write_file(ubin, "sh", payload, 0755);
        assert_int_equal(chown(sh, 65534, 65534), 0);
        body = g_strdup_printf("#!%s\nexit 0\n", sh);
        ww = tl_write_file(f->hooks, "20-ww", body, 0777);
        tl_fx_recording_hook(f, "10-ok");
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, "--check", NULL);
        assert_int_equal(r.status, 1);
        assert_int_equal(tl_count_lines_with(r.out, "/20-ww: refused by the trust policy: "), 1);
        assert_non_null(strstr(r.out, "1 problem found; 1 hook would run"));
        tl_run_clear(&r);
        assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));

        /* Trusted itself, the hook is refused for its interpreter, in
         * every mode. */
        chmod(ww, 0755);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, "--check", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "/20-ww: refused by the trust policy: its #! interpreter is not "
                                                    "trusted: "), 1);
        assert_non_null(strstr(r.out, "is owned by uid 65534, not by root"));
        tl_run_clear(&r);
        tl_fx_run(f, &r, NULL, "freeze", NULL);
        tl_run_clear(&r);
        assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
}

/* #2: a symlink a user owns, on the way to the hook directory, is refused
 * and named, even where it points at a root directory. */
static void test_user_symlink_to_hook_dir_refused(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *link = g_build_filename(f->top, "link", NULL), *log = NULL, *want = NULL, *rec = NULL;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-a");
        assert_int_equal(symlink(f->hooks, link), 0);
        assert_int_equal(lchown(link, 65534, 65534), 0);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "--no-journal", "-l", f->log, "-d", link, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_null(rec);
        log = tl_fx_read_log(f);
        want = g_strdup_printf("hook directory %s is not trusted: %s is a symlink owned by uid 65534, not by root",
                               link, link);
        assert_int_equal(tl_count_lines_with(log, want), 1);
}

/* #9: whatever chain of links leads to /dev/null masks. */
static void test_relative_link_to_dev_null_masks(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *mask = g_build_filename(f->hooks, "20-x", NULL);
        struct tl_run r;

        assert_int_equal(symlink("../../../../../../../../dev/null", mask), 0);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, "--dry-run", "freeze", NULL);
        assert_non_null(strstr(r.out, "skip  20-x: masked (symlink to /dev/null)"));
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_config_dev_null_is_no_config, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_check_refused_hook_not_run_not_counted, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_user_symlink_to_hook_dir_refused, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_relative_link_to_dev_null_masks, tl_fx_setup, tl_fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
