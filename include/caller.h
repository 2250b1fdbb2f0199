/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "phase.h"

/* Who ran us, from how we were run. qemu-ga (and a person at a shell)
 * passes one argument, freeze or thaw. The other platforms' agents run
 * the entry point --attach installed, each in its own way (sources in
 * fsfreeze-hook(8), OTHER PLATFORMS; tests/proc/test-agents.c reproduces
 * each agent's call):
 * - VMware's vmtoolsd: a path in /etc/vmware-tools/backupScripts.d/ (or
 *   its legacy /usr/sbin/pre-freeze-script, post-thaw-script), then
 *   freeze, thaw or freezeFail, then an optional scriptArg that versions
 *   before 12.3.5 pass as "" when there is none;
 * - Google's guest agent: /etc/google/snapshots/pre.sh (freeze) or
 *   post.sh (thaw) with one argument, the disk list, possibly empty;
 * - Nutanix's agent: /usr/local/sbin/pre_freeze or post_thaw, no argument;
 * - our wrappers (Nutanix, Azure): --caller=PLATFORM -- freeze|thaw, then
 *   whatever the agent adds.
 * freezeFail is a thaw: it releases what froze, in reverse. */
struct fh_caller {
        int platform;           /* enum fh_platform, or -1: qemu-ga or a shell */
        enum fh_phase phase;
        bool freeze_failed;     /* VMware's freezeFail */
        char *arg;              /* the extra argument (scriptArg, disk list); NULL: none */
};

void fh_caller_done(struct fh_caller *c);

/* The platform whose entry point 'argv0' is, or -1; *ret_phase is the
 * phase its name implies (pre.sh, pre_freeze: freeze), or -1 if the
 * phase is an argument. Pure. */
int fh_caller_from_argv0(const char *argv0, int *ret_phase);

/* Recognises the caller from 'argv0' and the 'n_args' arguments after the
 * options; 'forced' is --caller=PLATFORM (it wins over argv0), or -1.
 * Returns 0, or -EINVAL with *ret_error (g_free) for arguments that no
 * caller passes. Pure. */
int fh_caller_recognise(const char *argv0, int forced, char *const *args, int n_args, struct fh_caller *ret,
                        char **ret_error);

/* The FSFREEZE_CALLER name: "qemu-ga" or the platform's name. */
const char *fh_caller_name(int platform);
