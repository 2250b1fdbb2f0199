/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "phase.h"

static const char *const phase_names[_FH_PHASE_MAX] = {
        [FH_PHASE_FREEZE] = "freeze",
        [FH_PHASE_THAW] = "thaw",
};

const char *fh_phase_to_string(enum fh_phase phase) {
        if (phase < 0 || phase >= _FH_PHASE_MAX)
                return NULL;
        return phase_names[phase];
}

int fh_phase_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _FH_PHASE_MAX; i++)
                if (strcmp(s, phase_names[i]) == 0)
                        return i;
        return -EINVAL;
}
