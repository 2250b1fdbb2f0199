/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "phase.h"
#include "scan.h"
#include "settings.h"
#include "state.h"
#include "trust.h"

/* What a freeze or a thaw will run, in order, and why the rest will not:
 * the merged hook directories, the per-hook settings, the trust of the
 * directories, and for a thaw the freeze record it pairs with. Shared by
 * the run, the dry run and --check, so that they can never disagree. */

struct fh_plan_item {
        char *name;
        char *path;             /* what runs, or the entry that is skipped */
        char *dir;              /* the directory 'path' is in */
        bool run;
        enum fh_verdict verdict;        /* why not, when !run */
        bool refused;           /* not run because of the trust policy */
        bool notable;           /* a skip worth a log line at every run */
        char *why;              /* why it is skipped, NULL when it runs */
        char *note;             /* for the dry run: overrides, untrusted but allowed, ... */
        const char *froze;      /* thaw: "yes", "no" or "unknown"; freeze: NULL */
        char *moved_from;       /* thaw: the path it froze at, if it moved since */
        int64_t timeout_msec;
        /* Another platform's quiesce script (foreign.h): */
        int platform;           /* -1: one of our hooks; else its enum fh_platform */
        char **params;          /* Azure: the configured parameters of this side */
        bool via_sh;            /* Azure: run as "sh SCRIPT PARAMS..." (its agent ignores #! and x bits) */
        bool nothing_to_run;    /* a pair without a script for this phase: held, nothing run */
};

struct fh_plan {
        enum fh_phase phase;
        GPtrArray *items;       /* struct fh_plan_item, in run order */
        GArray *dirs;           /* struct fh_dir_scan, one per hook directory */
        GPtrArray *dir_problems;/* messages about untrusted directories */
        /* thaw: the freeze it pairs with (NULL: none), and what the pairing
         * found: hooks added since, hooks gone. */
        struct fh_state_record *freeze;
        GPtrArray *notes;
        /* Platforms whose scripts are present but not enabled, a line each
         * saying how to enable them (foreign.h). */
        GPtrArray *not_enabled;
};

/* Plans 'phase'. 'state_dir' NULL: no freeze record is used (the state
 * directory is unusable), and a thaw tells its hooks FSFREEZE_FROZE=unknown. */
struct fh_plan *fh_plan_build(enum fh_phase phase, const struct fh_settings *s, struct fh_trust *trust,
                              const char *state_dir);
void fh_plan_free(struct fh_plan *p);

/* An item that runs 'path' (in 'dir') as 'name', for foreign.c. */
struct fh_plan_item *fh_plan_item_new(const char *name, const char *path, const char *dir);
void fh_plan_item_free(gpointer item);
typedef struct fh_plan_item fh_plan_item;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_plan_item, fh_plan_item_free)
typedef struct fh_plan fh_plan;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_plan, fh_plan_free)
