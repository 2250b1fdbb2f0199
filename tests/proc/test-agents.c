/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Each other platform's agent calling the entry point --attach installed,
 * as its source does (issue 13, part 2). The facts, with their sources,
 * are in tests/platform-sources.md; each test names the files it follows.
 *
 * What stands in for what, and why it is honest:
 * - The entry point is the one `fsfreeze-hook --root=ROOT --attach=P`
 *   wrote, checked as written. It names the installed binary
 *   (PROGRAM_DIR/fsfreeze-hook), which is not in a build tree: the test
 *   points it (the symlink's target, or the wrapper's exec path; nothing
 *   else changes) at a launcher, `exec -a "$0" BIN --config=CONF "$@"`,
 *   which runs the built binary with argv[0] and the arguments exactly as
 *   the agent gave them, adding one option: the test's configuration
 *   (hook-dirs= a temporary admin hook directory, its own log and state).
 *   The default admin directory under a platform (DEFAULT_HOOKS_DIR, not
 *   "beside argv[0]") is checked separately, by a dry run.
 * - Hooks record $1, FSFREEZE_CALLER, FSFREEZE_CALLER_ARG and
 *   FSFREEZE_THAW_REASON. */
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
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "defaults.h"
#include "json.h"
#include "testlib.h"

#define INSTALLED PROGRAM_DIR "/fsfreeze-hook"
#define DEADLINE_MS 60000       /* a hang detector only */

extern char **environ;

struct fx {
        char *top, *root, *hooks, *out, *log, *state, *conf, *launcher;
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
        g_mkdir(f->root, 0755);
        g_mkdir(f->hooks, 0755);
        f->conf = tl_write_conf(f->top, f->hooks, f->log, f->state, "freeze-deadline=0\n");
        launcher = g_strdup_printf("#!/bin/bash\nexec -a \"$0\" '%s' --config='%s' \"$@\"\n", tl_binary(), f->conf);
        f->launcher = tl_write_file(f->top, "launcher", launcher, 0755);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        tl_disarm_deadline(f->top);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->root);
        g_free(f->hooks);
        g_free(f->out);
        g_free(f->log);
        g_free(f->state);
        g_free(f->conf);
        g_free(f->launcher);
        g_free(f);
        return 0;
}

/* A hook that appends "NAME $1 caller=... arg=... reason=..." to f->out. */
static void recording_hook(struct fx *f, const char *name) {
        g_autofree char *body = g_strdup_printf(
                "echo \"%s $1 caller=${FSFREEZE_CALLER-unset} arg=${FSFREEZE_CALLER_ARG-unset} "
                "reason=${FSFREEZE_THAW_REASON-unset}\" >> '%s'", name, f->out);

        g_free(tl_write_hook(f->hooks, name, body));
}

static char *in_root(struct fx *f, const char *path) {
        return g_build_filename(f->root, path, NULL);
}

static void attach(struct fx *f, const char *platform) {
        g_autofree char *root_opt = g_strdup_printf("--root=%s", f->root);
        g_autofree char *cmd = g_strdup_printf("--attach=%s", platform);
        char *argv[] = { (char *) tl_binary(), "--config=/dev/null", root_opt, cmd, NULL };
        struct tl_run r = { 0 };

        tl_run(argv, NULL, DEADLINE_MS, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
}

/* The symlink --attach made, checked, then aimed at the launcher. */
static char *aim_link(struct fx *f, const char *path) {
        char *p = in_root(f, path);
        g_autofree char *target = g_file_read_link(p, NULL);

        assert_non_null(target);
        assert_string_equal(target, INSTALLED);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink(f->launcher, p), 0);
        return p;
}

/* The wrapper --attach wrote, with its exec path aimed at the launcher. */
static char *aim_wrapper(struct fx *f, const char *path) {
        char *p = in_root(f, path);
        g_autofree char *text = tl_read_file(p), *dir = g_path_get_dirname(p), *base = g_path_get_basename(p);
        g_auto(GStrv) parts = NULL;
        g_autofree char *aimed = NULL;

        assert_non_null(text);
        assert_non_null(strstr(text, "exec " INSTALLED " "));
        parts = g_strsplit(text, "exec " INSTALLED " ", 2);
        aimed = g_strdup_printf("%sexec %s %s", parts[0], f->launcher, parts[1]);
        assert_int_equal(unlink(p), 0);
        g_free(tl_write_file(dir, base, aimed, 0700));
        return p;
}

static char *read_out(struct fx *f) {
        char *s = tl_read_file(f->out);

        return s ? s : g_strdup("");
}

/* Waits for 'pid' with a deadline; returns its wait status. */
static int reap(pid_t pid) {
        int status;

        assert_true(tl_await_exit(pid, DEADLINE_MS));
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

/* --- VMware --------------------------------------------------------------- */

/* vmtoolsd's ProcMgr_ExecAsync (open-vm-tools lib/procMgr/procMgrPosix.c
 * 1861-2075, 1694-1757): a waiter child forked from vmtoolsd forks again
 * and runs execv("/bin/bash", {"bash", "-c", cmd}), cmd built by
 * scriptOps.c:160-166 as "\"<path>\" <op> \"<scriptArg>\"" (the third word
 * left out when there is no scriptArg; 12.2.0 passes "" for an empty
 * one). cwd, environment and fds 0-2 are vmtoolsd's, inherited; the
 * waiter reports the script's exit. The waiter here is a shell that forks
 * bash -c and exits with its status (the same tree: waiter, then bash,
 * which execs the entry point); a forked copy of this test program would
 * be leak-checked by valgrind at its _exit. Returns the exit status, -1
 * if not exited. */
static int vmtoolsd_run(const char *path, const char *op, const char *script_arg) {
        g_autofree char *cmd = script_arg ? g_strdup_printf("\"%s\" %s \"%s\"", path, op, script_arg)
                                          : g_strdup_printf("\"%s\" %s", path, op);
        pid_t waiter = fork();
        int status;

        assert_true(waiter >= 0);
        if (waiter == 0) {
                execl("/bin/sh", "sh", "-c", "/bin/bash -c \"$1\"; exit $?", "vmtoolsd-waiter", cmd, (char *) NULL);
                _exit(127);
        }
        status = reap(waiter);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A quiesce as vmtoolsd's vmbackup state machine runs it: the entries of
 * backupScripts.d in strcmp order (scriptOps.c:476-532), stopping at the
 * first freeze that fails; then freezeFail, in reverse, to the ones
 * before it only (--currentScript, scriptOps.c:136-154), or, if all
 * froze, thaw in reverse. 'names' sorted. */
static void vmtoolsd_quiesce(const char *dir, const char *const *names, guint n, const char *script_arg) {
        guint started = 0;
        bool failed = false;

        for (; started < n && !failed; started++) {
                g_autofree char *p = g_build_filename(dir, names[started], NULL);

                failed = vmtoolsd_run(p, "freeze", script_arg) != 0;
        }
        if (failed)
                started--;      /* the failing one is not called again */
        for (guint i = started; i-- > 0;) {
                g_autofree char *p = g_build_filename(dir, names[i], NULL);

                (void) vmtoolsd_run(p, failed ? "freezeFail" : "thaw", script_arg);
        }
}

static void test_vmware(void **state) {
        struct fx *f = *state;
        g_autofree char *dir = in_root(f, "/etc/vmware-tools/backupScripts.d"), *out = NULL, *fails = NULL;
        g_autofree char *link = NULL;
        const char *names[] = { "fsfreeze-hook", "zz-app" };
        g_autofree char *status = NULL;

        recording_hook(f, "10-a");
        recording_hook(f, "20-b");
        attach(f, "vmware");
        link = aim_link(f, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook");

        /* Debian 12's vmtoolsd 12.2.0: an empty scriptArg passed as "". */
        vmtoolsd_quiesce(dir, names, 1, "");
        out = read_out(f);
        assert_string_equal(out, "10-a freeze caller=vmware arg=unset reason=unset\n"
                                 "20-b freeze caller=vmware arg=unset reason=unset\n"
                                 "20-b thaw caller=vmware arg=unset reason=thaw\n"
                                 "10-a thaw caller=vmware arg=unset reason=thaw\n");
        g_clear_pointer(&out, g_free);
        assert_int_equal(g_unlink(f->out), 0);

        /* A later script of theirs fails its freeze: vmtoolsd sends us
         * freezeFail, with the host's scriptArg; our hooks get a thaw,
         * in reverse, with reason freeze-failed. */
        fails = tl_write_file(dir, "zz-app", "#!/bin/sh\nexit 3\n", 0755);
        vmtoolsd_quiesce(dir, names, 2, "nightly");
        out = read_out(f);
        assert_string_equal(out, "10-a freeze caller=vmware arg=nightly reason=unset\n"
                                 "20-b freeze caller=vmware arg=nightly reason=unset\n"
                                 "20-b thaw caller=vmware arg=nightly reason=freeze-failed\n"
                                 "10-a thaw caller=vmware arg=nightly reason=freeze-failed\n");
        /* The log says who called, with what. */
        {
                g_autofree char *log = tl_read_file(f->log);

                assert_non_null(log);
                assert_int_equal(tl_count_lines_with(log, ": freeze: run by VMware Tools (vmware), argument 'nightly'"),
                                 1);
                assert_int_equal(tl_count_lines_with(log, ": thaw: run by VMware Tools (vmware), argument 'nightly', "
                                                          "after freezeFail: a later script's freeze failed"), 1);
        }
        /* freezeFail paired with the freeze: nothing awaits a thaw. */
        {
                g_autofree char *state_opt = g_strdup_printf("--state-dir=%s", f->state);
                char *argv[] = { (char *) tl_binary(), "--config=/dev/null", state_opt, "--status", NULL };
                struct tl_run r = { 0 };

                tl_run(argv, NULL, DEADLINE_MS, &r);
                assert_non_null(strstr(r.out, "Awaiting thaw: no"));
                tl_run_clear(&r);
        }
}

/* Waits (bounded) until the log has a line with 'needle'. */
static bool await_log(struct fx *f, const char *needle) {
        return tl_await_text(f->log, needle, DEADLINE_MS);
}

/* Waits (bounded) until f->out has 'lines' lines. */
static char *await_lines(struct fx *f, unsigned lines) {
        gint64 end = g_get_monotonic_time() + DEADLINE_MS * 1000LL;
        char *out = read_out(f);

        while (tl_count_lines_with(out, "caller=") < lines && g_get_monotonic_time() < end) {
                g_free(out);
                g_usleep(20000);
                out = read_out(f);
        }
        return out;
}

/* The freeze deadline under vmtoolsd: a freeze with a scriptArg and no
 * thaw (the host never finished the quiesce). The deadline runs our
 * command line again without its arguments, so the fire is not taken for
 * a usage error because of VMware's "freeze" "nightly", and it releases
 * the hooks. SAFETY: this fire runs outside any mount namespace, which is
 * safe only because a deadline armed under another platform's agent thaws
 * no filesystem (vmtoolsd owns its freeze; test-deadline-fire.c proves
 * that inside a namespace, on a frozen loop mount): a fire under qemu-ga
 * belongs in such a namespace. */
static void test_vmware_deadline(void **state) {
        struct fx *f = *state;
        g_autofree char *link = NULL, *out = NULL, *conf = NULL;

        conf = g_strdup_printf("[fsfreeze-hook]\nhook-dirs=%s\nlog-file=%s\nstate-dir=%s\njournal=false\n"
                               "freeze-deadline=0.5\n", f->hooks, f->log, f->state);
        g_free(tl_write_file(f->top, "conf", conf, 0644));
        recording_hook(f, "10-a");
        attach(f, "vmware");
        link = aim_link(f, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook");
        assert_int_equal(vmtoolsd_run(link, "freeze", "nightly"), 0);
        out = await_lines(f, 2);
        assert_non_null(strstr(out, "10-a freeze caller=vmware arg=nightly reason=unset\n10-a thaw caller=vmware"));
}

/* --- Google --------------------------------------------------------------- */

/* The guest agent's run (GoogleCloudPlatform/guest-agent
 * google_guest_agent/snapshot_listener.go with run/run.go, tag
 * 20211116.00 as in Debian 12): exec.CommandContext(ctx, path, disks):
 * execve of the file itself with one argument, the disk list; stdin
 * /dev/null; stdout and stderr pipes read to EOF (Go's Wait waits for
 * them); on the timeout (timeout_in_seconds, 60) SIGKILL to the pid only.
 * 'kill_when' (a file) makes the test send that SIGKILL as soon as it
 * exists, instead of after 60 s. Returns the wait status. */
static int gce_agent_run(struct fx *f, const char *path, const char *disks, const char *kill_when) {
        int out[2], err[2], status;
        char buf[4096];
        pid_t pid;

        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);

                dup2(null, 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                execve(path, (char *[]) { (char *) path, (char *) disks, NULL }, environ);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        if (kill_when) {
                assert_true(tl_await_file(kill_when, DEADLINE_MS));
                assert_int_equal(kill(pid, SIGKILL), 0);
        }
        /* Both pipes to EOF, as Go's Wait does: a process that kept them
         * would hold the agent here. */
        for (int fd_i = 0; fd_i < 2; fd_i++) {
                int fd = fd_i ? err[0] : out[0];
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n = 1;

                while (n > 0) {
                        assert_int_equal(poll(&p, 1, DEADLINE_MS), 1);
                        n = read(fd, buf, sizeof buf);
                }
                close(fd);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

/* Google's agent runs pre.sh, then post.sh, with the disk list 'disks':
 * each reports NO_ERROR (exit 0), and the hook saw both phases with the
 * list as the caller's argument. */
static void gce_freeze_thaw(struct fx *f, const char *disks) {
        g_autofree char *pre = NULL, *post = NULL, *out = NULL, *want = NULL;
        int status;

        recording_hook(f, "10-a");
        attach(f, "gce");
        pre = aim_link(f, "/etc/google/snapshots/pre.sh");
        post = aim_link(f, "/etc/google/snapshots/post.sh");
        status = gce_agent_run(f, pre, disks, NULL);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);       /* reported as NO_ERROR */
        status = gce_agent_run(f, post, disks, NULL);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        out = read_out(f);
        want = g_strdup_printf("10-a freeze caller=gce arg=%s reason=unset\n"
                               "10-a thaw caller=gce arg=%s reason=thaw\n", disks, disks);
        assert_string_equal(out, want);
}

static void test_gce(void **state) {
        gce_freeze_thaw(*state, "1/2,3/4");
}

/* The disk list is data whatever it begins with: through the launcher's
 * options ("--config=... --help"), a freeze and a thaw still run the
 * hooks with it, where getopt once printed the help and ran none. */
static void test_gce_disk_list_is_no_option(void **state) {
        gce_freeze_thaw(*state, "--help");
}

/* The agent's timeout: SIGKILL to the dispatcher's pid while a hook is
 * still running. The agent's pipes reach EOF at once (no hook holds
 * them: they have the dispatcher's own), the kill is reported (v1: -1,
 * UNHANDLED_SCRIPT_ERROR), and the next post.sh releases the hook that
 * froze. */
static void test_gce_timeout_kill(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *post = NULL, *out = NULL, *pid_file = NULL, *body = NULL;
        pid_t hook;
        int status;

        pid_file = g_build_filename(f->top, "slow.pid", NULL);
        recording_hook(f, "10-a");
        body = g_strdup_printf("[ \"$1\" = freeze ] || exit 0\necho $$ > '%s.tmp'\nmv '%s.tmp' '%s'\nexec sleep 600",
                               pid_file, pid_file, pid_file);
        g_free(tl_write_hook(f->hooks, "20-slow", body));
        attach(f, "gce");
        pre = aim_link(f, "/etc/google/snapshots/pre.sh");
        post = aim_link(f, "/etc/google/snapshots/post.sh");

        status = gce_agent_run(f, pre, "", pid_file);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        hook = tl_read_pid(pid_file);
        assert_true(hook > 0);

        status = gce_agent_run(f, post, "", NULL);
        assert_int_equal(WEXITSTATUS(status), 0);
        out = read_out(f);
        assert_non_null(strstr(out, "10-a freeze caller=gce arg= reason=unset\n"));
        assert_non_null(strstr(out, "10-a thaw caller=gce arg= reason=thaw\n"));
        (void) kill(hook, SIGKILL);
}

/* Under a platform, the admin hook directory is the build's default, not
 * fsfreeze-hook.d beside argv[0] (/etc/google/snapshots/ is nobody's hook
 * directory): a dry run as the GCE agent would call us. */
static void test_default_admin_dir(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL;
        struct tl_run r = { 0 };

        attach(f, "gce");
        pre = in_root(f, "/etc/google/snapshots/pre.sh");
        /* argv[0] the entry point, the binary the built one. */
        {
                char *argv[] = { pre, "--config=/dev/null", "--dry-run", "1/2", NULL };
                int out[2], status;
                pid_t pid;
                g_autofree char *text = NULL;
                GString *s = g_string_new("");
                char buf[4096];
                ssize_t n;

                assert_int_equal(pipe(out), 0);
                pid = fork();
                if (pid == 0) {
                        dup2(out[1], 1);
                        execv(tl_binary(), argv);
                        _exit(127);
                }
                close(out[1]);
                while ((n = read(out[0], buf, sizeof buf)) > 0)
                        g_string_append_len(s, buf, n);
                close(out[0]);
                status = reap(pid);
                assert_int_equal(WEXITSTATUS(status), 0);
                text = g_string_free(s, FALSE);
                assert_non_null(strstr(text, DEFAULT_HOOKS_DIR));
                assert_null(strstr(text, "snapshots/fsfreeze-hook.d"));
        }
        (void) r;
}

/* --- Nutanix -------------------------------------------------------------- */

/* NGT is closed: its documentation (Commvault; Nutanix Community) says
 * root-owned 0700 /usr/local/sbin/pre_freeze and post_thaw, run when the
 * snapshot is created and finalized; arguments are undocumented. Here:
 * exec of the file with no argument. */
static void test_nutanix(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *post = NULL, *out = NULL;
        struct tl_run r = { 0 };

        recording_hook(f, "10-a");
        attach(f, "nutanix");
        pre = aim_wrapper(f, "/usr/local/sbin/pre_freeze");
        post = aim_wrapper(f, "/usr/local/sbin/post_thaw");
        tl_run((char *[]) { pre, NULL }, NULL, DEADLINE_MS, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        tl_run((char *[]) { post, NULL }, NULL, DEADLINE_MS, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        out = read_out(f);
        assert_string_equal(out, "10-a freeze caller=nutanix arg=unset reason=unset\n"
                                 "10-a thaw caller=nutanix arg=unset reason=thaw\n");
}

/* --- Azure ---------------------------------------------------------------- */

/* The VM backup extension (Azure/azure-linux-extensions VMBackup
 * main/ScriptRunner.py:76-117, 204-264): it reads the script location and
 * params from /etc/azure/VMSnapshotScriptPluginConfig.json, runs
 * subprocess.Popen(['sh', location, *params], stdout=PIPE, stderr=PIPE),
 * polls for the exit and never reads either pipe, never kills. Its daemon
 * was started by WALinuxAgent (azurelinuxagent/ga/exthandlers.py
 * 138-148, 2074-2135) from the extension's directory with
 * AZURE_GUEST_AGENT_* and ConfigSequenceNumber in the environment. Returns
 * the exit status; *ret_piped is what reached the two pipes, read only
 * after the exit (as nobody ever does). */
struct azure_script {
        pid_t pid;
        int out, err;           /* the pipes' read ends, never read while it runs */
};

static void azure_start(struct fx *f, const char *location_key, const char *params_key, struct azure_script *ret) {
        g_autofree char *conf_path = in_root(f, "/etc/azure/VMSnapshotScriptPluginConfig.json");
        g_autofree char *text = tl_read_file(conf_path);
        g_autofree char *ext = g_build_filename(f->top, "Microsoft.Azure.RecoveryServices.VMSnapshotLinux-1.0.9",
                                                NULL);
        g_autoptr(fh_json) doc = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) envp = g_ptr_array_new_with_free_func(g_free);
        const struct fh_json *params;
        int out[2], err[2];

        assert_non_null(text);
        assert_int_equal(fh_json_parse(text, strlen(text), &doc, NULL), 0);
        g_ptr_array_add(argv, g_strdup("sh"));
        g_ptr_array_add(argv, in_root(f, fh_json_string(fh_json_member(doc, location_key))));
        params = fh_json_member(doc, params_key);
        for (guint i = 0; i < fh_json_length(params); i++)
                g_ptr_array_add(argv, g_strdup(fh_json_string(fh_json_at(params, i))));
        g_ptr_array_add(argv, NULL);
        for (char **e = environ; *e; e++)
                g_ptr_array_add(envp, g_strdup(*e));
        g_ptr_array_add(envp, g_strdup_printf("AZURE_GUEST_AGENT_EXTENSION_PATH=%s", ext));
        g_ptr_array_add(envp, g_strdup("AZURE_GUEST_AGENT_EXTENSION_VERSION=1.0.9"));
        g_ptr_array_add(envp, g_strdup("AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS=168.63.129.16"));
        g_ptr_array_add(envp, g_strdup("ConfigSequenceNumber=3"));
        g_ptr_array_add(envp, NULL);
        g_mkdir(ext, 0755);

        assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC | O_NONBLOCK), 0);
        ret->pid = fork();
        assert_true(ret->pid >= 0);
        if (ret->pid == 0) {
                if (chdir(ext) < 0)
                        _exit(126);
                dup2(out[1], 1);
                dup2(err[1], 2);
                /* Python's pipes are blocking on the child's side. */
                fcntl(1, F_SETFL, 0);
                fcntl(2, F_SETFL, 0);
                execvpe("sh", (char **) argv->pdata, (char **) envp->pdata);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        ret->out = out[0];
        ret->err = err[0];
}

/* The extension polls (ScriptsExecutionPollTimeSeconds) for the exit; a
 * writer blocked on a full pipe would never exit: the deadline fails.
 * Returns the exit status; *ret_piped is what reached the two pipes,
 * read only after the exit (as nobody ever does). */
static int azure_finish(struct azure_script *a, size_t *ret_piped) {
        char buf[4096];
        size_t piped = 0;
        int status;

        assert_true(tl_await_exit(a->pid, DEADLINE_MS));
        assert_int_equal(waitpid(a->pid, &status, 0), a->pid);
        for (int fd_i = 0; fd_i < 2; fd_i++) {
                int fd = fd_i ? a->err : a->out;
                ssize_t n;

                while ((n = read(fd, buf, sizeof buf)) > 0)
                        piped += (size_t) n;
                close(fd);
        }
        *ret_piped = piped;
        return status;
}

static int azure_run(struct fx *f, const char *location_key, const char *params_key, size_t *ret_piped) {
        struct azure_script a;

        azure_start(f, location_key, params_key, &a);
        return azure_finish(&a, ret_piped);
}

/* Hooks that write far more than a pipe holds (64 KiB) to stdout and
 * stderr: the run ends, their output is in the log, and what reaches the
 * extension's unread pipes is nothing (a few warnings at most). */
static void test_azure(void **state) {
        struct fx *f = *state;
        g_autofree char *out = NULL, *log = NULL;
        size_t piped = 0;
        int status;

        recording_hook(f, "10-a");
        g_free(tl_write_hook(f->hooks, "20-loud", "head -c 262144 /dev/zero | tr '\\0' o\n"
                                                  "head -c 262144 /dev/zero | tr '\\0' e >&2"));
        attach(f, "azure");
        g_free(aim_wrapper(f, "/etc/azure/fsfreeze-hook-pre"));
        g_free(aim_wrapper(f, "/etc/azure/fsfreeze-hook-post"));

        status = azure_run(f, "preScriptLocation", "preScriptParams", &piped);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(piped, 0);
        status = azure_run(f, "postScriptLocation", "postScriptParams", &piped);
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(piped, 0);
        out = read_out(f);
        assert_string_equal(out, "10-a freeze caller=azure arg=unset reason=unset\n"
                                 "10-a thaw caller=azure arg=unset reason=thaw\n");
        log = tl_read_file(f->log);
        assert_non_null(log);
        assert_non_null(strstr(log, "20-loud"));
        assert_non_null(strstr(log, "oooooooo"));
}

/* The extension never kills a script that outlives its timeout and runs
 * post regardless (ScriptRunner.py:211-245, handle.py:502-540), so post
 * may start while pre still runs: the thaw waits for the freeze (the
 * state lock) and releases what it froze, in that order. */
static void test_azure_post_during_pre(void **state) {
        struct fx *f = *state;
        g_autofree char *started = g_build_filename(f->top, "started", NULL);
        g_autofree char *go = g_build_filename(f->top, "go", NULL), *body = NULL, *out = NULL;
        struct azure_script pre, post;
        size_t piped = 0;

        body = g_strdup_printf("if [ \"$1\" = freeze ]; then\n"
                               "  : > '%s'\n"
                               "  while [ ! -e '%s' ]; do sleep 0.05; done\n"
                               "fi\n"
                               "echo \"10-slow $1 reason=${FSFREEZE_THAW_REASON-unset}\" >> '%s'", started, go, f->out);
        g_free(tl_write_hook(f->hooks, "10-slow", body));
        attach(f, "azure");
        g_free(aim_wrapper(f, "/etc/azure/fsfreeze-hook-pre"));
        g_free(aim_wrapper(f, "/etc/azure/fsfreeze-hook-post"));

        azure_start(f, "preScriptLocation", "preScriptParams", &pre);
        assert_true(tl_await_file(started, DEADLINE_MS));
        azure_start(f, "postScriptLocation", "postScriptParams", &post);
        /* The thaw has found the freeze running, and waits. */
        assert_true(await_log(f, "another fsfreeze-hook is running: waiting for it"));
        g_free(tl_write_file(f->top, "go", "", 0644));
        assert_int_equal(WEXITSTATUS(azure_finish(&pre, &piped)), 0);
        assert_int_equal(WEXITSTATUS(azure_finish(&post, &piped)), 0);
        out = read_out(f);
        assert_string_equal(out, "10-slow freeze reason=unset\n10-slow thaw reason=thaw\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_vmware, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vmware_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gce, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gce_disk_list_is_no_option, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gce_timeout_kill, setup, teardown),
                cmocka_unit_test_setup_teardown(test_default_admin_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nutanix, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_post_during_pre, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
