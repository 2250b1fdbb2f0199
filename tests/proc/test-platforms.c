/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Issue 13, part 1: the quiesce scripts a VM brought from another platform
 * run under qemu-ga (platform-scripts=), each called as its own agent calls
 * it. The facts come from the agents' source, as tests/platform-sources.md
 * cites them:
 * - VMware: open-vm-tools services/plugins/vmbackup/scriptOps.c:49-55
 *   (/usr/sbin/pre-freeze-script, post-thaw-script), :89-103 and
 *   lib/guestApp/guestApp.c:64-69 (/etc/vmware-tools/backupScripts.d),
 *   :476-538 (legacy slot 0 first, then the directory in strcmp order),
 *   :136-154 (thaw and freezeFail walk it backwards from the last started),
 *   :139-166 (argv: path, freeze|thaw|freezeFail, no scriptArg when empty
 *   since 12.3.5), stateMachine.c:476-481 and scriptOps.c:142-145
 *   (freezeFail to the scripts before the failing one only);
 *   lib/procMgr/procMgrPosix.c:1694-1757 (bash -c, so a file without #!
 *   runs as a bash script);
 * - Nutanix: Commvault's and Nutanix Community's documentation (no source):
 *   /usr/local/sbin/pre_freeze, post_thaw; no argument (assumed);
 * - GCE: GoogleCloudPlatform/guest-agent google_guest_agent/
 *   snapshot_listener.go:41-44, 116-139: /etc/google/snapshots/pre.sh and
 *   post.sh, exactly one argument, the disk list (empty: qemu-ga has none);
 * - Azure: azure-linux-extensions VMBackup/main/ScriptRunner.py:76-117,
 *   204-209: `sh SCRIPT PARAMS...` from VMSnapshotScriptPluginConfig.json.
 * Every platform path is placed under --root=DIR. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

static void require_root(void) {
        if (geteuid() != 0)
                skip();         /* the trust policy wants root-owned platform directories */
}

/* top/root/PATH's directory, created (0755, ours). */
static char *rooted_dir(struct tl_fx *f, const char *dir) {
        char *p = g_build_filename(f->top, "root", dir, NULL);

        assert_int_equal(g_mkdir_with_parents(p, 0755), 0);
        return p;
}

/* The shell that appends "LABEL [arg]... reason=R" to f->out, then runs
 * 'extra': $0 is not the path (scripts run from the checked descriptor). */
static char *recording_body(struct tl_fx *f, const char *label, const char *extra) {
        return g_strdup_printf(
                "{ printf '%%s' '%s'; for a in \"$@\"; do printf ' [%%s]' \"$a\"; done\n"
                "  printf ' reason=%%s\\n' \"${FSFREEZE_THAW_REASON-}\"; } >> '%s'\n%s",
                label, f->out, extra ? extra : "");
}

/* A recording script at top/root/DIR/NAME. */
static char *recording_script(struct tl_fx *f, const char *dir, const char *name, const char *label,
                              const char *extra) {
        g_autofree char *d = rooted_dir(f, dir);
        g_autofree char *body = recording_body(f, label, extra);
        g_autofree char *script = g_strconcat("#!/bin/sh\n", body, NULL);

        return tl_write_file(d, name, script, 0755);
}

static char *root_opt(struct tl_fx *f) {
        return g_strdup_printf("--root=%s/root", f->top);
}

static char *out_text(struct tl_fx *f) {
        char *t = tl_read_file(f->out);

        return t ? t : g_strdup("");
}

/* What the hooks and scripts recorded is exactly 'want'. */
static void assert_out(struct tl_fx *f, const char *want) {
        g_autofree char *out = out_text(f);

        assert_string_equal(out, want);
}

/* Our own hook, recording like the scripts. */
static void our_hook(struct tl_fx *f, const char *name, const char *extra) {
        g_autofree char *body = recording_body(f, name, extra);
        g_autofree char *p = tl_write_hook(f->hooks, name, body);
}

/* Status that run_phase() does not check. */
#define ANY_STATUS (-1)

/* Runs 'phase' under --root with --platform-scripts=PLATFORMS and 'extra'
 * (each NULL: not given), a freeze without its deadline process; asserts
 * the exit status unless it is ANY_STATUS. */
static void run_phase(struct tl_fx *f, const char *phase, const char *platforms, const char *extra, int status) {
        g_autofree char *root = root_opt(f);
        g_autofree char *popt = platforms ? g_strconcat("--platform-scripts=", platforms, NULL) : NULL;
        const char *opt[4] = { NULL };
        size_t n = 0;
        struct tl_run r;

        if (popt)
                opt[n++] = popt;
        if (extra)
                opt[n++] = extra;
        if (g_str_equal(phase, "freeze"))
                opt[n++] = "--freeze-deadline=0";
        tl_fx_run(f, &r, NULL, phase, root, opt[0], opt[1], opt[2], NULL);
        if (status != ANY_STATUS)
                assert_int_equal(r.status, status);
        tl_run_clear(&r);
}

static void vmware_nutanix_gce(struct tl_fx *f) {
        g_free(recording_script(f, "usr/sbin", "pre-freeze-script", "vmware-pre", NULL));
        g_free(recording_script(f, "usr/sbin", "post-thaw-script", "vmware-post", NULL));
        /* Byte order, not the locale's: "B" before "a". */
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "a", "bsd-a", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "B", "bsd-B", NULL));
        g_free(recording_script(f, "usr/local/sbin", "pre_freeze", "nutanix-pre", NULL));
        g_free(recording_script(f, "usr/local/sbin", "post_thaw", "nutanix-post", NULL));
        g_free(recording_script(f, "etc/google/snapshots", "pre.sh", "gce-pre", NULL));
        g_free(recording_script(f, "etc/google/snapshots", "post.sh", "gce-post", NULL));
}

/* The platforms' order and argv; thaw is the exact reverse, our hook
 * directory innermost (next to the freeze). */
static void test_order_and_argv(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;

        require_root();
        vmware_nutanix_gce(f);
        our_hook(f, "10-ours", NULL);
        run_phase(f, "freeze", "vmware,nutanix,gce", NULL, 0);
        run_phase(f, "thaw", "vmware,nutanix,gce", NULL, 0);
        assert_out(f, "vmware-pre [freeze] reason=\n"
                      "bsd-B [freeze] reason=\n"
                      "bsd-a [freeze] reason=\n"
                      "nutanix-pre reason=\n"
                      "gce-pre [] reason=\n"
                      "10-ours [freeze] reason=\n"
                      "10-ours [thaw] reason=thaw\n"
                      "gce-post [] reason=thaw\n"
                      "nutanix-post reason=thaw\n"
                      "bsd-a [thaw] reason=thaw\n"
                      "bsd-B [thaw] reason=thaw\n"
                      "vmware-post [thaw] reason=thaw\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/etc/google/snapshots/pre.sh ''"), 1);
        assert_int_equal(tl_count_lines_with(log, "/usr/local/sbin/post_thaw (no argument)"), 1);
}

/* Off by default: present scripts are listed, with what enables them,
 * and not run; a freeze says so once. */
static void test_present_but_not_enabled(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *log = NULL;
        struct tl_run r;

        require_root();
        vmware_nutanix_gce(f);
        our_hook(f, "10-ours", NULL);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--dry-run", "freeze", NULL);
        assert_int_equal(r.status, 0);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=vmware"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=nutanix"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=gce"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=azure"), 0);
        tl_run_clear(&r);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--platform-scripts=gce", "--check", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=vmware"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "platform-scripts=gce"), 0);
        tl_run_clear(&r);
        run_phase(f, "freeze", NULL, NULL, ANY_STATUS);
        assert_out(f, "10-ours [freeze] reason=\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "present but not run"), 1);
        assert_int_equal(tl_count_lines_with(log, "VMware Tools"), 1);
}

/* vmtoolsd: a failing freeze script stops the freeze, and freezeFail goes
 * to the scripts before it, in reverse; the failing one is not called
 * again, and our own hooks keep "thaw". Here our hook fails last. */
static void test_freezefail_under_abort(void **state) {
        struct tl_fx *f = *state;

        require_root();
        g_free(recording_script(f, "usr/sbin", "pre-freeze-script", "vmware-pre", NULL));
        g_free(recording_script(f, "usr/sbin", "post-thaw-script", "vmware-post", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "a", "bsd-a", NULL));
        our_hook(f, "10-ours", NULL);
        our_hook(f, "20-fails", "[ \"$1\" = freeze ] && exit 3\nexit 0\n");
        run_phase(f, "freeze", "vmware", "--on-failure=abort", 1);
        assert_out(f, "vmware-pre [freeze] reason=\n"
                      "bsd-a [freeze] reason=\n"
                      "10-ours [freeze] reason=\n"
                      "20-fails [freeze] reason=\n"
                      "20-fails [thaw] reason=abort\n"
                      "10-ours [thaw] reason=abort\n"
                      "bsd-a [freezeFail] reason=abort\n"
                      "vmware-post [freezeFail] reason=abort\n");
}

/* The failing one is a backupScripts.d script: it is not called again;
 * only what froze before it gets freezeFail; nothing after it runs. */
static void test_freezefail_skips_the_failing_script(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *log = NULL, *want = NULL;

        require_root();
        g_free(recording_script(f, "usr/sbin", "pre-freeze-script", "vmware-pre", NULL));
        g_free(recording_script(f, "usr/sbin", "post-thaw-script", "vmware-post", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "a", "bsd-a", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "b", "bsd-b", "exit 1\n"));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "c", "bsd-c", NULL));
        our_hook(f, "10-ours", NULL);
        run_phase(f, "freeze", "vmware", "--on-failure=abort", 1);
        assert_out(f, "vmware-pre [freeze] reason=\n"
                      "bsd-a [freeze] reason=\n"
                      "bsd-b [freeze] reason=\n"
                      "bsd-a [freezeFail] reason=abort\n"
                      "vmware-post [freezeFail] reason=abort\n");
        /* The log says what each got. */
        log = tl_fx_read_log(f);
        want = g_strdup_printf("execute %s/root/usr/sbin/post-thaw-script freezeFail", f->top);
        assert_int_equal(tl_count_lines_with(log, want), 1);
}

/* The trust policy: a user's script is named and never run. */
static void test_user_owned_script_refused(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL, *evil = NULL;

        require_root();
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "a", "bsd-a", NULL));
        evil = recording_script(f, "etc/vmware-tools/backupScripts.d", "b", "bsd-b", NULL);
        assert_int_equal(chown(evil, 65534, 65534), 0);
        run_phase(f, "freeze", "vmware", NULL, 0);
        assert_out(f, "bsd-a [freeze] reason=\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "backupScripts.d/b not run: refused: "), 1);
}

/* vmtoolsd runs `bash -c '"PATH" freeze'`: a file without #! is run by
 * bash as a shell script (bash's ENOEXEC fallback). The same here. */
static void test_vmware_script_without_shebang(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *d = NULL, *body = NULL, *log = NULL;

        require_root();
        d = rooted_dir(f, "etc/vmware-tools/backupScripts.d");
        body = g_strdup_printf("echo \"plain [$1]\" >> '%s'\n", f->out);
        g_free(tl_write_file(d, "plain", body, 0755));
        run_phase(f, "freeze", "vmware", NULL, 0);
        assert_out(f, "plain [freeze]\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "(read by bash)"), 1);
}

/* Without bash, vmtoolsd falls back to sh (procMgrPosix.c:1694-1757), and
 * so do we: the log names the shell that read the script. /bin/bash is
 * hidden behind a file without x bit in a private mount namespace. */
static void test_vmware_script_without_bash(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *body = NULL, *log = NULL, *cover = NULL;
        struct tl_run r;

        require_root();
        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
                skip();
                return;
        }
        cover = tl_write_file(f->top, "no-bash", "", 0644);
        assert_int_equal(mount(cover, "/bin/bash", "none", MS_BIND, NULL), 0);
        d = rooted_dir(f, "etc/vmware-tools/backupScripts.d");
        body = g_strdup_printf("echo \"plain [$1]\" >> '%s'\n", f->out);
        g_free(tl_write_file(d, "plain", body, 0755));
        tl_fx_run(f, &r, NULL, "freeze", root, "--platform-scripts=vmware", "--freeze-deadline=0", NULL);
        assert_int_equal(umount("/bin/bash"), 0);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_out(f, "plain [freeze]\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "(read by sh)"), 1);
        assert_int_equal(tl_count_lines_with(log, "(read by bash)"), 0);
}

/* Never recurse: our own entry points among their scripts are skipped. */
static void test_own_entry_points_skipped(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *link = NULL, *wrapper = NULL;
        struct tl_run r;

        require_root();
        d = rooted_dir(f, "etc/vmware-tools/backupScripts.d");
        link = g_build_filename(d, "fsfreeze-hook", NULL);
        assert_int_equal(symlink(tl_binary(), link), 0);
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "other", "bsd-other", NULL));
        d = (g_free(d), rooted_dir(f, "usr/local/sbin"));
        wrapper = g_strdup_printf("#!/bin/sh\n# fsfreeze-hook --attach=nutanix: remove with fsfreeze-hook "
                                  "--detach=nutanix\necho nutanix-wrapper >> '%s'\n", f->out);
        g_free(tl_write_file(d, "pre_freeze", wrapper, 0700));
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--platform-scripts=all", "--dry-run",
                    "freeze", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "fsfreeze-hook's own entry point"), 2);
        tl_run_clear(&r);
        run_phase(f, "freeze", "all", NULL, 0);
        assert_out(f, "bsd-other [freeze] reason=\n");
}

/* A link to another installation's fsfreeze-hook (meson install's
 * /usr/local/sbin where the package has /usr/sbin) is an entry point of
 * ours too (--attach's rule): running it would run the hooks again. */
static void test_other_installation_link_skipped(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *other = NULL, *link = NULL;
        struct tl_run r;

        require_root();
        other = recording_script(f, "opt/other/sbin", "fsfreeze-hook", "other-install", NULL);
        d = rooted_dir(f, "etc/vmware-tools/backupScripts.d");
        link = g_build_filename(d, "fsfreeze-hook", NULL);
        assert_int_equal(symlink(other, link), 0);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--platform-scripts=vmware", "--dry-run",
                    "freeze", NULL);
        assert_int_equal(tl_count_lines_with(r.out, "fsfreeze-hook's own entry point"), 1);
        tl_run_clear(&r);
        run_phase(f, "freeze", "vmware", NULL, 0);
        assert_out(f, "");
}

/* Azure's one pair from its JSON, run as `sh SCRIPT PARAMS...`
 * (ScriptRunner.py:204-209: the shebang and the x bit are ignored; the
 * params are the JSON's lists of strings), after Google's at freeze. */
static void test_azure_json_params(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *d = NULL, *pre = NULL, *post = NULL, *log = NULL;

        require_root();
        g_free(recording_script(f, "etc/google/snapshots", "pre.sh", "gce-pre", NULL));
        pre = recording_script(f, "etc/azure", "pre.sh", "azure-pre", NULL);
        post = recording_script(f, "etc/azure", "post.sh", "azure-post", NULL);
        assert_int_equal(chmod(pre, 0600), 0);          /* Azure's agent does not need x */
        d = rooted_dir(f, "etc/azure");
        g_free(tl_write_file(d, "VMSnapshotScriptPluginConfig.json",
                             "{\n  \"pluginName\": \"ScriptRunner\",\n"
                             "  \"preScriptLocation\": \"/etc/azure/pre.sh\",\n"
                             "  \"postScriptLocation\": \"/etc/azure/post.sh\",\n"
                             "  \"preScriptParams\": [\"a b\", \"\"],\n"
                             "  \"postScriptParams\": [\"x\"],\n"
                             "  \"timeoutInSeconds\": 30\n}\n", 0600));
        our_hook(f, "10-ours", NULL);
        run_phase(f, "freeze", "gce,azure", NULL, ANY_STATUS);
        run_phase(f, "thaw", "gce,azure", NULL, ANY_STATUS);
        assert_out(f, "gce-pre [] reason=\n"
                      "azure-pre [a b] [] reason=\n"
                      "10-ours [freeze] reason=\n"
                      "10-ours [thaw] reason=thaw\n"
                      "azure-post [x] reason=thaw\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "/etc/azure/pre.sh a b '' (read by sh)"), 1);
}

/* A JSON whose "pluginName" is ours but whose scripts are somebody's
 * (ours edited, or a migrated VM's that says so): their scripts run. Only
 * our wrappers are our own entry point. */
static void test_azure_our_name_their_scripts(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *d = NULL;

        require_root();
        g_free(recording_script(f, "etc/azure", "pre.sh", "azure-pre", NULL));
        d = rooted_dir(f, "etc/azure");
        g_free(tl_write_file(d, "VMSnapshotScriptPluginConfig.json",
                             "{\"pluginName\": \"fsfreeze-hook\", \"preScriptLocation\": \"/etc/azure/pre.sh\", "
                             "\"postScriptLocation\": \"/etc/azure/post.sh\"}\n", 0600));
        run_phase(f, "freeze", "azure", NULL, 0);
        assert_out(f, "azure-pre reason=\n");
}

/* A JSON that does not parse is named with its reason (line, column),
 * and the rest runs. */
static void test_azure_broken_json(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *log = NULL, *want = NULL;
        struct tl_run r;

        require_root();
        g_free(recording_script(f, "etc/azure", "pre.sh", "azure-pre", NULL));
        d = rooted_dir(f, "etc/azure");
        g_free(tl_write_file(d, "VMSnapshotScriptPluginConfig.json",
                             "{\n  \"preScriptLocation\": \"/etc/azure/pre.sh\",\n}\n", 0600));
        our_hook(f, "10-ours", NULL);
        run_phase(f, "freeze", "azure", NULL, 0);
        assert_out(f, "10-ours [freeze] reason=\n");
        log = tl_fx_read_log(f);
        want = g_strdup_printf("skip %s/VMSnapshotScriptPluginConfig.json: line 3, column 1: ", d);
        assert_int_equal(tl_count_lines_with(log, want), 1);
        g_free(want);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--platform-scripts=azure", "--check", NULL);
        assert_int_equal(r.status, 1);
        want = g_strdup_printf("%s/VMSnapshotScriptPluginConfig.json: will be skipped: line 3, column 1: ", d);
        assert_int_equal(tl_count_lines_with(r.out, want), 1);
        tl_run_clear(&r);
}

/* A pair with one side missing runs the side that exists: only
 * post-thaw-script here, which the thaw (paired with a freeze that ran
 * nothing for it) and an abort's release both reach. */
static void test_pair_with_one_side(void **state) {
        struct tl_fx *f = *state;

        require_root();
        g_free(recording_script(f, "usr/sbin", "post-thaw-script", "vmware-post", NULL));
        our_hook(f, "10-ours", NULL);
        run_phase(f, "freeze", "vmware", NULL, ANY_STATUS);
        run_phase(f, "thaw", "vmware", NULL, ANY_STATUS);
        our_hook(f, "20-fails", "[ \"$1\" = freeze ] && exit 3\nexit 0\n");
        run_phase(f, "freeze", "vmware", "--on-failure=abort", 1);
        assert_out(f, "10-ours [freeze] reason=\n"
                      "10-ours [thaw] reason=thaw\n"
                      "vmware-post [thaw] reason=thaw\n"
                      "10-ours [freeze] reason=\n"
                      "20-fails [freeze] reason=\n"
                      "20-fails [thaw] reason=abort\n"
                      "10-ours [thaw] reason=abort\n"
                      "vmware-post [freezeFail] reason=abort\n");
}

/* A backupScripts.d script removed between freeze and thaw: the thaw
 * says so, releases it, and runs the others. */
static void test_script_gone_before_thaw(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *log = NULL, *gone = NULL, *want = NULL;
        struct tl_run r;

        require_root();
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "a", "bsd-a", NULL));
        gone = recording_script(f, "etc/vmware-tools/backupScripts.d", "b", "bsd-b", NULL);
        run_phase(f, "freeze", "vmware", NULL, ANY_STATUS);
        assert_int_equal(unlink(gone), 0);
        run_phase(f, "thaw", "vmware", NULL, ANY_STATUS);
        assert_out(f, "bsd-a [freeze] reason=\nbsd-b [freeze] reason=\nbsd-a [thaw] reason=thaw\n");
        log = tl_fx_read_log(f);
        want = g_strdup_printf("skip %s: ran freeze but is gone: cannot thaw it", gone);
        assert_int_equal(tl_count_lines_with(log, want), 1);
        tl_run_hook(&r, f->conf_opt, f->state_opt, root, "--status", NULL);
        assert_non_null(strstr(r.out, "Awaiting thaw: no"));
        tl_run_clear(&r);
}

/* A hook of our own whose name looks like an entry ("vmware:x") is ours
 * at the thaw: its recorded path is in a hook directory. */
static void test_hook_named_like_an_entry(void **state) {
        struct tl_fx *f = *state;

        require_root();
        our_hook(f, "vmware:x", NULL);
        run_phase(f, "freeze", "vmware", NULL, ANY_STATUS);
        run_phase(f, "thaw", "vmware", NULL, ANY_STATUS);
        assert_out(f, "vmware:x [freeze] reason=\nvmware:x [thaw] reason=thaw\n");
}

/* The same, with the hook directory spelt with a trailing slash (as in
 * hook-dirs=/etc/qemu/fsfreeze-hook.d/): still ours at the thaw, whatever
 * platform-scripts= says. */
static void test_hook_named_like_an_entry_dir_with_slash(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *slash = g_strconcat(f->hooks, "/", NULL);
        struct tl_run r;

        require_root();
        our_hook(f, "gce:x", NULL);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "--no-journal", "-d", slash, "-l", f->log, root,
                    "--freeze-deadline=0", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "--no-journal", "-d", slash, "-l", f->log, root, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_out(f, "gce:x [freeze] reason=\ngce:x [thaw] reason=thaw\n");
}

/* The freeze record pairs by name: two entries of one name (a
 * backupScripts.d file named "legacy" beside the legacy scripts, a hook of
 * ours named "vmware:x" beside backupScripts.d/x) would share one record,
 * and the second, which froze, would never be thawed. Only the first of a
 * name runs; the other says why, at every run. */
static void test_same_name_twice(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *log = NULL;
        struct tl_run r;

        require_root();
        g_free(recording_script(f, "usr/sbin", "pre-freeze-script", "vmware-pre", NULL));
        g_free(recording_script(f, "usr/sbin", "post-thaw-script", "vmware-post", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "legacy", "bsd-legacy", NULL));
        g_free(recording_script(f, "etc/vmware-tools/backupScripts.d", "x", "bsd-x", NULL));
        our_hook(f, "vmware:x", NULL);
        run_phase(f, "freeze", "vmware", NULL, 0);
        run_phase(f, "thaw", "vmware", NULL, 0);
        /* Whatever froze is thawed: nothing held, nothing thawed twice. */
        assert_out(f, "vmware-pre [freeze] reason=\n"
                      "bsd-x [freeze] reason=\n"
                      "bsd-x [thaw] reason=thaw\n"
                      "vmware-post [thaw] reason=thaw\n");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "backupScripts.d/legacy: its name vmware:legacy is also "), 1);
        assert_int_equal(tl_count_lines_with(log, "/vmware:x: its name vmware:x is also "), 1);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "--status", NULL);
        assert_non_null(strstr(r.out, "Awaiting thaw: no"));
        tl_run_clear(&r);
}

/* A user's Azure JSON could name any script: refused, named, nothing of
 * it runs. */
static void test_azure_user_json_refused(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *json = NULL, *log = NULL;

        require_root();
        g_free(recording_script(f, "etc/azure", "pre.sh", "azure-pre", NULL));
        d = rooted_dir(f, "etc/azure");
        json = tl_write_file(d, "VMSnapshotScriptPluginConfig.json",
                             "{\"preScriptLocation\": \"/etc/azure/pre.sh\", "
                             "\"postScriptLocation\": \"/etc/azure/pre.sh\"}\n", 0600);
        assert_int_equal(chown(json, 65534, 65534), 0);
        run_phase(f, "freeze", "azure", NULL, 0);
        assert_out(f, "");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "VMSnapshotScriptPluginConfig.json not run: refused: "), 1);
        assert_int_equal(tl_count_lines_with(log, "is owned by uid 65534, not by root"), 1);
}

/* Opens of 'path' (inotify's IN_OPEN, queued within open() itself, so
 * complete when the run has exited); O_PATH opens none. */
static int watch_opens(const char *path) {
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

        assert_true(fd >= 0);
        assert_true(inotify_add_watch(fd, path, IN_OPEN) >= 0);
        return fd;
}

static bool was_opened(int fd) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        return read(fd, buf, sizeof buf) > 0;
}

/* Azure's JSON as a FIFO (a device node in an image, a symlink to
 * /dev/watchdog on a migrated VM): root opens nothing that is not a
 * regular file, whether platform-scripts= enables Azure or not (the
 * listing of what is present reads the JSON too), and says what it is. */
static void test_azure_json_not_a_file_never_opened(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *d = NULL, *json = NULL, *log = NULL, *want = NULL;
        struct tl_run r;
        int watch;

        require_root();
        d = rooted_dir(f, "etc/azure");
        json = g_build_filename(d, "VMSnapshotScriptPluginConfig.json", NULL);
        assert_int_equal(mkfifo(json, 0600), 0);
        our_hook(f, "10-ours", NULL);
        watch = watch_opens(json);
        run_phase(f, "freeze", NULL, NULL, 0);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--dry-run", "thaw", NULL);
        tl_run_clear(&r);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--check", NULL);
        tl_run_clear(&r);
        run_phase(f, "thaw", NULL, NULL, ANY_STATUS);
        assert_false(was_opened(watch));
        run_phase(f, "freeze", "azure", NULL, 0);
        assert_false(was_opened(watch));
        close(watch);
        log = tl_fx_read_log(f);
        want = g_strdup_printf("skip %s: not a regular file", json);
        assert_int_equal(tl_count_lines_with(log, want), 1);
}

/* vmtoolsd runs every regular file of backupScripts.d, x bit or not
 * (scriptOps.c:476-532), and bash's 126 fails the freeze: here too it is
 * tried and fails, named, rather than silently skipped. */
static void test_vmware_file_without_x_bit_fails(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *log = NULL, *plain = NULL;
        struct tl_run r;

        require_root();
        plain = recording_script(f, "etc/vmware-tools/backupScripts.d", "README", "readme", NULL);
        assert_int_equal(chmod(plain, 0644), 0);
        run_phase(f, "freeze", "vmware", NULL, 0);
        assert_out(f, "");
        log = tl_fx_read_log(f);
        assert_int_equal(tl_count_lines_with(log, "backupScripts.d/README not run: not executable (vmtoolsd's bash would fail it too)"), 1);
        assert_int_equal(tl_count_lines_with(log, ": 1 run, 1 failed"), 1);
        /* --dry-run and --check say what it is, not just EACCES. */
        tl_fx_run(f, &r, NULL, "--dry-run", "freeze", root, "--platform-scripts=vmware", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "vmware:README: not executable (vmtoolsd's bash would fail it too)"));
        tl_run_clear(&r);
        tl_fx_run(f, &r, NULL, "--check", root, "--platform-scripts=vmware", NULL);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.out, "backupScripts.d/README: not executable (vmtoolsd's bash would fail it too)"));
        tl_run_clear(&r);
}

/* The setting: an unknown name is a warning naming the option or file,
 * the rest is kept. */
static void test_unknown_platform_name(void **state) {
        struct tl_fx *f = *state;
        g_autofree char *root = root_opt(f), *conf = NULL, *want = NULL;
        struct tl_run r;

        require_root();
        g_free(recording_script(f, "etc/google/snapshots", "pre.sh", "gce-pre", NULL));
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--platform-scripts=vmwre,gce",
                    "--dry-run", "freeze", NULL);
        assert_non_null(strstr(r.err, "--platform-scripts: unknown platform 'vmwre'"));
        assert_int_equal(tl_count_lines_with(r.out, "run   gce:scripts"), 1);
        tl_run_clear(&r);
        conf = tl_write_file(f->top, "conf", "[fsfreeze-hook]\nplatform-scripts=gce;bogus\n", 0644);
        tl_run_hook(&r, f->conf_opt, f->state_opt, "-d", f->hooks, root, "--dry-run", "freeze", NULL);
        want = g_strdup_printf("%s:2: key 'platform-scripts' in [fsfreeze-hook]: unknown platform 'bogus'", conf);
        assert_non_null(strstr(r.err, want));
        assert_int_equal(tl_count_lines_with(r.out, "run   gce:scripts"), 1);
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_order_and_argv, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_present_but_not_enabled, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_freezefail_under_abort, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_freezefail_skips_the_failing_script, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_user_owned_script_refused, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_vmware_script_without_shebang, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_own_entry_points_skipped, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_unknown_platform_name, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_azure_json_params, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_azure_broken_json, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_azure_our_name_their_scripts, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_pair_with_one_side, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_hook_named_like_an_entry, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_same_name_twice, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_hook_named_like_an_entry_dir_with_slash, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_script_gone_before_thaw, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_azure_user_json_refused, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_azure_json_not_a_file_never_opened, tl_fx_setup,
                                                tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_vmware_file_without_x_bit_fails, tl_fx_setup, tl_fx_teardown),
                cmocka_unit_test_setup_teardown(test_other_installation_link_skipped, tl_fx_setup,
                                                tl_fx_teardown),
                /* Last: it leaves this process in its own mount namespace. */
                cmocka_unit_test_setup_teardown(test_vmware_script_without_bash, tl_fx_setup, tl_fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
