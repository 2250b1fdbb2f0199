/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* The environment every hook gets: the caller's own (qemu-ga's), plus a
 * sane PATH when there is none, plus variables describing the run. Built
 * once per dispatch; only the per-hook variables change between hooks. */
struct fh_env {
        char **vars;            /* NULL-terminated "NAME=value" strings */
};

#define FH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Copies envp; adds PATH=FH_DEFAULT_PATH when envp has no PATH or an empty one. */
struct fh_env *fh_env_new(char *const *envp);
void fh_env_free(struct fh_env *env);
typedef struct fh_env fh_env;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_env, fh_env_free)

/* Sets or replaces NAME=value. */
void fh_env_set(struct fh_env *env, const char *name, const char *value);

/* Removes NAME, every copy of it if the caller passed duplicates. */
void fh_env_unset(struct fh_env *env, const char *name);

/* Value of NAME, or NULL. */
const char *fh_env_get(const struct fh_env *env, const char *name);

/* The NULL-terminated array for execve(). Valid until the next fh_env_set()
 * or fh_env_unset(). */
char *const *fh_env_strv(const struct fh_env *env);
