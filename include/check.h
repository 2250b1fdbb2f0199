/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include <glib.h>

#include "settings.h"

/* --check: lints the configuration and the hooks without running any, as
 * qemu-ga's root would see them (the trust policy applies whoever runs the
 * check): configuration warnings, untrusted files and directories, entries
 * that will be skipped, a missing or CRLF-damaged #! interpreter, files that
 * cannot be executed at all, shell syntax errors (sh -n), [hook NAME] groups
 * that name no hook. One problem per line, each with its fix. Returns the
 * exit status: 0 if nothing is wrong, 1 otherwise. */
int fh_check(FILE *out, const struct fh_settings *s, const char *config_path, GPtrArray *config_warnings);

/* The lint of one hook file's contents, pure, for the tests: a problem
 * (with its fix) or NULL. 'head' holds the first bytes of the file. */
char *fh_check_interpreter(const char *path, const char *head, size_t len, const char *search_path);
