/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "cli.h"
#include "defaults.h"
#include "env.h"
#include "platform.h"
#include "testlib.h"

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

static void test_defaults(void **state) {
        g_autofree char *error = NULL;
        struct fh_settings st;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &error, "/etc/qemu-ga/fsfreeze-hook", "freeze", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        assert_string_equal(cli.config, DEFAULT_CONFIG);
        /* Nothing given: the layer sets nothing. */
        assert_null(cli.layer.hook_dirs);
        assert_false(cli.layer.log_file_set);
        assert_int_equal(cli.layer.timeout_msec, -1);
        assert_int_equal(cli.layer.journal, -1);

        fh_settings_init(&st, "/etc/qemu-ga/fsfreeze-hook");
        fh_settings_apply(&st, &cli.layer);
        assert_int_equal(g_strv_length(st.hook_dirs), 2);
        assert_string_equal(st.hook_dirs[0], DEFAULT_VENDOR_HOOKS_DIR);
        assert_string_equal(st.hook_dirs[1], "/etc/qemu-ga/fsfreeze-hook.d");
        assert_string_equal(st.log_file, "/var/log/qga-fsfreeze-hook.log");
        assert_int_equal(st.timeout_msec, 60000);
        assert_int_equal(fh_settings_timeout(&st, "x", false), 60000);
        assert_int_equal(st.kill_grace_msec, DEFAULT_KILL_GRACE_MS);
        assert_int_equal(st.max_output, DEFAULT_MAX_OUTPUT);
        assert_int_equal(st.on_failure, FH_ON_FAILURE_CONTINUE);
        assert_string_equal(st.state_dir, DEFAULT_STATE_DIR);
        assert_true(st.journal);
        assert_true(st.strict_modes);
        fh_settings_done(&st);
        fh_cli_done(&cli);
}

static void test_all_options(void **state) {
        g_autofree char *error = NULL;
        struct fh_settings st;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "-c", "/tmp/c.conf", "-d", "/tmp/a", "--hooks-dir=/tmp/b",
                               "--log-file=/tmp/l", "-t", "2.5", "--thaw-timeout=7", "--kill-grace=0.1", "-m", "1M",
                               "--on-failure=abort", "--state-dir=/tmp/s", "--no-journal", "--no-strict-modes",
                               "--dry-run", "thaw", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_DRY_RUN);
        assert_int_equal(cli.phase, FH_PHASE_THAW);
        assert_string_equal(cli.config, "/tmp/c.conf");
        fh_settings_init(&st, "fsfreeze-hook");
        fh_settings_apply(&st, &cli.layer);
        assert_int_equal(g_strv_length(st.hook_dirs), 2);
        assert_string_equal(st.hook_dirs[0], "/tmp/a");
        assert_string_equal(st.hook_dirs[1], "/tmp/b");
        assert_null(st.vendor_dir);
        assert_string_equal(st.log_file, "/tmp/l");
        assert_int_equal(st.timeout_msec, 2500);
        assert_int_equal(st.thaw_timeout_msec, 7000);
        assert_int_equal(st.kill_grace_msec, 100);
        assert_int_equal(st.max_output, 1024 * 1024);
        assert_int_equal(st.on_failure, FH_ON_FAILURE_ABORT);
        assert_string_equal(st.state_dir, "/tmp/s");
        assert_false(st.journal);
        assert_false(st.strict_modes);
        fh_settings_done(&st);
        fh_cli_done(&cli);

        assert_int_equal(parse(&cli, &error, "fsfreeze-hook", "--log-file=", "freeze", NULL), 0);
        fh_settings_init(&st, "fsfreeze-hook");
        fh_settings_apply(&st, &cli.layer);
        assert_null(st.log_file);
        fh_settings_done(&st);
        fh_cli_done(&cli);
}

static void test_commands_take_no_phase(void **state) {
        g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &e1, "fsfreeze-hook", "--status", "--json", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_STATUS);
        assert_true(cli.json);
        assert_int_equal(cli.phase, -1);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e2, "fsfreeze-hook", "--check", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_CHECK);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e3, "fsfreeze-hook", "--check", "freeze", NULL), -EINVAL);
        assert_non_null(strstr(e3, "unexpected argument 'freeze'"));
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
                { { "--on-failure=stop", "freeze", NULL }, "invalid on-failure policy 'stop'" },
                { { "-m", "4T", "freeze", NULL }, "invalid max output '4T'" },
                { { "--json", "freeze", NULL }, "--json goes with --status" },
                /* One command at a time: neither is silently dropped. */
                { { "--attach=vmware", "--status", NULL }, "--attach=vmware and --status" },
                { { "--attach=vmware", "--dry-run", "freeze" }, "--attach=vmware and --dry-run" },
                { { "--attach=vmware", "--detach=vmware", NULL }, "--attach=vmware and --detach=vmware" },
                { { "--attach=vmware", "--attach=gce", NULL }, "--attach=vmware and --attach=gce" },
                { { "--check", "-n", "thaw" }, "--check and --dry-run" },
        };

        struct fh_cli same;
        g_autofree char *none = NULL;

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
        /* The same command twice is still one. */
        assert_int_equal(parse(&same, &none, "fsfreeze-hook", "--status", "--status", NULL), 0);
        assert_int_equal(same.action, FH_ACTION_STATUS);
        fh_cli_done(&same);
}

/* Issue 13: --attach/--detach/--root and the other platforms' calls. */
static void test_attach_and_callers(void **state) {
        g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &e1, "fsfreeze-hook", "--attach=gce", "--root=/img", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_ATTACH);
        assert_int_equal(cli.platform, FH_PLATFORM_GCE);
        assert_string_equal(cli.root, "/img");
        assert_int_equal(cli.caller.platform, -1);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e1, "fsfreeze-hook", "--detach=azure", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_DETACH);
        assert_int_equal(cli.platform, FH_PLATFORM_AZURE);
        assert_null(cli.root);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e2, "fsfreeze-hook", "--attach=hyperv", NULL), -EINVAL);
        assert_non_null(strstr(e2, "unknown platform 'hyperv'"));
        assert_int_equal(parse(&cli, &e3, "fsfreeze-hook", "--caller=esx", "freeze", NULL), -EINVAL);
        assert_non_null(strstr(e3, "unknown platform 'esx'"));
        assert_int_equal(parse(&cli, &e4, "fsfreeze-hook", "--attach=vmware", "freeze", NULL), -EINVAL);
        assert_non_null(strstr(e4, "unexpected argument 'freeze'"));

        /* Google's agent: pre.sh "DISKS"; options may come first. */
        assert_int_equal(parse(&cli, &e5, "/etc/google/snapshots/pre.sh", "--config=/x", "1/2,3/4", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        assert_int_equal(cli.caller.platform, FH_PLATFORM_GCE);
        assert_string_equal(cli.caller.arg, "1/2,3/4");
        /* What the freeze deadline runs again: the options, no argument. */
        assert_int_equal(cli.args_start, 2);
        fh_cli_done(&cli);
        /* A Nutanix wrapper: --caller=nutanix freeze. */
        assert_int_equal(parse(&cli, &e5, "/usr/sbin/fsfreeze-hook", "--caller=nutanix", "freeze", NULL), 0);
        assert_int_equal(cli.caller.platform, FH_PLATFORM_NUTANIX);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        fh_cli_done(&cli);
        /* The wrappers end the options with "--": what the agent adds
         * after the phase is its data, never an option. */
        assert_int_equal(parse(&cli, &e5, "/etc/azure/fsfreeze-hook-pre", "--caller=azure", "--", "freeze",
                               "-d/usr/sbin", NULL), 0);
        assert_int_equal(cli.caller.platform, FH_PLATFORM_AZURE);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        assert_null(cli.layer.hook_dirs);
        assert_string_equal(cli.caller.arg, "-d/usr/sbin");
        fh_cli_done(&cli);
        /* vmtoolsd's freezeFail: a thaw. */
        assert_int_equal(parse(&cli, &e5, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook", "freezeFail", "", NULL),
                         0);
        assert_int_equal(cli.phase, FH_PHASE_THAW);
        assert_true(cli.caller.freeze_failed);
        assert_int_equal(cli.args_start, 1);
        fh_cli_done(&cli);
}

/* What the agent passes after the phase is the host's data, never an
 * option: vmtoolsd's scriptArg comes from the backup application
 * (GuestQuiesceParamsV1, tests/platform-sources.md), and "-d/usr/sbin" parsed as an
 * option would have root run every program there; "--help" would run no
 * hook at all. */
static void test_agent_argument_is_no_option(void **state) {
        const char *vmware = "/etc/vmware-tools/backupScripts.d/fsfreeze-hook";
        const char *gce = "/etc/google/snapshots/pre.sh";
        g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL;
        struct fh_cli cli;

        assert_int_equal(parse(&cli, &e1, vmware, "freeze", "-d/usr/sbin", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_null(cli.layer.hook_dirs);
        assert_string_equal(cli.caller.arg, "-d/usr/sbin");
        assert_int_equal(cli.args_start, 1);
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e2, vmware, "--config=/x", "thaw", "--help", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_int_equal(cli.phase, FH_PHASE_THAW);
        assert_string_equal(cli.config, "/x");
        assert_string_equal(cli.caller.arg, "--help");
        assert_int_equal(cli.args_start, 2);
        fh_cli_done(&cli);
        /* Google's agent passes exactly one argument, the disk list
         * (guest-agent snapshot_listener.go: exec.CommandContext(ctx,
         * path, disks)): the last argument is data even when it begins
         * with '-', and options can only come before it. */
        assert_int_equal(parse(&cli, &e4, gce, "-d/usr/sbin", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_RUN);
        assert_int_equal(cli.phase, FH_PHASE_FREEZE);
        assert_null(cli.layer.hook_dirs);
        assert_string_equal(cli.caller.arg, "-d/usr/sbin");
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e5, gce, "--config=/x", "--dry-run", "--help", NULL), 0);
        assert_int_equal(cli.action, FH_ACTION_DRY_RUN);
        assert_string_equal(cli.config, "/x");
        assert_string_equal(cli.caller.arg, "--help");
        fh_cli_done(&cli);
        assert_int_equal(parse(&cli, &e6, "/etc/google/snapshots/post.sh", "--", NULL), 0);
        assert_int_equal(cli.phase, FH_PHASE_THAW);
        assert_string_equal(cli.caller.arg, "--");
        fh_cli_done(&cli);
        /* qemu-ga's (and a person's) options anywhere, as before. */
        assert_int_equal(parse(&cli, &e3, "/etc/qemu/fsfreeze-hook", "freeze", "-d/x", NULL), 0);
        assert_string_equal(cli.layer.hook_dirs[0], "/x");
        fh_cli_done(&cli);
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

static void test_env_unset_keeps_the_rest(void **state) {
        char *vars[] = { "A=1", "FSFREEZE_FROZE=x", "B=2", "PATH=/p", NULL };
        g_autoptr(fh_env) env = fh_env_new(vars);
        g_autoptr(fh_env) none = fh_env_new(NULL);
        char *const *v;

        fh_env_unset(env, "FSFREEZE_FROZE");
        fh_env_unset(env, "NOT_SET");
        v = fh_env_strv(env);
        assert_string_equal(v[0], "A=1");
        assert_string_equal(v[1], "B=2");
        assert_string_equal(v[2], "PATH=/p");
        assert_null(v[3]);
        assert_null(fh_env_get(env, "FSFREEZE_FROZE"));

        /* No environment at all still gives execve() an array, with PATH. */
        v = fh_env_strv(none);
        assert_non_null(v);
        assert_string_equal(v[0], "PATH=" FH_DEFAULT_PATH);
        assert_null(v[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_all_options),
                cmocka_unit_test(test_usage_errors),
                cmocka_unit_test(test_help_and_version_need_no_phase),
                cmocka_unit_test(test_commands_take_no_phase),
                cmocka_unit_test(test_attach_and_callers),
                cmocka_unit_test(test_agent_argument_is_no_option),
                cmocka_unit_test(test_env_adds_path_only_when_missing),
                cmocka_unit_test(test_env_unset_keeps_the_rest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
