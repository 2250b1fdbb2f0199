/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* --status: the last freeze and thaw recorded in 'state_dir', when, each
 * hook's outcome and duration, and whether a freeze awaits its thaw; for a
 * person, or as one JSON object. Returns the exit status: 0, or 1 if a
 * record cannot be read. */
int fh_print_status(FILE *out, const char *state_dir, bool json);
