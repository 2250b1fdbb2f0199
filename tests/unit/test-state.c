/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze record's bookkeeping: which hooks a thaw must still release,
 * and that a record written, changed and written again reads back as it
 * is now (each hook's text is cached between writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "state.h"
#include "testlib.h"

static struct fh_state_record *three_hooks(int64_t finished) {
        struct fh_state_record *r = fh_state_record_new(FH_PHASE_FREEZE);
        const char *names[] = { "10-a", "20-b", "30-c" };

        r->started_usec = 1;
        r->finished_usec = finished;
        r->awaiting_thaw = true;
        for (int i = 0; i < 3; i++) {
                g_autofree char *path = g_strconcat("/h/", names[i], NULL);
                struct fh_state_hook *h = fh_state_record_add(r, names[i], path);
                h->ran = i != 1;        /* 20-b did not run */
        }
        return r;
}

static void test_held_and_release(void **state) {
        g_autoptr(fh_state_record) r = three_hooks(2);
        struct fh_state_hook *a = r->hooks->pdata[0], *b = r->hooks->pdata[1], *c = r->hooks->pdata[2];

        assert_true(fh_state_hook_held(r, a));
        assert_false(fh_state_hook_held(r, b));        /* a finished freeze that did not run it */
        assert_true(fh_state_hook_held(r, c));
        fh_state_release(r, c);
        assert_false(fh_state_hook_held(r, c));
        assert_true(r->awaiting_thaw);                  /* 10-a is still held */
        fh_state_release(r, a);
        assert_false(r->awaiting_thaw);
}

static void test_unfinished_freeze_holds_all(void **state) {
        g_autoptr(fh_state_record) r = three_hooks(0);
        struct fh_state_hook *b = r->hooks->pdata[1];

        /* Killed half-way: any hook may have started. */
        assert_true(fh_state_hook_held(r, b));
        for (guint i = 0; i < 3; i++)
                if (i != 1)
                        fh_state_release(r, r->hooks->pdata[i]);
        assert_true(r->awaiting_thaw);
        fh_state_release(r, b);
        assert_false(r->awaiting_thaw);
}

static void test_rewrite_reads_back_changes(void **state) {
        g_autofree char *dir = tl_mkdtemp();
        g_autoptr(fh_state_record) r = three_hooks(2);
        g_autoptr(fh_state_record) back = NULL;
        struct fh_state_hook *c = r->hooks->pdata[2];

        assert_int_equal(fh_state_write(dir, r), 0);
        fh_state_release(r, c);
        c->status = 143;
        c->duration_usec = 5;
        g_free(c->outcome);
        c->outcome = g_strdup("status=143 (timed out)");
        assert_int_equal(fh_state_write(dir, r), 0);
        assert_int_equal(fh_state_read(dir, FH_PHASE_FREEZE, &back), 0);
        assert_int_equal(back->hooks->len, 3);
        c = back->hooks->pdata[2];
        assert_string_equal(c->name, "30-c");
        assert_true(c->released);
        assert_int_equal(c->status, 143);
        assert_int_equal(c->duration_usec, 5);
        assert_string_equal(c->outcome, "status=143 (timed out)");
        assert_false(((struct fh_state_hook *) back->hooks->pdata[0])->released);
        assert_true(back->awaiting_thaw);
        tl_rmtree(dir);
}

/* The run's monotonic duration reads back; a record without one (written
 * by an older version) still reads, with none. */
static void test_run_duration_optional(void **state) {
        g_autofree char *dir = tl_mkdtemp(), *path = g_build_filename(dir, "last-freeze", NULL);
        g_autofree char *text = NULL;
        g_autoptr(fh_state_record) r = three_hooks(2);
        g_autoptr(fh_state_record) back = NULL, old = NULL;
        g_autoptr(GRegex) key = g_regex_new("^duration-usec=7\n", G_REGEX_MULTILINE, 0, NULL);

        r->duration_usec = 7;
        assert_int_equal(fh_state_write(dir, r), 0);
        assert_int_equal(fh_state_read(dir, FH_PHASE_FREEZE, &back), 0);
        assert_int_equal(back->duration_usec, 7);
        text = tl_read_file(path);
        g_autofree char *older = g_regex_replace_literal(key, text, -1, 0, "", 0, NULL);
        assert_int_equal(strlen(older), strlen(text) - strlen("duration-usec=7\n"));
        assert_true(g_file_set_contents(path, older, -1, NULL));
        assert_int_equal(fh_state_read(dir, FH_PHASE_FREEZE, &old), 0);
        assert_int_equal(old->duration_usec, -1);
        tl_rmtree(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_held_and_release),
                cmocka_unit_test(test_unfinished_freeze_holds_all),
                cmocka_unit_test(test_rewrite_reads_back_changes),
                cmocka_unit_test(test_run_duration_optional),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
