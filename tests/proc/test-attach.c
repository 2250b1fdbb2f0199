/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --attach and --detach (issue 13, part 2): the real binary installs and
 * removes each platform's entry point in a temporary --root tree, as it
 * would in an image being built. Where each agent looks, and why each
 * entry point has its form, is in tests/platform-sources.md (cited per
 * test): open-vm-tools scriptOps.c (backupScripts.d, any file bash can
 * run), GoogleCloudPlatform/guest-agent snapshot_listener.go (pre.sh,
 * post.sh executed directly, directory created 0700), Nutanix's
 * documentation (root-owned 0700 files, no CR), Azure's
 * azure-linux-extensions VMBackup ScriptRunner.py/PluginHost.py (one pre
 * and one post script named by a JSON file, run with sh). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "defaults.h"
#include "json.h"
#include "testlib.h"

#define INSTALLED PROGRAM_DIR "/fsfreeze-hook"

struct fx {
        char *top;      /* the --root tree */
        char *root_opt;
        char *state_opt;
};

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);

        f->top = tl_mkdtemp();
        f->root_opt = g_strdup_printf("--root=%s", f->top);
        f->state_opt = g_strdup_printf("--state-dir=%s/run-state", f->top);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->root_opt);
        g_free(f->state_opt);
        g_free(f);
        return 0;
}

/* The binary with --root=TOP and one command ("--attach=gce", ...). */
static void cmd(struct fx *f, struct tl_run *r, const char *command) {
        char *argv[] = { (char *) tl_binary(), "--config=/dev/null", f->state_opt, f->root_opt, (char *) command,
                         NULL };

        tl_run(argv, NULL, 60000, r);
}

/* --check on an empty hook directory: only the platforms to report. */
static void check(struct fx *f, struct tl_run *r) {
        g_autofree char *hooks = g_build_filename(f->top, "hooks", NULL);
        char *argv[] = { (char *) tl_binary(), "--config=/dev/null", f->state_opt, f->root_opt, "-d", hooks, "--check",
                         NULL };

        g_mkdir(hooks, 0755);
        tl_run(argv, NULL, 60000, r);
}

static char *in_root(struct fx *f, const char *path) {
        return g_build_filename(f->top, path, NULL);
}

static char *link_target(struct fx *f, const char *path) {
        g_autofree char *p = in_root(f, path);

        return g_file_read_link(p, NULL);
}

static bool exists(struct fx *f, const char *path) {
        g_autofree char *p = in_root(f, path);
        struct stat st;

        return lstat(p, &st) == 0;
}

static mode_t mode_of(struct fx *f, const char *path) {
        g_autofree char *p = in_root(f, path);
        struct stat st;

        assert_int_equal(lstat(p, &st), 0);
        return st.st_mode & 07777;
}

/* Creates the directories of 'path' under the root and writes it. */
static void plant(struct fx *f, const char *path, const char *content, mode_t mode) {
        g_autofree char *p = in_root(f, path), *dir = g_path_get_dirname(p), *base = g_path_get_basename(p);

        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        g_free(tl_write_file(dir, base, content, mode));
}

static void plant_link(struct fx *f, const char *path, const char *target) {
        g_autofree char *p = in_root(f, path), *dir = g_path_get_dirname(p);

        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        assert_int_equal(symlink(target, p), 0);
}

static char *read_in_root(struct fx *f, const char *path) {
        g_autofree char *p = in_root(f, path);

        return tl_read_file(p);
}

/* VMware: a symlink in backupScripts.d to the installed binary (vmtoolsd
 * stat()s entries, so a symlink counts, and bash execs it: scriptOps.c
 * 476-532, lib/file/filePosix.c:294-300). Idempotent both ways; --status
 * shows it. */
static void test_vmware(void **state) {
        struct fx *f = *state;
        const char *link = "/etc/vmware-tools/backupScripts.d/fsfreeze-hook";
        g_autofree char *target = NULL;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 0);
        target = link_target(f, link);
        assert_non_null(target);
        assert_string_equal(target, INSTALLED);
        assert_non_null(strstr(r.out, "backupScripts.d/fsfreeze-hook"));
        tl_run_clear(&r);

        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);

        cmd(f, &r, "--status");
        assert_non_null(strstr(r.out, "vmware: attached"));
        assert_non_null(strstr(r.out, "agent not installed"));
        tl_run_clear(&r);
        check(f, &r);
        assert_int_equal(r.status, 0);
        assert_int_equal(tl_count_lines_with(r.out, "platform vmware: attached; agent not installed"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "platform gce: not attached; agent not installed"), 1);
        tl_run_clear(&r);

        cmd(f, &r, "--detach=vmware");
        assert_int_equal(r.status, 0);
        assert_false(exists(f, link));
        tl_run_clear(&r);
        cmd(f, &r, "--detach=vmware");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "not attached"));
        tl_run_clear(&r);
}

/* GCE: symlinks pre.sh and post.sh (executed directly after os.Stat, no
 * mode check: snapshot_listener.go:41-66); the directory created 0700,
 * as the agent creates it (snapshot_listener.go:186-191). */
static void test_gce(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *post = NULL, *post_path = NULL, *fix = NULL, *fix_installed = NULL;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 0);
        pre = link_target(f, "/etc/google/snapshots/pre.sh");
        post = link_target(f, "/etc/google/snapshots/post.sh");
        assert_non_null(pre);
        assert_non_null(post);
        assert_string_equal(pre, INSTALLED);
        assert_string_equal(post, INSTALLED);
        assert_int_equal(mode_of(f, "/etc/google/snapshots"), 0700);
        tl_run_clear(&r);
        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);
        /* One of the pair gone: --check says how to repair it; the agent
         * installed (its binary in the image), --status says so. */
        post_path = in_root(f, "/etc/google/snapshots/post.sh");
        assert_int_equal(unlink(post_path), 0);
        plant(f, "/usr/bin/google_guest_agent", "", 0755);
        check(f, &r);
        assert_int_equal(r.status, 1);
        /* The advice acts on the image, not on the running system. */
        fix = g_strdup_printf("gce: partly attached (fix: fsfreeze-hook --root='%s' --attach=gce)", f->top);
        assert_non_null(strstr(r.out, fix));
        tl_run_clear(&r);
        cmd(f, &r, "--status");
        fix_installed = g_strconcat(fix, "; agent installed", NULL);
        assert_non_null(strstr(r.out, fix_installed));
        tl_run_clear(&r);
        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        cmd(f, &r, "--detach=gce");
        assert_int_equal(r.status, 0);
        assert_false(exists(f, "/etc/google/snapshots/pre.sh"));
        assert_false(exists(f, "/etc/google/snapshots/post.sh"));
        tl_run_clear(&r);
}

/* Nutanix: root-owned 0700 files, LF only (the documentation: "Scripts
 * will not run if they include control characters"), never a symlink
 * (lstat would see 0777). */
static void test_nutanix(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *post = NULL;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 0);
        pre = read_in_root(f, "/usr/local/sbin/pre_freeze");
        post = read_in_root(f, "/usr/local/sbin/post_thaw");
        assert_string_equal(pre, "#!/bin/sh\n"
                                 "# fsfreeze-hook --attach=nutanix: remove with fsfreeze-hook --detach=nutanix\n"
                                 "exec " INSTALLED " --caller=nutanix -- freeze \"$@\"\n");
        assert_string_equal(post, "#!/bin/sh\n"
                                  "# fsfreeze-hook --attach=nutanix: remove with fsfreeze-hook --detach=nutanix\n"
                                  "exec " INSTALLED " --caller=nutanix -- thaw \"$@\"\n");
        assert_int_equal(mode_of(f, "/usr/local/sbin/pre_freeze"), 0700);
        assert_int_equal(mode_of(f, "/usr/local/sbin/post_thaw"), 0700);
        tl_run_clear(&r);
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);
        cmd(f, &r, "--detach=nutanix");
        assert_int_equal(r.status, 0);
        assert_false(exists(f, "/usr/local/sbin/pre_freeze"));
        assert_false(exists(f, "/usr/local/sbin/post_thaw"));
        tl_run_clear(&r);
}

/* A wrapper of ours from before "--" ended its options (an argument the
 * agent adds was parsed as an option) is rewritten by --attach, then
 * left as it is. */
static void test_old_wrapper_updated(void **state) {
        struct fx *f = *state;
        const char *marker = "#!/bin/sh\n"
                             "# fsfreeze-hook --attach=nutanix: remove with fsfreeze-hook --detach=nutanix\n";
        g_autofree char *old_pre = g_strconcat(marker, "exec " INSTALLED " --caller=nutanix freeze \"$@\"\n", NULL);
        g_autofree char *old_post = g_strconcat(marker, "exec " INSTALLED " --caller=nutanix thaw \"$@\"\n", NULL);
        g_autofree char *pre = NULL, *post = NULL;
        struct tl_run r = { 0 };

        plant(f, "/usr/local/sbin/pre_freeze", old_pre, 0700);
        plant(f, "/usr/local/sbin/post_thaw", old_post, 0700);
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "updated"));
        pre = read_in_root(f, "/usr/local/sbin/pre_freeze");
        post = read_in_root(f, "/usr/local/sbin/post_thaw");
        assert_non_null(strstr(pre, " --caller=nutanix -- freeze \"$@\"\n"));
        assert_non_null(strstr(post, " --caller=nutanix -- thaw \"$@\"\n"));
        assert_int_equal(mode_of(f, "/usr/local/sbin/pre_freeze"), 0700);
        tl_run_clear(&r);
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);
}

/* The entry points name the program as installed in the image: if it is
 * not there (yet), --attach still installs them (the package may come
 * later) but says so on stderr. */
static void test_warns_program_missing(void **state) {
        struct fx *f = *state;
        g_autofree char *program = in_root(f, INSTALLED);
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.err, "warning"));
        assert_non_null(strstr(r.err, program));
        assert_non_null(strstr(r.out, "attached"));
        tl_run_clear(&r);
        plant(f, INSTALLED, "", 0755);
        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 0);
        assert_null(strstr(r.err, "warning"));
        tl_run_clear(&r);
}

/* Somebody's own scripts are never replaced: exit 1, the file named with
 * what to do, nothing changed, nothing of the pair installed either. */
static void test_refuses_foreign(void **state) {
        struct fx *f = *state;
        g_autofree char *after = NULL, *target = NULL, *fix = NULL;
        struct tl_run r = { 0 };

        plant(f, "/usr/local/sbin/pre_freeze", "#!/bin/sh\necho theirs\n", 0700);
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "/usr/local/sbin/pre_freeze"));
        assert_non_null(strstr(r.err, "not replaced"));
        assert_non_null(strstr(r.err, "fix:"));
        fix = g_strdup_printf("then run fsfreeze-hook --root='%s' --attach=nutanix again", f->top);
        assert_non_null(strstr(r.err, fix));
        after = read_in_root(f, "/usr/local/sbin/pre_freeze");
        assert_string_equal(after, "#!/bin/sh\necho theirs\n");
        assert_false(exists(f, "/usr/local/sbin/post_thaw"));
        tl_run_clear(&r);

        /* A symlink of theirs in backupScripts.d. */
        plant_link(f, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook", "/opt/theirs/quiesce");
        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "backupScripts.d/fsfreeze-hook"));
        target = link_target(f, "/etc/vmware-tools/backupScripts.d/fsfreeze-hook");
        assert_string_equal(target, "/opt/theirs/quiesce");
        tl_run_clear(&r);

        /* Google's post.sh of theirs: pre.sh is not installed alone. */
        plant(f, "/etc/google/snapshots/post.sh", "#!/bin/sh\n", 0755);
        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "post.sh"));
        assert_false(exists(f, "/etc/google/snapshots/pre.sh"));
        tl_run_clear(&r);

        cmd(f, &r, "--status");
        assert_non_null(strstr(r.out, "nutanix: not attached: "));
        assert_non_null(strstr(r.out, "is not ours"));
        tl_run_clear(&r);
}

/* A symlink planted where the entry point goes, or in place of one of
 * its directories, is not followed: the file it points at is neither
 * written nor created. */
static void test_planted_symlink_not_followed(void **state) {
        struct fx *f = *state;
        g_autofree char *victim = NULL, *elsewhere = in_root(f, "/elsewhere");
        g_autofree char *new_file = in_root(f, "/new-file"), *victim_path = in_root(f, "/victim");
        struct tl_run r = { 0 };

        plant(f, "/victim", "victim\n", 0644);
        plant_link(f, "/usr/local/sbin/pre_freeze", victim_path);
        plant_link(f, "/usr/local/sbin/post_thaw", new_file);   /* dangling */
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 1);
        victim = read_in_root(f, "/victim");
        assert_string_equal(victim, "victim\n");
        assert_false(g_file_test(new_file, G_FILE_TEST_EXISTS));
        tl_run_clear(&r);

        /* /etc/google -> /elsewhere: not entered. */
        assert_int_equal(g_mkdir_with_parents(elsewhere, 0755), 0);
        plant_link(f, "/etc/google", elsewhere);
        cmd(f, &r, "--attach=gce");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "/etc/google"));
        assert_non_null(strstr(r.err, "symlink"));
        assert_false(exists(f, "/elsewhere/snapshots"));
        tl_run_clear(&r);
}

/* A link to another installation's program (meson install's
 * /usr/local/sbin where the package has /usr/sbin) is an entry point of
 * ours: --attach aims it at this build's, --detach removes it. A link
 * to a program of another name stays somebody else's. */
static void test_link_from_other_installation(void **state) {
        struct fx *f = *state;
        const char *link = "/etc/vmware-tools/backupScripts.d/fsfreeze-hook";
        g_autofree char *target = NULL;
        struct tl_run r = { 0 };

        plant_link(f, link, "/opt/other/sbin/fsfreeze-hook");
        cmd(f, &r, "--status");
        assert_non_null(strstr(r.out, "vmware: attached"));
        tl_run_clear(&r);
        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "updated"));
        target = link_target(f, link);
        assert_string_equal(target, INSTALLED);
        tl_run_clear(&r);
        cmd(f, &r, "--attach=vmware");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);

        plant_link(f, "/etc/google/snapshots/pre.sh", "/usr/local/sbin/fsfreeze-hook");
        plant_link(f, "/etc/google/snapshots/post.sh", "fsfreeze-hook");
        cmd(f, &r, "--detach=gce");
        assert_int_equal(r.status, 0);
        assert_false(exists(f, "/etc/google/snapshots/pre.sh"));
        assert_false(exists(f, "/etc/google/snapshots/post.sh"));
        tl_run_clear(&r);

        /* Another name: not ours, left alone. */
        plant_link(f, "/etc/google/snapshots/pre.sh", "/usr/local/sbin/fsfreeze-hook-old");
        cmd(f, &r, "--detach=gce");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "left alone"));
        assert_true(exists(f, "/etc/google/snapshots/pre.sh"));
        tl_run_clear(&r);
}

/* --detach removes only what is ours: their file stays, byte for byte. */
static void test_detach_leaves_foreign(void **state) {
        struct fx *f = *state;
        g_autofree char *pre = NULL, *pre_path = in_root(f, "/usr/local/sbin/pre_freeze");
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        assert_int_equal(unlink(pre_path), 0);
        plant(f, "/usr/local/sbin/pre_freeze", "#!/bin/sh\necho theirs\n", 0700);

        cmd(f, &r, "--detach=nutanix");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "pre_freeze"));
        assert_non_null(strstr(r.out, "left alone"));
        pre = read_in_root(f, "/usr/local/sbin/pre_freeze");
        assert_string_equal(pre, "#!/bin/sh\necho theirs\n");
        assert_false(exists(f, "/usr/local/sbin/post_thaw"));
        tl_run_clear(&r);
}

static const struct fh_json *member(const struct fh_json *v, const char *key) {
        const struct fh_json *m = fh_json_member(v, key);

        assert_non_null(m);
        return m;
}

/* Azure: ScriptRunner.py runs `sh preScriptLocation params...` from
 * /etc/azure/VMSnapshotScriptPluginConfig.json (PluginHost.py:136-146:
 * the JSON root's, owner digit even, group and other 0; the scripts
 * root's, group and other 0). The template's params ["", ""] would add
 * two empty arguments: ours has none. */
static void test_azure(void **state) {
        struct fx *f = *state;
        const char *conf_path = "/etc/azure/VMSnapshotScriptPluginConfig.json";
        g_autofree char *pre = NULL, *conf = NULL;
        g_autoptr(fh_json) doc = NULL;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        pre = read_in_root(f, "/etc/azure/fsfreeze-hook-pre");
        assert_string_equal(pre, "#!/bin/sh\n"
                                 "# fsfreeze-hook --attach=azure: remove with fsfreeze-hook --detach=azure\n"
                                 "exec " INSTALLED " --caller=azure -- freeze \"$@\"\n");
        assert_int_equal(mode_of(f, "/etc/azure/fsfreeze-hook-pre"), 0700);
        assert_int_equal(mode_of(f, "/etc/azure/fsfreeze-hook-post"), 0700);
        assert_int_equal(mode_of(f, conf_path), 0600);
        conf = read_in_root(f, conf_path);
        assert_int_equal(fh_json_parse(conf, strlen(conf), &doc, NULL), 0);
        assert_string_equal(fh_json_string(member(doc, "pluginName")), "fsfreeze-hook");
        assert_string_equal(fh_json_string(member(doc, "preScriptLocation")), "/etc/azure/fsfreeze-hook-pre");
        assert_string_equal(fh_json_string(member(doc, "postScriptLocation")), "/etc/azure/fsfreeze-hook-post");
        assert_int_equal(fh_json_type(member(doc, "preScriptParams")), FH_JSON_ARRAY);
        assert_int_equal(fh_json_length(member(doc, "preScriptParams")), 0);
        assert_int_equal(fh_json_length(member(doc, "postScriptParams")), 0);

        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "already attached"));
        tl_run_clear(&r);
        cmd(f, &r, "--detach=azure");
        assert_int_equal(r.status, 0);
        assert_false(exists(f, conf_path));
        assert_false(exists(f, "/etc/azure/fsfreeze-hook-pre"));
        assert_false(exists(f, "/etc/azure/fsfreeze-hook-post"));
        tl_run_clear(&r);
}

/* Somebody's Azure configuration (the template of
 * MicrosoftAzureBackup/VMSnapshotPluginConfig, their own scripts) is not
 * replaced, and no wrapper is left behind; one that is not JSON at all is
 * not ours either. */
static void test_azure_refuses_foreign(void **state) {
        struct fx *f = *state;
        const char *theirs = "{\n    \"pluginName\" : \"ScriptRunner\",\n"
                             "    \"preScriptLocation\" : \"/opt/app/pre.sh\",\n"
                             "    \"postScriptLocation\" : \"/opt/app/post.sh\",\n"
                             "    \"preScriptParams\" : [\"\", \"\"],\n    \"postScriptParams\" : [\"\", \"\"]\n}\n";
        g_autofree char *after = NULL;
        struct tl_run r = { 0 };

        plant(f, "/etc/azure/VMSnapshotScriptPluginConfig.json", theirs, 0600);
        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "VMSnapshotScriptPluginConfig.json"));
        assert_non_null(strstr(r.err, "fix:"));
        after = read_in_root(f, "/etc/azure/VMSnapshotScriptPluginConfig.json");
        assert_string_equal(after, theirs);
        assert_false(exists(f, "/etc/azure/fsfreeze-hook-pre"));
        tl_run_clear(&r);
        cmd(f, &r, "--detach=azure");
        assert_int_equal(r.status, 0);
        g_free(after);
        after = read_in_root(f, "/etc/azure/VMSnapshotScriptPluginConfig.json");
        assert_string_equal(after, theirs);
        tl_run_clear(&r);

        plant(f, "/etc/azure/VMSnapshotScriptPluginConfig.json", "pluginName fsfreeze-hook", 0600);
        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 1);
        tl_run_clear(&r);
}

/* The configuration --attach wrote, edited to name the administrator's
 * own scripts (as Azure's documentation says to), "pluginName" kept: it
 * is theirs now. --detach leaves it, --attach does not replace it. */
static void test_azure_edited_config_is_theirs(void **state) {
        struct fx *f = *state;
        const char *edited = "{\n    \"pluginName\": \"fsfreeze-hook\",\n"
                             "    \"preScriptLocation\": \"/opt/app/pre.sh\",\n"
                             "    \"postScriptLocation\": \"/opt/app/post.sh\"\n}\n";
        g_autofree char *after = NULL;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        plant(f, "/etc/azure/VMSnapshotScriptPluginConfig.json", edited, 0600);
        cmd(f, &r, "--detach=azure");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "left alone"));
        after = read_in_root(f, "/etc/azure/VMSnapshotScriptPluginConfig.json");
        assert_string_equal(after, edited);
        tl_run_clear(&r);
        cmd(f, &r, "--attach=azure");
        assert_int_equal(r.status, 1);
        g_free(after);
        after = read_in_root(f, "/etc/azure/VMSnapshotScriptPluginConfig.json");
        assert_string_equal(after, edited);
        tl_run_clear(&r);
}

/* --status --json: "platforms", one object per platform. */
static void test_status_json(void **state) {
        struct fx *f = *state;
        g_autoptr(fh_json) doc = NULL;
        const struct fh_json *platforms, *p;
        struct tl_run r = { 0 };

        cmd(f, &r, "--attach=nutanix");
        tl_run_clear(&r);
        plant(f, "/etc/google/snapshots/pre.sh", "#!/bin/sh\n", 0755);
        plant(f, "/usr/sbin/waagent", "", 0755);
        {
                char *argv[] = { (char *) tl_binary(), "--config=/dev/null", f->state_opt, f->root_opt, "--status",
                                 "--json", NULL };

                tl_run(argv, NULL, 60000, &r);
        }
        assert_int_equal(r.status, 0);
        assert_int_equal(fh_json_parse(r.out, strlen(r.out), &doc, NULL), 0);
        platforms = member(doc, "platforms");
        assert_int_equal(fh_json_length(platforms), 4);
        p = fh_json_at(platforms, 1);
        assert_string_equal(fh_json_string(member(p, "name")), "nutanix");
        assert_string_equal(fh_json_string(member(p, "entry_point")), "ours");
        assert_int_equal(fh_json_type(member(p, "problem")), FH_JSON_NULL);
        p = fh_json_at(platforms, 2);
        assert_string_equal(fh_json_string(member(p, "name")), "gce");
        assert_string_equal(fh_json_string(member(p, "entry_point")), "foreign");
        assert_non_null(strstr(fh_json_string(member(p, "problem")), "pre.sh is not ours"));
        p = fh_json_at(platforms, 3);
        assert_string_equal(fh_json_string(member(p, "entry_point")), "absent");
        {
                bool installed = false;

                assert_int_equal(fh_json_bool(member(p, "agent_installed"), &installed), 0);
                assert_true(installed);
        }
        tl_run_clear(&r);
}

/* As root, a directory the trust policy refuses is not written into: a
 * group that can write /usr/local/sbin could replace the wrapper that the
 * agent runs as root. */
static void test_untrusted_dir(void **state) {
        struct fx *f = *state;
        g_autofree char *sbin = in_root(f, "/usr/local/sbin");
        struct tl_run r = { 0 };

        if (geteuid() != 0)
                skip();
        assert_int_equal(g_mkdir_with_parents(sbin, 0755), 0);
        assert_int_equal(chmod(sbin, 0775), 0);
        cmd(f, &r, "--attach=nutanix");
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "/usr/local/sbin"));
        assert_non_null(strstr(r.err, "writable by group"));
        assert_false(exists(f, "/usr/local/sbin/pre_freeze"));
        assert_false(exists(f, "/usr/local/sbin/post_thaw"));
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_vmware, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gce, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nutanix, setup, teardown),
                cmocka_unit_test_setup_teardown(test_old_wrapper_updated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_warns_program_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuses_foreign, setup, teardown),
                cmocka_unit_test_setup_teardown(test_planted_symlink_not_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detach_leaves_foreign, setup, teardown),
                cmocka_unit_test_setup_teardown(test_link_from_other_installation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_refuses_foreign, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_edited_config_is_theirs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_dir, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
