/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "env.h"
#include "log.h"
#include "phase.h"

struct fh_dispatch_options {
        enum fh_phase phase;
        const char *hooks_dir;
        int64_t timeout_usec;           /* per hook, 0: none */
        int64_t kill_grace_usec;
        int signal_fd;                  /* non-blocking signalfd, see fh_run_request */
        int devnull_fd;
        struct fh_env *env;             /* FSFREEZE_HOOK is set per hook */
};

struct fh_dispatch_summary {
        unsigned n_run;
        unsigned n_failed;
        unsigned n_not_run;             /* left out after an interruption */
        int interrupted_by;             /* signal that stopped the dispatcher, or 0 */
};

/* Runs the hooks of o->hooks_dir for o->phase, in name order for freeze and
 * reversed for thaw, logging everything. A missing or unreadable directory
 * is logged and is not an error: nothing runs. */
void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret);

/* The dry run: every entry of 'dir' in run order, marked "run" or "skip"
 * with the reason, written to 'out'. Runs nothing, logs nothing. */
void fh_print_plan(FILE *out, enum fh_phase phase, const char *dir);
