/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* Everything that can be tuned, from three sources in rising priority:
 * built-in defaults, the configuration file, the command line. A layer
 * (the file, or the command line) holds what one source set; unset
 * fields are -1 or NULL. */

enum fh_on_failure {
        FH_ON_FAILURE_CONTINUE,         /* log and go on: the default */
        FH_ON_FAILURE_ABORT,            /* thaw what froze and fail the freeze */
        _FH_ON_FAILURE_MAX,
};

const char *fh_on_failure_to_string(enum fh_on_failure f);
int fh_on_failure_from_string(const char *s);

/* [hook NAME] */
struct fh_hook_settings {
        int64_t timeout_msec;           /* -1: unset */
        int enabled;                    /* -1: unset, 0, 1 */
};

struct fh_layer {
        char **hook_dirs;               /* NULL: unset */
        char *log_file;                 /* with log_file_set: "" means none */
        bool log_file_set;
        int journal;                    /* -1, 0, 1 */
        int64_t timeout_msec;
        int64_t thaw_timeout_msec;
        int64_t kill_grace_msec;
        int64_t max_output;
        int on_failure;                 /* -1 or enum fh_on_failure */
        char *state_dir;
        int strict_modes;               /* -1, 0, 1 */
        int64_t freeze_deadline_msec;   /* -1: unset */
        char *metrics_file;             /* NULL: unset; "" means none */
        GHashTable *hooks;              /* name -> struct fh_hook_settings; NULL: none */
        int platform_scripts;           /* -1: unset; else 1 << enum fh_platform, see foreign.h */
};

void fh_layer_init(struct fh_layer *l);
void fh_layer_done(struct fh_layer *l);

struct fh_settings {
        char **hook_dirs;               /* lowest priority first */
        char *vendor_dir;               /* the built-in vendor directory, if it is in hook_dirs */
        char *log_file;                 /* NULL: none */
        bool journal;
        int64_t timeout_msec;           /* freeze hooks; 0: none */
        int64_t thaw_timeout_msec;      /* thaw hooks; 0: none; -1: as timeout_msec */
        int64_t kill_grace_msec;
        uint64_t max_output;            /* 0: no limit */
        enum fh_on_failure on_failure;
        char *state_dir;
        bool strict_modes;
        int64_t freeze_deadline_msec;   /* 0: none */
        char *metrics_file;             /* node_exporter textfile; NULL: none */
        GHashTable *hooks;              /* name -> struct fh_hook_settings */
        unsigned platform_scripts;      /* 1 << enum fh_platform: whose quiesce scripts we also run */
        /* Who ran us (not settings, but what every part needs to know):
         * -1 qemu-ga or a shell, else the enum fh_platform whose agent did
         * (from argv[0] or --caller); its extra argument, if any (VMware's
         * scriptArg, Google's disk list); --root=DIR for every platform
         * path (NULL: the running system). */
        int caller;
        char *caller_arg;
        char *root;
};

/* The default hook directory: fsfreeze-hook.d beside the path we were
 * invoked as, exactly like QEMU's script (dirname "$0"), argv[0] as given
 * and not resolved, so a symlink /etc/qemu/fsfreeze-hook uses
 * /etc/qemu/fsfreeze-hook.d. Without a slash in argv[0] (found in PATH),
 * or invoked from the directory the program is installed in (/usr/sbin),
 * there is no useful "beside": the build-time default. A new string. */
char *fh_default_hooks_dir(const char *argv0);

/* Built-in defaults: the vendor directory, then fsfreeze-hook.d beside
 * argv[0] (the admin directory, as QEMU's script has it). */
void fh_settings_init(struct fh_settings *s, const char *argv0);
void fh_settings_done(struct fh_settings *s);

/* Overrides what the layer sets. */
void fh_settings_apply(struct fh_settings *s, const struct fh_layer *l);

/* The timeout that applies to hook 'name' in a phase (freeze: true). */
int64_t fh_settings_timeout(const struct fh_settings *s, const char *name, bool freeze);

/* Whether hook 'name' is enabled (a [hook NAME] group can say no). */
bool fh_settings_enabled(const struct fh_settings *s, const char *name);
