/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>

#include "stream.h"

static const char *const stream_names[_FH_STREAM_MAX] = {
        [FH_STREAM_STDOUT] = "stdout",
        [FH_STREAM_STDERR] = "stderr",
};

const char *fh_stream_to_string(enum fh_stream stream) {
        if (stream < 0 || stream >= _FH_STREAM_MAX)
                return NULL;
        return stream_names[stream];
}
