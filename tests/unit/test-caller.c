/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Caller recognition: what each agent's call looks like to us. The calls
 * come from the agents' source, as tests/platform-sources.md cites it:
 * - open-vm-tools services/plugins/vmbackup/scriptOps.c:160-166 builds
 *   "\"<path>\" <op> \"<scriptArg>\"", op freeze, thaw or freezeFail
 *   (scriptOps.c:139-149); the third word is left out when scriptArg is
 *   NULL or, since 12.3.5, empty; before it (Debian 12's 12.2.0) an empty
 *   one is passed as "". Legacy scripts: scriptOps.c:49-55.
 * - GoogleCloudPlatform/guest-agent google_guest_agent/snapshot_listener.go
 *   runs /etc/google/snapshots/pre.sh or post.sh with exactly one
 *   argument, the disk list ("1/2,3/4", possibly empty).
 * - Nutanix (closed; Commvault's documentation): /usr/local/sbin/pre_freeze
 *   and post_thaw, arguments undocumented (none assumed).
 * - Our own wrappers (Nutanix, Azure): --caller=PLATFORM -- freeze|thaw "$@". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "caller.h"
#include "platform.h"

static int recognise(const char *argv0, int forced, struct fh_caller *c, char **error, ...) {
        g_autoptr(GPtrArray) args = g_ptr_array_new();
        const char *a;
        va_list ap;

        va_start(ap, error);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(args, (char *) a);
        va_end(ap);
        g_ptr_array_add(args, NULL);
        return fh_caller_recognise(argv0, forced, (char *const *) args->pdata, (int) args->len - 1, c, error);
}

/* qemu-ga: one argument, freeze or thaw, as ever. */
static void test_qemu_ga(void **state) {
        g_autofree char *error = NULL;
        struct fh_caller c;

        assert_int_equal(recognise("/etc/qemu/fsfreeze-hook", -1, &c, &error, "thaw", NULL), 0);
        assert_int_equal(c.platform, -1);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_false(c.freeze_failed);
        assert_null(c.arg);
        assert_string_equal(fh_caller_name(c.platform), "qemu-ga");
        fh_caller_done(&c);
        /* freezeFail is VMware's word only; a second argument is nobody's. */
        assert_int_equal(recognise("/usr/sbin/fsfreeze-hook", -1, &c, &error, "freezeFail", NULL), -EINVAL);
        assert_non_null(strstr(error, "freezeFail"));
        g_clear_pointer(&error, g_free);
        assert_int_equal(recognise("fsfreeze-hook", -1, &c, &error, "freeze", "x", NULL), -EINVAL);
        assert_non_null(strstr(error, "'x'"));
        g_clear_pointer(&error, g_free);
        assert_int_equal(recognise("fsfreeze-hook", -1, &c, &error, NULL), -EINVAL);
}

/* vmtoolsd, backupScripts.d: "<path>" freeze|thaw|freezeFail ["arg"]. */
static void test_vmware(void **state) {
        g_autofree char *error = NULL;
        struct fh_caller c;

        assert_int_equal(recognise("/etc/vmware-tools/backupScripts.d/fsfreeze-hook", -1, &c, &error, "freeze",
                                   NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_VMWARE);
        assert_int_equal(c.phase, FH_PHASE_FREEZE);
        assert_null(c.arg);
        fh_caller_done(&c);

        /* 12.2.0 (Debian 12): the empty scriptArg comes as "": none. */
        assert_int_equal(recognise("/etc/vmware-tools/backupScripts.d/fsfreeze-hook", -1, &c, &error, "thaw", "",
                                   NULL), 0);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_false(c.freeze_failed);
        assert_null(c.arg);
        fh_caller_done(&c);

        /* freezeFail with a scriptArg: a thaw, reason freeze-failed. */
        assert_int_equal(recognise("/build/root/etc/vmware-tools/backupScripts.d/fsfreeze-hook", -1, &c, &error,
                                   "freezeFail", "nightly", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_VMWARE);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_true(c.freeze_failed);
        assert_string_equal(c.arg, "nightly");
        assert_string_equal(fh_caller_name(c.platform), "vmware");
        fh_caller_done(&c);

        /* The legacy pair, by name. */
        assert_int_equal(recognise("/usr/sbin/post-thaw-script", -1, &c, &error, "freezeFail", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_VMWARE);
        assert_true(c.freeze_failed);
        fh_caller_done(&c);
        assert_int_equal(recognise("/usr/sbin/pre-freeze-script", -1, &c, &error, "freeze", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_VMWARE);
        fh_caller_done(&c);

        /* Three arguments: no vmtoolsd passes them. */
        assert_int_equal(recognise("/etc/vmware-tools/backupScripts.d/x", -1, &c, &error, "freeze", "a", "b",
                                   NULL), -EINVAL);
        g_clear_pointer(&error, g_free);
        assert_int_equal(recognise("/etc/vmware-tools/backupScripts.d/x", -1, &c, &error, "frozen", NULL),
                         -EINVAL);
        assert_non_null(strstr(error, "freezeFail"));
}

/* Google's agent: pre.sh / post.sh with one argument, the disk list. */
static void test_gce(void **state) {
        g_autofree char *error = NULL;
        struct fh_caller c;

        assert_int_equal(recognise("/etc/google/snapshots/pre.sh", -1, &c, &error, "1/2,3/4", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_GCE);
        assert_int_equal(c.phase, FH_PHASE_FREEZE);
        assert_string_equal(c.arg, "1/2,3/4");
        fh_caller_done(&c);
        /* The disk list may be empty: it is still the argument. */
        assert_int_equal(recognise("/tmp/r/etc/google/snapshots/post.sh", -1, &c, &error, "", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_GCE);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_false(c.freeze_failed);
        assert_string_equal(c.arg, "");
        fh_caller_done(&c);
        /* Not "freeze" as a disk list's phase: the name says the phase. */
        assert_int_equal(recognise("/etc/google/snapshots/pre.sh", -1, &c, &error, "thaw", NULL), 0);
        assert_int_equal(c.phase, FH_PHASE_FREEZE);
        assert_string_equal(c.arg, "thaw");
        fh_caller_done(&c);
        /* Some other pre.sh is not Google's. */
        assert_int_equal(fh_caller_from_argv0("/opt/app/pre.sh", &(int) { 0 }), -1);
        assert_int_equal(recognise("/etc/google/snapshots/pre.sh", -1, &c, &error, "a", "b", NULL), -EINVAL);
}

/* Nutanix: pre_freeze / post_thaw, by name; our wrapper: --caller. */
static void test_nutanix_and_wrappers(void **state) {
        g_autofree char *error = NULL;
        struct fh_caller c;

        assert_int_equal(recognise("/usr/local/sbin/post_thaw", -1, &c, &error, NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_NUTANIX);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_null(c.arg);
        fh_caller_done(&c);

        /* The wrapper: exec /usr/sbin/fsfreeze-hook --caller=nutanix freeze. */
        assert_int_equal(recognise("/usr/sbin/fsfreeze-hook", FH_PLATFORM_NUTANIX, &c, &error, "freeze", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_NUTANIX);
        assert_int_equal(c.phase, FH_PHASE_FREEZE);
        fh_caller_done(&c);

        /* Azure: sh WRAPPER params...; one parameter reaches the hooks. */
        assert_int_equal(recognise("/usr/sbin/fsfreeze-hook", FH_PLATFORM_AZURE, &c, &error, "thaw", "p1", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_AZURE);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        assert_string_equal(c.arg, "p1");
        fh_caller_done(&c);

        /* --caller wins over the name. */
        assert_int_equal(recognise("/etc/google/snapshots/pre.sh", FH_PLATFORM_AZURE, &c, &error, "thaw", NULL), 0);
        assert_int_equal(c.platform, FH_PLATFORM_AZURE);
        assert_int_equal(c.phase, FH_PHASE_THAW);
        fh_caller_done(&c);

        /* freezeFail only from VMware. */
        assert_int_equal(recognise("x", FH_PLATFORM_AZURE, &c, &error, "freezeFail", NULL), -EINVAL);
        g_clear_pointer(&error, g_free);
        assert_int_equal(recognise("x", FH_PLATFORM_VMWARE, &c, &error, "freezeFail", NULL), 0);
        assert_true(c.freeze_failed);
        fh_caller_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_qemu_ga),
                cmocka_unit_test(test_vmware),
                cmocka_unit_test(test_gce),
                cmocka_unit_test(test_nutanix_and_wrappers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
