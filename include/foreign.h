/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "phase.h"
#include "plan.h"
#include "platform.h"
#include "settings.h"
#include "spawn.h"
#include "trust.h"

/* The quiesce scripts a VM brought from another platform (platform.h),
 * run under qemu-ga when platform-scripts= names the platform, each as its
 * own agent runs it. Entries (named "vmware:legacy", "vmware:NAME",
 * "nutanix:scripts", "gce:scripts", "azure:scripts") go into the plan
 * before the hook directories: the migrated scripts are the outer layer,
 * our hooks sit next to the freeze. Every path is under s->root.
 * "Foreign": scripts that are not ours, written for another agent. The
 * other direction, their agent running us, is attach.h (the entry points)
 * and caller.h (recognising the call); platform.h lists the platforms. */

/* What the agent tells a script: VMware's three operations. */
enum fh_foreign_op {
        FH_FOREIGN_FREEZE,
        FH_FOREIGN_THAW,
        FH_FOREIGN_FREEZE_FAIL,         /* VMware: a freeze failed after the script froze */
};

/* platform-scripts=: "vmware", "nutanix", "gce", "azure", "all", "none",
 * in order ("none" clears what came before). Returns the mask (1 << enum
 * fh_platform); names that are none are appended to 'unknown'. */
unsigned fh_foreign_parse(char *const *names, GPtrArray *unknown);

/* The platform of entry 'name' that ran from 'path' (a state record's),
 * or -1 when it is one of our hooks: a hook directory's entry may have
 * any name, "vmware:x" too. */
int fh_foreign_platform_of(const struct fh_settings *s, const char *name, const char *path);

/* Appends the entries of the enabled platforms for 'phase' to 'items'
 * (struct fh_plan_item), in freeze order (a thaw reverses the whole plan).
 * What cannot run says why (not run, its own entry point, its agent called
 * us, its configuration does not read). 'trust' judges Azure's JSON. */
void fh_foreign_plan(const struct fh_settings *s, enum fh_phase phase, struct fh_trust *trust, GPtrArray *items);

/* The item that releases entry 'name' that froze (a paired thaw, an
 * abort, the freeze deadline): its thaw script, derived from the name.
 * NULL if it is one of our hooks (see fh_foreign_platform_of). */
struct fh_plan_item *fh_foreign_thaw_item(const struct fh_settings *s, struct fh_trust *trust, const char *name,
                                          const char *path);

/* For --dry-run, --check and a freeze's one notice: a line per platform
 * whose scripts are present but which platform-scripts= does not enable,
 * saying how to enable it. A new array of strings. 'trust' opens Azure's
 * JSON as when it is enabled: never anything but a regular file. */
GPtrArray *fh_foreign_not_enabled(const struct fh_settings *s, struct fh_trust *trust);

/* What runs for one plan item: opened through the trust policy (NULL: not
 * applied), the descriptor checked is the one executed. For our hooks and
 * most scripts 'file' is the script itself; for Azure (and a VMware script
 * without #!) 'file' is the trusted shell and 'script' the file it reads,
 * as /dev/fd/FH_SCRIPT_FD. */
struct fh_foreign_exec {
        struct fh_exec_file file;
        struct fh_exec_file script;     /* fd -1: none */
        char **argv;
};

/* Opens what 'item' runs for 'op' and builds its argv. Returns as
 * fh_exec_file_open_hook(): 0 (with *ret_problem if untrusted but not
 * 'strict'), -EPERM with *ret_problem, or another -errno. */
int fh_foreign_open(struct fh_trust *trust, const struct fh_plan_item *item, enum fh_foreign_op op, bool strict,
                    const char *search_path, struct fh_foreign_exec *ret, char **ret_problem);
void fh_foreign_exec_done(struct fh_foreign_exec *e);

/* Why fh_foreign_open() failed with 'r' (another -errno than -EPERM), as
 * "PATH: <this>" shows it (g_free): a VMware script it may not execute is
 * "not executable (...)", as vmtoolsd's bash fails it too; anything else
 * "cannot open it: <strerror>". */
char *fh_foreign_open_failure(const struct fh_plan_item *item, int r);

/* Its arguments as the log shows them after the script's path: escaped,
 * an empty one as '', none as "(no argument)", and "(read by sh)" or
 * "(read by bash)" when a shell reads it. */
char *fh_foreign_exec_describe(const struct fh_foreign_exec *e);
