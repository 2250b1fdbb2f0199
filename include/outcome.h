/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the host and the fleet can read after each phase. */

#define FH_STATUS_FILE "status.json"

/* Writes the --status --json document to STATE_DIR/status.json,
 * atomically (a reader through the agent sees the old document or the new
 * one, never half of one). Returns 0 or -errno. */
int fh_outcome_write_status(const char *state_dir);
