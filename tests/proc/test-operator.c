/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What administrators and packages use: the configuration file and its
 * overrides, merged hook directories and masks, freeze/thaw pairing, the
 * abort policy, --status and --check. Real binary, real hooks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

struct fx {
        char *top, *vendor, *admin, *log, *out, *conf, *state;
};

static int setup(void **state) {
        struct fx *f = g_new0(struct fx, 1);

        f->top = tl_mkdtemp();
        f->vendor = g_build_filename(f->top, "vendor", NULL);
        f->admin = g_build_filename(f->top, "admin", NULL);
        f->log = g_build_filename(f->top, "log", NULL);
        f->out = g_build_filename(f->top, "out", NULL);
        f->conf = g_build_filename(f->top, "conf", NULL);
        f->state = g_build_filename(f->top, "state", NULL);
        g_mkdir(f->vendor, 0755);
        g_mkdir(f->admin, 0755);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;

        tl_disarm_deadline(f->top);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->vendor);
        g_free(f->admin);
        g_free(f->log);
        g_free(f->out);
        g_free(f->conf);
        g_free(f->state);
        g_free(f);
        return 0;
}

/* The configuration: both directories, the test's log and state, plus
 * 'extra' lines for [fsfreeze-hook] and after. */
static void write_conf(struct fx *f, const char *extra) {
        g_autofree char *dirs = g_strdup_printf("%s;%s", f->vendor, f->admin);

        g_free(tl_write_conf(f->top, dirs, f->log, f->state, extra));
}

/* A hook that records "NAME PHASE froze=FSFREEZE_FROZE" and exits 'status'. */
static void hook(struct fx *f, const char *dir, const char *name, int status) {
        g_autofree char *body = g_strdup_printf("echo \"%s $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\nexit %d", name,
                                                f->out, status);

        g_free(tl_write_hook(dir, name, body));
}

/* Runs the dispatcher with the test's configuration and 'args'. */
static void run(struct fx *f, struct tl_run *r, ...) {
        va_list ap;

        va_start(ap, r);
        tl_run_config(f->conf, r, ap);
        va_end(ap);
}

static char *take_record(struct fx *f) {
        char *rec = tl_read_file(f->out);

        unlink(f->out);
        return rec ? rec : g_strdup("");
}

/* --- configuration -------------------------------------------------------- */

/* A hook that never ends by itself: it blocks opening a FIFO that nobody
 * opens for writing (in 'phase' only, or in both when NULL), so a timeout
 * surely fires, whatever the load. The timeout message names the limit
 * that applied, which tells which setting won without any time margin. */
static void blocking_hook(struct fx *f, const char *name, const char *phase) {
        g_autofree char *fifo = g_build_filename(f->top, "never", NULL);
        g_autofree char *body = NULL;

        if (!g_file_test(fifo, G_FILE_TEST_EXISTS))
                assert_int_equal(mkfifo(fifo, 0600), 0);
        if (phase)
                body = g_strdup_printf("[ \"$1\" = %s ] || exit 0\n: < '%s'", phase, fifo);
        else
                body = g_strdup_printf(": < '%s'", fifo);
        g_free(tl_write_hook(f->admin, name, body));
}

static void test_config_keys_take_effect(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL;
        struct tl_run r;

        write_conf(f, "timeout=0.5\nthaw-timeout=0.7\nkill-grace=0.2\nmax-output=1K\n"
                      "[hook 30-long-but-allowed]\ntimeout=0.8\n[hook 40-off]\nenabled=false\n");
        blocking_hook(f, "10-slow", NULL);
        g_free(tl_write_hook(f->admin, "20-chatty", "seq 1 1000"));
        blocking_hook(f, "30-long-but-allowed", "freeze");
        hook(f, f->admin, "40-off", 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);

        log = tl_read_file(f->log);     /* log-file= took effect */
        assert_non_null(log);
        assert_int_equal(tl_count_lines_with(log, "/10-slow finished with status=143 (timed out after 0.500 s"), 1);
        assert_int_equal(tl_count_lines_with(log, "output over the limit of 1 KiB"), 1);
        /* Its own timeout, longer than timeout=, is the one that applied. */
        assert_int_equal(tl_count_lines_with(log, "/30-long-but-allowed finished with status=143 (timed out after 0.800 s"),
                         1);
        rec = tl_read_file(f->out);
        assert_null(rec);               /* 40-off is disabled */
        assert_true(g_file_test(f->state, G_FILE_TEST_IS_DIR)); /* state-dir= took effect */

        /* thaw-timeout, not timeout, applies to thaw. */
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        g_free(log);
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "/10-slow finished with status=143 (timed out after 0.700 s"), 1);
        assert_int_equal(tl_count_lines_with(log, "/30-long-but-allowed finished with status=0"), 1);
}

static void test_command_line_overrides_config(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL, *other_log = g_build_filename(f->top, "other.log", NULL);
        g_autofree char *log_opt = g_strdup_printf("--log-file=%s", other_log);
        struct tl_run r;

        write_conf(f, "timeout=30\nkill-grace=0.2\n");
        blocking_hook(f, "10-blocks", NULL);
        run(f, &r, "--timeout=0.3", log_opt, "freeze", NULL);
        tl_run_clear(&r);
        assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
        log = tl_read_file(other_log);
        assert_int_equal(tl_count_lines_with(log, "/10-blocks finished with status=143 (timed out after 0.300 s"), 1);
}

static void test_malformed_config_logged_hooks_still_run(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL, *where = NULL;
        struct tl_run r;

        write_conf(f, "timeout=forever\nthis line is junk\n[hook 10-a\n");
        hook(f, f->admin, "10-a", 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        log = tl_read_file(f->log);
        where = g_strdup_printf("%s:6: key 'timeout' in [fsfreeze-hook]: invalid value 'forever'", f->conf);
        assert_int_equal(tl_count_lines_with(log, where), 1);
        assert_int_equal(tl_count_lines_with(log, ":7: 'this line is junk' is not a [group]"), 1);
        assert_int_equal(tl_count_lines_with(log, ":8: malformed group header"), 1);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n");
}

static void test_untrusted_config_ignored(void **state) {
        struct fx *f = *state;
        g_autofree char *log = NULL, *rec = NULL;
        g_autofree char *default_log = g_build_filename(f->top, "cmdline.log", NULL);
        g_autofree char *log_opt = g_strdup_printf("--log-file=%s", default_log);
        g_autofree char *dir_opt = g_strdup_printf("--hooks-dir=%s", f->admin);
        g_autofree char *state_opt = g_strdup_printf("--state-dir=%s", f->state);
        struct tl_run r;

        if (geteuid() != 0)
                skip();
        /* Writable by others, it could turn the trust policy off. */
        write_conf(f, "[hook 10-a]\nenabled=false\n");
        chmod(f->conf, 0666);
        hook(f, f->admin, "10-a", 0);
        run(f, &r, log_opt, dir_opt, state_opt, "--no-journal", "freeze", NULL);
        tl_run_clear(&r);
        log = tl_read_file(default_log);
        assert_int_equal(tl_count_lines_with(log, "is not trusted: "), 1);
        assert_int_equal(tl_count_lines_with(log, "ignored, using the defaults"), 1);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n");  /* enabled=false not applied */
}

/* --- merging ------------------------------------------------------------ */

static void test_merge_override_and_mask(void **state) {
        struct fx *f = *state;
        g_autofree char *mask = g_build_filename(f->admin, "20-masked", NULL);
        g_autofree char *rec = NULL;
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->vendor, "10-both", 0);
        g_free(tl_write_hook(f->admin, "10-both", "echo \"admin-10 $1\" >> '$OUT'"));
        {
                g_autofree char *body = g_strdup_printf("echo \"admin-10 $1\" >> '%s'", f->out);
                g_free(tl_write_hook(f->admin, "10-both", body));
        }
        hook(f, f->vendor, "20-masked", 0);
        assert_int_equal(symlink("/dev/null", mask), 0);
        hook(f, f->vendor, "30-vendor-only", 0);
        hook(f, f->admin, "40-admin-only", 0);

        run(f, &r, "--dry-run", "freeze", NULL);
        assert_int_equal(r.status, 0);
        {
                g_autofree char *over = g_strdup_printf("run   10-both  (%s/10-both; overrides %s/10-both)", f->admin,
                                                        f->vendor);
                g_autofree char *masked = g_strdup_printf("skip  20-masked: masked (symlink to /dev/null)  (%s/20-masked; "
                                                          "hides %s/20-masked)", f->admin, f->vendor);
                assert_non_null(strstr(r.out, over));
                assert_non_null(strstr(r.out, masked));
                assert_non_null(strstr(r.out, "run   30-vendor-only"));
                assert_non_null(strstr(r.out, "run   40-admin-only"));
        }
        tl_run_clear(&r);
        assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));

        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "admin-10 freeze\n30-vendor-only freeze froze=unset\n40-admin-only freeze froze=unset\n");
}

/* --- pairing -------------------------------------------------------------- */

static void test_thaw_pairs_with_freeze(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *log = NULL, *gone = g_build_filename(f->admin, "20-removed", NULL);
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        hook(f, f->admin, "20-removed", 0);
        hook(f, f->admin, "30-fails", 1);       /* failed freeze hooks are thawed too */
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        g_free(take_record(f));

        run(f, &r, "--status", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "Awaiting thaw: yes"));
        assert_non_null(strstr(r.out, "30-fails"));
        assert_non_null(strstr(r.out, "status=1 in "));
        tl_run_clear(&r);

        /* While frozen, the directory changes. */
        unlink(gone);
        hook(f, f->admin, "15-added", 0);
        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "30-fails thaw froze=yes\n10-a thaw froze=yes\n");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "/15-added not thawed: added after the freeze"), 1);
        assert_int_equal(tl_count_lines_with(log, "/20-removed: ran freeze but is gone: cannot thaw it"), 1);

        run(f, &r, "--status", NULL);
        assert_non_null(strstr(r.out, "Awaiting thaw: no"));
        assert_non_null(strstr(r.out, "Last thaw: "));
        tl_run_clear(&r);

        /* A second thaw: no freeze awaits it, the current hooks run again. */
        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "30-fails thaw froze=no\n15-added thaw froze=no\n10-a thaw froze=no\n");
}

/* A freeze whose record cannot be written must not leave an older record
 * for the thaw to pair with: the thaw then runs every current hook and
 * tells them it does not know. */
static void test_unwritable_record_never_pairs_stale(void **state) {
        struct fx *f = *state;
        g_autofree char *blocker = g_build_filename(f->state, "last-freeze.new", NULL);
        g_autofree char *rec = NULL;
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        run(f, &r, "freeze", NULL);             /* a record awaiting its thaw */
        tl_run_clear(&r);
        g_free(take_record(f));
        assert_int_equal(g_mkdir(blocker, 0755), 0);    /* the next write fails */
        hook(f, f->admin, "20-b", 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        g_free(take_record(f));
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "20-b thaw froze=unknown\n10-a thaw froze=unknown\n");
}

/* Two freezes and no thaw between them: the thaw releases both. */
static void test_unthawed_freeze_carried_over(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *log = NULL;
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        hook(f, f->admin, "20-b", 0);
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        write_conf(f, "[hook 20-b]\nenabled=false\n");
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        g_free(take_record(f));
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "10-a thaw froze=yes\n20-b thaw froze=yes\n");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "the previous freeze was never thawed: 1 of its hooks"), 1);
}

/* A hook that moved between the directories while frozen is thawed where it is. */
static void test_moved_hook_thawed_where_it_is(void **state) {
        struct fx *f = *state;
        g_autofree char *from = g_build_filename(f->admin, "30-x", NULL);
        g_autofree char *to = g_build_filename(f->vendor, "30-x", NULL);
        g_autofree char *rec = NULL, *log = NULL;
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "30-x", 0);
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        g_free(take_record(f));
        assert_int_equal(rename(from, to), 0);
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "30-x thaw froze=yes\n");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "which is gone: thawing it as "), 1);
}

/* The dispatcher killed half-way (here by its own hook), then thawed. */
static char *killed_freeze_then_thaw(struct fx *f, bool as_older_version) {
        g_autofree char *body = NULL, *path = g_build_filename(f->state, "last-freeze", NULL);
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        body = g_strdup_printf("echo \"20-killer $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                               "[ \"$1\" = freeze ] && kill -9 $PPID\nexit 0", f->out);
        g_free(tl_write_hook(f->admin, "20-killer", body));
        hook(f, f->admin, "30-c", 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 128 + 9);
        tl_run_clear(&r);
        g_free(take_record(f));
        if (as_older_version) {
                /* As versions before per-hook records wrote it: no
                 * per-hook= and running= keys, nobody knows what started. */
                g_autofree char *text = tl_read_file(path);
                g_autoptr(GRegex) re = g_regex_new("^(per-hook|running)=.*\n", G_REGEX_MULTILINE, 0, NULL);
                g_autofree char *older = g_regex_replace_literal(re, text, -1, 0, "", 0, NULL);
                g_autofree char *dir = g_path_get_dirname(path);

                assert_non_null(strstr(text, "per-hook=true\n"));
                g_free(tl_write_file(dir, "last-freeze", older, 0644));
        }
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        return take_record(f);
}

/* The record, written as each hook starts, says what started: the thaw
 * releases exactly that, telling 10-a (which ended) that it froze and
 * 20-killer (which was running) that nobody knows; 30-c never started. */
static void test_unfinished_freeze_thaws_what_started(void **state) {
        g_autofree char *rec = killed_freeze_then_thaw(*state, false);

        assert_string_equal(rec, "20-killer thaw froze=unknown\n10-a thaw froze=yes\n");
}

/* A record of an older version that never finished: every planned hook
 * is thawed, and told that nobody knows whether its freeze ran. */
static void test_unfinished_older_freeze_thawed_whole(void **state) {
        g_autofree char *rec = killed_freeze_then_thaw(*state, true);

        assert_string_equal(rec, "30-c thaw froze=unknown\n20-killer thaw froze=unknown\n10-a thaw froze=unknown\n");
}

/* Masked after the freeze: the administrator said no, it is not run. A
 * record from another boot never pairs. */
static void test_masked_since_freeze_and_other_boot(void **state) {
        struct fx *f = *state;
        g_autofree char *path = g_build_filename(f->admin, "20-b", NULL);
        g_autofree char *record = g_build_filename(f->state, "last-freeze", NULL);
        g_autofree char *rec = NULL, *log = NULL, *text = NULL, *forged = NULL;
        g_autoptr(GRegex) boot = g_regex_new("^boot-id=.*$", G_REGEX_MULTILINE, 0, NULL);
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        hook(f, f->admin, "20-b", 0);
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        g_free(take_record(f));
        unlink(path);
        assert_int_equal(symlink("/dev/null", path), 0);
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "10-a thaw froze=yes\n");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "/20-b: masked since the freeze"), 1);

        /* Freeze again, then pretend the record was written before a reboot. */
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        g_free(take_record(f));
        assert_true(g_file_get_contents(record, &text, NULL, NULL));
        forged = g_regex_replace_literal(boot, text, -1, 0, "boot-id=00000000-0000-0000-0000-000000000000", 0, NULL);
        assert_true(g_file_set_contents(record, forged, -1, NULL));
        run(f, &r, "thaw", NULL);
        tl_run_clear(&r);
        g_free(rec);
        rec = take_record(f);
        assert_string_equal(rec, "10-a thaw froze=unknown\n");
}

/* A thaw by hand while qemu-ga's freeze still runs waits for it. */
static void test_concurrent_dispatchers_serialised(void **state) {
        struct fx *f = *state;
        g_autofree char *go = g_build_filename(f->top, "go", NULL);
        g_autofree char *started = g_build_filename(f->top, "started", NULL);
        g_autofree char *body = NULL, *rec = NULL, *conf = g_strdup_printf("--config=%s", f->conf);
        char *freeze[] = { (char *) tl_binary(), conf, "freeze", NULL };
        char *thaw[] = { (char *) tl_binary(), conf, "thaw", NULL };
        int status;
        pid_t a, b;

        write_conf(f, NULL);
        body = g_strdup_printf("echo \"10-wait $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                               "if [ \"$1\" = freeze ]; then touch '%s'; while [ ! -e '%s' ]; do sleep 0.02; done; fi",
                               f->out, started, go);
        g_free(tl_write_hook(f->admin, "10-wait", body));
        a = fork();
        if (a == 0) {
                execv(freeze[0], freeze);
                _exit(127);
        }
        assert_true(tl_await_file(started, 30000));
        b = fork();
        if (b == 0) {
                execv(thaw[0], thaw);
                _exit(127);
        }
        /* The thaw waits for the freeze's lock; it says so in the log. */
        for (int i = 0; i < 600; i++) {
                g_autofree char *log = tl_read_file(f->log);
                if (log && strstr(log, "another fsfreeze-hook is running: waiting for it"))
                        break;
                g_usleep(50000);
        }
        g_file_set_contents(go, "", 0, NULL);
        assert_int_equal(waitpid(a, &status, 0), a);
        assert_int_equal(waitpid(b, &status, 0), b);
        rec = take_record(f);
        assert_string_equal(rec, "10-wait freeze froze=unset\n10-wait thaw froze=yes\n");
}

static void test_status_json(void **state) {
        struct fx *f = *state;
        struct tl_run r;

        write_conf(f, NULL);
        run(f, &r, "--status", "--json", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "\"awaiting_thaw\": false, \"freeze\": null, \"thaw\": null"));
        tl_run_clear(&r);

        g_free(tl_write_hook(f->admin, "10-\"quoted\"\\name", "true"));
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_non_null(strstr(r.out, "\"awaiting_thaw\": true"));
        assert_non_null(strstr(r.out, "\"name\": \"10-\\\"quoted\\\"\\\\\\\\name\""));
        assert_non_null(strstr(r.out, "\"ran\": true, \"status\": 0, \"outcome\": \"status=0\""));
        tl_run_clear(&r);
}

/* Valid JSON, as a tool would parse it. Without python3 there is no
 * parser to ask: the test says so and is counted as skipped, rather than
 * passing with the check left out. */
static void test_status_json_parses(void **state) {
        struct fx *f = *state;
        g_autofree char *python = g_find_program_in_path("python3"), *json = NULL;
        struct tl_run r, p;

        /* Nothing else allocated yet: skip() leaves no leak for ASan. */
        if (!python) {
                print_message("SKIP: python3 is not installed: cannot check --status --json with a JSON parser\n");
                fprintf(stderr, "test-operator: SKIPPED test_status_json_parses: no python3\n");
                skip();
        }
        json = g_build_filename(f->top, "status.json", NULL);
        write_conf(f, NULL);
        g_free(tl_write_hook(f->admin, "10-\"quoted\"\\name", "true"));
        run(f, &r, "freeze", NULL);
        tl_run_clear(&r);
        run(f, &r, "--status", "--json", NULL);
        assert_int_equal(r.status, 0);
        g_file_set_contents(json, r.out, -1, NULL);
        tl_run_clear(&r);
        {
                char *argv[] = { python, "-c", "import json,sys; d=json.load(open(sys.argv[1])); "
                                               "assert d['freeze']['hooks'][0]['status'] == 0", json, NULL };

                tl_run(argv, NULL, 30000, &p);
        }
        if (p.status != 0)
                print_message("python3: %s\n", p.err);
        assert_int_equal(p.status, 0);
        tl_run_clear(&p);
}

/* --- failure policy --------------------------------------------------------- */

static void test_abort_thaws_what_froze_and_fails(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL, *log = NULL;
        struct tl_run r;

        write_conf(f, "on-failure=abort\n");
        hook(f, f->admin, "10-a", 0);
        hook(f, f->admin, "20-fails", 3);
        hook(f, f->admin, "30-never", 0);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 1);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n20-fails freeze froze=unset\n"
                                 "20-fails thaw froze=yes\n10-a thaw froze=yes\n");
        log = tl_read_file(f->log);
        assert_int_equal(tl_count_lines_with(log, "20-fails failed and on-failure=abort"), 1);
        assert_int_equal(tl_count_lines_with(log, "freeze: aborted in "), 1);
        assert_int_equal(tl_count_lines_with(log, ": 2 run, 1 failed, 1 not run, 2 thawed; the freeze fails"), 1);

        /* Nothing awaits a thaw: qemu-ga will not send one. */
        run(f, &r, "--status", NULL);
        assert_non_null(strstr(r.out, "aborted by on-failure=abort"));
        assert_non_null(strstr(r.out, "Awaiting thaw: no"));
        tl_run_clear(&r);

        /* Thaw is never aborted; continue, the default, never fails. */
        run(f, &r, "thaw", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
        run(f, &r, "--on-failure=continue", "freeze", NULL);
        assert_int_equal(r.status, 0);
        tl_run_clear(&r);
}

/* A hook refused because its directory is not trusted fails an aborting
 * freeze like any other. */
static void test_abort_on_refused_directory(void **state) {
        struct fx *f = *state;
        g_autofree char *rec = NULL;
        struct tl_run r;

        if (geteuid() != 0)
                skip();
        write_conf(f, "on-failure=abort\n");
        hook(f, f->vendor, "10-a", 0);
        hook(f, f->admin, "20-b", 0);
        chmod(f->admin, 0775);
        run(f, &r, "freeze", NULL);
        assert_int_equal(r.status, 1);
        tl_run_clear(&r);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n10-a thaw froze=yes\n");
}

/* Under abort, a freeze cut short by a signal is a failed freeze. */
static void test_abort_on_interruption(void **state) {
        struct fx *f = *state;
        g_autofree char *started = g_build_filename(f->top, "started", NULL);
        g_autofree char *body = NULL, *rec = NULL, *conf = g_strdup_printf("--config=%s", f->conf);
        char *argv[] = { (char *) tl_binary(), conf, "freeze", NULL };
        int status;
        pid_t pid;

        write_conf(f, "on-failure=abort\n");
        hook(f, f->admin, "10-a", 0);
        body = g_strdup_printf("echo \"20-hang $1 froze=${FSFREEZE_FROZE-unset}\" >> '%s'\n"
                               "[ \"$1\" = freeze ] && { touch '%s'; exec sleep 1000; }\nexit 0", f->out, started);
        g_free(tl_write_hook(f->admin, "20-hang", body));
        hook(f, f->admin, "30-never", 0);
        pid = fork();
        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        assert_true(tl_await_file(started, 30000));
        kill(pid, SIGTERM);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
        rec = take_record(f);
        assert_string_equal(rec, "10-a freeze froze=unset\n20-hang freeze froze=unset\n"
                                 "20-hang thaw froze=yes\n10-a thaw froze=yes\n");
}

/* --- --check ------------------------------------------------------------------ */

static void test_check_good(void **state) {
        struct fx *f = *state;
        struct tl_run r;

        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        g_free(tl_write_file(f->admin, "20-env", "#!/usr/bin/env sh\necho hi\n", 0755));
        g_free(tl_write_file(f->admin, ".hidden", "x", 0644));
        run(f, &r, "--check", NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "No problems found; 2 hooks would run"));
        tl_run_clear(&r);
}

static void test_check_bad(void **state) {
        struct fx *f = *state;
        struct tl_run r;

        /* A disabled hook whose name contains "leftover" is not a problem. */
        write_conf(f, "timout=3\n[hook 99-nothing]\nenabled=false\n[hook 95-clean-leftover-locks]\nenabled=false\n");
        hook(f, f->admin, "95-clean-leftover-locks", 0);
        g_free(tl_write_file(f->admin, "10-crlf", "#!/bin/sh\r\necho hi\r\n", 0755));
        g_free(tl_write_file(f->admin, "20-nointerp", "#!/bin/bashh\necho hi\n", 0755));
        g_free(tl_write_file(f->admin, "30-noshebang", "echo hi\n", 0755));
        g_free(tl_write_file(f->admin, "40-syntax", "#!/bin/sh\nif true; then\necho unterminated\n", 0755));
        g_free(tl_write_file(f->admin, "50-noexec", "#!/bin/sh\n", 0644));
        g_free(tl_write_file(f->admin, "60-old.dpkg-old", "#!/bin/sh\n", 0755));
        g_free(tl_write_file(f->admin, "70-crlf-body", "#!/bin/sh\necho hi\r\n", 0755));
        g_free(tl_write_file(f->admin, "80-envmissing", "#!/usr/bin/env no-such-interpreter\n", 0755));
        g_free(tl_write_file(f->admin, "85-bare", "#!\n", 0755));
        g_free(tl_write_file(f->admin, "86-env-options", "#!/usr/bin/env -S sh -e\necho hi\n", 0755));
        hook(f, f->admin, "90-good", 0);
        run(f, &r, "--check", NULL);
        assert_int_equal(r.status, 1);
        assert_int_equal(tl_count_lines_with(r.out, "unknown key 'timout'"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/10-crlf: CRLF (Windows) line endings: the #! interpreter"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/20-nointerp: #! interpreter '/bin/bashh' not found"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/30-noshebang: no #! line, and not a binary"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/40-syntax: sh -n finds a syntax error: "), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/50-noexec: will be skipped: not executable"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/60-old.dpkg-old: will be skipped: backup or package-manager"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/70-crlf-body: CRLF (Windows) line endings: the shell sees"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/80-envmissing: #! interpreter 'no-such-interpreter' not found"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "[hook 99-nothing] names no hook"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "/85-bare: its #! line names no interpreter"), 1);
        assert_int_equal(tl_count_lines_with(r.out, "86-env-options"), 0);
        assert_int_equal(tl_count_lines_with(r.out, "note: "), 1);      /* the disabled one */
        /* Every problem comes with its fix. */
        assert_int_equal(tl_count_lines_with(r.out, "(fix: "), 11);
        assert_non_null(strstr(r.out, "11 problems found; 9 hooks would run"));
        assert_int_equal(tl_count_lines_with(r.out, "90-good"), 0);
        tl_run_clear(&r);
        assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));  /* nothing ran */
}

static void test_check_trust(void **state) {
        struct fx *f = *state;
        g_autofree char *h = NULL;
        struct tl_run r;

        if (geteuid() != 0)
                skip();
        write_conf(f, NULL);
        hook(f, f->admin, "10-a", 0);
        h = g_build_filename(f->admin, "10-a", NULL);
        chmod(h, 0777);
        run(f, &r, "--check", NULL);
        assert_int_equal(r.status, 1);
        assert_int_equal(tl_count_lines_with(r.out, "/10-a: refused by the trust policy: "), 1);
        assert_int_equal(tl_count_lines_with(r.out, "(fix: chmod go-w"), 1);
        tl_run_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_config_keys_take_effect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_command_line_overrides_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_config_logged_hooks_still_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_config_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_merge_override_and_mask, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thaw_pairs_with_freeze, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unwritable_record_never_pairs_stale, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unthawed_freeze_carried_over, setup, teardown),
                cmocka_unit_test_setup_teardown(test_moved_hook_thawed_where_it_is, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unfinished_freeze_thaws_what_started, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unfinished_older_freeze_thawed_whole, setup, teardown),
                cmocka_unit_test_setup_teardown(test_masked_since_freeze_and_other_boot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_dispatchers_serialised, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_json_parses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_thaws_what_froze_and_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_on_refused_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_on_interruption, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_good, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_bad, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_trust, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
