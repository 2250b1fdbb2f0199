/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze deadline through systemd, with the real binary and a
 * stand-in systemd (fake-systemd) bind-mounted on /run/systemd in a
 * private mount namespace of the dispatcher's own: what it asks systemd,
 * and when. Needs root (the dispatcher talks to systemd's private socket
 * only as root) and mount namespaces; skips itself otherwise. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

struct fx {
        struct tl_fx *tl;
        char *systemd;          /* the stand-in's directory, /run/systemd for the dispatcher */
        char *calls;            /* what it was asked, one "MEMBER UNIT" a line */
        pid_t pid;
};

/* For before_exec(), which takes no argument; run_from: NULL to stay. */
static const char *bind_source, *run_from;

/* In the child, before it execs the dispatcher. */
static void enter_fake_systemd(void) {
        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(bind_source, "/run/systemd", "none", MS_BIND, NULL) < 0 || (run_from && chdir(run_from) < 0))
                _exit(126);
}

static void run(struct fx *f, struct tl_run *r, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *a;
        va_list ap;

        g_ptr_array_add(argv, (char *) tl_binary());
        g_ptr_array_add(argv, f->tl->conf_opt);
        g_ptr_array_add(argv, f->tl->state_opt);
        g_ptr_array_add(argv, "--no-journal");
        g_ptr_array_add(argv, "-d");
        g_ptr_array_add(argv, f->tl->hooks);
        g_ptr_array_add(argv, "-l");
        g_ptr_array_add(argv, f->tl->log);
        va_start(ap, r);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        bind_source = f->systemd;
        tl_run_with((char **) argv->pdata, NULL, 120000, enter_fake_systemd, r);
        assert_int_not_equal(r->status, 126);
}

static bool can_run(void) {
        pid_t pid;
        int status;

        if (geteuid() != 0 || !g_file_test("/run/systemd", G_FILE_TEST_IS_DIR) || !g_getenv("FAKE_SYSTEMD"))
                return false;
        pid = fork();
        if (pid == 0)
                _exit(unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0);
        return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);
        g_autofree char *sock = NULL;

        tl_fx_setup((void **) &f->tl);
        f->systemd = g_build_filename(f->tl->top, "systemd", NULL);
        f->calls = g_build_filename(f->systemd, "calls", NULL);
        sock = g_build_filename(f->systemd, "private", NULL);
        g_mkdir(f->systemd, 0755);
        f->pid = fork();
        if (f->pid == 0) {
                execl(g_getenv("FAKE_SYSTEMD"), "fake-systemd", f->systemd, NULL);
                _exit(127);
        }
        if (f->pid < 0 || !tl_await_file(sock, 10000))
                g_error("fake-systemd did not start");
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        tl_fx_teardown((void **) &f->tl);
        g_free(f->systemd);
        g_free(f->calls);
        g_free(f);
        return 0;
}

static char *status_file(struct fx *f) {
        g_autofree char *path = g_build_filename(f->tl->state, "status.json", NULL);

        return tl_read_file(path);
}

/* The freeze asks systemd for its timer before the first hook, and
 * nothing after: once its last hook has run, the applications hold their
 * locks until qemu-ga's FIFREEZE, and a systemd that stalls would stall
 * them for the bus timeout. What it writes is what it knows: the timer it
 * has just started is armed. */
static void test_freeze_asks_systemd_nothing_after_its_hooks(void **state) {
        struct fx *f = *state;
        g_autofree char *calls = NULL, *doc = NULL;
        struct tl_run r;

        tl_fx_recording_hook(f->tl, "10-a");
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        calls = tl_read_file(f->calls);
        assert_non_null(calls);
        assert_int_equal(tl_count_lines_with(calls, "StartTransientUnit fsfreeze-hook-deadline-"), 1);
        assert_int_equal(tl_count_lines_with(calls, "GetUnit"), 0);
        assert_int_equal(tl_count_lines_with(calls, "fsfreeze-hook-deadline-"), 1);
        doc = status_file(f);
        assert_non_null(doc);
        assert_non_null(strstr(doc, "\"deadline\": {\"armed\": true"));
        assert_non_null(strstr(doc, "\"mechanism\": \"systemd\", \"lost\": false}"));
}

/* --status asks systemd whether the timer is still there, and says LOST
 * when its units were stopped behind our back; the thaw stops them. */
static void test_status_asks_and_says_lost(void **state) {
        struct fx *f = *state;
        g_autofree char *forget = g_build_filename(f->systemd, "forget", NULL);
        g_autofree char *calls = NULL;
        struct tl_run r;

        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: armed, fires at "), 1);
        assert_int_equal(tl_count_lines_with(r.out, "systemd timer fsfreeze-hook-deadline-"), 1);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"deadline\": {\"armed\": true"));
        assert_non_null(strstr(r.out, "\"lost\": false}"));
        tl_run_clear(&r);
        calls = tl_read_file(f->calls);
        assert_int_equal(tl_count_lines_with(calls, "GetUnit fsfreeze-hook-deadline-"), 2);

        g_free(tl_write_file(f->systemd, "forget", "", 0644));
        run(f, &r, "--status", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "Freeze deadline: LOST: its systemd timer "), 1);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"deadline\": {\"armed\": false"));
        assert_non_null(strstr(r.out, "\"lost\": true}"));
        tl_run_clear(&r);
        unlink(forget);

        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        g_free(calls);
        calls = tl_read_file(f->calls);
        assert_int_equal(tl_count_lines_with(calls, "StopUnit fsfreeze-hook-deadline-"), 1);
}

/* The timer's service runs from the freeze's working directory only if
 * root may trust it (see test-deadline.c): systemd resolves it again when
 * the deadline fires. */
static void test_service_runs_from_root_not_from_a_users_directory(void **state) {
        struct fx *f = *state;
        g_autofree char *users = g_build_filename(f->tl->top, "users", NULL);
        g_autofree char *calls = NULL, *want = g_strdup_printf("WorkingDirectory -%s", f->tl->top);
        g_autoptr(GPtrArray) wd = g_ptr_array_new();
        g_auto(GStrv) lines = NULL;
        struct tl_run r;

        assert_int_equal(g_mkdir(users, 0755), 0);
        assert_int_equal(chown(users, 65534, 65534), 0);
        run_from = users;
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        run_from = f->tl->top;
        run(f, &r, "--freeze-deadline=3600", "freeze", NULL);
        tl_run_clear(&r);
        run_from = NULL;
        calls = tl_read_file(f->calls);
        assert_non_null(calls);
        lines = g_strsplit(calls, "\n", -1);
        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, "WorkingDirectory"))
                        g_ptr_array_add(wd, *l);
        assert_int_equal(wd->len, 2);
        assert_string_equal(wd->pdata[0], "WorkingDirectory ");
        assert_string_equal(wd->pdata[1], want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_freeze_asks_systemd_nothing_after_its_hooks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_asks_and_says_lost, setup, teardown),
                cmocka_unit_test_setup_teardown(test_service_runs_from_root_not_from_a_users_directory, setup,
                                                teardown),
        };

        if (!can_run()) {
                fprintf(stderr, "skipped: needs root, mount namespaces and /run/systemd\n");
                return TEST_SKIP;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
