/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "budget.h"
#include "nofollow.h"
#include "platform.h"
#include "timeutil.h"

#define GCE_CONFIG "/etc/default/instance_configs.cfg"
#define VMWARE_CONFIG "/etc/vmware-tools/tools.conf"

/* A century: no limit at all, and far from overflowing in microseconds. */
#define GCE_MAX_SEC ((int64_t) 100 * 366 * 24 * 3600)

/* More than any agent's configuration: not one. */
#define MAX_CONFIG_SIZE (1024 * 1024)

/* The text of 'path' if it leads to a regular file of at most
 * MAX_CONFIG_SIZE bytes, or NULL. Read as root at every freeze and thaw:
 * only a regular file is opened (fh_open_regular), so that a FIFO cannot
 * block the freeze nor a device be opened, and bounded, so that a runaway
 * file cannot fill the memory. */
static char *read_config(const char *path) {
        g_autofree char *text = NULL;
        struct stat st;
        size_t len = 0;
        bool ok = false;
        int rfd = fh_open_regular(path, &st);

        if (rfd < 0)
                return NULL;
        if (st.st_size > MAX_CONFIG_SIZE) {
                close(rfd);
                return NULL;
        }
        /* One byte more than allowed: a file that grew since is refused. */
        text = g_malloc(MAX_CONFIG_SIZE + 2);
        while (len <= MAX_CONFIG_SIZE) {
                ssize_t n = read(rfd, text + len, MAX_CONFIG_SIZE + 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        ok = n == 0;
                        break;
                }
                len += (size_t) n;
        }
        close(rfd);
        if (!ok || len > MAX_CONFIG_SIZE)
                return NULL;
        text[len] = '\0';
        return g_steal_pointer(&text);
}

/* go-ini without IgnoreInlineComment: a value ends at the first '#' or
 * ';'; then one pair of surrounding quotes goes. */
static char *ini_clean_value(const char *raw) {
        g_autofree char *v = g_strndup(raw, strcspn(raw, "#;"));
        size_t len;

        g_strstrip(v);
        len = strlen(v);
        if (len >= 2 && (v[0] == '"' || v[0] == '\'' || v[0] == '`') && v[len - 1] == v[0]) {
                v[len - 1] = '\0';
                return g_strdup(v + 1);
        }
        return g_steal_pointer(&v);
}

char *fh_budget_ini_value(const char *text, const char *section, const char *key) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        g_autofree char *current = NULL;
        char *value = NULL;

        for (char **l = lines; *l; l++) {
                char *line = g_strstrip(*l);
                size_t sep;

                if (!*line || *line == '#' || *line == ';')
                        continue;
                if (*line == '[') {
                        char *end = strchr(line, ']');
                        g_free(current);
                        current = end ? g_strstrip(g_strndup(line + 1, (size_t) (end - line - 1))) : NULL;
                        continue;
                }
                sep = strcspn(line, "=:");
                if (!line[sep] || !current || g_ascii_strcasecmp(current, section) != 0)
                        continue;
                line[sep] = '\0';
                if (g_ascii_strcasecmp(g_strstrip(line), key) != 0)
                        continue;
                g_free(value);
                value = ini_clean_value(line + sep + 1);
        }
        return value;
}

/* Go's strconv.ParseInt(s, 0, 64), near enough: a sign, then decimal,
 * 0x hex or 0 octal; nothing after. */
static bool parse_go_int(const char *s, int64_t *ret) {
        char *end = NULL;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 0);
        if (!*s || errno || *end)
                return false;
        *ret = v;
        return true;
}

int64_t fh_budget_gce_seconds(const char *root, char **ret_source) {
        static const char *const suffixes[] = { "", ".distro", ".template" };
        g_autofree char *value = NULL, *from = NULL;
        int64_t seconds = FH_BUDGET_GCE_DEFAULT_SEC;

        for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
                g_autofree char *name = g_strconcat(GCE_CONFIG, suffixes[i], NULL);
                g_autofree char *path = fh_platform_path(root, name), *text = NULL, *v = NULL;

                if (!(text = read_config(path)))
                        continue;
                v = fh_budget_ini_value(text, "Snapshots", "timeout_in_seconds");
                if (!v)
                        continue;
                g_free(value);
                g_free(from);
                value = g_steal_pointer(&v);
                from = g_steal_pointer(&name);
        }
        if (value && parse_go_int(value, &seconds))
                *ret_source = g_strdup_printf("[Snapshots] timeout_in_seconds in %s", from);
        else if (value)
                *ret_source = g_strdup_printf("the default: [Snapshots] timeout_in_seconds in %s does not read", from);
        else
                *ret_source = g_strdup("the default: no [Snapshots] timeout_in_seconds in " GCE_CONFIG
                                       ", .distro or .template");
        return seconds;
}

int64_t fh_budget_vmware_seconds(const char *root, char **ret_source) {
        g_autofree char *path = fh_platform_path(root, VMWARE_CONFIG), *text = read_config(path);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        gint v;

        if (!text || !g_key_file_load_from_data(kf, text, (gsize) -1, G_KEY_FILE_NONE, NULL)) {
                *ret_source = g_strdup("the default: no readable " VMWARE_CONFIG);
                return FH_BUDGET_VMWARE_DEFAULT_SEC;
        }
        v = g_key_file_get_integer(kf, "vmbackup", "timeout", &error);
        if (error) {
                *ret_source = g_strdup("the default: no [vmbackup] timeout in " VMWARE_CONFIG);
                return FH_BUDGET_VMWARE_DEFAULT_SEC;
        }
        if (v < 0 || v > G_MAXINT / 1000) {
                *ret_source = g_strdup("the default: [vmbackup] timeout in " VMWARE_CONFIG " is out of range");
                return FH_BUDGET_VMWARE_DEFAULT_SEC;
        }
        *ret_source = g_strdup("[vmbackup] timeout in " VMWARE_CONFIG
                               " (assumed: the host's own timeout, when it sends one, wins)");
        return v;
}

/* Sets the deadline 'left' usec after 'start', less the margin. */
static void set_deadline(struct fh_budget *b, int64_t start_usec, int64_t left_usec, const char *caller,
                         const char *limit, const char *source) {
        char took[32];

        b->deadline_usec = MAX(start_usec + left_usec - FH_BUDGET_MARGIN_USEC, 1);
        b->caller = caller;
        fh_format_duration(MAX(left_usec, 0), took, sizeof took);
        b->why = g_strdup_printf("%s kills us in %s (%s, %s): every hook ends by its timeout, cut if need be, "
                                 "1 s before that", caller, took, limit, source);
}

static void init_gce(struct fh_budget *b, const struct fh_settings *s, int64_t start_usec) {
        g_autofree char *source = NULL;
        int64_t sec = fh_budget_gce_seconds(s->root, &source);

        if (sec <= 0) {
                b->why = g_strdup_printf("Google's guest agent gives its scripts %" G_GINT64_FORMAT " s (%s): it "
                                         "should not have run us; no time budget", sec, source);
                return;
        }
        /* More than a century: in microseconds it would wrap (as Go's
         * Duration does too) into a budget already spent. */
        if (sec > GCE_MAX_SEC) {
                b->why = g_strdup_printf("Google's guest agent gives its scripts %" G_GINT64_FORMAT " s (%s): too "
                                         "large to be a limit; no time budget", sec, source);
                return;
        }
        set_deadline(b, start_usec, sec * USEC_PER_SEC, "Google's guest agent", "SIGKILL to its script", source);
}

static void init_vmware(struct fh_budget *b, const struct fh_settings *s, enum fh_phase phase,
                        bool freeze_failed, int64_t start_usec, int64_t freeze_started_usec) {
        g_autofree char *source = NULL;
        int64_t sec, left;

        if (phase == FH_PHASE_THAW && freeze_failed) {
                b->why = g_strdup("vmtoolsd never cuts freezeFail short (stateMachine.c VmBackupDoAbort): no "
                                  "time budget");
                return;
        }
        sec = fh_budget_vmware_seconds(s->root, &source);
        if (sec == 0) {
                b->why = g_strdup_printf("vmtoolsd's quiesce timer is off (%s): no time budget", source);
                return;
        }
        /* One timer from the first freeze script to the last thaw script:
         * a thaw has what the freeze left. Monotonic, as vmtoolsd's GLib
         * timer: a step of the wall clock (VMware Tools' own time sync
         * after a snapshot, NTP) is no time spent. */
        left = sec * USEC_PER_SEC;
        if (phase == FH_PHASE_THAW && freeze_started_usec > 0)
                left -= MAX(start_usec - freeze_started_usec, 0);
        set_deadline(b, start_usec, left, "vmtoolsd", "SIGTERM at its quiesce timeout, SIGKILL 5 s later", source);
}

void fh_budget_init(struct fh_budget *b, const struct fh_settings *s, enum fh_phase phase, bool freeze_failed,
                    int64_t start_usec, int64_t freeze_started_usec) {
        *b = (struct fh_budget) { 0 };
        switch (s->caller) {
        case FH_PLATFORM_GCE:
                init_gce(b, s, start_usec);
                break;
        case FH_PLATFORM_VMWARE:
                init_vmware(b, s, phase, freeze_failed, start_usec, freeze_started_usec);
                break;
        case FH_PLATFORM_AZURE:
                b->why = g_strdup("Azure's VM backup extension never kills its scripts: no time budget");
                break;
        case FH_PLATFORM_NUTANIX:
                b->why = g_strdup("Nutanix Guest Tools' time limit is not known: no time budget");
                break;
        default:
                break;
        }
}

void fh_budget_done(struct fh_budget *b) {
        g_clear_pointer(&b->why, g_free);
}

bool fh_budget_fit(const struct fh_budget *b, int64_t now, int64_t *timeout_usec, int64_t *grace_usec) {
        int64_t left, grace, run;

        if (b->deadline_usec <= 0)
                return true;
        left = b->deadline_usec - now;
        if (left < 2 * USEC_PER_MSEC)
                return false;
        /* After SIGKILL, supervise.c waits once more, the grace but at
         * least 1 s, for a hook stuck in the kernel (a dead NFS server, a
         * frozen filesystem) before it leaves it behind: that wait must
         * end in the budget too, or the caller kills us before we record. */
        if (*timeout_usec > 0 && *timeout_usec + *grace_usec + MAX(*grace_usec, USEC_PER_SEC) <= left)
                return true;
        grace = MIN(*grace_usec, left / 4);
        /* With less than that left, a try all the same, in a quarter. */
        run = MAX(left - grace - MAX(grace, USEC_PER_SEC), left / 4);
        *timeout_usec = *timeout_usec > 0 ? MIN(*timeout_usec, run) : run;
        *grace_usec = grace;
        return true;
}
