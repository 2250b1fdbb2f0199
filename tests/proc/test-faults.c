/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource failures that cannot be caused for one hook only by real means:
 * vfork() failing with EAGAIN, pipe2() with EMFILE, the monotonic clock
 * failing, each for the second of three hooks, and the wall clock jumping.
 * The core library is linked with -Wl,--wrap for these functions; the
 * wrappers pass through to the real ones unless a test arms them. The
 * dispatcher runs in-process. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "dispatch.h"
#include "env.h"
#include "log.h"
#include "status.h"
#include "testlib.h"

extern char **environ;

/* --- the wrappers ---------------------------------------------------------- */

enum fault { FAULT_NONE, FAULT_FORK, FAULT_PIPE, FAULT_CLOCK, FAULT_JUMP, FAULT_DIE_AT_RECORD, FAULT_OPEN };

static enum fault armed;
static unsigned n_fork, n_pipe;
static bool clock_failed;

pid_t __wrap_vfork(void);
int __real_pipe2(int fds[2], int flags);
int __wrap_pipe2(int fds[2], int flags);
int __real_clock_gettime(clockid_t clock, struct timespec *ts);
gint64 __real_g_get_real_time(void);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
gint64 __wrap_g_get_real_time(void);
int __wrap_clock_gettime(clockid_t clock, struct timespec *ts);

/* In place of vfork(). Passing through to the real vfork() is not an
 * option: its child would return out of this wrapper's frame, which the
 * parent then reuses. fork() gives the child code the same guarantees. */
pid_t __wrap_vfork(void) {
        if (armed == FAULT_FORK && ++n_fork == 2) {
                errno = EAGAIN;
                return -1;
        }
        return fork();
}

int __wrap_pipe2(int fds[2], int flags) {
        /* Each hook takes two pipes: the third call is the second hook's. */
        if (armed != FAULT_NONE && ++n_pipe == 3 && armed == FAULT_PIPE) {
                errno = EMFILE;
                return -1;
        }
        return __real_pipe2(fds, flags);
}

int __wrap_clock_gettime(clockid_t clock, struct timespec *ts) {
        /* The first reading after the second hook's pipes: its start time. */
        if (armed == FAULT_CLOCK && clock == CLOCK_MONOTONIC && n_pipe == 4 && !clock_failed) {
                clock_failed = true;
                errno = EINVAL;
                return -1;
        }
        return __real_clock_gettime(clock, ts);
}

/* The wall clock set an hour ahead once the first hook has started (NTP,
 * or qemu-ga's guest-set-time after a long freeze). */
#define JUMP_USEC (3600 * G_GINT64_CONSTANT(1000000))

gint64 __wrap_g_get_real_time(void) {
        return __real_g_get_real_time() + (armed == FAULT_JUMP && n_pipe >= 2 ? JUMP_USEC : 0);
}

/* The dispatcher killed (SIGKILL, a power cut of a VM) just as it writes
 * its first freeze record. (open() is open64 with 64-bit file offsets.) */
int __wrap_open64(const char *path, int flags, ...) {
        mode_t mode = 0;
        va_list ap;

        if (armed == FAULT_DIE_AT_RECORD && g_str_has_suffix(path, "/last-freeze.new"))
                _exit(137);
        if (armed == FAULT_OPEN && g_str_has_suffix(path, "/20-hook")) {
                errno = EMFILE;
                return -1;
        }
        if (flags & (O_CREAT | O_TMPFILE)) {
                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        return __real_open64(path, flags, mode);
}

/* --- the test --------------------------------------------------------------- */

/* Three hooks that append their name to top/record, and in a thaw also
 * their FSFREEZE_FROZE. */
static void make_hooks(const char *top) {
        g_autofree char *hooks = g_build_filename(top, "hooks", NULL);
        g_autofree char *record = g_build_filename(top, "record", NULL);

        g_mkdir(hooks, 0755);
        for (int i = 1; i <= 3; i++) {
                g_autofree char *name = g_strdup_printf("%d0-hook", i);
                g_autofree char *body = g_strdup_printf("echo \"%s${FSFREEZE_FROZE:+ $FSFREEZE_FROZE}\" >> %s", name,
                                                        record);
                g_free(tl_write_hook(hooks, name, body));
        }
}

/* Runs 'phase' in-process on top/hooks with 'fault' armed; logs to
 * top/log, records in top/state. */
static void dispatch_in(const char *top, enum fault fault, enum fh_phase phase, enum fh_on_failure policy,
                        struct fh_dispatch_summary *ret) {
        g_autofree char *hooks = g_build_filename(top, "hooks", NULL);
        g_autofree char *logpath = g_build_filename(top, "log", NULL);
        g_autoptr(fh_env) env = fh_env_new(environ);
        g_autofree char *state = g_build_filename(top, "state", NULL);
        struct fh_settings settings;
        struct fh_log *log;
        sigset_t mask;
        int sfd, devnull;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        log = fh_log_new(&(struct fh_log_options) { .file = logpath, .journal = false, .terminal_fd = -1 });

        fh_settings_init(&settings, "fsfreeze-hook");
        g_strfreev(settings.hook_dirs);
        settings.hook_dirs = g_strsplit(hooks, "\n", -1);
        g_free(settings.state_dir);
        settings.state_dir = g_strdup(state);
        settings.on_failure = policy;

        armed = fault;
        n_fork = n_pipe = 0;
        clock_failed = false;
        fh_dispatch(&(struct fh_dispatch_options) {
                .phase = phase,
                .settings = &settings,
                .signal_fd = sfd,
                .devnull_fd = devnull,
                .env = env,
        }, log, ret);
        armed = FAULT_NONE;
        fh_settings_done(&settings);

        fh_log_free(log);
        close(sfd);
        close(devnull);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

/* Takes top/record (the empty string if there is none). */
static char *take_record(const char *top) {
        g_autofree char *path = g_build_filename(top, "record", NULL);
        char *text = tl_read_file(path);

        unlink(path);
        return text ? text : g_strdup("");
}

static char *dispatch_with(enum fault fault, char **ret_record) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *logpath = g_build_filename(top, "log", NULL);
        struct fh_dispatch_summary summary;
        char *text;

        make_hooks(top);
        dispatch_in(top, fault, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
        text = tl_read_file(logpath);
        *ret_record = take_record(top);
        tl_rmtree(top);
        return text;
}

static void check(enum fault fault, const char *reason) {
        g_autofree char *record = NULL;
        g_autofree char *log = dispatch_with(fault, &record);

        assert_non_null(log);
        assert_int_equal(tl_count_lines_with(log, "/20-hook not run: "), 1);
        assert_int_equal(tl_count_lines_with(log, reason), 1);
        assert_int_equal(tl_count_lines_with(log, "/10-hook finished with status=0"), 1);
        assert_int_equal(tl_count_lines_with(log, "/30-hook finished with status=0"), 1);
        assert_string_equal(record, "10-hook\n30-hook\n");
}

static void test_no_fault_all_run(void **state) {
        g_autofree char *record = NULL;
        g_autofree char *log = dispatch_with(FAULT_NONE, &record);

        assert_string_equal(record, "10-hook\n20-hook\n30-hook\n");
        assert_int_equal(tl_count_lines_with(log, " not run: "), 0);
}

static void test_fork_eagain(void **state) {
        check(FAULT_FORK, "/20-hook not run: cannot fork: Resource temporarily unavailable");
}

static void test_pipe_emfile(void **state) {
        check(FAULT_PIPE, "/20-hook not run: cannot create a pipe: Too many open files");
}

static void test_clock_error(void **state) {
        check(FAULT_CLOCK, "/20-hook not run: cannot read the clock: Invalid argument");
}

/* Under on-failure=abort a hook that cannot be started (no pipe) fails the
 * freeze: the hooks that froze are thawed and the freeze fails. */
static void test_pipe_emfile_aborts(void **state) {
        g_autofree char *top = tl_mkdtemp(), *record = NULL;
        struct fh_dispatch_summary summary;

        make_hooks(top);
        dispatch_in(top, FAULT_PIPE, FH_PHASE_FREEZE, FH_ON_FAILURE_ABORT, &summary);
        record = take_record(top);
        assert_true(summary.aborted);
        assert_string_equal(record, "10-hook\n10-hook yes\n");
        tl_rmtree(top);
}

/* A thaw hook that could not be started for want of a pipe was not
 * released: the freeze still awaits it, and the next thaw releases it and
 * only it, telling it that it froze. */
static void test_thaw_pipe_emfile_keeps_hook_held(void **state) {
        g_autofree char *top = tl_mkdtemp(), *record = NULL;
        struct fh_dispatch_summary summary;

        make_hooks(top);
        dispatch_in(top, FAULT_NONE, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
        g_free(take_record(top));
        dispatch_in(top, FAULT_PIPE, FH_PHASE_THAW, FH_ON_FAILURE_CONTINUE, &summary);
        record = take_record(top);
        assert_string_equal(record, "30-hook yes\n10-hook yes\n");
        g_free(record);
        dispatch_in(top, FAULT_NONE, FH_PHASE_THAW, FH_ON_FAILURE_CONTINUE, &summary);
        record = take_record(top);
        assert_string_equal(record, "20-hook yes\n");
        tl_rmtree(top);
}

/* A wall clock that jumps while the hooks run changes the timestamps, not
 * how long the run took: --status says what the monotonic clock says. */
static void test_clock_jump_duration(void **state) {
        g_autofree char *top = tl_mkdtemp(), *state_dir = g_build_filename(top, "state", NULL);
        g_autofree char *text = NULL;
        struct fh_dispatch_summary summary;
        const char *took;
        size_t len = 0;
        double secs = -1;
        FILE *out;

        make_hooks(top);
        dispatch_in(top, FAULT_JUMP, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
        out = open_memstream(&text, &len);
        assert_int_equal(fh_print_status(out, state_dir, false), 0);
        fclose(out);
        took = strstr(text, "Last freeze: ");
        assert_non_null(took);
        took = strstr(took, ", took ");
        assert_non_null(took);
        assert_int_equal(sscanf(took, ", took %lf s", &secs), 1);
        print_message("the freeze took %.3f s by the record\n", secs);
        assert_true(secs >= 0 && secs < 600);
        tl_rmtree(top);
}

/* A freeze never thawed, then a second one killed before it has written
 * its record (before any of its hooks ran): the first one's record is
 * still there, and the thaw releases its hooks, telling them they froze. */
static void test_killed_before_first_record(void **state) {
        g_autofree char *top = tl_mkdtemp(), *record = NULL;
        struct fh_dispatch_summary summary;
        int status;
        pid_t pid;

        make_hooks(top);
        dispatch_in(top, FAULT_NONE, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
        g_free(take_record(top));
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dispatch_in(top, FAULT_DIE_AT_RECORD, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 137);
        record = take_record(top);
        assert_string_equal(record, "");
        dispatch_in(top, FAULT_NONE, FH_PHASE_THAW, FH_ON_FAILURE_CONTINUE, &summary);
        g_free(record);
        record = take_record(top);
        assert_string_equal(record, "30-hook yes\n20-hook yes\n10-hook yes\n");
        tl_rmtree(top);
}

/* A thaw hook that could not be opened for want of a descriptor is not
 * gone: the next thaw releases it, as one we could not start. */
static void test_thaw_open_emfile_keeps_hook_held(void **state) {
        g_autofree char *top = tl_mkdtemp(), *record = NULL, *logpath = g_build_filename(top, "log", NULL);
        g_autofree char *log = NULL;
        struct fh_dispatch_summary summary;

        make_hooks(top);
        dispatch_in(top, FAULT_NONE, FH_PHASE_FREEZE, FH_ON_FAILURE_CONTINUE, &summary);
        g_free(take_record(top));
        dispatch_in(top, FAULT_OPEN, FH_PHASE_THAW, FH_ON_FAILURE_CONTINUE, &summary);
        record = take_record(top);
        assert_string_equal(record, "30-hook yes\n10-hook yes\n");
        log = tl_read_file(logpath);
        assert_int_equal(tl_count_lines_with(log, "/20-hook not run: cannot open it: Too many open files"), 1);
        g_free(record);
        dispatch_in(top, FAULT_NONE, FH_PHASE_THAW, FH_ON_FAILURE_CONTINUE, &summary);
        record = take_record(top);
        assert_string_equal(record, "20-hook yes\n");
        tl_rmtree(top);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_fault_all_run),
                cmocka_unit_test(test_fork_eagain),
                cmocka_unit_test(test_pipe_emfile),
                cmocka_unit_test(test_clock_error),
                cmocka_unit_test(test_pipe_emfile_aborts),
                cmocka_unit_test(test_thaw_pipe_emfile_keeps_hook_held),
                cmocka_unit_test(test_clock_jump_duration),
                cmocka_unit_test(test_killed_before_first_record),
                cmocka_unit_test(test_thaw_open_emfile_keeps_hook_held),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
