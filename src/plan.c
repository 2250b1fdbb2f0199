/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "plan.h"
#include "scan.h"

static void item_free(gpointer p) {
        struct fh_plan_item *i = p;

        g_free(i->name);
        g_free(i->path);
        g_free(i->dir);
        g_free(i->why);
        g_free(i->note);
        g_free(i);
}

void fh_plan_free(struct fh_plan *p) {
        if (!p)
                return;
        g_ptr_array_unref(p->items);
        if (p->dirs)
                g_array_unref(p->dirs);
        g_ptr_array_unref(p->dir_problems);
        g_ptr_array_unref(p->notes);
        fh_state_record_free(p->freeze);
        g_free(p);
}

static struct fh_plan_item *item_new(const char *name, const char *path, const char *dir) {
        struct fh_plan_item *i = g_new0(struct fh_plan_item, 1);

        i->name = g_strdup(name);
        i->path = g_strdup(path);
        i->dir = g_strdup(dir);
        i->run = true;
        return i;
}

/* "overrides /usr/lib/.../10-x" for the dry run. */
static char *describe_overrides(const struct fh_hook *h) {
        g_autoptr(GString) s = NULL;

        if (!h->overridden || h->overridden->len == 0)
                return NULL;
        s = g_string_new(h->verdict == FH_VERDICT_MASKED ? "hides " : "overrides ");
        for (guint k = 0; k < h->overridden->len; k++) {
                g_autofree char *shown = fh_escape_dup(h->overridden->pdata[k]);
                g_string_append_printf(s, "%s%s", k ? ", " : "", shown);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The verdict of the scan, the [hook NAME] settings and the trust of the
 * directory, for one merged entry. */
static struct fh_plan_item *item_for_hook(const struct fh_hook *h, const struct fh_settings *s,
                                          GHashTable *untrusted, bool freeze) {
        struct fh_plan_item *i = item_new(h->name, h->path, h->dir);
        const char *problem = g_hash_table_lookup(untrusted, h->dir);

        i->note = describe_overrides(h);
        i->timeout_msec = fh_settings_timeout(s, h->name, freeze);
        if (h->verdict != FH_VERDICT_RUN) {
                i->run = false;
                i->notable = fh_verdict_is_notable(h->verdict);
                i->why = fh_hook_describe_skip(h);
        } else if (!fh_settings_enabled(s, h->name)) {
                i->run = false;
                i->why = g_strdup_printf("disabled (enabled=false in [hook %s])", h->name);
        } else if (problem && s->strict_modes) {
                i->run = false;
                i->refused = true;
                i->notable = true;
                i->why = g_strdup("refused: its directory is not trusted");
        }
        return i;
}

/* Trust of each hook directory that exists, each problem said once. */
static GHashTable *check_dirs(struct fh_plan *p, const struct fh_settings *s, struct fh_trust *trust) {
        GHashTable *untrusted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        for (guint k = 0; trust && k < p->dirs->len; k++) {
                const struct fh_dir_scan *d = &g_array_index(p->dirs, struct fh_dir_scan, k);
                g_autofree char *problem = NULL, *shown = NULL;

                if (d->error < 0 || fh_trust_check_dir(trust, d->dir, &problem) == 0)
                        continue;
                shown = fh_escape_dup(d->dir);
                g_ptr_array_add(p->dir_problems,
                                g_strdup_printf("hook directory %s is not trusted: %s: %s", shown, problem,
                                                s->strict_modes ? "none of its hooks run"
                                                                : "running its hooks anyway (strict modes are off)"));
                g_hash_table_insert(untrusted, g_strdup(d->dir), g_steal_pointer(&problem));
        }
        return untrusted;
}

static void plan_current(struct fh_plan *p, GPtrArray *hooks, const struct fh_settings *s, GHashTable *untrusted,
                         const char *froze) {
        for (guint k = 0; k < hooks->len; k++) {
                struct fh_plan_item *i = item_for_hook(hooks->pdata[k], s, untrusted, p->phase == FH_PHASE_FREEZE);

                i->froze = froze;
                g_ptr_array_add(p->items, i);
        }
        if (p->phase == FH_PHASE_THAW)
                fh_hooks_reverse(p->items);
}

/* A thaw that pairs with a recorded freeze: exactly the hooks that ran
 * freeze, in reverse, from where they ran, whatever the directories hold
 * now. A freeze that never finished (the dispatcher was killed) may have
 * started any of its planned hooks: all of them are thawed. */
static void plan_paired(struct fh_plan *p, GPtrArray *hooks, const struct fh_settings *s, GHashTable *untrusted) {
        const struct fh_state_record *f = p->freeze;
        bool complete = f->finished_usec > 0;

        for (guint k = f->hooks->len; k-- > 0;) {
                const struct fh_state_hook *h = f->hooks->pdata[k];
                g_autofree char *dir = g_path_get_dirname(h->path);
                struct fh_plan_item *i;
                struct stat st;

                if (complete && !h->ran)
                        continue;
                i = item_new(h->name, h->path, dir);
                i->froze = "yes";
                i->timeout_msec = fh_settings_timeout(s, h->name, false);
                if (stat(h->path, &st) < 0) {
                        i->run = false;
                        i->notable = true;
                        i->why = g_strdup_printf("ran freeze but is gone: cannot thaw it (%s)", g_strerror(errno));
                } else if (g_hash_table_lookup(untrusted, dir) && s->strict_modes) {
                        i->run = false;
                        i->refused = true;
                        i->notable = true;
                        i->why = g_strdup("refused: its directory is not trusted");
                }
                g_ptr_array_add(p->items, i);
        }

        /* What is there now but did not freeze is left alone. */
        for (guint k = 0; k < hooks->len; k++) {
                const struct fh_hook *h = hooks->pdata[k];
                const struct fh_state_hook *rec = fh_state_record_find(f, h->name);
                g_autofree char *shown = fh_escape_dup(h->path);

                if (h->verdict != FH_VERDICT_RUN || !fh_settings_enabled(s, h->name) || (rec && (rec->ran || !complete)))
                        continue;
                g_ptr_array_add(p->notes,
                                g_strdup_printf("%s not thawed: %s", shown,
                                                rec ? "its freeze did not run" : "added after the freeze"));
        }
}

struct fh_plan *fh_plan_build(enum fh_phase phase, const struct fh_settings *s, struct fh_trust *trust,
                              const char *state_dir) {
        struct fh_plan *p = g_new0(struct fh_plan, 1);
        g_autoptr(GPtrArray) hooks = NULL;
        g_autoptr(GHashTable) untrusted = NULL;
        const char *froze = NULL;

        p->phase = phase;
        p->items = g_ptr_array_new_with_free_func(item_free);
        p->dir_problems = g_ptr_array_new_with_free_func(g_free);
        p->notes = g_ptr_array_new_with_free_func(g_free);
        fh_scan_dirs(s->hook_dirs, &hooks, &p->dirs);
        untrusted = check_dirs(p, s, trust);

        if (phase == FH_PHASE_THAW) {
                int r = state_dir ? fh_state_read(state_dir, FH_PHASE_FREEZE, &p->freeze) : -EBADMSG;

                if (r == 0 && p->freeze->awaiting_thaw) {
                        plan_paired(p, hooks, s, untrusted);
                        return p;
                }
                g_clear_pointer(&p->freeze, fh_state_record_free);
                froze = r == 0 || r == -ENOENT ? "no" : "unknown";
        }
        plan_current(p, hooks, s, untrusted, froze);
        return p;
}
