/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <syslog.h>
#include <unistd.h>

#include "budget.h"
#include "capture.h"
#include "dispatch.h"
#include "escape.h"
#include "foreign.h"
#include "freeze_deadline.h"
#include "outcome.h"
#include "pairing.h"
#include "plan.h"
#include "spawn.h"
#include "state.h"
#include "supervise.h"
#include "timeutil.h"

/* One dispatch. */
struct ctx {
        const struct fh_dispatch_options *o;
        const struct fh_settings *s;
        struct fh_log *log;
        struct fh_dispatch_summary *sum;
        struct fh_pairing pairing;
        /* FSFREEZE_THAW_REASON for the hooks of a thaw (see fh_dispatch). */
        const char *thaw_reason;
        /* The time our caller gives us before it kills us (budget.h). */
        struct fh_budget budget;
        bool budget_cut_said;
};

static void set_hook_env(struct ctx *c, const struct fh_plan_item *item, enum fh_phase phase) {
        fh_env_set(c->o->env, "FSFREEZE_PHASE", fh_phase_to_string(phase));
        /* Scripts see /dev/fd/3 as $0 (they are executed from the checked
         * descriptor), so tell them where they really are. */
        fh_env_set(c->o->env, "FSFREEZE_HOOK", item->path);
        fh_env_set(c->o->env, "FSFREEZE_HOOK_DIR", item->dir);
        if (phase == FH_PHASE_THAW && item->froze)
                fh_env_set(c->o->env, "FSFREEZE_FROZE", item->froze);
        else
                fh_env_unset(c->o->env, "FSFREEZE_FROZE");
        if (phase == FH_PHASE_THAW)
                fh_env_set(c->o->env, "FSFREEZE_THAW_REASON", c->thaw_reason);
        else
                fh_env_unset(c->o->env, "FSFREEZE_THAW_REASON");
}

/* What VMware's scripts are told: on a release after a failed freeze
 * (on-failure=abort, the freeze deadline, the caller's own freezeFail),
 * freezeFail, as vmtoolsd does (open-vm-tools scriptOps.c:139-149,
 * stateMachine.c:476-481 and VmBackupDoAbort). */
static enum fh_foreign_op foreign_op(const struct ctx *c, enum fh_phase phase) {
        if (phase == FH_PHASE_FREEZE)
                return FH_FOREIGN_FREEZE;
        return g_str_equal(c->thaw_reason, "thaw") ? FH_FOREIGN_THAW : FH_FOREIGN_FREEZE_FAIL;
}

/* The hook's timeout and kill grace, cut to the caller's budget: false
 * (ret->error set, logged) if no time is left to start it, which leaves
 * it as one that could not be started (held, for a thaw). */
static bool fit_budget(struct ctx *c, const struct fh_plan_item *item, int64_t *timeout, int64_t *grace,
                       struct fh_result *ret) {
        int64_t want = *timeout, now = 0;
        char t[32], g[32];

        if (c->budget.deadline_usec <= 0)
                return true;
        (void) fh_now_monotonic_usec(&now);
        if (!fh_budget_fit(&c->budget, now, timeout, grace)) {
                g_autofree char *why = g_strdup_printf("no time left before %s kills the dispatcher",
                                                       c->budget.caller);
                ret->error = -ETIME;
                ret->failed_step = "start it before its caller's deadline";
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, why);
                return false;
        }
        /* Once: from here on every hook's is cut (its "timed out" line
         * says to what). */
        if (*timeout != want && !c->budget_cut_said) {
                g_autofree char *path = fh_escape_dup(item->path);
                fh_format_duration(*timeout, t, sizeof t);
                fh_format_duration(*grace, g, sizeof g);
                fh_log_message(c->log, LOG_NOTICE, "budget", "%s: timeout cut to %s, kill grace to %s, and those of "
                               "the hooks after it to what is left: %s kills the dispatcher soon after", path, t, g,
                               c->budget.caller);
                c->budget_cut_said = true;
        }
        return true;
}

/* Runs one hook in 'phase'. Returns false if the trust policy refused it;
 * true ('allowed') otherwise, also when it could not be opened or started
 * (then ret->error < 0). */
static bool run_one(struct ctx *c, const struct fh_plan_item *item, enum fh_phase phase, struct fh_result *ret) {
        struct fh_foreign_exec file = { .file = { .fd = -1 }, .script = { .fd = -1 } };
        struct fh_capture cap = { 0 };
        g_autofree char *reason = NULL, *problem = NULL;
        int64_t timeout = item->timeout_msec * USEC_PER_MSEC, grace = c->s->kill_grace_msec * USEC_PER_MSEC;
        int r;

        *ret = (struct fh_result) { .exit_status = -1 };
        if (!fit_budget(c, item, &timeout, &grace, ret))
                return true;
        r = fh_foreign_open(c->o->trust, item, foreign_op(c, phase), c->s->strict_modes,
                            c->o->env ? fh_env_get(c->o->env, "PATH") : NULL, &file, &problem);
        if (r == -EPERM) {
                reason = g_strdup_printf("refused: %s", problem);
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
                return false;
        }
        if (r < 0) {
                /* Changed since the scan: removed, replaced, chmod'ed. */
                ret->error = r;
                /* Worded as the dry run and --check word it. */
                reason = fh_foreign_open_failure(item, r);
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
                return true;
        }
        if (problem) {
                g_autofree char *path = fh_escape_dup(item->path);
                fh_log_message(c->log, LOG_WARNING, "untrusted", "%s runs although it is not trusted: %s (strict "
                               "modes are off)", path, problem);
        }

        set_hook_env(c, item, phase);
        fh_capture_start(&cap, c->log, c->s->max_output);
        if (item->platform >= 0) {
                g_autofree char *args = fh_foreign_exec_describe(&file);
                fh_log_hook_start_args(c->log, item->path, item->name, args);
        } else
                fh_log_hook_start(c->log, item->path, item->name);
        fh_run_hook(&(struct fh_run_request) {
                .file = &file.file,
                .script = file.script.fd >= 0 ? &file.script : NULL,
                .argv = file.argv,
                .envp = fh_env_strv(c->o->env),
                .devnull_fd = c->o->devnull_fd,
                .signal_fd = c->o->signal_fd,
                .timeout_usec = timeout,
                .kill_grace_usec = grace,
                .ignored = c->o->ignored,
        }, &cap.observer, ret);
        fh_foreign_exec_done(&file);

        fh_capture_finish(&cap);
        if (ret->error < 0) {
                reason = g_strdup_printf("cannot %s: %s", ret->failed_step, g_strerror(-ret->error));
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
        } else
                fh_log_hook_finished(c->log, ret);
        return true;
}

/* A signal that stops the release of what froze: what is not released by
 * then stays recorded as held, for the next thaw. */
static int stop_signal(struct ctx *c, const struct fh_result *last) {
        if (last && last->interrupted_by)
                return last->interrupted_by;
        return fh_pending_interrupt(c->o->signal_fd);
}

/* How another platform's script that froze is released: its thaw side
 * (NULL: one of our hooks). A VMware script whose freeze failed is not
 * called again (vmtoolsd: scriptOps.c:142-145, --currentScript): it is
 * returned as not to run. */
static struct fh_plan_item *release_item(struct ctx *c, const struct fh_state_hook *h, const char *failed) {
        struct fh_plan_item *i = fh_foreign_thaw_item(c->s, c->o->trust, h->name, h->path);

        if (i && i->platform == FH_PLATFORM_VMWARE && g_strcmp0(h->name, failed) == 0)
                i->run = false;
        return i;
}

/* on-failure=abort: release, in reverse, every hook the record says ran
 * freeze, the one that failed included (it may be half-frozen): qemu-ga
 * will fail the freeze and run no thaw hook, so nothing else would. The
 * record is written after each release; a signal stops the release, and
 * the record then keeps what is left awaiting a thaw. */
static void abort_freeze(struct ctx *c, const char *why, struct fh_state_record *rec, const char *failed) {
        struct fh_result result = { 0 };
        const struct fh_result *last = NULL;
        const char *reason = c->thaw_reason;
        int sig = 0;

        fh_log_message(c->log, LOG_ERR, "abort", "freeze: %s and on-failure=abort: thawing the hooks that ran "
                       "freeze, then failing the freeze", why);
        fh_log_set_phase(c->log, FH_PHASE_THAW);
        c->thaw_reason = "abort";
        for (guint k = rec->hooks->len; k-- > 0 && !sig;) {
                struct fh_state_hook *h = rec->hooks->pdata[k];
                g_autofree char *dir = g_path_get_dirname(h->path);
                struct fh_plan_item item = {
                        .name = h->name, .path = h->path, .dir = dir, .run = true, .froze = "yes",
                        .timeout_msec = fh_settings_timeout(c->s, h->name, false), .platform = -1,
                };
                g_autoptr(fh_plan_item) foreign = NULL;
                bool allowed;

                if (!h->ran || h->released || (sig = stop_signal(c, last)))
                        continue;
                foreign = release_item(c, h, failed);
                if (foreign && !foreign->run) {
                        h->released = true;
                        fh_pairing_save(&c->pairing, rec);
                        continue;
                }
                allowed = run_one(c, foreign ? foreign : &item, FH_PHASE_THAW, &result);
                last = &result;
                c->sum->n_thawed += allowed;
                if (fh_pairing_thaw_done(allowed, &result)) {
                        h->released = true;
                        fh_pairing_save(&c->pairing, rec);
                }
        }
        fh_log_set_phase(c->log, FH_PHASE_FREEZE);
        c->thaw_reason = reason;
        if (sig && !c->sum->interrupted_by)
                c->sum->interrupted_by = sig;
        c->sum->aborted = true;
        rec->aborted = true;
        rec->awaiting_thaw = false;
        for (guint k = 0; k < rec->hooks->len; k++) {
                const struct fh_state_hook *h = rec->hooks->pdata[k];
                rec->awaiting_thaw |= h->ran && !h->released;
        }
}

static void abort_hook(struct ctx *c, const char *name, const char *what, struct fh_state_record *rec) {
        g_autofree char *shown = fh_escape_dup(name), *why = g_strdup_printf("%s %s", shown, what);

        abort_freeze(c, why, rec, name);
}

/* Once per freeze, one event: a VM brought from another platform whose
 * quiesce scripts no longer run should not stay unnoticed. */
static void log_not_enabled(struct ctx *c, const struct fh_plan *plan) {
        g_autofree char *lines = NULL;

        if (c->o->phase != FH_PHASE_FREEZE || !plan->not_enabled || plan->not_enabled->len == 0)
                return;
        g_ptr_array_add(plan->not_enabled, NULL);
        lines = g_strjoinv("; ", (char **) plan->not_enabled->pdata);
        g_ptr_array_remove_index(plan->not_enabled, plan->not_enabled->len - 1);
        fh_log_message(c->log, LOG_NOTICE, "platform-scripts", "%s", lines);
}

static void log_plan(struct ctx *c, const struct fh_plan *plan) {
        for (guint k = 0; k < plan->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(plan->dirs, struct fh_dir_scan, k);
                g_autofree char *dir = fh_escape_dup(d->dir);
                const char *why = fh_dir_scan_error(d);

                /* The built-in vendor directory exists only where a package
                 * ships hooks: its absence is normal. */
                if (d->error == -ENOENT && g_strcmp0(d->dir, c->s->vendor_dir) != 0)
                        fh_log_message(c->log, LOG_INFO, "no-hook-dir", "hook directory %s %s", dir, why);
                else if (d->error < 0 && d->error != -ENOENT)
                        fh_log_message(c->log, LOG_WARNING, "hook-dir-error", "cannot read hook directory %s: %s",
                                       dir, why);
        }
        for (guint k = 0; k < plan->dir_problems->len; k++)
                fh_log_message(c->log, c->s->strict_modes ? LOG_ERR : LOG_WARNING, "untrusted", "%s",
                               (const char *) plan->dir_problems->pdata[k]);
        for (guint k = 0; k < plan->notes->len; k++)
                fh_log_message(c->log, LOG_NOTICE, "not-thawed", "%s", (const char *) plan->notes->pdata[k]);
        log_not_enabled(c, plan);
}

static void log_skip(struct ctx *c, const struct fh_plan_item *item) {
        g_autofree char *path = fh_escape_dup(item->path);

        if (item->refused) {
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, item->why);
                return;
        }
        fh_log_message(c->log, item->verdict == FH_VERDICT_NOT_EXECUTABLE ? LOG_NOTICE : LOG_WARNING, "skip",
                       "skip %s: %s", path, item->why);
}

static void log_summary(struct ctx *c, int64_t start) {
        const struct fh_dispatch_summary *s = c->sum;
        const char *phase = fh_phase_to_string(c->o->phase);
        g_autofree char *refused = s->n_refused ? g_strdup_printf(", %u refused", s->n_refused) : g_strdup("");
        int64_t end = start;
        char took[32], sig[32];

        (void) fh_now_monotonic_usec(&end);
        fh_format_duration(end - start, took, sizeof took);
        if (s->interrupted_by) {
                fh_signal_name(s->interrupted_by, sig, sizeof sig);
                fh_log_message(c->log, LOG_ERR, "interrupted", "%s: interrupted by %s: %u run, %u failed%s, %u not run",
                               phase, sig, s->n_run, s->n_failed, refused, s->n_not_run);
        } else if (s->aborted)
                fh_log_message(c->log, LOG_ERR, "aborted", "%s: aborted in %s: %u run, %u failed%s, %u not run, "
                               "%u thawed; the freeze fails", phase, took, s->n_run, s->n_failed, refused,
                               s->n_not_run, s->n_thawed);
        else
                fh_log_message(c->log, s->n_failed || s->n_refused ? LOG_WARNING : LOG_INFO, "done",
                               "%s: done in %s: %u run, %u failed%s", phase, took, s->n_run, s->n_failed, refused);
}

static unsigned count_runnable(const struct fh_plan *plan) {
        unsigned n = 0;

        for (guint k = 0; k < plan->items->len; k++)
                n += ((const struct fh_plan_item *) plan->items->pdata[k])->run;
        return n;
}

static void log_start(struct ctx *c, const struct fh_plan *plan) {
        const char *phase = fh_phase_to_string(c->o->phase);
        unsigned n = count_runnable(plan);

        if (c->o->phase == FH_PHASE_FREEZE)
                fh_log_message(c->log, LOG_INFO, "start", "freeze: %u hooks to run", n);
        else if (plan->freeze) {
                char when[FH_TIMESTAMP_MAX];

                fh_format_usec_timestamp(plan->freeze->started_usec, "an unknown time", when);
                fh_log_message(c->log, LOG_INFO, "start", "thaw: %u hooks to release, those the freeze of %s ran",
                               n, when);
        } else
                fh_log_message(c->log, LOG_INFO, "start", "%s: no freeze awaiting its thaw: %u hooks to run", phase, n);
}

static bool abort_policy(const struct ctx *c) {
        return c->o->phase == FH_PHASE_FREEZE && c->s->on_failure == FH_ON_FAILURE_ABORT && !c->sum->aborted;
}

/* A hook directory that exists but could not be listed: its hooks cannot
 * run. One that does not exist is not an error. */
static const struct fh_dir_scan *unlisted_dir(const struct fh_plan *plan) {
        for (guint k = 0; k < plan->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(plan->dirs, struct fh_dir_scan, k);
                if (d->error < 0 && d->error != -ENOENT)
                        return d;
        }
        return NULL;
}

/* Under abort, a freeze that cannot run all its hooks fails before any. */
static void abort_if_unlisted(struct ctx *c, const struct fh_plan *plan, struct fh_state_record *rec) {
        const struct fh_dir_scan *d = unlisted_dir(plan);
        g_autofree char *dir = NULL, *why = NULL;

        if (!d || !abort_policy(c))
                return;
        dir = fh_escape_dup(d->dir);
        why = g_strdup_printf("hook directory %s cannot be listed (%s)", dir, g_strerror(-d->error));
        abort_freeze(c, why, rec, NULL);
}

/* A platform's pair without a freeze script: nothing runs now, but it is
 * recorded as held, so that the thaw runs its thaw script. */
static void hold_without_script(struct ctx *c, const struct fh_plan_item *item, struct fh_state_record *rec) {
        struct fh_state_hook *h = fh_state_record_find(rec, item->name);
        g_autofree char *path = fh_escape_dup(item->path);

        fh_log_message(c->log, LOG_INFO, "skip", "%s: no freeze script: its thaw script %s runs at the thaw",
                       item->name, path);
        if (!h)
                return;
        h->ran = true;
        g_free(h->outcome);
        h->outcome = g_strdup("no freeze script: held for its thaw script");
        /* Said at once: the record only holds what it says started. */
        fh_pairing_save(&c->pairing, rec);
}

static void run_plan(struct ctx *c, struct fh_plan *plan, struct fh_state_record *rec) {
        /* A thaw paired with a freeze releases the hooks it reaches, run,
         * gone or masked (see thaw_done()). */
        struct fh_state_record *freeze = c->o->phase == FH_PHASE_THAW ? plan->freeze : NULL;

        abort_if_unlisted(c, plan, rec);
        for (guint k = 0; k < plan->items->len; k++) {
                struct fh_plan_item *item = plan->items->pdata[k];
                struct fh_state_hook *h = NULL;
                struct fh_result result;
                bool allowed;

                if (!item->run) {
                        if (item->notable)
                                log_skip(c, item);
                        c->sum->n_refused += item->refused;
                        /* Gone, masked: no later thaw can do better. One
                         * refused can be fixed, and then still holds. */
                        if (freeze && !c->sum->interrupted_by && !item->refused)
                                fh_pairing_release(&c->pairing, freeze, item->name);
                        /* A refused hook leaves its application unprepared,
                         * like a failed one. */
                        if (item->refused && abort_policy(c))
                                abort_hook(c, item->name, "was refused", rec);
                        continue;
                }
                if (c->sum->interrupted_by || c->sum->aborted ||
                    (c->sum->interrupted_by = fh_pending_interrupt(c->o->signal_fd))) {
                        c->sum->n_not_run++;
                        fh_pairing_mark_not_run(rec, item->name, c->sum->aborted ? "not run: the freeze was aborted"
                                                                       : "not run: interrupted");
                        continue;
                }
                if (item->nothing_to_run) {
                        hold_without_script(c, item, rec);
                        continue;
                }
                if (item->moved_from) {
                        g_autofree char *from = fh_escape_dup(item->moved_from), *to = fh_escape_dup(item->path);
                        fh_log_message(c->log, LOG_NOTICE, "moved", "%s froze at %s, which is gone: thawing it as %s",
                                       item->name, from, to);
                }
                h = fh_state_record_find(rec, item->name);
                if (h && c->o->phase == FH_PHASE_FREEZE)
                        fh_pairing_starting(&c->pairing, rec, h);
                allowed = run_one(c, item, c->o->phase, &result);
                if (h)
                        fh_pairing_record(h, &result, !allowed);
                if (freeze && fh_pairing_thaw_done(allowed, &result))
                        fh_pairing_release(&c->pairing, freeze, item->name);
                if (!allowed) {
                        c->sum->n_refused++;
                } else {
                        c->sum->n_run++;
                        c->sum->n_failed += fh_result_failed(&result);
                        if (result.interrupted_by)
                                c->sum->interrupted_by = result.interrupted_by;
                }
                if (abort_policy(c) && (!allowed || fh_result_failed(&result)))
                        abort_hook(c, item->name,
                                   result.interrupted_by ? "was interrupted" : !allowed ? "was refused" : "failed",
                                   rec);
        }
        /* Stopped between two hooks: under abort, an incomplete freeze is a
         * failed one, and what froze must be released. */
        if (c->sum->interrupted_by && abort_policy(c))
                abort_freeze(c, "the freeze was interrupted", rec, NULL);
}

/* After each phase, the outcome for the host (and the fleet) to read. */
static void publish(struct ctx *c) {
        int r;

        if (!c->pairing.dir)
                return;
        r = fh_outcome_write_status(c->pairing.dir);
        if (r < 0) {
                g_autofree char *dir = fh_escape_dup(c->pairing.dir);
                fh_log_message(c->log, LOG_WARNING, "state-error", "cannot write %s in %s: %s", FH_STATUS_FILE, dir,
                               g_strerror(-r));
        }
        if (!c->s->metrics_file)
                return;
        r = fh_outcome_write_metrics(c->s->metrics_file, c->pairing.dir, &(struct fh_outcome_phase) {
                .phase = c->o->phase,
                .n_failed = c->sum->n_failed + c->sum->n_refused + c->sum->n_not_run,
                .deadline_fired = c->o->deadline_fired != NULL,
        });
        if (r < 0) {
                g_autofree char *file = fh_escape_dup(c->s->metrics_file);
                fh_log_message(c->log, LOG_WARNING, "metrics-error", "cannot write the metrics file %s: %s", file,
                               g_strerror(-r));
        }
}

/* A signal while waiting for the state lock: nothing has run, and the
 * records belong to the dispatcher that holds the lock, so nothing is
 * touched; a freeze under abort fails, a thaw leaves the freeze awaiting. */
static void stopped_at_lock(struct ctx *c, int64_t start) {
        char sig[32];

        fh_signal_name(c->sum->interrupted_by, sig, sizeof sig);
        c->sum->aborted = abort_policy(c);
        fh_log_message(c->log, LOG_ERR, "interrupted", "%s: %s while waiting for the state lock: no hook run, "
                       "nothing recorded%s", fh_phase_to_string(c->o->phase), sig,
                       c->sum->aborted ? "; the freeze fails (on-failure=abort)" : "");
        log_summary(c, start);
}

/* FSFREEZE_THAW_REASON: "deadline" when the freeze deadline releases the
 * hooks; else what the caller put in the environment ("thaw", or
 * "freeze-failed" when its agent said the freeze failed), "thaw" if
 * nothing. An abort says "abort" (abort_freeze). */
static const char *thaw_reason(const struct fh_dispatch_options *o) {
        const char *env = o->env ? fh_env_get(o->env, "FSFREEZE_THAW_REASON") : NULL;

        if (o->deadline_fired)
                return "deadline";
        /* A literal: the environment's own string changes when it is set. */
        return g_strcmp0(env, "freeze-failed") == 0 ? "freeze-failed" : "thaw";
}

void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret) {
        struct ctx c = { .o = o, .s = o->settings, .log = log, .sum = ret };
        g_autoptr(fh_plan) plan = NULL;
        g_autoptr(fh_state_record) rec = NULL;
        int64_t start = 0;
        int lock_fd = -1;

        *ret = (struct fh_dispatch_summary) { 0 };
        c.thaw_reason = thaw_reason(o);
        fh_log_set_phase(log, o->phase);
        (void) fh_now_monotonic_usec(&start);
        fh_pairing_open(&c.pairing, c.s, o->trust, log);
        if (c.pairing.dir && !o->deadline_fired)
                lock_fd = fh_pairing_lock(&c.pairing, o->signal_fd, &c.sum->interrupted_by);
        if (c.sum->interrupted_by) {
                stopped_at_lock(&c, start);
                if (lock_fd >= 0)
                        close(lock_fd);
                return;
        }
        if (o->phase == FH_PHASE_THAW && !o->deadline_fired && fh_freeze_deadline_settle(c.pairing.dir, log)) {
                publish(&c);
                if (lock_fd >= 0)
                        close(lock_fd);
                return;
        }
        plan = fh_plan_build(o->phase, c.s, o->trust, c.pairing.dir);
        log_plan(&c, plan);
        log_start(&c, plan);

        /* From our start: the caller's clock started before. Not for the
         * freeze deadline's thaw, which no agent runs. */
        if (!o->deadline_fired)
                fh_budget_init(&c.budget, c.s, o->phase, g_str_equal(c.thaw_reason, "freeze-failed"), start,
                               plan->freeze ? plan->freeze->started_monotonic_usec : 0);
        if (c.budget.why)
                fh_log_message(log, LOG_INFO, "budget", "%s", c.budget.why);

        rec = fh_pairing_start_record(&c.pairing, c.s, plan);
        /* Written before the first hook runs, and for a freeze again as
         * each hook starts (fh_pairing_starting): if we are killed half-way,
         * a thaw still finds every hook that may have frozen, and --status
         * shows a run that never finished and the hook it was running. */
        fh_pairing_save(&c.pairing, rec);
        /* Before the first hook: nothing slow while the applications hold
         * their locks. */
        if (o->phase == FH_PHASE_FREEZE)
                fh_freeze_deadline_arm(c.pairing.dir, c.s, o->rerun_argv, log);

        run_plan(&c, plan, rec);
        if (c.sum->aborted)
                fh_freeze_deadline_disarm(c.pairing.dir, log);

        fh_pairing_finish_record(&c.pairing, rec, start);
        log_summary(&c, start);
        if (o->deadline_fired)
                fh_freeze_deadline_log_fired(log, o->deadline_fired, fh_pairing_still_held(plan->freeze));
        publish(&c);
        fh_budget_done(&c.budget);
        if (lock_fd >= 0)
                close(lock_fd);
}
