/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* The other platforms whose in-guest agents run quiesce scripts of their
 * own, and where each agent looks for them. A VM brought from one of them
 * keeps its scripts (platform-scripts= runs them under qemu-ga), and
 * --attach makes that platform's agent run this dispatcher. Where every
 * fact comes from (each agent's source) is in fsfreeze-hook(8) and in
 * the process tests that reproduce each agent's call. */
enum fh_platform {
        FH_PLATFORM_VMWARE,     /* open-vm-tools' vmtoolsd, vmbackup plugin */
        FH_PLATFORM_NUTANIX,    /* Nutanix Guest Tools */
        FH_PLATFORM_GCE,        /* Google's guest agent, snapshot listener */
        FH_PLATFORM_AZURE,      /* Azure's VMSnapshot (VM backup) extension */
        _FH_PLATFORM_MAX,
        _FH_PLATFORM_INVALID = -1,
};

struct fh_platform_info {
        const char *name;               /* "vmware": in settings, options, FSFREEZE_CALLER */
        const char *title;              /* "VMware Tools": for people */
        const char *pre_script;         /* run before the snapshot; NULL: named by 'config' */
        const char *post_script;        /* run after it; NULL: named by 'config' */
        const char *script_dir;         /* more scripts, all run (VMware's backupScripts.d); or NULL */
        const char *config;             /* the agent's file naming the scripts (Azure); or NULL */
        const char *const *agents;      /* files whose presence means the agent is installed */
};

const struct fh_platform_info *fh_platform_info(enum fh_platform p);
const char *fh_platform_to_string(enum fh_platform p);

/* Returns the platform, or -EINVAL for a name that is none. */
int fh_platform_from_string(const char *s);

/* 'path' (absolute) under 'root' (--root=DIR, as systemctl --root: an
 * image being built); root NULL, "" or "/" is the running system. A new
 * string. */
char *fh_platform_path(const char *root, const char *path);
