/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

#define MAX_SECONDS (24 * 60 * 60)
#define MAX_SIZE (UINT64_C(1) << 40)

int fh_parse_seconds(const char *s, int64_t *ret_msec) {
        int64_t whole = 0, frac = 0;
        int frac_digits = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                whole = whole * 10 + (*p - '0');
                if (whole > MAX_SECONDS)
                        return -ERANGE;
        }
        if (p == s)
                return -EINVAL;
        if (*p == '.') {
                p++;
                for (; *p >= '0' && *p <= '9'; p++, frac_digits++) {
                        if (frac_digits >= 3)
                                return -EINVAL;
                        frac = frac * 10 + (*p - '0');
                }
                if (frac_digits == 0)
                        return -EINVAL;
        }
        if (*p != '\0')
                return -EINVAL;
        for (; frac_digits < 3; frac_digits++)
                frac *= 10;
        /* The bound is on the value, not its whole part: 86400.001 is over. */
        if (whole * 1000 + frac > MAX_SECONDS * 1000)
                return -ERANGE;
        *ret_msec = whole * 1000 + frac;
        return 0;
}

int fh_parse_size(const char *s, uint64_t *ret_bytes) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "", 1 },
                { "K", UINT64_C(1) << 10 }, { "KiB", UINT64_C(1) << 10 },
                { "M", UINT64_C(1) << 20 }, { "MiB", UINT64_C(1) << 20 },
                { "G", UINT64_C(1) << 30 }, { "GiB", UINT64_C(1) << 30 },
        };
        uint64_t n = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                n = n * 10 + (uint64_t) (*p - '0');
                if (n > MAX_SIZE)
                        return -ERANGE;
        }
        if (p == s)
                return -EINVAL;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
                if (strcmp(p, units[i].suffix) == 0) {
                        if (n > MAX_SIZE / units[i].factor)
                                return -ERANGE;
                        *ret_bytes = n * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

void fh_format_size(uint64_t bytes, char *buf, size_t size) {
        static const char *const units[] = { "GiB", "MiB", "KiB" };

        for (int i = 0; i < 3; i++) {
                uint64_t factor = UINT64_C(1) << (10 * (3 - i));
                if (bytes >= factor && bytes % factor == 0) {
                        snprintf(buf, size, "%llu %s", (unsigned long long) (bytes / factor), units[i]);
                        return;
                }
        }
        snprintf(buf, size, "%llu bytes", (unsigned long long) bytes);
}
