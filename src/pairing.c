/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <syslog.h>
#include <unistd.h>

#include "escape.h"
#include "pairing.h"
#include "supervise.h"
#include "timeutil.h"

static const char *usable_state_dir(const struct fh_settings *s, struct fh_trust *trust, struct fh_log *log) {
        g_autofree char *problem = NULL, *dir = fh_escape_dup(s->state_dir);

        /* Judged before it is created too: root must not create it where
         * a user's symlink points. */
        if (trust && fh_trust_check_new_dir(trust, s->state_dir, &problem) == -EPERM) {
                fh_log_message(log, LOG_ERR, "untrusted", "state directory %s is not trusted: %s: freeze and "
                               "thaw are not paired", dir, problem);
                return NULL;
        }
        g_clear_pointer(&problem, g_free);
        if (g_mkdir_with_parents(s->state_dir, 0755) < 0) {
                fh_log_message(log, LOG_WARNING, "state-error", "cannot create state directory %s: %s: freeze "
                               "and thaw are not paired", dir, g_strerror(errno));
                return NULL;
        }
        if (trust && fh_trust_check_dir(trust, s->state_dir, &problem) < 0) {
                fh_log_message(log, LOG_ERR, "untrusted", "state directory %s is not trusted: %s: freeze and "
                               "thaw are not paired", dir, problem);
                return NULL;
        }
        return s->state_dir;
}

void fh_pairing_open(struct fh_pairing *p, const struct fh_settings *s, struct fh_trust *trust,
                     struct fh_log *log) {
        *p = (struct fh_pairing) { .log = log };
        p->dir = usable_state_dir(s, trust, log);
}

/* One dispatcher at a time per state directory: a thaw by hand while
 * qemu-ga's freeze runs would pair with a record still being written. It
 * waits for the other, while still answering signals, up to a minute. */
#define LOCK_WAIT_MSEC 60000

int fh_pairing_lock(const struct fh_pairing *p, int signal_fd, int *interrupted_by) {
        g_autofree char *path = g_build_filename(p->dir, "lock", NULL);
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        bool said = false;

        if (fd < 0) {
                int error = errno;
                g_autofree char *shown = fh_escape_dup(path);

                fh_log_message(p->log, LOG_WARNING, "lock", "going on without the state lock (cannot open %s: %s)",
                               shown, g_strerror(error));
                return -1;
        }
        for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
                struct pollfd pfd = { .fd = signal_fd, .events = POLLIN };

                if (*interrupted_by)
                        break;
                if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MSEC) {
                        fh_log_message(p->log, LOG_WARNING, "lock", "going on without the state lock (%s)",
                                       waited >= LOCK_WAIT_MSEC ? "the other dispatcher still runs"
                                                                 : g_strerror(errno));
                        break;
                }
                if (!said)
                        fh_log_message(p->log, LOG_NOTICE, "lock", "another fsfreeze-hook is running: waiting for it");
                said = true;
                fh_log_flush(p->log);
                if (signal_fd >= 0 && poll(&pfd, 1, 50) > 0)
                        *interrupted_by = fh_pending_interrupt(signal_fd);
        }
        return fd;
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

/* The record of a freeze that no thaw has released, or NULL. */
static struct fh_state_record *unthawed_freeze(const struct fh_pairing *p) {
        struct fh_state_record *old = NULL;

        if (!p->dir || fh_state_read(p->dir, FH_PHASE_FREEZE, &old) < 0)
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
static void carry_over(const struct fh_pairing *p, const struct fh_state_record *old, struct fh_state_record *rec) {
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
        fh_log_message(p->log, LOG_WARNING, "unthawed", "the previous freeze was never thawed: %u of its hooks are "
                       "not in this one and will be thawed with it", n);
}

struct fh_state_record *fh_pairing_start_record(const struct fh_pairing *p, const struct fh_settings *s,
                                                const struct fh_plan *plan) {
        struct fh_state_record *rec = fh_state_record_new(plan->phase);

        rec->started_usec = now_realtime_usec();
        (void) fh_now_monotonic_usec(&rec->started_monotonic_usec);
        rec->on_failure = g_strdup(fh_on_failure_to_string(s->on_failure));
        rec->awaiting_thaw = plan->phase == FH_PHASE_FREEZE;
        rec->per_hook = plan->phase == FH_PHASE_FREEZE;
        for (guint k = 0; k < plan->items->len; k++) {
                const struct fh_plan_item *item = plan->items->pdata[k];
                if (item->run)
                        fh_state_record_add(rec, item->name, item->path);
        }
        if (plan->phase == FH_PHASE_FREEZE && p->dir) {
                g_autoptr(fh_state_record) old = unthawed_freeze(p);

                /* The older record stays until this one replaces it (a
                 * rename): killed before that, the thaw still pairs with
                 * it; should this one fail to be written, fh_pairing_save()
                 * removes it, so that no thaw pairs with a stale one. */
                if (old)
                        carry_over(p, old, rec);
        }
        return rec;
}

void fh_pairing_save(const struct fh_pairing *p, struct fh_state_record *rec) {
        int r;

        if (!p->dir)
                return;
        r = fh_state_write(p->dir, rec);
        if (r < 0) {
                /* No record rather than a stale one: the thaw then runs
                 * every current hook and tells them FSFREEZE_FROZE=unknown. */
                (void) fh_state_remove(p->dir, rec->phase);
                g_autofree char *dir = fh_escape_dup(p->dir);
                fh_log_message(p->log, LOG_WARNING, "state-error", "cannot write the %s record in %s: %s",
                               fh_phase_to_string(rec->phase), dir, g_strerror(-r));
        }
}

void fh_pairing_finish_record(const struct fh_pairing *p, struct fh_state_record *rec, int64_t start) {
        rec->finished_usec = now_realtime_usec();
        rec->duration_usec = run_duration(start);
        fh_pairing_save(p, rec);
}

void fh_pairing_starting(const struct fh_pairing *p, struct fh_state_record *rec, struct fh_state_hook *h) {
        h->running = true;
        g_free(h->outcome);
        h->outcome = g_strdup("running: started, no end recorded");
        fh_pairing_save(p, rec);
}

void fh_pairing_record(struct fh_state_hook *h, const struct fh_result *r, bool refused) {
        char outcome[256];

        h->running = false;
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

void fh_pairing_mark_not_run(struct fh_state_record *rec, const char *name, const char *why) {
        struct fh_state_hook *h = fh_state_record_find(rec, name);

        if (h) {
                g_free(h->outcome);
                h->outcome = g_strdup(why);
        }
}

/* Whether a hook's thaw has happened, as far as it ever can: it ran to its
 * own end (exited, failed, or timed out and killed: running it again would
 * hang again), or it is gone (removed since the scan). Not when the trust
 * policy refused it ('allowed' false: the log says how to fix it, and the
 * fixed hook must still be told that it froze), nor when it could not be
 * opened for another reason or our own set-up failed (no descriptor, no
 * pipe, no fork), nor when we cut it short because the
 * dispatcher itself was told to stop: its application may still be
 * locked, and thaw hooks are written to run twice (qemu-ga runs them
 * after every thaw request), so the next thaw runs it again. */
bool fh_pairing_thaw_done(bool allowed, const struct fh_result *r) {
        if (!allowed)
                return false;
        /* A hook that still exited 0 had finished its work: the signal
         * came as it ended (it may even have sent it). */
        if (r->interrupted_by && (r->signal != 0 || r->exit_status != 0))
                return false;
        /* failed_step is NULL when the open failed, before any step. */
        return r->error == 0 || (!r->failed_step && r->error == -ENOENT);
}

/* A thaw paired with a freeze has dealt with hook 'name': the freeze
 * record says so at once, so that a thaw cut short (a signal, SIGKILL)
 * leaves exactly the others awaiting the next thaw. */
void fh_pairing_release(struct fh_pairing *p, struct fh_state_record *freeze, const char *name) {
        struct fh_state_hook *h = fh_state_record_find(freeze, name);
        g_autofree char *dir = NULL;
        int r;

        if (!h || !fh_state_hook_held(freeze, h))
                return;
        fh_state_release(freeze, h);
        if (!p->dir || (r = fh_state_write(p->dir, freeze)) == 0 || p->release_error)
                return;
        /* Kept as it was: the next thaw then releases some hooks again,
         * which a thaw must bear, rather than none. */
        p->release_error = r;
        dir = fh_escape_dup(p->dir);
        fh_log_message(p->log, LOG_WARNING, "state-error", "cannot record the release of the freeze in %s: %s",
                       dir, g_strerror(-r));
}

unsigned fh_pairing_still_held(const struct fh_state_record *freeze) {
        unsigned n = 0;

        for (guint k = 0; freeze && k < freeze->hooks->len; k++)
                n += fh_state_hook_held(freeze, freeze->hooks->pdata[k]);
        return n;
}
