/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "cli.h"
#include "config.h"
#include "env.h"

static int parse(struct fh_cli *cli, char **error, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *a;
        va_list ap;

        va_start(ap, error);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        return fh_cli_parse((int) argv->len - 1, (char **) argv->pdata, cli, error);
}

static void test_default_hooks_dir_beside_argv0(void **state) {
        g_autofree char *a = fh_default_hooks_dir("/etc/qemu/fsfreeze-hook");
        g_autofree char *b = fh_default_hooks_dir("./fsfreeze-hook");
        g_autofree char *c = fh_default_hooks_dir("fsfreeze-hook");
        g_autofree char *d = fh_default_hooks_dir(NULL);

        assert_string_equal(a, "/etc/qemu/fsfreeze-hook.d");
        assert_string_equal(b, "./fsfreeze-hook.d");
        assert_string_equal(c, DEFAULT_HOOKS_DIR);
        assert_string_equal(d, DEFAULT_HOOKS_DIR);
}

static void test_defaults(void **state) {
        g_autofree char *error = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &error, "/etc/qemu-ga/fsfreeze-hook", "freeze", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        assert_string_equal(cli.hooks_dir, "/etc/qemu-ga/fsfreeze-hook.d");
        assert_string_equal(cli.log_file, "/var/log/qga-fsfreeze-hook.log");
        assert_int_equal(cli.timeout_msec, 60000);
        assert_int_equal(cli.kill_grace_msec, DEFAULT_KILL_GRACE_MS);
        assert_true(cli.journal);
        fh_cli_done(&cli);
}

static void test_all_options(void **state) {
        g_autofree char *error = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "-d", "/tmp/h", "--log-file=/tmp/l", "-t", "2.5",
                               "--kill-grace=0.1", "--no-journal", "--dry-run", "thaw", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_DRY_RUN);
        assert_int_equal(cli.phase, FH_PHASE_THAW);
        assert_string_equal(cli.hooks_dir, "/tmp/h");
        assert_string_equal(cli.log_file, "/tmp/l");
        assert_int_equal(cli.timeout_msec, 2500);
        assert_int_equal(cli.kill_grace_msec, 100);
        assert_false(cli.journal);
        fh_cli_done(&cli);

        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "--log-file=", "freeze", NULL), 0);
        assert_null(cli.log_file);
        fh_cli_done(&cli);
}

static void test_usage_errors(void **state) {
        struct {
                const char *args[4];
                const char *message;
        } cases[] = {
                { { NULL }, "missing phase" },
                { { "frozen", NULL }, "unknown phase 'frozen'" },
                { { "FREEZE", NULL }, "unknown phase 'FREEZE'" },
                { { "freeze", "thaw", NULL }, "unexpected argument 'thaw'" },
                { { "--bogus", "freeze", NULL }, "unrecognized option '--bogus'" },
                { { "-t", "soon", "freeze", NULL }, "invalid timeout 'soon'" },
                { { "freeze", "-t", NULL }, "requires an argument" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) argv = g_ptr_array_new();
                g_autofree char *error = NULL;
                struct fh_cli cli;

                g_ptr_array_add(argv, "fsfreeze-hook");
                for (int j = 0; cases[i].args[j]; j++)
                        g_ptr_array_add(argv, (char *) cases[i].args[j]);
                g_ptr_array_add(argv, NULL);
                assert_int_equal(fh_cli_parse((int) argv->len - 1, (char **) argv->pdata, &cli, &error), -EINVAL);
                assert_non_null(strstr(error, cases[i].message));
        }
}

static void test_help_and_version_need_no_phase(void **state) {
        g_autofree char *error = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "--help", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_HELP);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "-V", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_VERSION);
        fh_cli_done(&cli);
}

static void test_env_adds_path_only_when_missing(void **state) {
        char *with[] = { "PATH=/custom", "HOME=/root", NULL };
        char *without[] = { "HOME=/root", NULL };
        char *empty[] = { "PATH=", NULL };
        g_autoptr(fh_env) a = fh_env_new(with);
        g_autoptr(fh_env) b = fh_env_new(without);
        g_autoptr(fh_env) c = fh_env_new(empty);

        assert_string_equal(fh_env_get(a, "PATH"), "/custom");
        assert_string_equal(fh_env_get(b, "PATH"), FH_DEFAULT_PATH);
        assert_string_equal(fh_env_get(c, "PATH"), FH_DEFAULT_PATH);
        assert_string_equal(fh_env_get(b, "HOME"), "/root");

        fh_env_set(b, "FSFREEZE_HOOK", "/x");
        fh_env_set(b, "FSFREEZE_HOOK", "/y");
        assert_string_equal(fh_env_get(b, "FSFREEZE_HOOK"), "/y");
        assert_null(fh_env_get(b, "FSFREEZE"));
        assert_int_equal(g_strv_length((char **) fh_env_strv(b)), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_hooks_dir_beside_argv0),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_all_options),
                cmocka_unit_test(test_usage_errors),
                cmocka_unit_test(test_help_and_version_need_no_phase),
                cmocka_unit_test(test_env_adds_path_only_when_missing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
