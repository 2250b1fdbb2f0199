/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "dispatch.h"
#include "escape.h"
#include "parse.h"
#include "scan.h"
#include "spawn.h"
#include "supervise.h"
#include "timeutil.h"

/* What the observer callbacks need while one hook runs. */
struct capture {
        struct fh_log *log;
        uint64_t max_output;
        uint64_t logged;        /* bytes of output written to the log */
        uint64_t dropped;       /* bytes read past the limit */
};

static void on_output(void *userdata, enum fh_stream stream, const char *line, size_t len, bool continued) {
        struct capture *c = userdata;

        /* Past the limit the output is still read, so the hook never blocks
         * on a full pipe, but only counted. Whole lines or none. */
        if (c->dropped > 0 || (c->max_output > 0 && c->logged + len > c->max_output)) {
                c->dropped += len + 1;
                return;
        }
        c->logged += len + 1;
        fh_log_hook_output(c->log, stream, line, len, continued);
}

static void on_idle(void *userdata) {
        struct capture *c = userdata;

        fh_log_flush(c->log);
}

/* A termination signal that arrived while no hook was running. SIGCHLD
 * from a hook abandoned earlier is consumed and ignored. */
static int pending_interrupt(int signal_fd) {
        struct signalfd_siginfo ssi;

        while (read(signal_fd, &ssi, sizeof ssi) == sizeof ssi)
                if (ssi.ssi_signo != SIGCHLD)
                        return (int) ssi.ssi_signo;
        return 0;
}

/* The trust policy on the opened file. Returns false if it must not run. */
static bool trusted(const struct fh_dispatch_options *o, const struct fh_hook *hook,
                    const struct fh_exec_file *file, struct fh_log *log) {
        g_autofree char *problem = NULL, *reason = NULL;

        if (!o->trust || fh_trust_check_file(o->trust, file->fd, &file->st, hook->path, &problem) == 0)
                return true;
        if (!o->strict_modes) {
                g_autofree char *path = fh_escape_dup(hook->path);
                fh_log_message(log, LOG_WARNING, "untrusted", "%s runs although it is not trusted: %s (strict "
                               "modes are off)", path, problem);
                return true;
        }
        reason = g_strdup_printf("refused: %s", problem);
        fh_log_hook_not_run(log, hook->path, LOG_ERR, reason);
        return false;
}

static void log_dropped(struct fh_log *log, const struct capture *c) {
        char limit[32];

        fh_format_size(c->max_output, limit, sizeof limit);
        fh_log_message(log, LOG_WARNING, "output-dropped",
                       "output over the limit of %s: %" G_GUINT64_FORMAT " more bytes read and not logged "
                       "(see --max-output)", limit, c->dropped);
}

/* Runs one hook. Returns false if it was refused by the trust policy. */
static bool run_one(const struct fh_dispatch_options *o, const struct fh_hook *hook, struct fh_log *log,
                    struct fh_result *ret) {
        const char *phase = fh_phase_to_string(o->phase);
        struct fh_exec_file file = { .fd = -1 };
        char *argv[] = { hook->path, (char *) phase, NULL };
        struct capture capture = { .log = log, .max_output = o->max_output };
        const struct fh_run_observer obs = { .output = on_output, .idle = on_idle, .userdata = &capture };
        g_autofree char *reason = NULL;
        int r;

        *ret = (struct fh_result) { .exit_status = -1 };
        r = fh_exec_file_open(hook->path, &file);
        if (r < 0) {
                /* Changed since the scan: removed, replaced, chmod'ed. */
                ret->error = r;
                reason = g_strdup_printf("cannot open it: %s", g_strerror(-r));
                fh_log_hook_not_run(log, hook->path, LOG_ERR, reason);
                return true;
        }
        if (!trusted(o, hook, &file, log)) {
                fh_exec_file_close(&file);
                return false;
        }

        /* Scripts see /dev/fd/3 as $0 (they are executed from the checked
         * descriptor), so tell them where they really are. */
        fh_env_set(o->env, "FSFREEZE_HOOK", hook->path);
        fh_log_hook_start(log, hook->path, hook->name);
        fh_run_hook(&(struct fh_run_request) {
                .file = &file,
                .argv = argv,
                .envp = fh_env_strv(o->env),
                .devnull_fd = o->devnull_fd,
                .signal_fd = o->signal_fd,
                .timeout_usec = o->timeout_usec,
                .kill_grace_usec = o->kill_grace_usec,
        }, &obs, ret);
        fh_exec_file_close(&file);

        if (capture.dropped > 0)
                log_dropped(log, &capture);
        if (ret->error < 0) {
                reason = g_strdup_printf("cannot %s: %s", ret->failed_step, g_strerror(-ret->error));
                fh_log_hook_not_run(log, hook->path, LOG_ERR, reason);
        } else
                fh_log_hook_finished(log, ret);
        return true;
}

static void log_skip(struct fh_log *log, const struct fh_hook *hook) {
        g_autofree char *why = fh_hook_describe_skip(hook);
        g_autofree char *path = fh_escape_dup(hook->path);

        fh_log_message(log, hook->verdict == FH_VERDICT_NOT_EXECUTABLE ? LOG_NOTICE : LOG_WARNING, "skip",
                       "skip %s: %s", path, why);
}

static int scan(const struct fh_dispatch_options *o, struct fh_log *log, GPtrArray **ret_hooks) {
        g_autofree char *dir = fh_escape_dup(o->hooks_dir);
        int r = fh_scan_dir(o->hooks_dir, ret_hooks);

        if (r == -ENOENT)
                fh_log_message(log, LOG_INFO, "no-hook-dir", "hook directory %s does not exist: no hooks to run", dir);
        else if (r < 0)
                fh_log_message(log, LOG_WARNING, "hook-dir-error", "cannot read hook directory %s: %s: no hooks run",
                               dir, g_strerror(-r));
        else if (o->phase == FH_PHASE_THAW)
                fh_hooks_reverse(*ret_hooks);
        return r;
}

/* A hook directory that others can write to runs nothing: any of its
 * entries could have been planted. Returns false if nothing may run. */
static bool dir_trusted(const struct fh_dispatch_options *o, struct fh_log *log) {
        g_autofree char *problem = NULL, *dir = NULL;

        if (!o->trust || fh_trust_check_dir(o->trust, o->hooks_dir, &problem) == 0)
                return true;
        dir = fh_escape_dup(o->hooks_dir);
        if (!o->strict_modes) {
                fh_log_message(log, LOG_WARNING, "untrusted", "hook directory %s is not trusted: %s; running its "
                               "hooks anyway (strict modes are off)", dir, problem);
                return true;
        }
        fh_log_message(log, LOG_ERR, "untrusted", "hook directory %s is not trusted: %s: no hooks run", dir, problem);
        return false;
}

static void log_summary(const struct fh_dispatch_options *o, struct fh_log *log, const struct fh_dispatch_summary *s,
                        int64_t start) {
        const char *phase = fh_phase_to_string(o->phase);
        g_autofree char *refused = s->n_refused ? g_strdup_printf(", %u refused", s->n_refused) : g_strdup("");
        int64_t end = start;
        char took[32], sig[32];

        (void) fh_now_monotonic_usec(&end);
        fh_format_duration(end - start, took, sizeof took);
        if (s->interrupted_by) {
                fh_signal_name(s->interrupted_by, sig, sizeof sig);
                fh_log_message(log, LOG_ERR, "interrupted", "%s: interrupted by %s: %u run, %u failed%s, %u not run",
                               phase, sig, s->n_run, s->n_failed, refused, s->n_not_run);
        } else
                fh_log_message(log, s->n_failed || s->n_refused ? LOG_WARNING : LOG_INFO, "done",
                               "%s: done in %s: %u run, %u failed%s", phase, took, s->n_run, s->n_failed, refused);
}

void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret) {
        g_autoptr(GPtrArray) hooks = NULL;
        g_autofree char *dir = fh_escape_dup(o->hooks_dir);
        int64_t start = 0;

        *ret = (struct fh_dispatch_summary) { 0 };
        fh_log_set_phase(log, o->phase);
        (void) fh_now_monotonic_usec(&start);
        if (scan(o, log, &hooks) < 0 || !dir_trusted(o, log))
                return;

        fh_log_message(log, LOG_INFO, "start", "%s: running hooks from %s", fh_phase_to_string(o->phase), dir);
        for (guint i = 0; i < hooks->len; i++) {
                const struct fh_hook *hook = hooks->pdata[i];
                struct fh_result result;

                if (hook->verdict != FH_VERDICT_RUN) {
                        if (fh_verdict_is_notable(hook->verdict))
                                log_skip(log, hook);
                        continue;
                }
                if (ret->interrupted_by || (ret->interrupted_by = pending_interrupt(o->signal_fd))) {
                        ret->n_not_run++;
                        continue;
                }
                if (!run_one(o, hook, log, &result)) {
                        ret->n_refused++;
                        continue;
                }
                ret->n_run++;
                if (fh_result_failed(&result))
                        ret->n_failed++;
                if (result.interrupted_by)
                        ret->interrupted_by = result.interrupted_by;
        }
        log_summary(o, log, ret, start);
}

/* What the dry run says about a runnable entry under the trust policy:
 * NULL if it would run. */
static char *plan_refusal(const struct fh_dispatch_options *o, const struct fh_hook *hook, const char *dir_problem) {
        struct fh_exec_file file = { .fd = -1 };
        g_autofree char *problem = NULL;
        int r;

        if (dir_problem)
                return g_strdup_printf("refused: %s", dir_problem);
        if (!o->trust)
                return NULL;
        r = fh_exec_file_open(hook->path, &file);
        if (r < 0)
                return g_strdup_printf("cannot open it: %s", g_strerror(-r));
        r = fh_trust_check_file(o->trust, file.fd, &file.st, hook->path, &problem);
        fh_exec_file_close(&file);
        if (r == 0)
                return NULL;
        if (!o->strict_modes)
                return NULL;
        return g_strdup_printf("refused: %s", problem);
}

void fh_print_plan(FILE *out, const struct fh_dispatch_options *o) {
        g_autoptr(GPtrArray) hooks = NULL;
        g_autofree char *dir = fh_escape_dup(o->hooks_dir);
        g_autofree char *dir_problem = NULL;
        const char *phase = fh_phase_to_string(o->phase);
        int r = fh_scan_dir(o->hooks_dir, &hooks);

        if (r < 0) {
                fprintf(out, "%s: hook directory %s %s: nothing would run\n", phase, dir,
                        r == -ENOENT ? "does not exist" : g_strerror(-r));
                return;
        }
        if (o->phase == FH_PHASE_THAW)
                fh_hooks_reverse(hooks);
        if (o->trust && o->strict_modes && fh_trust_check_dir(o->trust, o->hooks_dir, &dir_problem) < 0)
                fprintf(out, "%s: hook directory %s is not trusted: %s: nothing would run\n", phase, dir, dir_problem);

        fprintf(out, "%s: hooks in %s, in run order (dry run: nothing is executed)\n", phase, dir);
        for (guint i = 0; i < hooks->len; i++) {
                const struct fh_hook *hook = hooks->pdata[i];
                g_autofree char *name = fh_escape_dup(hook->name);
                g_autofree char *why = NULL;

                if (hook->verdict != FH_VERDICT_RUN)
                        why = fh_hook_describe_skip(hook);
                else
                        why = plan_refusal(o, hook, dir_problem);
                if (why)
                        fprintf(out, "skip  %s: %s\n", name, why);
                else
                        fprintf(out, "run   %s\n", name);
        }
}
