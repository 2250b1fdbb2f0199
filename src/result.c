/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <glib.h>

#include "result.h"
#include "timeutil.h"

int fh_result_status(const struct fh_result *r) {
        if (r->error < 0 || r->abandoned)
                return -1;
        if (r->signal > 0)
                return 128 + r->signal;
        return r->exit_status;
}

bool fh_result_failed(const struct fh_result *r) {
        return r->error < 0 || r->abandoned || r->timed_out || r->interrupted_by > 0 ||
               r->signal > 0 || r->exit_status != 0;
}

int fh_result_priority(const struct fh_result *r) {
        if (r->error < 0 || r->abandoned || r->timed_out || r->interrupted_by > 0 || r->signal > 0)
                return LOG_ERR;
        return r->exit_status == 0 ? LOG_INFO : LOG_WARNING;
}

void fh_signal_name(int sig, char *buf, size_t size) {
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev)
                snprintf(buf, size, "SIG%s", abbrev);
        else
                snprintf(buf, size, "signal %d", sig);
}

void fh_result_describe(const struct fh_result *r, char *buf, size_t size) {
        g_autoptr(GString) s = g_string_new(NULL);
        char sig[32], limit[32];
        const char *sep = " (";

        if (r->abandoned) {
                g_strlcpy(buf, "status=unknown (timed out; still alive after SIGKILL, abandoned)", size);
                return;
        }
        g_string_printf(s, "status=%d", fh_result_status(r));
        if (r->interrupted_by > 0) {
                fh_signal_name(r->interrupted_by, sig, sizeof sig);
                g_string_append_printf(s, "%sinterrupted: fsfreeze-hook received %s", sep, sig);
                sep = "; ";
        } else if (r->timed_out) {
                fh_format_duration(r->timeout_usec, limit, sizeof limit);
                g_string_append_printf(s, "%stimed out after %s", sep, limit);
                sep = "; ";
        }
        if (r->signal > 0) {
                fh_signal_name(r->signal, sig, sizeof sig);
                g_string_append_printf(s, "%skilled by %s", sep, sig);
                sep = "; ";
        }
        if (r->sent_sigkill && r->signal != SIGKILL) {
                g_string_append_printf(s, "%sSIGKILL sent to the rest of its process group", sep);
                sep = "; ";
        }
        if (sep[0] == ';')
                g_string_append_c(s, ')');
        g_strlcpy(buf, s->str, size);
}
