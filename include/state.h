/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "phase.h"

/* What a freeze or a thaw did, kept in the state directory (under /run by
 * default, so a reboot forgets it): which hooks ran and how they ended.
 * The thaw reads the freeze's record to release exactly the hooks that
 * froze; --status shows both. Files are written atomically (rename). */

struct fh_state_hook {
        char *name;
        char *path;
        bool ran;               /* it was started, in this freeze or in an earlier one never
                                   thawed (a thaw must release it) */
        bool released;          /* freeze record: a thaw (or the abort) has dealt with it since */
        bool running;           /* freeze record: started, and no end recorded yet (the
                                   dispatcher was killed while it ran, if the run never
                                   finished) */
        int status;             /* shell-style status, -1: none */
        char *outcome;          /* "status=0", "status=143 (timed out ...)", "not run: ...",
                                   "refused by the trust policy", "planned" */
        int64_t duration_usec;  /* -1: none */
        struct fh_state_text *text;     /* state.c's cache of its text, checked on use */
};

struct fh_state_record {
        enum fh_phase phase;
        int64_t started_usec;   /* wall clock, microseconds since the epoch */
        int64_t started_monotonic_usec; /* the monotonic clock, which steps of the wall clock
                                           do not move; 0: unknown (an older record, or no
                                           boot ID to tell that it is of this boot) */
        int64_t finished_usec;  /* 0: still running, or interrupted for good */
        int64_t duration_usec;  /* from start to finish by the monotonic clock, which
                                   the wall clock's jumps do not change; -1: unknown */
        bool awaiting_thaw;     /* freeze only: no thaw has released it yet */
        bool aborted;           /* freeze only: on-failure=abort stopped it and thawed */
        bool per_hook;          /* freeze only: written again as each hook starts (and at
                                   the end), so a run that never finished still tells which
                                   hooks started; older records were written only before the
                                   first hook and at the end */
        char *on_failure;
        char *boot_id;          /* the kernel's boot ID when it was written */
        GPtrArray *hooks;       /* struct fh_state_hook, in run order */
};

struct fh_state_record *fh_state_record_new(enum fh_phase phase);
void fh_state_record_free(struct fh_state_record *r);
typedef struct fh_state_record fh_state_record;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_state_record, fh_state_record_free)

/* Appends a hook; returns it for the caller to fill in. */
struct fh_state_hook *fh_state_record_add(struct fh_state_record *r, const char *name, const char *path);

/* The hook of that name, or NULL. */
struct fh_state_hook *fh_state_record_find(const struct fh_state_record *r, const char *name);

/* Writes the record of its phase into 'dir' (created 0755 if missing).
 * Returns 0 or -errno. */
int fh_state_write(const char *dir, const struct fh_state_record *r);

/* Reads the last record of 'phase'. -ENOENT: none (nothing since boot);
 * -ESTALE: one from an earlier boot (a state directory on persistent
 * storage), which must not pair; -EBADMSG: unreadable, also when one of
 * its values does not read (damaged, or edited by hand). */
int fh_state_read(const char *dir, enum fh_phase phase, struct fh_state_record **ret);

/* Removes the record of 'phase', so that a stale one can never pair.
 * Returns 0 (also when there was none) or -errno. */
int fh_state_remove(const char *dir, enum fh_phase phase);

/* Whether hook 'h' of freeze record 'r' ran freeze or may have: it was
 * started (and may still be running), or the freeze never finished and
 * its record does not say which hooks it started. */
bool fh_state_hook_started(const struct fh_state_record *r, const struct fh_state_hook *h);

/* Whether a thaw must still release hook 'h' of freeze record 'r': it
 * started (see above) and no thaw has dealt with it yet. */
bool fh_state_hook_held(const struct fh_state_record *r, const struct fh_state_hook *h);

/* FSFREEZE_FROZE for the thaw of held hook 'h': "yes" if its freeze
 * ended, "unknown" if it was running when the dispatcher was stopped (or
 * the record does not say). */
const char *fh_state_hook_froze(const struct fh_state_record *r, const struct fh_state_hook *h);

/* Marks 'h' of freeze record 'r' released, and clears the record's
 * awaiting-thaw mark once no hook is held. The caller writes it. */
void fh_state_release(struct fh_state_record *r, struct fh_state_hook *h);
