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

/* Sends one entry with SYSLOG_IDENTIFIER=fsfreeze-hook over the native
 * protocol. Returns 0 or -errno (-ENOENT, -ECONNREFUSED: no journal). */
int fh_journal_send(int priority, const char *message, size_t len, const struct fh_journal_fields *f);
