/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "linebuf.h"

/* Collects what the line buffer passes on, as "line" or "+line" for a
 * continuation piece, a NUL byte as "\\0" so that the whole line can be
 * compared as a string. */
static void collect(void *userdata, const char *line, size_t len, bool continued, bool ended) {
        GPtrArray *lines = userdata;
        GString *s = g_string_new(continued ? "+" : "");

        (void) ended;   /* checked by the fuzz driver's byte count */

        for (size_t i = 0; i < len; i++) {
                if (line[i] == '\0')
                        g_string_append(s, "\\0");
                else
                        g_string_append_c(s, line[i]);
        }
        g_ptr_array_add(lines, g_string_free(s, FALSE));
}

/* s is exactly n copies of c. */
static void assert_run_of(const char *s, char c, size_t n) {
        assert_int_equal(strlen(s), n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(s[i], c);
}

static GPtrArray *feed_all(const char *data, size_t n, size_t chunk) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        g_autofree struct fh_linebuf *lb = g_new(struct fh_linebuf, 1);

        fh_linebuf_init(lb);
        for (size_t i = 0; i < n; i += chunk)
                fh_linebuf_feed(lb, data + i, MIN(chunk, n - i), collect, lines);
        fh_linebuf_flush(lb, collect, lines);
        return lines;
}

static void test_lines_and_last_without_newline(void **state) {
        const char in[] = "one\ntwo\n\nlast";
        g_autoptr(GPtrArray) l = feed_all(in, sizeof in - 1, sizeof in);

        assert_int_equal(l->len, 4);
        assert_string_equal(l->pdata[0], "one");
        assert_string_equal(l->pdata[1], "two");
        assert_string_equal(l->pdata[2], "");
        assert_string_equal(l->pdata[3], "last");
}

static void test_nothing_pending_nothing_flushed(void **state) {
        g_autoptr(GPtrArray) l = feed_all("a\n", 2, 2);

        assert_int_equal(l->len, 1);
        assert_string_equal(l->pdata[0], "a");
}

static void test_chunking_does_not_matter(void **state) {
        GString *in = g_string_new(NULL);

        for (int i = 0; i < 300; i++)
                g_string_append_printf(in, "line %d %s\n", i, i % 7 ? "x" : "a somewhat longer line of text");
        g_string_append_len(in, "tail\0with nul", 13);
        {
                g_autoptr(GPtrArray) whole = feed_all(in->str, in->len, in->len);
                size_t chunks[] = { 1, 2, 3, 7, 64, 4095, 4096, 4097 };

                /* In one piece, every line as it was written. */
                assert_int_equal(whole->len, 301);
                for (int i = 0; i < 300; i++) {
                        g_autofree char *line = g_strdup_printf("line %d %s", i,
                                                                i % 7 ? "x" : "a somewhat longer line of text");
                        assert_string_equal(whole->pdata[i], line);
                }
                assert_string_equal(whole->pdata[300], "tail\\0with nul");
                for (size_t c = 0; c < G_N_ELEMENTS(chunks); c++) {
                        g_autoptr(GPtrArray) parts = feed_all(in->str, in->len, chunks[c]);

                        assert_int_equal(parts->len, whole->len);
                        for (guint i = 0; i < whole->len; i++)
                                assert_string_equal(parts->pdata[i], whole->pdata[i]);
                }
        }
        g_string_free(in, TRUE);
}

static void test_long_line_split_into_bounded_pieces(void **state) {
        size_t n = FH_LINE_MAX * 2 + 10;
        g_autofree char *in = g_malloc(n + 1);
        g_autoptr(GPtrArray) l = NULL;

        memset(in, 'x', n);
        in[n] = '\n';
        l = feed_all(in, n + 1, 1000);
        assert_int_equal(l->len, 3);
        assert_run_of(l->pdata[0], 'x', FH_LINE_MAX);
        assert_int_equal(((char *) l->pdata[1])[0], '+');          /* "+" and a full piece */
        assert_run_of((char *) l->pdata[1] + 1, 'x', FH_LINE_MAX);
        assert_string_equal(l->pdata[2], "+xxxxxxxxxx");
}

static void test_exactly_max_is_not_split(void **state) {
        g_autofree char *in = g_malloc(FH_LINE_MAX + 2);
        g_autoptr(GPtrArray) l = NULL;

        memset(in, 'y', FH_LINE_MAX);
        memcpy(in + FH_LINE_MAX, "\nz", 2);
        l = feed_all(in, FH_LINE_MAX + 2, 100);
        assert_int_equal(l->len, 2);
        assert_run_of(l->pdata[0], 'y', FH_LINE_MAX);
        assert_string_equal(l->pdata[1], "z");
}

static void test_split_keeps_utf8_characters_whole(void **state) {
        /* A 3-byte character straddles the split point. */
        size_t n = FH_LINE_MAX + 2;
        g_autofree char *in = g_malloc(n);
        g_autoptr(GPtrArray) l = NULL;

        memset(in, 'a', n);
        memcpy(in + FH_LINE_MAX - 1, "\xe2\x82\xac", 3);
        l = feed_all(in, n, n);
        assert_int_equal(l->len, 2);
        assert_run_of(l->pdata[0], 'a', FH_LINE_MAX - 1);
        assert_string_equal(l->pdata[1], "+\xe2\x82\xac");
}

static void test_no_bytes_lost(void **state) {
        /* Every byte fed comes out, in order, newlines aside. */
        size_t n = 50000;
        g_autofree char *in = g_malloc(n);
        g_autoptr(GString) back = g_string_new(NULL);
        g_autoptr(GString) expect = g_string_new(NULL);
        g_autoptr(GPtrArray) l = NULL;

        for (size_t i = 0; i < n; i++)
                in[i] = (char) (i % 9973 == 0 ? '\n' : 'A' + i % 26 + (i % 5000 == 1 ? 100 : 0));
        for (size_t i = 0; i < n; i++)
                if (in[i] != '\n')
                        g_string_append_c(expect, in[i]);
        l = feed_all(in, n, 777);
        for (guint i = 0; i < l->len; i++) {
                const char *s = l->pdata[i];
                g_string_append(back, s[0] == '+' ? s + 1 : s);
        }
        assert_int_equal(back->len, expect->len);
        assert_memory_equal(back->str, expect->str, expect->len);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines_and_last_without_newline),
                cmocka_unit_test(test_nothing_pending_nothing_flushed),
                cmocka_unit_test(test_chunking_does_not_matter),
                cmocka_unit_test(test_long_line_split_into_bounded_pieces),
                cmocka_unit_test(test_exactly_max_is_not_split),
                cmocka_unit_test(test_split_keeps_utf8_characters_whole),
                cmocka_unit_test(test_no_bytes_lost),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
