/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "caller.h"
#include "platform.h"

/* VMware's failure word (open-vm-tools scriptOps.c:139-149). */
#define FREEZE_FAIL "freezeFail"

void fh_caller_done(struct fh_caller *c) {
        g_clear_pointer(&c->arg, g_free);
}

/* How each agent names what it runs; paths end the same under --root. */
int fh_caller_from_argv0(const char *argv0, int *ret_phase) {
        g_autofree char *base = NULL;

        *ret_phase = -1;
        if (!argv0)
                return -1;
        base = g_path_get_basename(argv0);
        if (strstr(argv0, "/vmware-tools/backupScripts.d/") || g_str_equal(base, "pre-freeze-script") ||
            g_str_equal(base, "post-thaw-script"))
                return FH_PLATFORM_VMWARE;
        if (g_str_has_suffix(argv0, "/google/snapshots/pre.sh") ||
            g_str_has_suffix(argv0, "/google/snapshots/post.sh")) {
                *ret_phase = g_str_equal(base, "pre.sh") ? FH_PHASE_FREEZE : FH_PHASE_THAW;
                return FH_PLATFORM_GCE;
        }
        if (g_str_equal(base, "pre_freeze") || g_str_equal(base, "post_thaw")) {
                *ret_phase = g_str_equal(base, "pre_freeze") ? FH_PHASE_FREEZE : FH_PHASE_THAW;
                return FH_PLATFORM_NUTANIX;
        }
        return -1;
}

/* The phase argument: freeze or thaw, and for VMware also freezeFail. */
static int phase_argument(int platform, const char *arg, struct fh_caller *c, char **ret_error) {
        int r;

        if (platform == FH_PLATFORM_VMWARE && g_str_equal(arg, FREEZE_FAIL)) {
                c->phase = FH_PHASE_THAW;
                c->freeze_failed = true;
                return 0;
        }
        r = fh_phase_from_string(arg);
        if (r < 0) {
                *ret_error = g_strdup_printf("unknown phase '%s': expected freeze or thaw%s", arg,
                                             platform == FH_PLATFORM_VMWARE ? " or " FREEZE_FAIL
                                             : " (" FREEZE_FAIL " comes from VMware only)");
                return -EINVAL;
        }
        c->phase = r;
        return 0;
}

int fh_caller_recognise(const char *argv0, int forced, char *const *args, int n_args, struct fh_caller *ret,
                        char **ret_error) {
        struct fh_caller c = { .platform = forced, .phase = -1 };
        int named_phase = -1, i = 0;

        if (forced < 0)
                c.platform = fh_caller_from_argv0(argv0, &named_phase);
        if (named_phase >= 0)
                c.phase = named_phase;
        else if (n_args < 1) {
                *ret_error = g_strdup("missing phase: freeze or thaw");
                return -EINVAL;
        } else if (phase_argument(c.platform, args[i++], &c, ret_error) < 0)
                return -EINVAL;
        /* qemu-ga passes nothing more; the others one argument at most. */
        if (i < n_args && c.platform >= 0)
                c.arg = g_strdup(args[i++]);
        if (i < n_args) {
                *ret_error = g_strdup_printf("unexpected argument '%s'", args[i]);
                fh_caller_done(&c);
                return -EINVAL;
        }
        /* vmtoolsd before 12.3.5 passes an empty scriptArg as "": the
         * same as none, which 12.3.5 leaves out (commit 3b5308bb4). */
        if (c.platform == FH_PLATFORM_VMWARE && c.arg && !*c.arg)
                g_clear_pointer(&c.arg, g_free);
        *ret = c;
        return 0;
}

const char *fh_caller_name(int platform) {
        return platform < 0 ? "qemu-ga" : fh_platform_to_string(platform);
}
