/* SPDX-License-Identifier: GPL-2.0-or-later */
/* foreign.c's plan for one platform's scripts (issue 13): what a process
 * test cannot reach before the caller recognition of part 2 exists (the
 * calling platform's own scripts), on real files under a --root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "foreign.h"
#include "testlib.h"

struct fx {
        char *root;
        struct fh_settings s;
};

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);
        g_autofree char *dir = NULL;

        f->root = tl_mkdtemp();
        dir = g_build_filename(f->root, "etc/google/snapshots", NULL);
        g_mkdir_with_parents(dir, 0755);
        g_free(tl_write_hook(dir, "pre.sh", "exit 0\n"));
        g_free(tl_write_hook(dir, "post.sh", "exit 0\n"));
        fh_settings_init(&f->s, "/usr/sbin/fsfreeze-hook");
        f->s.root = g_strdup(f->root);
        f->s.platform_scripts = 1U << FH_PLATFORM_GCE;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        tl_rmtree(f->root);
        g_free(f->root);
        fh_settings_done(&f->s);
        g_free(f);
        return 0;
}

static GPtrArray *plan(struct fx *f, enum fh_phase phase) {
        GPtrArray *items = g_ptr_array_new_with_free_func(fh_plan_item_free);

        fh_foreign_plan(&f->s, phase, NULL, items);
        return items;
}

/* Enabled and present: one entry, the side of the phase, runnable. */
static void test_entry_runs(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) items = plan(f, FH_PHASE_THAW);
        const struct fh_plan_item *i;

        assert_int_equal(items->len, 1);
        i = items->pdata[0];
        assert_string_equal(i->name, "gce:scripts");
        assert_true(g_str_has_suffix(i->path, "/etc/google/snapshots/post.sh"));
        assert_int_equal(i->platform, FH_PLATFORM_GCE);
        assert_true(i->run);
}

/* Google's agent ran us (part 2 sets s->caller): it runs pre.sh itself,
 * so we must not run it a second time. */
static void test_callers_own_scripts_skipped(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) items = NULL;
        const struct fh_plan_item *i;

        f->s.caller = FH_PLATFORM_GCE;
        items = plan(f, FH_PHASE_FREEZE);
        assert_int_equal(items->len, 1);
        i = items->pdata[0];
        assert_false(i->run);
        assert_false(i->notable);
        assert_string_equal(i->why, "Google guest agent ran us: it runs its own scripts itself");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_entry_runs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_callers_own_scripts_skipped, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
