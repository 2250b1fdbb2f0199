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
#include <glib/gstdio.h>

#include "config.h"
#include "defaults.h"
#include "platform.h"
#include "settings.h"
#include "testlib.h"

static void parse(const char *text, struct fh_layer *l, GPtrArray **ret_warnings) {
        *ret_warnings = g_ptr_array_new_with_free_func(g_free);
        fh_config_parse(text, strlen(text), "/etc/test.conf", l, *ret_warnings);
}

static unsigned count(GPtrArray *w, const char *needle) {
        unsigned n = 0;

        for (guint i = 0; i < w->len; i++)
                n += strstr(w->pdata[i], needle) != NULL;
        return n;
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

/* The packages' drop-ins run -F/usr/sbin/fsfreeze-hook: the admin
 * directory must not hang on the configuration file alone. */
static void test_default_hooks_dir_for_installed_program(void **state) {
        g_autofree char *installed = g_build_filename(PROGRAM_DIR, "fsfreeze-hook", NULL);
        g_autofree char *a = fh_default_hooks_dir(installed);
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *link = g_build_filename(top, "sbin", NULL);
        g_autofree char *via_link = g_build_filename(link, "fsfreeze-hook", NULL);
        g_autofree char *b = NULL;

        assert_string_equal(a, DEFAULT_HOOKS_DIR);
        /* Through a symlinked directory, as /sbin -> usr/sbin. */
        assert_int_equal(symlink(PROGRAM_DIR, link), 0);
        b = fh_default_hooks_dir(via_link);
        assert_string_equal(b, DEFAULT_HOOKS_DIR);
        assert_int_equal(unlink(link), 0);
        tl_rmtree(top);
}

static void test_every_key(void **state) {
        g_autoptr(GPtrArray) w = NULL;
        struct fh_hook_settings *h;
        struct fh_layer l;

        parse("# a comment\n"
              "[fsfreeze-hook]\n"
              "hook-dirs=/usr/lib/x/fsfreeze-hook.d;/etc/x/fsfreeze-hook.d\n"
              "log-file = /var/log/x.log\n"
              "journal=false\n"
              "timeout=30\n"
              "thaw-timeout=2.5\n"
              "kill-grace=1\n"
              "max-output=512K\n"
              "on-failure=abort\n"
              "state-dir=/run/x\n"
              "strict-modes=false\n"
              "\n"
              "[hook 10-mysql]\n"
              "timeout=120\n"
              "[hook 20-slow]\n"
              "enabled=false\n", &l, &w);
        assert_int_equal(w->len, 0);
        assert_int_equal(g_strv_length(l.hook_dirs), 2);
        assert_string_equal(l.hook_dirs[0], "/usr/lib/x/fsfreeze-hook.d");
        assert_string_equal(l.hook_dirs[1], "/etc/x/fsfreeze-hook.d");
        assert_true(l.log_file_set);
        assert_string_equal(l.log_file, "/var/log/x.log");
        assert_int_equal(l.journal, 0);
        assert_int_equal(l.timeout_msec, 30000);
        assert_int_equal(l.thaw_timeout_msec, 2500);
        assert_int_equal(l.kill_grace_msec, 1000);
        assert_int_equal(l.max_output, 512 * 1024);
        assert_int_equal(l.on_failure, FH_ON_FAILURE_ABORT);
        assert_string_equal(l.state_dir, "/run/x");
        assert_int_equal(l.strict_modes, 0);
        h = g_hash_table_lookup(l.hooks, "10-mysql");
        assert_int_equal(h->timeout_msec, 120000);
        assert_int_equal(h->enabled, -1);
        h = g_hash_table_lookup(l.hooks, "20-slow");
        assert_int_equal(h->enabled, 0);
        fh_layer_done(&l);
}

/* Defaults < file < command line, key by key. */
static void test_override_order(void **state) {
        g_autoptr(GPtrArray) w = NULL;
        struct fh_layer file, cmdline;
        struct fh_settings s;

        parse("[fsfreeze-hook]\ntimeout=30\nkill-grace=1\nmax-output=1M\n[hook a]\ntimeout=9\n", &file, &w);
        fh_layer_init(&cmdline);
        cmdline.timeout_msec = 5000;
        fh_settings_init(&s, "/x/fsfreeze-hook");
        fh_settings_apply(&s, &file);
        fh_settings_apply(&s, &cmdline);
        assert_int_equal(s.timeout_msec, 5000);         /* command line wins */
        assert_int_equal(s.kill_grace_msec, 1000);      /* file over default */
        assert_int_equal(s.max_output, 1024 * 1024);
        assert_int_equal(fh_settings_timeout(&s, "b", false), 5000); /* thaw: as the freeze's */
        assert_int_equal(fh_settings_timeout(&s, "a", true), 9000); /* [hook a] over both */
        assert_int_equal(fh_settings_timeout(&s, "a", false), 9000);
        assert_int_equal(fh_settings_timeout(&s, "b", true), 5000);
        assert_true(fh_settings_enabled(&s, "b"));
        fh_settings_done(&s);
        fh_layer_done(&file);
        fh_layer_done(&cmdline);
}

static void test_bad_values_name_file_line_key(void **state) {
        g_autoptr(GPtrArray) w = NULL;
        struct fh_layer l;

        parse("[fsfreeze-hook]\n"
              "timeout=soon\n"
              "journal=maybe\n"
              "kill-grace=2\n"
              "max-output=4T\n"
              "on-failure=stop\n"
              "log-file=relative.log\n"
              "hook-dirs=/ok;relative\n"
              "timout=5\n", &l, &w);
        assert_int_equal(count(w, "/etc/test.conf:2: key 'timeout' in [fsfreeze-hook]: invalid value 'soon'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:3: key 'journal' in [fsfreeze-hook]: invalid value 'maybe'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:5: key 'max-output'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:6: key 'on-failure'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:7: key 'log-file'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:8: key 'hook-dirs' in [fsfreeze-hook]: invalid value 'relative'"), 1);
        assert_int_equal(count(w, "/etc/test.conf:9: unknown key 'timout' in [fsfreeze-hook]: ignored"), 1);
        assert_int_equal(w->len, 7);
        /* What could be read still applies; the rest keeps its default. */
        assert_int_equal(l.kill_grace_msec, 2000);
        assert_int_equal(l.timeout_msec, -1);
        assert_int_equal(l.journal, -1);
        assert_false(l.log_file_set);
        assert_int_equal(g_strv_length(l.hook_dirs), 1);
        fh_layer_done(&l);
}

static void test_malformed_lines_cost_one_line(void **state) {
        g_autoptr(GPtrArray) w = NULL;
        struct fh_layer l;

        parse("timeout=1\n"                     /* before any group */
              "[fsfreeze-hook]\n"
              "this is not a pair\n"
              "kill-grace=3\n"
              "[broken group\n"
              "timeout=7\n"                     /* under the broken header: ignored */
              "[hook ../etc]\n"
              "timeout=1\n"
              "[whatever]\n"
              "x=1\n"
              "[fsfreeze-hook]\n"
              "bad=\xff\xfe\n"
              "max-output=2M\n", &l, &w);
        assert_int_equal(count(w, ":1: key 'timeout' outside any group"), 1);
        assert_int_equal(count(w, ":3: 'this is not a pair' is not a [group]"), 1);
        assert_int_equal(count(w, ":5: malformed group header '[broken group'"), 1);
        assert_int_equal(count(w, "group [hook ../etc]: not a hook name"), 1);
        assert_int_equal(count(w, "unknown group [whatever]"), 1);
        assert_int_equal(count(w, ":12: not valid UTF-8"), 1);
        assert_int_equal(l.kill_grace_msec, 3000);
        assert_int_equal(l.max_output, 2 * 1024 * 1024);
        assert_int_equal(l.timeout_msec, -1);
        fh_layer_done(&l);
}

/* A hook-dirs value that cannot be used must not turn every hook off. */
static void test_bad_hook_dirs_keep_the_default(void **state) {
        const char *bad[] = { "hook-dirs=/tmp/d\\\n", "hook-dirs=relative\n", "hook-dirs=\n", "hook-dirs=;;\n" };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *text = g_strconcat("[fsfreeze-hook]\n", bad[i], NULL);
                g_autoptr(GPtrArray) w = NULL;
                struct fh_layer l;

                parse(text, &l, &w);
                assert_null(l.hook_dirs);
                assert_true(count(w, ":2: key 'hook-dirs'") >= 1);
                assert_true(count(w, "using the default") >= 1);
                fh_layer_done(&l);
        }
}

/* platform-scripts= (issue 13): a list, "all" and "none" in order, an
 * unknown name a warning that costs itself only; unset stays -1. */
static void test_platform_scripts(void **state) {
        const struct { const char *value; int mask; unsigned unknown; } cases[] = {
                { "vmware;gce", (1 << FH_PLATFORM_VMWARE) | (1 << FH_PLATFORM_GCE), 0 },
                { " nutanix ; bogus", 1 << FH_PLATFORM_NUTANIX, 1 },
                { "all", (1 << _FH_PLATFORM_MAX) - 1, 0 },
                { "all;none;azure", 1 << FH_PLATFORM_AZURE, 0 },
                { "none", 0, 0 },
        };
        struct fh_layer l;
        g_autoptr(GPtrArray) w0 = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = g_strdup_printf("[fsfreeze-hook]\nplatform-scripts=%s\n", cases[i].value);
                g_autoptr(GPtrArray) w = NULL;

                parse(text, &l, &w);
                assert_int_equal(l.platform_scripts, cases[i].mask);
                assert_int_equal(count(w, ":2: key 'platform-scripts' in [fsfreeze-hook]: unknown platform 'bogus'"),
                                 cases[i].unknown);
                assert_int_equal(w->len, cases[i].unknown);
                fh_layer_done(&l);
        }
        parse("[fsfreeze-hook]\ntimeout=5\n", &l, &w0);
        assert_int_equal(l.platform_scripts, -1);
        fh_layer_done(&l);
}

static void test_bom_and_group_lines(void **state) {
        g_autoptr(GPtrArray) w = NULL;
        struct fh_layer l;

        parse("\xef\xbb\xbf[fsfreeze-hook]\ntimeout=7\n\n[mystery]\nx=1\n[hook a/b]\n"
              "[hook \xe2\x80\xae" "evil]\n", &l, &w);
        assert_int_equal(l.timeout_msec, 7000);         /* the BOM did not hide the group */
        assert_int_equal(count(w, ":4: unknown group [mystery]"), 1);
        assert_int_equal(count(w, ":6: group [hook a/b]: not a hook name"), 1);
        /* A right-to-left override is not a name, and never reaches a log line raw. */
        assert_int_equal(count(w, ":7: malformed group header"), 1);
        for (guint i = 0; i < w->len; i++)
                assert_null(strstr(w->pdata[i], "\xe2\x80\xae"));
        fh_layer_done(&l);
}

static void test_load_missing_and_real_file(void **state) {
        g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *dir = tl_mkdtemp();
        g_autofree char *path = NULL;
        struct fh_layer l;

        assert_int_equal(fh_config_load("/nonexistent/fsfreeze-hook.conf", &l, w), -ENOENT);
        assert_int_equal(w->len, 0);
        fh_layer_done(&l);
        /* A directory is not a configuration; the message is escaped. */
        {
                g_autofree char *odd = g_build_filename(dir, "c\x1b[31m\nx", NULL);
                g_mkdir(odd, 0755);
                assert_int_equal(fh_config_load(odd, &l, w), -EINVAL);
                assert_int_equal(w->len, 1);
                assert_null(strchr(w->pdata[0], '\x1b'));
                assert_null(strchr(w->pdata[0], '\n'));
                assert_non_null(strstr(w->pdata[0], "not a regular file"));
                fh_layer_done(&l);
                g_ptr_array_set_size(w, 0);
        }
        path = tl_write_file(dir, "c.conf", "[fsfreeze-hook]\ntimeout=3\n", 0644);
        assert_int_equal(fh_config_load(path, &l, w), 0);
        assert_int_equal(l.timeout_msec, 3000);
        fh_layer_done(&l);
        tl_rmtree(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_hooks_dir_beside_argv0),
                cmocka_unit_test(test_default_hooks_dir_for_installed_program),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_override_order),
                cmocka_unit_test(test_bad_values_name_file_line_key),
                cmocka_unit_test(test_malformed_lines_cost_one_line),
                cmocka_unit_test(test_bad_hook_dirs_keep_the_default),
                cmocka_unit_test(test_bom_and_group_lines),
                cmocka_unit_test(test_platform_scripts),
                cmocka_unit_test(test_load_missing_and_real_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
