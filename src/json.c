/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "json.h"

struct fh_json {
        enum fh_json_type type;
        char *key;                      /* its name, when it is an object's member */
        union {
                bool boolean;
                double number;
                char *string;
                GPtrArray *items;       /* an array's elements, an object's members, in order */
        };
};

struct parser {
        const char *text;
        size_t len;
        size_t pos;
        unsigned depth;
        char *reason;                   /* the first error, found at error_pos */
        size_t error_pos;
};

#define END (-1)

static int fail(struct parser *p, size_t pos, const char *reason) {
        /* Only the first error counts: callers return as soon as one fails. */
        if (!p->reason) {
                p->reason = g_strdup(reason);
                p->error_pos = pos;
        }
        return -EBADMSG;
}

/* "expected X" where the document goes on, and where it ended too early the
 * end named as the cause, which is what a truncated file looks like. */
static int fail_expected(struct parser *p, const char *what) {
        g_autofree char *reason = NULL;

        if (p->pos >= p->len)
                reason = g_strdup_printf("unexpected end of the document, expected %s", what);
        else
                reason = g_strdup_printf("expected %s", what);
        return fail(p, p->pos, reason);
}

static int peek(const struct parser *p) {
        return p->pos < p->len ? (unsigned char) p->text[p->pos] : END;
}

static bool is_digit(int c) {
        return c >= '0' && c <= '9';
}

static void skip_whitespace(struct parser *p) {
        /* RFC 8259 section 2: these four, nothing else (no \v, \f, NBSP). */
        for (int c = peek(p); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(p))
                p->pos++;
}

static struct fh_json *value_new(enum fh_json_type type) {
        struct fh_json *v = g_new0(struct fh_json, 1);

        v->type = type;
        if (type == FH_JSON_ARRAY || type == FH_JSON_OBJECT)
                v->items = g_ptr_array_new_with_free_func((GDestroyNotify) fh_json_free);
        return v;
}

void fh_json_free(struct fh_json *v) {
        if (!v)
                return;
        if (v->type == FH_JSON_STRING)
                g_free(v->string);
        else if (v->type == FH_JSON_ARRAY || v->type == FH_JSON_OBJECT)
                g_ptr_array_unref(v->items);
        g_free(v->key);
        g_free(v);
}

static int parse_value(struct parser *p, struct fh_json **ret);

static int parse_literal(struct parser *p, struct fh_json **ret) {
        static const struct {
                const char *word;
                enum fh_json_type type;
                bool boolean;
        } literals[] = {
                { "true", FH_JSON_BOOL, true },
                { "false", FH_JSON_BOOL, false },
                { "null", FH_JSON_NULL, false },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(literals); i++) {
                size_t n = strlen(literals[i].word);

                if (p->len - p->pos >= n && memcmp(p->text + p->pos, literals[i].word, n) == 0) {
                        *ret = value_new(literals[i].type);
                        (*ret)->boolean = literals[i].boolean;
                        p->pos += n;
                        return 0;
                }
        }
        return fail(p, p->pos, "invalid literal (true, false and null are)");
}

static int skip_digits(struct parser *p) {
        if (!is_digit(peek(p)))
                return fail_expected(p, "a digit");
        while (is_digit(peek(p)))
                p->pos++;
        return 0;
}

/* RFC 8259 section 6, checked here: strtod alone would also take "+1",
 * ".5", "1.", "0x10", "inf" and "nan", none of which is JSON. */
static int scan_number(struct parser *p) {
        if (peek(p) == '-')
                p->pos++;
        if (peek(p) == '0') {
                p->pos++;
                if (is_digit(peek(p)))
                        return fail(p, p->pos, "leading zero in a number");
        } else if (skip_digits(p) < 0)
                return -EBADMSG;
        if (peek(p) == '.') {
                p->pos++;
                if (skip_digits(p) < 0)
                        return -EBADMSG;
        }
        if (peek(p) == 'e' || peek(p) == 'E') {
                p->pos++;
                if (peek(p) == '+' || peek(p) == '-')
                        p->pos++;
                if (skip_digits(p) < 0)
                        return -EBADMSG;
        }
        return 0;
}

static int parse_number(struct parser *p, struct fh_json **ret) {
        size_t start = p->pos;
        g_autofree char *span = NULL;
        char *end = NULL;
        double d;

        if (scan_number(p) < 0)
                return -EBADMSG;
        /* The text is not NUL-terminated: strtod gets a copy of the span. */
        span = g_strndup(p->text + start, p->pos - start);
        d = g_ascii_strtod(span, &end);
        /* Cannot happen after scan_number(); if strtod ever disagrees with
         * the grammar, that is a refusal, not a value read in part. */
        if (*end != '\0')
                return fail(p, start, "invalid number");
        /* Python would read 1e999 as infinity and a long integer exactly;
         * a double can do neither, so say so rather than guess. Underflow
         * reads as the nearest double (0 at worst), as in Python. */
        if (!isfinite(d))
                return fail(p, start, "number out of range");
        *ret = value_new(FH_JSON_NUMBER);
        (*ret)->number = d;
        return 0;
}

static int hex4(struct parser *p, size_t at, unsigned *ret) {
        unsigned v = 0;

        if (at > p->len || p->len - at < 4)
                return -EBADMSG;
        for (size_t i = at; i < at + 4; i++) {
                int d = g_ascii_xdigit_value(p->text[i]);

                if (d < 0)
                        return -EBADMSG;
                v = v << 4 | (unsigned) d;
        }
        *ret = v;
        return 0;
}

/* \uXXXX at p->pos (on the backslash), a surrogate pair as one: into *ret. */
static int parse_unicode_escape(struct parser *p, gunichar *ret) {
        size_t start = p->pos;
        unsigned hi, lo;

        if (hex4(p, start + 2, &hi) < 0)
                return fail(p, start, "invalid \\u escape (four hex digits expected)");
        p->pos = start + 6;
        if (hi == 0)
                return fail(p, start, "\\u0000 in a string (strings cannot hold NUL)");
        if (hi >= 0xdc00 && hi <= 0xdfff)
                return fail(p, start, "lone low surrogate in a \\u escape");
        if (hi < 0xd800 || hi > 0xdbff) {
                *ret = hi;
                return 0;
        }
        /* A lone surrogate is no character: UTF-8 cannot encode it. */
        if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u' ||
            hex4(p, p->pos + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return fail(p, start, "lone high surrogate in a \\u escape");
        p->pos += 6;
        *ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        return 0;
}

/* The escape at p->pos (on the backslash, not the last byte), decoded onto
 * 'out'. */
static int parse_escape(struct parser *p, GString *out) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e;
        gunichar cp;

        if (p->text[p->pos + 1] == 'u') {
                if (parse_unicode_escape(p, &cp) < 0)
                        return -EBADMSG;
                g_string_append_unichar(out, cp);
                return 0;
        }
        e = p->text[p->pos + 1] ? strchr(from, p->text[p->pos + 1]) : NULL;
        if (!e)
                return fail(p, p->pos, "invalid escape");
        g_string_append_c(out, to[e - from]);
        p->pos += 2;
        return 0;
}

/* The string at p->pos (on the quote) into *ret. Its bytes are valid UTF-8
 * already (the whole document was checked), so runs are copied as they are. */
static int parse_string(struct parser *p, char **ret) {
        size_t start = p->pos++;
        g_autoptr(GString) out = g_string_new(NULL);

        for (;;) {
                size_t run = p->pos;
                int c;

                while ((c = peek(p)) != END && c != '"' && c != '\\' && c >= 0x20)
                        p->pos++;
                g_string_append_len(out, p->text + run, (gssize) (p->pos - run));
                if (c == END || (c == '\\' && p->pos + 1 == p->len))
                        return fail(p, start, "unterminated string");
                if (c == '"')
                        break;
                if (c < 0x20)
                        return fail(p, p->pos, "control character in a string (it must be escaped)");
                if (parse_escape(p, out) < 0)
                        return -EBADMSG;
        }
        p->pos++;
        /* At its size: a GString keeps at least 64 bytes, which a file of
         * many short strings would multiply (1 MiB of "" -> 66 MiB). */
        *ret = g_strndup(out->str, out->len);
        return 0;
}

static int parse_string_value(struct parser *p, struct fh_json **ret) {
        char *s = NULL;

        if (parse_string(p, &s) < 0)
                return -EBADMSG;
        *ret = value_new(FH_JSON_STRING);
        (*ret)->string = s;
        return 0;
}

/* Arrays and objects: nesting is bounded so that the recursion is. */
static int enter(struct parser *p) {
        if (p->depth >= FH_JSON_MAX_DEPTH)
                return fail(p, p->pos, "nested deeper than " G_STRINGIFY(FH_JSON_MAX_DEPTH) " levels");
        p->depth++;
        p->pos++;
        skip_whitespace(p);
        return 0;
}

static int parse_array(struct parser *p, struct fh_json **ret) {
        g_autoptr(fh_json) a = value_new(FH_JSON_ARRAY);

        if (enter(p) < 0)
                return -EBADMSG;
        if (peek(p) != ']')
                for (;;) {
                        struct fh_json *item = NULL;

                        if (parse_value(p, &item) < 0)
                                return -EBADMSG;
                        g_ptr_array_add(a->items, item);
                        skip_whitespace(p);
                        if (peek(p) != ',')
                                break;
                        p->pos++;
                }
        if (peek(p) != ']')
                return fail_expected(p, "',' or ']'");
        p->pos++;
        p->depth--;
        *ret = g_steal_pointer(&a);
        return 0;
}

/* One "key": value pair at p->pos, onto the object's members. */
static int parse_member(struct parser *p, struct fh_json *obj) {
        g_autofree char *key = NULL;
        struct fh_json *value = NULL;

        if (peek(p) != '"')
                return fail_expected(p, "a string (a member's name)");
        if (parse_string(p, &key) < 0)
                return -EBADMSG;
        skip_whitespace(p);
        if (peek(p) != ':')
                return fail_expected(p, "':'");
        p->pos++;
        if (parse_value(p, &value) < 0)
                return -EBADMSG;
        /* Duplicates are all kept; fh_json_member() finds the last one. */
        value->key = g_steal_pointer(&key);
        g_ptr_array_add(obj->items, value);
        return 0;
}

static int parse_object(struct parser *p, struct fh_json **ret) {
        g_autoptr(fh_json) o = value_new(FH_JSON_OBJECT);

        if (enter(p) < 0)
                return -EBADMSG;
        if (peek(p) != '}')
                for (;;) {
                        if (parse_member(p, o) < 0)
                                return -EBADMSG;
                        skip_whitespace(p);
                        if (peek(p) != ',')
                                break;
                        p->pos++;
                        skip_whitespace(p);
                }
        if (peek(p) != '}')
                return fail_expected(p, "',' or '}'");
        p->pos++;
        p->depth--;
        *ret = g_steal_pointer(&o);
        return 0;
}

static int parse_value(struct parser *p, struct fh_json **ret) {
        int c;

        skip_whitespace(p);
        c = peek(p);
        if (c == '{')
                return parse_object(p, ret);
        if (c == '[')
                return parse_array(p, ret);
        if (c == '"')
                return parse_string_value(p, ret);
        if (c == '-' || is_digit(c))
                return parse_number(p, ret);
        if (c == 't' || c == 'f' || c == 'n')
                return parse_literal(p, ret);
        return fail_expected(p, "a value");
}

/* Checked once for the whole document, so that the parser can copy bytes
 * without decoding them, and an error names the first bad byte. */
static int check_encoding(struct parser *p) {
        const char *end = NULL;

        /* Python's json refuses it too ("Unexpected UTF-8 BOM"). */
        if (p->len >= 3 && memcmp(p->text, "\xef\xbb\xbf", 3) == 0)
                return fail(p, 0, "byte order mark (JSON has none)");
        if (g_utf8_validate(p->text, (gssize) p->len, &end))
                return 0;
        if (*end == '\0')
                return fail(p, (size_t) (end - p->text), "NUL byte");
        return fail(p, (size_t) (end - p->text), "invalid UTF-8");
}

/* Lines split at LF (a CR before it is part of the line's end); columns
 * count characters, which the prefix of an error has whole: the encoding
 * was checked up to the error. */
static char *error_message(const struct parser *p) {
        size_t line = 1, column = 1;

        for (size_t i = 0; i < p->error_pos; i++) {
                unsigned char c = (unsigned char) p->text[i];

                if (c == '\n') {
                        line++;
                        column = 1;
                } else if ((c & 0xc0) != 0x80)
                        column++;
        }
        return g_strdup_printf("line %zu, column %zu: %s", line, column, p->reason);
}

int fh_json_parse(const char *text, size_t len, struct fh_json **ret, char **ret_error) {
        struct parser p = { .text = text, .len = len };
        g_autoptr(fh_json) v = NULL;
        g_autofree char *reason = NULL;

        if (check_encoding(&p) == 0 && parse_value(&p, &v) == 0) {
                skip_whitespace(&p);
                if (p.pos < p.len)
                        fail(&p, p.pos, "more after the end of the document");
        }
        reason = p.reason;
        if (reason) {
                if (ret_error)
                        *ret_error = error_message(&p);
                return -EBADMSG;
        }
        *ret = g_steal_pointer(&v);
        return 0;
}

enum fh_json_type fh_json_type(const struct fh_json *v) {
        return v ? v->type : FH_JSON_NULL;
}

const struct fh_json *fh_json_member(const struct fh_json *obj, const char *key) {
        if (!obj || obj->type != FH_JSON_OBJECT || !key)
                return NULL;
        /* From the end: the last of duplicate names wins, as in Python. */
        for (guint i = obj->items->len; i > 0; i--) {
                const struct fh_json *m = obj->items->pdata[i - 1];

                if (strcmp(m->key, key) == 0)
                        return m;
        }
        return NULL;
}

const char *fh_json_string(const struct fh_json *v) {
        return v && v->type == FH_JSON_STRING ? v->string : NULL;
}

int fh_json_bool(const struct fh_json *v, bool *ret) {
        if (!v || v->type != FH_JSON_BOOL)
                return -EINVAL;
        *ret = v->boolean;
        return 0;
}

int fh_json_number(const struct fh_json *v, double *ret) {
        if (!v || v->type != FH_JSON_NUMBER)
                return -EINVAL;
        *ret = v->number;
        return 0;
}

guint fh_json_length(const struct fh_json *v) {
        return v && v->type == FH_JSON_ARRAY ? v->items->len : 0;
}

const struct fh_json *fh_json_at(const struct fh_json *v, guint i) {
        if (!v || v->type != FH_JSON_ARRAY || i >= v->items->len)
                return NULL;
        return v->items->pdata[i];
}

char *fh_json_quote(const char *s) {
        GString *out;

        if (!s || !g_utf8_validate(s, -1, NULL))
                return NULL;
        out = g_string_sized_new(strlen(s) + 2);
        g_string_append_c(out, '"');
        for (const char *c = s; *c; c++) {
                if (*c == '"' || *c == '\\') {
                        g_string_append_c(out, '\\');
                        g_string_append_c(out, *c);
                } else if ((unsigned char) *c < 0x20)
                        /* RFC 8259 requires U+0000..U+001F escaped; the one
                         * form for all of them reads back anywhere. */
                        g_string_append_printf(out, "\\u%04x", (unsigned) *c);
                else
                        g_string_append_c(out, *c);
        }
        g_string_append_c(out, '"');
        return g_string_free(out, FALSE);
}
