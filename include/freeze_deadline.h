/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#include "deadline.h"
#include "log.h"
#include "settings.h"

/* The freeze deadline as the dispatcher uses it, with the state lock held
 * and everything logged (see deadline.h for the mechanism). */

/* A freeze, before its first hook: replaces any deadline still armed
 * (there is never more than one) by a new one of s->freeze_deadline_msec,
 * none if that is 0. 'state_dir' NULL: unusable, no deadline. */
void fh_freeze_deadline_arm(const char *state_dir, const struct fh_settings *s, char *const *rerun_argv,
                            struct fh_log *log);

/* A thaw, or an aborted freeze: the deadline is no longer needed. */
void fh_freeze_deadline_disarm(const char *state_dir, struct fh_log *log);

/* Whether a thaw now would release nothing, because the deadline fired and
 * released every hook of its freeze and no thaw came since: the dry run
 * says so, as the thaw will (fh_freeze_deadline_settle). The deadline's
 * record in *ret when true. */
bool fh_freeze_deadline_released_all(const char *state_dir, struct fh_deadline **ret);

/* A thaw from the host: true if the deadline already thawed the freeze it
 * would pair with and released its hooks; then the thaw must release
 * nothing, and this has logged why and recorded the late thaw. Otherwise
 * disarms the deadline and returns false. */
bool fh_freeze_deadline_settle(const char *state_dir, struct fh_log *log);

/* What the fire of 'd' did, for "the freeze deadline already ...":
 * "thawed N filesystems and released the hooks at WHEN", or, under
 * another platform's agent, "released the hooks at WHEN and thawed no
 * filesystem (whose thaw it is)" (g_free). */
char *fh_freeze_deadline_fire_summary(const struct fh_deadline *d);

/* The fire, after the thaw hooks ran: the error that says what happened
 * (no "frozen for" under another platform's agent, which froze nothing
 * of ours); 'held': the hooks it could not release. */
void fh_freeze_deadline_log_fired(struct fh_log *log, const struct fh_deadline *d, unsigned held);

/* --status: one line for a person; a JSON object for tools. Both ask
 * whether the timer still runs (over D-Bus where systemd keeps it, which
 * can take up to the bus timeout); the JSON object only if 'ask_timer':
 * without, a deadline armed and not fired is reported armed, as the
 * freeze that has just started its timer knows it. */
void fh_freeze_deadline_print(FILE *out, const char *state_dir);
void fh_freeze_deadline_json(GString *s, const char *state_dir, bool ask_timer);
