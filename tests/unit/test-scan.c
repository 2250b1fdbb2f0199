/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "scan.h"
#include "testlib.h"

static const struct fh_hook *find(GPtrArray *hooks, const char *name) {
        for (guint i = 0; i < hooks->len; i++) {
                const struct fh_hook *h = hooks->pdata[i];
                if (strcmp(h->name, name) == 0)
                        return h;
        }
        fail_msg("entry %s not listed", name);
        return NULL;
}

static void test_ignored_suffixes_match_qemu(void **state) {
        const char *ignored[] = { "x~", "x.bak", "x.orig", "x.rpmnew", "x.rpmorig", "x.rpmsave", "x.sample",
                                  "x.dpkg-old", "x.dpkg-new", "x.dpkg-tmp", "x.dpkg-dist", "x.dpkg-bak",
                                  "x.dpkg-backup", "x.dpkg-remove" };
        const char *kept[] = { "x", "x.sh", "bak", "x.bak.sh", "x.dpkg", "x.rpm", "x.samples", "x.py" };

        for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++)
                assert_non_null(fh_ignored_suffix(ignored[i]));
        for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
                assert_null(fh_ignored_suffix(kept[i]));
        assert_string_equal(fh_ignored_suffix("mysql.dpkg-old"), ".dpkg-old");
}

static void test_classify_modes(void **state) {
        struct stat st = { 0 };

        st.st_mode = S_IFREG | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_RUN);
        st.st_mode = S_IFREG | 0700;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_RUN);
        st.st_mode = S_IFREG | 0010;    /* any execute bit counts */
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_RUN);
        st.st_mode = S_IFREG | 0644;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_NOT_EXECUTABLE);
        st.st_mode = S_IFDIR | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_DIRECTORY);
        st.st_mode = S_IFIFO | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_FIFO);
        st.st_mode = S_IFSOCK | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_SOCKET);
        st.st_mode = S_IFCHR | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_DEVICE);
        st.st_mode = S_IFBLK | 0755;
        assert_int_equal(fh_classify("10-db", &st), FH_VERDICT_DEVICE);
        st.st_mode = S_IFREG | 0755;
        assert_int_equal(fh_classify(".hidden", &st), FH_VERDICT_DOTFILE);
        assert_int_equal(fh_classify("10-db.rpmsave", &st), FH_VERDICT_LEFTOVER);
}

static void make_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        close(fd);
}

static void test_scan_real_directory(void **state) {
        g_autofree char *dir = tl_mkdtemp();
        g_autofree char *sub = g_build_filename(dir, "sub", NULL);
        g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
        g_autofree char *sock = g_build_filename(dir, "sock", NULL);
        g_autofree char *dev = g_build_filename(dir, "dev", NULL);
        g_autofree char *broken = g_build_filename(dir, "broken", NULL);
        g_autofree char *loop = g_build_filename(dir, "loop", NULL);
        g_autofree char *link = g_build_filename(dir, "link-to-hook", NULL);
        g_autoptr(GPtrArray) hooks = NULL;
        bool have_dev;

        g_free(tl_write_hook(dir, "10-hook", "exit 0"));
        g_free(tl_write_file(dir, "README", "text", 0644));
        g_free(tl_write_hook(dir, ".hidden", "exit 0"));
        g_free(tl_write_hook(dir, "20-x.dpkg-old", "exit 0"));
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(mkfifo(fifo, 0755), 0);
        make_socket(sock);
        have_dev = mknod(dev, S_IFCHR | 0755, makedev(1, 3)) == 0;      /* needs root */
        assert_int_equal(symlink("nowhere", broken), 0);
        assert_int_equal(symlink("loop", loop), 0);
        assert_int_equal(symlink("10-hook", link), 0);

        assert_int_equal(fh_scan_dir(dir, &hooks), 0);
        assert_int_equal(hooks->len, have_dev ? 11 : 10);
        assert_int_equal(find(hooks, "10-hook")->verdict, FH_VERDICT_RUN);
        assert_int_equal(find(hooks, "link-to-hook")->verdict, FH_VERDICT_RUN);
        assert_int_equal(find(hooks, "README")->verdict, FH_VERDICT_NOT_EXECUTABLE);
        assert_int_equal(find(hooks, ".hidden")->verdict, FH_VERDICT_DOTFILE);
        assert_int_equal(find(hooks, "20-x.dpkg-old")->verdict, FH_VERDICT_LEFTOVER);
        assert_string_equal(find(hooks, "20-x.dpkg-old")->suffix, ".dpkg-old");
        assert_int_equal(find(hooks, "sub")->verdict, FH_VERDICT_DIRECTORY);
        assert_int_equal(find(hooks, "fifo")->verdict, FH_VERDICT_FIFO);
        assert_int_equal(find(hooks, "sock")->verdict, FH_VERDICT_SOCKET);
        if (have_dev)
                assert_int_equal(find(hooks, "dev")->verdict, FH_VERDICT_DEVICE);
        assert_int_equal(find(hooks, "broken")->verdict, FH_VERDICT_BROKEN_SYMLINK);
        assert_int_equal(find(hooks, "loop")->verdict, FH_VERDICT_SYMLINK_LOOP);
        tl_rmtree(dir);
}

/* systemd's rule: whatever chain of links leads to /dev/null masks, a
 * relative one included (issue 10, #9); the device node itself does not. */
static void test_masks(void **state) {
        g_autofree char *dir = tl_mkdtemp();
        g_autofree char *rel = g_build_filename(dir, "20-rel", NULL), *abs = g_build_filename(dir, "10-abs", NULL);
        g_autofree char *chain = g_build_filename(dir, "30-chain", NULL), *up = NULL, *dots = NULL;
        g_autofree char *other = g_build_filename(dir, "40-other", NULL);
        g_autoptr(GPtrArray) hooks = NULL;
        int depth = 0;

        /* As many '..' as it takes from dir to /, and then some. */
        for (const char *p = dir; *p; p++)
                depth += *p == '/';
        dots = g_strjoinv("/", (char *[]) { "..", "..", "..", "..", "..", "..", "..", "..", NULL });
        up = g_strdup_printf("%s/dev/null", dots);
        assert_true(depth < 8);
        assert_int_equal(symlink("/dev/null", abs), 0);
        assert_int_equal(symlink(up, rel), 0);
        assert_int_equal(symlink("20-rel", chain), 0);
        assert_int_equal(symlink("/dev/zero", other), 0);

        assert_true(fh_is_mask(AT_FDCWD, rel));
        assert_true(fh_is_mask(AT_FDCWD, chain));
        assert_false(fh_is_mask(AT_FDCWD, other));
        assert_false(fh_is_mask(AT_FDCWD, "/dev/null"));        /* not a symlink */
        assert_int_equal(fh_scan_dir(dir, &hooks), 0);
        assert_int_equal(find(hooks, "10-abs")->verdict, FH_VERDICT_MASKED);
        assert_int_equal(find(hooks, "20-rel")->verdict, FH_VERDICT_MASKED);
        assert_int_equal(find(hooks, "30-chain")->verdict, FH_VERDICT_MASKED);
        assert_int_equal(find(hooks, "40-other")->verdict, FH_VERDICT_DEVICE);
        tl_rmtree(dir);
}

static void test_scan_order_is_bytewise(void **state) {
        const char *names[] = { "b", "a", "B", "_x", "10", "9", "\xc3\xa9", "A-1", "a b", "a\nb" };
        const char *expected[] = { "10", "9", "A-1", "B", "_x", "a", "a\nb", "a b", "b", "\xc3\xa9" };
        g_autofree char *dir = tl_mkdtemp();
        g_autoptr(GPtrArray) hooks = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
                g_free(tl_write_hook(dir, names[i], "exit 0"));
        assert_int_equal(fh_scan_dir(dir, &hooks), 0);
        assert_int_equal(hooks->len, G_N_ELEMENTS(expected));
        for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
                assert_string_equal(((struct fh_hook *) hooks->pdata[i])->name, expected[i]);

        fh_hooks_reverse(hooks);
        for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
                assert_string_equal(((struct fh_hook *) hooks->pdata[i])->name,
                                    expected[G_N_ELEMENTS(expected) - 1 - i]);
        tl_rmtree(dir);
}

static void test_scan_missing_directory(void **state) {
        g_autoptr(GPtrArray) hooks = NULL;

        assert_int_equal(fh_scan_dir("/nonexistent/fsfreeze-hook.d", &hooks), -ENOENT);
        assert_null(hooks);
}

static void test_describe_skip(void **state) {
        struct fh_hook h = { .name = "x", .path = "/d/x" };
        g_autofree char *a = NULL, *b = NULL, *c = NULL;

        h.verdict = FH_VERDICT_NOT_EXECUTABLE;
        a = fh_hook_describe_skip(&h);
        assert_string_equal(a, "not executable (chmod +x to run it)");
        h.verdict = FH_VERDICT_LEFTOVER;
        h.suffix = ".rpmnew";
        b = fh_hook_describe_skip(&h);
        assert_string_equal(b, "backup or package-manager leftover (*.rpmnew)");
        h.verdict = FH_VERDICT_STAT_FAILED;
        h.error = EACCES;
        c = fh_hook_describe_skip(&h);
        assert_string_equal(c, "cannot be examined: Permission denied");
        assert_false(fh_verdict_is_notable(FH_VERDICT_DOTFILE));
        assert_true(fh_verdict_is_notable(FH_VERDICT_BROKEN_SYMLINK));
}

static void test_dir_scan_error(void **state) {
        struct fh_dir_scan ok = { .dir = (char *) "/a", .error = 0 };
        struct fh_dir_scan missing = { .dir = (char *) "/b", .error = -ENOENT };
        struct fh_dir_scan denied = { .dir = (char *) "/c", .error = -EACCES };

        assert_null(fh_dir_scan_error(&ok));
        assert_string_equal(fh_dir_scan_error(&missing), "does not exist");
        assert_string_equal(fh_dir_scan_error(&denied), g_strerror(EACCES));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ignored_suffixes_match_qemu),
                cmocka_unit_test(test_classify_modes),
                cmocka_unit_test(test_scan_real_directory),
                cmocka_unit_test(test_masks),
                cmocka_unit_test(test_scan_order_is_bytewise),
                cmocka_unit_test(test_scan_missing_directory),
                cmocka_unit_test(test_describe_skip),
                cmocka_unit_test(test_dir_scan_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
