/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "dispatch.h"
#include "escape.h"
#include "freeze_deadline.h"
#include "outcome.h"
#include "parse.h"
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
        const char *state_dir;          /* NULL: unusable, no pairing */
        int release_error;              /* the first failure to update the freeze record */
};

/* What the observer callbacks need while one hook runs. */
struct capture {
        struct fh_log *log;
        uint64_t max_output;
        uint64_t dropped;       /* bytes read past the limit, as the hook printed them */
};

static void on_chunk(void *userdata) {
        struct capture *c = userdata;

        fh_log_refresh_clock(c->log);
}

static bool on_output(void *userdata, enum fh_stream stream, const char *line, size_t len, bool continued) {
        struct capture *c = userdata;

        /* Past the limit (the log counts the bytes it writes) the output
         * is still read, so the hook never blocks on a full pipe, but only
         * counted (by on_discarded, this line included). Whole lines or
         * none. */
        return fh_log_hook_output(c->log, stream, line, len, continued);
}

static void on_discarded(void *userdata, size_t bytes) {
        struct capture *c = userdata;

        c->dropped += bytes;
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

static void log_dropped(struct fh_log *log, const struct capture *cap) {
        char limit[32];

        fh_format_size(cap->max_output, limit, sizeof limit);
        fh_log_message(log, LOG_WARNING, "output-dropped",
                       "output over the limit of %s: %" G_GUINT64_FORMAT " more bytes read and not logged "
                       "(see max-output)", limit, cap->dropped);
}

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
}

/* Runs one hook in 'phase'. Returns false if the trust policy refused it;
 * true otherwise, also when it could not be opened or started (then
 * ret->error < 0): the callers' 'ran' means "not refused", not "started". */
static bool run_one(struct ctx *c, const struct fh_plan_item *item, enum fh_phase phase, struct fh_result *ret) {
        struct fh_exec_file file = { .fd = -1 };
        char *argv[] = { item->path, (char *) fh_phase_to_string(phase), NULL };
        struct capture cap = { .log = c->log, .max_output = c->s->max_output };
        const struct fh_run_observer obs = {
                .chunk = on_chunk, .output = on_output, .discarded = on_discarded, .idle = on_idle, .userdata = &cap,
        };
        g_autofree char *reason = NULL, *problem = NULL;
        int r;

        *ret = (struct fh_result) { .exit_status = -1 };
        r = fh_exec_file_open_hook(c->o->trust, item->dir, item->path, c->s->strict_modes,
                                   c->o->env ? fh_env_get(c->o->env, "PATH") : NULL, &file, &problem);
        if (r == -EPERM) {
                reason = g_strdup_printf("refused: %s", problem);
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
                return false;
        }
        if (r < 0) {
                /* Changed since the scan: removed, replaced, chmod'ed. */
                ret->error = r;
                reason = g_strdup_printf("cannot open it: %s", g_strerror(-r));
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
                return true;
        }
        if (problem) {
                g_autofree char *path = fh_escape_dup(item->path);
                fh_log_message(c->log, LOG_WARNING, "untrusted", "%s runs although it is not trusted: %s (strict "
                               "modes are off)", path, problem);
        }

        set_hook_env(c, item, phase);
        fh_log_set_output_limit(c->log, c->s->max_output);
        fh_log_hook_start(c->log, item->path, item->name);
        fh_run_hook(&(struct fh_run_request) {
                .file = &file,
                .argv = argv,
                .envp = fh_env_strv(c->o->env),
                .devnull_fd = c->o->devnull_fd,
                .signal_fd = c->o->signal_fd,
                .timeout_usec = item->timeout_msec * USEC_PER_MSEC,
                .kill_grace_usec = c->s->kill_grace_msec * USEC_PER_MSEC,
                .ignored = c->o->ignored,
        }, &obs, ret);
        fh_exec_file_close(&file);

        if (cap.dropped > 0)
                log_dropped(c->log, &cap);
        if (ret->error < 0) {
                reason = g_strdup_printf("cannot %s: %s", ret->failed_step, g_strerror(-ret->error));
                fh_log_hook_not_run(c->log, item->path, LOG_ERR, reason);
        } else
                fh_log_hook_finished(c->log, ret);
        return true;
}

static void record(struct fh_state_hook *h, const struct fh_result *r, bool refused) {
        char outcome[256];

        g_free(h->outcome);
        if (refused) {
                h->outcome = g_strdup("refused by the trust policy");
                return;
        }
        /* Once held (by an earlier freeze never thawed), held until a
         * thaw releases it, whatever this run does. */
        h->ran = h->ran || r->error == 0;
        h->status = fh_result_status(r);
        h->duration_usec = r->duration_usec;
        if (r->error < 0)
                h->outcome = g_strdup_printf("not run: cannot %s: %s", r->failed_step, g_strerror(-r->error));
        else {
                fh_result_describe(r, outcome, sizeof outcome);
                h->outcome = g_strdup(outcome);
        }
}

static void save(struct ctx *c, struct fh_state_record *rec) {
        int r;

        if (!c->state_dir)
                return;
        r = fh_state_write(c->state_dir, rec);
        if (r < 0) {
                /* No record rather than a stale one: the thaw then runs
                 * every current hook and tells them FSFREEZE_FROZE=unknown. */
                (void) fh_state_remove(c->state_dir, rec->phase);
                g_autofree char *dir = fh_escape_dup(c->state_dir);
                fh_log_message(c->log, LOG_WARNING, "state-error", "cannot write the %s record in %s: %s",
                               fh_phase_to_string(rec->phase), dir, g_strerror(-r));
        }
}

static int64_t now_realtime_usec(void) {
        return g_get_real_time();
}

/* Since 'start' (monotonic, 0: unknown), or -1. */
static int64_t run_duration(int64_t start) {
        int64_t end;

        if (start <= 0 || fh_now_monotonic_usec(&end) < 0)
                return -1;
        return end - start;
}

/* Whether a hook's thaw has happened, as far as it ever can: it ran to its
 * own end (exited, failed, or timed out and killed: running it again would
 * hang again), or it is gone (removed since the scan). Not when the trust
 * policy refused it ('ran' false: the log says how to fix it, and the
 * fixed hook must still be told that it froze), nor when it could not be
 * opened for another reason or our own set-up failed (no descriptor, no
 * pipe, no fork), nor when we cut it short because the
 * dispatcher itself was told to stop: its application may still be
 * locked, and thaw hooks are written to run twice (qemu-ga runs them
 * after every thaw request), so the next thaw runs it again. */
static bool thaw_done(bool ran, const struct fh_result *r) {
        if (!ran)
                return false;
        /* A hook that still exited 0 had finished its work: the signal
         * came as it ended (it may even have sent it). */
        if (r->interrupted_by && (r->signal != 0 || r->exit_status != 0))
                return false;
        /* failed_step is NULL when the open failed, before any step. */
        return r->error == 0 || (!r->failed_step && r->error == -ENOENT);
}

/* A signal that stops the release of what froze: what is not released by
 * then stays recorded as held, for the next thaw. */
static int stop_signal(struct ctx *c, const struct fh_result *last) {
        if (last && last->interrupted_by)
                return last->interrupted_by;
        return pending_interrupt(c->o->signal_fd);
}

/* on-failure=abort: release, in reverse, every hook the record says ran
 * freeze, the one that failed included (it may be half-frozen): qemu-ga
 * will fail the freeze and run no thaw hook, so nothing else would. The
 * record is written after each release; a signal stops the release, and
 * the record then keeps what is left awaiting a thaw. */
static void abort_freeze(struct ctx *c, const char *why, struct fh_state_record *rec) {
        struct fh_result result = { 0 };
        const struct fh_result *last = NULL;
        int sig = 0;

        fh_log_message(c->log, LOG_ERR, "abort", "freeze: %s and on-failure=abort: thawing the hooks that ran "
                       "freeze, then failing the freeze", why);
        fh_log_set_phase(c->log, FH_PHASE_THAW);
        for (guint k = rec->hooks->len; k-- > 0 && !sig;) {
                struct fh_state_hook *h = rec->hooks->pdata[k];
                g_autofree char *dir = g_path_get_dirname(h->path);
                struct fh_plan_item item = {
                        .name = h->name, .path = h->path, .dir = dir, .run = true, .froze = "yes",
                        .timeout_msec = fh_settings_timeout(c->s, h->name, false),
                };
                bool ran;

                if (!h->ran || h->released || (sig = stop_signal(c, last)))
                        continue;
                ran = run_one(c, &item, FH_PHASE_THAW, &result);
                last = &result;
                c->sum->n_thawed += ran;
                if (thaw_done(ran, &result)) {
                        h->released = true;
                        save(c, rec);
                }
        }
        fh_log_set_phase(c->log, FH_PHASE_FREEZE);
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

        abort_freeze(c, why, rec);
}

/* A thaw paired with a freeze has dealt with hook 'name': the freeze
 * record says so at once, so that a thaw cut short (a signal, SIGKILL)
 * leaves exactly the others awaiting the next thaw. */
static void release(struct ctx *c, struct fh_state_record *freeze, const char *name) {
        struct fh_state_hook *h = fh_state_record_find(freeze, name);
        g_autofree char *dir = NULL;
        int r;

        if (!h || !fh_state_hook_held(freeze, h))
                return;
        fh_state_release(freeze, h);
        if (!c->state_dir || (r = fh_state_write(c->state_dir, freeze)) == 0 || c->release_error)
                return;
        /* Kept as it was: the next thaw then releases some hooks again,
         * which a thaw must bear, rather than none. */
        c->release_error = r;
        dir = fh_escape_dup(c->state_dir);
        fh_log_message(c->log, LOG_WARNING, "state-error", "cannot record the release of the freeze in %s: %s",
                       dir, g_strerror(-r));
}

static void log_plan(struct ctx *c, const struct fh_plan *plan) {
        for (guint k = 0; k < plan->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(plan->dirs, struct fh_dir_scan, k);
                g_autofree char *dir = fh_escape_dup(d->dir);

                /* The built-in vendor directory exists only where a package
                 * ships hooks: its absence is normal. */
                if (d->error == -ENOENT && g_strcmp0(d->dir, c->s->vendor_dir) != 0)
                        fh_log_message(c->log, LOG_INFO, "no-hook-dir", "hook directory %s does not exist", dir);
                else if (d->error < 0 && d->error != -ENOENT)
                        fh_log_message(c->log, LOG_WARNING, "hook-dir-error", "cannot read hook directory %s: %s",
                                       dir, g_strerror(-d->error));
        }
        for (guint k = 0; k < plan->dir_problems->len; k++)
                fh_log_message(c->log, c->s->strict_modes ? LOG_ERR : LOG_WARNING, "untrusted", "%s",
                               (const char *) plan->dir_problems->pdata[k]);
        for (guint k = 0; k < plan->notes->len; k++)
                fh_log_message(c->log, LOG_NOTICE, "not-thawed", "%s", (const char *) plan->notes->pdata[k]);
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

/* The state directory, if it can be used: it is created if missing, and as
 * root it must be trusted, or a forged record could keep a thaw from
 * releasing what froze. */
static const char *usable_state_dir(struct ctx *c) {
        g_autofree char *problem = NULL, *dir = fh_escape_dup(c->s->state_dir);

        /* Judged before it is created too: root must not create it where
         * a user's symlink points. */
        if (c->o->trust && fh_trust_check_new_dir(c->o->trust, c->s->state_dir, &problem) == -EPERM) {
                fh_log_message(c->log, LOG_ERR, "untrusted", "state directory %s is not trusted: %s: freeze and "
                               "thaw are not paired", dir, problem);
                return NULL;
        }
        g_clear_pointer(&problem, g_free);
        if (g_mkdir_with_parents(c->s->state_dir, 0755) < 0) {
                fh_log_message(c->log, LOG_WARNING, "state-error", "cannot create state directory %s: %s: freeze "
                               "and thaw are not paired", dir, g_strerror(errno));
                return NULL;
        }
        if (c->o->trust && fh_trust_check_dir(c->o->trust, c->s->state_dir, &problem) < 0) {
                fh_log_message(c->log, LOG_ERR, "untrusted", "state directory %s is not trusted: %s: freeze and "
                               "thaw are not paired", dir, problem);
                return NULL;
        }
        return c->s->state_dir;
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
                struct timespec ts = { .tv_sec = plan->freeze->started_usec / USEC_PER_SEC,
                                       .tv_nsec = plan->freeze->started_usec % USEC_PER_SEC * 1000 };

                if (fh_format_timestamp(&ts, when) < 0)
                        g_strlcpy(when, "an unknown time", sizeof when);
                fh_log_message(c->log, LOG_INFO, "start", "thaw: %u hooks to release, those the freeze of %s ran",
                               n, when);
        } else
                fh_log_message(c->log, LOG_INFO, "start", "%s: no freeze awaiting its thaw: %u hooks to run", phase, n);
}

static bool abort_policy(const struct ctx *c) {
        return c->o->phase == FH_PHASE_FREEZE && c->s->on_failure == FH_ON_FAILURE_ABORT && !c->sum->aborted;
}

static void mark_not_run(struct fh_state_record *rec, const char *name, const char *why) {
        struct fh_state_hook *h = fh_state_record_find(rec, name);

        if (h) {
                g_free(h->outcome);
                h->outcome = g_strdup(why);
        }
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
        abort_freeze(c, why, rec);
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
                bool ran;

                if (!item->run) {
                        if (item->notable)
                                log_skip(c, item);
                        c->sum->n_refused += item->refused;
                        /* Gone, masked: no later thaw can do better. One
                         * refused can be fixed, and then still holds. */
                        if (freeze && !c->sum->interrupted_by && !item->refused)
                                release(c, freeze, item->name);
                        /* A refused hook leaves its application unprepared,
                         * like a failed one. */
                        if (item->refused && abort_policy(c))
                                abort_hook(c, item->name, "was refused", rec);
                        continue;
                }
                if (c->sum->interrupted_by || c->sum->aborted ||
                    (c->sum->interrupted_by = pending_interrupt(c->o->signal_fd))) {
                        c->sum->n_not_run++;
                        mark_not_run(rec, item->name, c->sum->aborted ? "not run: the freeze was aborted"
                                                                       : "not run: interrupted");
                        continue;
                }
                if (item->moved_from) {
                        g_autofree char *from = fh_escape_dup(item->moved_from), *to = fh_escape_dup(item->path);
                        fh_log_message(c->log, LOG_NOTICE, "moved", "%s froze at %s, which is gone: thawing it as %s",
                                       item->name, from, to);
                }
                h = fh_state_record_find(rec, item->name);
                ran = run_one(c, item, c->o->phase, &result);
                if (h)
                        record(h, &result, !ran);
                if (freeze && thaw_done(ran, &result))
                        release(c, freeze, item->name);
                if (!ran) {
                        c->sum->n_refused++;
                } else {
                        c->sum->n_run++;
                        c->sum->n_failed += fh_result_failed(&result);
                        if (result.interrupted_by)
                                c->sum->interrupted_by = result.interrupted_by;
                }
                if (abort_policy(c) && (!ran || fh_result_failed(&result)))
                        abort_hook(c, item->name,
                                   result.interrupted_by ? "was interrupted" : !ran ? "was refused" : "failed", rec);
        }
        /* Stopped between two hooks: under abort, an incomplete freeze is a
         * failed one, and what froze must be released. */
        if (c->sum->interrupted_by && abort_policy(c))
                abort_freeze(c, "the freeze was interrupted", rec);
}

/* The record of a freeze that no thaw has released, or NULL. */
static struct fh_state_record *unthawed_freeze(struct ctx *c) {
        struct fh_state_record *old = NULL;

        if (!c->state_dir || fh_state_read(c->state_dir, FH_PHASE_FREEZE, &old) < 0)
                return NULL;
        if (!old->awaiting_thaw)
                g_clear_pointer(&old, fh_state_record_free);
        return old;
}

/* A freeze that was never thawed (qemu-ga froze nothing and sent no thaw,
 * say) still has hooks holding something: the next thaw must release them
 * too. Those this freeze does not run are carried into the new record,
 * before its own hooks; those it runs again keep their hold whatever
 * happens to them now (this freeze may be stopped before it reaches them,
 * or fail to start them). Call after the planned hooks are in 'rec'. */
static void carry_over(struct ctx *c, const struct fh_state_record *old, struct fh_state_record *rec) {
        unsigned n = 0;

        for (guint k = 0; k < old->hooks->len; k++) {
                const struct fh_state_hook *h = old->hooks->pdata[k];
                struct fh_state_hook *now = fh_state_record_find(rec, h->name);

                if (!fh_state_hook_held(old, h))
                        continue;
                if (!now) {
                        /* Before this freeze's own hooks: they froze first. */
                        now = fh_state_record_add(rec, h->name, h->path);
                        g_ptr_array_insert(rec->hooks, (gint) n++,
                                           g_ptr_array_steal_index(rec->hooks, rec->hooks->len - 1));
                }
                now->ran = true;
                g_free(now->outcome);
                now->outcome = g_strdup("ran in an earlier freeze that was never thawed");
        }
        fh_log_message(c->log, LOG_WARNING, "unthawed", "the previous freeze was never thawed: %u of its hooks are "
                       "not in this one and will be thawed with it", n);
}

/* After each phase, the outcome for the host (and the fleet) to read. */
static void publish(struct ctx *c) {
        int r;

        if (!c->state_dir)
                return;
        r = fh_outcome_write_status(c->state_dir);
        if (r < 0) {
                g_autofree char *dir = fh_escape_dup(c->state_dir);
                fh_log_message(c->log, LOG_WARNING, "state-error", "cannot write %s in %s: %s", FH_STATUS_FILE, dir,
                               g_strerror(-r));
        }
        if (!c->s->metrics_file)
                return;
        r = fh_outcome_write_metrics(c->s->metrics_file, c->state_dir, &(struct fh_outcome_phase) {
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

/* One dispatcher at a time per state directory: a thaw by hand while
 * qemu-ga's freeze runs would pair with a record still being written. It
 * waits for the other, while still answering signals, up to a minute. */
#define LOCK_WAIT_MSEC 60000

static int lock_state_dir(struct ctx *c) {
        g_autofree char *path = g_build_filename(c->state_dir, "lock", NULL);
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        bool said = false;

        if (fd < 0) {
                int error = errno;
                g_autofree char *shown = fh_escape_dup(path);

                fh_log_message(c->log, LOG_WARNING, "lock", "going on without the state lock (cannot open %s: %s)",
                               shown, g_strerror(error));
                return -1;
        }
        for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
                struct pollfd p = { .fd = c->o->signal_fd, .events = POLLIN };

                if (c->sum->interrupted_by)
                        break;
                if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MSEC) {
                        fh_log_message(c->log, LOG_WARNING, "lock", "going on without the state lock (%s)",
                                       waited >= LOCK_WAIT_MSEC ? "the other dispatcher still runs"
                                                                 : g_strerror(errno));
                        break;
                }
                if (!said)
                        fh_log_message(c->log, LOG_NOTICE, "lock", "another fsfreeze-hook is running: waiting for it");
                said = true;
                fh_log_flush(c->log);
                if (c->o->signal_fd >= 0 && poll(&p, 1, 50) > 0)
                        c->sum->interrupted_by = pending_interrupt(c->o->signal_fd);
        }
        return fd;
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

/* The hooks of a paired thaw's freeze that it could not release. */
static unsigned still_held(const struct fh_state_record *freeze) {
        unsigned n = 0;

        for (guint k = 0; freeze && k < freeze->hooks->len; k++)
                n += fh_state_hook_held(freeze, freeze->hooks->pdata[k]);
        return n;
}

void fh_dispatch(const struct fh_dispatch_options *o, struct fh_log *log, struct fh_dispatch_summary *ret) {
        struct ctx c = { .o = o, .s = o->settings, .log = log, .sum = ret };
        g_autoptr(fh_plan) plan = NULL;
        g_autoptr(fh_state_record) rec = fh_state_record_new(o->phase);
        int64_t start = 0;
        int lock_fd = -1;

        *ret = (struct fh_dispatch_summary) { 0 };
        fh_log_set_phase(log, o->phase);
        (void) fh_now_monotonic_usec(&start);
        c.state_dir = usable_state_dir(&c);
        if (c.state_dir && !o->deadline_fired)
                lock_fd = lock_state_dir(&c);
        if (c.sum->interrupted_by) {
                stopped_at_lock(&c, start);
                if (lock_fd >= 0)
                        close(lock_fd);
                return;
        }
        if (o->phase == FH_PHASE_THAW && !o->deadline_fired && fh_freeze_deadline_settle(c.state_dir, log)) {
                publish(&c);
                if (lock_fd >= 0)
                        close(lock_fd);
                return;
        }
        plan = fh_plan_build(o->phase, c.s, o->trust, c.state_dir);
        log_plan(&c, plan);
        log_start(&c, plan);

        rec->started_usec = now_realtime_usec();
        rec->on_failure = g_strdup(fh_on_failure_to_string(c.s->on_failure));
        rec->awaiting_thaw = o->phase == FH_PHASE_FREEZE;
        for (guint k = 0; k < plan->items->len; k++) {
                const struct fh_plan_item *item = plan->items->pdata[k];
                if (item->run)
                        fh_state_record_add(rec, item->name, item->path);
        }
        if (o->phase == FH_PHASE_FREEZE && c.state_dir) {
                g_autoptr(fh_state_record) old = unthawed_freeze(&c);

                /* The older record stays until this one replaces it (a
                 * rename): killed before that, the thaw still pairs with
                 * it; should this one fail to be written, save() removes
                 * it, so that no thaw pairs with a stale one. */
                if (old)
                        carry_over(&c, old, rec);
        }
        /* Written before the first hook runs: if we are killed half-way, a
         * thaw still finds every hook that may have frozen, and --status
         * shows a thaw that never finished. */
        save(&c, rec);
        /* Before the first hook: nothing slow while the applications hold
         * their locks. */
        if (o->phase == FH_PHASE_FREEZE)
                fh_freeze_deadline_arm(c.state_dir, c.s, o->rerun_argv, log);

        run_plan(&c, plan, rec);
        if (c.sum->aborted)
                fh_freeze_deadline_disarm(c.state_dir, log);

        rec->finished_usec = now_realtime_usec();
        rec->duration_usec = run_duration(start);
        save(&c, rec);
        log_summary(&c, start);
        if (o->deadline_fired)
                fh_freeze_deadline_log_fired(log, o->deadline_fired, still_held(plan->freeze));
        publish(&c);
        if (lock_fd >= 0)
                close(lock_fd);
}
