/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/stat.h>

/* Paths that root resolves by name where a user may rename a directory on
 * the way (a mount below a user's home, the metrics file below Debian's
 * /var/lib/prometheus, the prometheus user's): what the path named when it
 * was chosen or read holds no symlink, so none is followed now. */

/* Opens absolute 'path' with O_PATH, one real entry at a time from /: a
 * symlink anywhere, the last component included, is -ELOOP. What is opened
 * is what was walked, whatever is renamed on the way afterwards. Returns 0
 * with *ret_fd, or -errno. */
int fh_open_nofollow(const char *path, int *ret_fd);

/* Opens 'path' for reading only if it leads to a regular file: found with
 * O_PATH (which opens nothing: a FIFO cannot block, a device is never
 * opened), checked on that descriptor, then reopened through /proc, so
 * that what is read is what was checked, whatever is swapped in by name
 * afterwards. Links are followed (the files this reads, other agents'
 * configurations and scripts, may be links by their own design). Returns
 * the descriptor with *ret_st, or -errno (-EINVAL: not a regular file). */
int fh_open_regular(const char *path, struct stat *ret_st);
