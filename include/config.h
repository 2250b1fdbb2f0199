/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include <glib.h>

#include "settings.h"

/* The configuration file: GLib key-file syntax, one [fsfreeze-hook] group
 * and [hook NAME] groups. Parsing never fails as a whole: a line that is not
 * a group, a key=value pair or a comment, an unknown group or key, or a
 * value that does not parse, gives a warning naming the file, the line and
 * the key, and is ignored; everything else applies. So a typo costs one
 * setting, never the whole file. */

/* The keys of [fsfreeze-hook] and of [hook NAME], for --check and the
 * documentation test. NULL-terminated. */
extern const char *const fh_config_main_keys[];
extern const char *const fh_config_hook_keys[];

#define FH_CONFIG_GROUP "fsfreeze-hook"
#define FH_CONFIG_HOOK_PREFIX "hook "

/* Parses 'len' bytes of 'data' (named 'filename' in warnings) into *ret
 * (initialised here). Appends one message per problem to 'warnings'
 * (strings, already escaped for the log). Pure: no I/O. */
void fh_config_parse(const char *data, size_t len, const char *filename, struct fh_layer *ret, GPtrArray *warnings);

/* Reads and parses 'path'. A missing file is not an error: an empty layer
 * and no warning. Returns 0, -ENOENT, or another -errno (with a warning). */
int fh_config_load(const char *path, struct fh_layer *ret, GPtrArray *warnings);

/* The same from 'fd', opened by the caller (the trust policy), or a
 * -errno that open() gave. 'path' names it in warnings. */
int fh_config_load_fd(int fd, const char *path, struct fh_layer *ret, GPtrArray *warnings);
