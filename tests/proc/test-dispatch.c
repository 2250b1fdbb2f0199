/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dispatcher as qemu-ga and administrators run it: the real binary,
 * real #!/bin/sh hooks in a temporary directory, real processes. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

static void test_freeze_in_name_order_thaw_reversed(void **state) {
        struct tl_fx *f = *state;
        struct tl_run r;
        g_autofree char *rec = NULL;

        tl_fx_recording_hook(f, "20-b");
        tl_fx_recording_hook(f, "10-a");
        tl_fx_recording_hook(f, "30-c");
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n20-b freeze\n30-c freeze\n30-c thaw\n20-b thaw\n10-a thaw\n");
}

static void test_log_uses_qemu_phrases_and_timestamps(void **state) {
        struct tl_fx *f = *state;
        g_autoptr(GRegex) ts = g_regex_new("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d: ",
                                           G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *exec_line = NULL, *done_line = NULL, *log = NULL;
        g_auto(GStrv) lines = NULL;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l && **l; l++)
                assert_true(g_regex_match(ts, *l, 0, NULL));
        exec_line = g_strdup_printf(": execute %s/10-a freeze", f->hooks);
        done_line = g_strdup_printf(": %s/10-a finished with status=0 in ", f->hooks);
        assert_int_equal(tl_count_lines_with(log, exec_line), 1);
        assert_int_equal(tl_count_lines_with(log, done_line), 1);
        assert_true(tl_line_index(log, exec_line) < tl_line_index(log, done_line));
        /* The log is private: hook output can contain secrets. */
        {
                struct stat st;
                assert_int_equal(stat(f->log, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
}

static void test_captures_both_streams_line_by_line(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-talk",
                             "echo out one\n"
                             "echo err one >&2\n"
                             "echo out two\n"
                             "printf 'bad \\377 byte \\033[31m\\n'\n"
                             "printf 'last line without newline' >&2"));
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, ": 10-talk: stdout: out one"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-talk: stderr: err one"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-talk: stdout: out two"), 1);
        assert_true(tl_line_index(log, "stdout: out one") < tl_line_index(log, "stdout: out two"));
        /* Not valid UTF-8, a control sequence: escaped, not dropped. */
        assert_int_equal(tl_count_lines_with(log, ": 10-talk: stdout: bad \\xff byte \\x1b[31m"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-talk: stderr: last line without newline"), 1);
}

static void test_long_line_split_and_flood_bounded(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        /* 10000 bytes without a newline, then 20000 short lines. */
        g_free(tl_write_hook(f->hooks, "10-long",
                             "head -c 10000 /dev/zero | tr '\\0' x; echo\n"
                             "seq 1 20000"));
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, ": 10-long: stdout: xxxx"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-long: stdout+: xxxx"), 2);
        assert_int_equal(tl_count_lines_with(log, ": 10-long: stdout: 20000"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-long: stdout: "), 20001);
}

static void test_failing_and_signalled_hooks_logged_exit_0(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-fail", "exit 3"));
        g_free(tl_write_hook(f->hooks, "20-segv", "kill -SEGV $$"));
        g_free(tl_write_hook(f->hooks, "25-abort", "kill -ABRT $$"));
        tl_fx_recording_hook(f, "30-after");
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/10-fail finished with status=3 in"), 1);
        assert_int_equal(tl_count_lines_with(log, "/20-segv finished with status=139 (killed by SIGSEGV) in"), 1);
        assert_int_equal(tl_count_lines_with(log, "/25-abort finished with status=134 (killed by SIGABRT) in"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 4 run, 3 failed"), 1);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "30-after freeze\n");
}

static void test_timeout_kills_group_and_goes_on(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *pidfile = g_build_filename(f->top, "grandchild.pid", NULL);
        g_autofree char *body = NULL, *log = NULL, *rec = NULL;
        struct tl_run r;
        pid_t grandchild;

        /* A hook that hangs, with a grandchild that ignores SIGTERM (the
         * ignore survives exec, so sleep ignores it too). */
        body = g_strdup_printf("sh -c 'trap \"\" TERM; echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 1000' &\n"
                               "sleep 1000",
                               pidfile, pidfile, pidfile);
        g_free(tl_write_hook(f->hooks, "10-hang", body));
        g_free(tl_write_hook(f->hooks, "20-hang-trap", "trap '' TERM; sleep 1000"));
        tl_fx_recording_hook(f, "30-after");
        run(f, &r, "freeze", "--timeout=1", "--kill-grace=0.5", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/10-hang finished with status=143 (timed out after 1.000 s; "
                                                  "killed by SIGTERM; SIGKILL sent to the rest of its process group)"),
                         1);
        assert_int_equal(tl_count_lines_with(log, "/20-hang-trap finished with status=137 (timed out after 1.000 s; "
                                                  "killed by SIGKILL)"),
                         1);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "30-after freeze\n");

        grandchild = tl_read_pid(pidfile);
        assert_true(grandchild > 0);
        assert_true(tl_await_exit(grandchild, 10000));
}

static void test_stopped_hook_is_killed_by_timeout(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-stop", "kill -STOP $$; sleep 1000"));
        run(f, &r, "freeze", "-t", "0.5", "-k", "0.5", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/10-stop finished with status=143 (timed out after 0.500 s; "
                                                  "killed by SIGTERM"),
                         1);
}

static void test_background_child_keeps_pipes_open(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *pidfile = g_build_filename(f->top, "bg.pid", NULL);
        g_autofree char *body = NULL, *log = NULL, *rec = NULL;
        struct tl_run r;
        pid_t bg;

        /* Like the MySQL hook: a process that holds a lock until thaw,
         * inheriting the hook's stdout and stderr. */
        body = g_strdup_printf("sleep 1000 &\necho $! > %s\necho holding the lock\necho still here >&2", pidfile);
        g_free(tl_write_hook(f->hooks, "10-bg", body));
        tl_fx_recording_hook(f, "20-after");
        run(f, &r, "freeze", "--timeout=30", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, ": 10-bg: stdout: holding the lock"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 10-bg: stderr: still here"), 1);
        assert_int_equal(tl_count_lines_with(log, "/10-bg finished with status=0 in"), 1);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "20-after freeze\n");

        /* Not killed: it is the hook's business. */
        bg = tl_read_pid(pidfile);
        assert_true(bg > 0);
        assert_true(tl_alive(bg));
        kill(bg, SIGKILL);
        assert_true(tl_await_exit(bg, 10000));
}

/* qemu-ga 9.1+ gives the hook one pipe for stdout and stderr and reads it
 * until EOF before it waits. That read must end when the dispatcher
 * exits, even though a hook left a process running. */
static void test_qemu_ga_91_pipe_reaches_eof(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *pidfile = g_build_filename(f->top, "bg.pid", NULL);
        g_autofree char *body = g_strdup_printf("sleep 1000 &\necho $! > %s", pidfile);
        int p[2], status;
        pid_t pid, bg;
        char buf[4096];
        struct pollfd pfd;

        g_free(tl_write_hook(f->hooks, "10-bg", body));
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        if (pid == 0) {
                dup2(p[1], 1);
                dup2(p[1], 2);
                execl(tl_binary(), tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL);
                _exit(127);
        }
        close(p[1]);
        pfd = (struct pollfd) { .fd = p[0], .events = POLLIN };
        for (;;) {
                ssize_t n;

                assert_int_equal(poll(&pfd, 1, 30000), 1);      /* EOF must come */
                n = read(p[0], buf, sizeof buf);
                if (n == 0)
                        break;
                assert_true(n > 0);
        }
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        bg = tl_read_pid(pidfile);
        assert_true(bg > 0 && tl_alive(bg));
        kill(bg, SIGKILL);
}

static void test_hook_environment_is_clean(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *env_path = NULL, *hook = NULL;
        g_auto(GStrv) lines = NULL;
        unsigned n_fds = 0;
        struct tl_run r;
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL };
        char *envp[] = { "HOME=/nonexistent", NULL };   /* no PATH at all */

        /* Report open descriptors, the signal mask and ignored signals, the
         * session, umask, stdin, PATH. */
        g_free(tl_write_hook(f->hooks, "10-env",
                             "ls -l /proc/$$/fd\n"
                             "echo \"stdin $(readlink /proc/$$/fd/0)\"\n"
                             "while read -r l; do case $l in SigBlk*|SigIgn*) echo \"$l\";; esac; done < /proc/$$/status\n"
                             "set -- $(sed 's/.*) //' /proc/$$/stat)\n"
                             "[ \"$4\" = $$ ] && echo 'own session' || echo \"session $4 is not $$\"\n"
                             "echo \"umask $(umask)\"\n"
                             "echo \"PATH=$PATH\"\n"
                             "echo \"phase=$FSFREEZE_PHASE dir=$FSFREEZE_HOOK_DIR\""));
        umask(077);
        tl_run(argv, envp, 30000, &r);
        umask(022);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_fx_read_log(f);
        hook = g_build_filename(f->hooks, "10-env", NULL);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *arrow = strstr(*l, " -> ");
                const char *p;

                if (!arrow || !strstr(*l, "stdout: l"))
                        continue;
                for (p = arrow; p[-1] != ' '; p--)
                        ;
                n_fds++;
                /* 0, 1, 2, and the hook file itself: the descriptor it was
                 * executed from and the one its interpreter reads. */
                if (!g_str_has_prefix(p, "0 ") && !g_str_has_prefix(p, "1 ") && !g_str_has_prefix(p, "2 "))
                        assert_string_equal(arrow + 4, hook);
        }
        assert_true(n_fds >= 3);
        assert_int_equal(tl_count_lines_with(log, "stdout: stdin /dev/null"), 1);
        /* Read by the shell itself, without forking: a forking shell
         * blocks signals for a moment and the value would be a race. */
        assert_int_equal(tl_count_lines_with(log, "stdout: SigBlk:\t0000000000000000"), 1);
        assert_int_equal(tl_count_lines_with(log, "stdout: SigIgn:\t0000000000000000"), 1);
        assert_int_equal(tl_count_lines_with(log, "stdout: own session"), 1);
        assert_int_equal(tl_count_lines_with(log, "stdout: umask 0022"), 1);
        assert_int_equal(tl_count_lines_with(log, "stdout: PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                         1);
        env_path = g_strdup_printf("stdout: phase=freeze dir=%s", f->hooks);
        assert_int_equal(tl_count_lines_with(log, env_path), 1);
}

static void test_dry_run_lists_everything_runs_nothing(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *marker = g_build_filename(f->top, "ran", NULL);
        g_autofree char *body = g_strdup_printf("touch %s", marker);
        g_autofree char *sub = g_build_filename(f->hooks, "sub", NULL);
        g_autofree char *fifo = g_build_filename(f->hooks, "fifo", NULL);
        g_autofree char *broken = g_build_filename(f->hooks, "broken", NULL);
        g_autofree char *loop = g_build_filename(f->hooks, "loop", NULL);
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-a", body));
        g_free(tl_write_hook(f->hooks, "20-b", body));
        g_free(tl_write_hook(f->hooks, ".hidden", body));
        g_free(tl_write_hook(f->hooks, "30-c.rpmsave", body));
        g_free(tl_write_file(f->hooks, "README", "x", 0644));
        g_mkdir(sub, 0755);
        assert_int_equal(mkfifo(fifo, 0755), 0);
        assert_int_equal(symlink("nowhere", broken), 0);
        assert_int_equal(symlink("loop", loop), 0);

        run(f, &r, "thaw", "--dry-run", NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(strchr(r.out, '\n') + 1,
                            "skip  sub: directory\n"
                            "skip  loop: symlink loop\n"
                            "skip  fifo: FIFO\n"
                            "skip  broken: broken symlink\n"
                            "skip  README: not executable (chmod +x to run it)\n"
                            "skip  30-c.rpmsave: backup or package-manager leftover (*.rpmsave)\n"
                            "run   20-b\n"
                            "run   10-a\n"
                            "skip  .hidden: hidden file\n");
        tl_run_clear(&r);
        assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
        assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
}

static void test_skipped_entries_are_not_run(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        tl_fx_recording_hook(f, "10-a.dpkg-old");
        tl_fx_recording_hook(f, "10-a~");
        tl_fx_recording_hook(f, ".10-a");
        g_free(tl_write_file(f->hooks, "20-noexec", "#!/bin/sh\necho ran >> /dev/null\n", 0644));
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "10-a freeze\n");
        log = tl_fx_read_log(f);
        /* A hook without execute bit is a common mistake: say so. */
        assert_int_equal(tl_count_lines_with(log, "/20-noexec: not executable (chmod +x to run it)"), 1);
}

static void test_missing_hook_directory_is_exit_0(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        tl_rmtree(f->hooks);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/fsfreeze-hook.d does not exist"), 1);
        assert_int_equal(tl_count_lines_with(log, "freeze: 0 hooks to run"), 1);
}

static void test_usage_errors_exit_2_run_nothing(void **state) {
        struct tl_fx *f = *state;
        const char *bad[] = { NULL, "frozen", "--bogus" };
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "-d", f->hooks, "-l", f->log, (char *) bad[i], NULL };

                tl_run(argv, NULL, 30000, &r);
                assert_int_equal(r.status, 2);
                assert_non_null(strstr(r.err, "fsfreeze-hook: "));
                assert_non_null(strstr(r.err, "--help"));
                tl_run_clear(&r);
        }
        assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));
        assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
}

/* The shell glob of QEMU's script sorts by locale; we never do. */
static void test_order_independent_of_locale(void **state) {
        struct tl_fx *f = *state;
        const char *locale = NULL;
        const char *candidates[] = { "en_US.UTF-8", "en_US.utf8", "de_DE.UTF-8", "fr_FR.UTF-8" };
        g_autofree char *rec = NULL, *lc = NULL;
        struct tl_run r;

        for (size_t i = 0; i < G_N_ELEMENTS(candidates) && !locale; i++)
                if (setlocale(LC_COLLATE, candidates[i]))
                        locale = candidates[i];
        setlocale(LC_ALL, "C");
        if (!locale)
                skip();         /* CI generates en_US.UTF-8; see .ci/setup */

        tl_fx_recording_hook(f, "b");
        tl_fx_recording_hook(f, "B");
        tl_fx_recording_hook(f, "a");
        tl_fx_recording_hook(f, "_z");
        lc = g_strdup_printf("LC_ALL=%s", locale);
        {
                char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL };
                char *envp[] = { lc, "PATH=/usr/bin:/bin", NULL };
                tl_run(argv, envp, 30000, &r);
        }
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "B freeze\n_z freeze\na freeze\nb freeze\n");
}

static void test_default_dir_found_through_argv0_symlink(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *etc = g_build_filename(f->top, "etc", "qemu", NULL);
        g_autofree char *link = g_build_filename(etc, "fsfreeze-hook", NULL);
        g_autofree char *hooks = g_build_filename(etc, "fsfreeze-hook.d", NULL);
        g_autofree char *rec = NULL;
        g_autofree char *body = NULL;
        struct tl_run r;

        g_mkdir_with_parents(hooks, 0755);
        assert_int_equal(symlink(tl_binary(), link), 0);
        body = g_strdup_printf("echo \"beside $1\" >> '%s'", f->out);
        g_free(tl_write_hook(hooks, "10-a", body));
        {
                /* As qemu-ga does it: argv[0] is the path it was given. */
                char *argv[] = { link, f->conf_opt, f->state_opt, "--no-journal", "-l", f->log, "freeze", NULL };
                tl_run(argv, NULL, 30000, &r);
        }
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = tl_read_file(f->out);
        assert_string_equal(rec, "beside freeze\n");
}

static void test_vanished_or_unexecutable_hook_logged_not_run(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        /* The first hook removes the second between scan and run. */
        g_autofree char *second = g_build_filename(f->hooks, "20-gone", NULL);
        g_autofree char *body = g_strdup_printf("rm -f '%s'", second);
        g_free(tl_write_hook(f->hooks, "10-remover", body));
        tl_fx_recording_hook(f, "20-gone");
        tl_fx_recording_hook(f, "30-after");
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/20-gone not run: cannot open it: No such file or directory"), 1);
        assert_int_equal(tl_count_lines_with(log, "/30-after finished with status=0"), 1);
}

/* A manual run from a shell: the log lines are shown on the terminal too. */
static void test_terminal_shows_log_lines(void **state) {
        struct tl_fx *f = *state;
        g_autoptr(GString) seen = g_string_new(NULL);
        int master, slave, status;
        char buf[4096];
        pid_t pid;

        g_free(tl_write_hook(f->hooks, "10-talk", "echo visible on the terminal"));
        assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
        pid = fork();
        if (pid == 0) {
                dup2(slave, 1);
                execl(tl_binary(), tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l", f->log, "freeze", NULL);
                _exit(127);
        }
        close(slave);
        for (;;) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                ssize_t n;

                assert_int_equal(poll(&p, 1, 30000), 1);
                n = read(master, buf, sizeof buf);
                if (n <= 0)
                        break;  /* EIO: the last holder of the terminal is gone */
                g_string_append_len(seen, buf, n);
        }
        close(master);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(tl_count_lines_with(seen->str, ": 10-talk: stdout: visible on the terminal"), 1);
        assert_int_equal(tl_count_lines_with(seen->str, "/10-talk finished with status=0"), 1);
}

/* Not on a terminal (qemu-ga): nothing on stdout. */
static void test_no_terminal_no_stdout(void **state) {
        struct tl_fx *f = *state;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-talk", "echo only in the log"));
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "");
        assert_string_equal(r.err, "");
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_freeze_in_name_order_thaw_reversed, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_log_uses_qemu_phrases_and_timestamps, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_captures_both_streams_line_by_line, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_long_line_split_and_flood_bounded, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_failing_and_signalled_hooks_logged_exit_0, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_timeout_kills_group_and_goes_on, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_stopped_hook_is_killed_by_timeout, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_background_child_keeps_pipes_open, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_qemu_ga_91_pipe_reaches_eof, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_hook_environment_is_clean, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_lists_everything_runs_nothing, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_skipped_entries_are_not_run, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_missing_hook_directory_is_exit_0, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_usage_errors_exit_2_run_nothing, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_order_independent_of_locale, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_default_dir_found_through_argv0_symlink, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_vanished_or_unexecutable_hook_logged_not_run, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_terminal_shows_log_lines, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_no_terminal_no_stdout, tl_fx_setup, tl_fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
