/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* A small, strict JSON reader (RFC 8259) for configuration files that other
 * software owns, such as Azure's VMSnapshotScriptPluginConfig.json, read as
 * root. The whole document is in memory (the caller bounds its size), and
 * so is what it holds: some 40 bytes per value, so a document of 1 MiB made
 * of the smallest values ("[1],[1],...") takes up to 40 MiB while read.
 * Strict: UTF-8 only (no byte order mark), nesting at most FH_JSON_MAX_DEPTH
 * deep, no NaN or Infinity, no comments, no trailing commas, nothing after
 * the document. Strings are C strings, so \u0000 is refused, as is a lone
 * surrogate. Duplicate keys: the last wins, as with Python's json, which
 * Azure's extension reads the file with. */

#define FH_JSON_MAX_DEPTH 64

enum fh_json_type {
        FH_JSON_NULL,
        FH_JSON_BOOL,
        FH_JSON_NUMBER,
        FH_JSON_STRING,
        FH_JSON_ARRAY,
        FH_JSON_OBJECT,
};

struct fh_json;

/* Parses 'len' bytes of 'text' (no NUL terminator needed). Returns 0 and
 * the document, or -EBADMSG and, if ret_error is not NULL, a message
 * "line L, column C: reason" (g_free; lines and columns count from 1,
 * columns in characters; the reason never quotes the input). */
int fh_json_parse(const char *text, size_t len, struct fh_json **ret, char **ret_error);

void fh_json_free(struct fh_json *v);
typedef struct fh_json fh_json;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_json, fh_json_free)

/* The accessors take NULL (say, a member that is not there) and answer as
 * for a value of the wrong type, so lookups chain; fh_json_type(NULL) is
 * FH_JSON_NULL: test presence with fh_json_member(). */
enum fh_json_type fh_json_type(const struct fh_json *v);

/* The member 'key' of an object (the last one of that name), NULL if there
 * is none or 'obj' is not an object. */
const struct fh_json *fh_json_member(const struct fh_json *obj, const char *key);

/* The string's UTF-8 (owned by 'v'), NULL unless a string. */
const char *fh_json_string(const struct fh_json *v);

/* -EINVAL unless a bool (resp. a number); *ret untouched then. A number
 * beyond a double's range is refused by the parser, so *ret is finite. */
int fh_json_bool(const struct fh_json *v, bool *ret);
int fh_json_number(const struct fh_json *v, double *ret);

/* An array's length and its element i (NULL past the end); 0 and NULL for
 * anything else. */
guint fh_json_length(const struct fh_json *v);
const struct fh_json *fh_json_at(const struct fh_json *v, guint i);

/* 's' as a JSON string literal, quotes included, for writing a file: '"',
 * '\' and control characters are escaped (the latter as \u00XX), all other
 * UTF-8 is kept as it is. NULL if 's' is not valid UTF-8, which JSON cannot
 * carry. g_free. */
char *fh_json_quote(const char *s);
