/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib.h>

#include "attach.h"
#include "escape.h"
#include "freeze_deadline.h"
#include "state.h"
#include "status.h"
#include "timeutil.h"

static void format_time(int64_t usec, char buf[static FH_TIMESTAMP_MAX]) {
        fh_format_usec_timestamp(usec, "unknown", buf);
}

/* How long a finished run took: by the monotonic clock where the record
 * says (the wall clock may have jumped in between), or -1. */
static int64_t run_duration(const struct fh_state_record *r) {
        if (r->finished_usec <= 0)
                return -1;
        return r->duration_usec >= 0 ? r->duration_usec : MAX(r->finished_usec - r->started_usec, 0);
}

/* --- for a person ---------------------------------------------------------- */

/* Whether a dispatcher holds the state lock: 1 yes, 0 no, -1 nobody can
 * tell (the lock is not ours to open, or missing: a dispatcher that could
 * not create it runs without). Our shared lock lasts an instant; a
 * dispatcher that starts then waits 50 ms for it. */
static int dispatcher_running(const char *state_dir) {
        g_autofree char *path = g_build_filename(state_dir, "lock", NULL);
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), r = -1;

        if (fd < 0)
                return -1;
        if (flock(fd, LOCK_SH | LOCK_NB) == 0)
                r = 0;
        else if (errno == EWOULDBLOCK)
                r = 1;
        close(fd);
        return r;
}

/* How a record that has no end came to have none. Only the newest record
 * can be the running dispatcher's. */
static const char *unfinished(const char *state_dir, bool newest) {
        int running = newest ? dispatcher_running(state_dir) : 0;

        if (running > 0)
                return "still running";
        return running == 0 ? "never finished (the dispatcher was stopped)"
                            : "never finished (stopped, or still running)";
}

static void print_record(FILE *out, const struct fh_state_record *r, const char *state_dir, bool newest) {
        char started[FH_TIMESTAMP_MAX], took[32];

        format_time(r->started_usec, started);
        fprintf(out, "Last %s: %s", fh_phase_to_string(r->phase), started);
        if (r->finished_usec > 0) {
                fh_format_duration(run_duration(r), took, sizeof took);
                fprintf(out, ", took %s", took);
        } else
                fprintf(out, ", %s", unfinished(state_dir, newest));
        if (r->aborted)
                fprintf(out, ", aborted by on-failure=abort");
        fputc('\n', out);
        for (guint i = 0; i < r->hooks->len; i++) {
                const struct fh_state_hook *h = r->hooks->pdata[i];
                g_autofree char *name = fh_escape_dup(h->name);
                g_autofree char *outcome = fh_escape_dup(h->outcome);
                const char *held = r->phase == FH_PHASE_FREEZE && r->awaiting_thaw && fh_state_hook_held(r, h)
                                           ? ", awaiting thaw" : "";

                if (h->duration_usec >= 0) {
                        fh_format_duration(h->duration_usec, took, sizeof took);
                        fprintf(out, "  %-24s %s in %s%s\n", name, outcome, took, held);
                } else
                        fprintf(out, "  %-24s %s%s\n", name, outcome, held);
        }
}

static int print_text(FILE *out, const char *state_dir, struct fh_state_record *freeze, int rf,
                      struct fh_state_record *thaw, int rt) {
        g_autofree char *dir = fh_escape_dup(state_dir);
        char since[FH_TIMESTAMP_MAX];

        if (rf == -ENOENT && rt == -ENOENT) {
                fprintf(out, "No freeze or thaw recorded since boot (in %s).\n", dir);
                return 0;
        }
        if (freeze)
                print_record(out, freeze, state_dir, !thaw || freeze->started_usec >= thaw->started_usec);
        else
                fprintf(out, "Last freeze: %s\n", rf == -ENOENT ? "none since boot" : "record unreadable");
        if (freeze && freeze->awaiting_thaw) {
                format_time(freeze->started_usec, since);
                fprintf(out, "Awaiting thaw: yes, since the freeze of %s\n", since);
        } else
                fprintf(out, "Awaiting thaw: no\n");
        fh_freeze_deadline_print(out, state_dir);
        if (thaw)
                print_record(out, thaw, state_dir, !freeze || thaw->started_usec > freeze->started_usec);
        else
                fprintf(out, "Last thaw: %s\n", rt == -ENOENT ? "none since boot" : "record unreadable");
        return rf == -EBADMSG || rt == -EBADMSG;
}

/* --- for tools --------------------------------------------------------------- */

/* A JSON string: escaped as in the log (valid UTF-8, \xNN for the bytes
 * that are not, a backslash doubled), then made a JSON string literal:
 * quotes and backslashes escaped, and every control character the log
 * escaping lets through (TAB) as \u00XX, which JSON requires. */
static void json_string(GString *s, const char *raw) {
        g_autofree char *text = fh_escape_dup(raw);

        g_string_append_c(s, '"');
        for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        g_string_append_printf(s, "\\u%04x", *p);
                else {
                        if (*p == '"' || *p == '\\')
                                g_string_append_c(s, '\\');
                        g_string_append_c(s, (char) *p);
                }
        }
        g_string_append_c(s, '"');
}

static void json_time(GString *s, const char *key, int64_t usec) {
        char buf[FH_TIMESTAMP_MAX];

        g_string_append_printf(s, "\"%s\": ", key);
        if (usec <= 0) {
                g_string_append(s, "null");
                return;
        }
        format_time(usec, buf);
        json_string(s, buf);
}

static void json_record(GString *s, const struct fh_state_record *r) {
        if (!r) {
                g_string_append(s, "null");
                return;
        }
        g_string_append(s, "{");
        json_time(s, "started", r->started_usec);
        g_string_append(s, ", ");
        json_time(s, "finished", r->finished_usec);
        if (r->finished_usec > 0)
                g_string_append_printf(s, ", \"duration_usec\": %" G_GINT64_FORMAT, run_duration(r));
        else
                g_string_append(s, ", \"duration_usec\": null");
        g_string_append_printf(s, ", \"aborted\": %s, \"on_failure\": ", r->aborted ? "true" : "false");
        json_string(s, r->on_failure ? r->on_failure : "continue");
        g_string_append(s, ", \"hooks\": [");
        for (guint i = 0; i < r->hooks->len; i++) {
                const struct fh_state_hook *h = r->hooks->pdata[i];

                g_string_append(s, i ? ", {\"name\": " : "{\"name\": ");
                json_string(s, h->name);
                g_string_append(s, ", \"path\": ");
                json_string(s, h->path);
                g_string_append_printf(s, ", \"ran\": %s, \"status\": ", h->ran ? "true" : "false");
                if (h->status >= 0)
                        g_string_append_printf(s, "%d", h->status);
                else
                        g_string_append(s, "null");
                g_string_append(s, ", \"outcome\": ");
                json_string(s, h->outcome);
                if (h->duration_usec >= 0)
                        g_string_append_printf(s, ", \"duration_usec\": %" G_GINT64_FORMAT, h->duration_usec);
                else
                        g_string_append(s, ", \"duration_usec\": null");
                /* A freeze's hook: whether a thaw has released it since, and
                 * whether the next thaw must (a hook the freeze never
                 * started is neither released nor held). */
                if (r->phase == FH_PHASE_FREEZE)
                        g_string_append_printf(s, ", \"released\": %s, \"held\": %s", h->released ? "true" : "false",
                                               r->awaiting_thaw && fh_state_hook_held(r, h) ? "true" : "false");
                g_string_append_c(s, '}');
        }
        g_string_append(s, "]}");
}

static GString *json_document(const char *state_dir, const char *root, bool ask_timer, struct fh_state_record *freeze,
                              int rf, struct fh_state_record *thaw, int rt) {
        GString *s = g_string_new("{\"version\": " G_STRINGIFY(FH_STATUS_VERSION) ", \"state_dir\": ");

        json_string(s, state_dir);
        g_string_append_printf(s, ", \"awaiting_thaw\": %s, \"freeze\": ",
                               freeze && freeze->awaiting_thaw ? "true" : "false");
        json_record(s, freeze);
        g_string_append(s, ", \"thaw\": ");
        json_record(s, thaw);
        g_string_append(s, ", \"deadline\": ");
        fh_freeze_deadline_json(s, state_dir, ask_timer);
        g_string_append(s, ", \"platforms\": ");
        fh_attach_status_json(s, root);
        g_string_append_printf(s, ", \"errors\": [%s%s%s]}\n", rf == -EBADMSG ? "\"freeze record unreadable\"" : "",
                               rf == -EBADMSG && rt == -EBADMSG ? ", " : "",
                               rt == -EBADMSG ? "\"thaw record unreadable\"" : "");
        return s;
}

/* Anything else than "unreadable" counts as "nothing recorded". */
static int read_record(const char *state_dir, enum fh_phase phase, struct fh_state_record **ret) {
        int r = fh_state_read(state_dir, phase, ret);

        return r < 0 && r != -EBADMSG ? -ENOENT : r;
}

char *fh_status_json(const char *state_dir, bool ask_timer, int *ret_status) {
        return fh_status_json_root(state_dir, NULL, ask_timer, ret_status);
}

char *fh_status_json_root(const char *state_dir, const char *root, bool ask_timer, int *ret_status) {
        g_autoptr(fh_state_record) freeze = NULL;
        g_autoptr(fh_state_record) thaw = NULL;
        int rf = read_record(state_dir, FH_PHASE_FREEZE, &freeze);
        int rt = read_record(state_dir, FH_PHASE_THAW, &thaw);

        if (ret_status)
                *ret_status = rf == -EBADMSG || rt == -EBADMSG;
        return g_string_free(json_document(state_dir, root, ask_timer, freeze, rf, thaw, rt), FALSE);
}

int fh_print_status(FILE *out, const char *state_dir, bool json) {
        g_autoptr(fh_state_record) freeze = NULL;
        g_autoptr(fh_state_record) thaw = NULL;
        g_autofree char *doc = NULL;
        int rf, rt, status;

        if (json) {
                doc = fh_status_json(state_dir, true, &status);
                fputs(doc, out);
                return status;
        }
        rf = read_record(state_dir, FH_PHASE_FREEZE, &freeze);
        rt = read_record(state_dir, FH_PHASE_THAW, &thaw);
        return print_text(out, state_dir, freeze, rf, thaw, rt);
}
