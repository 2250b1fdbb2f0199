/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "dispatch.h"
#include "escape.h"
#include "scan.h"
#include "spawn.h"
#include "supervise.h"
#include "timeutil.h"

static void on_output(void *userdata, enum fh_stream stream, const char *line, size_t len, bool continued) {
        fh_log_hook_output(userdata, stream, line, len, continued);
}

static void on_idle(void *userdata) {
        fh_log_flush(userdata);
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

static void run_one(const struct fh_dispatch_options *o, const struct fh_hook *hook, struct fh_log *log,
                    struct fh_result *ret) {
        const char *phase = fh_phase_to_string(o->phase);
        struct fh_exec_file file = { .fd = -1 };
        char *argv[] = { hook->path, (char *) phase, NULL };
        const struct fh_run_observer obs = { .output = on_output, .idle = on_idle, .userdata = log };
        g_autofree char *reason = NULL;
        int r;

        *ret = (struct fh_result) { .exit_status = -1 };
        r = fh_exec_file_open(hook->path, &file);
        if (r < 0) {
                /* Changed since the scan: removed, replaced, chmod'ed. */
                ret->error = r;
                reason = g_strdup_printf("cannot open it: %s", g_strerror(-r));
                fh_log_hook_not_run(log, hook->path, LOG_ERR, reason);
                return;
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

        if (ret->error < 0) {
                reason = g_strdup_printf("cannot %s: %s", ret->failed_step, g_strerror(-ret->error));
                fh_log_hook_not_run(log, hook->path, LOG_ERR, reason);
        } else
                fh_log_hook_finished(log, ret);
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

void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret) {
        g_autoptr(GPtrArray) hooks = NULL;
        g_autofree char *dir = fh_escape_dup(o->hooks_dir);
        int64_t start = 0, end = 0;
        char took[32];

        *ret = (struct fh_dispatch_summary) { 0 };
        fh_log_set_phase(log, o->phase);
        (void) fh_now_monotonic_usec(&start);
        if (scan(o, log, &hooks) < 0)
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
                run_one(o, hook, log, &result);
                ret->n_run++;
                if (fh_result_failed(&result))
                        ret->n_failed++;
                if (result.interrupted_by)
                        ret->interrupted_by = result.interrupted_by;
        }

        (void) fh_now_monotonic_usec(&end);
        fh_format_duration(end - start, took, sizeof took);
        if (ret->interrupted_by) {
                char sig[32];
                fh_signal_name(ret->interrupted_by, sig, sizeof sig);
                fh_log_message(log, LOG_ERR, "interrupted", "%s: interrupted by %s: %u run, %u failed, %u not run",
                               fh_phase_to_string(o->phase), sig, ret->n_run, ret->n_failed, ret->n_not_run);
        } else
                fh_log_message(log, ret->n_failed ? LOG_WARNING : LOG_INFO, "done", "%s: done in %s: %u run, %u failed",
                               fh_phase_to_string(o->phase), took, ret->n_run, ret->n_failed);
}

void fh_print_plan(FILE *out, enum fh_phase phase, const char *dir) {
        g_autoptr(GPtrArray) hooks = NULL;
        g_autofree char *escaped_dir = fh_escape_dup(dir);
        int r = fh_scan_dir(dir, &hooks);

        if (r < 0) {
                fprintf(out, "%s: hook directory %s %s: nothing would run\n", fh_phase_to_string(phase), escaped_dir,
                        r == -ENOENT ? "does not exist" : g_strerror(-r));
                return;
        }
        if (phase == FH_PHASE_THAW)
                fh_hooks_reverse(hooks);

        fprintf(out, "%s: hooks in %s, in run order (dry run: nothing is executed)\n", fh_phase_to_string(phase),
                escaped_dir);
        for (guint i = 0; i < hooks->len; i++) {
                const struct fh_hook *hook = hooks->pdata[i];
                g_autofree char *name = fh_escape_dup(hook->name);
                g_autofree char *why = NULL;

                if (hook->verdict == FH_VERDICT_RUN) {
                        fprintf(out, "run   %s\n", name);
                        continue;
                }
                why = fh_hook_describe_skip(hook);
                fprintf(out, "skip  %s: %s\n", name, why);
        }
}
