/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "env.h"

/* The variables are a plain NULL-terminated strv, so GLib's g_environ_*()
 * (all since 2.32) do the finding, replacing and removing. */

struct fh_env *fh_env_new(char *const *envp) {
        struct fh_env *env = g_new0(struct fh_env, 1);
        const char *path;

        /* execve() needs an array even when the caller gave none. */
        env->vars = envp ? g_strdupv((char **) envp) : g_new0(char *, 1);

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
        g_strfreev(env->vars);
        g_free(env);
}

void fh_env_set(struct fh_env *env, const char *name, const char *value) {
        env->vars = g_environ_setenv(env->vars, name, value, TRUE);
}

void fh_env_unset(struct fh_env *env, const char *name) {
        env->vars = g_environ_unsetenv(env->vars, name);
}

const char *fh_env_get(const struct fh_env *env, const char *name) {
        return g_environ_getenv(env->vars, name);
}

char *const *fh_env_strv(const struct fh_env *env) {
        return env->vars;
}
