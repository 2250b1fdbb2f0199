/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "escape.h"

static char *esc(const char *in, size_t n) {
        char *out = g_malloc(FH_ESCAPED_MAX(n));

        fh_escape(in, n, out);
        return out;
}

#define assert_escape(in, expected)                                     \
        do {                                                            \
                g_autofree char *_o = esc(in, sizeof(in) - 1);          \
                assert_string_equal(_o, expected);                      \
        } while (0)

static void test_printable_ascii_unchanged(void **state) {
        assert_escape("Flushing tables: done (42 rows)", "Flushing tables: done (42 rows)");
        assert_escape("", "");
}

static void test_backslash_doubled(void **state) {
        assert_escape("C:\\dir", "C:\\\\dir");
        /* A hook cannot forge an escape: its literal "\x1b" stays visible as such. */
        assert_escape("\\x1b", "\\\\x1b");
}

static void test_controls_escaped_tab_kept(void **state) {
        assert_escape("a\tb", "a\tb");
        assert_escape("\x1b[31mred", "\\x1b[31mred");
        assert_escape("cr\r", "cr\\x0d");
        assert_escape("del\x7f", "del\\x7f");
        assert_escape("nul\0x", "nul\\x00x");
        assert_escape("nl\nx", "nl\\x0ax");
}

static void test_utf8_kept(void **state) {
        assert_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_c1_control_escaped(void **state) {
        /* U+009B is a one-character CSI for some terminals. */
        assert_escape("\xc2\x9b" "31m", "\\xc2\\x9b31m");
}

static void test_text_reordering_escaped(void **state) {
        /* U+202E RIGHT-TO-LEFT OVERRIDE would make "txt.exe" read "exe.txt". */
        assert_escape("a\xe2\x80\xae" "txt.exe", "a\\xe2\\x80\\xae" "txt.exe");
        assert_escape("\xef\xbb\xbf" "bom", "\\xef\\xbb\\xbf" "bom");
        assert_escape("ls\xe2\x80\xa8ps", "ls\\xe2\\x80\\xa8ps");
        assert_escape("\xe2\x81\xa6" "iso", "\\xe2\\x81\\xa6" "iso");
        assert_escape("ok \xe2\x80\x94 dash", "ok \xe2\x80\x94 dash");    /* an em dash is fine */
}

static void test_invalid_utf8_escaped_bytewise(void **state) {
        assert_escape("\xff", "\\xff");
        assert_escape("a\xc3", "a\\xc3");                       /* truncated */
        assert_escape("\xc3(", "\\xc3(");                       /* bad continuation */
        assert_escape("\xc0\xaf", "\\xc0\\xaf");                 /* overlong '/' */
        assert_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");        /* surrogate */
        assert_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
        /* An invalid byte does not swallow the valid character after it. */
        assert_escape("\xe2\xc3\xa9", "\\xe2\xc3\xa9");
}

/* The edges of RFC 3629, pinned because the decoder is GLib's since
 * g_utf8_get_char_validated() replaced our own. */
static void test_utf8_edges(void **state) {
        assert_escape("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");          /* U+10FFFF */
        assert_escape("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");          /* U+1F600 */
        assert_escape("\xef\xb7\x90", "\xef\xb7\x90");                  /* noncharacter U+FDD0 */
        assert_escape("\xef\xbf\xbe", "\xef\xbf\xbe");                  /* noncharacter U+FFFE */
        assert_escape("\xe0\x80\xaf", "\\xe0\\x80\\xaf");               /* overlong, 3 bytes */
        assert_escape("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf");    /* overlong, 4 bytes */
        assert_escape("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");    /* lead byte past U+10FFFF */
        assert_escape("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80"); /* 5-byte form */
        assert_escape("\xf0\x9f\x98", "\\xf0\\x9f\\x98");               /* truncated at the end */
        assert_escape("\xe2\x80\0x", "\\xe2\\x80\\x00x");                /* NUL cuts a sequence */
}

static void test_roundtrip_all_bytes(void **state) {
        char in[512], back[512];
        size_t len = 0;
        g_autofree char *out = NULL;

        for (int i = 0; i < 512; i++)
                in[i] = (char) (i * 7 + 3);
        out = esc(in, sizeof in);
        assert_int_equal(fh_unescape(out, strlen(out), back, &len), 0);
        assert_int_equal(len, sizeof in);
        assert_memory_equal(back, in, sizeof in);
        /* And the escaped form is clean: valid UTF-8, no control characters. */
        assert_true(g_utf8_validate(out, -1, NULL));
        for (const char *p = out; *p; p++)
                assert_true((unsigned char) *p >= 0x20 || *p == '\t');
}

static void test_unescape_rejects_malformed(void **state) {
        char out[16];
        size_t len;

        assert_int_equal(fh_unescape("\\x4", 3, out, &len), -EINVAL);
        assert_int_equal(fh_unescape("\\q", 2, out, &len), -EINVAL);
        assert_int_equal(fh_unescape("\\xzz", 4, out, &len), -EINVAL);
        assert_int_equal(fh_unescape("\\x41", 4, out, &len), 0);
        assert_int_equal(len, 1);
        assert_int_equal(out[0], 'A');
}

static void test_escape_dup(void **state) {
        g_autofree char *s = fh_escape_dup("new\nline name");

        assert_string_equal(s, "new\\x0aline name");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printable_ascii_unchanged),
                cmocka_unit_test(test_backslash_doubled),
                cmocka_unit_test(test_controls_escaped_tab_kept),
                cmocka_unit_test(test_utf8_kept),
                cmocka_unit_test(test_c1_control_escaped),
                cmocka_unit_test(test_text_reordering_escaped),
                cmocka_unit_test(test_invalid_utf8_escaped_bytewise),
                cmocka_unit_test(test_utf8_edges),
                cmocka_unit_test(test_roundtrip_all_bytes),
                cmocka_unit_test(test_unescape_rejects_malformed),
                cmocka_unit_test(test_escape_dup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
