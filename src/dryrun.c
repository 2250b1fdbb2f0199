/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "dryrun.h"
#include "deadline.h"
#include "escape.h"
#include "foreign.h"
#include "freeze_deadline.h"
#include "plan.h"
#include "spawn.h"
#include "timeutil.h"

/* Why an entry that the plan would run is refused when its file is
 * checked (the dry run opens it, as the run would), or NULL. */
static char *file_refusal(struct fh_trust *trust, bool strict, const struct fh_plan_item *item) {
        struct fh_foreign_exec file = { .file = { .fd = -1 }, .script = { .fd = -1 } };
        g_autofree char *problem = NULL;
        int r;

        if (!trust || item->nothing_to_run)
                return NULL;
        r = fh_foreign_open(trust, item, FH_FOREIGN_FREEZE, strict, NULL, &file, &problem);
        if (r == 0)
                fh_foreign_exec_done(&file);
        if (r == -EPERM)
                return g_strdup_printf("refused: %s", problem);
        if (r < 0)
                return fh_foreign_open_failure(item, r);
        return NULL;
}

static unsigned existing_dirs(const struct fh_plan *plan) {
        unsigned n = 0;

        for (guint k = 0; k < plan->dirs->len; k++)
                n += g_array_index(plan->dirs, struct fh_dir_scan, k).error == 0;
        return n;
}

static void print_header(FILE *out, const struct fh_plan *plan) {
        const char *phase = fh_phase_to_string(plan->phase);
        g_autoptr(GString) dirs = g_string_new(NULL);

        for (guint k = 0; k < plan->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(plan->dirs, struct fh_dir_scan, k);
                g_autofree char *shown = fh_escape_dup(d->dir);
                const char *why = fh_dir_scan_error(d);

                g_string_append_printf(dirs, "%s%s", k ? ", " : "", shown);
                if (why)
                        g_string_append_printf(dirs, " (%s)", why);
        }
        fprintf(out, "%s: hooks in %s, in run order (dry run: nothing is executed)\n", phase, dirs->str);
        if (plan->freeze) {
                char when[FH_TIMESTAMP_MAX];

                fh_format_usec_timestamp(plan->freeze->started_usec, "an unknown time", when);
                fprintf(out, "thaw: pairs with the freeze of %s: the hooks it ran, in reverse\n", when);
        }
        for (guint k = 0; k < plan->dir_problems->len; k++)
                fprintf(out, "%s\n", (const char *) plan->dir_problems->pdata[k]);
}

/* As the thaw decides (fh_freeze_deadline_settle): after the freeze
 * deadline released everything, a thaw runs no hook. */
static bool already_released(FILE *out, const char *state_dir) {
        g_autoptr(fh_deadline) d = NULL;
        g_autofree char *summary = NULL;

        if (!fh_freeze_deadline_released_all(state_dir, &d))
                return false;
        summary = fh_freeze_deadline_fire_summary(d);
        fprintf(out, "thaw: the freeze deadline already %s: a thaw now runs no hook\n", summary);
        return true;
}

/* Other platforms' scripts that platform-scripts= leaves out. */
static void print_not_enabled(FILE *out, const struct fh_plan *plan) {
        for (guint k = 0; plan->not_enabled && k < plan->not_enabled->len; k++)
                fprintf(out, "note  %s\n", (const char *) plan->not_enabled->pdata[k]);
}

void fh_print_plan(FILE *out, enum fh_phase phase, const struct fh_settings *s, struct fh_trust *trust) {
        const char *state_dir = s->state_dir;
        g_autoptr(fh_plan) plan = NULL;
        g_autofree char *problem = NULL;
        bool where;

        /* As the run: a freeze record in an untrusted directory may be
         * forged, and is not paired with. */
        if (trust && fh_trust_check_new_dir(trust, state_dir, &problem) == -EPERM) {
                g_autofree char *shown = fh_escape_dup(state_dir);
                fprintf(out, "state directory %s is not trusted: %s: freeze and thaw are not paired\n", shown,
                        problem);
                state_dir = NULL;
        }
        if (phase == FH_PHASE_THAW && already_released(out, state_dir))
                return;
        plan = fh_plan_build(phase, s, trust, state_dir);
        print_header(out, plan);
        /* With several directories, say where each entry comes from. */
        where = existing_dirs(plan) > 1 || plan->freeze;
        for (guint k = 0; k < plan->items->len; k++) {
                const struct fh_plan_item *item = plan->items->pdata[k];
                g_autofree char *name = fh_escape_dup(item->name);
                g_autofree char *path = where ? fh_escape_dup(item->path) : NULL;
                g_autofree char *why = item->run ? file_refusal(trust, s->strict_modes, item) : g_strdup(item->why);
                g_autoptr(GString) extra = g_string_new(NULL);

                if (path)
                        g_string_append(extra, path);
                if (item->note)
                        g_string_append_printf(extra, "%s%s", extra->len ? "; " : "", item->note);
                if (item->nothing_to_run)
                        g_string_append_printf(extra, "%sno freeze script: only its thaw script runs",
                                               extra->len ? "; " : "");
                if (why)
                        fprintf(out, "skip  %s: %s", name, why);
                else
                        fprintf(out, "run   %s", name);
                if (extra->len)
                        fprintf(out, "  (%s)", extra->str);
                fputc('\n', out);
        }
        for (guint k = 0; k < plan->notes->len; k++)
                fprintf(out, "note  %s\n", (const char *) plan->notes->pdata[k]);
        print_not_enabled(out, plan);
}
