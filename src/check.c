/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "env.h"
#include "escape.h"
#include "foreign.h"
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
        g_autofree char *program = NULL, *env_name = NULL;

        if (!fh_shebang_parse(head, len, &program, &env_name))
                return NULL;
        /* "": env with options the policy does not follow (it refuses the
         * hook); env itself is what the line names. */
        if (env_name && *env_name) {
                *ret_interp = g_steal_pointer(&env_name);
                return find_in_path(*ret_interp, search_path);
        }
        *ret_interp = g_strdup(program);
        return g_steal_pointer(&program);
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

/* Opens the shell 'program' to run it for a syntax check: only if the
 * trust policy accepts it, as it would a hook, and only a binary: a
 * script's own interpreter would be one more program to judge. */
static int open_shell(struct fh_trust *trust, const char *program, struct fh_exec_file *ret) {
        g_autofree char *problem = NULL;
        struct stat st;
        int fd, r;

        r = fh_trust_open(trust, program, O_RDONLY | O_NONBLOCK, &fd, &st, &problem);
        if (r < 0)
                return r;
        if (problem) {
                close(fd);
                return -EPERM;
        }
        r = fh_exec_file_adopt(fd, ret);
        if (r == 0 && ret->is_script) {
                fh_exec_file_close(ret);
                return -ENOEXEC;
        }
        return r;
}

/* Runs 'shell' on the hook's descriptor as its stdin (no name of the hook
 * is handed over) and returns what it said on stderr, or NULL if it found
 * nothing. The output is read to its end, at most 4 KiB of it kept. */
static char *run_syntax_check(struct fh_exec_file *shell, char **argv, int hook_fd) {
        static char *const envp[] = { "PATH=" FH_DEFAULT_PATH, "LC_ALL=C", NULL };
        g_autoptr(GString) err = g_string_new(NULL);
        int pipefd[2], devnull, status = 0;
        char buf[4096];
        ssize_t n;
        pid_t pid;

        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
                if (devnull >= 0)
                        close(devnull);
                return NULL;
        }
        if (fh_spawn(&(struct fh_spawn_request) {
                .file = shell, .argv = argv, .envp = envp,
                .stdin_fd = hook_fd, .stdout_fd = devnull, .stderr_fd = pipefd[1],
        }, &pid) < 0)
                pid = -1;
        close(pipefd[1]);
        close(devnull);
        while ((n = read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0 && err->len < sizeof buf)
                        g_string_append_len(err, buf, MIN((gsize) n, sizeof buf - err->len));
        close(pipefd[0]);
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
                return NULL;
        return g_string_free(g_steal_pointer(&err), FALSE);
}

/* sh -n, bash -n...: a syntax check that runs nothing, by a shell that
 * the trust policy accepts. */
static void check_shell_syntax(struct report *r, struct fh_trust *trust, const char *path, int hook_fd,
                               const char *head, size_t len) {
        static const char *const shells[] = { "sh", "dash", "bash", "ksh", "mksh", "zsh", "busybox", NULL };
        g_autofree char *interp = NULL, *program = shebang_program(head, len, &interp, FH_DEFAULT_PATH);
        g_autofree char *base = program ? g_path_get_basename(program) : NULL;
        g_autofree char *err = NULL, *shown = NULL, *msg = NULL;
        char *argv[] = { program, "-n", NULL };
        char *bb_argv[] = { program, "sh", "-n", NULL };
        struct fh_exec_file shell = { .fd = -1 };

        if (!base || !g_strv_contains(shells, base) || open_shell(trust, program, &shell) < 0)
                return;
        err = run_syntax_check(&shell, strcmp(base, "busybox") == 0 ? bb_argv : argv, hook_fd);
        fh_exec_file_close(&shell);
        if (!err)
                return;
        shown = fh_escape_dup(path);
        g_strstrip(err);
        msg = fh_escape_dup(err);
        problem(r, "%s: %s -n finds a syntax error: %s (fix: correct the script; %s is what runs it)", shown, base,
                msg, program);
}

/* Whether the hook passes the trust policy, said as a problem (strict
 * modes) or a note. 'problem_text' is what the policy found wrong with the
 * hook or its #! interpreter, or NULL. */
static bool check_trust(struct report *r, const char *shown, const char *problem_text, bool strict) {
        if (!problem_text)
                return true;
        if (strict)
                problem(r, "%s: refused by the trust policy: %s", shown, problem_text);
        else
                fprintf(r->out, "note: %s runs although it is not trusted (strict modes are off): %s\n", shown,
                        problem_text);
        return false;
}

/* A hook the plan runs: judged by the trust policy, then linted. A hook
 * that is not trusted is linted by reading it only: no shell ever runs
 * on it. Returns whether it would run. */
static bool check_runnable(struct report *r, const struct fh_plan_item *item, struct fh_trust *trust, bool strict) {
        g_autofree char *shown = fh_escape_dup(item->path), *problem_text = NULL, *lint = NULL;
        struct fh_foreign_exec e = { .file = { .fd = -1 }, .script = { .fd = -1 } };
        struct fh_exec_file *file = &e.file;
        bool trusted;
        char head[HEAD_SIZE];
        ssize_t len;
        int ret;

        /* Not strict here: a hook that is not trusted is still opened, to
         * be linted by reading it. */
        ret = fh_foreign_open(trust, item, FH_FOREIGN_FREEZE, false, NULL, &e, &problem_text);
        if (ret == -EPERM) {
                problem(r, "%s: refused by the trust policy: %s", shown, problem_text);
                return false;
        }
        if (ret < 0) {
                g_autofree char *why = fh_foreign_open_failure(item, ret);

                problem(r, "%s: %s", shown, why);
                return false;
        }
        trusted = check_trust(r, shown, problem_text, strict);
        /* Another platform's script that a shell reads (Azure's, VMware's
         * without #!): no #! to lint. */
        len = e.script.fd >= 0 ? -1 : pread(file->fd, head, sizeof head, 0);
        if (len >= 0)
                lint = fh_check_interpreter(item->path, head, (size_t) len, FH_DEFAULT_PATH);
        if (lint)
                problem(r, "%s", lint);
        else if (len >= 0 && trusted)
                check_shell_syntax(r, trust, item->path, file->fd, head, (size_t) len);
        fh_foreign_exec_done(&e);
        return trusted || !strict;
}

/* The fix for an entry that will be skipped; NULL for skips on purpose. */
static const char *skip_fix(const struct fh_plan_item *item) {
        /* Another platform's configuration that cannot be used (Azure's
         * JSON): a script that was meant to run does not. */
        if (item->platform >= 0 && item->notable && item->verdict == FH_VERDICT_DISABLED)
                return "correct that file, or leave the platform out of platform-scripts=";
        switch (item->verdict) {
        case FH_VERDICT_NOT_EXECUTABLE:
                return "chmod +x it, or move it out of the hook directory";
        case FH_VERDICT_LEFTOVER:
                return "remove it, or rename it if it should run";
        case FH_VERDICT_BROKEN_SYMLINK:
        case FH_VERDICT_SYMLINK_LOOP:
                return "remove the symlink, or point it at the hook";
        case FH_VERDICT_REFUSED:
                return "see the trust problem it names, or that of its directory";
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

/* Other platforms' scripts that platform-scripts= leaves out: a note, not
 * a problem (running them is a choice). */
static void check_not_enabled(FILE *out, const struct fh_plan *plan) {
        for (guint k = 0; plan->not_enabled && k < plan->not_enabled->len; k++)
                fprintf(out, "note: %s\n", (const char *) plan->not_enabled->pdata[k]);
}

/* The other platforms' entry points (--attach): one that is partly there
 * is a problem (its agent would run half a pair); the rest is said. */
static void check_platforms(struct report *r, const struct fh_settings *s) {
        for (int p = 0; p < _FH_PLATFORM_MAX; p++) {
                enum fh_attach_state state;
                g_autofree char *line = fh_attach_describe(s->root, p, &state);

                if (state == FH_ATTACH_PARTIAL)
                        problem(r, "platform %s", line);
                else
                        fprintf(r->out, "platform %s\n", line);
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
                const char *why = fh_dir_scan_error(d);

                if (d->error == -ENOENT)
                        fprintf(out, "note: hook directory %s %s\n", dir, why);
                else if (why)
                        problem(&r, "%s: cannot be read: %s", dir, why);
        }
        for (guint k = 0; k < plan->dir_problems->len; k++)
                problem(&r, "%s", (const char *) plan->dir_problems->pdata[k]);

        for (guint k = 0; k < plan->items->len; k++) {
                const struct fh_plan_item *item = plan->items->pdata[k];
                g_autofree char *shown = fh_escape_dup(item->path);
                const char *fix;

                if (item->run) {
                        n_hooks += check_runnable(&r, item, trust, s->strict_modes);
                        continue;
                }
                fix = skip_fix(item);
                if (fix)
                        problem(&r, "%s: will be skipped: %s (fix: %s)", shown, item->why, fix);
                else
                        fprintf(out, "note: %s will be skipped: %s\n", shown, item->why);
        }
        check_hook_groups(&r, s, plan, config_path);
        check_not_enabled(out, plan);
        check_platforms(&r, s);

        if (r.problems)
                fprintf(out, "%u problem%s found; %u hook%s would run\n", r.problems, r.problems == 1 ? "" : "s",
                        n_hooks, n_hooks == 1 ? "" : "s");
        else
                fprintf(out, "No problems found; %u hook%s would run\n", n_hooks, n_hooks == 1 ? "" : "s");
        return r.problems ? 1 : 0;
}
