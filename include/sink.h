/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* A buffered writer to a descriptor (the log file, the terminal). Lines
 * are collected and written out in large whole-line chunks: when the
 * buffer is full and whenever the dispatcher is about to wait, so the
 * log is current but a flooding hook costs one write() per 64 KiB, not
 * one per line. */
#define FH_SINK_BUFFER 65536

struct fh_sink {
        int fd;                 /* -1: disabled */
        int error;              /* first write error (-errno), 0 if none */
        size_t len;
        char buf[FH_SINK_BUFFER];
};

void fh_sink_init(struct fh_sink *sink, int fd);

/* Appends bytes; flushes first if they do not fit. Returns the sink's
 * error state (0 or -errno); once a write failed the sink stays failed
 * and drops everything. */
int fh_sink_append(struct fh_sink *sink, const char *data, size_t n);

/* Makes room for 'n' bytes, flushing if they would not fit, so that what
 * follows goes out in one write(). */
void fh_sink_reserve(struct fh_sink *sink, size_t n);

/* Writes out what is buffered. Returns 0 or -errno. */
int fh_sink_flush(struct fh_sink *sink);
