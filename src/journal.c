/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <dlfcn.h>
#include <glib.h>
/* Our entries are not about a place in our source code. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "journal.h"

#define MAX_FIELDS 12
/* Entries waiting while journald catches up with a burst, or does not read
 * at all: room for tens of thousands of lines, bounded whatever a hook
 * prints. Past it entries are dropped and counted; the log file, not the
 * journal, is the complete record. */
#define MAX_QUEUED_BYTES (4 * 1024 * 1024)

/* One entry, its "NAME=value" fields back to back in one allocation. */
struct entry {
        int n;
        size_t bytes;
        size_t len[MAX_FIELDS];
        char data[];
};

/* sd_journal_sendv(), from libsystemd loaded by the sender thread (see
 * load_sendv), typed by libsystemd's own header, as systemd types its own
 * dlopen()ed libraries: the compiler checks our calls against the real
 * prototype, not against a copy of it. */
typedef typeof(sd_journal_sendv) *sendv_fn;

struct fh_journal {
        GMutex lock;
        GCond wake;             /* the sender: there is work, or stop */
        GCond idle;             /* the closer: the queue is empty */
        GQueue queue;
        size_t queued_bytes;
        bool sending;           /* the sender holds an entry outside the queue */
        bool stopping;
        bool unavailable;       /* libsystemd could not be loaded */
        unsigned dropped;
        GThread *thread;
};

static void entry_free(struct entry *e) {
        g_free(e);
}

struct builder {
        GString *data;
        int n;
        size_t len[MAX_FIELDS];
};

static void add_len(struct builder *b, const char *name, const char *value, size_t len) {
        size_t before = b->data->len;

        g_string_append(b->data, name);
        g_string_append_c(b->data, '=');
        g_string_append_len(b->data, value, (gssize) len);
        b->len[b->n++] = b->data->len - before;
}

static void add_str(struct builder *b, const char *name, const char *value) {
        if (value)
                add_len(b, name, value, strlen(value));
}

static void add_num(struct builder *b, const char *name, int64_t value) {
        char num[24];

        if (value < 0)
                return;
        g_snprintf(num, sizeof num, "%" G_GINT64_FORMAT, value);
        add_str(b, name, num);
}

static struct entry *entry_new(int priority, const char *message, size_t len, const struct fh_journal_fields *jf) {
        struct builder b = { .data = g_string_sized_new(len + 256) };
        struct entry *e;

        /* The message is escaped text, not NUL-terminated. */
        add_len(&b, "MESSAGE", message, len);
        add_num(&b, "PRIORITY", priority);
        add_str(&b, "SYSLOG_IDENTIFIER", FH_SYSLOG_IDENTIFIER);
        add_str(&b, "FSFREEZE_EVENT", jf->event);
        add_str(&b, "FSFREEZE_PHASE", jf->phase);
        add_str(&b, "FSFREEZE_HOOK", jf->hook);
        add_str(&b, "FSFREEZE_STREAM", jf->stream);
        add_num(&b, "FSFREEZE_EXIT_STATUS", jf->exit_status);
        add_str(&b, "FSFREEZE_SIGNAL", jf->signal);
        add_num(&b, "FSFREEZE_DURATION_USEC", jf->duration_usec);
        if (jf->timed_out)
                add_str(&b, "FSFREEZE_TIMED_OUT", "1");

        e = g_malloc(sizeof *e + b.data->len);
        e->n = b.n;
        e->bytes = sizeof *e + b.data->len;
        memcpy(e->len, b.len, sizeof e->len);
        memcpy(e->data, b.data->str, b.data->len);
        g_string_free(b.data, TRUE);
        return e;
}

static void send_entry(sendv_fn sendv, struct entry *e) {
        struct iovec iov[MAX_FIELDS];
        char *p = e->data;

        for (int i = 0; i < e->n; p += e->len[i], i++)
                iov[i] = (struct iovec) { .iov_base = p, .iov_len = e->len[i] };
        /* A failure loses this entry; there is nobody to tell. */
        (void) sendv(iov, e->n);
}

/* libsystemd and what it links (libgcrypt, zstd, lz4, lzma, libcap) take
 * a millisecond or more to load: that happens here, beside the hooks, not
 * before the first of them, and not at all where there is no journal. */
static sendv_fn load_sendv(void) {
        void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        sendv_fn f;

        if (!lib)
                return NULL;
        *(void **) &f = dlsym(lib, "sd_journal_sendv");
        return f;
}

static gpointer sender(gpointer data) {
        struct fh_journal *j = data;
        sendv_fn sendv = load_sendv();

        g_mutex_lock(&j->lock);
        j->unavailable = !sendv;
        for (;;) {
                struct entry *e;

                while (g_queue_is_empty(&j->queue) && !j->stopping)
                        g_cond_wait(&j->wake, &j->lock);
                e = g_queue_pop_head(&j->queue);
                if (!e)
                        break;  /* stopping, and nothing left */
                j->queued_bytes -= e->bytes;
                j->sending = true;
                g_mutex_unlock(&j->lock);

                if (sendv)
                        send_entry(sendv, e);
                entry_free(e);

                g_mutex_lock(&j->lock);
                if (!sendv)
                        j->dropped++;
                j->sending = false;
                if (g_queue_is_empty(&j->queue))
                        g_cond_broadcast(&j->idle);
        }
        g_cond_broadcast(&j->idle);
        g_mutex_unlock(&j->lock);
        return NULL;
}

struct fh_journal *fh_journal_open(void) {
        struct fh_journal *j;

        if (access(FH_JOURNAL_SOCKET, W_OK) < 0)
                return NULL;
        j = g_new0(struct fh_journal, 1);
        g_mutex_init(&j->lock);
        g_cond_init(&j->wake);
        g_cond_init(&j->idle);
        g_queue_init(&j->queue);
        j->thread = g_thread_new("journal", sender, j);
        return j;
}

int fh_journal_send(struct fh_journal *j, int priority, const char *message, size_t len,
                    const struct fh_journal_fields *jf) {
        struct entry *e = entry_new(priority, message, len, jf);
        int r = 0;

        g_mutex_lock(&j->lock);
        if (j->queued_bytes + e->bytes > MAX_QUEUED_BYTES) {
                j->dropped++;
                r = -EAGAIN;
        } else {
                g_queue_push_tail(&j->queue, e);
                j->queued_bytes += e->bytes;
                e = NULL;
                g_cond_signal(&j->wake);
        }
        g_mutex_unlock(&j->lock);
        if (e)
                entry_free(e);
        return r;
}

unsigned fh_journal_close(struct fh_journal *j, int64_t timeout_usec, const char **ret_reason) {
        gint64 end = g_get_monotonic_time() + timeout_usec;
        unsigned lost;
        bool done;

        *ret_reason = NULL;
        if (!j)
                return 0;
        g_mutex_lock(&j->lock);
        j->stopping = true;
        g_cond_signal(&j->wake);
        while ((!g_queue_is_empty(&j->queue) || j->sending) && g_cond_wait_until(&j->idle, &j->lock, end))
                ;
        done = g_queue_is_empty(&j->queue) && !j->sending;
        lost = j->dropped + g_queue_get_length(&j->queue);
        *ret_reason = j->unavailable ? "libsystemd.so.0 could not be loaded"
                                     : "journald did not take them in time";
        g_mutex_unlock(&j->lock);

        if (!done) {
                /* journald is stuck and the sender with it: leave both be,
                 * the process is about to exit. */
                g_thread_unref(j->thread);
                return lost;
        }
        g_thread_join(j->thread);
        g_queue_clear_full(&j->queue, (GDestroyNotify) entry_free);
        g_mutex_clear(&j->lock);
        g_cond_clear(&j->wake);
        g_cond_clear(&j->idle);
        g_free(j);
        return lost;
}
