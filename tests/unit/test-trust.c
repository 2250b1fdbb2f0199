/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"
#include "logfile.h"
#include "trust.h"

static struct stat mode(mode_t m, uid_t uid) {
        struct stat st = { .st_mode = m, .st_uid = uid };
        return st;
}

static void test_judge_rules(void **state) {
        struct stat ok_file = mode(S_IFREG | 0755, 0), group_w = mode(S_IFREG | 0775, 0);
        struct stat other_w = mode(S_IFREG | 0757, 0), foreign = mode(S_IFREG | 0755, 1000);
        struct stat tmp = mode(S_IFDIR | 01777, 0), open_dir = mode(S_IFDIR | 0777, 0);
        g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        assert_null(fh_trust_judge(&ok_file, "/h/x", 0, false));
        a = fh_trust_judge(&group_w, "/h/x", 0, false);
        assert_string_equal(a, "/h/x is writable by group or others (fix: chmod go-w '/h/x')");
        b = fh_trust_judge(&other_w, "/h/x", 0, false);
        assert_non_null(b);
        c = fh_trust_judge(&foreign, "/h/it's", 0, false);
        /* The message is escaped as all log text is: the quote's backslash doubled. */
        assert_string_equal(c, "/h/it's is owned by uid 1000, not by root (fix: chown root '/h/it'\\\\''s')");
        /* /tmp is fine above the hook directory, not as the hook directory. */
        assert_null(fh_trust_judge(&tmp, "/tmp", 0, true));
        d = fh_trust_judge(&tmp, "/tmp", 0, false);
        /* Never plain "chmod go-w /tmp": it is shared on purpose. */
        assert_string_equal(d, "/tmp is writable by group or others (fix: chmod go-w '/tmp', unless it is shared on "
                               "purpose, as /tmp is: then use a directory only root can write)");
        e = fh_trust_judge(&open_dir, "/srv", 0, true);
        assert_non_null(e);
        /* A name that is not plain text is escaped in the message. */
        {
                g_autofree char *f = fh_trust_judge(&group_w, "/h/a\nb", 0, false);
                assert_non_null(strstr(f, "/h/a\\x0ab"));
                assert_null(strchr(f, '\n'));
        }
}

/* Opens dir/name through the policy; returns its problem or NULL, and
 * fails the test if it cannot be resolved at all. */
static char *open_problem(struct fh_trust *t, const char *dir, const char *name) {
        char *problem = NULL;
        struct stat st;
        int fd = -1;

        assert_int_equal(fh_trust_open_in(t, dir, name, O_RDONLY | O_NONBLOCK, &fd, &st, &problem), 0);
        close(fd);
        return problem;
}

static void test_judge_devices_and_system_paths(void **state) {
        struct stat null = { .st_mode = S_IFCHR | 0666, .st_rdev = makedev(1, 3) };
        struct stat tty = { .st_mode = S_IFCHR | 0666, .st_rdev = makedev(5, 0) };
        struct stat proc = mode(S_IFDIR | 0555, 1000), link = mode(S_IFLNK | 0777, 1000);
        g_autofree char *a = NULL, *b = NULL, *c = NULL;

        /* /dev/null is the empty file: never advice to chmod it. */
        assert_true(fh_is_null_device(&null));
        assert_null(fh_trust_judge(&null, "/dev/null", 0, false));
        a = fh_trust_judge(&tty, "/dev/tty", 0, false);
        assert_string_equal(a, "/dev/tty is a device, not a file (fix: use another path)");
        /* Never chown advice on /proc (or /, /dev, /sys). */
        b = fh_trust_judge(&proc, "/proc/1234", 0, true);
        assert_non_null(strstr(b, "/proc/1234 is owned by uid 1000, not by root (a system path"));
        assert_null(strstr(b, "chown"));
        /* A user's symlink, and the symlink's mode means nothing. */
        c = fh_trust_judge(&link, "/tmp/l", 0, true);
        assert_non_null(strstr(c, "/tmp/l is a symlink owned by uid 1000, not by root"));
        link.st_uid = 0;
        assert_null(fh_trust_judge(&link, "/tmp/l", 0, true));
}

static void test_real_directories(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *hooks = g_build_filename(top, "hooks", NULL);
        g_autofree char *other = g_build_filename(top, "other", NULL);
        g_autofree char *hook = NULL, *target = NULL, *link = NULL, *problem = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());

        g_mkdir(hooks, 0755);
        g_mkdir(other, 0755);
        hook = tl_write_hook(hooks, "10-ok", "true");

        assert_int_equal(fh_trust_check_dir(t, hooks, &problem), 0);
        assert_null(open_problem(t, hooks, "10-ok"));

        /* A hook writable by others. */
        chmod(hook, 0757);
        problem = open_problem(t, hooks, "10-ok");
        assert_non_null(strstr(problem, "10-ok is writable by group or others"));
        g_clear_pointer(&problem, g_free);

        /* A symlinked hook is judged where it really lives. */
        chmod(other, 0777);
        target = tl_write_hook(other, "real", "true");
        link = g_build_filename(hooks, "20-link", NULL);
        assert_int_equal(symlink(target, link), 0);
        problem = open_problem(t, hooks, "20-link");
        assert_non_null(strstr(problem, "/other is writable by group or others (fix: chmod go-w"));
        g_clear_pointer(&problem, g_free);

        /* A group-writable hook directory; a fresh policy, as results are cached. */
        chmod(hooks, 0775);
        {
                g_autoptr(fh_trust) t2 = fh_trust_new(geteuid());
                assert_int_equal(fh_trust_check_dir(t2, hooks, &problem), -EPERM);
                assert_non_null(strstr(problem, "/hooks is writable by group or others"));
        }
        g_clear_pointer(&problem, g_free);

        assert_int_equal(fh_trust_check_dir(t, "/nonexistent/dir", &problem), -ENOENT);
        assert_non_null(strstr(problem, "cannot examine /nonexistent: No such file or directory"));
        tl_rmtree(top);
}

/* Relative and absolute links, chains, '..' and loops, resolved as the
 * kernel would, every step judged. */
static void test_symlink_chains(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *real = g_build_filename(top, "real", NULL);
        g_autofree char *open_dir = g_build_filename(top, "open", NULL);
        g_autofree char *a = g_build_filename(top, "a", NULL), *b = g_build_filename(top, "b", NULL);
        g_autofree char *chain = g_build_filename(top, "chain", NULL);
        g_autofree char *dotdot = NULL, *problem = NULL, *via = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());

        g_mkdir(real, 0755);
        g_mkdir(open_dir, 0777);
        chmod(open_dir, 0777);
        assert_int_equal(symlink("real", a), 0);        /* relative */
        assert_int_equal(symlink(a, chain), 0);         /* absolute, to a link */
        assert_int_equal(fh_trust_check_dir(t, chain, &problem), 0);

        /* '..' is taken physically, where the walk really is, and what it
         * leads to is judged: top/real/../open is the open directory. */
        dotdot = g_build_filename(real, "..", "open", NULL);
        assert_int_equal(fh_trust_check_dir(t, dotdot, &problem), -EPERM);
        via = g_strdup_printf("%s is writable by group or others", open_dir);
        assert_non_null(strstr(problem, via));
        g_clear_pointer(&problem, g_free);

        /* A loop is refused, not followed forever. */
        assert_int_equal(symlink("b", b), 0);
        assert_int_equal(fh_trust_check_dir(t, b, &problem), -ELOOP);
        assert_non_null(strstr(problem, "Too many levels of symbolic links"));
        tl_rmtree(top);
}

static void test_foreign_owner(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *hook = NULL, *problem = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(0);

        if (geteuid() != 0)
                skip();
        hook = tl_write_hook(top, "10-x", "true");
        assert_int_equal(chown(hook, 65534, 65534), 0);
        problem = open_problem(t, top, "10-x");
        assert_non_null(strstr(problem, "is owned by uid 65534, not by root (fix: chown root"));
        tl_rmtree(top);
}

/* A symlink owned by a user is refused wherever it is on the way, a
 * sticky directory included, even when it points at a root directory. */
static void test_user_symlink_refused(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *sticky = g_build_filename(top, "sticky", NULL);
        g_autofree char *real = g_build_filename(top, "real", NULL);
        g_autofree char *link = g_build_filename(sticky, "link", NULL);
        g_autofree char *hook_link = g_build_filename(real, "20-hook", NULL);
        g_autofree char *problem = NULL, *want = NULL, *target = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(0);

        if (geteuid() != 0)
                skip();
        g_mkdir(sticky, 01777);
        chmod(sticky, 01777);
        g_mkdir(real, 0755);
        g_free(tl_write_hook(real, "10-x", "true"));
        assert_int_equal(symlink(real, link), 0);
        assert_int_equal(fh_trust_check_dir(t, link, &problem), 0);     /* root's own link */
        assert_int_equal(lchown(link, 65534, 65534), 0);
        {
                g_autoptr(fh_trust) t2 = fh_trust_new(0);
                assert_int_equal(fh_trust_check_dir(t2, link, &problem), -EPERM);
        }
        want = g_strdup_printf("%s is a symlink owned by uid 65534, not by root", link);
        assert_non_null(strstr(problem, want));
        g_clear_pointer(&problem, g_free);

        /* A hook that is a root-owned link through the user's link. */
        g_free(target);
        target = g_build_filename(link, "10-x", NULL);
        assert_int_equal(symlink(target, hook_link), 0);
        problem = open_problem(t, real, "20-hook");
        assert_non_null(strstr(problem, want));
        tl_rmtree(top);
}

static void test_interpreter(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *bin = g_build_filename(top, "bin", NULL);
        g_autofree char *interp = NULL, *script = NULL, *env_script = NULL, *problem = NULL, *path = NULL;
        g_autofree char *body = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());
        int fd;

        g_mkdir(bin, 0755);
        interp = tl_write_file(bin, "myshell", "#!/bin/sh\nexec /bin/sh \"$@\"\n", 0755);
        body = g_strdup_printf("#!%s\ntrue\n", interp);
        script = tl_write_file(top, "hook", body, 0755);
        env_script = tl_write_file(top, "env-hook", "#!/usr/bin/env myshell\ntrue\n", 0755);
        path = g_strdup_printf("%s:/usr/bin:/bin", bin);

        fd = open(script, O_RDONLY | O_CLOEXEC);
        assert_int_equal(fh_trust_check_interpreter(t, fd, path, &problem), 0);
        close(fd);
        /* The interpreter, a script itself, becomes writable by others. */
        chmod(interp, 0757);
        {
                g_autoptr(fh_trust) t2 = fh_trust_new(geteuid());
                fd = open(script, O_RDONLY | O_CLOEXEC);
                assert_int_equal(fh_trust_check_interpreter(t2, fd, path, &problem), -EPERM);
                close(fd);
                assert_non_null(strstr(problem, "its #! interpreter is not trusted: "));
                assert_non_null(strstr(problem, "myshell is writable by group or others"));
                g_clear_pointer(&problem, g_free);
                /* Found by env in the search path. */
                fd = open(env_script, O_RDONLY | O_CLOEXEC);
                assert_int_equal(fh_trust_check_interpreter(t2, fd, path, &problem), -EPERM);
                close(fd);
                assert_non_null(strstr(problem, "myshell is writable by group or others"));
                g_clear_pointer(&problem, g_free);
        }
        /* A search path directory that others can write, searched before
         * the one env finds the interpreter in. */
        chmod(interp, 0755);
        chmod(bin, 0777);
        {
                g_autoptr(fh_trust) t3 = fh_trust_new(geteuid());
                g_autofree char *p2 = g_strdup_printf("%s:/usr/bin:/bin", bin);
                fd = open(env_script, O_RDONLY | O_CLOEXEC);
                assert_int_equal(fh_trust_check_interpreter(t3, fd, p2, &problem), -EPERM);
                close(fd);
                assert_non_null(strstr(problem, "is searched for 'myshell' by its #! line"));
        }
        tl_rmtree(top);
}

/* Where root writes (the log), a group-writable directory (Ubuntu's
 * /var/log, root:syslog 0775) is accepted; a world-writable one is not. */
static void test_output_policy(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *logs = g_build_filename(top, "logs", NULL), *problem = NULL;
        g_autoptr(fh_trust) out = fh_trust_new_for_output(geteuid());
        g_autoptr(fh_trust) run = fh_trust_new(geteuid());

        g_mkdir(logs, 0775);
        chmod(logs, 0775);
        assert_int_equal(fh_trust_check_dir(out, logs, &problem), 0);
        assert_int_equal(fh_trust_check_dir(run, logs, &problem), -EPERM);
        g_clear_pointer(&problem, g_free);
        chmod(logs, 01777);
        {
                g_autoptr(fh_trust) out2 = fh_trust_new_for_output(geteuid());
                assert_int_equal(fh_trust_check_dir(out2, logs, &problem), -EPERM);
        }
        tl_rmtree(top);
}

static void test_shebang_parse(void **state) {
        g_autofree char *p = NULL, *e = NULL, *p2 = NULL, *e2 = NULL, *p3 = NULL, *e3 = NULL;

        assert_true(fh_shebang_parse("#! /bin/sh -e\nx", 15, &p, &e));
        assert_string_equal(p, "/bin/sh");
        assert_null(e);
        assert_true(fh_shebang_parse("#!/usr/bin/env -S python3 -u\n", 29, &p2, &e2));
        assert_string_equal(p2, "/usr/bin/env");
        assert_string_equal(e2, "python3");
        assert_false(fh_shebang_parse("#!\n", 3, &p3, &e3));
        assert_false(fh_shebang_parse("echo\n", 5, &p3, &e3));
}

/* env as the kernel calls it: all after the program is one argument, so
 * what env looks up, or whether the policy can tell at all. */
static void test_shebang_env(void **state) {
        static const struct {
                const char *line, *env_name;    /* NULL: env runs nothing */
        } cases[] = {
                { "#!/usr/bin/env sh\n", "sh" },
                { "#!/usr/bin/env sh -e\n", "sh -e" },         /* one name, spaces included */
                { "#!/usr/bin/env -Ssh\n", "sh" },
                { "#!/usr/bin/env -S  sh -e\n", "sh" },
                { "#!/usr/bin/env FOO=1 sh\n", NULL },         /* one assignment, no program */
                { "#!/usr/bin/env\n", NULL },
                { "#!/usr/bin/env -S PATH=/home/u/bin sh\n", "" },
                { "#!/usr/bin/env -S FOO=1 sh\n", "" },
                { "#!/usr/bin/env -S -C / sh\n", "" },
                { "#!/usr/bin/env -S \"sh\"\n", "" },
                { "#!/usr/bin/env -S ${SHELL}\n", "" },
                { "#!/usr/bin/env -i sh\n", "" },
                { "#!/usr/bin/env sh\r\n", "sh\r" },           /* CRLF: env looks for "sh\r" */
        };

        /* The kernel reads 255 bytes of a #! line: what is past them is
         * not part of the name env gets. */
        {
                g_autofree char *p = NULL, *e = NULL, *name = g_strnfill(300, 'x');
                g_autofree char *line = g_strdup_printf("#!/usr/bin/env %s\n", name);

                assert_true(fh_shebang_parse(line, strlen(line), &p, &e));
                assert_int_equal(strlen(e), 255 - strlen("#!/usr/bin/env "));
        }
        for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
                g_autofree char *p = NULL, *e = NULL;

                assert_true(fh_shebang_parse(cases[k].line, strlen(cases[k].line), &p, &e));
                assert_string_equal(p, "/usr/bin/env");
                if (cases[k].env_name)
                        assert_string_equal(e, cases[k].env_name);
                else
                        assert_null(e);
        }
}

/* A chain of links, each within PATH_MAX, that leads deeper than PATH_MAX:
 * the kernel follows it, but each step of the walk keeps where it is, so
 * 32 links of 2,000 directories each cost root gigabytes and minutes (seen:
 * 4 GB, then a crash, under a user's chain). It is refused at PATH_MAX,
 * where open() by the name would fail anyway. */
static void test_resolution_longer_than_path_max(void **state) {
        g_autofree char *top = tl_mkdtemp(), *start = g_build_filename(top, "l0", NULL), *problem = NULL;
        g_autofree char *name = g_strnfill(200, 'a');
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());
        char *rm[] = { "rm", "-rf", top, NULL };
        struct stat st;
        int dfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;

        /* l0 -> 18 levels of 200-byte names/l1 -> 18 more/x: 7,200 bytes. */
        for (int link = 0; link < 2; link++) {
                g_autoptr(GString) target = g_string_new(NULL);
                int below = openat(dfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

                for (int k = 0; k < 18; k++) {
                        int next;
                        assert_int_equal(mkdirat(below, name, 0755), 0);
                        next = openat(below, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        close(below);
                        below = next;
                        g_string_append_printf(target, "%s/", name);
                }
                g_string_append(target, link == 0 ? "l1" : "x");
                assert_int_equal(symlinkat(target->str, dfd, link == 0 ? "l0" : "l1"), 0);
                close(dfd);
                dfd = below;
        }
        close(openat(dfd, "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
        close(dfd);
        assert_int_equal(stat(start, &st), 0);  /* the kernel follows it */

        assert_int_equal(fh_trust_open(t, start, O_RDONLY, &fd, &st, &problem), -ENAMETOOLONG);
        assert_non_null(strstr(problem, "File name too long"));
        assert_true(g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL));
}

/* The log is judged by name before it is opened; in a directory a group
 * may write, a member can put a file of theirs (or a hard link) there in
 * between. As root, what was opened is judged again. */
static void test_log_opened_is_judged(void **state) {
        g_autofree char *top = tl_mkdtemp(), *log = g_build_filename(top, "log", NULL);
        g_autofree char *other = g_build_filename(top, "other", NULL);
        bool open_line;
        int fd;

        if (geteuid() != 0) {
                tl_rmtree(top);
                skip();
        }
        fd = fh_logfile_open(log, &open_line);      /* created by root: fine */
        assert_true(fd >= 0);
        close(fd);
        fd = fh_logfile_open(log, &open_line);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(chown(log, 65534, 65534), 0);
        assert_int_equal(fh_logfile_open(log, &open_line), -EPERM);
        assert_int_equal(chown(log, 0, 0), 0);
        assert_int_equal(link(log, other), 0);
        assert_int_equal(fh_logfile_open(log, &open_line), -EMLINK);
        assert_int_equal(unlink(other), 0);
        /* Readable by others: fine where only root writes the directory,
         * not where a group may (any file of it can be renamed there). */
        assert_int_equal(chmod(log, 0644), 0);
        fd = fh_logfile_open(log, &open_line);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(chmod(top, 0775), 0);
        assert_int_equal(fh_logfile_open(log, &open_line), -EACCES);
        tl_rmtree(top);
}

/* A #! interpreter that does not exist yet, in a sticky world-writable
 * directory: anyone can create it there between the check and the exec
 * (or before the next hook with the same interpreter). */
static void test_missing_interpreter_in_sticky_dir(void **state) {
        g_autofree char *top = tl_mkdtemp(), *sticky = g_build_filename(top, "tmp", NULL);
        g_autofree char *body = NULL, *script = NULL, *problem = NULL, *want = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());
        int fd;

        g_mkdir(sticky, 0755);
        chmod(sticky, 01777);
        body = g_strdup_printf("#!%s/later/sh\ntrue\n", sticky);
        script = tl_write_file(top, "hook", body, 0755);
        fd = open(script, O_RDONLY | O_CLOEXEC);
        assert_int_equal(fh_trust_check_interpreter(t, fd, "/usr/bin:/bin", &problem), -EPERM);
        close(fd);
        want = g_strdup_printf("%s is writable by group or others", sticky);
        assert_non_null(strstr(problem, want));
        g_clear_pointer(&problem, g_free);
        /* Missing in a directory only root can add to: nothing to fear. */
        chmod(sticky, 0755);
        {
                g_autoptr(fh_trust) t2 = fh_trust_new(geteuid());
                fd = open(script, O_RDONLY | O_CLOEXEC);
                assert_int_equal(fh_trust_check_interpreter(t2, fd, "/usr/bin:/bin", &problem), 0);
                close(fd);
        }
        tl_rmtree(top);
}

/* The hooks' PATH keeps only trusted directories, saying why each other
 * one goes; a missing one goes silently. */
static void test_search_path(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *good = g_build_filename(top, "good", NULL), *open_dir = g_build_filename(top, "open", NULL);
        g_autofree char *missing = g_build_filename(top, "missing", NULL), *path = NULL, *kept = NULL;
        g_autofree char *want = NULL;
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());

        g_mkdir(good, 0755);
        g_mkdir(open_dir, 0777);
        chmod(open_dir, 0777);
        path = g_strdup_printf("%s:%s:%s:/usr/bin", good, open_dir, missing);
        kept = fh_trust_search_path(t, path, problems);
        want = g_strdup_printf("%s:/usr/bin", good);
        assert_string_equal(kept, want);
        assert_int_equal(problems->len, 1);
        g_free(want);
        want = g_strdup_printf("PATH entry %s is not trusted: %s is writable by group or others", open_dir, open_dir);
        assert_non_null(strstr(problems->pdata[0], want));
        tl_rmtree(top);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_judge_rules),
                cmocka_unit_test(test_judge_devices_and_system_paths),
                cmocka_unit_test(test_real_directories),
                cmocka_unit_test(test_symlink_chains),
                cmocka_unit_test(test_foreign_owner),
                cmocka_unit_test(test_user_symlink_refused),
                cmocka_unit_test(test_interpreter),
                cmocka_unit_test(test_output_policy),
                cmocka_unit_test(test_shebang_parse),
                cmocka_unit_test(test_shebang_env),
                cmocka_unit_test(test_search_path),
                cmocka_unit_test(test_resolution_longer_than_path_max),
                cmocka_unit_test(test_log_opened_is_judged),
                cmocka_unit_test(test_missing_interpreter_in_sticky_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
