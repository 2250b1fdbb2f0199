/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "json.h"

/* A document that must parse; fails the test with the reason if not. */
static struct fh_json *parse_ok(const char *text, size_t len) {
        struct fh_json *v = NULL;
        g_autofree char *error = NULL;
        int r = fh_json_parse(text, len, &v, &error);

        if (r < 0)
                fail_msg("%s: %s", text, error);
        assert_non_null(v);
        return v;
}
#define PARSE_OK(s) parse_ok(s, strlen(s))

/* A document that must not parse, with exactly this message; *ret untouched. */
static void parse_bad(const char *text, size_t len, const char *expected) {
        struct fh_json *v = (struct fh_json *) 0x1;
        g_autofree char *error = NULL;

        assert_int_equal(fh_json_parse(text, len, &v, &error), -EBADMSG);
        assert_ptr_equal(v, (struct fh_json *) 0x1);
        assert_non_null(error);
        assert_string_equal(error, expected);
        /* The message is optional. */
        assert_int_equal(fh_json_parse(text, len, &v, NULL), -EBADMSG);
}
#define PARSE_BAD(s, expected) parse_bad(s, sizeof(s) - 1, expected)

static double number_of(const struct fh_json *v) {
        double d = -12345;

        assert_int_equal(fh_json_number(v, &d), 0);
        return d;
}

static bool bool_of(const struct fh_json *v) {
        bool b = false;

        assert_int_equal(fh_json_bool(v, &b), 0);
        return b;
}

/* The template Microsoft ships (MicrosoftAzureBackup/VMSnapshotPluginConfig,
 * VMSnapshotScriptPluginConfig.json), byte for byte. */
static const char azure_template[] =
        "{\n"
        "    \"pluginName\" : \"ScriptRunner\",\n"
        "    \"preScriptLocation\" : \"\",\n"
        "    \"postScriptLocation\" : \"\",\n"
        "    \"preScriptParams\" : [\"\", \"\"],\n"
        "    \"postScriptParams\" : [\"\", \"\"],\n"
        "    \"preScriptNoOfRetries\" : 0,\n"
        "    \"postScriptNoOfRetries\" : 0,\n"
        "    \"timeoutInSeconds\" : 30,\n"
        "    \"continueBackupOnFailure\" : true,\n"
        "    \"fsFreezeEnabled\" : true,\n"
        "    \"ScriptsExecutionPollTimeSeconds\" : 3\n"
        "}\n";

static void test_azure_template(void **state) {
        g_autoptr(fh_json) v = PARSE_OK(azure_template);
        const struct fh_json *params;

        assert_int_equal(fh_json_type(v), FH_JSON_OBJECT);
        assert_string_equal(fh_json_string(fh_json_member(v, "pluginName")), "ScriptRunner");
        assert_string_equal(fh_json_string(fh_json_member(v, "preScriptLocation")), "");
        assert_string_equal(fh_json_string(fh_json_member(v, "postScriptLocation")), "");
        for (int i = 0; i < 2; i++) {
                params = fh_json_member(v, i ? "postScriptParams" : "preScriptParams");
                assert_int_equal(fh_json_type(params), FH_JSON_ARRAY);
                assert_int_equal(fh_json_length(params), 2);
                assert_string_equal(fh_json_string(fh_json_at(params, 0)), "");
                assert_string_equal(fh_json_string(fh_json_at(params, 1)), "");
                assert_null(fh_json_at(params, 2));
        }
        assert_true(number_of(fh_json_member(v, "preScriptNoOfRetries")) == 0);
        assert_true(number_of(fh_json_member(v, "postScriptNoOfRetries")) == 0);
        assert_true(number_of(fh_json_member(v, "timeoutInSeconds")) == 30);
        assert_true(number_of(fh_json_member(v, "ScriptsExecutionPollTimeSeconds")) == 3);
        assert_true(bool_of(fh_json_member(v, "continueBackupOnFailure")));
        assert_true(bool_of(fh_json_member(v, "fsFreezeEnabled")));
        assert_null(fh_json_member(v, "appName"));
        assert_null(fh_json_member(v, "pluginname"));   /* names are case-sensitive */
}

/* What part 2 writes (see CONTRACT-13.md): our marker, wrappers, no params. */
static void test_azure_ours(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("{\"pluginName\":\"fsfreeze-hook\",\"preScriptLocation\":"
                                        "\"/etc/azure/fsfreeze-hook-pre\",\"preScriptParams\":[],"
                                        "\"fsFreezeEnabled\":false}");

        assert_string_equal(fh_json_string(fh_json_member(v, "pluginName")), "fsfreeze-hook");
        assert_int_equal(fh_json_type(fh_json_member(v, "preScriptParams")), FH_JSON_ARRAY);
        assert_int_equal(fh_json_length(fh_json_member(v, "preScriptParams")), 0);
        assert_false(bool_of(fh_json_member(v, "fsFreezeEnabled")));
}

static void test_scalars(void **state) {
        g_autoptr(fh_json) n = PARSE_OK(" null ");
        g_autoptr(fh_json) t = PARSE_OK("true");
        g_autoptr(fh_json) f = PARSE_OK("\t\r\nfalse\n");
        g_autoptr(fh_json) s = PARSE_OK("\"text\"");

        assert_int_equal(fh_json_type(n), FH_JSON_NULL);
        assert_true(bool_of(t));
        assert_false(bool_of(f));
        assert_int_equal(fh_json_type(s), FH_JSON_STRING);
        assert_string_equal(fh_json_string(s), "text");
}

static void test_numbers(void **state) {
        static const struct {
                const char *text;
                double value;
        } cases[] = {
                { "0", 0 }, { "-0", -0.0 }, { "7", 7 }, { "-12", -12 }, { "30", 30 },
                { "1.5", 1.5 }, { "-0.25", -0.25 }, { "1e3", 1000 }, { "1E+3", 1000 },
                { "25e-2", 0.25 }, { "0.5E1", 5 }, { "1800", 1800 },
                { "1.7976931348623157e308", 1.7976931348623157e308 },
                { "1e-400", 0 },        /* underflow: the nearest double, as Python */
                { "12345678901234567890", 12345678901234567890.0 },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(fh_json) v = PARSE_OK(cases[i].text);

                assert_int_equal(fh_json_type(v), FH_JSON_NUMBER);
                assert_true(number_of(v) == cases[i].value);
        }
}

static void test_strings(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u20AC\","
                                        " \"caf\xc3\xa9 \xe2\x82\xac\", \"\\u001b[31m\", \"\"]");

        assert_int_equal(fh_json_length(v), 5);
        assert_string_equal(fh_json_string(fh_json_at(v, 0)), "\"\\/\b\f\n\r\t");
        assert_string_equal(fh_json_string(fh_json_at(v, 1)), "A\xc3\xa9\xe2\x82\xac");
        assert_string_equal(fh_json_string(fh_json_at(v, 2)), "caf\xc3\xa9 \xe2\x82\xac");
        assert_string_equal(fh_json_string(fh_json_at(v, 3)), "\x1b[31m");
        assert_string_equal(fh_json_string(fh_json_at(v, 4)), "");
}

static void test_surrogate_pairs(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("[\"\\ud83d\\ude00\", \"\\uD83D\\uDE00\", \"\\ud800\\udc00\","
                                        " \"\\udbff\\udfff\", \"a\\ud83d\\ude00b\"]");

        assert_string_equal(fh_json_string(fh_json_at(v, 0)), "\xf0\x9f\x98\x80");      /* U+1F600 */
        assert_string_equal(fh_json_string(fh_json_at(v, 1)), "\xf0\x9f\x98\x80");
        assert_string_equal(fh_json_string(fh_json_at(v, 2)), "\xf0\x90\x80\x80");      /* U+10000 */
        assert_string_equal(fh_json_string(fh_json_at(v, 3)), "\xf4\x8f\xbf\xbf");      /* U+10FFFF */
        assert_string_equal(fh_json_string(fh_json_at(v, 4)), "a\xf0\x9f\x98\x80" "b");
}

static void test_lone_surrogates_refused(void **state) {
        PARSE_BAD("\"\\ud800\"", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\ud800", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"x\\udbff\\u0041\"", "line 1, column 3: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\ud800\\ud800\"", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\udbff\\ue000\"", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\ud800\\n\"", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\ud800\\u12\"", "line 1, column 2: lone high surrogate in a \\u escape");
        PARSE_BAD("\"\\udc00\"", "line 1, column 2: lone low surrogate in a \\u escape");
        PARSE_BAD("\"\\ude00\\ud83d\"", "line 1, column 2: lone low surrogate in a \\u escape");
}

static void test_nesting(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("{\"a\": {\"b\": [1, [2, 3], {}], \"c\": null}, \"d\": []}");
        const struct fh_json *a = fh_json_member(v, "a");
        const struct fh_json *b = fh_json_member(a, "b");

        assert_int_equal(fh_json_type(a), FH_JSON_OBJECT);
        assert_int_equal(fh_json_length(b), 3);
        assert_true(number_of(fh_json_at(fh_json_at(b, 1), 1)) == 3);
        assert_int_equal(fh_json_type(fh_json_at(b, 2)), FH_JSON_OBJECT);
        assert_int_equal(fh_json_type(fh_json_member(a, "c")), FH_JSON_NULL);
        assert_non_null(fh_json_member(a, "c"));
        assert_int_equal(fh_json_length(fh_json_member(v, "d")), 0);
        assert_null(fh_json_member(v, "b"));            /* not searched below the top */
}

/* Every accessor on the wrong type (or a missing member) answers "no",
 * leaving *ret alone, so that lookups chain without checks in between. */
static void test_wrong_types(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("{\"s\": \"1\", \"n\": 1, \"b\": true, \"a\": [1], \"o\": {\"k\": 1}}");
        const struct fh_json *missing = fh_json_member(v, "missing");
        bool b = true;
        double d = 42;

        assert_null(missing);
        assert_int_equal(fh_json_type(missing), FH_JSON_NULL);
        assert_null(fh_json_string(fh_json_member(v, "n")));
        assert_null(fh_json_string(missing));
        assert_int_equal(fh_json_bool(fh_json_member(v, "s"), &b), -EINVAL);
        assert_int_equal(fh_json_bool(missing, &b), -EINVAL);
        assert_true(b);
        assert_int_equal(fh_json_number(fh_json_member(v, "s"), &d), -EINVAL);
        assert_int_equal(fh_json_number(fh_json_member(v, "b"), &d), -EINVAL);
        assert_int_equal(fh_json_number(missing, &d), -EINVAL);
        assert_true(d == 42);
        assert_int_equal(fh_json_length(fh_json_member(v, "o")), 0);   /* arrays only */
        assert_null(fh_json_at(fh_json_member(v, "o"), 0));
        assert_int_equal(fh_json_length(fh_json_member(v, "s")), 0);
        assert_null(fh_json_at(missing, 0));
        assert_null(fh_json_member(fh_json_member(v, "a"), "k"));
        assert_null(fh_json_member(missing, "k"));
        assert_non_null(fh_json_member(fh_json_member(v, "o"), "k"));
        fh_json_free(NULL);
}

static void test_duplicate_keys_last_wins(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("{\"a\": 1, \"b\": 0, \"a\": \"two\", \"c\": {\"x\": 1, \"x\": [2]}}");

        /* As python3 -c 'import json; print(json.loads(...))' says. */
        assert_string_equal(fh_json_string(fh_json_member(v, "a")), "two");
        assert_true(number_of(fh_json_member(v, "b")) == 0);
        assert_int_equal(fh_json_length(fh_json_member(fh_json_member(v, "c"), "x")), 1);
}

static void test_keys_decoded(void **state) {
        g_autoptr(fh_json) v = PARSE_OK("{\"\\u0070lugin\\u004eame\": \"x\", \"\": 1, \"caf\xc3\xa9\": 2}");

        assert_string_equal(fh_json_string(fh_json_member(v, "pluginName")), "x");
        assert_true(number_of(fh_json_member(v, "")) == 1);
        assert_null(fh_json_member(v, "caf\\u00e9"));  /* names match decoded */
        assert_true(number_of(fh_json_member(v, "caf\xc3\xa9")) == 2);
}

/* The length is the document: bytes after it are not read. */
static void test_length_bounds_the_text(void **state) {
        g_autoptr(fh_json) v = parse_ok("[1]garbage", 3);
        char odd[] = { '"', 'a', '"' };                 /* no NUL anywhere */
        g_autoptr(fh_json) s = parse_ok(odd, sizeof odd);

        assert_int_equal(fh_json_length(v), 1);
        assert_string_equal(fh_json_string(s), "a");
        parse_bad("\"abc\"", 3, "line 1, column 1: unterminated string");
        parse_bad("truex", 3, "line 1, column 1: invalid literal (true, false and null are)");
}

static void test_errors_structure(void **state) {
        PARSE_BAD("", "line 1, column 1: unexpected end of the document, expected a value");
        PARSE_BAD(" \n ", "line 2, column 2: unexpected end of the document, expected a value");
        PARSE_BAD("{\n  \"a\": 1,\n}", "line 3, column 1: expected a string (a member's name)");
        PARSE_BAD("{,}", "line 1, column 2: expected a string (a member's name)");
        PARSE_BAD("{1: 2}", "line 1, column 2: expected a string (a member's name)");
        PARSE_BAD("{'a': 2}", "line 1, column 2: expected a string (a member's name)");
        PARSE_BAD("[1,]", "line 1, column 4: expected a value");
        PARSE_BAD("[,1]", "line 1, column 2: expected a value");
        PARSE_BAD("[1 2]", "line 1, column 4: expected ',' or ']'");
        PARSE_BAD("[1", "line 1, column 3: unexpected end of the document, expected ',' or ']'");
        PARSE_BAD("[", "line 1, column 2: unexpected end of the document, expected a value");
        PARSE_BAD("{\"a\" 1}", "line 1, column 6: expected ':'");
        PARSE_BAD("{\"a\"", "line 1, column 5: unexpected end of the document, expected ':'");
        PARSE_BAD("{\"a\":}", "line 1, column 6: expected a value");
        PARSE_BAD("{\"a\":1 \"b\":2}", "line 1, column 8: expected ',' or '}'");
        PARSE_BAD("{\"a\":1", "line 1, column 7: unexpected end of the document, expected ',' or '}'");
        PARSE_BAD("[}", "line 1, column 2: expected a value");
        PARSE_BAD("{]", "line 1, column 2: expected a string (a member's name)");
        PARSE_BAD("{\n  \"k\": [\n    1,\n    x\n  ]\n}", "line 4, column 5: expected a value");
        /* Comments are no JSON. */
        PARSE_BAD("{} // c", "line 1, column 4: more after the end of the document");
        PARSE_BAD("/* c */ {}", "line 1, column 1: expected a value");
}

static void test_errors_trailing(void **state) {
        PARSE_BAD("{} x", "line 1, column 4: more after the end of the document");
        PARSE_BAD("[]]", "line 1, column 3: more after the end of the document");
        PARSE_BAD("{\"a\":1}\n{}", "line 2, column 1: more after the end of the document");
        PARSE_BAD("1 2", "line 1, column 3: more after the end of the document");
        PARSE_BAD("\"a\"\"b\"", "line 1, column 4: more after the end of the document");
}

static void test_errors_literals(void **state) {
        PARSE_BAD("tru", "line 1, column 1: invalid literal (true, false and null are)");
        PARSE_BAD("[nul]", "line 1, column 2: invalid literal (true, false and null are)");
        PARSE_BAD("[fals]", "line 1, column 2: invalid literal (true, false and null are)");
        PARSE_BAD("True", "line 1, column 1: expected a value");
        PARSE_BAD("None", "line 1, column 1: expected a value");
        PARSE_BAD("nulll", "line 1, column 5: more after the end of the document");
}

static void test_errors_numbers(void **state) {
        PARSE_BAD("01", "line 1, column 2: leading zero in a number");
        PARSE_BAD("-01", "line 1, column 3: leading zero in a number");
        PARSE_BAD("-", "line 1, column 2: unexpected end of the document, expected a digit");
        PARSE_BAD("[-]", "line 1, column 3: expected a digit");
        PARSE_BAD("1.", "line 1, column 3: unexpected end of the document, expected a digit");
        PARSE_BAD("[1.e3]", "line 1, column 4: expected a digit");
        PARSE_BAD("1e", "line 1, column 3: unexpected end of the document, expected a digit");
        PARSE_BAD("1e+", "line 1, column 4: unexpected end of the document, expected a digit");
        PARSE_BAD("[1E-x]", "line 1, column 5: expected a digit");
        PARSE_BAD(".5", "line 1, column 1: expected a value");
        PARSE_BAD("+1", "line 1, column 1: expected a value");
        PARSE_BAD("0x10", "line 1, column 2: more after the end of the document");
        PARSE_BAD("NaN", "line 1, column 1: expected a value");
        PARSE_BAD("Infinity", "line 1, column 1: expected a value");
        PARSE_BAD("-Infinity", "line 1, column 2: expected a digit");
        PARSE_BAD("1e309", "line 1, column 1: number out of range");
        PARSE_BAD("[0, -1e99999]", "line 1, column 5: number out of range");
}

static void test_errors_strings(void **state) {
        PARSE_BAD("\"abc", "line 1, column 1: unterminated string");
        PARSE_BAD("[\"a\\", "line 1, column 2: unterminated string");
        PARSE_BAD("\"a\tb\"", "line 1, column 3: control character in a string (it must be escaped)");
        PARSE_BAD("\"a\nb\"", "line 1, column 3: control character in a string (it must be escaped)");
        PARSE_BAD("\"\x1f\"", "line 1, column 2: control character in a string (it must be escaped)");
        PARSE_BAD("\"\\x41\"", "line 1, column 2: invalid escape");
        PARSE_BAD("\"\\'\"", "line 1, column 2: invalid escape");
        PARSE_BAD("\"\\U0041\"", "line 1, column 2: invalid escape");
        PARSE_BAD("\"\\u12\"", "line 1, column 2: invalid \\u escape (four hex digits expected)");
        PARSE_BAD("\"\\u12", "line 1, column 2: invalid \\u escape (four hex digits expected)");
        PARSE_BAD("\"\\u-123\"", "line 1, column 2: invalid \\u escape (four hex digits expected)");
        PARSE_BAD("\"\\u0000\"", "line 1, column 2: \\u0000 in a string (strings cannot hold NUL)");
        PARSE_BAD("{\"a\\u0000b\": 1}", "line 1, column 4: \\u0000 in a string (strings cannot hold NUL)");
}

static void test_errors_encoding(void **state) {
        PARSE_BAD("[\"\xff\"]", "line 1, column 3: invalid UTF-8");
        /* Columns count characters: "é" is one. */
        PARSE_BAD("[\"\xc3\xa9\xc3\"]", "line 1, column 4: invalid UTF-8");
        PARSE_BAD("\n\n  [\"\xc0\xaf\"]", "line 3, column 5: invalid UTF-8");          /* overlong */
        PARSE_BAD("[\"\xed\xa0\x80\"]", "line 1, column 3: invalid UTF-8");           /* surrogate */
        PARSE_BAD("[\"\xf4\x90\x80\x80\"]", "line 1, column 3: invalid UTF-8");       /* > U+10FFFF */
        PARSE_BAD("[1,\0]", "line 1, column 4: NUL byte");
        PARSE_BAD("\"a\0b\"", "line 1, column 3: NUL byte");
        PARSE_BAD("\xef\xbb\xbf{}", "line 1, column 1: byte order mark (JSON has none)");
        /* Whitespace is four characters, no more: not \v, \f, NBSP. */
        PARSE_BAD("[1,\v2]", "line 1, column 4: expected a value");
        PARSE_BAD("[1,\f2]", "line 1, column 4: expected a value");
        PARSE_BAD("[1,\xc2\xa0 2]", "line 1, column 4: expected a value");
        /* CR LF ends a line once; the CR is the line's last column. */
        PARSE_BAD("[\r\n1,\r\n]", "line 3, column 1: expected a value");
        PARSE_BAD("[1,\r]", "line 1, column 5: expected a value");
}

static char *nested(unsigned depth, const char *open, const char *leaf, const char *close) {
        GString *s = g_string_new(NULL);

        for (unsigned i = 0; i < depth; i++)
                g_string_append(s, open);
        g_string_append(s, leaf);
        for (unsigned i = 0; i < depth; i++)
                g_string_append(s, close);
        return g_string_free(s, FALSE);
}

static void test_depth_limit(void **state) {
        g_autofree char *arrays64 = nested(FH_JSON_MAX_DEPTH, "[", "", "]");
        g_autofree char *arrays65 = nested(FH_JSON_MAX_DEPTH + 1, "[", "", "]");
        g_autofree char *objects64 = nested(FH_JSON_MAX_DEPTH, "{\"k\":", "1", "}");
        g_autofree char *objects65 = nested(FH_JSON_MAX_DEPTH + 1, "{\"k\":", "1", "}");
        g_autofree char *deep = nested(100000, "[", "", "]");
        g_autoptr(fh_json) a = NULL;
        g_autoptr(fh_json) o = NULL;

        assert_int_equal(FH_JSON_MAX_DEPTH, 64);
        /* 64 levels hold; the 65th opening bracket is refused. */
        a = parse_ok(arrays64, strlen(arrays64));
        assert_int_equal(fh_json_length(a), 1);
        o = parse_ok(objects64, strlen(objects64));
        assert_non_null(fh_json_member(o, "k"));
        parse_bad(arrays65, strlen(arrays65), "line 1, column 65: nested deeper than 64 levels");
        parse_bad(objects65, strlen(objects65), "line 1, column 321: nested deeper than 64 levels");
        /* Far deeper: refused at the same place, without exhausting the stack. */
        parse_bad(deep, strlen(deep), "line 1, column 65: nested deeper than 64 levels");
}

/* Objects of many members and long arrays are fine: only depth is bounded. */
static void test_wide(void **state) {
        GString *s = g_string_new("{");
        g_autofree char *text = NULL;
        g_autoptr(fh_json) v = NULL;
        const unsigned n = 20000;

        for (unsigned i = 0; i < n; i++)
                g_string_append_printf(s, "%s\"k%u\": [%u]", i ? "," : "", i, i);
        g_string_append_c(s, '}');
        text = g_string_free(s, FALSE);
        v = parse_ok(text, strlen(text));
        assert_true(number_of(fh_json_at(fh_json_member(v, "k0"), 0)) == 0);
        assert_true(number_of(fh_json_at(fh_json_member(v, "k19999"), 0)) == 19999);
}

static void assert_quote(const char *s, const char *expected) {
        g_autofree char *q = fh_json_quote(s);

        assert_non_null(q);
        assert_string_equal(q, expected);
}

static void test_quote(void **state) {
        assert_quote("", "\"\"");
        assert_quote("/etc/azure/pre.sh", "\"/etc/azure/pre.sh\"");
        assert_quote("a\"b\\c", "\"a\\\"b\\\\c\"");
        assert_quote("\n\t\x01\x1f", "\"\\u000a\\u0009\\u0001\\u001f\"");
        assert_quote("\x7f caf\xc3\xa9 \xf0\x9f\x98\x80", "\"\x7f caf\xc3\xa9 \xf0\x9f\x98\x80\"");
        assert_quote("/", "\"/\"");                     /* JSON allows it as it is */
        /* JSON cannot carry bytes that are not UTF-8. */
        assert_null(fh_json_quote("\xff"));
        assert_null(fh_json_quote("a\xc3"));
        assert_null(fh_json_quote("\xed\xa0\x80"));
        assert_null(fh_json_quote(NULL));
}

/* fh_json_parse(fh_json_quote(s)) is s, alone and inside a document. */
static void assert_round_trip(const char *s) {
        g_autofree char *q = fh_json_quote(s);
        g_autofree char *doc = NULL;
        g_autoptr(fh_json) v = NULL;
        g_autoptr(fh_json) d = NULL;

        assert_non_null(q);
        v = parse_ok(q, strlen(q));
        assert_string_equal(fh_json_string(v), s);
        doc = g_strdup_printf("{%s: [%s]}", q, q);
        d = parse_ok(doc, strlen(doc));
        assert_string_equal(fh_json_string(fh_json_at(fh_json_member(d, s), 0)), s);
}

static void test_quote_round_trip_bytes(void **state) {
        unsigned valid = 0, invalid = 0;

        /* Every string of one or two bytes 1..255: quoted and read back
         * when it is UTF-8, refused when it is not. */
        for (unsigned a = 1; a < 256; a++)
                for (unsigned b = 0; b < 256; b++) {
                        char s[3] = { (char) a, (char) b, 0 };

                        if (g_utf8_validate(s, -1, NULL)) {
                                assert_round_trip(s);
                                valid++;
                        } else {
                                assert_null(fh_json_quote(s));
                                invalid++;
                        }
                }
        /* 127 one-byte, 127 * 127 two ASCII, 1920 two-byte characters. */
        assert_int_equal(valid, 127 + 127 * 127 + 1920);
        assert_int_equal(valid + invalid, 255 * 256);
}

static void test_quote_round_trip_code_points(void **state) {
        GString *s = g_string_new(NULL);
        unsigned n = 0;

        /* Every character U+0001..U+10FFFF (surrogates are none), 1024 to a
         * string, so that the sequences between them are covered as well. */
        for (gunichar cp = 1; cp <= 0x10ffff; cp++) {
                if (cp >= 0xd800 && cp <= 0xdfff)
                        continue;
                g_string_append_unichar(s, cp);
                if (++n % 1024 == 0 || cp == 0x10ffff) {
                        assert_round_trip(s->str);
                        g_string_truncate(s, 0);
                }
        }
        assert_int_equal(n, 0x10ffff - 2048);
        g_string_free(s, TRUE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_azure_template),
                cmocka_unit_test(test_azure_ours),
                cmocka_unit_test(test_scalars),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_surrogate_pairs),
                cmocka_unit_test(test_lone_surrogates_refused),
                cmocka_unit_test(test_nesting),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_duplicate_keys_last_wins),
                cmocka_unit_test(test_keys_decoded),
                cmocka_unit_test(test_length_bounds_the_text),
                cmocka_unit_test(test_errors_structure),
                cmocka_unit_test(test_errors_trailing),
                cmocka_unit_test(test_errors_literals),
                cmocka_unit_test(test_errors_numbers),
                cmocka_unit_test(test_errors_strings),
                cmocka_unit_test(test_errors_encoding),
                cmocka_unit_test(test_depth_limit),
                cmocka_unit_test(test_wide),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_quote_round_trip_bytes),
                cmocka_unit_test(test_quote_round_trip_code_points),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
