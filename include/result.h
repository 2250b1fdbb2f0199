/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How one run of one hook ended. */
struct fh_result {
        int error;              /* -errno: the hook could not be started */
        const char *failed_step; /* what failed when error < 0: "fork", "pipe", ... */
        int exit_status;        /* exit code, or -1 when killed by a signal */
        int signal;             /* the signal that killed it, or 0 */
        bool timed_out;
        bool sent_sigkill;      /* SIGKILL went to its process group */
        bool abandoned;         /* it did not die even after SIGKILL */
        int interrupted_by;     /* a signal to the dispatcher cut it short, or 0 */
        int64_t timeout_usec;   /* the limit that applied, for the message */
        int64_t duration_usec;
};

/* Shell convention, as QEMU's script logs it: the exit code, or 128 plus
 * the signal number; -1 when it never ran or could not be reaped. */
int fh_result_status(const struct fh_result *r);

/* Anything but a clean exit 0. */
bool fh_result_failed(const struct fh_result *r);

/* syslog priority for the "finished" event: info for success, warning for
 * a non-zero exit, error for a signal, a timeout or a failure to start. */
int fh_result_priority(const struct fh_result *r);

/* "SIGSEGV", or "signal 77" for numbers without a name. */
void fh_signal_name(int sig, char *buf, size_t size);

/* The part after "finished with ": "status=0",
 * "status=139 (killed by SIGSEGV)",
 * "status=137 (timed out after 1.000 s; killed by SIGKILL)". */
void fh_result_describe(const struct fh_result *r, char *buf, size_t size);
