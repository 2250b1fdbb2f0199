/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "env.h"

static gint find_var(const struct fh_env *env, const char *name) {
        size_t n = strlen(name);

        for (guint i = 0; i + 1 < env->vars->len; i++) {
                const char *v = env->vars->pdata[i];
                if (strncmp(v, name, n) == 0 && v[n] == '=')
                        return (gint) i;
        }
        return -1;
}

struct fh_env *fh_env_new(char *const *envp) {
        struct fh_env *env = g_new0(struct fh_env, 1);
        const char *path;

        env->vars = g_ptr_array_new_with_free_func(g_free);
        for (char *const *e = envp; e && *e; e++)
                g_ptr_array_add(env->vars, g_strdup(*e));
        g_ptr_array_add(env->vars, NULL);

        /* Under systemd qemu-ga has a minimal PATH; started some other way
         * it may have none, and then hooks calling "mysql" would fail. */
        path = fh_env_get(env, "PATH");
        if (!path || !*path)
                fh_env_set(env, "PATH", FH_DEFAULT_PATH);
        return env;
}

void fh_env_free(struct fh_env *env) {
        if (!env)
                return;
        g_ptr_array_unref(env->vars);
        g_free(env);
}

void fh_env_set(struct fh_env *env, const char *name, const char *value) {
        gint i = find_var(env, name);
        char *var = g_strconcat(name, "=", value, NULL);

        if (i >= 0) {
                g_free(env->vars->pdata[i]);
                env->vars->pdata[i] = var;
                return;
        }
        /* Keep the terminating NULL last. */
        env->vars->pdata[env->vars->len - 1] = var;
        g_ptr_array_add(env->vars, NULL);
}

void fh_env_unset(struct fh_env *env, const char *name) {
        gint i = find_var(env, name);

        if (i >= 0)
                g_ptr_array_remove_index(env->vars, (guint) i);
}

const char *fh_env_get(const struct fh_env *env, const char *name) {
        gint i = find_var(env, name);

        if (i < 0)
                return NULL;
        return (const char *) env->vars->pdata[i] + strlen(name) + 1;
}

char *const *fh_env_strv(const struct fh_env *env) {
        return (char *const *) env->vars->pdata;
}
