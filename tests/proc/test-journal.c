/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the journal receives: we stand in for journald by binding its
 * socket, /run/systemd/journal/socket, inside a private mount namespace,
 * and parse the native-protocol datagrams the dispatcher sends. Needs
 * root (for the namespace); skipped otherwise. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

#define JOURNAL_DIR "/run/systemd/journal"
#define JOURNAL_SOCKET JOURNAL_DIR "/socket"

struct fx {
        char *top, *hooks, *log;
        char *conf_opt, *state_opt;     /* hermetic: never the machine's */
        int sock;
};

/* One entry: field name -> value. */
typedef GHashTable Entry;

/* The native protocol: "NAME=value\n", or for values with newlines
 * "NAME\n" + 64-bit little-endian length + value + "\n". */
static Entry *parse_entry(const char *p, size_t n) {
        Entry *e = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        const char *end = p + n;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eq;

                assert_non_null(nl);
                eq = memchr(p, '=', (size_t) (nl - p));
                if (eq) {
                        g_hash_table_insert(e, g_strndup(p, (gsize) (eq - p)), g_strndup(eq + 1, (gsize) (nl - eq - 1)));
                        p = nl + 1;
                } else {
                        uint64_t len;
                        char *name = g_strndup(p, (gsize) (nl - p));

                        assert_true(end - (nl + 1) >= 8);
                        memcpy(&len, nl + 1, 8);
                        len = GUINT64_FROM_LE(len);
                        assert_true((uint64_t) (end - (nl + 9)) >= len + 1);
                        g_hash_table_insert(e, name, g_strndup(nl + 9, (gsize) len));
                        p = nl + 9 + len + 1;
                }
        }
        return e;
}

#define END_OF_TEST "END_OF_TEST"

/* Like journald, read while the dispatcher sends: a datagram socket's
 * queue is short (net.unix.max_dgram_qlen) and sd_journal_sendv() blocks
 * when it is full. Runs until the END_OF_TEST datagram. */
static gpointer collector(gpointer data) {
        int sock = GPOINTER_TO_INT(data);
        GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify) g_hash_table_unref);
        static char buf[256 * 1024];
        ssize_t n;

        while ((n = recv(sock, buf, sizeof buf, 0)) > 0) {
                if ((size_t) n == strlen(END_OF_TEST) && memcmp(buf, END_OF_TEST, (size_t) n) == 0)
                        break;
                g_ptr_array_add(entries, parse_entry(buf, (size_t) n));
        }
        return entries;
}

static void send_end(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(sendto(fd, END_OF_TEST, strlen(END_OF_TEST), 0, (struct sockaddr *) &sa, sizeof sa) > 0);
        close(fd);
}

static const char *field(Entry *e, const char *name) {
        return g_hash_table_lookup(e, name);
}

/* The entry with FSFREEZE_EVENT=event whose FSFREEZE_HOOK ends in 'hook'. */
static Entry *find(GPtrArray *entries, const char *event, const char *hook) {
        for (guint i = 0; i < entries->len; i++) {
                Entry *e = entries->pdata[i];
                const char *ev = field(e, "FSFREEZE_EVENT"), *h = field(e, "FSFREEZE_HOOK");

                if (g_strcmp0(ev, event) == 0 && (!hook || (h && g_str_has_suffix(h, hook))))
                        return e;
        }
        fail_msg("no %s entry for %s", event, hook ? hook : "(none)");
        return NULL;
}

/* Runs the dispatcher; returns the journal entries it sent. */
static GPtrArray *run(struct fx *f, const char *phase, const char *extra) {
        /* No freeze deadline: this tests the journal, and its process
         * would outlive a test that freezes without thawing. */
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "-d", f->hooks, "-l", f->log, "-t", "1", "-k", "0.2",
                         "--freeze-deadline=0", (char *) phase, (char *) extra, NULL };
        GThread *thread = g_thread_new("journal", collector, GINT_TO_POINTER(f->sock));
        struct tl_run r;

        tl_run(argv, NULL, 60000, &r);
        send_end();
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        tl_run_clear(&r);
        return g_thread_join(thread);
}

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        int size = 4 * 1024 * 1024;

        f->top = tl_mkdtemp();
        f->hooks = g_build_filename(f->top, "hooks", NULL);
        f->log = g_build_filename(f->top, "log", NULL);
        f->conf_opt = g_strdup_printf("--config=%s/conf", f->top);
        f->state_opt = g_strdup_printf("--state-dir=%s/state", f->top);
        g_mkdir(f->hooks, 0755);
        unlink(JOURNAL_SOCKET);
        f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(f->sock >= 0);
        setsockopt(f->sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        assert_int_equal(bind(f->sock, (struct sockaddr *) &sa, sizeof sa), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        close(f->sock);
        unlink(JOURNAL_SOCKET);
        tl_disarm_deadline(f->top);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->hooks);
        g_free(f->log);
        g_free(f->conf_opt);
        g_free(f->state_opt);
        g_free(f);
        return 0;
}

static void test_events_and_fields(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) entries = NULL;
        g_autofree char *log = NULL;
        Entry *e;

        g_free(tl_write_hook(f->hooks, "10-ok", "echo hello; echo oops >&2"));
        g_free(tl_write_hook(f->hooks, "20-fail", "exit 3"));
        g_free(tl_write_hook(f->hooks, "30-segv", "kill -SEGV $$"));
        g_free(tl_write_hook(f->hooks, "40-hang", "sleep 1000"));
        entries = run(f, "freeze", NULL);

        /* The same events as the log file, one entry per line. */
        log = tl_read_file(f->log);
        assert_int_equal(entries->len, tl_count_lines_with(log, ": "));

        for (guint i = 0; i < entries->len; i++) {
                Entry *x = entries->pdata[i];
                assert_string_equal(field(x, "SYSLOG_IDENTIFIER"), "fsfreeze-hook");
                assert_string_equal(field(x, "FSFREEZE_PHASE"), "freeze");
                assert_non_null(field(x, "MESSAGE"));
                assert_non_null(field(x, "PRIORITY"));
        }

        e = find(entries, "execute", "/10-ok");
        assert_true(g_str_has_prefix(field(e, "MESSAGE"), "execute "));
        assert_string_equal(field(e, "PRIORITY"), "6");

        e = find(entries, "output", "/10-ok");
        assert_string_equal(field(e, "FSFREEZE_STREAM"), "stdout");
        assert_string_equal(field(e, "MESSAGE"), "10-ok: stdout: hello");
        for (guint i = 0; i < entries->len; i++) {
                Entry *x = entries->pdata[i];
                if (g_strcmp0(field(x, "FSFREEZE_STREAM"), "stderr") == 0)
                        assert_string_equal(field(x, "MESSAGE"), "10-ok: stderr: oops");
        }

        e = find(entries, "finished", "/10-ok");
        assert_string_equal(field(e, "FSFREEZE_EXIT_STATUS"), "0");
        assert_string_equal(field(e, "PRIORITY"), "6");
        assert_non_null(field(e, "FSFREEZE_DURATION_USEC"));
        assert_null(field(e, "FSFREEZE_SIGNAL"));

        e = find(entries, "finished", "/20-fail");
        assert_string_equal(field(e, "FSFREEZE_EXIT_STATUS"), "3");
        assert_string_equal(field(e, "PRIORITY"), "4");

        e = find(entries, "finished", "/30-segv");
        assert_string_equal(field(e, "FSFREEZE_SIGNAL"), "SIGSEGV");
        assert_null(field(e, "FSFREEZE_EXIT_STATUS"));
        assert_string_equal(field(e, "PRIORITY"), "3");

        e = find(entries, "finished", "/40-hang");
        assert_string_equal(field(e, "FSFREEZE_TIMED_OUT"), "1");
        assert_string_equal(field(e, "FSFREEZE_SIGNAL"), "SIGTERM");
        assert_string_equal(field(e, "PRIORITY"), "3");
        assert_true(g_ascii_strtoll(field(e, "FSFREEZE_DURATION_USEC"), NULL, 10) >= 1000000);

        e = find(entries, "done", NULL);
        assert_string_equal(field(e, "PRIORITY"), "4");
}

static void test_thaw_phase_field(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) entries = NULL;

        g_free(tl_write_hook(f->hooks, "10-ok", "true"));
        entries = run(f, "thaw", NULL);
        assert_string_equal(field(find(entries, "finished", "/10-ok"), "FSFREEZE_PHASE"), "thaw");
}

static void test_no_journal_option_sends_nothing(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) entries = NULL;

        g_free(tl_write_hook(f->hooks, "10-ok", "echo hi"));
        entries = run(f, "freeze", "--no-journal");
        assert_int_equal(entries->len, 0);
}

static void test_without_journal_socket_carries_on_silently(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL;

        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "-d", f->hooks, "-l", f->log, "freeze", NULL };
        struct tl_run r;

        close(f->sock);
        unlink(JOURNAL_SOCKET);
        f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        g_free(tl_write_hook(f->hooks, "10-ok", "echo hi"));
        g_free(tl_write_hook(f->hooks, "20-ok", "echo there"));
        tl_run(argv, NULL, 60000, &r);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.err, "");
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "finished with status=0"), 2);
        assert_int_equal(tl_count_lines_with(log, "20-ok: stdout: there"), 1);
}

/* Runs the dispatcher with 'log' as its log file; returns the journal. */
static GPtrArray *run_with_log(struct fx *f, const char *log, const char *extra) {
        char *saved = f->log;
        GPtrArray *entries;

        f->log = (char *) log;
        entries = run(f, "freeze", extra);
        f->log = saved;
        return entries;
}

static unsigned count_events(GPtrArray *entries, const char *event) {
        unsigned n = 0;

        for (guint i = 0; i < entries->len; i++)
                if (g_strcmp0(field(entries->pdata[i], "FSFREEZE_EVENT"), event) == 0)
                        n++;
        return n;
}

/* An unusable log file: the journal says so, and still gets everything. */
static void test_log_fallback_to_journal(void **state) {
        struct fx *f = *state;
        g_autofree char *missing = g_build_filename(f->top, "missing", "log", NULL);
        g_autofree char *link = g_build_filename(f->top, "link", NULL);
        g_autofree char *ro = g_build_filename(f->top, "ro", NULL);
        g_autofree char *ro_log = g_build_filename(ro, "log", NULL);
        struct {
                const char *log, *why;
        } cases[] = {
                { missing, "No such file or directory" },
                { link, "Too many levels of symbolic links" },
                { "/dev/full", "Invalid argument" },
                { ro_log, "Read-only file system" },
        };

        assert_int_equal(symlink("/etc/passwd", link), 0);
        g_mkdir(ro, 0755);
        assert_int_equal(mount("tmpfs", ro, "tmpfs", MS_RDONLY, "size=64k,mode=0755"), 0);
        g_free(tl_write_hook(f->hooks, "10-ok", "echo hello"));
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GPtrArray) entries = run_with_log(f, cases[i].log, NULL);
                Entry *e = find(entries, "log-file-error", NULL);

                assert_non_null(strstr(field(e, "MESSAGE"), "cannot write log file"));
                assert_non_null(strstr(field(e, "MESSAGE"), cases[i].why));
                assert_non_null(strstr(field(e, "MESSAGE"), "logging to the journal only"));
                assert_string_equal(field(e, "PRIORITY"), "4");
                assert_string_equal(field(find(entries, "output", "/10-ok"), "MESSAGE"), "10-ok: stdout: hello");
                assert_string_equal(field(find(entries, "finished", "/10-ok"), "FSFREEZE_EXIT_STATUS"), "0");
        }
        umount(ro);
}

/* The filesystem of the log fills up in the middle of a run. */
static void test_log_full_mid_run(void **state) {
        struct fx *f = *state;
        g_autofree char *small = g_build_filename(f->top, "small", NULL);
        g_autofree char *log = g_build_filename(small, "log", NULL);
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "-d", f->hooks, "-l", log, "freeze", NULL };
        g_autoptr(GPtrArray) entries = NULL;
        GThread *thread;
        struct tl_run r;
        const char *lost;
        unsigned n_lost = 0;
        Entry *e;

        g_mkdir(small, 0755);
        /* mode=0755: a tmpfs is 1777 by default, which the trust policy
         * refuses for the directory of a log that root writes. */
        assert_int_equal(mount("tmpfs", small, "tmpfs", 0, "size=64k,mode=0755"), 0);
        /* 200 KB of output: more than the filesystem holds. */
        g_free(tl_write_hook(f->hooks, "10-chatty", "seq -f 'line %08g of output' 1 8000"));
        g_free(tl_write_hook(f->hooks, "20-after", "echo still here"));
        thread = g_thread_new("journal", collector, GINT_TO_POINTER(f->sock));
        tl_run(argv, NULL, 60000, &r);
        send_end();
        entries = g_thread_join(thread);
        umount(small);
        assert_int_equal(r.status, 0);

        assert_int_equal(count_events(entries, "log-file-error"), 1);
        e = find(entries, "log-file-error", NULL);
        assert_non_null(strstr(field(e, "MESSAGE"), "No space left on device"));
        /* Nothing lost silently: every line reached the journal, or, if
         * our stand-in journald fell behind (under valgrind it does), the
         * loss is reported where it can still be seen: stderr. */
        lost = strstr(r.err, "journal entries lost: ");
        if (lost)
                n_lost = (unsigned) atoi(g_strrstr_len(r.err, lost - r.err, "fsfreeze-hook: ") + strlen("fsfreeze-hook: "));
        if (n_lost == 0)
                assert_int_equal(count_events(entries, "output"), 8001);
        else
                assert_true(count_events(entries, "output") + n_lost >= 8001);
        tl_run_clear(&r);
}

/* journald hung: its socket exists but nobody reads it. The dispatcher
 * must not hang with it: timeouts still apply, the log file gets
 * everything, and it says how many journal entries were lost. */
static void test_stalled_journald_blocks_nothing(void **state) {
        struct fx *f = *state;
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "-d", f->hooks, "-l", f->log, "-t", "1", "-k", "0.2", "freeze", NULL };
        g_autofree char *log = NULL;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-chatty", "seq -f 'line %g' 1 3000"));
        g_free(tl_write_hook(f->hooks, "20-hang", "sleep 1000"));
        g_free(tl_write_hook(f->hooks, "30-after", "echo after"));
        tl_run(argv, NULL, 60000, &r);          /* nothing reads f->sock */
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, ": 10-chatty: stdout: line "), 3000);
        assert_int_equal(tl_count_lines_with(log, "/20-hang finished with status=143 (timed out after 1.000 s"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 30-after: stdout: after"), 1);
        assert_int_equal(tl_count_lines_with(log, " journal entries lost: journald did not take them in time"), 1);
}

/* A private mount namespace with a tmpfs over /run, so that the socket we
 * bind there is the only journal the dispatcher can see. */
static bool enter_private_run(void) {
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
                return false;
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
                return false;
        if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
                return false;
        return g_mkdir_with_parents(JOURNAL_DIR, 0755) == 0;
}

/* max-output caps the journal too: the MESSAGE bytes of a hook's output
 * entries stay within the limit (they are shorter than the log file's
 * lines, which the limit counts), and one entry says how much was dropped. */
static void test_max_output_caps_journal(void **state) {
        struct fx *f = *state;
        g_autoptr(GPtrArray) entries = NULL;
        size_t bytes = 0;
        unsigned dropped = 0;

        g_free(tl_write_hook(f->hooks, "10-empty", "yes '' | head -n 5000"));
        entries = run(f, "freeze", "-m1K");
        for (guint i = 0; i < entries->len; i++) {
                Entry *x = entries->pdata[i];
                if (g_strcmp0(field(x, "FSFREEZE_EVENT"), "output") == 0)
                        bytes += strlen(field(x, "MESSAGE")) + 1;
                dropped += g_strcmp0(field(x, "FSFREEZE_EVENT"), "output-dropped") == 0;
        }
        assert_true(bytes > 0);
        assert_true(bytes <= 1024);
        assert_int_equal(dropped, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_events_and_fields, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_phase_field, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_journal_option_sends_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_without_journal_socket_carries_on_silently, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_fallback_to_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_full_mid_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stalled_journald_blocks_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_output_caps_journal, setup, teardown),
        };

        if (!enter_private_run()) {
                fprintf(stderr, "SKIP: needs root and mount namespaces to stand in for journald\n");
                return TEST_SKIP;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
