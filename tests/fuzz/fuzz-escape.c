/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The escaper gets every byte a hook prints. Whatever the input: the output
 * is valid UTF-8 without control or text-reordering characters but tab, within the size
 * bound, and unescapes to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "escape.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *out = g_malloc(FH_ESCAPED_MAX(size));
        g_autofree char *back = g_malloc(size + 1);
        size_t len, back_len = 0;

        len = fh_escape((const char *) data, size, out);
        FUZZ_ASSERT(len < FH_ESCAPED_MAX(size));
        FUZZ_ASSERT(out[len] == '\0' && strlen(out) == len);
        FUZZ_ASSERT(g_utf8_validate(out, (gssize) len, NULL));
        for (size_t i = 0; i < len; i++)
                FUZZ_ASSERT((unsigned char) out[i] >= 0x20 || out[i] == '\t');
        for (const char *p = out; *p; p = g_utf8_next_char(p))
                FUZZ_ASSERT(!fh_unsafe_codepoint(g_utf8_get_char(p)));
        FUZZ_ASSERT(fh_unescape(out, len, back, &back_len) == 0);
        FUZZ_ASSERT(back_len == size);
        FUZZ_ASSERT(size == 0 || memcmp(back, data, size) == 0);
        return 0;
}
