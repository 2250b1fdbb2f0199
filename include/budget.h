/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "phase.h"
#include "settings.h"

/* The time our caller gives us before it kills us. Another platform's
 * agent that runs us as its quiesce script does not wait for ever:
 * Google's guest agent SIGKILLs pre.sh (its pid only) after [Snapshots]
 * timeout_in_seconds, and vmtoolsd's one timer for the whole quiesce
 * (tools.conf [vmbackup] timeout, 900 s by default) SIGTERMs the running
 * script, then SIGKILLs it 5 s later. Killed, we could neither kill the
 * hook that runs (it leads its own session: it would live on) nor record
 * how it ended. So every hook's timeout, and its kill grace, is cut to
 * what is left of that budget, less a margin for ending and recording:
 * the dispatcher ends, its hooks killed by its own timeouts, before its
 * caller's deadline. Azure's extension never kills its scripts; Nutanix's
 * limit is not known: no budget. */

/* What is kept back, before the caller's deadline, for the end of the
 * last hook (its pipes, its record) and for us to exit; it also covers
 * the caller's own start of us. */
#define FH_BUDGET_MARGIN_USEC (1000 * 1000)

/* vmtoolsd's default: GUEST_QUIESCE_DEFAULT_TIMEOUT_IN_SEC (open-vm-tools
 * services/plugins/vmbackup/vmBackupInt.h). */
#define FH_BUDGET_VMWARE_DEFAULT_SEC 900
/* Google's: timeout_in_seconds MustInt(60) (guest-agent 20211116.00
 * snapshot_listener.go). */
#define FH_BUDGET_GCE_DEFAULT_SEC 60

struct fh_budget {
        int64_t deadline_usec;  /* monotonic: every hook ended by then; 0: no budget */
        const char *caller;     /* who kills us then, for the log */
        char *why;              /* which budget applies and why, logged once; NULL: nothing to say */
};

/* The value of 'key' in '[section]' of 'text', read as Google's agent
 * reads instance_configs.cfg (go-ini, Loose and Insensitive): names
 * case-insensitive, '=' or ':', lines starting with '#' or ';' and
 * inline comments after '#' or ';' ignored, surrounding quotes removed,
 * the last definition wins. A new string, or NULL. Pure. */
char *fh_budget_ini_value(const char *text, const char *section, const char *key);

/* Google's timeout_in_seconds as its agent (guest-agent 20211116.00,
 * main.go parseConfig) reads it from /etc/default/instance_configs.cfg,
 * then .distro, then .template under 'root' (go-ini's LoadSources: a
 * later source overrides an earlier one, so the template wins), an
 * unreadable number as the default 60. Returns the seconds (<= 0: the
 * agent never runs its scripts) and in *ret_source where it came from. */
int64_t fh_budget_gce_seconds(const char *root, char **ret_source);

/* vmtoolsd's quiesce timeout from tools.conf [vmbackup] timeout under
 * 'root', as VmBackupGetTimeout() reads it: missing, unreadable, negative
 * or too large: 900; 0: no timer. Returns the seconds and in *ret_source
 * where it came from. */
int64_t fh_budget_vmware_seconds(const char *root, char **ret_source);

/* The budget of this dispatch for 's' (s->caller), started at 'start_usec'
 * (monotonic). 'freeze_failed': a VMware freezeFail, which vmtoolsd never
 * cuts short; 'freeze_started_usec': for a thaw, the monotonic start of
 * the freeze it pairs with (vmtoolsd's timer has run since), 0 if not
 * known (then the whole budget). */
void fh_budget_init(struct fh_budget *b, const struct fh_settings *s, enum fh_phase phase, bool freeze_failed,
                    int64_t start_usec, int64_t freeze_started_usec);
void fh_budget_done(struct fh_budget *b);

/* A hook about to start at 'now' (monotonic): its timeout and kill grace
 * (usec; timeout 0: none), cut so that both, and the last wait after
 * SIGKILL (the grace, at least 1 s), end inside the budget: the grace to
 * at most a quarter of what is left, the timeout to the rest (with too
 * little left for that wait, a quarter). Returns false if no time is left
 * to start it. Pure. */
bool fh_budget_fit(const struct fh_budget *b, int64_t now, int64_t *timeout_usec, int64_t *grace_usec);
