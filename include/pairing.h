/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "plan.h"
#include "result.h"
#include "settings.h"
#include "state.h"
#include "trust.h"

/* Pairing a thaw with its freeze, from a dispatch: the state directory,
 * its lock, the record of which hooks ran and which a thaw has released,
 * and the carry-over of a freeze never thawed. Everything is logged. */
struct fh_pairing {
        const char *dir;                /* the state directory; NULL: unusable, no pairing */
        struct fh_log *log;
        int release_error;              /* the first failure to update the freeze record */
};

/* Sets p->dir to the state directory if it can be used: it is created if
 * missing, and with a trust policy (as root) it must be trusted, or a
 * forged record could keep a thaw from releasing what froze. */
void fh_pairing_open(struct fh_pairing *p, const struct fh_settings *s, struct fh_trust *trust,
                     struct fh_log *log);
/* Takes the state lock, waiting for another dispatcher while answering
 * signals: one arriving on 'signal_fd' is stored in *interrupted_by, and
 * the wait ends when that is set. Returns the lock's descriptor, or -1. */
int fh_pairing_lock(const struct fh_pairing *p, int signal_fd, int *interrupted_by);

/* The record of this dispatch, before its first hook: the hooks the plan
 * runs, and for a freeze those an earlier freeze never thawed still
 * holds. */
struct fh_state_record *fh_pairing_start_record(const struct fh_pairing *p, const struct fh_settings *s,
                                                const struct fh_plan *plan);
/* Writes 'rec'; on failure removes the older one, so that no thaw pairs
 * with a stale record. */
void fh_pairing_save(const struct fh_pairing *p, struct fh_state_record *rec);
/* Completes 'rec' (its end, the time since 'start', monotonic) and saves it. */
void fh_pairing_finish_record(const struct fh_pairing *p, struct fh_state_record *rec, int64_t start);

/* A freeze's hook 'h' is about to start: recorded as running, and 'rec'
 * written at once, so that if we are killed while it runs (Google's agent
 * SIGKILLs us at its timeout, vmtoolsd 5 s after its SIGTERM) the record
 * still says which hooks ended, which one was running and which never
 * started. The hook before it is recorded by the same write. */
void fh_pairing_starting(const struct fh_pairing *p, struct fh_state_record *rec, struct fh_state_hook *h);
/* What one hook did, into its entry; 'refused' by the trust policy. */
void fh_pairing_record(struct fh_state_hook *h, const struct fh_result *r, bool refused);
/* The hook 'name' was not run, for 'why'. */
void fh_pairing_mark_not_run(struct fh_state_record *rec, const char *name, const char *why);

/* Whether a hook's thaw has happened, as far as it ever can ('allowed':
 * not refused by the trust policy). */
bool fh_pairing_thaw_done(bool allowed, const struct fh_result *r);
/* A thaw paired with 'freeze' has dealt with hook 'name': recorded at once. */
void fh_pairing_release(struct fh_pairing *p, struct fh_state_record *freeze, const char *name);
/* The hooks of a paired thaw's freeze (NULL: none) that it could not release. */
unsigned fh_pairing_still_held(const struct fh_state_record *freeze);
