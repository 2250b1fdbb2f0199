/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "env.h"
#include "log.h"
#include "phase.h"
#include "trust.h"

struct fh_dispatch_options {
        enum fh_phase phase;
        const char *hooks_dir;
        int64_t timeout_usec;           /* per hook, 0: none */
        int64_t kill_grace_usec;
        uint64_t max_output;            /* bytes logged per hook, 0: no limit */
        /* The trust policy (NULL: not applied, i.e. not running as root),
         * and whether a violation refuses the hook (strict) or only warns. */
        struct fh_trust *trust;
        bool strict_modes;
        int signal_fd;                  /* non-blocking signalfd, see fh_run_request */
        int devnull_fd;
        struct fh_env *env;             /* FSFREEZE_HOOK is set per hook */
};

struct fh_dispatch_summary {
        unsigned n_run;
        unsigned n_failed;
        unsigned n_refused;             /* by the trust policy */
        unsigned n_not_run;             /* left out after an interruption */
        int interrupted_by;             /* signal that stopped the dispatcher, or 0 */
};

/* Runs the hooks of o->hooks_dir for o->phase, in name order for freeze and
 * reversed for thaw, logging everything. A missing or unreadable directory
 * is logged and is not an error: nothing runs. */
void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret);

/* The dry run: every entry of the hook directory in run order, marked "run"
 * or "skip" with the reason, trust policy included, written to 'out'.
 * Runs nothing, logs nothing. */
void fh_print_plan(FILE *out, const struct fh_dispatch_options *o);
