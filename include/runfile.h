/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The small files the dispatcher keeps in its state directory (the freeze
 * and thaw records, the deadline, status.json) and the metrics file: each
 * must be whole or absent after any interruption, since a host or the next
 * thaw reads it as the truth. */

/* Writes 'data' to PATH.new (created afresh, never through a link) and
 * renames it over 'path'. Returns 0 or -errno; a short write (a full
 * filesystem) is -ENOSPC, never the errno an earlier call left. On failure
 * 'path' is untouched and PATH.new is gone. */
int fh_runfile_write(const char *path, const char *data, size_t len, mode_t mode);

/* The same for a file in a directory that someone else may control the
 * way to (the metrics file: Debian's /var/lib/prometheus is the prometheus
 * user's, node-exporter in it root's): absolute 'path', whose directories
 * are walked from / without following any symlink (-ELOOP), so that root
 * writes nowhere a user's symlink points. */
int fh_runfile_write_nofollow(const char *path, const char *data, size_t len, mode_t mode);

/* This boot's id (/proc/sys/kernel/random/boot_id), or NULL: records from
 * another boot describe nothing that still holds. A new string. */
char *fh_runfile_boot_id(void);
