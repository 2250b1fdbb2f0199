/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Longest piece of a line passed on at once. A longer line is split into
 * pieces at a UTF-8 character boundary; pieces after the first are flagged
 * as continuations. This is what keeps memory bounded whatever a hook
 * prints. */
#define FH_LINE_MAX 4096

/* Receives one line (or piece of a line) without its newline. The bytes
 * are raw: escaping is the log's business. 'ended': a newline followed
 * it (not for a piece cut from a long line, nor for a last line without
 * one), so that len + ended is what the piece took of the input. */
typedef void (*fh_line_fn)(void *userdata, const char *line, size_t len, bool continued, bool ended);

struct fh_linebuf {
        size_t len;
        bool continued;         /* pending bytes continue a piece already passed on */
        char buf[FH_LINE_MAX];
};

void fh_linebuf_init(struct fh_linebuf *lb);

/* Splits data into lines and passes every complete one to fn; keeps the
 * unterminated rest for the next call. */
void fh_linebuf_feed(struct fh_linebuf *lb, const char *data, size_t n, fh_line_fn fn, void *userdata);

/* Passes on what is left (a last line without newline), if anything. */
void fh_linebuf_flush(struct fh_linebuf *lb, fh_line_fn fn, void *userdata);
