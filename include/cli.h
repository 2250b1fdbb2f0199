/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "caller.h"
#include "phase.h"
#include "settings.h"

enum fh_action {
        FH_ACTION_RUN,
        FH_ACTION_DRY_RUN,
        FH_ACTION_STATUS,
        FH_ACTION_CHECK,
        FH_ACTION_HELP,
        FH_ACTION_VERSION,
        FH_ACTION_DEADLINE_FIRE,        /* internal: the freeze deadline fires */
        FH_ACTION_ATTACH,               /* --attach=PLATFORM */
        FH_ACTION_DETACH,               /* --detach=PLATFORM */
};

struct fh_cli {
        enum fh_action action;
        char *command;          /* the command option given (--status, --attach=vmware...), or NULL */
        int phase;              /* enum fh_phase, or -1 when the action takes none */
        char *config;           /* the configuration file */
        bool json;              /* --status --json */
        char *deadline_id;      /* --deadline-fire=ID */
        int64_t deadline_sleep_until;   /* --deadline-sleep-until=USEC (boot clock), 0: none */
        struct fh_layer layer;  /* the options, which override the file */
        /* Issue 13: the other platforms. */
        int platform;           /* --attach/--detach=PLATFORM, or -1 */
        char *root;             /* --root=DIR, or NULL */
        int forced_caller;      /* --caller=PLATFORM, or -1 */
        struct fh_caller caller;        /* who ran us (a run, a dry run) */
        int args_start;         /* argv index of the first argument after the options */
        char **unknown_platforms;       /* --platform-scripts names that are none, for a warning */
};

/* Exit status of a usage error, as util-linux and qemu-ga use. */
#define FH_EXIT_USAGE 2

/* Parses the command line. On a usage error returns -EINVAL and sets
 * *ret_error to a message (g_free). */
int fh_cli_parse(int argc, char **argv, struct fh_cli *ret, char **ret_error);
void fh_cli_done(struct fh_cli *cli);

void fh_cli_usage(FILE *out);
