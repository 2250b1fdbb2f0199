/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "log.h"
#include "supervise.h"

/* One hook's output, from the supervisor into the log, up to the
 * max-output cap: the observer fh_run_hook() reports to. */
struct fh_capture {
        struct fh_log *log;
        uint64_t max_output;
        uint64_t dropped;               /* bytes read past the limit, as the hook printed them */
        struct fh_run_observer observer;        /* for fh_run_hook(); its userdata is the capture */
};

/* Sets the log's output limit to 'max_output' and fills *cap, which must
 * then stay where it is until the hook has run. */
void fh_capture_start(struct fh_capture *cap, struct fh_log *log, uint64_t max_output);
/* After the hook: says how much output was read past the limit and not
 * logged, if any. */
void fh_capture_finish(const struct fh_capture *cap);
