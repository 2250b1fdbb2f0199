/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "escape.h"
#include "journal.h"
#include "linebuf.h"
#include "log.h"
#include "logfile.h"
#include "sink.h"
#include "timeutil.h"

/* Offset of the milliseconds in "2026-11-23T03:04:25.123+00:00". */
#define TS_MSEC_OFFSET 20

/* Room before an output line for "NAME: stdout+: ", the name escaped. */
#define PREFIX_MAX (FH_ESCAPED_MAX(NAME_MAX) + 32)

/* Where an output line's message starts in fh_log.line: the timestamp and
 * ": " go just before it, so the whole line is written out in one piece. */
#define MSG_OFFSET 72

struct fh_log {
        const char *phase;
        char *file_path;
        struct fh_sink file;
        struct fh_sink terminal;
        struct fh_journal *journal;     /* NULL: none, or not wanted */
        bool file_failure_reported;

        char *hook_path;        /* escaped, of the current hook */
        char *hook_name;
        /* "NAME: stdout: ", "NAME: stdout+: ", ... for the current hook,
         * indexed by stream * 2 + continued */
        char *prefix[2 * _FH_STREAM_MAX];
        size_t prefix_len[2 * _FH_STREAM_MAX];

        uint64_t out_limit;     /* per hook, as written to the file; 0: none */
        uint64_t out_left;      /* what the current hook may still add; 0 once a line did not fit */

        time_t ts_sec;          /* the second the cached timestamp is for */
        char ts[FH_TIMESTAMP_MAX];

        char line[MSG_OFFSET + PREFIX_MAX + FH_ESCAPED_MAX(FH_LINE_MAX) + 1];
};

static void report_file_failure(struct fh_log *log);

struct fh_log *fh_log_new(const struct fh_log_options *o) {
        struct fh_log *log = g_new0(struct fh_log, 1);
        int fd = -1;

        log->ts_sec = (time_t) -1;
        log->journal = o->journal ? fh_journal_open() : NULL;
        fh_sink_init(&log->terminal, o->terminal_fd);
        fh_sink_init(&log->file, -1);
        if (o->file) {
                bool open_line = false;

                log->file_path = fh_escape_dup(o->file);
                fd = fh_logfile_open(o->file, &open_line);
                fh_sink_init(&log->file, fd < 0 ? -1 : fd);
                if (fd < 0)
                        log->file.error = fd;
                /* A line torn by a full disk in an earlier run: our first
                 * record must not be glued to it. */
                if (open_line)
                        (void) fh_sink_append(&log->file, "\n", 1);
        }
        return log;
}

/* How long the exit waits for journald to take the last entries. */
#define JOURNAL_CLOSE_USEC (2 * USEC_PER_SEC)

void fh_log_free(struct fh_log *log) {
        const char *why = NULL;
        unsigned lost;

        if (!log)
                return;
        lost = fh_journal_close(log->journal, JOURNAL_CLOSE_USEC, &why);
        log->journal = NULL;
        if (lost > 0) {
                fh_log_message(log, LOG_WARNING, "journal-lost", "%u journal entries lost: %s", lost, why);
                /* Neither the file nor the journal took it: the last resort. */
                if (log->file.fd < 0 || log->file.error < 0)
                        g_printerr("fsfreeze-hook: %u journal entries lost: %s\n", lost, why);
        }
        fh_log_flush(log);
        if (log->file.fd >= 0)
                close(log->file.fd);
        g_free(log->file_path);
        g_free(log->hook_path);
        g_free(log->hook_name);
        for (int i = 0; i < 2 * _FH_STREAM_MAX; i++)
                g_free(log->prefix[i]);
        g_free(log);
}

void fh_log_set_phase(struct fh_log *log, enum fh_phase phase) {
        log->phase = fh_phase_to_string(phase);
}

/* Formatting the date is the expensive part of a timestamp; a flooding
 * hook produces thousands of lines per second, so redo it only when the
 * second changes and patch in the milliseconds otherwise. */
static const char *timestamp_now(struct fh_log *log) {
        struct timespec ts;
        long ms;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
                log->ts_sec = (time_t) -1;
                fh_format_timestamp_now(log->ts);
                return log->ts;
        }
        if (ts.tv_sec != log->ts_sec || log->ts[TS_MSEC_OFFSET - 1] != '.') {
                log->ts_sec = fh_format_timestamp(&ts, log->ts) < 0 ? (time_t) -1 : ts.tv_sec;
                if (log->ts_sec == (time_t) -1)
                        fh_format_timestamp_now(log->ts);
                return log->ts;
        }
        ms = ts.tv_nsec / 1000000;
        log->ts[TS_MSEC_OFFSET] = (char) ('0' + ms / 100);
        log->ts[TS_MSEC_OFFSET + 1] = (char) ('0' + ms / 10 % 10);
        log->ts[TS_MSEC_OFFSET + 2] = (char) ('0' + ms % 10);
        return log->ts;
}

static void sink_line(struct fh_sink *sink, const char *ts, const char *msg, size_t len) {
        size_t ts_len = strlen(ts);

        if (sink->fd < 0 || sink->error < 0)
                return;
        /* One write() per line at least: another writer appending to the
         * same file (a hook doing >> on it) cannot land inside our line. */
        fh_sink_reserve(sink, ts_len + 2 + len + 1);
        fh_sink_append(sink, ts, ts_len);
        fh_sink_append(sink, ": ", 2);
        fh_sink_append(sink, msg, len);
        fh_sink_append(sink, "\n", 1);
}

static void emit(struct fh_log *log, int priority, struct fh_journal_fields *jf, const char *msg, size_t len) {
        const char *ts = timestamp_now(log);

        if (!jf->phase)
                jf->phase = log->phase;
        sink_line(&log->file, ts, msg, len);
        sink_line(&log->terminal, ts, msg, len);
        if (log->journal)
                (void) fh_journal_send(log->journal, priority, msg, len, jf);
        if (log->file.error < 0 && !log->file_failure_reported)
                report_file_failure(log);
}

/* Said once, through whatever still works, so that nobody looks in vain
 * for a log file that is not being written. */
static void report_file_failure(struct fh_log *log) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        g_autofree char *msg = NULL;

        log->file_failure_reported = true;
        msg = g_strdup_printf("cannot write log file '%s': %s; logging to the %s only", log->file_path,
                              g_strerror(-log->file.error), log->journal ? "journal" : "terminal");
        jf.event = "log-file-error";
        emit(log, LOG_WARNING, &jf, msg, strlen(msg));
        if (log->journal || log->terminal.fd >= 0)
                return;
        /* No journal either: stderr still reaches whoever started us
         * (qemu-ga 9.1+ reads it, older ones discard it). */
        g_free(msg);
        msg = g_strdup_printf("cannot write log file '%s': %s; no journal either: hook output is not logged",
                              log->file_path, g_strerror(-log->file.error));
        g_printerr("fsfreeze-hook: %s\n", msg);
}

void fh_log_message(struct fh_log *log, int priority, const char *event, const char *fmt, ...) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        jf.event = event;
        emit(log, priority, &jf, msg, strlen(msg));
}

static void set_prefixes(struct fh_log *log) {
        for (int s = 0; s < _FH_STREAM_MAX; s++)
                for (int cont = 0; cont < 2; cont++) {
                        int i = s * 2 + cont;

                        /* A piece of a line that was too long to keep whole
                         * is marked with a '+' after the stream name. */
                        g_free(log->prefix[i]);
                        log->prefix[i] = g_strdup_printf("%s: %s%s: ", log->hook_name, fh_stream_to_string(s),
                                                         cont ? "+" : "");
                        log->prefix_len[i] = MIN(strlen(log->prefix[i]), (size_t) PREFIX_MAX);
                }
}

void fh_log_hook_start(struct fh_log *log, const char *path, const char *name) {
        fh_log_hook_start_args(log, path, name, NULL);
}

void fh_log_hook_start_args(struct fh_log *log, const char *path, const char *name, const char *args) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        int len;

        g_free(log->hook_path);
        g_free(log->hook_name);
        log->hook_path = fh_escape_dup(path);
        log->hook_name = fh_escape_dup(name);
        set_prefixes(log);
        log->out_left = log->out_limit;

        len = snprintf(log->line, sizeof log->line, "execute %s %s", log->hook_path, args ? args : log->phase);
        jf.event = "execute";
        jf.hook = log->hook_path;
        emit(log, LOG_INFO, &jf, log->line, MIN((size_t) len, sizeof log->line - 1));
}

void fh_log_refresh_clock(struct fh_log *log) {
        (void) timestamp_now(log);
}

void fh_log_set_output_limit(struct fh_log *log, uint64_t max_bytes) {
        log->out_limit = max_bytes;
}

/* Whether a line of 'n' bytes, as the file gets it, still fits under the
 * cap; the journal gets the same lines, its messages shorter. Once one
 * does not, none does (n >= 1: the newline), so the log has no holes. */
static bool output_fits(struct fh_log *log, size_t n) {
        if (n > log->out_left) {
                log->out_left = 0;
                return false;
        }
        log->out_left -= n;
        return true;
}

/* The hot path of a flooding hook: the line is composed once, in place,
 * timestamp (of the chunk it came in) and all, and goes to each sink with
 * a single copy. */
bool fh_log_hook_output(struct fh_log *log, enum fh_stream stream, const char *line, size_t len, bool continued) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        int i = (int) stream * 2 + continued;
        size_t ts_len = strlen(log->ts);
        char *msg = log->line + MSG_OFFSET, *start = msg - ts_len - 2, *end;

        memcpy(msg, log->prefix[i], log->prefix_len[i]);
        end = msg + log->prefix_len[i];
        end += fh_escape(line, MIN(len, (size_t) FH_LINE_MAX), end);
        if (log->out_limit && !output_fits(log, (size_t) (end + 1 - start)))
                return false;
        memcpy(start, log->ts, ts_len);
        start[ts_len] = ':';
        start[ts_len + 1] = ' ';
        *end = '\n';
        fh_sink_append(&log->file, start, (size_t) (end + 1 - start));
        fh_sink_append(&log->terminal, start, (size_t) (end + 1 - start));

        if (log->journal) {
                jf.event = "output";
                jf.phase = log->phase;
                jf.hook = log->hook_path;
                jf.stream = fh_stream_to_string(stream);
                (void) fh_journal_send(log->journal, LOG_INFO, msg, (size_t) (end - msg), &jf);
        }
        if (log->file.error < 0 && !log->file_failure_reported)
                report_file_failure(log);
        return true;
}

void fh_log_hook_finished(struct fh_log *log, const struct fh_result *r) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        char outcome[256], duration[32], sig[32] = "";
        int len;

        fh_result_describe(r, outcome, sizeof outcome);
        fh_format_duration(r->duration_usec, duration, sizeof duration);
        len = snprintf(log->line, sizeof log->line, "%s finished with %s in %s", log->hook_path, outcome, duration);

        if (r->signal > 0)
                fh_signal_name(r->signal, sig, sizeof sig);
        jf.event = "finished";
        jf.hook = log->hook_path;
        jf.exit_status = r->signal > 0 ? -1 : r->exit_status;
        jf.signal = r->signal > 0 ? sig : NULL;
        jf.duration_usec = r->duration_usec;
        jf.timed_out = r->timed_out;
        emit(log, fh_result_priority(r), &jf, log->line, MIN((size_t) len, sizeof log->line - 1));
}

void fh_log_hook_not_run(struct fh_log *log, const char *path, int priority, const char *reason) {
        struct fh_journal_fields jf = FH_JOURNAL_FIELDS_INIT;
        g_autofree char *escaped = fh_escape_dup(path);
        int len;

        len = snprintf(log->line, sizeof log->line, "%s not run: %s", escaped, reason);
        jf.event = "not-run";
        jf.hook = escaped;
        emit(log, priority, &jf, log->line, MIN((size_t) len, sizeof log->line - 1));
}

void fh_log_flush(struct fh_log *log) {
        fh_sink_flush(&log->file);
        fh_sink_flush(&log->terminal);
        if (log->file.error < 0 && !log->file_failure_reported)
                report_file_failure(log);
}
