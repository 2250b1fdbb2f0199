/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration parser reads a file an administrator wrote, typos and
 * all. Whatever the bytes: no crash, every warning is one clean log line
 * (valid UTF-8, no control characters), every value it accepts is within
 * its documented range, and parsing again gives the same result. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "escape.h"
#include "fuzz.h"

static void check_clean(const char *s) {
        FUZZ_ASSERT(g_utf8_validate(s, -1, NULL));
        for (const char *p = s; *p; p = g_utf8_next_char(p))
                FUZZ_ASSERT(!fh_unsafe_codepoint(g_utf8_get_char(p)));
}

static void check_layer(const struct fh_layer *l) {
        const int64_t day = 86400000;

        FUZZ_ASSERT(l->timeout_msec >= -1 && l->timeout_msec <= day);
        FUZZ_ASSERT(l->thaw_timeout_msec >= -1 && l->thaw_timeout_msec <= day);
        FUZZ_ASSERT(l->kill_grace_msec >= -1 && l->kill_grace_msec <= day);
        FUZZ_ASSERT(l->max_output >= -1);
        FUZZ_ASSERT(l->on_failure >= -1 && l->on_failure < _FH_ON_FAILURE_MAX);
        FUZZ_ASSERT(l->journal >= -1 && l->journal <= 1);
        FUZZ_ASSERT(l->strict_modes >= -1 && l->strict_modes <= 1);
        for (char **d = l->hook_dirs; d && *d; d++)
                FUZZ_ASSERT((*d)[0] == '/');
        FUZZ_ASSERT(!l->state_dir || l->state_dir[0] == '/');
        FUZZ_ASSERT(!l->log_file || !*l->log_file || l->log_file[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GPtrArray) w1 = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) w2 = g_ptr_array_new_with_free_func(g_free);
        struct fh_layer a, b;

        if (size > 64 * 1024)
                return 0;
        fh_config_parse((const char *) data, size, "fuzz.conf", &a, w1);
        fh_config_parse((const char *) data, size, "fuzz.conf", &b, w2);
        for (guint i = 0; i < w1->len; i++)
                check_clean(w1->pdata[i]);
        check_layer(&a);
        FUZZ_ASSERT(w1->len == w2->len);
        FUZZ_ASSERT(a.timeout_msec == b.timeout_msec && a.max_output == b.max_output);
        fh_layer_done(&a);
        fh_layer_done(&b);
        return 0;
}
