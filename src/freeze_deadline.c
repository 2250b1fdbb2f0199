/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <syslog.h>
#include <unistd.h>

#include "caller.h"
#include "escape.h"
#include "freeze_deadline.h"
#include "platform.h"
#include "state.h"
#include "timeutil.h"
#include "trust.h"

static void format_time(int64_t usec, char buf[static FH_TIMESTAMP_MAX]) {
        fh_format_usec_timestamp(usec, "an unknown time", buf);
}

/* Why a deadline armed under another platform's agent thaws no
 * filesystem: whose thaw it is (see fh_deadline_thaws()). Sources:
 * open-vm-tools stateMachine.c (vmtoolsd freezes after the scripts and
 * thaws on its own timer); azure-linux-extensions VMBackup handle.py
 * (freeze_snapshot, fsFreezeEnabled); GoogleCloudPlatform/guest-agent
 * (no freeze anywhere); Nutanix: undocumented. */
static const char *whose_thaw(int caller) {
        static const char *const why[] = {
                [FH_PLATFORM_VMWARE] = "VMware Tools freezes them itself and thaws them",
                [FH_PLATFORM_NUTANIX] = "whatever Nutanix Guest Tools freezes, it thaws",
                [FH_PLATFORM_GCE] = "Google guest agent freezes none",
                [FH_PLATFORM_AZURE] = "Azure VM backup freezes them itself and thaws them",
        };

        return caller >= 0 && caller < (int) G_N_ELEMENTS(why) ? why[caller] : "";
}

static const char *caller_title(int caller) {
        return caller >= 0 ? fh_platform_info(caller)->title : "qemu-ga";
}

char *fh_freeze_deadline_fire_summary(const struct fh_deadline *d) {
        char when[FH_TIMESTAMP_MAX];

        format_time(d->fired_usec, when);
        if (fh_deadline_thaws(d))
                return g_strdup_printf("thawed %d filesystems and released the hooks at %s", d->thawed, when);
        return g_strdup_printf("released the hooks at %s and thawed no filesystem (%s)", when, whose_thaw(d->caller));
}

static char *describe_timer(const struct fh_deadline *d) {
        if (d->mechanism == FH_DEADLINE_SYSTEMD)
                return g_strdup_printf("systemd timer %s", d->unit);
        return g_strdup_printf("process %d", (int) d->pid);
}

/* Stops and forgets whatever deadline is recorded, fired or not. */
static void drop(const char *state_dir, struct fh_log *log) {
        g_autoptr(fh_deadline) d = NULL;
        int r = fh_deadline_read(state_dir, &d);

        if (r == 0 && (r = fh_deadline_stop(d)) < 0) {
                g_autofree char *timer = describe_timer(d);
                fh_log_message(log, LOG_WARNING, "deadline", "cannot stop the freeze deadline's %s: %s: it will "
                               "find itself disarmed when it fires", timer, g_strerror(-r));
        }
        if (r != -ENOENT)
                (void) fh_deadline_remove(state_dir);
}

/* Whether the fire may run from our working directory, where a freeze run
 * by hand finds its relative paths: as root, only if root may trust it.
 * systemd resolves it again when the deadline fires, and a user who
 * controls it could hang that (a FUSE mount) or choose what the fire's
 * hooks run in. Relative paths in such a directory are refused anyway (by
 * the trust policy), so running from / then loses nothing. */
static bool cwd_usable(struct fh_log *log) {
        g_autofree char *cwd = NULL, *problem = NULL, *shown = NULL;
        g_autoptr(fh_trust) trust = NULL;

        if (geteuid() != 0)
                return true;
        cwd = g_get_current_dir();
        trust = fh_trust_new(0);
        if (fh_trust_check_dir(trust, cwd, &problem) == 0)
                return true;
        shown = fh_escape_dup(cwd);
        fh_log_message(log, LOG_NOTICE, "deadline", "the freeze deadline will run from /, not from the working "
                       "directory %s: %s", shown, problem ? problem : "it cannot be examined");
        return false;
}

/* A deadline that would thaw the filesystems (qemu-ga's freeze) is armed
 * and has not fired: no thaw has come since (a thaw disarms it), so what
 * qemu-ga froze may still be frozen, and the deadline that replaces it
 * must thaw it too, whoever runs this freeze. */
static bool thaw_still_owed(const char *state_dir) {
        g_autoptr(fh_deadline) old = NULL;

        return fh_deadline_read(state_dir, &old) == 0 && !old->fired && fh_deadline_thaws(old);
}

void fh_freeze_deadline_arm(const char *state_dir, const struct fh_settings *s, char *const *rerun_argv,
                            struct fh_log *log) {
        g_autoptr(fh_deadline) d = NULL;
        g_autofree char *why = NULL, *timer = NULL;
        char when[FH_TIMESTAMP_MAX];
        int r, caller;

        if (!state_dir) {
                if (s->freeze_deadline_msec > 0)
                        fh_log_message(log, LOG_ERR, "deadline", "no freeze deadline without a usable state "
                                       "directory: if no thaw comes, the guest stays frozen");
                return;
        }
        caller = thaw_still_owed(state_dir) ? -1 : s->caller;
        drop(state_dir, log);
        if (s->freeze_deadline_msec == 0 || !rerun_argv)
                return;
        d = fh_deadline_new(s->freeze_deadline_msec, caller);
        r = fh_deadline_start(d, rerun_argv, cwd_usable(log), &why);
        if (why)
                fh_log_message(log, LOG_WARNING, "deadline", "cannot arm the freeze deadline through systemd "
                               "(%s): using a process of our own", why);
        if (r >= 0 && (r = fh_deadline_write(state_dir, d)) < 0)
                (void) fh_deadline_stop(d);
        if (r < 0) {
                fh_log_message(log, LOG_ERR, "deadline", "cannot arm the freeze deadline: %s: if no thaw comes, "
                               "the guest stays frozen", g_strerror(-r));
                return;
        }
        format_time(d->expires_usec, when);
        timer = describe_timer(d);
        if (fh_deadline_thaws(d))
                fh_log_message(log, LOG_INFO, "deadline", "freeze deadline armed: unless a thaw comes first, "
                               "everything is thawed at %s (%s)", when, timer);
        else
                fh_log_message(log, LOG_INFO, "deadline", "freeze deadline armed: unless a thaw comes first, the "
                               "hooks are released at %s (%s) and no filesystem is thawed: %s", when, timer,
                               whose_thaw(d->caller));
}

void fh_freeze_deadline_disarm(const char *state_dir, struct fh_log *log) {
        if (state_dir)
                drop(state_dir, log);
}

static bool freeze_still_held(const char *state_dir) {
        g_autoptr(fh_state_record) freeze = NULL;

        return fh_state_read(state_dir, FH_PHASE_FREEZE, &freeze) == 0 && freeze->awaiting_thaw;
}

/* The fire released every hook, and no thaw has come since: one now has
 * nothing left to release. */
static bool released_all(const char *state_dir, const struct fh_deadline *d) {
        return d->fired && d->late_thaw_usec <= 0 && !freeze_still_held(state_dir);
}

bool fh_freeze_deadline_released_all(const char *state_dir, struct fh_deadline **ret) {
        g_autoptr(fh_deadline) d = NULL;

        if (!state_dir || fh_deadline_read(state_dir, &d) < 0 || !released_all(state_dir, d))
                return false;
        *ret = g_steal_pointer(&d);
        return true;
}

bool fh_freeze_deadline_settle(const char *state_dir, struct fh_log *log) {
        g_autoptr(fh_deadline) d = NULL;
        g_autofree char *summary = NULL;
        char when[FH_TIMESTAMP_MAX], late[32];

        if (!state_dir || fh_deadline_read(state_dir, &d) < 0)
                return false;
        if (!d->fired) {
                drop(state_dir, log);
                return false;
        }
        /* Its late thaw came already: this one is a thaw of its own
         * (Proxmox thaws without a freeze). The record stays for --status
         * until the next freeze replaces it. */
        if (d->late_thaw_usec > 0)
                return false;
        /* The fire thawed the filesystems but was killed before its
         * thaw hooks had all run: this thaw releases the rest. */
        if (!released_all(state_dir, d)) {
                format_time(d->fired_usec, when);
                if (fh_deadline_thaws(d))
                        fh_log_message(log, LOG_WARNING, "deadline-late-thaw", "thaw: the freeze deadline thawed "
                                       "%d filesystems at %s but did not release every hook: this thaw releases "
                                       "the rest", d->thawed, when);
                else
                        fh_log_message(log, LOG_WARNING, "deadline-late-thaw", "thaw: the freeze deadline fired at "
                                       "%s but did not release every hook: this thaw releases the rest", when);
                return false;
        }
        d->late_thaw_usec = g_get_real_time();
        (void) fh_deadline_write(state_dir, d);
        summary = fh_freeze_deadline_fire_summary(d);
        fh_format_duration(d->late_thaw_usec - d->fired_usec, late, sizeof late);
        fh_log_message(log, LOG_WARNING, "deadline-late-thaw", "thaw: the freeze deadline already %s, %s before "
                       "this thaw: nothing is released twice", summary, late);
        return true;
}

/* Under another platform's agent: no "frozen for", which we cannot know
 * (Google's agent freezes nothing; vmtoolsd may have thawed long ago). */
static void log_fired_foreign(struct fh_log *log, const struct fh_deadline *d, unsigned held) {
        int64_t after = (d->fired_usec - d->armed_usec) / USEC_PER_SEC;
        const char *title = caller_title(d->caller), *why = whose_thaw(d->caller);

        if (held == 0)
                fh_log_message(log, LOG_ERR, "deadline", "no thaw came from %s %" G_GINT64_FORMAT " s after its "
                               "freeze: released the hooks and thawed no filesystem: %s", title, after, why);
        else
                fh_log_message(log, LOG_ERR, "deadline", "no thaw came from %s %" G_GINT64_FORMAT " s after its "
                               "freeze: thawed no filesystem (%s); %u hooks could not be released and stay held "
                               "for the next thaw", title, after, why, held);
}

void fh_freeze_deadline_log_fired(struct fh_log *log, const struct fh_deadline *d, unsigned held) {
        int64_t frozen = (d->fired_usec - d->armed_usec) / USEC_PER_SEC;

        if (!fh_deadline_thaws(d))
                log_fired_foreign(log, d, held);
        else if (held == 0)
                fh_log_message(log, LOG_ERR, "deadline", "the guest was frozen for %" G_GINT64_FORMAT " s and no "
                               "thaw came: thawed %d filesystems and released the hooks", frozen, d->thawed);
        else
                fh_log_message(log, LOG_ERR, "deadline", "the guest was frozen for %" G_GINT64_FORMAT " s and no "
                               "thaw came: thawed %d filesystems; %u hooks could not be released and stay held for "
                               "the next thaw", frozen, d->thawed, held);
}

static void print_fired(FILE *out, const char *state_dir, const struct fh_deadline *d) {
        int64_t after = (d->fired_usec - d->armed_usec) / USEC_PER_SEC;
        bool held = freeze_still_held(state_dir);
        char when[FH_TIMESTAMP_MAX];

        format_time(d->fired_usec, when);
        if (fh_deadline_thaws(d))
                fprintf(out, "Freeze deadline: fired at %s, %" G_GINT64_FORMAT " s after the freeze, no thaw having "
                        "come: thawed %d filesystems%s\n", when, after, d->thawed,
                        held ? "; hooks are still held, for the next thaw" : " and released the hooks");
        else
                fprintf(out, "Freeze deadline: fired at %s, %" G_GINT64_FORMAT " s after the freeze by %s, no thaw "
                        "having come: thawed no filesystem (%s)%s\n", when, after, caller_title(d->caller),
                        whose_thaw(d->caller),
                        held ? "; hooks are still held, for the next thaw" : " and released the hooks");
}

void fh_freeze_deadline_print(FILE *out, const char *state_dir) {
        g_autoptr(fh_deadline) d = NULL;
        char when[FH_TIMESTAMP_MAX], late[FH_TIMESTAMP_MAX];

        if (fh_deadline_read(state_dir, &d) < 0) {
                fprintf(out, "Freeze deadline: not armed\n");
                return;
        }
        if (!d->fired && fh_deadline_timer_alive(d) == 0) {
                g_autofree char *timer = describe_timer(d);
                format_time(d->expires_usec, when);
                fprintf(out, "Freeze deadline: LOST: its %s is gone: it will not fire at %s; if no thaw comes, "
                        "the guest stays frozen\n", timer, when);
                return;
        }
        if (!d->fired) {
                g_autofree char *timer = describe_timer(d);
                format_time(d->expires_usec, when);
                fprintf(out, "Freeze deadline: armed, fires at %s unless a thaw comes first (%" G_GINT64_FORMAT
                        " s after the freeze, %s)", when, d->msec / 1000, timer);
                if (!fh_deadline_thaws(d))
                        fprintf(out, ": it will release the hooks and thaw no filesystem: %s",
                                whose_thaw(d->caller));
                fputc('\n', out);
                return;
        }
        print_fired(out, state_dir, d);
        if (d->late_thaw_usec > 0) {
                format_time(d->late_thaw_usec, late);
                fprintf(out, "Late thaw: at %s, it released nothing\n", late);
        }
}

static void json_time(GString *s, const char *key, int64_t usec) {
        char buf[FH_TIMESTAMP_MAX];

        if (usec <= 0) {
                g_string_append_printf(s, ", \"%s\": null", key);
                return;
        }
        format_time(usec, buf);
        g_string_append_printf(s, ", \"%s\": \"%s\"", key, buf);
}

/* Every value is a number, a boolean, a timestamp, or a caller's or a
 * unit's name made of [a-z0-9.-]: nothing needs escaping. */
void fh_freeze_deadline_json(GString *s, const char *state_dir, bool ask_timer) {
        g_autoptr(fh_deadline) d = NULL;

        if (fh_deadline_read(state_dir, &d) < 0) {
                g_string_append(s, "{\"armed\": false, \"seconds\": null, \"caller\": null, \"armed_at\": null, \"expires\": null, "
                                "\"fired\": false, \"fired_at\": null, \"thawed_filesystems\": null, "
                                "\"late_thaw\": null, \"mechanism\": null, \"lost\": false}");
                return;
        }
        bool lost = !d->fired && ask_timer && fh_deadline_timer_alive(d) == 0;

        g_string_append_printf(s, "{\"armed\": %s, \"seconds\": %.3f, \"caller\": \"%s\"",
                               d->fired || lost ? "false" : "true", d->msec / 1000.0, fh_caller_name(d->caller));
        json_time(s, "armed_at", d->armed_usec);
        json_time(s, "expires", d->expires_usec);
        g_string_append_printf(s, ", \"fired\": %s", d->fired ? "true" : "false");
        json_time(s, "fired_at", d->fired_usec);
        if (d->fired && d->thawed >= 0)
                g_string_append_printf(s, ", \"thawed_filesystems\": %d", d->thawed);
        else
                g_string_append(s, ", \"thawed_filesystems\": null");
        json_time(s, "late_thaw", d->late_thaw_usec);
        g_string_append_printf(s, ", \"mechanism\": \"%s\", \"lost\": %s}",
                               d->mechanism == FH_DEADLINE_SYSTEMD ? "systemd" : "process", lost ? "true" : "false");
}
