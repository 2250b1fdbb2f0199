/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON reader reads files that other software owns, as root. Whatever
 * the bytes: no crash, no read past 'size', bounded recursion; a refusal
 * says "line L, column C: reason" with L and C inside the input and nothing
 * of the input in it (it goes to the log as it is); every string read is
 * UTF-8; what is read, written out again (fh_json_quote for strings, %.17g
 * for numbers), reads back the same. And the input as a string: quoted when
 * it is UTF-8, refused otherwise, and the quote reads back to it. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fuzz.h"
#include "json.h"

/* The document again, canonically. Objects have no iterator in the API
 * (their callers look members up by name): they are written empty. */
static void write_value(GString *out, const struct fh_json *v) {
        bool b = false;
        double d = 0;

        switch (fh_json_type(v)) {
        case FH_JSON_NULL:
                g_string_append(out, "null");
                break;
        case FH_JSON_BOOL:
                FUZZ_ASSERT(fh_json_bool(v, &b) == 0);
                g_string_append(out, b ? "true" : "false");
                break;
        case FH_JSON_NUMBER:
                FUZZ_ASSERT(fh_json_number(v, &d) == 0);
                FUZZ_ASSERT(isfinite(d));
                g_string_append_printf(out, "%.17g", d);
                break;
        case FH_JSON_STRING: {
                g_autofree char *q = fh_json_quote(fh_json_string(v));

                FUZZ_ASSERT(q);
                g_string_append(out, q);
                break;
        }
        case FH_JSON_ARRAY:
                g_string_append_c(out, '[');
                for (guint i = 0; i < fh_json_length(v); i++) {
                        if (i)
                                g_string_append_c(out, ',');
                        write_value(out, fh_json_at(v, i));
                }
                FUZZ_ASSERT(!fh_json_at(v, fh_json_length(v)));
                g_string_append_c(out, ']');
                break;
        case FH_JSON_OBJECT:
                FUZZ_ASSERT(fh_json_length(v) == 0);
                g_string_append(out, "{}");
                break;
        }
}

static void check_error(const char *error, const uint8_t *data, size_t size) {
        size_t line = 0, column = 0, lines = 1;
        int n = -1;

        FUZZ_ASSERT(error);
        FUZZ_ASSERT(sscanf(error, "line %zu, column %zu: %n", &line, &column, &n) == 2 && n > 0);
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        FUZZ_ASSERT(line >= 1 && line <= lines);
        FUZZ_ASSERT(column >= 1 && column <= size + 1);
        /* Fixed text: printable ASCII only, whatever the input held. */
        for (const char *p = error; *p; p++)
                FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
}

static void check_document(const uint8_t *data, size_t size) {
        struct fh_json *v = NULL;
        g_autofree char *error = NULL;
        g_autoptr(GString) once = g_string_new(NULL);
        g_autoptr(GString) twice = g_string_new(NULL);
        g_autoptr(fh_json) again = NULL;

        if (fh_json_parse((const char *) data, size, &v, &error) < 0) {
                FUZZ_ASSERT(!v);
                check_error(error, data, size);
                return;
        }
        FUZZ_ASSERT(v && !error);
        write_value(once, v);
        fh_json_free(v);
        FUZZ_ASSERT(fh_json_parse(once->str, once->len, &again, NULL) == 0);
        write_value(twice, again);
        FUZZ_ASSERT(strcmp(once->str, twice->str) == 0);
}

static void check_quote(const uint8_t *data, size_t size) {
        g_autofree char *s = g_strndup((const char *) data, size);     /* up to a NUL */
        g_autofree char *q = fh_json_quote(s);
        g_autoptr(fh_json) v = NULL;

        if (!g_utf8_validate(s, -1, NULL)) {
                FUZZ_ASSERT(!q);
                return;
        }
        FUZZ_ASSERT(q && g_utf8_validate(q, -1, NULL));
        FUZZ_ASSERT(fh_json_parse(q, strlen(q), &v, NULL) == 0);
        FUZZ_ASSERT(strcmp(fh_json_string(v), s) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        check_document(data, size);
        check_quote(data, size);
        return 0;
}
