/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The caller's deadline: another platform's agent kills its script, our
 * dispatcher, at a time its own configuration says, and then nothing of
 * ours could kill the hook that runs (it leads its own session) or
 * record how it ended. So the dispatcher must end first, the hook's
 * whole process group killed by its own (cut) timeout, and say so.
 * Each agent is reproduced as its source runs scripts (research in
 * /work/wt/research-13.md):
 * - Google's guest agent (GoogleCloudPlatform/guest-agent 20211116.00,
 *   snapshot_listener.go, main.go runCmdOutputWithTimeout):
 *   exec.CommandContext(ctx, "/etc/google/snapshots/pre.sh", disks),
 *   stdin /dev/null, stdout and stderr pipes read to EOF, and at
 *   [Snapshots] timeout_in_seconds SIGKILL to that pid only;
 * - vmtoolsd (open-vm-tools scriptOps.c, procMgrPosix.c, stateMachine.c):
 *   /bin/bash -c '"PATH" freeze', and when its one quiesce timer
 *   ([vmbackup] timeout of tools.conf) fires, SIGTERM to the pid, then
 *   SIGKILL 5 s later.
 * The agents' configuration files are written under --root. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

#define DEADLINE_MS 60000       /* a hang detector only */
#define AGENT_TIMEOUT_SEC 3     /* the agent's limit in the test's configuration */

extern char **environ;

struct fx {
        char *top, *root, *hooks, *out, *log, *state, *conf, *launcher;
        char *hang_pid, *child_pid;
};

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);
        g_autofree char *launcher = NULL;

        f->top = tl_mkdtemp();
        f->root = g_build_filename(f->top, "root", NULL);
        f->hooks = g_build_filename(f->top, "hooks", NULL);
        f->out = g_build_filename(f->top, "out", NULL);
        f->log = g_build_filename(f->top, "log", NULL);
        f->state = g_build_filename(f->top, "state", NULL);
        f->hang_pid = g_build_filename(f->top, "hang.pid", NULL);
        f->child_pid = g_build_filename(f->top, "child.pid", NULL);
        g_mkdir(f->root, 0755);
        g_mkdir(f->hooks, 0755);
        /* The default hook timeout (60 s) and kill grace (5 s): longer
         * than the agent's limit, as on a real VM. */
        f->conf = tl_write_conf(f->top, f->hooks, f->log, f->state, "freeze-deadline=0\n");
        /* The entry point's target: the built binary, with argv[0] and
         * the arguments as the agent gave them, plus the test's
         * configuration and root. */
        launcher = g_strdup_printf("#!/bin/bash\nexec -a \"$0\" '%s' --config='%s' --root='%s' \"$@\"\n",
                                   tl_binary(), f->conf, f->root);
        f->launcher = tl_write_file(f->top, "launcher", launcher, 0755);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        pid_t child = tl_read_pid(f->child_pid), hang = tl_read_pid(f->hang_pid);

        /* Whatever a failed test left running. */
        if (hang > 0)
                (void) kill(-hang, SIGKILL);
        if (child > 0)
                (void) kill(child, SIGKILL);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->root);
        g_free(f->hooks);
        g_free(f->out);
        g_free(f->log);
        g_free(f->state);
        g_free(f->conf);
        g_free(f->launcher);
        g_free(f->hang_pid);
        g_free(f->child_pid);
        g_free(f);
        return 0;
}

/* 10-a records and exits; 20-hang records, then on freeze starts a child
 * in its process group and waits for it for ever. */
static void hooks(struct fx *f) {
        g_autofree char *a = NULL, *hang = NULL;

        a = g_strdup_printf("echo \"10-a $1\" >> '%s'", f->out);
        g_free(tl_write_hook(f->hooks, "10-a", a));
        hang = g_strdup_printf("echo \"20-hang $1\" >> '%s'\n[ \"$1\" = freeze ] || exit 0\n"
                               "sleep 600 &\necho $! > '%s.tmp'; mv '%s.tmp' '%s'\n"
                               "echo $$ > '%s.tmp'; mv '%s.tmp' '%s'\nwait",
                               f->out, f->child_pid, f->child_pid, f->child_pid, f->hang_pid, f->hang_pid,
                               f->hang_pid);
        g_free(tl_write_hook(f->hooks, "20-hang", hang));
}

/* An entry point in the root, a symlink to the launcher. */
static char *entry(struct fx *f, const char *path) {
        g_autofree char *dir = NULL;
        char *p = g_build_filename(f->root, path, NULL);

        dir = g_path_get_dirname(p);
        assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
        assert_int_equal(symlink(f->launcher, p), 0);
        return p;
}

static int64_t now_ms(void) {
        return g_get_monotonic_time() / 1000;
}

/* Whether the process group 'pgid' has no process left (zombies aside:
 * they hold nothing). */
static bool group_gone(pid_t pgid) {
        g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = g_strdup_printf("/proc/%s/stat", name), *stat = NULL;
                char state;
                int pid, ppid, pgrp;
                const char *paren;

                if (!g_ascii_isdigit(name[0]) || !g_file_get_contents(path, &stat, NULL, NULL))
                        continue;
                paren = strrchr(stat, ')');
                if (!paren || sscanf(paren + 2, "%c %d %d", &state, &ppid, &pgrp) != 3)
                        continue;
                pid = atoi(name);
                if (pgrp == pgid && state != 'Z' && pid > 0)
                        return false;
        }
        return true;
}

/* How the caller saw it end. */
struct agent_run {
        bool exited_by_itself;  /* before the agent's limit */
        int status;             /* the wait status */
        bool group_gone_at_limit;       /* the hung hook's group, when the limit came */
};

/* Waits for 'pid' until 'limit_ms' (monotonic), reading both pipes to
 * EOF meanwhile as Go's Wait does. Returns true if it exited by then. */
static bool wait_until(pid_t pid, int out_fd, int err_fd, int64_t limit_ms, int *status) {
        int fds[2] = { out_fd, err_fd };
        char buf[4096];

        for (;;) {
                pid_t r = waitpid(pid, status, WNOHANG);
                struct pollfd p[2];
                nfds_t n = 0;
                int64_t left = limit_ms - now_ms();

                if (r == pid)
                        return true;
                if (left <= 0)
                        return false;
                for (int i = 0; i < 2; i++)
                        if (fds[i] >= 0)
                                p[n++] = (struct pollfd) { .fd = fds[i], .events = POLLIN };
                (void) poll(p, n, (int) MIN(left, 50));
                for (nfds_t i = 0; i < n; i++)
                        if (p[i].revents && read(p[i].fd, buf, sizeof buf) <= 0)
                                for (int j = 0; j < 2; j++)
                                        if (fds[j] == p[i].fd) {
                                                close(fds[j]);
                                                fds[j] = -1;
                                        }
        }
}

/* Runs 'argv' as the agent does, with 'sig' (then SIGKILL 'kill_after_ms'
 * later, if not 0) at its limit. */
static void agent_run(struct fx *f, char **argv, int sig, int kill_after_ms, struct agent_run *ret) {
        int out[2], err[2];
        int64_t limit;
        pid_t pid, hang;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        limit = now_ms() + AGENT_TIMEOUT_SEC * 1000;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);

                dup2(null, 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                execve(argv[0], argv, environ);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        *ret = (struct agent_run) { 0 };
        ret->exited_by_itself = wait_until(pid, out[0], err[0], limit, &ret->status);
        /* The hook has written its pid long before the limit. */
        hang = tl_read_pid(f->hang_pid);
        assert_true(hang > 0);
        ret->group_gone_at_limit = group_gone(hang);
        if (!ret->exited_by_itself) {
                (void) kill(pid, sig);
                if (!kill_after_ms || !wait_until(pid, -1, -1, now_ms() + kill_after_ms, &ret->status)) {
                        (void) kill(pid, SIGKILL);
                        assert_int_equal(waitpid(pid, &ret->status, 0), pid);
                }
        }
        close(out[0]);
        close(err[0]);
}

static char *status_text(struct fx *f) {
        g_autofree char *conf = g_strdup_printf("--config=%s", f->conf);
        char *argv[] = { (char *) tl_binary(), conf, "--status", NULL };
        struct tl_run r;
        char *out;

        tl_run(argv, NULL, DEADLINE_MS, &r);
        out = g_steal_pointer(&r.out);
        tl_run_clear(&r);
        return out;
}

/* The line of --status about 'name'. */
static char *status_line(const char *st, const char *name) {
        g_autofree char *at = g_strdup_printf("  %s ", name);
        const char *line = strstr(st, at);

        assert_non_null(line);
        return g_strndup(line, strcspn(line, "\n"));
}

/* The dispatcher ended by itself before the agent's limit, 20-hang's
 * whole group killed by its cut timeout, recorded and logged. */
static void assert_ended_in_time(struct fx *f, const struct agent_run *run, const char *budget_log) {
        g_autofree char *st = NULL, *line = NULL, *log = tl_read_file(f->log);

        assert_true(run->exited_by_itself);
        assert_true(WIFEXITED(run->status));
        assert_int_equal(WEXITSTATUS(run->status), 0);
        assert_true(run->group_gone_at_limit);
        assert_non_null(log);
        assert_int_equal(tl_count_lines_with(log, budget_log), 1);
        assert_int_equal(tl_count_lines_with(log, "timeout cut to"), 1);
        st = status_text(f);
        assert_null(strstr(st, "never finished"));
        line = status_line(st, "20-hang");
        assert_non_null(strstr(line, "timed out"));
        assert_non_null(strstr(line, ", awaiting thaw"));
}

static void write_in_root(struct fx *f, const char *path, const char *text) {
        g_autofree char *p = g_build_filename(f->root, path, NULL), *dir = g_path_get_dirname(p);
        g_autofree char *base = g_path_get_basename(p);

        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        g_free(tl_write_file(dir, base, text, 0644));
}

/* Google: timeout_in_seconds from instance_configs.cfg (its .template
 * overrides it in the agent's go-ini loading; here only the file). */
static void test_gce_ends_before_agent_kill(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *cfg = NULL;
        struct agent_run run;

        hooks(f);
        cfg = g_strdup_printf("[Snapshots]\nenabled = true\ntimeout_in_seconds = %d\n", AGENT_TIMEOUT_SEC);
        write_in_root(f, "/etc/default/instance_configs.cfg", cfg);
        pre = entry(f, "/etc/google/snapshots/pre.sh");
        agent_run(f, (char *[]) { pre, "1/2,3/4", NULL }, SIGKILL, 0, &run);
        assert_ended_in_time(f, &run, "Google's guest agent kills us in 3.000 s (SIGKILL to its script, "
                                      "[Snapshots] timeout_in_seconds in /etc/default/instance_configs.cfg)");
}

/* VMware: [vmbackup] timeout from tools.conf; vmtoolsd SIGTERMs at its
 * timer, SIGKILLs 5 s later. */
static void test_vmware_ends_before_timer(void **state) {
        struct fx *f = *state;
        g_autofree char *link = NULL, *cmd = NULL, *conf = NULL;
        struct agent_run run;

        hooks(f);
        conf = g_strdup_printf("[vmbackup]\ntimeout = %d\n", AGENT_TIMEOUT_SEC);
        write_in_root(f, "/etc/vmware-tools/tools.conf", conf);
        link = entry(f, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook");
        cmd = g_strdup_printf("\"%s\" freeze", link);
        agent_run(f, (char *[]) { "/bin/bash", "-c", cmd, NULL }, SIGTERM, 5000, &run);
        assert_ended_in_time(f, &run, "vmtoolsd kills us in 3.000 s (SIGTERM at its quiesce timeout, SIGKILL 5 s "
                                      "later, [vmbackup] timeout in /etc/vmware-tools/tools.conf");
}

/* Any caller, as the last line: the dispatcher SIGKILLed while a hook
 * hangs (here as qemu-ga runs it, with no budget). The hook leads its own
 * session; the guard the dispatcher leaves behind kills its whole group
 * once the dispatcher is gone, and the record says it was running. */
static void sigkill_takes_hook_group_down(void **state, bool whole_group) {
        struct fx *f = *state;
        g_autofree char *conf = g_strdup_printf("--config=%s", f->conf), *st = NULL, *line = NULL;
        char *argv[] = { (char *) tl_binary(), conf, "freeze", NULL };
        pid_t pid, hang;
        int status;
        bool gone = false;

        hooks(f);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                /* Its own process group, as timeout(1) or a shell's job
                 * control gives it. */
                if (whole_group)
                        setpgid(0, 0);

                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        assert_true(tl_await_file(f->hang_pid, DEADLINE_MS));
        hang = tl_read_pid(f->hang_pid);
        assert_true(hang > 0);
        assert_false(group_gone(hang));
        /* timeout -s KILL, Ctrl-\ at a terminal, kill -KILL -PGID: the
         * signal goes to the dispatcher's whole group. */
        assert_int_equal(kill(whole_group ? -pid : pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        for (int64_t until = now_ms() + 10000; !gone && now_ms() < until; g_usleep(20000))
                gone = group_gone(hang);
        assert_true(gone);
        st = status_text(f);
        line = status_line(st, "20-hang");
        assert_non_null(strstr(line, "running"));
}

static void test_sigkill_takes_hook_group_down(void **state) {
        sigkill_takes_hook_group_down(state, false);
}

/* The guard is not in the dispatcher's process group: a signal to that
 * group does not take the guard with it. */
static void test_group_sigkill_takes_hook_group_down(void **state) {
        sigkill_takes_hook_group_down(state, true);
}

/* vmtoolsd's one timer runs from the freeze to the last thaw script, so a
 * thaw gets what the freeze left. That time is not the wall clock's: after
 * a snapshot VMware Tools may step the guest's clock (tools.conf
 * time.synchronize.continue), NTP may step it, and a thaw that took the
 * step for time spent ran no thaw hook at all ("no time left"). Here the
 * freeze record's wall-clock start is moved an hour back, as a step
 * forward of the clock between freeze and thaw would leave it. */
static void test_vmware_thaw_after_clock_step(void **state) {
        struct fx *f = *state;
        g_autofree char *a = g_strdup_printf("echo \"10-a $1\" >> '%s'", f->out), *out = NULL, *log = NULL;
        g_autofree char *conf = g_strdup_printf("--config=%s", f->conf), *root = g_strdup_printf("--root=%s", f->root);
        g_autofree char *rec_path = g_build_filename(f->state, "last-freeze", NULL), *rec = NULL, *stepped = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        struct tl_run r;

        g_free(tl_write_hook(f->hooks, "10-a", a));
        tl_run_hook(&r, conf, root, "--caller=vmware", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_true(g_key_file_load_from_file(kf, rec_path, G_KEY_FILE_KEEP_COMMENTS, NULL));
        g_key_file_set_int64(kf, "run", "started-usec",
                             g_key_file_get_int64(kf, "run", "started-usec", NULL) - (gint64) 3600 * G_USEC_PER_SEC);
        assert_true(g_key_file_save_to_file(kf, rec_path, NULL));
        tl_run_hook(&r, conf, root, "--caller=vmware", "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        out = tl_read_file(f->out);
        assert_string_equal(out, "10-a freeze\n10-a thaw\n");
        log = tl_read_file(f->log);
        assert_null(strstr(log, "no time left"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_gce_ends_before_agent_kill, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vmware_ends_before_timer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sigkill_takes_hook_group_down, setup, teardown),
                cmocka_unit_test_setup_teardown(test_group_sigkill_takes_hook_group_down, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vmware_thaw_after_clock_step, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
