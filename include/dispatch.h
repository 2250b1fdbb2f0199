/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "deadline.h"
#include "env.h"
#include "log.h"
#include "phase.h"
#include "settings.h"
#include "trust.h"

struct fh_dispatch_options {
        enum fh_phase phase;
        const struct fh_settings *settings;
        /* The trust policy (NULL: not applied, i.e. not running as root). */
        struct fh_trust *trust;
        int signal_fd;                  /* non-blocking signalfd, see fh_run_request */
        int devnull_fd;
        const sigset_t *ignored;        /* see fh_spawn_request */
        struct fh_env *env;             /* the per-hook variables are set here */
        /* The freeze's command line without its phase, for the freeze
         * deadline to run us again with (NULL: no deadline is armed). */
        char *const *rerun_argv;
        /* The freeze deadline fired: a thaw that logs why; the caller
         * holds the state lock already (see fh_deadline_claim). */
        const struct fh_deadline *deadline_fired;
};

struct fh_dispatch_summary {
        unsigned n_run;
        unsigned n_failed;
        unsigned n_refused;             /* by the trust policy */
        unsigned n_not_run;             /* left out after an interruption or an abort */
        unsigned n_thawed;              /* released by an abort */
        int interrupted_by;             /* signal that stopped the dispatcher, or 0 */
        bool aborted;                   /* on-failure=abort stopped the freeze */
};

/* Runs the hooks for o->phase, logging everything:
 * - freeze: the merged hook directories in name order, recording in the
 *   state directory which hooks ran; with on-failure=abort, a failing hook
 *   stops the freeze and the hooks that already ran are thawed in reverse;
 * - thaw: the hooks the recorded freeze ran, in reverse, or without a
 *   record the current hooks in reverse; none if the freeze deadline
 *   released them already.
 * A freeze arms the freeze deadline before its first hook; a thaw or an
 * abort disarms it.
 * A missing hook directory is logged, not an error; one that cannot be
 * listed is logged too, and with on-failure=abort fails the freeze. */
void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret);
