/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "foreign.h"
#include "plan.h"
#include "scan.h"

void fh_plan_item_free(gpointer p) {
        struct fh_plan_item *i = p;

        if (!i)
                return;
        g_strfreev(i->params);
        g_free(i->name);
        g_free(i->path);
        g_free(i->dir);
        g_free(i->why);
        g_free(i->note);
        g_free(i->moved_from);
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
        if (p->not_enabled)
                g_ptr_array_unref(p->not_enabled);
        fh_state_record_free(p->freeze);
        g_free(p);
}

struct fh_plan_item *fh_plan_item_new(const char *name, const char *path, const char *dir) {
        struct fh_plan_item *i = g_new0(struct fh_plan_item, 1);

        i->platform = -1;
        i->name = g_strdup(name);
        i->path = g_strdup(path);
        i->dir = g_strdup(dir);
        i->run = true;
        return i;
}

static void refuse(struct fh_plan_item *i) {
        i->run = false;
        i->verdict = FH_VERDICT_REFUSED;
        i->refused = true;
        i->notable = true;
        i->why = g_strdup("refused: its directory is not trusted");
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

/* A mask is the administrator's only if nobody else could have made the
 * entry lead to /dev/null: through a user's link, a hook that would be
 * refused (an error, a failed freeze under on-failure=abort) would become
 * a silent mask. Returns the problem, or NULL. */
static char *mask_problem(struct fh_trust *trust, const struct fh_hook *h) {
        g_autofree char *problem = NULL;
        struct stat st;
        int fd;

        if (!trust)
                return NULL;
        if (fh_trust_open_in(trust, h->dir, h->name, O_PATH, &fd, &st, &problem) == 0)
                close(fd);
        return g_steal_pointer(&problem);
}

/* The verdict of the scan, the [hook NAME] settings and the trust of the
 * directory, for one merged entry. */
static struct fh_plan_item *item_for_hook(const struct fh_hook *h, const struct fh_settings *s, struct fh_trust *trust,
                                          GHashTable *untrusted, bool freeze) {
        struct fh_plan_item *i = fh_plan_item_new(h->name, h->path, h->dir);
        const char *problem = g_hash_table_lookup(untrusted, h->dir);

        i->note = describe_overrides(h);
        i->timeout_msec = fh_settings_timeout(s, h->name, freeze);
        if (h->verdict != FH_VERDICT_RUN) {
                i->run = false;
                i->verdict = h->verdict;
                i->notable = fh_verdict_is_notable(h->verdict);
                i->why = fh_hook_describe_skip(h);
                if (h->verdict == FH_VERDICT_MASKED && s->strict_modes) {
                        g_autofree char *mask = mask_problem(trust, h);
                        if (mask) {
                                g_free(i->why);
                                refuse(i);
                                g_free(i->why);
                                i->why = g_strdup_printf("refused: %s", mask);
                        }
                }
        } else if (!fh_settings_enabled(s, h->name)) {
                g_autofree char *name = fh_escape_dup(h->name);
                i->run = false;
                i->verdict = FH_VERDICT_DISABLED;
                i->why = g_strdup_printf("disabled (enabled=false in [hook %s])", name);
        } else if (problem && s->strict_modes)
                refuse(i);
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

/* The freeze record pairs by name: a second entry of a name (a
 * backupScripts.d file named "legacy" beside the legacy scripts, a hook
 * named "vmware:x" beside backupScripts.d/x) would share the first one's
 * record, and its freeze would never be thawed. Only the first of a name
 * runs, in freeze order; the other says why, at every run. */
static void skip_same_names(GPtrArray *items) {
        g_autoptr(GHashTable) first = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint k = 0; k < items->len; k++) {
                struct fh_plan_item *i = items->pdata[k];
                const struct fh_plan_item *other = g_hash_table_lookup(first, i->name);
                g_autofree char *name = NULL, *path = NULL;

                if (!other) {
                        g_hash_table_insert(first, i->name, i);
                        continue;
                }
                if (!i->run)
                        continue;       /* skipped already, for its own reason */
                name = fh_escape_dup(i->name);
                path = fh_escape_dup(other->path);
                i->run = false;
                i->nothing_to_run = false;
                i->verdict = FH_VERDICT_DISABLED;
                i->notable = true;
                i->why = g_strdup_printf("its name %s is also %s's, and freeze and thaw are paired by name "
                                         "(fix: rename one)", name, path);
        }
}

/* Freeze: the other platforms' scripts first (the outer layer the
 * applications already relied on), then the hook directories (ours, next
 * to the freeze); a thaw is the exact reverse, as pairing needs. */
static void plan_current(struct fh_plan *p, GPtrArray *hooks, const struct fh_settings *s, struct fh_trust *trust,
                         GHashTable *untrusted, const char *froze) {
        fh_foreign_plan(s, p->phase, trust, p->items);
        for (guint k = 0; k < p->items->len; k++)
                ((struct fh_plan_item *) p->items->pdata[k])->froze = froze;
        for (guint k = 0; k < hooks->len; k++) {
                struct fh_plan_item *i = item_for_hook(hooks->pdata[k], s, trust, untrusted,
                                                       p->phase == FH_PHASE_FREEZE);

                i->froze = froze;
                g_ptr_array_add(p->items, i);
        }
        skip_same_names(p->items);
        if (p->phase == FH_PHASE_THAW)
                fh_hooks_reverse(p->items);
}

static const struct fh_hook *current_hook(GPtrArray *hooks, const char *name) {
        for (guint k = 0; k < hooks->len; k++) {
                const struct fh_hook *h = hooks->pdata[k];
                if (strcmp(h->name, name) == 0)
                        return h;
        }
        return NULL;
}

/* Where a hook that ran freeze is to be thawed from: where it ran, or, if
 * it has gone from there, where its name is now (a package moved it
 * between the vendor and the admin directory, say). */
static void place_paired(struct fh_plan_item *i, GPtrArray *hooks) {
        const struct fh_hook *now;
        struct stat st;

        if (fh_is_mask(AT_FDCWD, i->path)) {
                i->run = false;
                i->verdict = FH_VERDICT_MASKED;
                i->notable = true;
                i->why = g_strdup("masked since the freeze (symlink to /dev/null): not thawed");
                return;
        }
        if (stat(i->path, &st) == 0)
                return;
        now = current_hook(hooks, i->name);
        if (now && now->verdict == FH_VERDICT_RUN) {
                i->moved_from = g_steal_pointer(&i->path);
                i->path = g_strdup(now->path);
                g_free(i->dir);
                i->dir = g_strdup(now->dir);
                return;
        }
        i->run = false;
        i->verdict = FH_VERDICT_GONE;
        i->notable = true;
        i->why = g_strdup_printf("ran freeze but is gone: cannot thaw it (%s)", g_strerror(errno));
}

/* A thaw that pairs with a recorded freeze: exactly the hooks that ran
 * freeze and that no thaw has released yet (one cut short releases some),
 * in reverse, from where they ran, whatever the directories hold now. A
 * freeze that never finished (the dispatcher was killed) is recorded as
 * each hook starts: the hooks it started are thawed, those that ended told
 * that they froze, the one that was running that nobody knows (a record
 * of an older version that does not say: all of its hooks, unknown). */
static void plan_paired(struct fh_plan *p, GPtrArray *hooks, const struct fh_settings *s, struct fh_trust *trust,
                        GHashTable *untrusted) {
        const struct fh_state_record *f = p->freeze;

        for (guint k = f->hooks->len; k-- > 0;) {
                const struct fh_state_hook *h = f->hooks->pdata[k];
                g_autofree char *dir = g_path_get_dirname(h->path);
                struct fh_plan_item *i;

                if (!fh_state_hook_held(f, h))
                        continue;
                /* Another platform's script: released by its thaw side,
                 * found from its name. */
                i = fh_foreign_thaw_item(s, trust, h->name, h->path);
                if (i) {
                        i->froze = fh_state_hook_froze(f, h);
                        g_ptr_array_add(p->items, i);
                        continue;
                }
                i = fh_plan_item_new(h->name, h->path, dir);
                i->froze = fh_state_hook_froze(f, h);
                i->timeout_msec = fh_settings_timeout(s, h->name, false);
                place_paired(i, hooks);
                if (i->run && g_hash_table_lookup(untrusted, i->dir) && s->strict_modes)
                        refuse(i);
                g_ptr_array_add(p->items, i);
        }

        /* What is there now but did not freeze is left alone. */
        for (guint k = 0; k < hooks->len; k++) {
                const struct fh_hook *h = hooks->pdata[k];
                const struct fh_state_hook *rec = fh_state_record_find(f, h->name);
                g_autofree char *shown = fh_escape_dup(h->path);

                if (h->verdict != FH_VERDICT_RUN || !fh_settings_enabled(s, h->name) || (rec && fh_state_hook_started(f, rec)))
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
        p->items = g_ptr_array_new_with_free_func(fh_plan_item_free);
        p->dir_problems = g_ptr_array_new_with_free_func(g_free);
        p->notes = g_ptr_array_new_with_free_func(g_free);
        p->not_enabled = fh_foreign_not_enabled(s, trust);
        fh_scan_dirs(s->hook_dirs, &hooks, &p->dirs);
        untrusted = check_dirs(p, s, trust);

        if (phase == FH_PHASE_THAW) {
                int r = state_dir ? fh_state_read(state_dir, FH_PHASE_FREEZE, &p->freeze) : -EBADMSG;

                if (r == 0 && p->freeze->awaiting_thaw) {
                        plan_paired(p, hooks, s, trust, untrusted);
                        return p;
                }
                g_clear_pointer(&p->freeze, fh_state_record_free);
                /* "no" only when a record says the last freeze has been
                 * released already; without one (a reboot, a record that
                 * could not be written) nobody knows. */
                froze = r == 0 ? "no" : "unknown";
        }
        plan_current(p, hooks, s, trust, untrusted, froze);
        return p;
}
