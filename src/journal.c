/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include <glib.h>
#include <systemd/sd-journal.h>

#include "journal.h"

#define MAX_FIELDS 12

struct fields {
        struct iovec iov[MAX_FIELDS];
        int n;
        GPtrArray *owned;       /* strings built on the heap, freed after sending */
};

static void add_owned(struct fields *f, char *field) {
        g_ptr_array_add(f->owned, field);
        f->iov[f->n++] = (struct iovec) { .iov_base = field, .iov_len = strlen(field) };
}

static void add_str(struct fields *f, const char *name, const char *value) {
        if (value)
                add_owned(f, g_strconcat(name, "=", value, NULL));
}

static void add_num(struct fields *f, const char *name, int64_t value) {
        if (value >= 0)
                add_owned(f, g_strdup_printf("%s=%" G_GINT64_FORMAT, name, value));
}

int fh_journal_send(int priority, const char *message, size_t len, const struct fh_journal_fields *jf) {
        g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
        struct fields f = { .n = 0, .owned = owned };
        char *msg = g_malloc(len + sizeof "MESSAGE=");

        /* The message may hold any escaped bytes and is not NUL-terminated. */
        memcpy(msg, "MESSAGE=", 8);
        memcpy(msg + 8, message, len);
        msg[len + 8] = '\0';
        add_owned(&f, msg);
        add_num(&f, "PRIORITY", priority);
        add_str(&f, "SYSLOG_IDENTIFIER", FH_SYSLOG_IDENTIFIER);
        add_str(&f, "FSFREEZE_EVENT", jf->event);
        add_str(&f, "FSFREEZE_PHASE", jf->phase);
        add_str(&f, "FSFREEZE_HOOK", jf->hook);
        add_str(&f, "FSFREEZE_STREAM", jf->stream);
        add_num(&f, "FSFREEZE_EXIT_STATUS", jf->exit_status);
        add_str(&f, "FSFREEZE_SIGNAL", jf->signal);
        add_num(&f, "FSFREEZE_DURATION_USEC", jf->duration_usec);
        if (jf->timed_out)
                add_str(&f, "FSFREEZE_TIMED_OUT", "1");

        return sd_journal_sendv(f.iov, f.n);
}
