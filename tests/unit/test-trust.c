/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"
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
        assert_non_null(d);
        e = fh_trust_judge(&open_dir, "/srv", 0, true);
        assert_non_null(e);
        /* A name that is not plain text is escaped in the message. */
        {
                g_autofree char *f = fh_trust_judge(&group_w, "/h/a\nb", 0, false);
                assert_non_null(strstr(f, "/h/a\\x0ab"));
                assert_null(strchr(f, '\n'));
        }
}

static void test_real_directories(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *hooks = g_build_filename(top, "hooks", NULL);
        g_autofree char *other = g_build_filename(top, "other", NULL);
        g_autofree char *hook = NULL, *target = NULL, *link = NULL, *problem = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(geteuid());
        struct stat st;
        int fd;

        g_mkdir(hooks, 0755);
        g_mkdir(other, 0755);
        hook = tl_write_hook(hooks, "10-ok", "true");

        assert_int_equal(fh_trust_check_dir(t, hooks, &problem), 0);
        fd = open(hook, O_RDONLY | O_CLOEXEC);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(fh_trust_check_file(t, fd, &st, hook, &problem), 0);
        close(fd);

        /* A hook writable by others. */
        chmod(hook, 0757);
        fd = open(hook, O_RDONLY | O_CLOEXEC);
        fstat(fd, &st);
        assert_int_equal(fh_trust_check_file(t, fd, &st, hook, &problem), -EPERM);
        assert_non_null(strstr(problem, "10-ok is writable by group or others"));
        close(fd);
        g_clear_pointer(&problem, g_free);

        /* A symlinked hook is judged where it really lives. */
        chmod(other, 0777);
        target = tl_write_hook(other, "real", "true");
        link = g_build_filename(hooks, "20-link", NULL);
        assert_int_equal(symlink(target, link), 0);
        fd = open(link, O_RDONLY | O_CLOEXEC);
        fstat(fd, &st);
        assert_int_equal(fh_trust_check_file(t, fd, &st, link, &problem), -EPERM);
        assert_non_null(strstr(problem, "/other is writable by group or others (fix: chmod go-w"));
        close(fd);
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
        assert_non_null(strstr(problem, "cannot examine /nonexistent/dir"));
        tl_rmtree(top);
}

static void test_foreign_owner(void **state) {
        g_autofree char *top = tl_mkdtemp();
        g_autofree char *hook = NULL, *problem = NULL;
        g_autoptr(fh_trust) t = fh_trust_new(0);
        struct stat st;
        int fd;

        if (geteuid() != 0)
                skip();
        hook = tl_write_hook(top, "10-x", "true");
        assert_int_equal(chown(hook, 65534, 65534), 0);
        fd = open(hook, O_RDONLY | O_CLOEXEC);
        fstat(fd, &st);
        assert_int_equal(fh_trust_check_file(t, fd, &st, hook, &problem), -EPERM);
        assert_non_null(strstr(problem, "is owned by uid 65534, not by root (fix: chown root"));
        close(fd);
        tl_rmtree(top);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_judge_rules),
                cmocka_unit_test(test_real_directories),
                cmocka_unit_test(test_foreign_owner),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
