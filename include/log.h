/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "phase.h"
#include "result.h"
#include "stream.h"

/* The record of a run, sent to up to three places at once: the log file
 * (QEMU's format, one timestamped line per event), the terminal of a
 * manual run, and the journal with structured fields. A sink that fails
 * is reported once through the others and dropped; nothing here ever
 * stops the hooks from running. */
struct fh_log_options {
        const char *file;       /* NULL: no log file */
        bool journal;
        int terminal_fd;        /* -1: none */
};

struct fh_log;

struct fh_log *fh_log_new(const struct fh_log_options *o);
void fh_log_free(struct fh_log *log);
typedef struct fh_log fh_log;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_log, fh_log_free)

void fh_log_set_phase(struct fh_log *log, enum fh_phase phase);

/* A message of the dispatcher's own; 'event' goes to FSFREEZE_EVENT. */
void fh_log_message(struct fh_log *log, int priority, const char *event, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* "execute PATH PHASE": a hook starts; it becomes the current hook. */
void fh_log_hook_start(struct fh_log *log, const char *path, const char *name);
/* The same with what follows the path in the "execute" line: 'args' (as
 * shown, escaped) instead of the phase; another platform's script gets
 * its own arguments (foreign.h). */
void fh_log_hook_start_args(struct fh_log *log, const char *path, const char *name, const char *args);

/* Reads the clock for the output lines that follow (they arrived in one
 * read, so they share a timestamp): one clock reading per chunk, not per
 * line, when a hook floods. */
void fh_log_refresh_clock(struct fh_log *log);

/* The cap on what the output of each hook adds to the log (0: none), in
 * bytes as written to the log file: timestamp, hook name, stream,
 * escaping and newline included. */
void fh_log_set_output_limit(struct fh_log *log, uint64_t max_bytes);

/* One line of the current hook's output, raw; escaped here. Returns false
 * if it was not logged because it would take the hook's output past the
 * cap; from then on, until the next hook starts, nothing more is logged,
 * in the file or the journal, so that the log never has holes. */
bool fh_log_hook_output(struct fh_log *log, enum fh_stream stream, const char *line, size_t len, bool continued);

/* "PATH finished with status=N ... in D s". */
void fh_log_hook_finished(struct fh_log *log, const struct fh_result *r);

/* "PATH not run: REASON": the current hook could not be started. */
void fh_log_hook_not_run(struct fh_log *log, const char *path, int priority, const char *reason);

/* Writes buffered lines out. */
void fh_log_flush(struct fh_log *log);
