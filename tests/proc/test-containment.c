/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A dispatcher that runs as root must not be the weak point: the trust
 * policy, a log that cannot be abused or lost, output and memory bounds,
 * signals, and hostile directory contents. Real binary, real hooks. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

/* The fixture is testlib's struct tl_fx: a temporary hook directory,
 * hermetic configuration and state; run() logs to f->log. */
#define run(f, r, ...) tl_fx_run(f, r, NULL, __VA_ARGS__)

static void require_root(void) {
        if (geteuid() != 0)
                skip();         /* the trust policy applies to root only */
}

/* --- trust policy ------------------------------------------------------ */

static void test_writable_hook_refused_others_run(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL, *refusal = NULL;
        g_autofree char *bad = NULL;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-a");
        tl_fx_recording_hook(f, "20-group-writable");
        tl_fx_recording_hook(f, "30-c");
        bad = g_build_filename(f->hooks, "20-group-writable", NULL);
        chmod(bad, 0775);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n30-c freeze\n");
        log = tl_fx_read_log(f);
        refusal = g_strdup_printf("%s not run: refused: %s is writable by group or others (fix: chmod go-w '%s')",
                                  bad, bad, bad);
        assert_int_equal(tl_count_lines_with(log, refusal), 1);
        assert_int_equal(tl_count_lines_with(log, "freeze: done in "), 1);
        assert_int_equal(tl_count_lines_with(log, ": 2 run, 0 failed, 1 refused"), 1);
}

static void test_foreign_owned_hook_refused(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *hook = NULL;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-nobody");
        hook = g_build_filename(f->hooks, "10-nobody", NULL);
        assert_int_equal(chown(hook, 65534, 65534), 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "is owned by uid 65534, not by root (fix: chown root"), 1);
}

static void test_world_writable_hook_dir_runs_nothing(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-a");
        chmod(f->hooks, 01777);         /* even with the sticky bit */
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "is not trusted: "), 1);
        assert_int_equal(tl_count_lines_with(log, "is writable by group or others (fix: chmod go-w"), 1);
        assert_int_equal(tl_count_lines_with(log, ": none of its hooks run"), 1);
        assert_int_equal(tl_count_lines_with(log, "/10-a not run: refused: its directory is not trusted"), 1);

        /* The dry run says the same. */
        run(f, &r, "freeze", "--dry-run", NULL);
        assert_non_null(strstr(r.out, "is not trusted"));
        assert_non_null(strstr(r.out, "skip  10-a: refused: "));
        tl_run_clear(&r);
}

static void test_symlink_judged_by_target(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *open_dir = g_build_filename(f->top, "open", NULL);
        g_autofree char *safe_dir = g_build_filename(f->top, "safe", NULL);
        g_autofree char *bad_link = g_build_filename(f->hooks, "10-to-open", NULL);
        g_autofree char *good_link = g_build_filename(f->hooks, "20-to-safe", NULL);
        g_autofree char *body = g_strdup_printf("echo \"target $1\" >> '%s'", f->out);
        g_autofree char *t1 = NULL, *t2 = NULL, *rec = NULL;
        struct tl_run r;

        require_root();
        g_mkdir(open_dir, 0777);
        chmod(open_dir, 0777);
        g_mkdir(safe_dir, 0755);
        t1 = tl_write_hook(open_dir, "hook", body);
        t2 = tl_write_hook(safe_dir, "hook", body);
        assert_int_equal(symlink(t1, bad_link), 0);
        assert_int_equal(symlink(t2, good_link), 0);

        run(f, &r, "freeze", "--dry-run", NULL);
        assert_non_null(strstr(r.out, "skip  10-to-open: refused: "));
        assert_non_null(strstr(r.out, "/open is writable by group or others"));
        assert_non_null(strstr(r.out, "run   20-to-safe\n"));
        tl_run_clear(&r);

        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "target freeze\n");    /* only the safe one */
}

static void test_no_strict_modes_runs_with_warning(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL, *hook = NULL;
        struct tl_run r;

        require_root();
        tl_fx_recording_hook(f, "10-writable");
        hook = g_build_filename(f->hooks, "10-writable", NULL);
        chmod(hook, 0777);
        run(f, &r, "freeze", "--no-strict-modes", NULL);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-writable freeze\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "runs although it is not trusted: "), 1);
}

/* --- the log ------------------------------------------------------------ */

static void test_log_symlink_not_followed(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *victim = g_build_filename(f->top, "victim", NULL);
        g_autofree char *link = g_build_filename(f->top, "log-link", NULL);
        g_autofree char *content = NULL, *rec = NULL;
        struct tl_run r;

        g_free(tl_write_file(f->top, "victim", "precious\n", 0644));
        assert_int_equal(symlink(victim, link), 0);
        tl_fx_recording_hook(f, "10-a");
        tl_fx_run(f, &r, link, "freeze", NULL);
        assert_int_equal(r.status, 0);
        /* No journal in this run either: said on stderr. */
        assert_non_null(strstr(r.err, "cannot write log file"));
        assert_non_null(strstr(r.err, "Too many levels of symbolic links"));
        tl_run_clear(&r);
        content = tl_read_file(victim);
        assert_string_equal(content, "precious\n");
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n");
}

static void test_log_fifo_never_blocks(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *fifo = g_build_filename(f->top, "log-fifo", NULL);
        g_autofree char *rec = NULL;
        struct tl_run r;
        int reader;

        assert_int_equal(mkfifo(fifo, 0600), 0);
        tl_fx_recording_hook(f, "10-a");
        /* No reader: a plain open for writing would block forever. */
        tl_fx_run(f, &r, fifo, "freeze", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.err, "cannot write log file"));
        tl_run_clear(&r);
        /* With a reader: refused as not a regular file. */
        reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        tl_fx_run(f, &r, fifo, "freeze", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.err, "cannot write log file"));
        tl_run_clear(&r);
        close(reader);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n10-a freeze\n");
}

static void test_log_unusable_hooks_still_run(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *missing = g_build_filename(f->top, "no", "such", "dir", "log", NULL);
        const char *bad[] = { missing, "/dev/full", "/dev/null" };
        g_autofree char *rec = NULL;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        tl_fx_recording_hook(f, "20-b");
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                tl_fx_run(f, &r, bad[i], "freeze", NULL);
                assert_int_equal(r.status, 0);
                assert_non_null(strstr(r.err, "fsfreeze-hook: cannot write log file"));
                assert_non_null(strstr(r.err, "hook output is not logged"));
                tl_run_clear(&r);
        }
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n20-b freeze\n10-a freeze\n20-b freeze\n10-a freeze\n20-b freeze\n");
}

static void test_log_created_private_whatever_umask(void **state) {
        struct tl_fx *f = *state;
        struct tl_run r;
        struct stat st;
        mode_t old;

        tl_fx_recording_hook(f, "10-a");
        old = umask(0);
        run(f, &r, "freeze", NULL);
        umask(old);
        tl_run_clear(&r);
        assert_int_equal(stat(f->log, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* An existing log keeps the mode its administrator gave it. */
        chmod(f->log, 0640);
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        assert_int_equal(stat(f->log, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
}

/* --- output and memory bounds --------------------------------------------- */

static void test_output_cap_drops_and_counts(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        g_auto(GStrv) lines = NULL;
        uint64_t logged = 0, written = 0;
        struct tl_run r;

        /* 1,000,000 lines of 10 bytes ("%09d\n") = 10,000,000 bytes. */
        g_free(tl_write_hook(f->hooks, "10-flood", "seq -f '%09g' 1 1000000\necho done >&2"));
        tl_fx_recording_hook(f, "20-after");
        run(f, &r, "freeze", "--max-output=64K", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *p = strstr(*l, ": 10-flood: stdout: ");
                if (p) {
                        /* Whole lines only. */
                        assert_int_equal(strlen(p + strlen(": 10-flood: stdout: ")), 9);
                        logged += 10;
                        written += strlen(*l) + 1;
                }
        }
        /* The cap counts what the log file gets, prefixes included. */
        assert_true(written <= 64 * 1024);
        assert_true(written > 64 * 1024 - 80);
        {
                g_autofree char *dropped = g_strdup_printf("output over the limit of 64 KiB: %" G_GUINT64_FORMAT
                                                           " more bytes read and not logged", 10000000 + 5 - logged);
                assert_int_equal(tl_count_lines_with(log, dropped), 1);
        }
        assert_int_equal(tl_count_lines_with(log, "/10-flood finished with status=0"), 1);
        assert_int_equal(tl_count_lines_with(log, "/20-after finished with status=0"), 1);
}

/* The dispatcher's memory does not grow with what a hook prints, even a
 * hook that never prints a newline. */
static void test_memory_independent_of_output(void **state) {
        struct tl_fx *f = *state;
        struct tl_run small, big;

        if (g_getenv("FSFREEZE_HOOK_WRAPPER"))
                skip();         /* valgrind's own memory would be measured */
        g_free(tl_write_hook(f->hooks, "10-flood", "head -c \"$SIZE\" /dev/zero; head -c \"$SIZE\" /dev/urandom"));
        g_setenv("SIZE", "1000000", TRUE);
        run(f, &small, "freeze", "--max-output=0", "--log-file=", NULL);
        g_setenv("SIZE", "64000000", TRUE);
        run(f, &big, "freeze", "--max-output=0", "--log-file=", NULL);
        g_unsetenv("SIZE");
        assert_int_equal(big.status, 0);
        assert_true(big.maxrss_kib - small.maxrss_kib < 1024);
        tl_run_clear(&small);
        tl_run_clear(&big);
}

/* --- signals to the dispatcher ------------------------------------------ */

static void test_signal_to_dispatcher_kills_hook_and_exits(void **state) {
        struct tl_fx *f = *state;
        const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

        for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
                g_autofree char *started = g_strdup_printf("%s/started-%zu", f->top, i);
                g_autofree char *body = g_strdup_printf("echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 1000", started,
                                                        started, started);
                g_autofree char *log = NULL, *rec = NULL, *sig = NULL, *hook = g_strdup_printf("10-hang-%zu", i);
                char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL };
                int status;
                pid_t pid, hook_pid;

                unlink(f->log);
                tl_rmtree(f->hooks);
                g_mkdir(f->hooks, 0755);
                g_free(tl_write_hook(f->hooks, hook, body));
                tl_fx_recording_hook(f, "20-never");
                pid = fork();
                if (pid == 0) {
                        execv(argv[0], argv);
                        _exit(127);
                }
                assert_true(tl_await_file(started, 30000));
                hook_pid = tl_read_pid(started);
                assert_int_equal(kill(pid, sigs[i]), 0);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                assert_true(tl_await_exit(hook_pid, 10000));

                log = tl_fx_read_log(f);
                sig = g_strdup_printf("(interrupted: fsfreeze-hook received SIG%s", sigabbrev_np(sigs[i]));
                assert_int_equal(tl_count_lines_with(log, sig), 1);
                assert_int_equal(tl_count_lines_with(log, "freeze: interrupted by SIG"), 1);
                assert_int_equal(tl_count_lines_with(log, ": 1 run, 1 failed, 1 not run"), 1);
                rec = tl_read_file(f->out);
                assert_null(rec);       /* 20-never never ran */
        }
}

static void ignore_sigchld(void) {
        signal(SIGCHLD, SIG_IGN);
}

/* Started with SIGCHLD ignored (the disposition survives execve), the
 * kernel would reap hooks before the dispatcher learns how they ended. */
static void test_inherited_ignored_sigchld(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "-t", "0", "freeze", NULL };
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-fails", "exit 3"));
        tl_fx_recording_hook(f, "20-after");
        tl_run_with(argv, NULL, 30000, ignore_sigchld, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/10-fails finished with status=3 in"), 1);
        assert_int_equal(tl_count_lines_with(log, "/20-after finished with status=0 in"), 1);
}

/* --- hostile directory contents ----------------------------------------- */

static void test_thousands_of_entries(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *rec = NULL;
        g_autoptr(GString) expect = g_string_new(NULL);
        struct tl_run r;

        for (int i = 0; i < 3000; i++) {
                g_autofree char *name = g_strdup_printf("%04d-note", i);
                g_free(tl_write_file(f->hooks, name, "not a hook\n", 0644));
        }
        for (int i = 0; i < 30; i++) {
                g_autofree char *name = g_strdup_printf("%04d-hook", i * 100);
                tl_fx_recording_hook(f, name);
                g_string_append_printf(expect, "%s freeze\n", name);
        }
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, expect->str);
}

static void test_hostile_names_escaped(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GRegex) ts = g_regex_new("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d: ", 0, 0, NULL);
        g_autofree char *fifo = g_build_filename(f->hooks, "50 fifo", NULL);
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10 with spaces", "echo spaced"));
        g_free(tl_write_hook(f->hooks, "20-new\nline", "echo newline"));
        g_free(tl_write_hook(f->hooks, "30-bad-\xff-byte", "echo notutf8"));
        g_free(tl_write_hook(f->hooks, "40-\x1b[2J-escape", "echo escape"));
        assert_int_equal(mkfifo(fifo, 0755), 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l && **l; l++)
                assert_true(g_regex_match(ts, *l, 0, NULL));    /* no line forged or broken */
        assert_true(g_utf8_validate(log, -1, NULL));
        assert_null(strchr(log, '\x1b'));
        assert_int_equal(tl_count_lines_with(log, ": 10 with spaces: stdout: spaced"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 20-new\\x0aline: stdout: newline"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 30-bad-\\xff-byte: stdout: notutf8"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 40-\\x1b[2J-escape: stdout: escape"), 1);
        assert_int_equal(tl_count_lines_with(log, "/50 fifo: FIFO"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 4 run, 0 failed"), 1);
}

/* --- resources ------------------------------------------------------------ */

static void few_fds(void) {
        /* 0-2, the signalfd, /dev/null, the log, the state lock, the
         * hook's descriptor, two more (the trust policy walks to the
         * hook's #! interpreter two directories at a time): not enough
         * for the hook's two pipes. */
        struct rlimit rl = { 10, 10 };

        setrlimit(RLIMIT_NOFILE, &rl);
}

static void test_out_of_descriptors_logged_not_run(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL };
        struct tl_run r;

        if (g_getenv("FSFREEZE_HOOK_WRAPPER"))
                skip();         /* valgrind needs descriptors of its own */
        tl_fx_recording_hook(f, "10-a");
        tl_fx_recording_hook(f, "20-b");
        tl_run_with(argv, NULL, 30000, few_fds, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, " not run: cannot create a pipe: Too many open files"), 2);
        assert_int_equal(tl_count_lines_with(log, "freeze: done in "), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_writable_hook_refused_others_run, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_foreign_owned_hook_refused, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_world_writable_hook_dir_runs_nothing, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_symlink_judged_by_target, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_no_strict_modes_runs_with_warning, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_log_symlink_not_followed, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_log_fifo_never_blocks, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_log_unusable_hooks_still_run, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_log_created_private_whatever_umask, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_output_cap_drops_and_counts, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_memory_independent_of_output, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_signal_to_dispatcher_kills_hook_and_exits, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_inherited_ignored_sigchld, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_thousands_of_entries, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_hostile_names_escaped, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_out_of_descriptors_logged_not_run, tl_fx_setup, tl_fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
