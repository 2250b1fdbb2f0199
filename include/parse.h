/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Values of options and configuration keys. Locale-independent, strict:
 * no signs, no exponents, no trailing junk. */

/* Seconds with up to three decimals ("60", "0.5", "1.250") into
 * milliseconds; at most a day. -EINVAL, -ERANGE. */
int fh_parse_seconds(const char *s, int64_t *ret_msec);

/* A byte count with an optional binary suffix: "4194304", "512K", "4M",
 * "1G" (K, M, G: 1024, 1024^2, 1024^3; "KiB", "MiB", "GiB" too); at most
 * 1 TiB. -EINVAL, -ERANGE. */
int fh_parse_size(const char *s, uint64_t *ret_bytes);

/* "4 MiB", "512 KiB", "100 bytes": exact binary units when they divide
 * evenly, for messages and --help. */
void fh_format_size(uint64_t bytes, char *buf, size_t size);
