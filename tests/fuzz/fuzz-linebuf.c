/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The line splitter gets every byte a hook prints, in chunks of whatever
 * size read() returns. Whatever the input and the chunking: no piece is
 * longer than FH_LINE_MAX, and pieces and newlines put back together give
 * the input. The first input byte chooses the chunk size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "escape.h"
#include "linebuf.h"
#include "fuzz.h"

struct collected {
        GString *joined;
        size_t pieces;
        size_t taken;           /* input bytes the pieces account for */
};

static void collect(void *userdata, const char *line, size_t len, bool continued, bool ended) {
        struct collected *c = userdata;
        char *escaped = g_malloc(FH_ESCAPED_MAX(len));

        FUZZ_ASSERT(len <= FH_LINE_MAX);
        if (c->pieces > 0 && !continued)
                g_string_append_c(c->joined, '\n');
        g_string_append_len(c->joined, line, (gssize) len);
        c->pieces++;
        c->taken += len + ended;
        fh_escape(line, len, escaped);  /* as the log does */
        g_free(escaped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct collected c = { .joined = g_string_new(NULL) };
        g_autofree struct fh_linebuf *lb = g_new(struct fh_linebuf, 1);
        size_t chunk;
        const char *in;

        if (size == 0) {
                g_string_free(c.joined, TRUE);
                return 0;
        }
        chunk = (size_t) data[0] * 37 + 1;
        in = (const char *) data + 1;
        size--;

        fh_linebuf_init(lb);
        for (size_t i = 0; i < size; i += chunk)
                fh_linebuf_feed(lb, in + i, MIN(chunk, size - i), collect, &c);
        fh_linebuf_flush(lb, collect, &c);

        /* Put back together, the pieces are the input (a final newline
         * ends the last line rather than starting an empty one). */
        {
                size_t expect = size;
                if (size > 0 && in[size - 1] == '\n')
                        expect--;
                if (c.pieces > 0 || expect > 0) {
                        FUZZ_ASSERT(c.joined->len == expect);
                        FUZZ_ASSERT(memcmp(c.joined->str, in, expect) == 0);
                }
                /* What the output cap's count of dropped bytes relies on. */
                FUZZ_ASSERT(c.taken == size);
        }
        g_string_free(c.joined, TRUE);
        return 0;
}
