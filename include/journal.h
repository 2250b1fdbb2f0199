/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Structured fields of one journal entry besides MESSAGE and PRIORITY.
 * NULL strings and negative numbers are left out. */
struct fh_journal_fields {
        const char *event;      /* FSFREEZE_EVENT: start, execute, output, finished, ... */
        const char *phase;      /* FSFREEZE_PHASE */
        const char *hook;       /* FSFREEZE_HOOK: the hook's path, escaped */
        const char *stream;     /* FSFREEZE_STREAM: stdout or stderr */
        int exit_status;        /* FSFREEZE_EXIT_STATUS */
        const char *signal;     /* FSFREEZE_SIGNAL, e.g. SIGSEGV */
        int64_t duration_usec;  /* FSFREEZE_DURATION_USEC */
        bool timed_out;         /* FSFREEZE_TIMED_OUT=1 */
};

#define FH_JOURNAL_FIELDS_INIT { .exit_status = -1, .duration_usec = -1 }
#define FH_SYSLOG_IDENTIFIER "fsfreeze-hook"
#define FH_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Entries go to journald through libsystemd's sd_journal_sendv(), loaded
 * with dlopen() by the sender thread. It blocks while
 * journald is not reading its socket (hung, restarting, overloaded). The
 * dispatcher must never block: its poll loop is what enforces timeouts.
 * So entries are queued, up to a bound, and sent by a thread of their own;
 * when the queue is full they are dropped and counted. */
struct fh_journal;

/* Starts the sender. NULL when there is no journal socket: then there is
 * nothing to send to, and nothing is said about it. Create it after the
 * signal mask is set: the thread inherits it. */
struct fh_journal *fh_journal_open(void);

/* Queues one entry; never blocks. -EAGAIN if it was dropped. */
int fh_journal_send(struct fh_journal *j, int priority, const char *message, size_t len,
                    const struct fh_journal_fields *f);

/* Waits at most 'timeout_usec' for the queue to be sent, then stops.
 * Returns how many entries were lost (dropped, or still queued), and in
 * *ret_reason why, when there were. */
unsigned fh_journal_close(struct fh_journal *j, int64_t timeout_usec, const char **ret_reason);
