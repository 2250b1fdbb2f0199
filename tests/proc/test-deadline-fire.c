/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The freeze deadline's fire, with the real binary and its own process,
 * and who armed it. Under qemu-ga (or a shell) the fire thaws every
 * filesystem, as qemu-ga's own thaw does: qemu-ga froze them and may be
 * gone. Under another platform's agent it releases the hooks and thaws
 * nothing: Google's guest agent freezes no filesystem ([GA]
 * snapshot_listener.go: no freeze anywhere); VMware's vmtoolsd and Azure's
 * VM backup freeze them themselves after our freeze returns and own their
 * thaw (open-vm-tools stateMachine.c:1100-1125: vmtoolsd's own quiesce
 * timer, which the host may set longer than our deadline; azure-linux-
 * extensions VMBackup handle.py:502-540, freeze_snapshot).
 *
 * The probe: a loop-mounted ext4 frozen by the test before the freeze (the
 * dispatcher never writes to it) stands for what the agent froze. After
 * the fire, FITHAW by the test succeeds if and only if the fire left it
 * frozen.
 *
 * SAFETY: the whole program runs in a private mount namespace of its own
 * (unshare(CLONE_NEWNS), then / made private recursively, as `unshare -m
 * --propagation private`), which the dispatcher and its deadline process
 * inherit: the fire's "every filesystem" is this namespace's, of which only
 * the test's loop mount is ever frozen, and the teardown thaws it whatever
 * happened. Skips itself without root, unshare or a loop device. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

/* A hang detector for the fire (the deadline is 1 s), not a timing check. */
#define FIRE_WAIT_MS 60000

struct fx {
        struct tl_fx *tl;
        char *mnt;              /* the loop-mounted ext4 */
        bool mounted;
};

/* Runs a tool with its output to /dev/null; its exit status, or -1. */
static int tool(char *const argv[]) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(126);
                execvp(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* FITHAW once on the probe: 0 if it was frozen, else -errno. */
static int thaw_probe(struct fx *f) {
        int unused = 0, fd = open(f->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        r = ioctl(fd, FITHAW, &unused) == 0 ? 0 : -errno;
        close(fd);
        return r;
}

static void freeze_probe(struct fx *f) {
        int unused = 0, fd = open(f->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(ioctl(fd, FIFREEZE, &unused), 0);
        close(fd);
}

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);
        g_autofree char *img = NULL;

        tl_fx_setup((void **) &f->tl);
        *state = f;
        img = g_build_filename(f->tl->top, "img", NULL);
        f->mnt = g_build_filename(f->tl->top, "mnt", NULL);
        assert_int_equal(g_mkdir(f->mnt, 0755), 0);
        assert_int_equal(tool((char *[]) { "truncate", "-s", "64M", img, NULL }), 0);
        assert_int_equal(tool((char *[]) { "mkfs.ext4", "-q", img, NULL }), 0);
        if (tool((char *[]) { "mount", "-o", "loop", img, f->mnt, NULL }) != 0)
                skip();         /* no loop device free */
        f->mounted = true;
        return 0;
}

/* The trap: thawed whatever the test did, then unmounted. */
static int teardown(void **state) {
        struct fx *f = *state;

        if (f->mounted) {
                for (int i = 0; i < 1000 && thaw_probe(f) == 0; i++)
                        ;
                (void) umount2(f->mnt, MNT_DETACH);
        }
        tl_fx_teardown((void **) &f->tl);
        g_free(f->mnt);
        g_free(f);
        return 0;
}

/* A hook that appends "NAME PHASE reason=R caller=C" to f->out. */
static void recording_hook(struct fx *f, const char *name) {
        g_autofree char *body = g_strdup_printf(
                "echo \"%s $1 reason=${FSFREEZE_THAW_REASON-unset} caller=$FSFREEZE_CALLER\" >> '%s'", name,
                f->tl->out);

        g_free(tl_write_hook(f->tl->hooks, name, body));
}

/* The dispatcher run as 'argv0' (our binary, or a link to it with an
 * agent's name), with the fixture's options, then 'args'. */
static void run_as(struct fx *f, const char *argv0, const char *const *args, struct tl_run *r) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (char *) argv0);
        g_ptr_array_add(argv, f->tl->conf_opt);
        g_ptr_array_add(argv, f->tl->state_opt);
        g_ptr_array_add(argv, "--no-journal");
        g_ptr_array_add(argv, "-d");
        g_ptr_array_add(argv, f->tl->hooks);
        g_ptr_array_add(argv, "-l");
        g_ptr_array_add(argv, f->tl->log);
        for (; *args; args++)
                g_ptr_array_add(argv, (char *) *args);
        g_ptr_array_add(argv, NULL);
        tl_run((char **) argv->pdata, NULL, 120000, r);
}

/* top/google/snapshots/NAME, a link to our binary, as --attach=gce makes
 * /etc/google/snapshots/pre.sh and post.sh. */
static char *google_link(struct fx *f, const char *name) {
        g_autofree char *dir = g_build_filename(f->tl->top, "google", "snapshots", NULL);
        char *link = g_build_filename(dir, name, NULL);

        assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
        if (!g_file_test(link, G_FILE_TEST_IS_SYMLINK))
                assert_int_equal(symlink(tl_binary(), link), 0);
        return link;
}

/* Waits (bounded) until the fire has published what it did: the state
 * directory's status.json says the deadline fired. */
static void await_fired(struct fx *f) {
        g_autofree char *path = g_build_filename(f->tl->state, "status.json", NULL);
        gint64 end = g_get_monotonic_time() + FIRE_WAIT_MS * 1000LL;

        for (;;) {
                g_autofree char *doc = tl_read_file(path);

                if (doc && strstr(doc, "\"fired\": true"))
                        return;
                if (g_get_monotonic_time() >= end)
                        fail_msg("the freeze deadline did not fire within %d ms", FIRE_WAIT_MS);
                g_usleep(20000);
        }
}

/* --status --json's deadline object, and status.json the same document. */
static char *status_json(struct fx *f) {
        g_autofree char *path = g_build_filename(f->tl->state, "status.json", NULL), *file = NULL;
        const char *args[] = { "--status", "--json", NULL };
        struct tl_run r;
        char *doc;

        run_as(f, tl_binary(), args, &r);
        assert_int_equal(r.status, 0);
        doc = g_strdup(strstr(r.out, "\"deadline\": {"));
        assert_non_null(doc);
        tl_run_clear(&r);
        file = tl_read_file(path);
        assert_non_null(file);
        assert_non_null(strstr(file, doc));
        return doc;
}

static char *status_text(struct fx *f) {
        const char *args[] = { "--status", NULL };
        struct tl_run r;
        char *out;

        run_as(f, tl_binary(), args, &r);
        assert_int_equal(r.status, 0);
        out = g_steal_pointer(&r.out);
        tl_run_clear(&r);
        return out;
}

/* What must never be said after a fire that thawed nothing. */
static void assert_no_thaw_claimed(const char *text) {
        assert_null(strstr(text, "frozen for"));
        assert_null(strstr(text, "filesystems and released"));
        assert_null(strstr(text, "thawed 0"));
        assert_null(strstr(text, "thawed 1"));
        assert_null(strstr(text, "thawed -1"));
}

/* Google's agent ran our pre.sh with its disk list, and post.sh never
 * came: the deadline releases the hook (FSFREEZE_THAW_REASON=deadline),
 * leaves the filesystem someone else froze as it is, and says so. The
 * late post.sh releases nothing twice. */
static void test_google_fire_releases_hooks_and_thaws_nothing(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = google_link(f, "pre.sh"), *post = google_link(f, "post.sh");
        g_autofree char *out = NULL, *log = NULL, *json = NULL, *text = NULL;
        const char *freeze_args[] = { "--freeze-deadline=1", "1/2,3/4", NULL };
        const char *thaw_args[] = { "1/2,3/4", NULL };
        struct tl_run r;

        recording_hook(f, "10-a");
        freeze_probe(f);
        run_as(f, pre, freeze_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        await_fired(f);

        out = tl_read_file(f->tl->out);
        assert_string_equal(out, "10-a freeze reason=unset caller=gce\n10-a thaw reason=deadline caller=gce\n");
        /* Still frozen: the fire did not thaw it. */
        assert_int_equal(thaw_probe(f), 0);

        log = tl_fx_read_log(f->tl);
        assert_no_thaw_claimed(log);
        assert_int_equal(tl_count_lines_with(log, "everything is thawed at"), 0);
        assert_int_equal(tl_count_lines_with(log, "no thaw came from Google guest agent"), 1);
        assert_int_equal(tl_count_lines_with(log, "released the hooks and thawed no filesystem: Google guest agent "
                                                  "freezes none"), 1);
        /* The fire is the deadline's, not a run by the agent. */
        assert_int_equal(tl_count_lines_with(log, ": thaw: run by "), 0);
        assert_int_equal(tl_count_lines_with(log, ": thaw: the freeze deadline, for a freeze run by Google guest "
                                                  "agent (gce)"), 1);
        text = status_text(f);
        assert_no_thaw_claimed(text);
        assert_int_equal(tl_count_lines_with(text, "Freeze deadline: fired at "), 1);
        assert_int_equal(tl_count_lines_with(text, "Google guest agent freezes none"), 1);
        json = status_json(f);
        assert_non_null(strstr(json, "\"fired\": true"));
        assert_non_null(strstr(json, "\"thawed_filesystems\": null"));
        assert_non_null(strstr(json, "\"caller\": \"gce\""));

        run_as(f, post, thaw_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        g_free(out);
        out = tl_read_file(f->tl->out);
        assert_int_equal(tl_count_lines_with(out, " thaw "), 1);
        g_free(log);
        log = tl_fx_read_log(f->tl);
        assert_no_thaw_claimed(log);
        assert_int_equal(tl_count_lines_with(log, "nothing is released twice"), 1);
}

/* A hook the fire cannot run (group-writable since the freeze: the trust
 * policy refuses it) stays held: the fire says so without claiming a thaw,
 * and the late post.sh releases it. */
static void test_google_fire_with_a_held_hook(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = google_link(f, "pre.sh"), *post = google_link(f, "post.sh");
        g_autofree char *hook = g_build_filename(f->tl->hooks, "10-a", NULL);
        g_autofree char *out = NULL, *log = NULL, *text = NULL;
        const char *freeze_args[] = { "--freeze-deadline=1", "", NULL };
        const char *thaw_args[] = { "", NULL };
        struct tl_run r;

        if (geteuid() != 0)
                skip();
        recording_hook(f, "10-a");
        freeze_probe(f);
        run_as(f, pre, freeze_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_int_equal(chmod(hook, 0775), 0);
        await_fired(f);

        assert_int_equal(thaw_probe(f), 0);
        log = tl_fx_read_log(f->tl);
        assert_no_thaw_claimed(log);
        assert_int_equal(tl_count_lines_with(log, "no thaw came from Google guest agent"), 1);
        assert_int_equal(tl_count_lines_with(log, "thawed no filesystem (Google guest agent freezes none); 1 hooks "
                                                  "could not be released and stay held for the next thaw"), 1);
        text = status_text(f);
        assert_no_thaw_claimed(text);
        assert_int_equal(tl_count_lines_with(text, "(Google guest agent freezes none); hooks are still held"), 1);

        assert_int_equal(chmod(hook, 0755), 0);
        run_as(f, post, thaw_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        out = tl_read_file(f->tl->out);
        assert_string_equal(out, "10-a freeze reason=unset caller=gce\n10-a thaw reason=thaw caller=gce\n");
        g_free(log);
        log = tl_fx_read_log(f->tl);
        assert_no_thaw_claimed(log);
        assert_int_equal(tl_count_lines_with(log, "but did not release every hook: this thaw releases the rest"), 1);
}

/* vmtoolsd froze the filesystems itself after our freeze and thaws them on
 * its own timer: the deadline releases the hooks and leaves its freeze
 * alone, naming whose thaw it is. */
static void test_vmware_fire_leaves_vmtoolsd_its_thaw(void **state) {
        struct fx *f = *state;
        g_autofree char *out = NULL, *log = NULL, *json = NULL;
        const char *freeze_args[] = { "--freeze-deadline=1", "--caller=vmware", "freeze", NULL };
        struct tl_run r;

        recording_hook(f, "10-a");
        freeze_probe(f);
        run_as(f, tl_binary(), freeze_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        await_fired(f);

        out = tl_read_file(f->tl->out);
        assert_string_equal(out, "10-a freeze reason=unset caller=vmware\n"
                                 "10-a thaw reason=deadline caller=vmware\n");
        assert_int_equal(thaw_probe(f), 0);
        log = tl_fx_read_log(f->tl);
        assert_no_thaw_claimed(log);
        assert_int_equal(tl_count_lines_with(log, "no thaw came from VMware Tools"), 1);
        assert_int_equal(tl_count_lines_with(log, "everything is thawed at"), 0);
        assert_int_equal(tl_count_lines_with(log, "released the hooks and thawed no filesystem: VMware Tools freezes "
                                                  "them itself and thaws them"), 1);
        json = status_json(f);
        assert_non_null(strstr(json, "\"thawed_filesystems\": null"));
        assert_non_null(strstr(json, "\"caller\": \"vmware\""));
}

/* Under qemu-ga the fire still thaws every filesystem: qemu-ga froze them
 * after our freeze returned, and may be gone. */
static void test_qemu_ga_fire_still_thaws(void **state) {
        struct fx *f = *state;
        g_autofree char *out = NULL, *log = NULL, *json = NULL, *text = NULL;
        const char *freeze_args[] = { "--freeze-deadline=1", "freeze", NULL };
        struct tl_run r;

        recording_hook(f, "10-a");
        freeze_probe(f);
        run_as(f, tl_binary(), freeze_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        await_fired(f);

        out = tl_read_file(f->tl->out);
        assert_string_equal(out, "10-a freeze reason=unset caller=qemu-ga\n"
                                 "10-a thaw reason=deadline caller=qemu-ga\n");
        /* Thawed by the fire: not frozen any more. */
        assert_int_equal(thaw_probe(f), -EINVAL);
        log = tl_fx_read_log(f->tl);
        assert_int_equal(tl_count_lines_with(log, "no thaw came: thawed 1 filesystems and released the hooks"), 1);
        text = status_text(f);
        assert_int_equal(tl_count_lines_with(text, "thawed 1 filesystems and released the hooks"), 1);
        json = status_json(f);
        assert_non_null(strstr(json, "\"thawed_filesystems\": 1"));
        assert_non_null(strstr(json, "\"caller\": \"qemu-ga\""));
}

/* A record written by a version that did not keep the caller is
 * qemu-ga's: its fire thaws, whoever runs it. The deadline is armed long,
 * its record rewritten without the caller, and the fire run by hand as the
 * timer would run it: under our own name with --caller (never under
 * pre.sh's, where the last argument is Google's disk list). */
static void test_record_without_caller_is_qemu_gas(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = google_link(f, "pre.sh"), *path = NULL, *fire = NULL, *id = NULL;
        g_autofree char *json = NULL, *text = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        const char *freeze_args[] = { "--freeze-deadline=3600", "", NULL };
        struct tl_run r;

        recording_hook(f, "10-a");
        run_as(f, pre, freeze_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        tl_disarm_deadline(f->tl->top);
        path = g_build_filename(f->tl->state, "deadline", NULL);
        assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL));
        (void) g_key_file_remove_key(kf, "deadline", "caller", NULL);
        assert_true(g_key_file_save_to_file(kf, path, NULL));
        id = g_key_file_get_string(kf, "deadline", "id", NULL);
        assert_non_null(id);

        freeze_probe(f);
        fire = g_strconcat("--deadline-fire=", id, NULL);
        run_as(f, tl_binary(), (const char *[]) { "--caller=gce", fire, NULL }, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_int_equal(thaw_probe(f), -EINVAL);
        text = status_text(f);
        assert_int_equal(tl_count_lines_with(text, "thawed 1 filesystems and released the hooks"), 1);
        json = status_json(f);
        assert_non_null(strstr(json, "\"caller\": \"qemu-ga\""));
        assert_non_null(strstr(json, "\"thawed_filesystems\": 1"));
}

/* qemu-ga froze (its deadline armed, thawing), and before its thaw came
 * another platform's agent ran our freeze: that freeze replaces the
 * deadline. The filesystems qemu-ga froze are still frozen (no thaw came:
 * a thaw would have disarmed qemu-ga's deadline), so the new deadline
 * must still thaw them; one that only released the hooks left the guest
 * frozen for good once qemu-ga's thaw never came. */
static void test_foreign_freeze_over_qemu_gas_still_thaws(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = google_link(f, "pre.sh"), *log = NULL, *json = NULL;
        const char *qga_args[] = { "--freeze-deadline=3600", "freeze", NULL };
        const char *gce_args[] = { "--freeze-deadline=1", "", NULL };
        struct tl_run r;

        recording_hook(f, "10-a");
        run_as(f, tl_binary(), qga_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        /* qemu-ga's FIFREEZE, after our freeze returned. */
        freeze_probe(f);
        run_as(f, pre, gce_args, &r);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        await_fired(f);

        assert_int_equal(thaw_probe(f), -EINVAL);
        log = tl_fx_read_log(f->tl);
        assert_int_equal(tl_count_lines_with(log, "no thaw came: thawed 1 filesystems and released the hooks"), 1);
        json = status_json(f);
        assert_non_null(strstr(json, "\"thawed_filesystems\": 1"));
}

/* The caller's time budget (budget.h) with a hook stuck in the kernel,
 * here writing to a frozen filesystem: SIGKILL does not end it, and the
 * dispatcher waits one more grace (at least 1 s) before it leaves it
 * behind. That wait must fit in the budget too: Google's agent SIGKILLs
 * pre.sh at timeout_in_seconds (3 s here), and a dispatcher killed then
 * records nothing (the hook stays "running") and reports no status. The
 * agent is played by the test: fork, exec, SIGKILL at 3 s. */
static void test_hook_stuck_in_kernel_ends_in_budget(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = google_link(f, "pre.sh"), *root = g_build_filename(f->tl->top, "root", NULL);
        g_autofree char *cfg_dir = g_build_filename(root, "etc", "default", NULL), *body = NULL;
        g_autofree char *root_opt = g_strconcat("--root=", root, NULL), *log = NULL;
        char *argv[] = { pre, f->tl->conf_opt, f->tl->state_opt, "--no-journal", "-d", f->tl->hooks, "-l",
                         f->tl->log, root_opt, "--freeze-deadline=0", "", NULL };
        gint64 limit;
        int status = 0;
        pid_t pid;
        bool killed = false;

        assert_int_equal(g_mkdir_with_parents(cfg_dir, 0755), 0);
        g_free(tl_write_file(cfg_dir, "instance_configs.cfg", "[Snapshots]\ntimeout_in_seconds = 3\n", 0644));
        body = g_strdup_printf("echo x > '%s/stuck'", f->mnt);
        g_free(tl_write_hook(f->tl->hooks, "10-stuck", body));
        freeze_probe(f);
        limit = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                execv(pre, argv);
                _exit(127);
        }
        while (waitpid(pid, &status, WNOHANG) == 0) {
                if (g_get_monotonic_time() >= limit) {
                        killed = true;
                        (void) kill(pid, SIGKILL);
                        assert_int_equal(waitpid(pid, &status, 0), pid);
                        break;
                }
                g_usleep(10000);
        }
        assert_false(killed);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        log = tl_fx_read_log(f->tl);
        assert_non_null(strstr(log, "10-stuck"));
}

/* The namespace, before anything runs: see the SAFETY note above. */
static int enter_private_mount_namespace(void) {
        if (geteuid() != 0) {
                printf("SKIP: needs root (a mount namespace, a loop device)\n");
                return TEST_SKIP;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
                printf("SKIP: no private mount namespace: %s\n", g_strerror(errno));
                return TEST_SKIP;
        }
        if (tool((char *[]) { "mkfs.ext4", "-V", NULL }) != 0) {
                printf("SKIP: mkfs.ext4 is not installed (apt-get install e2fsprogs)\n");
                return TEST_SKIP;
        }
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_google_fire_releases_hooks_and_thaws_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_google_fire_with_a_held_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vmware_fire_leaves_vmtoolsd_its_thaw, setup, teardown),
                cmocka_unit_test_setup_teardown(test_qemu_ga_fire_still_thaws, setup, teardown),
                cmocka_unit_test_setup_teardown(test_record_without_caller_is_qemu_gas, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreign_freeze_over_qemu_gas_still_thaws, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hook_stuck_in_kernel_ends_in_budget, setup, teardown),
        };
        int r = enter_private_mount_namespace();

        if (r != 0)
                return r;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
