/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "phase.h"
#include "settings.h"
#include "trust.h"

/* The dry run: every entry in run order, marked "run" or "skip" with the
 * reason, where it comes from and what it overrides, the trust policy and
 * the freeze record included. Runs nothing, logs nothing, writes nothing.
 * 'trust' is NULL when the policy does not apply (not running as root). */
void fh_print_plan(FILE *out, enum fh_phase phase, const struct fh_settings *s, struct fh_trust *trust);
