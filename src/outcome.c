/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "deadline.h"
#include "escape.h"
#include "outcome.h"
#include "runfile.h"
#include "state.h"
#include "status.h"
#include "timeutil.h"

/* Readable by all: the host reads status.json through the agent, which
 * runs as root anyway, and nothing in it is secret that the log does not
 * already show to its readers. */
static int write_atomically(const char *path, const char *data, size_t len) {
        return fh_runfile_write(path, data, len, 0644);
}

/* Without asking the deadline's timer: after a freeze, the applications
 * hold their locks until qemu-ga's FIFREEZE, and a systemd that stalls
 * would hold them for the bus timeout. The only timer that can be armed
 * here is the one the freeze has just started (a thaw or an abort removes
 * it, a fire has fired it); whether it is lost later, only --status can
 * tell, by asking. */
int fh_outcome_write_status(const char *state_dir) {
        g_autofree char *doc = fh_status_json(state_dir, false, NULL);
        g_autofree char *path = g_build_filename(state_dir, FH_STATUS_FILE, NULL);

        return write_atomically(path, doc, strlen(doc));
}

/* --- metrics ---------------------------------------------------------------- */

struct counters {
        int64_t freezes, thaws, hook_failures, deadline_thaws;
};

/* Counters since boot (the state directory is under /run): Prometheus
 * takes a reset to zero as a restart. */
static void update_counters(const char *state_dir, const struct fh_outcome_phase *p, struct counters *ret) {
        g_autofree char *path = g_build_filename(state_dir, "counters", NULL);
        g_autofree char *text = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();

        *ret = (struct counters) { 0 };
        if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
                ret->freezes = g_key_file_get_int64(kf, "counters", "freezes", NULL);
                ret->thaws = g_key_file_get_int64(kf, "counters", "thaws", NULL);
                ret->hook_failures = g_key_file_get_int64(kf, "counters", "hook-failures", NULL);
                ret->deadline_thaws = g_key_file_get_int64(kf, "counters", "deadline-thaws", NULL);
        }
        if (p->phase == FH_PHASE_FREEZE)
                ret->freezes++;
        else
                ret->thaws++;
        ret->hook_failures += p->n_failed;
        ret->deadline_thaws += p->deadline_fired;
        text = g_strdup_printf("[counters]\nfreezes=%" G_GINT64_FORMAT "\nthaws=%" G_GINT64_FORMAT
                               "\nhook-failures=%" G_GINT64_FORMAT "\ndeadline-thaws=%" G_GINT64_FORMAT "\n",
                               ret->freezes, ret->thaws, ret->hook_failures, ret->deadline_thaws);
        (void) write_atomically(path, text, strlen(text));
}

/* A label value: escaped as in the log (valid UTF-8, no controls), then
 * backslashes and quotes escaped as the exposition format wants. */
static void label(GString *s, const char *raw) {
        g_autofree char *text = fh_escape_dup(raw);

        for (const char *p = text; *p; p++) {
                if (*p == '"' || *p == '\\')
                        g_string_append_c(s, '\\');
                g_string_append_c(s, *p);
        }
}

static void family(GString *s, const char *name, const char *type, const char *help) {
        g_string_append_printf(s, "# HELP fsfreeze_hook_%s %s\n# TYPE fsfreeze_hook_%s %s\n", name, help, name, type);
}

static bool hook_failed(const struct fh_state_hook *h) {
        return !h->ran || h->status != 0;
}

static void phase_metrics(GString *s, struct fh_state_record *const rec[2]) {
        family(s, "phase_last_start_timestamp_seconds", "gauge", "When the last freeze or thaw started.");
        for (int i = 0; i < 2; i++)
                if (rec[i])
                        g_string_append_printf(s, "fsfreeze_hook_phase_last_start_timestamp_seconds{phase=\"%s\"} %.3f\n",
                                               fh_phase_to_string(rec[i]->phase), rec[i]->started_usec / 1e6);
        family(s, "phase_last_duration_seconds", "gauge", "How long the last freeze or thaw took, if it finished.");
        for (int i = 0; i < 2; i++)
                if (rec[i] && rec[i]->finished_usec > 0)
                        g_string_append_printf(s, "fsfreeze_hook_phase_last_duration_seconds{phase=\"%s\"} %.6f\n",
                                               fh_phase_to_string(rec[i]->phase),
                                               (rec[i]->finished_usec - rec[i]->started_usec) / 1e6);
        family(s, "phase_last_failed_hooks", "gauge",
               "Hooks of the last freeze or thaw that failed, were refused or did not run.");
        for (int i = 0; i < 2; i++) {
                unsigned n = 0;

                if (!rec[i])
                        continue;
                for (guint k = 0; k < rec[i]->hooks->len; k++)
                        n += hook_failed(rec[i]->hooks->pdata[k]);
                g_string_append_printf(s, "fsfreeze_hook_phase_last_failed_hooks{phase=\"%s\"} %u\n",
                                       fh_phase_to_string(rec[i]->phase), n);
        }
}

static void hook_metrics(GString *s, struct fh_state_record *const rec[2], bool duration) {
        if (duration)
                family(s, "hook_last_duration_seconds", "gauge", "How long each hook of the last freeze and thaw ran.");
        else
                family(s, "hook_last_status", "gauge", "Exit status of each hook of the last freeze and thaw "
                       "(128+N: killed by signal N; -1: not run).");
        for (int i = 0; i < 2; i++)
                for (guint k = 0; rec[i] && k < rec[i]->hooks->len; k++) {
                        const struct fh_state_hook *h = rec[i]->hooks->pdata[k];

                        if (duration && h->duration_usec < 0)
                                continue;
                        g_string_append_printf(s, "fsfreeze_hook_hook_last_%s{phase=\"%s\",hook=\"",
                                               duration ? "duration_seconds" : "status",
                                               fh_phase_to_string(rec[i]->phase));
                        label(s, h->name);
                        if (duration)
                                g_string_append_printf(s, "\"} %.6f\n", h->duration_usec / 1e6);
                        else
                                g_string_append_printf(s, "\"} %d\n", h->ran ? h->status : -1);
                }
}

static void counter(GString *s, const char *name, const char *help, int64_t value) {
        family(s, name, "counter", help);
        g_string_append_printf(s, "fsfreeze_hook_%s %" G_GINT64_FORMAT "\n", name, value);
}

static void gauge(GString *s, const char *name, const char *help, int64_t value) {
        family(s, name, "gauge", help);
        g_string_append_printf(s, "fsfreeze_hook_%s %" G_GINT64_FORMAT "\n", name, value);
}

int fh_outcome_write_metrics(const char *path, const char *state_dir, const struct fh_outcome_phase *p) {
        g_autoptr(fh_state_record) freeze = NULL;
        g_autoptr(fh_state_record) thaw = NULL;
        g_autoptr(fh_deadline) d = NULL;
        g_autoptr(GString) s = g_string_sized_new(4096);
        struct fh_state_record *rec[2];
        struct counters c;

        (void) fh_state_read(state_dir, FH_PHASE_FREEZE, &freeze);
        (void) fh_state_read(state_dir, FH_PHASE_THAW, &thaw);
        (void) fh_deadline_read(state_dir, &d);
        rec[0] = freeze;
        rec[1] = thaw;
        update_counters(state_dir, p, &c);
        phase_metrics(s, rec);
        hook_metrics(s, rec, false);
        hook_metrics(s, rec, true);
        gauge(s, "awaiting_thaw", "1 while a freeze awaits its thaw: the guest may be frozen now.",
              freeze && freeze->awaiting_thaw);
        gauge(s, "deadline_armed", "1 while a freeze deadline is armed.", d && !d->fired);
        gauge(s, "deadline_last_fired", "1 if no thaw came in time after the last freeze and its deadline fired.",
              d && d->fired);
        counter(s, "freezes_total", "Freezes since boot.", c.freezes);
        counter(s, "thaws_total", "Thaws since boot, the deadline's included.", c.thaws);
        counter(s, "hook_failures_total", "Hooks that failed, were refused or did not run, since boot.",
                c.hook_failures);
        counter(s, "deadline_thaws_total", "Freezes that no thaw ended in time, so that the deadline fired, since boot.",
                c.deadline_thaws);
        /* Its directory may be inside a user's (see runfile.h). */
        return fh_runfile_write_nofollow(path, s->str, s->len, 0644);
}
