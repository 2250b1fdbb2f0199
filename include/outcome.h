/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the host and the fleet can read after each phase. */

#define FH_STATUS_FILE "status.json"

/* Writes the --status --json document to STATE_DIR/status.json,
 * atomically (a reader through the agent sees the old document or the new
 * one, never half of one). Returns 0 or -errno. */
int fh_outcome_write_status(const char *state_dir);

#include <stdbool.h>

#include "phase.h"

/* What the phase that just ended did, beyond its records. */
struct fh_outcome_phase {
        enum fh_phase phase;
        unsigned n_failed;              /* hooks that failed, were refused or not run */
        bool deadline_fired;            /* this thaw was the freeze deadline's */
};

/* Writes node_exporter's textfile collector format to 'path', atomically
 * (a temporary file beside it, renamed): the last freeze and thaw (start,
 * duration, failed hooks), each hook's status and duration, whether a
 * thaw is awaited, the deadline, and counters kept in STATE_DIR/counters
 * since boot. Returns 0 or -errno. */
int fh_outcome_write_metrics(const char *path, const char *state_dir, const struct fh_outcome_phase *p);
