/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze deadline's arming and disarming, with the real binary and
 * its own process (no systemd here; the VM suite tests the timer unit).
 * The deadlines are long and never fire: a fire thaws every filesystem,
 * which only the e2e suite does, in a private mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

#define run(f, r, ...) tl_fx_run(f, r, NULL, __VA_ARGS__)

struct armed {
        char *id;
        pid_t pid;
};

/* The deadline recorded in the state directory; fails the test if none. */
static struct armed read_armed(struct tl_fx *f) {
        g_autofree char *path = g_build_filename(f->state, "deadline", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *mechanism = NULL;
        struct armed a;

        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        mechanism = g_key_file_get_string(kf, "deadline", "mechanism", NULL);
        assert_string_equal(mechanism, "process");
        a.id = g_key_file_get_string(kf, "deadline", "id", NULL);
        a.pid = (pid_t) g_key_file_get_integer(kf, "deadline", "pid", NULL);
        assert_non_null(a.id);
        assert_true(a.pid > 0);
        return a;
}

static bool deadline_recorded(struct tl_fx *f) {
        g_autofree char *path = g_build_filename(f->state, "deadline", NULL);

        return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Whether 'pid' runs with "--deadline-fire=ID" in its command line. */
static bool is_sleeper(pid_t pid, const char *id) {
        g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int) pid);
        g_autofree char *cmdline = NULL, *want = g_strconcat("--deadline-fire=", id, NULL);
        gsize len = 0;

        if (!tl_alive(pid) || !g_file_get_contents(path, &cmdline, &len, NULL))
                return false;
        for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
                if (strcmp(cmdline + i, want) == 0)
                        return true;
        return false;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As qemu-ga 9.1+ runs the hook: stdout and stderr one pipe, read until
 * every writer has closed it, then the exit status. Returns how long
 * that took in ms; fails the test past 'deadline_ms'. */
static int64_t run_one_pipe(struct tl_fx *f, const char *phase, const char *deadline_opt, int deadline_ms) {
        int p[2], status;
        int64_t start = now_ms();
        pid_t pid;
        char buf[4096];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 1);
                dup2(p[1], 2);
                execl(tl_binary(), tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l",
                      f->log, deadline_opt, phase, NULL);
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                int left = (int) (start + deadline_ms - now_ms());
                ssize_t n;

                if (left <= 0)
                        fail_msg("the %s call did not return: its output pipe is still open %d ms later", phase,
                                 deadline_ms);
                if (poll(&pfd, 1, left) <= 0)
                        continue;
                n = read(p[0], buf, sizeof buf);
                if (n == 0)
                        break;
        }
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return now_ms() - start;
}

/* qemu-ga 9.1+ reads the hook's output to its end: the freeze returns at
 * once although the deadline is armed, whose process holds nothing of
 * ours (only /dev/null) and is in a session of its own. The thaw stops it. */
static void test_armed_freeze_returns_at_once_and_thaw_disarms(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *fds = NULL, *log = NULL, *status = NULL;
        struct armed a;
        GDir *dir;
        const char *name;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        run_one_pipe(f, "freeze", "--freeze-deadline=3600", 20000);
        a = read_armed(f);
        assert_true(is_sleeper(a.pid, a.id));
        /* Not in our session: nobody's terminal or process group. */
        assert_true(getsid(a.pid) > 0 && getsid(a.pid) != getsid(0));
        fds = g_strdup_printf("/proc/%d/fd", (int) a.pid);
        dir = g_dir_open(fds, 0, NULL);
        assert_non_null(dir);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *link = g_build_filename(fds, name, NULL);
                g_autofree char *target = g_file_read_link(link, NULL);
                assert_string_equal(target, "/dev/null");
        }
        g_dir_close(dir);

        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "freeze deadline armed: unless a thaw comes first"), 1);
        /* Armed before the first hook. */
        assert_true(tl_line_index(log, "freeze deadline armed") < tl_line_index(log, "execute "));
        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: armed, fires at "), 1);
        tl_run_clear(&r);

        run_one_pipe(f, "thaw", "--freeze-deadline=3600", 20000);
        assert_true(tl_await_exit(a.pid, 10000));
        assert_false(deadline_recorded(f));
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"deadline\": {\"armed\": false"));
        tl_run_clear(&r);
        status = tl_read_file(f->out);
        assert_string_equal(status, "10-a freeze\n10-a thaw\n");
        g_free(a.id);
}

/* Never more than one: a second freeze without a thaw replaces the first
 * deadline, whose process goes. */
static void test_new_freeze_replaces_the_deadline(void **state) {
        struct tl_fx *f = *state;
        struct armed a, b;
        struct tl_run r;

        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        a = read_armed(f);
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        b = read_armed(f);
        assert_string_not_equal(a.id, b.id);
        assert_true(tl_await_exit(a.pid, 10000));
        assert_true(is_sleeper(b.pid, b.id));
        g_free(a.id);
        g_free(b.id);
}

/* 0 turns it off: nothing is armed, and a deadline armed before is gone. */
static void test_zero_arms_nothing(void **state) {
        struct tl_fx *f = *state;
        struct armed a;
        struct tl_run r;

        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        a = read_armed(f);
        run(f, &r, "--freeze-deadline=0", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_false(deadline_recorded(f));
        assert_true(tl_await_exit(a.pid, 10000));
        g_free(a.id);
}

/* The configuration key sets it too, and the default is on. */
static void test_config_key_and_default(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *path = g_build_filename(f->state, "deadline", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        struct tl_run r;

        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        assert_int_equal(g_key_file_get_int64(kf, "deadline", "msec", NULL), 900000);
        tl_disarm_deadline(f->state);

        g_free(tl_write_file(f->top, "conf", "[fsfreeze-hook]\nfreeze-deadline=1234.5\n", 0644));
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        assert_int_equal(g_key_file_get_int64(kf, "deadline", "msec", NULL), 1234500);
}

/* An aborted freeze is thawed already: no deadline stays armed. */
static void test_abort_disarms(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-fails", "exit 3\n"));
        run(f, &r, "--freeze-deadline=3600", "--on-failure=abort", "freeze", NULL);
        assert_int_equal(r.status, 1);
        tl_run_clear(&r);
        assert_false(deadline_recorded(f));
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "freeze deadline armed"), 1);
}

/* --status tells the truth when the deadline's process is gone (killed
 * by hand, by the OOM killer, with qemu-ga's cgroup): it will not fire,
 * and the guest stays frozen if no thaw comes. */
static void test_status_says_when_the_process_is_gone(void **state) {
        struct tl_fx *f = *state;
        struct armed a;
        struct tl_run r;

        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        a = read_armed(f);
        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: armed, fires at "), 1);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"deadline\": {\"armed\": true"));
        assert_non_null(strstr(r.out, "\"lost\": false"));
        tl_run_clear(&r);

        assert_int_equal(kill(a.pid, SIGKILL), 0);
        assert_true(tl_await_exit(a.pid, 10000));
        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: armed, fires at "), 0);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: LOST: its process "), 1);
        assert_int_equal(tl_count_lines_with(r.out, "is gone: it will not fire"), 1);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"deadline\": {\"armed\": false"));
        assert_non_null(strstr(r.out, "\"lost\": true"));
        tl_run_clear(&r);
        g_free(a.id);
}

/* For tl_run_with(), whose hook takes no argument. */
static const char *run_from;

static void chdir_run_from(void) {
        if (chdir(run_from) < 0)
                _exit(126);
}

/* A freeze with the deadline, run from 'dir' with the fixture's (absolute)
 * paths; returns the sleeper's working directory. */
static char *sleeper_cwd_after_freeze_in(struct tl_fx *f, const char *dir) {
        char *argv[] = { (char *) tl_binary(), f->conf_opt, f->state_opt, "--no-journal", "-d", f->hooks, "-l",
                         f->log, "--freeze-deadline=3600", "freeze", NULL };
        g_autofree char *link = NULL;
        struct armed a;
        struct tl_run r;
        char *cwd;

        run_from = dir;
        tl_run_with(argv, NULL, 120000, chdir_run_from, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        a = read_armed(f);
        link = g_strdup_printf("/proc/%d/cwd", (int) a.pid);
        cwd = g_file_read_link(link, NULL);
        assert_non_null(cwd);
        g_free(a.id);
        return cwd;
}

/* A freeze run by hand as root from a user's directory: the deadline must
 * not run from there when it fires (systemd resolves the directory again
 * then, which the user may have turned into a FUSE mount that hangs it;
 * and the fire's hooks would run in what the user put there). Nothing is
 * lost: relative paths in such a directory are refused anyway. From a
 * directory root may trust, it still runs from there, where a hand-run
 * freeze's relative paths lead. */
static void test_deadline_runs_from_root_not_from_a_users_directory(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *users = g_build_filename(f->top, "users", NULL);
        g_autofree char *from_users = NULL, *from_top = NULL, *log = NULL;

        if (geteuid() != 0)
                skip();
        assert_int_equal(g_mkdir(users, 0755), 0);
        assert_int_equal(chown(users, 65534, 65534), 0);
        from_users = sleeper_cwd_after_freeze_in(f, users);
        assert_string_equal(from_users, "/");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "the freeze deadline will run from /, not from "), 1);

        from_top = sleeper_cwd_after_freeze_in(f, f->top);
        assert_string_equal(from_top, f->top);
}

/* Anyone can put "--deadline-fire=ID" in a command line (the ID is in the
 * deadline's record, readable by all, and in ps). The sleeper died (the
 * OOM killer), and a user's process took its pid: it is not the sleeper,
 * --status says LOST, and the thaw does not signal it. */
static void test_a_users_process_with_the_id_is_not_the_sleeper(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *path = g_build_filename(f->state, "deadline", NULL), *want = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        struct armed a;
        struct tl_run r;
        pid_t impostor;

        if (geteuid() != 0)
                skip();
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        a = read_armed(f);
        assert_int_equal(kill(a.pid, SIGKILL), 0);
        assert_true(tl_await_exit(a.pid, 10000));
        want = g_strconcat("--deadline-fire=", a.id, NULL);
        impostor = fork();
        assert_true(impostor >= 0);
        if (impostor == 0) {
                int null = open("/dev/null", O_RDWR);

                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(126);
                /* f->top: the teardown stops it too, should the test fail. */
                execl("/bin/sh", "sh", "-c", "sleep 3600; :", "sh", want, f->top, NULL);
                _exit(127);
        }
        for (int64_t end = now_ms() + 10000; !is_sleeper(impostor, a.id) && now_ms() < end;)
                poll(NULL, 0, 10);
        assert_true(is_sleeper(impostor, a.id));
        /* Its pid in the record stands for the reuse of the sleeper's. */
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        g_key_file_set_integer(kf, "deadline", "pid", impostor);
        assert_true(g_key_file_save_to_file(kf, path, NULL));

        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: LOST: its process "), 1);
        tl_run_clear(&r);
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        assert_true(tl_alive(impostor));
        kill(impostor, SIGKILL);
        waitpid(impostor, NULL, 0);
        g_free(a.id);
}

/* The fire claimed the deadline (fired=true: the filesystems thawed) and
 * was killed before its thaw hooks had run (qemu-ga restarted with the
 * process in its cgroup, systemctl stop, the OOM killer). The host's late
 * thaw must release them, not say that the deadline did. */
static void test_late_thaw_releases_what_a_killed_fire_did_not(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *path = g_build_filename(f->state, "deadline", NULL);
        g_autofree char *log = NULL, *calls = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        struct armed a;
        struct tl_run r;

        tl_fx_recording_hook(f, "10-a");
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        a = read_armed(f);
        assert_int_equal(kill(a.pid, SIGKILL), 0);
        assert_true(tl_await_exit(a.pid, 10000));
        /* What the fire's claim leaves: fired, before any thaw hook. */
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        g_key_file_set_boolean(kf, "deadline", "fired", TRUE);
        g_key_file_set_int64(kf, "deadline", "fired-usec", g_get_real_time());
        g_key_file_set_integer(kf, "deadline", "thawed", 1);
        assert_true(g_key_file_save_to_file(kf, path, NULL));

        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        calls = tl_read_file(f->out);
        assert_string_equal(calls, "10-a freeze\n10-a thaw\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "nothing is released twice"), 0);
        assert_int_equal(tl_count_lines_with(log, "did not release every hook"), 1);

        /* A further thaw has nothing left to release. */
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        g_free(calls);
        calls = tl_read_file(f->out);
        assert_string_equal(calls, "10-a freeze\n10-a thaw\n");
        g_free(a.id);
}

/* The internal command refuses what is not a deadline ID. */
static void test_fire_rejects_bad_id(void **state) {
        struct tl_fx *f = *state;
        struct tl_run r;

        run(f, &r, "--deadline-fire=../../x", NULL);
        assert_int_equal(r.status, 2);
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_armed_freeze_returns_at_once_and_thaw_disarms, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_new_freeze_replaces_the_deadline, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_zero_arms_nothing, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_config_key_and_default, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_abort_disarms, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_fire_rejects_bad_id, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_status_says_when_the_process_is_gone, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_late_thaw_releases_what_a_killed_fire_did_not, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_a_users_process_with_the_id_is_not_the_sleeper, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_deadline_runs_from_root_not_from_a_users_directory, tl_fx_setup,
                                                tl_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
