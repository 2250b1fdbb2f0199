/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a fuzz target once over each file given (its corpus and the inputs
 * that once crashed it), so that every build, not only a clang fuzzing
 * build, checks them. Directories are read recursively. */
#include <glib.h>
#include <stdio.h>

#include "fuzz.h"

static unsigned run_path(const char *path) {
        g_autofree char *data = NULL;
        gsize len = 0;
        unsigned n = 0;

        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
                g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
                const char *name;

                while (d && (name = g_dir_read_name(d))) {
                        g_autofree char *p = g_build_filename(path, name, NULL);
                        n += run_path(p);
                }
                return n;
        }
        if (!g_file_get_contents(path, &data, &len, NULL)) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, len);
        return 1;
}

int main(int argc, char **argv) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++)
                n += run_path(argv[i]);
        printf("%u inputs passed\n", n);
        return n > 0 ? 0 : 1;
}
