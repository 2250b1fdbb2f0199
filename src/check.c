/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "env.h"
#include "escape.h"
#include "plan.h"
#include "spawn.h"
#include "trust.h"

/* Enough to find a #! line, and CRLF endings early in a script. */
#define HEAD_SIZE (64 * 1024)

struct report {
        FILE *out;
        unsigned problems;
};

static void problem(struct report *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void problem(struct report *r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(r->out, fmt, ap);
        va_end(ap);
        fputc('\n', r->out);
        r->problems++;
}

static bool is_executable_file(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* 'name' looked up in 'search_path' as execvp would. */
static char *find_in_path(const char *name, const char *search_path) {
        g_auto(GStrv) dirs = g_strsplit(search_path, ":", -1);

        for (char **d = dirs; *d; d++) {
                g_autofree char *p = g_build_filename(**d ? *d : ".", name, NULL);
                if (is_executable_file(p))
                        return g_steal_pointer(&p);
        }
        return NULL;
}

/* The program a #! line runs: the interpreter, or for "/usr/bin/env NAME"
 * the NAME it finds in 'search_path'. NULL if there is no #! line or the
 * program is not found. *ret_interp: what the line names (NAME for env). */
static char *shebang_program(const char *head, size_t len, char **ret_interp, const char *search_path) {
        const char *nl = memchr(head, '\n', len);
        g_autofree char *line = NULL;
        g_auto(GStrv) words = NULL;

        if (len < 2 || head[0] != '#' || head[1] != '!')
                return NULL;
        line = g_strndup(head + 2, (gsize) ((nl ? nl : head + len) - head - 2));
        words = g_strsplit_set(g_strstrip(line), " \t", -1);
        if (!words[0] || !*words[0])
                return NULL;    /* a bare "#!" names nothing */
        if (g_str_has_suffix(words[0], "/env")) {
                /* env's own options (-S, -i, -u NAME...) come first. */
                char **w = words + 1;

                while (*w && (**w == '-' || !**w)) {
                        if (strcmp(*w, "-u") == 0 && w[1])
                                w++;
                        w++;
                }
                if (*w) {
                        *ret_interp = g_strdup(*w);
                        return find_in_path(*w, search_path);
                }
        }
        *ret_interp = g_strdup(words[0]);
        return g_strdup(words[0]);
}

char *fh_check_interpreter(const char *path, const char *head, size_t len, const char *search_path) {
        g_autofree char *shown = fh_escape_dup(path);
        g_autofree char *interp = NULL, *program = NULL, *first = NULL;
        const char *nl;

        if (len >= 4 && memcmp(head, "\177ELF", 4) == 0)
                return NULL;
        if (len < 2 || head[0] != '#' || head[1] != '!')
                return g_strdup_printf("%s: no #! line, and not a binary: it cannot be executed (fix: make "
                                       "'#!/bin/sh' its first line)", shown);
        nl = memchr(head, '\n', len);
        first = g_strndup(head, (gsize) ((nl ? nl : head + len) - head));
        if (strchr(first, '\r'))
                return g_strdup_printf("%s: CRLF (Windows) line endings: the #! interpreter is looked up with a "
                                       "carriage return in its name and the hook never runs (fix: sed -i "
                                       "'s/\\r$//' %s)", shown, shown);
        program = shebang_program(head, len, &interp, search_path);
        if (!interp) {
                return g_strdup_printf("%s: its #! line names no interpreter (fix: e.g. #!/bin/sh)", shown);
        }
        if (interp[0] != '/' && !strstr(first, "/env")) {
                g_autofree char *i = fh_escape_dup(interp);
                return g_strdup_printf("%s: #! interpreter '%s' is not an absolute path (fix: e.g. #!/bin/sh)", shown,
                                       i);
        }
        if (!program || !is_executable_file(program)) {
                g_autofree char *i = fh_escape_dup(interp);
                return g_strdup_printf("%s: #! interpreter '%s' not found or not executable (fix: install it, or "
                                       "correct the #! line)", shown, i);
        }
        if (memmem(head, len, "\r\n", 2))
                return g_strdup_printf("%s: CRLF (Windows) line endings: the shell sees a carriage return at the end "
                                       "of every command (fix: sed -i 's/\\r$//' %s)", shown, shown);
        return NULL;
}

/* sh -n, bash -n...: a syntax check that runs nothing. */
static void check_shell_syntax(struct report *r, const char *path, const char *head, size_t len) {
        static const char *const shells[] = { "sh", "dash", "bash", "ksh", "mksh", "zsh", "busybox", NULL };
        g_autofree char *interp = NULL, *program = shebang_program(head, len, &interp, FH_DEFAULT_PATH);
        g_autofree char *base = program ? g_path_get_basename(program) : NULL;
        g_autofree char *err = NULL, *shown = NULL;
        char *argv[] = { program, "-n", (char *) path, NULL };
        char *bb_argv[] = { program, "sh", "-n", (char *) path, NULL };
        int status = 0;

        if (!base || !g_strv_contains(shells, base))
                return;
        if (!g_spawn_sync(NULL, strcmp(base, "busybox") == 0 ? bb_argv : argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                          NULL, NULL, &err, &status, NULL))
                return;
        /* g_spawn_check_wait_status() is GLib 2.70: RHEL 9 has 2.68. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return;
        shown = fh_escape_dup(path);
        g_strstrip(err);
        {
                g_autofree char *msg = fh_escape_dup(err);
                problem(r, "%s: %s -n finds a syntax error: %s (fix: correct the script; %s is what runs it)", shown,
                        base, msg, program);
        }
}

static void check_runnable(struct report *r, const struct fh_plan_item *item, struct fh_trust *trust, bool strict) {
        g_autofree char *shown = fh_escape_dup(item->path);
        g_autofree char *problem_text = NULL, *lint = NULL;
        struct fh_exec_file file = { .fd = -1 };
        char head[HEAD_SIZE];
        ssize_t len;
        int ret;

        ret = fh_exec_file_open(item->path, &file);
        if (ret < 0) {
                problem(r, "%s: cannot be opened: %s", shown, g_strerror(-ret));
                return;
        }
        if (fh_trust_check_file(trust, file.fd, &file.st, item->path, &problem_text) < 0) {
                if (strict)
                        problem(r, "%s: refused by the trust policy: %s", shown, problem_text);
                else
                        fprintf(r->out, "note: %s runs although it is not trusted (strict modes are off): %s\n", shown,
                                problem_text);
        }
        len = pread(file.fd, head, sizeof head, 0);
        fh_exec_file_close(&file);
        if (len < 0) {
                /* Execute-only binary: nothing more to look at. */
                return;
        }
        lint = fh_check_interpreter(item->path, head, (size_t) len, FH_DEFAULT_PATH);
        if (lint) {
                problem(r, "%s", lint);
                return;
        }
        check_shell_syntax(r, item->path, head, (size_t) len);
}

/* The fix for an entry that will be skipped; NULL for skips on purpose. */
static const char *skip_fix(const struct fh_plan_item *item) {
        switch (item->verdict) {
        case FH_VERDICT_NOT_EXECUTABLE:
                return "chmod +x it, or move it out of the hook directory";
        case FH_VERDICT_LEFTOVER:
                return "remove it, or rename it if it should run";
        case FH_VERDICT_BROKEN_SYMLINK:
        case FH_VERDICT_SYMLINK_LOOP:
                return "remove the symlink, or point it at the hook";
        case FH_VERDICT_REFUSED:
                return "see the hook directory's trust problem";
        case FH_VERDICT_DOTFILE:
        case FH_VERDICT_MASKED:
        case FH_VERDICT_DISABLED:
        case FH_VERDICT_RUN:
                return NULL;
        default:
                return "move it out of the hook directory";
        }
}

static void check_hook_groups(struct report *r, const struct fh_settings *s, const struct fh_plan *plan,
                              const char *config_path) {
        g_autofree char *conf = fh_escape_dup(config_path);
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, s->hooks);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                bool found = false;

                for (guint k = 0; k < plan->items->len && !found; k++)
                        found = strcmp(((struct fh_plan_item *) plan->items->pdata[k])->name, key) == 0;
                if (!found) {
                        g_autofree char *name = fh_escape_dup(key);
                        problem(r, "%s: [hook %s] names no hook in the hook directories (fix: correct the name, or "
                                "remove the group)", conf, name);
                }
        }
}

int fh_check(FILE *out, const struct fh_settings *s, const char *config_path, GPtrArray *config_warnings) {
        struct report r = { .out = out };
        g_autoptr(fh_trust) trust = fh_trust_new(0);
        g_autoptr(fh_plan) plan = fh_plan_build(FH_PHASE_FREEZE, s, trust, NULL);
        unsigned n_hooks = 0;

        for (guint k = 0; k < config_warnings->len; k++)
                problem(&r, "%s (fix: correct or remove that line; see fsfreeze-hook.conf(5))",
                        (const char *) config_warnings->pdata[k]);
        for (guint k = 0; k < plan->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(plan->dirs, struct fh_dir_scan, k);
                g_autofree char *dir = fh_escape_dup(d->dir);

                if (d->error == -ENOENT)
                        fprintf(out, "note: hook directory %s does not exist\n", dir);
                else if (d->error < 0)
                        problem(&r, "%s: cannot be read: %s", dir, g_strerror(-d->error));
        }
        for (guint k = 0; k < plan->dir_problems->len; k++)
                problem(&r, "%s", (const char *) plan->dir_problems->pdata[k]);

        for (guint k = 0; k < plan->items->len; k++) {
                const struct fh_plan_item *item = plan->items->pdata[k];
                g_autofree char *shown = fh_escape_dup(item->path);
                const char *fix;

                if (item->run) {
                        n_hooks++;
                        check_runnable(&r, item, trust, s->strict_modes);
                        continue;
                }
                fix = skip_fix(item);
                if (fix)
                        problem(&r, "%s: will be skipped: %s (fix: %s)", shown, item->why, fix);
                else
                        fprintf(out, "note: %s will be skipped: %s\n", shown, item->why);
        }
        check_hook_groups(&r, s, plan, config_path);

        if (r.problems)
                fprintf(out, "%u problem%s found; %u hook%s would run\n", r.problems, r.problems == 1 ? "" : "s",
                        n_hooks, n_hooks == 1 ? "" : "s");
        else
                fprintf(out, "No problems found; %u hook%s would run\n", n_hooks, n_hooks == 1 ? "" : "s");
        return r.problems ? 1 : 0;
}
