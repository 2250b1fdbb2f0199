/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Paths that root resolves by name where a user may rename a directory on
 * the way (a mount below a user's home, the metrics file below Debian's
 * /var/lib/prometheus, the prometheus user's): what the path named when it
 * was chosen or read holds no symlink, so none is followed now. */

/* Opens absolute 'path' with O_PATH, one real entry at a time from /: a
 * symlink anywhere, the last component included, is -ELOOP. What is opened
 * is what was walked, whatever is renamed on the way afterwards. Returns 0
 * with *ret_fd, or -errno. */
int fh_open_nofollow(const char *path, int *ret_fd);
