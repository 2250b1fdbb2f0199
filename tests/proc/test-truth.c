/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the dispatcher records and reports must be the truth whatever
 * stops it: a thaw cut short by a signal or SIGKILL at each point, the
 * defaults that follow other settings, the output cap as written, a log
 * torn by a full disk, an abort that cannot list its hooks, JSON for any
 * bytes. Real binary, real hooks, real signals. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

struct fx {
        char *top, *hooks, *log, *out, *conf, *state, *fifo, *started;
};

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);

        f->top = tl_mkdtemp();
        f->hooks = g_build_filename(f->top, "hooks", NULL);
        f->log = g_build_filename(f->top, "log", NULL);
        f->out = g_build_filename(f->top, "out", NULL);
        f->conf = g_build_filename(f->top, "conf", NULL);
        f->state = g_build_filename(f->top, "state", NULL);
        f->fifo = g_build_filename(f->top, "fifo", NULL);
        f->started = g_build_filename(f->top, "started", NULL);
        g_mkdir(f->hooks, 0755);
        assert_int_equal(mkfifo(f->fifo, 0600), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        tl_disarm_deadline(f->top);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->hooks);
        g_free(f->log);
        g_free(f->out);
        g_free(f->conf);
        g_free(f->state);
        g_free(f->fifo);
        g_free(f->started);
        g_free(f);
        return 0;
}

/* The test's hook directory, log and state, plus 'extra' lines. */
static void write_conf(struct fx *f, const char *extra) {
        g_free(tl_write_conf(f->top, f->hooks, f->log, f->state, extra));
}

/* A hook that records "NAME PHASE froze=FSFREEZE_FROZE" and exits 'status'. */
static void hook(struct fx *f, const char *name, int status) {
        g_autofree char *body = g_strdup_printf("echo \"%s $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\nexit %d", name,
                                                f->out, status);

        g_free(tl_write_hook(f->hooks, name, body));
}

/* A hook that records like hook(), and in 'phase' then says it started
 * (its pid, whole, in f->started) and blocks on the FIFO, which nobody
 * opens: it stays until it is killed. */
static void blocking_hook(struct fx *f, const char *name, const char *phase) {
        g_autofree char *body = g_strdup_printf("echo \"%s $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                                                "if [ \"$1\" = %s ]; then echo $$ > '%s.new'; mv '%s.new' '%s'; read x < '%s'; fi\n"
                                                "exit 0",
                                                name, f->out, phase, f->started, f->started, f->started, f->fifo);

        g_free(tl_write_hook(f->hooks, name, body));
}

/* Runs the dispatcher with the test's configuration and the arguments. */
static void run(struct fx *f, struct tl_run *r, ...) G_GNUC_NULL_TERMINATED;
static void run(struct fx *f, struct tl_run *r, ...) {
        va_list ap;

        va_start(ap, r);
        tl_run_config(f->conf, r, ap);
        va_end(ap);
}

/* Runs 'phase' and checks that it exits 'status'. */
static void run_ok(struct fx *f, const char *phase, int status) {
        struct tl_run r;

        run(f, &r, phase, NULL);
        assert_int_equal(r.status, status);
        tl_run_clear(&r);
}

/* Starts the dispatcher in the background, its stdio on /dev/null. */
static pid_t start(struct fx *f, const char *phase) {
        g_autofree char *conf = g_strdup_printf("--config=%s", f->conf);
        char *argv[] = { (char *) tl_binary(), conf, (char *) phase, NULL };
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

/* Waits for the background dispatcher; returns its exit status, 128+N if
 * killed by signal N. */
static int finish(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *take_record(struct fx *f) {
        char *rec = tl_read_file(f->out);

        unlink(f->out);
        return rec ? rec : g_strdup("");
}

static char *status_text(struct fx *f) {
        struct tl_run r;
        char *out;

        run(f, &r, "--status", NULL);
        out = g_steal_pointer(&r.out);
        tl_run_clear(&r);
        return out;
}

/* Waits (bounded) until the log has a line containing 'needle'. */
static bool await_log(struct fx *f, const char *needle) {
        return tl_await_text(f->log, needle, 30000);
}

/* --- 3. the state tells the truth ---------------------------------------------- */

/* Three hooks froze; the thaw runs 30-c, then 20-b, which blocks. */
static void freeze_three(struct fx *f) {
        g_autofree char *rec = NULL;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        blocking_hook(f, "20-b", "thaw");
        hook(f, "30-c", 0);
        run_ok(f, "freeze", 0);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n20-b freeze froze=unset\n30-c freeze froze=unset\n");
}

/* SIGTERM while a thaw hook runs: we cut that hook's thaw short, so it may
 * not have released anything, and the one after it never started: both
 * are still held, and the retry releases exactly them, telling them that
 * they froze. */
static void test_thaw_sigterm_during_hook(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *st = NULL, *log = NULL;
        pid_t pid;

        freeze_three(f);
        pid = start(f, "thaw");
        assert_true(tl_await_file(f->started, 30000));
        kill(pid, SIGTERM);
        assert_int_equal(finish(pid), 0);
        rec = take_record(f);
        assert_string_equal(rec, "30-c thaw froze=yes\n20-b thaw froze=yes\n");
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: yes"));
        assert_int_equal(tl_count_lines_with(st, ", awaiting thaw"), 2);
        assert_int_equal(tl_line_index(st, ", awaiting thaw"), tl_line_index(st, "  10-a "));
        assert_int_equal(tl_line_index(st, "  20-b ") - tl_line_index(st, "  10-a "), 1);
        assert_non_null(strstr(strstr(st, "  20-b "), ", awaiting thaw"));

        unlink(f->started);
        hook(f, "20-b", 0);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=yes\n10-a thaw froze=yes\n");
        g_free(st);
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: no"));
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "thaw: 2 hooks to release"), 1);
}

/* SIGTERM that the dispatcher reads between two hooks (the hook sends it
 * and exits 0 at once, ignoring the TERM that the dispatcher may still send
 * its group, so that it surely ends by itself): it is released, the hooks
 * after it stay held. */
static void test_thaw_sigterm_between_hooks(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *body = NULL;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        body = g_strdup_printf("echo \"20-b $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                               "trap '' TERM\n[ \"$1\" = thaw ] && kill -TERM $PPID\nexit 0", f->out);
        g_free(tl_write_hook(f->hooks, "20-b", body));
        hook(f, "30-c", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));

        run_ok(f, "thaw", 0);
        rec = take_record(f);
        assert_string_equal(rec, "30-c thaw froze=yes\n20-b thaw froze=yes\n");
        hook(f, "20-b", 0);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "10-a thaw froze=yes\n");
}

/* SIGTERM while the thaw waits for the state lock: nothing ran, so nothing
 * is released; the freeze still awaits its thaw, which releases all. */
static void test_thaw_sigterm_waiting_for_lock(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *st = NULL, *lock = g_build_filename(f->state, "lock", NULL);
        int fd;
        pid_t pid;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        hook(f, "20-b", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));

        fd = open(lock, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        pid = start(f, "thaw");
        assert_true(await_log(f, "another fsfreeze-hook is running: waiting for it"));
        kill(pid, SIGTERM);
        assert_int_equal(finish(pid), 0);
        close(fd);
        rec = take_record(f);
        assert_string_equal(rec, "");
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: yes"));

        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=yes\n10-a thaw froze=yes\n");
}

/* SIGKILL while a thaw hook runs: the record written after each hook says
 * that 30-c was released; 20-b and 10-a are released by the next thaw. */
static void test_thaw_sigkill_during_hook(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *st = NULL;
        pid_t pid, hook_pid;

        freeze_three(f);
        pid = start(f, "thaw");
        assert_true(tl_await_file(f->started, 30000));
        kill(pid, SIGKILL);
        assert_int_equal(finish(pid), 128 + SIGKILL);
        hook_pid = tl_read_pid(f->started);
        assert_true(hook_pid > 0);
        kill(hook_pid, SIGKILL);
        assert_true(tl_await_exit(hook_pid, 30000));
        rec = take_record(f);
        assert_string_equal(rec, "30-c thaw froze=yes\n20-b thaw froze=yes\n");
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: yes"));

        hook(f, "20-b", 0);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=yes\n10-a thaw froze=yes\n");
}

/* SIGKILL (Google's agent at its timeout, vmtoolsd 5 s after SIGTERM)
 * while freeze hook 'k' (1-based) of 10-a, 20-b, 30-c runs: the record,
 * rewritten before each hook starts, says which hooks finished, which one
 * was running and which never started. --status names the running one;
 * the next thaw releases exactly the hooks that started, in reverse,
 * telling those that finished that they froze and the running one that
 * nobody knows, and leaves alone those never started. */
static void sigkill_during_freeze_hook(struct fx *f, int k) {
        static const char *const names[] = { "10-a", "20-b", "30-c" };
        g_autofree char *rec = NULL, *st = NULL;
        g_autoptr(GString) expect = g_string_new("");
        pid_t pid, hook_pid;

        write_conf(f, NULL);
        for (int j = 1; j <= 3; j++) {
                if (j == k)
                        blocking_hook(f, names[j - 1], "freeze");
                else
                        hook(f, names[j - 1], 0);
        }
        pid = start(f, "freeze");
        assert_true(tl_await_file(f->started, 30000));
        kill(pid, SIGKILL);
        assert_int_equal(finish(pid), 128 + SIGKILL);
        hook_pid = tl_read_pid(f->started);
        assert_true(hook_pid > 0);
        kill(hook_pid, SIGKILL);
        assert_true(tl_await_exit(hook_pid, 30000));
        g_free(take_record(f));

        st = status_text(f);
        assert_non_null(strstr(st, ", never finished (the dispatcher was stopped)\n"));
        assert_non_null(strstr(st, "Awaiting thaw: yes"));
        for (int j = 1; j <= 3; j++) {
                g_autofree char *at = g_strdup_printf("  %s ", names[j - 1]);
                const char *line = strstr(st, at);
                g_autofree char *one = NULL;

                assert_non_null(line);
                one = g_strndup(line, strcspn(line, "\n"));
                if (j < k)
                        assert_non_null(strstr(one, "status=0"));
                else if (j == k)
                        assert_non_null(strstr(one, "running"));
                else
                        assert_non_null(strstr(one, "planned"));
                if (j <= k)
                        assert_non_null(strstr(one, ", awaiting thaw"));
                else
                        assert_null(strstr(one, "awaiting thaw"));
        }

        unlink(f->started);
        hook(f, names[k - 1], 0);
        run_ok(f, "thaw", 0);
        rec = take_record(f);
        for (int j = k; j >= 1; j--)
                g_string_append_printf(expect, "%s thaw froze=%s\n", names[j - 1], j == k ? "unknown" : "yes");
        assert_string_equal(rec, expect->str);
        g_free(st);
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: no"));
}

static void test_freeze_sigkill_during_first_hook(void **state) {
        sigkill_during_freeze_hook(*state, 1);
}

static void test_freeze_sigkill_during_middle_hook(void **state) {
        sigkill_during_freeze_hook(*state, 2);
}

static void test_freeze_sigkill_during_last_hook(void **state) {
        sigkill_during_freeze_hook(*state, 3);
}

/* SIGTERM during on-failure=abort's own release: 30-fails was released;
 * 20-b's release was cut short and 10-a's never started; a thaw by hand
 * releases exactly those two. */
static void test_abort_release_interrupted(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *st = NULL;
        pid_t pid;

        write_conf(f, "on-failure=abort\n");
        hook(f, "10-a", 0);
        blocking_hook(f, "20-b", "thaw");
        hook(f, "30-fails", 1);
        pid = start(f, "freeze");
        assert_true(tl_await_file(f->started, 30000));
        kill(pid, SIGTERM);
        assert_int_equal(finish(pid), 1);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n20-b freeze froze=unset\n30-fails freeze froze=unset\n"
                                 "30-fails thaw froze=yes\n20-b thaw froze=yes\n");
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: yes"));

        hook(f, "20-b", 0);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=yes\n10-a thaw froze=yes\n");
}

/* A freeze never thawed is carried into the next one, less what a thaw cut
 * short has released. */
static void test_partial_thaw_carried_over(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL;
        pid_t pid;

        freeze_three(f);
        pid = start(f, "thaw");
        assert_true(tl_await_file(f->started, 30000));
        kill(pid, SIGTERM);
        assert_int_equal(finish(pid), 0);
        g_free(take_record(f));
        /* 10-a is gone from the directory; the next freeze runs 20-b, 30-c. */
        unlink(f->started);
        g_autofree char *a = g_build_filename(f->hooks, "10-a", NULL);
        g_autofree char *keep = g_build_filename(f->top, "10-a", NULL);
        assert_int_equal(rename(a, keep), 0);
        hook(f, "20-b", 0);
        run_ok(f, "freeze", 0);
        assert_int_equal(rename(keep, a), 0);
        run_ok(f, "thaw", 0);
        rec = take_record(f);
        assert_string_equal(rec, "20-b freeze froze=unset\n30-c freeze froze=unset\n"
                                 "30-c thaw froze=yes\n20-b thaw froze=yes\n10-a thaw froze=yes\n");
}

/* A freeze never thawed, then a second freeze stopped before it reaches
 * hooks that the first one froze: they still hold what the first freeze
 * took, so the thaw releases them too, telling them that they froze. */
static void test_refreeze_interrupted_keeps_holds(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *body = NULL, *marker = g_build_filename(f->top, "stop", NULL);

        write_conf(f, NULL);
        body = g_strdup_printf("echo \"10-a $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                               "trap '' TERM\n[ \"$1\" = freeze ] && [ -e '%s' ] && kill -TERM $PPID\nexit 0",
                               f->out, marker);
        g_free(tl_write_hook(f->hooks, "10-a", body));
        hook(f, "20-b", 0);
        hook(f, "30-c", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));

        g_free(tl_write_file(f->top, "stop", "", 0644));
        run_ok(f, "freeze", 0);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n");

        unlink(marker);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "30-c thaw froze=yes\n20-b thaw froze=yes\n10-a thaw froze=yes\n");
}

/* A thaw hook refused by the trust policy did not run, and the log tells
 * the administrator how to fix it: fixed, the next thaw must release it as
 * a hook that froze, not tell it that nothing froze. */
static void test_thaw_refused_stays_held(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *st = NULL, *b = g_build_filename(f->hooks, "20-b", NULL);

        if (geteuid() != 0) {
                print_message("SKIP: not root: the trust policy protects root only\n");
                skip();
        }
        write_conf(f, NULL);
        hook(f, "10-a", 0);
        hook(f, "20-b", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));

        assert_int_equal(chmod(b, 0757), 0);
        run_ok(f, "thaw", 0);
        rec = take_record(f);
        assert_string_equal(rec, "10-a thaw froze=yes\n");
        st = status_text(f);
        assert_non_null(strstr(st, "Awaiting thaw: yes"));

        assert_int_equal(chmod(b, 0755), 0);
        run_ok(f, "thaw", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=yes\n");
}

/* --status while a freeze runs (a hook that takes its time) must not say
 * that the dispatcher was stopped: it holds the state lock. Once it is
 * killed, the same record is one that never finished. */
static void test_status_while_running(void **state) {
        struct fx *f = *state;
        g_autofree char *st = NULL;
        pid_t pid, hook_pid;

        write_conf(f, NULL);
        blocking_hook(f, "10-a", "freeze");
        pid = start(f, "freeze");
        assert_true(tl_await_file(f->started, 30000));
        st = status_text(f);
        assert_null(strstr(st, "was stopped"));
        assert_non_null(strstr(st, "Last freeze: "));
        assert_non_null(strstr(st, ", still running\n"));

        kill(pid, SIGKILL);
        assert_int_equal(finish(pid), 128 + SIGKILL);
        hook_pid = tl_read_pid(f->started);
        assert_true(hook_pid > 0);
        kill(hook_pid, SIGKILL);
        assert_true(tl_await_exit(hook_pid, 30000));
        g_free(st);
        st = status_text(f);
        assert_null(strstr(st, "still running"));
        assert_non_null(strstr(st, ", never finished (the dispatcher was stopped)\n"));
}

/* A state lock that cannot be opened (here a directory in its place)
 * leaves the dispatcher unprotected from another one: the log says so, as
 * it does when the lock is not had in time. */
static void test_lock_unusable_is_said(void **state) {
        struct fx *f = *state;
        g_autofree char *lock = g_build_filename(f->state, "lock", NULL), *log = NULL;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        assert_int_equal(g_mkdir_with_parents(lock, 0755), 0);
        run_ok(f, "freeze", 0);
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "going on without the state lock (cannot open "), 1);
        assert_int_equal(tl_count_lines_with(log, "Is a directory"), 1);
}

/* A record edited by hand or damaged so that a value no longer reads (a
 * boolean written "yes") is unreadable, not read as "false": "false" would
 * tell the thaw that nothing froze, and its hooks "FSFREEZE_FROZE=no". */
static void check_damaged_record(struct fx *f, const char *from, const char *to) {
        g_autofree char *path = g_build_filename(f->state, "last-freeze", NULL);
        g_autofree char *text = NULL, *rec = NULL, *st = NULL;
        g_auto(GStrv) parts = NULL;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        hook(f, "20-b", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));
        text = tl_read_file(path);
        assert_non_null(strstr(text, from));
        parts = g_strsplit(text, from, 2);
        g_free(text);
        text = g_strjoin(to, parts[0], parts[1], NULL);
        assert_true(g_file_set_contents(path, text, -1, NULL));

        st = status_text(f);
        assert_non_null(strstr(st, "Last freeze: record unreadable"));
        run_ok(f, "thaw", 0);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=unknown\n10-a thaw froze=unknown\n");
}

/* A record cut short just before 'at' (a persistent state directory, a
 * crash before the data reached the disk, an editor) still parses, but
 * lacks hooks that froze: unreadable too, not a record of fewer hooks (the
 * thaw would not run the missing ones). */
static void check_truncated_record(struct fx *f, const char *at) {
        g_autofree char *path = g_build_filename(f->state, "last-freeze", NULL);
        g_autofree char *text = NULL, *rec = NULL, *st = NULL;
        char *cut;

        write_conf(f, NULL);
        hook(f, "10-a", 0);
        hook(f, "20-b", 0);
        run_ok(f, "freeze", 0);
        g_free(take_record(f));
        text = tl_read_file(path);
        cut = strstr(text, at);
        assert_non_null(cut);
        assert_true(g_file_set_contents(path, text, cut - text, NULL));

        st = status_text(f);
        assert_non_null(strstr(st, "Last freeze: record unreadable"));
        run_ok(f, "thaw", 0);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=unknown\n10-a thaw froze=unknown\n");
}

/* After the first hook's group, and within the [run] group. */
static void test_truncated_record(void **state) {
        check_truncated_record(*state, "[hook 1]\n");
}

static void test_truncated_run(void **state) {
        check_truncated_record(*state, "hooks=");
}

static void test_damaged_awaiting_thaw(void **state) {
        check_damaged_record(*state, "awaiting-thaw=true", "awaiting-thaw=yes");
}

static void test_damaged_ran(void **state) {
        check_damaged_record(*state, "ran=true", "ran=1x");
}

static void test_damaged_finished(void **state) {
        check_damaged_record(*state, "finished-usec=", "finished-usec=x");
}

/* --- 4. derived defaults ----------------------------------------------------- */

/* Runs a thaw of a hook that blocks, with 'extra' configuration lines and
 * the options 'a' and 'b', and checks the limit it was given. */
static void check_thaw_limit(struct fx *f, const char *extra, const char *a, const char *b, const char *limit) {
        g_autofree char *log = NULL, *line = g_strdup_printf("/10-hang finished with status=143 (timed out after %s",
                                                             limit);
        struct tl_run r;

        write_conf(f, extra);
        blocking_hook(f, "10-hang", "thaw");
        run(f, &r, "--kill-grace=0.1", a, b, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        assert_non_null(log);
        assert_int_equal(tl_count_lines_with(log, line), 1);
}

/* The thaw timeout defaults to the freeze timeout, set on the command line. */
static void test_thaw_timeout_follows_option(void **state) {
        check_thaw_limit(*state, NULL, "-t", "0.3", "0.300 s");
}

/* ... or in the configuration file. */
static void test_thaw_timeout_follows_config(void **state) {
        check_thaw_limit(*state, "timeout=0.3\n", "--log-file", ((struct fx *) *state)->log, "0.300 s");
}

/* Set explicitly, in a lower layer even, it no longer follows. */
static void test_thaw_timeout_explicit_wins(void **state) {
        check_thaw_limit(*state, "thaw-timeout=0.2\n", "-t", "30", "0.200 s");
}

/* --- 8. JSON for any bytes ------------------------------------------------------ */

/* Decodes --status --json with Python's json module (strict: no control
 * characters in strings), reverses the log escaping of each hook name
 * and compares the bytes with the names given in hex. */
static const char json_check[] =
        "import json, sys\n"
        "def unescape(s):\n"
        "    out, i = bytearray(), 0\n"
        "    while i < len(s):\n"
        "        if s[i] == '\\\\' and s[i + 1] == '\\\\':\n"
        "            out += b'\\\\'; i += 2\n"
        "        elif s[i] == '\\\\':\n"
        "            assert s[i + 1] == 'x', s\n"
        "            out.append(int(s[i + 2:i + 4], 16)); i += 4\n"
        "        else:\n"
        "            out += s[i].encode(); i += 1\n"
        "    return bytes(out)\n"
        "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "got = sorted(unescape(h['name']) for h in d['freeze']['hooks'])\n"
        "paths = sorted(unescape(h['path']).rsplit(b'/', 1)[1] for h in d['freeze']['hooks'])\n"
        "want = sorted(bytes.fromhex(x) for x in sys.argv[2:])\n"
        "assert got == want, (got, want)\n"
        "assert paths == want, (paths, want)\n"
        "assert all(h['ran'] and h['released'] is False for h in d['freeze']['hooks'])\n";

static void test_status_json_any_bytes(void **state) {
        struct fx *f = *state;
        static const char *const names[] = {
                "10-tab\tx", "11-newline\nx", "12-del\x7fx", "13-ctl\x01x", "14-not-utf8\xff\xfex",
                "15-\"quoted\"", "16-back\\slash", "17-ls\xe2\x80\xa8x", "18-caf\xc3\xa9",
        };
        g_autofree char *python = g_find_program_in_path("python3"), *json = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        struct tl_run r, p;

        /* Nothing else allocated yet: skip() leaves no leak for ASan. */
        if (!python) {
                print_message("SKIP: python3 is not installed: cannot check --status --json with a JSON parser\n");
                fprintf(stderr, "test-truth: SKIPPED test_status_json_any_bytes: no python3\n");
                skip();
        }
        json = g_build_filename(f->top, "status.json", NULL);
        argv = g_ptr_array_new_with_free_func(g_free);
        write_conf(f, NULL);
        g_ptr_array_add(argv, g_strdup(python));
        g_ptr_array_add(argv, g_strdup("-c"));
        g_ptr_array_add(argv, g_strdup(json_check));
        g_ptr_array_add(argv, g_strdup(json));
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                GString *hex = g_string_new(NULL);

                g_free(tl_write_hook(f->hooks, names[i], "exit 0"));
                for (const unsigned char *c = (const unsigned char *) names[i]; *c; c++)
                        g_string_append_printf(hex, "%02x", *c);
                g_ptr_array_add(argv, g_string_free(hex, FALSE));
        }
        g_ptr_array_add(argv, NULL);

        run_ok(f, "freeze", 0);
        run(f, &r, "--status", "--json", NULL);
        assert_int_equal(r.status, 0);
        g_file_set_contents(json, r.out, -1, NULL);
        tl_run_clear(&r);
        tl_run((char **) argv->pdata, NULL, 30000, &p);
        if (p.status != 0)
                print_message("python3: %s\n", p.err);
        assert_int_equal(p.status, 0);
        tl_run_clear(&p);
}

/* --status --json says which hooks a freeze still holds: not one the
 * freeze never started (refused here), which 'released' alone, false for
 * it, would count as held. */
static void test_status_json_held(void **state) {
        struct fx *f = *state;
        g_autofree char *python = g_find_program_in_path("python3"), *json = NULL;
        g_autofree char *b = NULL;
        struct tl_run r, p;
        static const char check[] =
                "import json, sys\n"
                "d = json.load(open(sys.argv[1]))\n"
                "held = {h['name']: h['held'] for h in d['freeze']['hooks']}\n"
                "assert held == {'10-a': sys.argv[2] == 'yes', '20-b': False}, held\n"
                "assert d['awaiting_thaw'] == (sys.argv[2] == 'yes'), d\n";
        const char *when[] = { "yes", "no" };

        if (!python || geteuid() != 0) {
                print_message("SKIP: needs python3 and root (the trust policy refuses 20-b)\n");
                skip();
        }
        json = g_build_filename(f->top, "status.json", NULL);
        b = g_build_filename(f->hooks, "20-b", NULL);
        write_conf(f, NULL);
        hook(f, "10-a", 0);
        hook(f, "20-b", 0);
        assert_int_equal(chmod(b, 0757), 0);
        run_ok(f, "freeze", 0);
        for (int i = 0; i < 2; i++) {
                char *argv[] = { python, "-c", (char *) check, json, (char *) when[i], NULL };

                if (i == 1)
                        run_ok(f, "thaw", 0);
                run(f, &r, "--status", "--json", NULL);
                assert_int_equal(r.status, 0);
                assert_true(g_file_set_contents(json, r.out, -1, NULL));
                tl_run_clear(&r);
                tl_run(argv, NULL, 30000, &p);
                if (p.status != 0)
                        print_message("python3: %s\n", p.err);
                assert_int_equal(p.status, 0);
                tl_run_clear(&p);
        }
}

/* --- 7. abort when the hooks cannot all be listed and run -------------------- */

/* A hook directory that is a file cannot be listed: under abort the freeze
 * fails before any hook runs; under continue it is logged and the rest run. */
static void test_abort_unlisted_hook_dir(void **state) {
        struct fx *f = *state;
        g_autofree char *file = tl_write_file(f->top, "not-a-dir", "", 0644);
        g_autofree char *extra = g_strdup_printf("hook-dirs=%s;%s\non-failure=abort\n", f->hooks, file);
        g_autofree char *rec = NULL, *log = NULL;

        write_conf(f, extra);
        hook(f, "10-a", 0);
        run_ok(f, "freeze", 1);
        rec = take_record(f);
        assert_string_equal(rec, "");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "cannot be listed (Not a directory) and on-failure=abort"), 1);

        g_free(extra);
        extra = g_strdup_printf("hook-dirs=%s;%s\n", f->hooks, file);
        write_conf(f, extra);
        run_ok(f, "freeze", 0);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n");
}

/* A hook directory that does not exist is not a failure, even under abort. */
static void test_abort_missing_hook_dir_is_fine(void **state) {
        struct fx *f = *state;
        g_autofree char *missing = g_build_filename(f->top, "missing", NULL);
        g_autofree char *extra = g_strdup_printf("hook-dirs=%s;%s\non-failure=abort\n", missing, f->hooks);
        g_autofree char *rec = NULL;

        write_conf(f, extra);
        hook(f, "10-a", 0);
        run_ok(f, "freeze", 0);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n");
}

/* unshare(1), if this test can mount a tmpfs in a private mount namespace
 * (as root, where mounting is allowed); NULL after saying why not. Call it
 * before allocating anything, so that skip() leaves no leak for ASan. */
static char *mount_namespace_tool(void) {
        char *unshare = g_find_program_in_path("unshare");
        struct tl_run r;

        if (geteuid() != 0 || !unshare) {
                print_message("SKIP: needs root and unshare(1) for a private mount namespace\n");
                g_free(unshare);
                return NULL;
        }
        char *argv[] = { unshare, "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /tmp", NULL };
        tl_run(argv, NULL, 30000, &r);
        if (r.status != 0) {
                print_message("SKIP: cannot mount a tmpfs in a private mount namespace: %s\n", r.err);
                g_clear_pointer(&unshare, g_free);
        }
        tl_run_clear(&r);
        return unshare;
}

/* Runs the dispatcher with 'policy' where /dev/null does not exist: a
 * tmpfs over /dev in a private mount namespace. */
static void run_without_dev_null(struct fx *f, const char *unshare, const char *policy, struct tl_run *r) {
        g_autofree char *conf = g_strdup_printf("--config=%s", f->conf);
        char *argv[] = { (char *) unshare, "-m", "--propagation", "private", "sh", "-c",
                         "mount -t tmpfs none /dev || exit 77; exec \"$@\"", "sh", (char *) tl_binary(), conf,
                         (char *) policy, "freeze", NULL };

        tl_run(argv, NULL, 60000, r);
}

static void test_abort_without_dev_null(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL, *unshare = NULL;
        struct tl_run r;

        if (!(unshare = mount_namespace_tool()))
                skip();
        write_conf(f, NULL);
        hook(f, "10-a", 0);
        run_without_dev_null(f, unshare, "--on-failure=abort", &r);
        assert_int_equal(r.status, 1);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        assert_non_null(log);
        assert_int_equal(tl_count_lines_with(log, "cannot set up (open /dev/null: No such file or directory): no "
                                                  "hooks run; the freeze fails (on-failure=abort)"), 1);
        rec = take_record(f);
        assert_string_equal(rec, "");

        run_without_dev_null(f, unshare, "--on-failure=continue", &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
}

/* --- 6. the log never glues records ------------------------------------------ */

/* Whether any line of 'log' holds the end of a torn output line of
 * 10-flood and a record after it. */
static bool glued(const char *log) {
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);

        for (char **l = lines; *l; l++)
                if (strstr(*l, "10-flood: stdout: ") && strstr(*l, "thaw"))
                        return true;
        return false;
}

/* A log that ends inside a line (what a full disk leaves): the next run
 * starts on a new line. */
static void test_log_torn_line_not_glued(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL;

        write_conf(f, NULL);
        g_free(tl_write_file(f->top, "log", "2026-11-23T03:04:25.123+00:00: 10-flood: stdout: xxxx", 0600));
        hook(f, "10-a", 0);
        run_ok(f, "thaw", 0);
        log = tl_read_file(f->log);
        assert_true(g_str_has_prefix(log, "2026-11-23T03:04:25.123+00:00: 10-flood: stdout: xxxx\n"));
        assert_false(glued(log));
        /* Nothing added to a log that ends well. */
        run_ok(f, "thaw", 0);
        g_free(log);
        log = tl_read_file(f->log);
        assert_null(strstr(log, "\n\n"));
}

/* The same with a real full filesystem: a small tmpfs in a private mount
 * namespace, filled by a flooding hook, then given room again. */
static const char full_fs_script[] =
        "set -e\n"
        "mount -t tmpfs -o size=256k,mode=0755 none \"$FS\" || exit 77\n"
        "\"$BIN\" \"--config=$CONF\" \"--log-file=$FS/log\" --max-output=0 freeze\n"
        "cp \"$FS/log\" \"$TOP/log1\"\n"
        "rm -f \"$FS/filler\"\n"
        "\"$BIN\" \"--config=$CONF\" \"--log-file=$FS/log\" thaw\n"
        "cp \"$FS/log\" \"$TOP/log2\"\n";

static void test_log_full_disk_not_glued(void **state) {
        struct fx *f = *state;
        g_autofree char *unshare = NULL, *fs = NULL, *body = NULL, *log1 = NULL, *log2 = NULL;
        g_autofree char *l1 = NULL, *l2 = NULL;
        g_auto(GStrv) env = NULL;
        struct tl_run r;

        if (!(unshare = mount_namespace_tool()))
                skip();
        fs = g_build_filename(f->top, "fs", NULL);
        l1 = g_build_filename(f->top, "log1", NULL);
        l2 = g_build_filename(f->top, "log2", NULL);
        env = g_get_environ();
        g_mkdir(fs, 0755);
        write_conf(f, NULL);
        /* The hook fills the filesystem but a little, then floods the log. */
        body = g_strdup_printf("[ \"$1\" = freeze ] || exit 0\nhead -c 200000 /dev/zero > '%s/filler'\n"
                               "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -n 20000", fs);
        g_free(tl_write_hook(f->hooks, "10-flood", body));
        env = g_environ_setenv(env, "FS", fs, TRUE);
        env = g_environ_setenv(env, "BIN", tl_binary(), TRUE);
        env = g_environ_setenv(env, "CONF", f->conf, TRUE);
        env = g_environ_setenv(env, "TOP", f->top, TRUE);
        char *argv[] = { unshare, "-m", "--propagation", "private", "sh", "-c", (char *) full_fs_script, NULL };
        tl_run(argv, env, 120000, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log1 = tl_read_file(l1);
        log2 = tl_read_file(l2);
        assert_non_null(log1);
        assert_non_null(log2);
        assert_true(strlen(log1) > 0);
        assert_true(g_str_has_prefix(log2, log1));
        assert_false(glued(log2));
        /* The first run's last line was torn (the filesystem filled up in
         * the middle of a page of lines, as it does but about once in a
         * hundred), and the second run's first record is on a line of its
         * own. */
        if (log1[strlen(log1) - 1] == '\n') {
                print_message("note: the filesystem filled at a line boundary: no torn line this time\n");
                return;
        }
        assert_int_equal(log2[strlen(log1)], '\n');
        assert_true(g_ascii_isdigit(log2[strlen(log1) + 1]));
}

/* A state record cut short by a full filesystem names the real error, not
 * the errno an earlier call left (ENOENT from unlinking a stale .new). */
static const char full_state_script[] =
        "mount -t tmpfs -o size=16k,mode=0755 none \"$STATE\" || exit 77\n"
        "head -c 12288 /dev/zero > \"$STATE/filler\" || exit 1\n"
        "exec \"$BIN\" \"--config=$CONF\" freeze\n";

/* Runs 'script' as root in a private mount namespace, with STATE, BIN and
 * CONF set, after 'n' hooks named NNN'suffix' are written; returns
 * the log, in which every "cannot write" line must name ENOSPC: a short
 * write sets no errno, and the ENOENT that the unlink of a stale PATH.new
 * leaves in errno must never be shown. */
static char *run_on_full_state(struct fx *f, const char *script, int n, const char *suffix) {
        g_autofree char *unshare = mount_namespace_tool();
        g_auto(GStrv) env = g_get_environ(), lines = NULL;
        char *log;
        struct tl_run r;

        if (!unshare)
                return NULL;
        g_mkdir(f->state, 0755);
        write_conf(f, NULL);
        for (int i = 0; i < n; i++) {
                g_autofree char *name = g_strdup_printf("%03d%s", i, suffix);
                g_free(tl_write_hook(f->hooks, name, "exit 0"));
        }
        env = g_environ_setenv(env, "STATE", f->state, TRUE);
        env = g_environ_setenv(env, "BIN", tl_binary(), TRUE);
        env = g_environ_setenv(env, "CONF", f->conf, TRUE);
        char *argv[] = { unshare, "-m", "--propagation", "private", "sh", "-c", (char *) script, NULL };
        tl_run(argv, env, 120000, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        assert_non_null(log);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l; l++)
                if (strstr(*l, "cannot write"))
                        assert_non_null(strstr(*l, ": No space left on device"));
        return log;
}

static void test_state_short_write_errno(void **state) {
        /* Forty hooks: a record of about 6 KiB, where one page is left. */
        g_autofree char *log = run_on_full_state(*state, full_state_script, 40,
                                                 "-hook-with-a-rather-long-name-to-fill-the-record");

        if (!log)
                skip();
        assert_true(tl_count_lines_with(log, "cannot write the freeze record in") >= 1);
}

/* status.json is larger than the freeze record. A first freeze measures
 * both; the second runs with room for exactly two copies of the record (it
 * is rewritten through PATH.new) and so not for status.json beside it,
 * whose write is then cut short: a short write sets no errno, and the
 * message named the ENOENT of the unlink before it. tmpfs counts pages. */
static const char short_status_script[] =
        "set -e\n"
        "mount -t tmpfs -o size=1m,mode=0755 none \"$STATE\" || exit 77\n"
        "\"$BIN\" \"--config=$CONF\" --freeze-deadline=0 freeze\n"
        "rec=$(( ($(stat -c %s \"$STATE/last-freeze\") + 4095) / 4096 ))\n"
        "json=$(( ($(stat -c %s \"$STATE/status.json\") + 4095) / 4096 ))\n"
        "[ \"$json\" -gt \"$rec\" ] || { echo \"status.json ($json pages) is no larger than the record\" >&2; exit 1; }\n"
        "rm -f \"$STATE\"/*\n"
        "head -c $(( (256 - 2 * rec) * 4096 )) /dev/zero > \"$STATE/filler\"\n"
        "exec \"$BIN\" \"--config=$CONF\" --freeze-deadline=0 freeze\n";

static void test_status_short_write_errno(void **state) {
        g_autofree char *log = run_on_full_state(*state, short_status_script, 200, "");

        if (!log)
                skip();
        assert_int_equal(tl_count_lines_with(log, "cannot write status.json in"), 1);
}

/* --- 5. max-output bounds what the log gets ------------------------------------ */

/* Bytes of the log file on lines containing 'needle', newlines included. */
static size_t bytes_of_lines_with(const char *log, const char *needle, int *ret_last) {
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
        size_t n = 0;

        *ret_last = -1;
        for (int i = 0; lines[i]; i++)
                if (strstr(lines[i], needle)) {
                        n += strlen(lines[i]) + 1;
                        *ret_last = i;
                }
        return n;
}

/* A hook named 'name' printing 'lines' lines of 'text' under -m 1K: what
 * its output adds to the log, prefixes and all, stays within 1024 bytes,
 * fills it to within one line, and only the summary follows. */
static void check_output_cap(struct fx *f, const char *name, const char *text, int lines) {
        g_autofree char *body = g_strdup_printf("yes '%s' | head -n %d", text, lines);
        g_autofree char *log = NULL, *needle = g_strdup_printf("%s: stdout: ", name);
        size_t bytes, one;
        int last;
        struct tl_run r;

        write_conf(f, NULL);
        g_free(tl_write_hook(f->hooks, name, body));
        run(f, &r, "-m", "1K", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        bytes = bytes_of_lines_with(log, needle, &last);
        one = bytes / (size_t) MAX(tl_count_lines_with(log, needle), 1u);
        print_message("%s: %zu bytes of output logged, %zu per line\n", name, bytes, one);
        assert_true(bytes <= 1024);
        assert_true(bytes + one > 1024);
        assert_int_equal(tl_count_lines_with(log, "output over the limit of 1 KiB"), 1);
        assert_int_equal(tl_line_index(log, "output over the limit of 1 KiB"), last + 1);
}

static void test_max_output_counts_empty_lines(void **state) {
        check_output_cap(*state, "10-empty", "", 5000);
}

static void test_max_output_counts_long_name(void **state) {
        char name[201];

        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        memcpy(name, "10-", 3);
        check_output_cap(*state, name, "x", 5000);
}

/* The line after the cap says how many bytes were dropped: exactly the
 * bytes the hook printed and the log did not get, whether its lines were
 * split (too long to keep whole) or its last one had no newline. */
static void test_max_output_dropped_count_exact(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        write_conf(f, NULL);
        /* 10000 + 4 + 3 bytes, no line of which fits in 1 byte. */
        g_free(tl_write_hook(f->hooks, "10-long", "head -c 10000 /dev/zero | tr '\\0' x; printf 'abc\\ndef'"));
        run(f, &r, "-m", "1", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, ": 10007 more bytes read and not logged"), 1);
}

/* Escaping counts too: each control byte takes four bytes in the log. */
static void test_max_output_counts_escaping(void **state) {
        check_output_cap(*state, "10-ctl", "\001\001\001\001\001\001\001\001", 5000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_thaw_sigterm_during_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_sigterm_between_hooks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_sigterm_waiting_for_lock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_sigkill_during_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_freeze_sigkill_during_first_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_freeze_sigkill_during_middle_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_freeze_sigkill_during_last_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_release_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partial_thaw_carried_over, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refreeze_interrupted_keeps_holds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_refused_stays_held, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_while_running, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock_unusable_is_said, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damaged_awaiting_thaw, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damaged_ran, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damaged_finished, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_timeout_follows_option, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_timeout_follows_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_timeout_explicit_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json_any_bytes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json_held, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_unlisted_hook_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_missing_hook_dir_is_fine, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_without_dev_null, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_short_write_errno, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_short_write_errno, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_output_counts_empty_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_output_counts_long_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_output_counts_escaping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_output_dropped_count_exact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_torn_line_not_glued, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_full_disk_not_glued, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
