/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The two arguments qemu-ga ever passes to the hook. */
enum fh_phase {
        FH_PHASE_FREEZE,
        FH_PHASE_THAW,
        _FH_PHASE_MAX,
        _FH_PHASE_INVALID = -1,
};

const char *fh_phase_to_string(enum fh_phase phase);

/* Returns the phase, or -EINVAL for anything but "freeze" or "thaw". */
int fh_phase_from_string(const char *s);
