/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "defaults.h"
#include "settings.h"

static const char *const on_failure_names[_FH_ON_FAILURE_MAX] = {
        [FH_ON_FAILURE_CONTINUE] = "continue",
        [FH_ON_FAILURE_ABORT] = "abort",
};

const char *fh_on_failure_to_string(enum fh_on_failure f) {
        if (f < 0 || f >= _FH_ON_FAILURE_MAX)
                return NULL;
        return on_failure_names[f];
}

int fh_on_failure_from_string(const char *s) {
        for (int i = 0; s && i < _FH_ON_FAILURE_MAX; i++)
                if (strcmp(s, on_failure_names[i]) == 0)
                        return i;
        return -EINVAL;
}

void fh_layer_init(struct fh_layer *l) {
        *l = (struct fh_layer) {
                .journal = -1,
                .timeout_msec = -1,
                .thaw_timeout_msec = -1,
                .kill_grace_msec = -1,
                .max_output = -1,
                .on_failure = -1,
                .strict_modes = -1,
                .freeze_deadline_msec = -1,
                .platform_scripts = -1,
        };
}

void fh_layer_done(struct fh_layer *l) {
        g_strfreev(l->hook_dirs);
        g_free(l->log_file);
        g_free(l->state_dir);
        g_free(l->metrics_file);
        if (l->hooks)
                g_hash_table_unref(l->hooks);
        fh_layer_init(l);
}

/* Whether 'dir' is where the program is installed (/usr/sbin), also
 * through a symlink such as /sbin on merged-/usr systems. */
static bool is_program_dir(const char *dir) {
        g_autofree char *real_dir = NULL, *real_program_dir = NULL;

        if (g_str_equal(dir, PROGRAM_DIR))
                return true;
        real_dir = realpath(dir, NULL);
        real_program_dir = realpath(PROGRAM_DIR, NULL);
        return real_dir && real_program_dir && g_str_equal(real_dir, real_program_dir);
}

char *fh_default_hooks_dir(const char *argv0) {
        g_autofree char *dir = NULL;

        if (!argv0 || !strchr(argv0, '/'))
                return g_strdup(DEFAULT_HOOKS_DIR);
        dir = g_path_get_dirname(argv0);
        /* /usr/sbin/fsfreeze-hook.d is nobody's hook directory: qemu-ga
         * started with -F/usr/sbin/fsfreeze-hook, as the packages' drop-ins
         * do, must find the administrator's hooks even when the
         * configuration file that names them is gone or broken. */
        if (is_program_dir(dir))
                return g_strdup(DEFAULT_HOOKS_DIR);
        return g_build_filename(dir, "fsfreeze-hook.d", NULL);
}

void fh_settings_init(struct fh_settings *s, const char *argv0) {
        g_autofree char *admin = fh_default_hooks_dir(argv0);

        *s = (struct fh_settings) {
                .vendor_dir = g_strdup(DEFAULT_VENDOR_HOOKS_DIR),
                .log_file = g_strdup(DEFAULT_LOG_FILE),
                .journal = true,
                .timeout_msec = DEFAULT_TIMEOUT_MS,
                .thaw_timeout_msec = -1,
                .kill_grace_msec = DEFAULT_KILL_GRACE_MS,
                .max_output = DEFAULT_MAX_OUTPUT,
                .on_failure = FH_ON_FAILURE_CONTINUE,
                .state_dir = g_strdup(DEFAULT_STATE_DIR),
                .strict_modes = true,
                .freeze_deadline_msec = FH_DEFAULT_FREEZE_DEADLINE_MSEC,
                .hooks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                .caller = -1,
        };
        s->hook_dirs = g_new0(char *, 3);
        s->hook_dirs[0] = g_strdup(DEFAULT_VENDOR_HOOKS_DIR);
        s->hook_dirs[1] = g_steal_pointer(&admin);
}

void fh_settings_done(struct fh_settings *s) {
        g_strfreev(s->hook_dirs);
        g_free(s->vendor_dir);
        g_free(s->log_file);
        g_free(s->state_dir);
        g_free(s->metrics_file);
        g_free(s->caller_arg);
        g_free(s->root);
        if (s->hooks)
                g_hash_table_unref(s->hooks);
        memset(s, 0, sizeof *s);
}

static void replace_str(char **dst, const char *src) {
        g_free(*dst);
        *dst = g_strdup(src);
}

static void apply_hooks(struct fh_settings *s, GHashTable *hooks) {
        GHashTableIter it;
        gpointer key, value;

        g_hash_table_iter_init(&it, hooks);
        while (g_hash_table_iter_next(&it, &key, &value)) {
                const struct fh_hook_settings *in = value;
                struct fh_hook_settings *out = g_hash_table_lookup(s->hooks, key);

                if (!out) {
                        out = g_new(struct fh_hook_settings, 1);
                        *out = (struct fh_hook_settings) { .timeout_msec = -1, .enabled = -1 };
                        g_hash_table_insert(s->hooks, g_strdup(key), out);
                }
                if (in->timeout_msec >= 0)
                        out->timeout_msec = in->timeout_msec;
                if (in->enabled >= 0)
                        out->enabled = in->enabled;
        }
}

void fh_settings_apply(struct fh_settings *s, const struct fh_layer *l) {
        if (l->hook_dirs) {
                g_strfreev(s->hook_dirs);
                s->hook_dirs = g_strdupv(l->hook_dirs);
                /* Configured directories are all expected to exist. */
                g_clear_pointer(&s->vendor_dir, g_free);
        }
        if (l->log_file_set)
                replace_str(&s->log_file, l->log_file && *l->log_file ? l->log_file : NULL);
        if (l->journal >= 0)
                s->journal = l->journal;
        if (l->timeout_msec >= 0)
                s->timeout_msec = l->timeout_msec;
        if (l->thaw_timeout_msec >= 0)
                s->thaw_timeout_msec = l->thaw_timeout_msec;
        if (l->kill_grace_msec >= 0)
                s->kill_grace_msec = l->kill_grace_msec;
        if (l->max_output >= 0)
                s->max_output = (uint64_t) l->max_output;
        if (l->on_failure >= 0)
                s->on_failure = l->on_failure;
        if (l->state_dir)
                replace_str(&s->state_dir, l->state_dir);
        if (l->strict_modes >= 0)
                s->strict_modes = l->strict_modes;
        if (l->freeze_deadline_msec >= 0)
                s->freeze_deadline_msec = l->freeze_deadline_msec;
        if (l->metrics_file)
                replace_str(&s->metrics_file, *l->metrics_file ? l->metrics_file : NULL);
        if (l->hooks)
                apply_hooks(s, l->hooks);
        if (l->platform_scripts >= 0)
                s->platform_scripts = (unsigned) l->platform_scripts;
}

int64_t fh_settings_timeout(const struct fh_settings *s, const char *name, bool freeze) {
        const struct fh_hook_settings *h = g_hash_table_lookup(s->hooks, name);

        if (h && h->timeout_msec >= 0)
                return h->timeout_msec;
        /* Unset in every layer, the thaw follows the freeze timeout of
         * whichever layer set that one (-t 1 means 1 s for a thaw too). */
        if (freeze || s->thaw_timeout_msec < 0)
                return s->timeout_msec;
        return s->thaw_timeout_msec;
}

bool fh_settings_enabled(const struct fh_settings *s, const char *name) {
        const struct fh_hook_settings *h = g_hash_table_lookup(s->hooks, name);

        return !h || h->enabled != 0;
}
