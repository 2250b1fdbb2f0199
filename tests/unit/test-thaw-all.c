/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading mount points from mountinfo, as the freeze deadline's thaw
 * does. No FITHAW reaches a real filesystem here: the streams given to
 * fh_thaw_all() name paths that do not exist, or are read by a child
 * without CAP_SYS_ADMIN, whom the kernel refuses any FITHAW. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "thaw_all.h"

static void check_point(const char *line, const char *want) {
        g_autofree char *got = fh_mountinfo_mount_point(line);

        if (!want)
                assert_null(got);
        else
                assert_string_equal(got, want);
}

static void test_mount_point(void **state) {
        check_point("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
                    "/mnt/parent");
        check_point("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n", "/");
        /* The kernel escapes space, tab, newline and backslash. */
        check_point("40 22 7:0 / /mnt/with\\040space\\011tab\\134back rw - ext4 /dev/loop0 rw\n",
                    "/mnt/with space\ttab\\back");
        /* A backslash not followed by three octal digits stays as it is. */
        check_point("40 22 7:0 / /mnt/a\\9 rw - ext4 /dev/loop0 rw\n", "/mnt/a\\9");
        check_point("40 22 7:0 / /mnt/end\\04 rw - ext4 /dev/loop0 rw\n", "/mnt/end\\04");
        /* Malformed: too few fields, not absolute, empty. */
        check_point("40 22 7:0 /\n", NULL);
        check_point("40 22 7:0 / relative rw - ext4 x rw\n", NULL);
        check_point("", NULL);
        check_point("40 22 7:0 /  rw - ext4 x rw\n", NULL);
}

static void test_nothing_to_thaw(void **state) {
        const char text[] = "40 22 7:0 / /nonexistent/fsfreeze-hook-test/a rw - ext4 /dev/loop0 rw\n"
                            "garbage\n"
                            "41 22 7:1 / /nonexistent/fsfreeze-hook-test/b\\040c rw - ext4 /dev/loop1 rw\n";
        FILE *f = fmemopen((void *) text, sizeof text - 1, "r");

        assert_non_null(f);
        assert_int_equal(fh_thaw_all(f), 0);
        fclose(f);
}

/* Whether fh_thaw_all() opens 'watched' for a mountinfo line whose mount
 * point is 'mount_point', of type 'type': inotify sees the open. The child
 * that reads the stream has no CAP_SYS_ADMIN (nobody, if we are root), so
 * the kernel refuses its FITHAW on the filesystem of /tmp before looking
 * at it. */
static bool opens(const char *mount_point, const char *watched, const char *type) {
        g_autofree char *text = g_strdup_printf("40 22 0:99 / %s rw - %s server:/export rw\n", mount_point, type);
        char buf[4096];
        int in, status;
        pid_t pid;
        bool opened;

        in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(in >= 0);
        assert_true(inotify_add_watch(in, watched, IN_OPEN) >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                FILE *f = fmemopen(text, strlen(text), "r");

                int ok;

                if (getuid() == 0 && setresuid(65534, 65534, 65534) < 0)
                        _exit(2);
                ok = f && fh_thaw_all(f) == 0;
                /* _exit() runs no cleanup: free by hand, or valgrind's
                 * leak check fails the child. */
                if (f)
                        fclose(f);
                g_free(g_steal_pointer(&text));
                _exit(ok ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        opened = read(in, buf, sizeof buf) > 0;
        close(in);
        return opened;
}

static bool opens_mount_of_type(const char *type) {
        g_autofree char *dir = g_dir_make_tmp("fsfreeze-thaw-all-XXXXXX", NULL);
        bool opened;

        assert_non_null(dir);
        assert_int_equal(chmod(dir, 0755), 0);
        opened = opens(dir, dir, type);
        assert_int_equal(rmdir(dir), 0);
        return opened;
}

/* The mount points are read from mountinfo, then opened by path as root:
 * a user who can rename a directory on the way (a mount below their home)
 * can put a symlink there in between, to a device whose open does
 * something (/dev/watchdog arms the watchdog), or a device or FIFO of
 * theirs. A mount point path holds no symlink, and a filesystem's mount
 * point is a directory (or a file, bind-mounted): anything else is not
 * opened. */
static void test_opens_no_symlink_nor_device(void **state) {
        g_autofree char *top = g_dir_make_tmp("fsfreeze-thaw-all-XXXXXX", NULL);
        g_autofree char *real = g_build_filename(top, "real", NULL), *sub = g_build_filename(real, "sub", NULL);
        g_autofree char *link = g_build_filename(top, "link", NULL);
        g_autofree char *through = g_build_filename(link, "sub", NULL);
        g_autofree char *fifo = g_build_filename(top, "fifo", NULL);
        g_autofree char *file = g_build_filename(top, "file", NULL);

        assert_non_null(top);
        assert_int_equal(chmod(top, 0755), 0);
        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(symlink(real, link), 0);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_true(g_file_set_contents(file, "", 0, NULL));
        assert_int_equal(chmod(file, 0644), 0);

        /* The controls: a real directory, and a file (a bind mount). */
        assert_true(opens(sub, sub, "ext4"));
        assert_true(opens(file, file, "ext4"));
        if (opens(link, real, "ext4"))
                fail_msg("a mount point that is a symlink was followed");
        if (opens(through, sub, "ext4"))
                fail_msg("a mount point reached through a symlink was opened");
        if (opens(fifo, fifo, "ext4"))
                fail_msg("a FIFO at a mount point was opened");
        unlink(link);
        unlink(fifo);
        unlink(file);
        rmdir(sub);
        rmdir(real);
        assert_int_equal(rmdir(top), 0);
}

/* A mount point whose open may wait on a daemon or a server that never
 * answers (a user's FUSE mount with allow_other, a hard NFS mount of a
 * server that is down) would hang the thaw of everything after it, with
 * the state lock held. None of them can be frozen: none is opened. */
static void test_skips_what_cannot_freeze(void **state) {
        const char *skipped[] = { "fuse", "fuse.sshfs", "fuseblk", "nfs", "nfs4", "cifs", "smb3", "9p",
                                  "virtiofs", "ceph", "autofs" };

        /* The control: the same directory as ext4 is opened. */
        assert_true(opens_mount_of_type("ext4"));
        for (size_t i = 0; i < G_N_ELEMENTS(skipped); i++)
                if (opens_mount_of_type(skipped[i]))
                        fail_msg("the mount point of a %s filesystem was opened", skipped[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mount_point),
                cmocka_unit_test(test_nothing_to_thaw),
                cmocka_unit_test(test_skips_what_cannot_freeze),
                cmocka_unit_test(test_opens_no_symlink_nor_device),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
