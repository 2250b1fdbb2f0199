/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Worst case: every input byte becomes "\xNN". */
#define FH_ESCAPED_MAX(n) ((n) * 4 + 1)

/* Makes untrusted bytes (hook output, file names) safe for a log line and a
 * terminal without losing any of them: valid UTF-8 passes through, except
 * unsafe code points (see fh_unsafe_codepoint), which become \xNN per byte,
 * as does every byte that is not part of valid UTF-8. A backslash becomes \\,
 * so the result is reversible (fh_unescape) and a hook cannot forge an
 * escape. 'out' must hold FH_ESCAPED_MAX(n) bytes; the result is
 * NUL-terminated and its length is returned. */
size_t fh_escape(const char *in, size_t n, char *out);

/* fh_escape() of a C string into a new g_malloc'ed string. */
char *fh_escape_dup(const char *s);

/* Inverse of fh_escape(). 'out' must hold n bytes. Returns the length, or
 * -EINVAL on a malformed escape. Used by tests and the fuzzer to prove
 * that nothing is lost. */
int fh_unescape(const char *in, size_t n, char *out, size_t *ret_len);

/* Code points that must not reach a log line or a terminal as they are:
 * C0 controls but TAB, DEL, C1 controls, and the invisible characters that
 * reorder or hide text (bidi embeddings, overrides and isolates, LRM, RLM,
 * ALM, line and paragraph separators, the BOM), which could make a log line
 * read differently from what it holds. */
bool fh_unsafe_codepoint(unsigned cp);

/* Length (1-4) of the valid UTF-8 sequence at the start of s (n bytes
 * available), 0 if it is invalid or truncated. Sets *ret_cp. Rejects
 * overlong forms, surrogates and code points above U+10FFFF (RFC 3629). */
size_t fh_utf8_decode(const unsigned char *s, size_t n, unsigned *ret_cp);
