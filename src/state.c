/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "runfile.h"
#include "state.h"

#define GROUP_RUN "run"
#define HOOK_GROUP_PREFIX "hook "

static const char *file_name(enum fh_phase phase) {
        return phase == FH_PHASE_FREEZE ? "last-freeze" : "last-thaw";
}

/* A hook's text in the record, and what it was made from: a thaw rewrites
 * the freeze record after each hook, and most hooks have not changed since
 * the last write (name and path never do). */
struct fh_state_text {
        char *text;
        size_t len;
        char *outcome;
        guint index;
        bool ran, released, running;
        int status;
        int64_t duration_usec;
};

static void state_text_free(struct fh_state_text *t) {
        if (!t)
                return;
        g_free(t->text);
        g_free(t->outcome);
        g_free(t);
}

static void state_hook_free(gpointer p) {
        struct fh_state_hook *h = p;

        g_free(h->name);
        g_free(h->path);
        g_free(h->outcome);
        state_text_free(h->text);
        g_free(h);
}

/* The kernel's boot ID, or NULL where /proc does not say. */
struct fh_state_record *fh_state_record_new(enum fh_phase phase) {
        struct fh_state_record *r = g_new0(struct fh_state_record, 1);

        r->phase = phase;
        r->duration_usec = -1;
        r->boot_id = fh_runfile_boot_id();
        r->hooks = g_ptr_array_new_with_free_func(state_hook_free);
        return r;
}

void fh_state_record_free(struct fh_state_record *r) {
        if (!r)
                return;
        g_free(r->on_failure);
        g_free(r->boot_id);
        g_ptr_array_unref(r->hooks);
        g_free(r);
}

struct fh_state_hook *fh_state_record_add(struct fh_state_record *r, const char *name, const char *path) {
        struct fh_state_hook *h = g_new0(struct fh_state_hook, 1);

        h->name = g_strdup(name);
        h->path = g_strdup(path);
        h->status = -1;
        h->duration_usec = -1;
        h->outcome = g_strdup("planned");
        g_ptr_array_add(r->hooks, h);
        return h;
}

struct fh_state_hook *fh_state_record_find(const struct fh_state_record *r, const char *name) {
        for (guint i = 0; i < r->hooks->len; i++) {
                struct fh_state_hook *h = r->hooks->pdata[i];
                if (strcmp(h->name, name) == 0)
                        return h;
        }
        return NULL;
}

/* Names are raw bytes and key files want UTF-8: keep them base64. */
static char *encode(const char *s) {
        return g_base64_encode((const guchar *) s, strlen(s));
}

static char *decode(const char *s) {
        gsize len = 0;
        guchar *raw = g_base64_decode(s, &len);
        char *out = g_strndup((const char *) raw, len);

        g_free(raw);
        return out;
}

static bool text_current(const struct fh_state_text *t, const struct fh_state_hook *h, guint index) {
        return t && t->index == index && t->ran == h->ran && t->released == h->released &&
               t->running == h->running && t->status == h->status &&
               t->duration_usec == h->duration_usec && strcmp(t->outcome, h->outcome) == 0;
}

/* The hook's group of the key file, made again only if it changed. */
static const struct fh_state_text *hook_text(struct fh_state_hook *h, guint index) {
        g_autofree char *name = NULL, *path = NULL, *outcome = NULL;
        struct fh_state_text *t = h->text;

        if (text_current(t, h, index))
                return t;
        state_text_free(t);
        name = encode(h->name);
        path = encode(h->path);
        outcome = encode(h->outcome);
        t = h->text = g_new(struct fh_state_text, 1);
        *t = (struct fh_state_text) {
                .outcome = g_strdup(h->outcome), .index = index, .ran = h->ran, .released = h->released,
                .running = h->running, .status = h->status, .duration_usec = h->duration_usec,
        };
        t->text = g_strdup_printf("\n[" HOOK_GROUP_PREFIX "%u]\nname=%s\npath=%s\nran=%s\nreleased=%s\nrunning=%s\n"
                                  "status=%d\noutcome=%s\nduration-usec=%" G_GINT64_FORMAT "\n",
                                  index, name, path, h->ran ? "true" : "false", h->released ? "true" : "false",
                                  h->running ? "true" : "false", h->status, outcome, h->duration_usec);
        t->len = strlen(t->text);
        return t;
}

/* The key-file text, written by hand: GKeyFile's setters cost tens of
 * thousands of instructions per hook, and the freeze record is written
 * twice per freeze. The values are numbers, booleans and base64, which
 * need no escaping; fh_state_read() reads it back with GKeyFile. */
static GString *to_text(const struct fh_state_record *r) {
        GString *s = g_string_sized_new(256 + 160 * r->hooks->len);

        g_string_append_printf(s,
                               "[" GROUP_RUN "]\nphase=%s\nstarted-usec=%" G_GINT64_FORMAT "\n"
                               "finished-usec=%" G_GINT64_FORMAT "\nawaiting-thaw=%s\naborted=%s\nper-hook=%s\nhooks=%u\n",
                               fh_phase_to_string(r->phase), r->started_usec, r->finished_usec,
                               r->awaiting_thaw ? "true" : "false", r->aborted ? "true" : "false",
                               r->per_hook ? "true" : "false", r->hooks->len);
        if (r->duration_usec >= 0)
                g_string_append_printf(s, "duration-usec=%" G_GINT64_FORMAT "\n", r->duration_usec);
        if (r->on_failure)
                g_string_append_printf(s, "on-failure=%s\n", r->on_failure);
        if (r->boot_id)
                g_string_append_printf(s, "boot-id=%s\n", r->boot_id);
        if (r->boot_id && r->started_monotonic_usec > 0)
                g_string_append_printf(s, "started-monotonic-usec=%" G_GINT64_FORMAT "\n",
                                       r->started_monotonic_usec);
        /* Rewritten as each freeze hook starts: the cached texts with
         * their lengths, no strlen() per hook per write. */
        for (guint i = 0; i < r->hooks->len; i++) {
                const struct fh_state_text *t = hook_text(r->hooks->pdata[i], i);
                g_string_append_len(s, t->text, (gssize) t->len);
        }
        return s;
}

int fh_state_write(const char *dir, const struct fh_state_record *r) {
        g_autoptr(GString) text = NULL;
        g_autofree char *path = NULL;

        if (g_mkdir_with_parents(dir, 0755) < 0)
                return -errno;
        text = to_text(r);
        path = g_build_filename(dir, file_name(r->phase), NULL);
        return fh_runfile_write(path, text->str, text->len, 0644);
}

/* Strict getters: a value that is there but does not read (damaged, or
 * edited by hand: "ran=yes") makes the record unreadable rather than
 * "false" or 0, which would release hooks that may still hold. Only the
 * keys that older versions did not write and that can be done without
 * ('released': false keeps the hook held; 'running' and 'per-hook':
 * false holds every hook of a freeze that never finished; the run's
 * 'duration-usec') may be missing. */
static bool get_bool(GKeyFile *kf, const char *group, const char *key, bool optional, bool *ret) {
        g_autoptr(GError) error = NULL;
        gboolean v = g_key_file_get_boolean(kf, group, key, &error);

        if (error)
                return optional && g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
        *ret = v;
        return true;
}

static bool get_int64(GKeyFile *kf, const char *group, const char *key, bool optional, int64_t *ret) {
        g_autoptr(GError) error = NULL;
        gint64 v = g_key_file_get_int64(kf, group, key, &error);

        if (error)
                return optional && g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
        *ret = v;
        return true;
}

static bool read_hook(GKeyFile *kf, const char *group, struct fh_state_record *r) {
        g_autofree char *name = g_key_file_get_string(kf, group, "name", NULL);
        g_autofree char *path = g_key_file_get_string(kf, group, "path", NULL);
        g_autofree char *outcome = g_key_file_get_string(kf, group, "outcome", NULL);
        g_autofree char *n = NULL, *p = NULL;
        struct fh_state_hook *h;
        int64_t status = -1;

        if (!name || !path || !outcome)
                return false;
        n = decode(name);
        p = decode(path);
        h = fh_state_record_add(r, n, p);
        g_free(h->outcome);
        h->outcome = decode(outcome);
        if (!get_bool(kf, group, "ran", false, &h->ran) || !get_bool(kf, group, "released", true, &h->released) ||
            !get_bool(kf, group, "running", true, &h->running) ||
            !get_int64(kf, group, "status", false, &status) || status < -1 || status > INT_MAX ||
            !get_int64(kf, group, "duration-usec", false, &h->duration_usec))
                return false;
        h->status = (int) status;
        return true;
}

/* The [run] group; false if a value does not read. Its duration is new:
 * older records have none. */
static bool read_run(GKeyFile *kf, struct fh_state_record *r) {
        return get_int64(kf, GROUP_RUN, "started-usec", false, &r->started_usec) &&
               get_int64(kf, GROUP_RUN, "finished-usec", false, &r->finished_usec) &&
               get_int64(kf, GROUP_RUN, "duration-usec", true, &r->duration_usec) &&
               get_bool(kf, GROUP_RUN, "awaiting-thaw", false, &r->awaiting_thaw) &&
               get_bool(kf, GROUP_RUN, "aborted", false, &r->aborted) &&
               get_bool(kf, GROUP_RUN, "per-hook", true, &r->per_hook);
}

int fh_state_read(const char *dir, enum fh_phase phase, struct fh_state_record **ret) {
        g_autofree char *path = g_build_filename(dir, file_name(phase), NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(fh_state_record) r = fh_state_record_new(phase);
        g_autofree char *recorded = NULL, *boot = NULL;
        g_auto(GStrv) groups = NULL;
        int64_t n_hooks;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error))
                return g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : -EBADMSG;
        recorded = g_key_file_get_string(kf, GROUP_RUN, "phase", NULL);
        if (!recorded || fh_phase_from_string(recorded) != (int) phase)
                return -EBADMSG;
        if (!read_run(kf, r))
                return -EBADMSG;
        r->on_failure = g_key_file_get_string(kf, GROUP_RUN, "on-failure", NULL);
        boot = g_key_file_get_string(kf, GROUP_RUN, "boot-id", NULL);
        if (boot && r->boot_id && strcmp(boot, r->boot_id) != 0)
                return -ESTALE;
        /* Of this boot only: another boot's monotonic clock is another. */
        if (boot && r->boot_id && (!get_int64(kf, GROUP_RUN, "started-monotonic-usec", true,
                                              &r->started_monotonic_usec) || r->started_monotonic_usec < 0))
                return -EBADMSG;

        /* Groups come back in file order, which is run order. */
        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++)
                if (g_str_has_prefix(*g, HOOK_GROUP_PREFIX) && !read_hook(kf, *g, r))
                        return -EBADMSG;
        /* A record cut short after a whole group parses: its count says
         * that hooks are missing. Required: a record cut short before it,
         * or one of a version that wrote none, is unreadable, and the thaw
         * then releases every hook there is. */
        if (!get_int64(kf, GROUP_RUN, "hooks", false, &n_hooks) || n_hooks != r->hooks->len)
                return -EBADMSG;
        *ret = g_steal_pointer(&r);
        return 0;
}

int fh_state_remove(const char *dir, enum fh_phase phase) {
        g_autofree char *path = g_build_filename(dir, file_name(phase), NULL);

        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

bool fh_state_hook_started(const struct fh_state_record *r, const struct fh_state_hook *h) {
        return h->ran || h->running || (r->finished_usec == 0 && !r->per_hook);
}

bool fh_state_hook_held(const struct fh_state_record *r, const struct fh_state_hook *h) {
        return !h->released && fh_state_hook_started(r, h);
}

const char *fh_state_hook_froze(const struct fh_state_record *r, const struct fh_state_hook *h) {
        if (h->running)
                return "unknown";
        if (r->finished_usec > 0)
                return "yes";
        return r->per_hook && h->ran ? "yes" : "unknown";
}

void fh_state_release(struct fh_state_record *r, struct fh_state_hook *h) {
        h->released = true;
        r->awaiting_thaw = false;
        for (guint i = 0; i < r->hooks->len && !r->awaiting_thaw; i++)
                r->awaiting_thaw = fh_state_hook_held(r, r->hooks->pdata[i]);
}
