/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host and the fleet read after each phase: STATE_DIR/status.json
 * (the --status --json document) and the metrics file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

#define run(f, r, ...) tl_fx_run(f, r, NULL, __VA_ARGS__)

static char *status_file(struct tl_fx *f) {
        g_autofree char *path = g_build_filename(f->state, "status.json", NULL);

        return tl_read_file(path);
}

static char *status_command(struct tl_fx *f) {
        struct tl_run r;
        char *out;

        run(f, &r, "--status", "--json", NULL);
        assert_int_equal(r.status, 0);
        out = g_steal_pointer(&r.out);
        tl_run_clear(&r);
        return out;
}

/* Runs python3 'code' with the file 'path' as sys.argv[1]; skips the
 * check where there is no python3. */
static void python_check(const char *code, const char *path) {
        g_autofree char *python = g_find_program_in_path("python3");
        char *argv[] = { python, "-c", (char *) code, (char *) path, NULL };
        struct tl_run p;

        if (!python)
                return;
        tl_run(argv, NULL, 30000, &p);
        if (p.status != 0)
                fail_msg("%s\n%s", code, p.err);
        tl_run_clear(&p);
}

/* After the freeze and after the thaw, status.json is exactly what
 * --status --json prints then: versioned, each hook's outcome, the thaw
 * awaited or not, the deadline. No temporary file is left. */
static void test_status_json_after_each_phase(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *path = g_build_filename(f->state, "status.json", NULL);
        g_autofree char *tmp = g_build_filename(f->state, "status.json.new", NULL);
        g_autofree char *after_freeze = NULL, *after_thaw = NULL, *shown = NULL;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        g_free(tl_write_hook(f->hooks, "20-fails", "exit 3\n"));
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        after_freeze = status_file(f);
        assert_non_null(after_freeze);
        shown = status_command(f);
        assert_string_equal(after_freeze, shown);
        assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
        python_check("import json,sys; d=json.load(open(sys.argv[1])); "
                     "assert d['version'] == 1, d; assert d['awaiting_thaw'] is True; "
                     "h = d['freeze']['hooks']; assert [x['name'] for x in h] == ['10-a', '20-fails'], h; "
                     "assert h[0]['status'] == 0 and h[1]['status'] == 3, h; assert d['thaw'] is None; "
                     "t = d['deadline']; assert t['armed'] is True and t['seconds'] == 3600 and t['fired'] is False, t; "
                     "assert t['expires'] is not None, t", path);

        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        after_thaw = status_file(f);
        g_free(shown);
        shown = status_command(f);
        assert_string_equal(after_thaw, shown);
        python_check("import json,sys; d=json.load(open(sys.argv[1])); "
                     "assert d['awaiting_thaw'] is False; "
                     "assert [x['name'] for x in d['thaw']['hooks']] == ['20-fails', '10-a'], d['thaw']; "
                     "assert d['deadline']['armed'] is False and d['deadline']['fired'] is False, d", path);
}

static double metric(const char *text, const char *series) {
        g_autofree char *prefix = g_strconcat("\n", series, " ", NULL);
        const char *p = strstr(text, prefix);

        if (!p)
                fail_msg("no %s in:\n%s", series, text);
        return g_ascii_strtod(p + strlen(prefix), NULL);
}

/* promtool, from Debian's prometheus package, parses and lints it as
 * node_exporter would take it; the values are those of the records. */
static void test_metrics_file_checked_by_promtool(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *promtool = g_find_program_in_path("promtool");
        g_autofree char *prom = g_build_filename(f->top, "node", "fsfreeze-hook.prom", NULL);
        g_autofree char *opt = g_strconcat("--metrics-file=", prom, NULL);
        g_autofree char *dir = g_path_get_dirname(prom), *text = NULL;
        g_autofree char *script = NULL;
        struct tl_run r;

        if (!promtool) {
                print_message("promtool is not installed (apt-get install prometheus): skipped\n");
                skip();
        }
        g_mkdir(dir, 0755);
        tl_fx_recording_hook(f, "10-a");
        g_free(tl_write_hook(f->hooks, "20-\"odd\"\\name", "exit 3\n"));
        run(f, &r, opt, "freeze", NULL);
        tl_run_clear(&r);
        run(f, &r, opt, "thaw", NULL);
        tl_run_clear(&r);
        run(f, &r, opt, "freeze", NULL);
        tl_run_clear(&r);

        script = g_strdup_printf("'%s' check metrics < '%s'", promtool, prom);
        {
                char *argv[] = { "/bin/sh", "-c", script, NULL };
                struct tl_run p;

                tl_run(argv, NULL, 30000, &p);
                if (p.status != 0)
                        fail_msg("promtool check metrics: %s%s", p.out, p.err);
                tl_run_clear(&p);
        }
        text = tl_read_file(prom);
        assert_int_equal((int) metric(text, "fsfreeze_hook_freezes_total"), 2);
        assert_int_equal((int) metric(text, "fsfreeze_hook_thaws_total"), 1);
        assert_int_equal((int) metric(text, "fsfreeze_hook_hook_failures_total"), 3);
        assert_int_equal((int) metric(text, "fsfreeze_hook_awaiting_thaw"), 1);
        assert_int_equal((int) metric(text, "fsfreeze_hook_deadline_armed"), 1);
        assert_int_equal((int) metric(text, "fsfreeze_hook_deadline_thaws_total"), 0);
        assert_int_equal((int) metric(text, "fsfreeze_hook_hook_last_status{phase=\"freeze\",hook=\"10-a\"}"), 0);
        assert_int_equal((int) metric(text, "fsfreeze_hook_hook_last_status{phase=\"freeze\",hook="
                                            "\"20-\\\"odd\\\"\\\\\\\\name\"}"), 3);
        assert_int_equal((int) metric(text, "fsfreeze_hook_phase_last_failed_hooks{phase=\"thaw\"}"), 1);
        assert_true(metric(text, "fsfreeze_hook_phase_last_start_timestamp_seconds{phase=\"freeze\"}") >
                    metric(text, "fsfreeze_hook_phase_last_start_timestamp_seconds{phase=\"thaw\"}"));
}

/* Off by default: no metrics file appears anywhere we look. */
static void test_no_metrics_file_by_default(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *counters = g_build_filename(f->state, "counters", NULL);
        struct tl_run r;

        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        assert_false(g_file_test(counters, G_FILE_TEST_EXISTS));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_status_json_after_each_phase, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_metrics_file_checked_by_promtool, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_no_metrics_file_by_default, tl_fx_setup, tl_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
