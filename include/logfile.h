/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* Opens the log for appending, safely for a program that runs as root in a
 * directory others may influence: never follows a symlink, never blocks on
 * a FIFO, refuses anything that is not a regular file, and creates the file
 * with mode 0600 whatever the umask (hook output may contain secrets).
 * As root, an existing file must be root's with one link (-EPERM, -EMLINK),
 * and root's alone (mode 0600 or less) in a directory others may write
 * (-EACCES): the caller judged the name before, this judges what was opened.
 * Returns the descriptor (O_CLOEXEC) or -errno; -EINVAL means "exists but
 * is not a regular file", -ELOOP "is a symlink". *ret_open_line says
 * whether the file ends inside a line (a write cut short by a full disk),
 * so that the caller starts on a new one. */
int fh_logfile_open(const char *path, bool *ret_open_line);
