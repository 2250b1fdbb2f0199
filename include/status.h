/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* --status: the last freeze and thaw recorded in 'state_dir', when, each
 * hook's outcome and duration, and whether a freeze awaits its thaw; for a
 * person, or as one JSON object. Returns the exit status: 0, or 1 if a
 * record cannot be read. */
int fh_print_status(FILE *out, const char *state_dir, bool json);

/* The version of the JSON document below: raised only when a field
 * changes meaning or goes away (fields may be added within a version). */
#define FH_STATUS_VERSION 1

/* The JSON document of --status --json, newline-terminated (g_free); also
 * written to STATE_DIR/status.json after each phase. 'ask_timer': whether
 * the freeze deadline's timer is asked if it still runs (see
 * fh_freeze_deadline_json()). *ret_status as the exit status of
 * fh_print_status(). */
char *fh_status_json(const char *state_dir, bool ask_timer, int *ret_status);
/* The same, with the other platforms' files of the image at 'root'
 * (--root=DIR; NULL: the running system) under "platforms". */
char *fh_status_json_root(const char *state_dir, const char *root, bool ask_timer, int *ret_status);
