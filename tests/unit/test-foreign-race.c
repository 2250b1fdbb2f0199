/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The race a user who can write a platform script's directory runs against
 * root (issue 13): foreign.c stat()s a script, sees a regular file, then
 * opens it to look for --attach's marker; swapped in between for a symlink
 * to a device (/dev/watchdog: opening it arms the machine's reboot) or a
 * FIFO, the open would touch whatever it now names. The swap is made
 * certain here rather than won by chance: stat() (stat64 with meson's
 * _FILE_OFFSET_BITS=64) is wrapped (-Wl,--wrap) to describe a regular
 * file while the path is a symlink to a FIFO, and inotify's IN_OPEN
 * (queued within open() itself; O_PATH queues none) says whether the FIFO
 * was opened. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "foreign.h"
#include "testlib.h"

static char *swapped;           /* the path stat() lies about */
static char *decoy;             /* the regular file it describes instead */

int __real_stat64(const char *path, struct stat *st);
int __wrap_stat64(const char *path, struct stat *st);

int __wrap_stat64(const char *path, struct stat *st) {
        return __real_stat64(swapped && strcmp(path, swapped) == 0 ? decoy : path, st);
}

static void test_swapped_script_not_opened(void **state) {
        g_autofree char *root = tl_mkdtemp(), *dir = g_build_filename(root, "etc/google/snapshots", NULL);
        g_autofree char *fifo = g_build_filename(root, "fifo", NULL);
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(fh_plan_item_free);
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        struct fh_settings s;
        int watch;

        (void) state;
        assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
        decoy = tl_write_hook(root, "decoy", "exit 0\n");
        swapped = g_build_filename(dir, "pre.sh", NULL);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink(fifo, swapped), 0);
        watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        assert_true(watch >= 0);
        assert_true(inotify_add_watch(watch, fifo, IN_OPEN) >= 0);
        fh_settings_init(&s, "/usr/sbin/fsfreeze-hook");
        s.root = g_strdup(root);
        s.platform_scripts = 1U << FH_PLATFORM_GCE;

        fh_foreign_plan(&s, FH_PHASE_FREEZE, NULL, items);
        g_ptr_array_unref(fh_foreign_not_enabled(&(struct fh_settings) { .root = root }, NULL));
        assert_int_equal(items->len, 1);
        assert_true(read(watch, buf, sizeof buf) < 0 && errno == EAGAIN);

        close(watch);
        fh_settings_done(&s);
        g_clear_pointer(&swapped, g_free);
        g_clear_pointer(&decoy, g_free);
        tl_rmtree(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_swapped_script_not_opened),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
