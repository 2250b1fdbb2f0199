/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "escape.h"

/* GLib decodes; what it does not give is the length, which both callers
 * need to step on. It rejects overlongs, surrogates, 5- and 6-byte forms and
 * anything above U+10FFFF, and accepts noncharacters, as RFC 3629 says. */
size_t fh_utf8_decode(const unsigned char *s, size_t n, unsigned *ret_cp) {
        gunichar cp;

        if (n == 0)
                return 0;
        /* ASCII as it is: GLib would also call a NUL byte "incomplete" (-2),
         * where to us it is U+0000, a control character the callers escape. */
        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        cp = g_utf8_get_char_validated((const char *) s, (gssize) MIN(n, 4));
        if (cp == (gunichar) -1 || cp == (gunichar) -2)         /* invalid, truncated */
                return 0;
        *ret_cp = cp;
        /* Overlongs were rejected, so what we read is the shortest form. */
        return (size_t) g_unichar_to_utf8(cp, NULL);
}

bool fh_unsafe_codepoint(unsigned cp) {
        return (cp < 0x20 && cp != '\t') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
               cp == 0x061c || cp == 0x200e || cp == 0x200f ||          /* ALM, LRM, RLM */
               (cp >= 0x2028 && cp <= 0x202e) ||                         /* LS, PS, LRE..RLO */
               (cp >= 0x2066 && cp <= 0x2069) ||                         /* isolates */
               cp == 0xfeff;                                              /* BOM, ZWNBSP */
}

static char *put_hex(char *o, unsigned char c) {
        static const char hex[] = "0123456789abcdef";

        *o++ = '\\';
        *o++ = 'x';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 0xf];
        return o;
}

/* Bytes 0x20..0x7e but the backslash pass unchanged. This runs for every
 * byte a hook prints and most of them are plain ASCII: check sixteen at a
 * time with the compiler's vector extensions (SSE2 on x86-64, NEON on
 * aarch64, plain code elsewhere). */
typedef signed char bytes16 __attribute__((vector_size(16)));
typedef uint64_t words2 __attribute__((vector_size(16)));

static bool block_is_plain(bytes16 v) {
        /* As signed bytes, 0x80..0xff are negative: "< 0x20" catches them
         * with the controls, in one native comparison. */
        bytes16 bad = (bytes16) ((v < 0x20) | (v == 0x7f) | (v == '\\'));
        words2 w = (words2) bad;

        return (w[0] | w[1]) == 0;
}

/* Copies the leading run that needs no escaping, sixteen bytes at a time,
 * the last partial block padded with a harmless byte. Returns its length. */
static size_t copy_plain_prefix(const unsigned char *s, size_t n, char *o) {
        size_t i = 0;
        bytes16 v;

        for (; i + 16 <= n; i += 16) {
                memcpy(&v, s + i, sizeof v);
                if (!block_is_plain(v))
                        return i;
                memcpy(o + i, &v, sizeof v);
        }
        if (i == n)
                return n;
        if (n >= 16) {
                /* The tail as the last sixteen bytes, overlapping what was
                 * already found plain: one more block, no short copies. */
                memcpy(&v, s + n - 16, sizeof v);
                if (block_is_plain(v)) {
                        memcpy(o + n - 16, &v, sizeof v);
                        return n;
                }
                return i;
        }
        memset(&v, 'a', sizeof v);
        memcpy(&v, s, n);
        if (block_is_plain(v)) {
                memcpy(o, s, n);
                return n;
        }
        return 0;
}

size_t fh_escape(const char *in, size_t n, char *out) {
        const unsigned char *s = (const unsigned char *) in;
        size_t i = copy_plain_prefix(s, n, out);
        char *o = out + i;

        while (i < n) {
                unsigned cp;
                size_t len;

                /* Fast path: printable ASCII is by far the common case. */
                if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
                        *o++ = (char) s[i++];
                        continue;
                }
                if (s[i] == '\\') {
                        *o++ = '\\';
                        *o++ = '\\';
                        i++;
                        continue;
                }
                len = fh_utf8_decode(s + i, n - i, &cp);
                if (len == 0 || fh_unsafe_codepoint(cp)) {
                        /* Escape byte by byte: an invalid byte may start a
                         * valid sequence right after it. */
                        size_t m = len ? len : 1;
                        for (size_t k = 0; k < m; k++)
                                o = put_hex(o, s[i + k]);
                        i += m;
                        continue;
                }
                memcpy(o, s + i, len);
                o += len;
                i += len;
        }
        *o = '\0';
        return (size_t) (o - out);
}

char *fh_escape_dup(const char *s) {
        size_t n = strlen(s);
        char *out = g_malloc(FH_ESCAPED_MAX(n));

        fh_escape(s, n, out);
        return out;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int fh_unescape(const char *in, size_t n, char *out, size_t *ret_len) {
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                int hi, lo;

                if (in[i] != '\\') {
                        out[o++] = in[i];
                        continue;
                }
                if (i + 1 < n && in[i + 1] == '\\') {
                        out[o++] = '\\';
                        i++;
                        continue;
                }
                if (i + 3 >= n || in[i + 1] != 'x')
                        return -EINVAL;
                hi = hex_value(in[i + 2]);
                lo = hex_value(in[i + 3]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[o++] = (char) (hi << 4 | lo);
                i += 3;
        }
        *ret_len = o;
        return 0;
}
