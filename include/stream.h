/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The two outputs of a hook that are captured. Shared by the supervisor,
 * which reads them, and the log, which names them in every line. */
enum fh_stream {
        FH_STREAM_STDOUT,
        FH_STREAM_STDERR,
        _FH_STREAM_MAX,
};

const char *fh_stream_to_string(enum fh_stream stream);
