/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "linebuf.h"

void fh_linebuf_init(struct fh_linebuf *lb) {
        lb->len = 0;
        lb->continued = false;
}

/* Where to cut a full buffer so that no UTF-8 sequence is torn in two: back
 * off over a lead byte whose sequence does not fit. Invalid bytes are cut
 * anywhere; the escaper shows them byte by byte anyway. */
static size_t utf8_cut(const char *buf, size_t len) {
        for (size_t back = 1; back <= 3 && back <= len; back++) {
                unsigned char c = (unsigned char) buf[len - back];
                size_t need;

                if ((c & 0xc0) == 0x80)
                        continue;       /* continuation byte: keep looking for the lead */
                if (c < 0xc0)
                        return len;     /* ASCII: a clean boundary */
                need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                return need > back ? len - back : len;
        }
        return len;
}

static void split_full(struct fh_linebuf *lb, fh_line_fn fn, void *userdata) {
        size_t cut = utf8_cut(lb->buf, lb->len);

        fn(userdata, lb->buf, cut, lb->continued, false);
        memmove(lb->buf, lb->buf + cut, lb->len - cut);
        lb->len -= cut;
        lb->continued = true;
}

void fh_linebuf_feed(struct fh_linebuf *lb, const char *data, size_t n, fh_line_fn fn, void *userdata) {
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t) (nl - data) : n;

                /* Common case: a whole short line in the input, nothing
                 * pending. Pass it on without copying. */
                if (lb->len == 0 && nl && take <= FH_LINE_MAX) {
                        fn(userdata, data, take, lb->continued, true);
                        lb->continued = false;
                        data += take + 1;
                        n -= take + 1;
                        continue;
                }

                while (take > 0) {
                        size_t k;

                        if (lb->len == FH_LINE_MAX)
                                split_full(lb, fn, userdata);
                        k = FH_LINE_MAX - lb->len;
                        if (k > take)
                                k = take;
                        memcpy(lb->buf + lb->len, data, k);
                        lb->len += k;
                        data += k;
                        n -= k;
                        take -= k;
                }

                if (nl) {
                        fn(userdata, lb->buf, lb->len, lb->continued, true);
                        fh_linebuf_init(lb);
                        data++;
                        n--;
                }
        }
}

void fh_linebuf_flush(struct fh_linebuf *lb, fh_line_fn fn, void *userdata) {
        if (lb->len > 0)
                fn(userdata, lb->buf, lb->len, lb->continued, false);
        fh_linebuf_init(lb);
}
