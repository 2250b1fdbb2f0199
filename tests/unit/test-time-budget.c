/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The caller's time budget: reading each agent's limit as the agent does,
 * and cutting a hook's timeout and kill grace to what is left. Sources:
 * - GoogleCloudPlatform/guest-agent 20211116.00 google_guest_agent/main.go
 *   parseConfig: ini.LoadSources(Loose, Insensitive, file, file.distro,
 *   file.template), where a later source overrides an earlier one (go-ini);
 *   snapshot_listener.go: timeout_in_seconds MustInt(60).
 * - open-vm-tools services/plugins/vmbackup/stateMachine.c
 *   VmBackupGetTimeout: tools.conf [vmbackup] timeout through GKeyFile,
 *   negative or above G_MAXINT / 1000: the default, 900; 0: no timer. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "budget.h"
#include "platform.h"
#include "testlib.h"
#include "timeutil.h"

static void assert_ini(const char *text, const char *want) {
        g_autofree char *got = fh_budget_ini_value(text, "Snapshots", "timeout_in_seconds");

        if (!want)
                assert_null(got);
        else
                assert_string_equal(got, want);
}

static void test_ini_value(void **state) {
        (void) state;
        assert_ini("[Snapshots]\ntimeout_in_seconds = 30\n", "30");
        assert_ini("[snapshots]\nTimeout_In_Seconds: 30\n", "30");        /* Insensitive; ':' */
        assert_ini("[Snapshots]\ntimeout_in_seconds = 30 # half a minute\n", "30");
        assert_ini("[Snapshots]\ntimeout_in_seconds = \"45\"\n", "45");
        assert_ini("[Snapshots]\ntimeout_in_seconds = 1\ntimeout_in_seconds = 2\n", "2");       /* last wins */
        assert_ini("[Snapshots]\n# timeout_in_seconds = 30\n", NULL);
        assert_ini("[Other]\ntimeout_in_seconds = 30\n[Snapshots]\nenabled = true\n", NULL);
        assert_ini("timeout_in_seconds = 30\n", NULL);  /* no section */
        assert_ini("[ Snapshots ]\r\n  timeout_in_seconds=7  \r\n", "7");
}

struct root {
        char *dir;
};

static void write_under(const char *root, const char *path, const char *text) {
        g_autofree char *p = g_build_filename(root, path, NULL), *dir = g_path_get_dirname(p);
        g_autofree char *base = g_path_get_basename(p);

        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        g_free(tl_write_file(dir, base, text, 0644));
}

/* Writes 'text' to ROOT/PATH (unless 'path' is NULL), then checks that
 * 'seconds' reads 'want' from a source whose description has 'source_has'. */
static void assert_limit(int64_t (*seconds)(const char *, char **), const char *root, const char *path,
                         const char *text, int64_t want, const char *source_has) {
        g_autofree char *source = NULL;
        int64_t sec;

        if (path)
                write_under(root, path, text);
        sec = seconds(root, &source);
        assert_non_null(strstr(source, source_has));
        assert_int_equal(sec, want);
}

static void test_gce_precedence(void **state) {
        g_autofree char *root = tl_mkdtemp();
        const char *cfg = "/etc/default/instance_configs.cfg";
        g_autofree char *distro = g_strconcat(cfg, ".distro", NULL), *template = g_strconcat(cfg, ".template", NULL);

        (void) state;
        assert_limit(fh_budget_gce_seconds, root, NULL, NULL, 60, "the default");
        assert_limit(fh_budget_gce_seconds, root, cfg, "[Snapshots]\ntimeout_in_seconds = 20\n", 20,
                     "instance_configs.cfg");
        assert_limit(fh_budget_gce_seconds, root, distro, "[Snapshots]\ntimeout_in_seconds = 30\n", 30,
                     "instance_configs.cfg.distro");
        assert_limit(fh_budget_gce_seconds, root, template, "[Snapshots]\ntimeout_in_seconds = 40\n", 40,
                     "instance_configs.cfg.template");
        /* MustInt: a value that does not read is the default. */
        assert_limit(fh_budget_gce_seconds, root, template, "[Snapshots]\ntimeout_in_seconds = soon\n", 60,
                     "does not read");
        assert_limit(fh_budget_gce_seconds, root, template, "[Snapshots]\ntimeout_in_seconds = 0x10\n", 16,
                     "template");
        tl_rmtree(root);
}

static void test_vmware_timeout(void **state) {
        g_autofree char *root = tl_mkdtemp();
        const char *conf = "/etc/vmware-tools/tools.conf";

        (void) state;
        assert_limit(fh_budget_vmware_seconds, root, NULL, NULL, 900, "the default");
        assert_limit(fh_budget_vmware_seconds, root, conf, "[vmbackup]\ntimeout = 120\n", 120, "[vmbackup] timeout");
        assert_limit(fh_budget_vmware_seconds, root, conf, "[vmbackup]\ntimeout = 0\n", 0, "[vmbackup] timeout");
        assert_limit(fh_budget_vmware_seconds, root, conf, "[vmbackup]\ntimeout = -5\n", 900, "out of range");
        assert_limit(fh_budget_vmware_seconds, root, conf, "[vmbackup]\ntimeout = later\n", 900, "the default");
        assert_limit(fh_budget_vmware_seconds, root, conf, "[logging]\nlog = true\n", 900, "the default");
        tl_rmtree(root);
}

/* Read as root at every freeze and thaw a platform's agent runs: what is
 * there that is not a regular file (a FIFO would block the freeze for
 * ever; /dev/zero would fill the memory) or is too large to be a
 * configuration is no value: the default. alarm(): on a hang the test
 * dies rather than the suite's timeout. */
static void test_not_regular(void **state) {
        g_autofree char *root = tl_mkdtemp();
        g_autofree char *gdir = g_build_filename(root, "etc/default", NULL);
        g_autofree char *vdir = g_build_filename(root, "etc/vmware-tools", NULL);
        g_autofree char *gfifo = g_build_filename(gdir, "instance_configs.cfg", NULL);
        g_autofree char *vfifo = g_build_filename(vdir, "tools.conf", NULL);
        g_autoptr(GString) big = g_string_new("[Snapshots]\n");

        (void) state;
        assert_int_equal(g_mkdir_with_parents(gdir, 0755), 0);
        assert_int_equal(g_mkdir_with_parents(vdir, 0755), 0);
        assert_int_equal(mkfifo(gfifo, 0644), 0);
        assert_int_equal(mkfifo(vfifo, 0644), 0);
        alarm(10);
        assert_limit(fh_budget_gce_seconds, root, NULL, NULL, 60, "the default");
        assert_limit(fh_budget_vmware_seconds, root, NULL, NULL, 900, "the default");
        alarm(0);
        /* Larger than 1 MiB, its value at the end. */
        while (big->len <= 1024 * 1024)
                g_string_append(big, "# padding padding padding padding padding padding padding\n");
        g_string_append(big, "timeout_in_seconds = 20\n");
        assert_int_equal(unlink(gfifo), 0);
        write_under(root, "/etc/default/instance_configs.cfg", big->str);
        assert_limit(fh_budget_gce_seconds, root, NULL, NULL, 60, "the default");
        tl_rmtree(root);
}

/* A number too large to be microseconds (garbage, or a typo) must not
 * wrap into a budget already spent, which would start no hook at all. */
static void test_gce_huge(void **state) {
        static const char *const values[] = { "9223372036854775807", "10000000000000", "0x7fffffffffffffff" };
        g_autofree char *root = tl_mkdtemp();

        (void) state;
        for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
                g_autofree char *text = g_strdup_printf("[Snapshots]\ntimeout_in_seconds = %s\n", values[i]);
                struct fh_settings s = { .caller = FH_PLATFORM_GCE, .root = root };
                struct fh_budget b;
                int64_t t = 60 * USEC_PER_SEC, g = 5 * USEC_PER_SEC, start = 1000 * USEC_PER_SEC;

                write_under(root, "/etc/default/instance_configs.cfg", text);
                fh_budget_init(&b, &s, FH_PHASE_FREEZE, false, start, 0);
                assert_true(fh_budget_fit(&b, start, &t, &g));
                assert_int_equal(t, 60 * USEC_PER_SEC);
                fh_budget_done(&b);
        }
        tl_rmtree(root);
}

static void test_fit(void **state) {
        struct fh_budget none = { 0 }, b = { .deadline_usec = 100 * USEC_PER_SEC };
        int64_t t, g;

        (void) state;
        t = 60 * USEC_PER_SEC, g = 5 * USEC_PER_SEC;
        assert_true(fh_budget_fit(&none, 99 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, 60 * USEC_PER_SEC);
        /* Room enough: unchanged. */
        assert_true(fh_budget_fit(&b, 30 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, 60 * USEC_PER_SEC);
        assert_int_equal(g, 5 * USEC_PER_SEC);
        /* 50 s left: the grace kept, the timeout cut to the rest, less
         * the last wait after SIGKILL (the grace, at least 1 s). */
        assert_true(fh_budget_fit(&b, 50 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, 40 * USEC_PER_SEC);
        assert_int_equal(g, 5 * USEC_PER_SEC);
        /* 4 s left: at most a quarter for the grace, and 1 s for the
         * last wait. */
        t = 60 * USEC_PER_SEC, g = 5 * USEC_PER_SEC;
        assert_true(fh_budget_fit(&b, 96 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, 2 * USEC_PER_SEC);
        assert_int_equal(g, USEC_PER_SEC);
        /* 1 s left: no room for the last wait; a quarter each, a try. */
        t = 60 * USEC_PER_SEC, g = 5 * USEC_PER_SEC;
        assert_true(fh_budget_fit(&b, 99 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, USEC_PER_SEC / 4);
        assert_int_equal(g, USEC_PER_SEC / 4);
        /* No timeout of its own: it gets one. */
        t = 0, g = 5 * USEC_PER_SEC;
        assert_true(fh_budget_fit(&b, 90 * USEC_PER_SEC, &t, &g));
        assert_int_equal(t, 5 * USEC_PER_SEC);
        /* Nothing left. */
        assert_false(fh_budget_fit(&b, 100 * USEC_PER_SEC, &t, &g));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_value),
                cmocka_unit_test(test_gce_precedence),
                cmocka_unit_test(test_vmware_timeout),
                cmocka_unit_test(test_not_regular),
                cmocka_unit_test(test_gce_huge),
                cmocka_unit_test(test_fit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
