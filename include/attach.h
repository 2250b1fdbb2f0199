/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <glib.h>

#include "json.h"
#include "platform.h"
#include "trust.h"

/* --attach and --detach: the entry point through which another platform's
 * agent runs this dispatcher (issue 13), under --root=DIR (NULL: the
 * running system). Each platform's form comes from its agent's source:
 * - vmware: a symlink /etc/vmware-tools/backupScripts.d/fsfreeze-hook to
 *   the installed binary (vmtoolsd stat()s entries and runs them with
 *   bash: open-vm-tools scriptOps.c);
 * - gce: symlinks /etc/google/snapshots/pre.sh and post.sh to it (the
 *   agent execs them directly: guest-agent snapshot_listener.go); the
 *   directory created 0700 as the agent does;
 * - nutanix: root-owned 0700 sh wrappers /usr/local/sbin/pre_freeze and
 *   post_thaw (the documentation asks for 0700; a symlink shows 0777);
 * - azure: two such wrappers in /etc/azure and
 *   /etc/azure/VMSnapshotScriptPluginConfig.json (0600) naming them (the
 *   extension runs "sh SCRIPT": ScriptRunner.py).
 * A wrapper's second line is FH_ATTACH_MARKER; the JSON's "pluginName"
 * is "fsfreeze-hook" and its scripts are the wrappers; a link is ours if
 * the last component of what it names is "fsfreeze-hook" (another
 * installation's is re-aimed at ours). Nothing else is ever replaced or
 * removed. */

#define FH_ATTACH_MARKER "# fsfreeze-hook --attach="
#define FH_ATTACH_PLUGIN_NAME "fsfreeze-hook"

enum fh_attach_state {
        FH_ATTACH_ABSENT,       /* none of its files */
        FH_ATTACH_OURS,         /* all of them, ours */
        FH_ATTACH_PARTIAL,      /* some of ours, the others missing */
        FH_ATTACH_FOREIGN,      /* one at least is somebody else's */
        _FH_ATTACH_STATE_MAX,
};

const char *fh_attach_state_to_string(enum fh_attach_state s);

/* Whether a symlink to 'target' (its readlink) is an entry point of ours:
 * the last component of 'target' is "fsfreeze-hook", whichever
 * installation made it. Pure. */
bool fh_attach_link_is_ours(const char *target);

/* Whether Azure's configuration 'doc' is one --attach wrote: our
 * "pluginName" and our wrappers as its scripts. Edited to name other
 * scripts (as Azure's documentation says to), it is the administrator's. */
bool fh_attach_azure_config_is_ours(const struct fh_json *doc);

/* The state of platform 'p''s entry point under 'root'; with a problem
 * (a foreign file, a symlinked directory), *ret_problem says which file
 * and why (g_free). */
enum fh_attach_state fh_attach_state(const char *root, enum fh_platform p, char **ret_problem);

/* Whether one of the agent's files (platform.h's 'agents') exists. */
bool fh_attach_agent_installed(const char *root, enum fh_platform p);

/* --attach=P and --detach=P: what was done goes to 'out', refusals (with
 * the file and what to do) to 'err'. 'trust' (as root; NULL otherwise)
 * judges every directory written into. Return the exit status: 0 done or
 * already so, 1 refused. */
int fh_attach(FILE *out, FILE *err, const char *root, enum fh_platform p, struct fh_trust *trust);
int fh_detach(FILE *out, FILE *err, const char *root, enum fh_platform p, struct fh_trust *trust);

/* One line about platform 'p': "vmware: attached; agent installed",
 * "gce: not attached: FILE is not ours (a file); agent not installed",
 * "gce: partly attached (fix: ...)" (g_free). */
char *fh_attach_describe(const char *root, enum fh_platform p, enum fh_attach_state *ret_state);

/* Each platform's state, for --status ("Platforms:" lines) and --check. */
void fh_attach_print_status(FILE *out, const char *root);
/* The same as the JSON array of --status --json's "platforms": objects
 * with "name", "entry_point" (absent, ours, partial, foreign),
 * "agent_installed" and "problem" (a string or null). */
void fh_attach_status_json(GString *s, const char *root);
