/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "attach.h"
#include "defaults.h"
#include "escape.h"
#include "json.h"

/* The path the entry points name: the binary as installed in the image. */
#define INSTALLED PROGRAM_DIR "/fsfreeze-hook"
#define VMWARE_LINK "/etc/vmware-tools/backupScripts.d/fsfreeze-hook"
/* Ours to choose: Azure's default plugin path is /etc/azure
 * (VMSnapshotPluginHost.conf's pluginPath0). */
#define AZURE_PRE "/etc/azure/fsfreeze-hook-pre"
#define AZURE_POST "/etc/azure/fsfreeze-hook-post"
/* Enough for any wrapper or configuration of ours; more is not ours. */
#define READ_MAX (64 * 1024)

enum kind {
        KIND_LINK,              /* a symlink to INSTALLED (or another installation's) */
        KIND_WRAPPER,           /* a 0700 sh script that execs it */
        KIND_AZURE_CONFIG,      /* Azure's script configuration (JSON) */
};

struct entry {
        const char *path;       /* in the image */
        enum kind kind;
        const char *phase;      /* a wrapper's: freeze or thaw */
        mode_t dir_mode;        /* its directory's, when we create it */
};

static const char *const state_names[_FH_ATTACH_STATE_MAX] = {
        [FH_ATTACH_ABSENT] = "absent",
        [FH_ATTACH_OURS] = "ours",
        [FH_ATTACH_PARTIAL] = "partial",
        [FH_ATTACH_FOREIGN] = "foreign",
};

const char *fh_attach_state_to_string(enum fh_attach_state s) {
        return s < _FH_ATTACH_STATE_MAX ? state_names[s] : NULL;
}

/* Each platform's files, in the order they are installed (removed in
 * reverse: Azure's configuration names the wrappers, so it comes last). */
static guint entries(enum fh_platform p, struct entry ret[static 3]) {
        const struct fh_platform_info *i = fh_platform_info(p);

        switch (p) {
        case FH_PLATFORM_VMWARE:
                ret[0] = (struct entry) { VMWARE_LINK, KIND_LINK, NULL, 0755 };
                return 1;
        case FH_PLATFORM_GCE:
                ret[0] = (struct entry) { i->pre_script, KIND_LINK, NULL, 0700 };
                ret[1] = (struct entry) { i->post_script, KIND_LINK, NULL, 0700 };
                return 2;
        case FH_PLATFORM_NUTANIX:
                ret[0] = (struct entry) { i->pre_script, KIND_WRAPPER, "freeze", 0755 };
                ret[1] = (struct entry) { i->post_script, KIND_WRAPPER, "thaw", 0755 };
                return 2;
        case FH_PLATFORM_AZURE:
                ret[0] = (struct entry) { AZURE_PRE, KIND_WRAPPER, "freeze", 0755 };
                ret[1] = (struct entry) { AZURE_POST, KIND_WRAPPER, "thaw", 0755 };
                ret[2] = (struct entry) { i->config, KIND_AZURE_CONFIG, NULL, 0755 };
                return 3;
        default:
                return 0;
        }
}

/* --- what we write ---------------------------------------------------------- */

/* LF only, POSIX sh (dash runs Azure's): Nutanix refuses control
 * characters, Azure runs it with "sh WRAPPER params...". "--" ends our
 * options: what the agent adds after the phase is its data. A wrapper
 * with other text (an older one) is ours but stale: --attach rewrites it. */
static char *wrapper_text(enum fh_platform p, const char *phase) {
        const char *name = fh_platform_to_string(p);

        return g_strdup_printf("#!/bin/sh\n" FH_ATTACH_MARKER "%s: remove with fsfreeze-hook --detach=%s\n"
                               "exec " INSTALLED " --caller=%s -- %s \"$@\"\n", name, name, name, phase);
}

/* Azure's script configuration (keys: azure-linux-extensions VMBackup
 * ScriptRunner.py get_config): our wrappers, no parameters (the
 * template's ["", ""] would pass two empty ones), no retries (they do
 * nothing anyway), the host's own cap as the timeout (the extension never
 * kills a script; our time limits bound the hooks), the backup going on
 * if a hook fails (as under qemu-ga), and the extension's own freeze. */
static char *azure_config_text(void) {
        g_autofree char *name = fh_json_quote(FH_ATTACH_PLUGIN_NAME);
        g_autofree char *pre = fh_json_quote(AZURE_PRE), *post = fh_json_quote(AZURE_POST);

        return g_strdup_printf("{\n"
                               "    \"pluginName\": %s,\n"
                               "    \"preScriptLocation\": %s,\n"
                               "    \"postScriptLocation\": %s,\n"
                               "    \"preScriptParams\": [],\n"
                               "    \"postScriptParams\": [],\n"
                               "    \"preScriptNoOfRetries\": 0,\n"
                               "    \"postScriptNoOfRetries\": 0,\n"
                               "    \"timeoutInSeconds\": 1800,\n"
                               "    \"continueBackupOnFailure\": true,\n"
                               "    \"fsFreezeEnabled\": true\n"
                               "}\n", name, pre, post);
}

bool fh_attach_azure_config_is_ours(const struct fh_json *doc) {
        return g_strcmp0(fh_json_string(fh_json_member(doc, "pluginName")), FH_ATTACH_PLUGIN_NAME) == 0 &&
               g_strcmp0(fh_json_string(fh_json_member(doc, "preScriptLocation")), AZURE_PRE) == 0 &&
               g_strcmp0(fh_json_string(fh_json_member(doc, "postScriptLocation")), AZURE_POST) == 0;
}

static bool azure_config_is_ours(const char *text, size_t len) {
        g_autoptr(fh_json) doc = NULL;

        return fh_json_parse(text, len, &doc, NULL) == 0 && fh_attach_azure_config_is_ours(doc);
}

static char *expected_text(enum fh_platform p, const struct entry *e) {
        return e->kind == KIND_WRAPPER ? wrapper_text(p, e->phase) : azure_config_text();
}

static mode_t expected_mode(const struct entry *e) {
        return e->kind == KIND_WRAPPER ? 0700 : 0600;
}

/* --- walking the image without following links -------------------------------- */

/* Opens 'dir' (absolute, in the image) below 'root_fd' one component at a
 * time with O_NOFOLLOW, creating missing ones if 'create' (the last with
 * 'mode', the others 0755). A symlink on the way is never followed: an
 * image's absolute link points out of it, and a planted one anywhere.
 * Returns an O_PATH descriptor, or -ENOENT, or -ELOOP/-ENOTDIR with
 * *ret_where, the image path of the component. */
static int open_dir(int root_fd, const char *dir, bool create, mode_t mode, char **ret_where) {
        g_auto(GStrv) parts = g_strsplit(dir, "/", -1);
        g_autoptr(GString) where = g_string_new("");
        int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return -errno;
        for (guint i = 0; fd >= 0 && parts[i]; i++) {
                bool last = !parts[i + 1];
                struct stat st;
                int next;

                if (!*parts[i])
                        continue;
                g_string_append_printf(where, "/%s", parts[i]);
                if (create && mkdirat(fd, parts[i], last ? mode : 0755) < 0 && errno != EEXIST)
                        next = -errno;
                else
                        next = openat(fd, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && (errno == ENOTDIR || errno == ELOOP)) {
                        next = fstatat(fd, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)
                                       ? -ELOOP : -ENOTDIR;
                        *ret_where = g_strdup(where->str);
                } else if (next < 0)
                        next = -errno;
                close(fd);
                fd = next;
        }
        return fd;
}

static int open_root(const char *root) {
        int fd = open(root && *root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* --- what is there -------------------------------------------------------------- */

enum found {
        FOUND_ABSENT,
        FOUND_OURS,
        FOUND_STALE,            /* ours, but not what we would write now */
        FOUND_FOREIGN,
};

static char *read_entry(int dir_fd, const char *name, size_t *ret_len) {
        g_autofree char *buf = g_malloc(READ_MAX + 1);
        int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        ssize_t n = -1;

        if (fd >= 0) {
                n = read(fd, buf, READ_MAX + 1);
                close(fd);
        }
        if (n < 0 || n > READ_MAX)
                return NULL;
        buf[n] = 0;
        *ret_len = (size_t) n;
        return g_steal_pointer(&buf);
}

static bool wrapper_is_ours(const char *text) {
        const char *nl = strchr(text, '\n');

        return nl && g_str_has_prefix(nl + 1, FH_ATTACH_MARKER);
}

/* A link to a program named fsfreeze-hook is an entry point of ours,
 * made by another installation (meson install's /usr/local/sbin where
 * the package has /usr/sbin) or an older layout: replacing it with a
 * link to this build's program, or removing it, keeps nobody's script
 * from running but ours. Any other name is somebody else's. */
bool fh_attach_link_is_ours(const char *target) {
        const char *slash = strrchr(target, '/');

        return g_str_equal(slash ? slash + 1 : target, "fsfreeze-hook");
}

/* What is at entry 'e' in 'dir_fd'; for a foreign one *ret_why says what
 * it is. */
static enum found probe(int dir_fd, enum fh_platform p, const struct entry *e, char **ret_why) {
        g_autofree char *base = g_path_get_basename(e->path), *text = NULL, *want = NULL;
        struct stat st;
        size_t len = 0;

        if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return FOUND_ABSENT;
        if (e->kind == KIND_LINK) {
                if (S_ISLNK(st.st_mode)) {
                        char buf[4096];
                        ssize_t n = readlinkat(dir_fd, base, buf, sizeof buf - 1);

                        g_autofree char *shown = NULL;

                        if (n >= 0 && (buf[n] = 0, g_str_equal(buf, INSTALLED)))
                                return FOUND_OURS;
                        if (n >= 0 && fh_attach_link_is_ours(buf))
                                return FOUND_STALE;
                        shown = fh_escape_dup(n >= 0 ? buf : "?");
                        *ret_why = g_strdup_printf("a symlink to %s", shown);
                } else
                        *ret_why = g_strdup(S_ISREG(st.st_mode) ? "a file" : "not a symlink");
                return FOUND_FOREIGN;
        }
        if (!S_ISREG(st.st_mode)) {
                *ret_why = g_strdup(S_ISLNK(st.st_mode) ? "a symlink (not followed)" : "not a regular file");
                return FOUND_FOREIGN;
        }
        text = read_entry(dir_fd, base, &len);
        if (!text || (e->kind == KIND_WRAPPER ? !wrapper_is_ours(text) : !azure_config_is_ours(text, len))) {
                *ret_why = g_strdup(e->kind == KIND_WRAPPER ? "a script without fsfreeze-hook's marker line"
                                                            : "a configuration that does not name fsfreeze-hook "
                                                              "and its wrappers");
                return FOUND_FOREIGN;
        }
        want = expected_text(p, e);
        if (!g_str_equal(text, want) || (st.st_mode & 07777) != expected_mode(e) || st.st_uid != geteuid())
                return FOUND_STALE;
        return FOUND_OURS;
}

/* One entry as found: its directory (an O_PATH fd, or -errno) and what
 * is there. */
struct look {
        int dir_fd;
        enum found found;
        char *problem;          /* foreign or unreachable: the file, what it is */
};

static void look_done(struct look *l) {
        if (l->dir_fd >= 0)
                close(l->dir_fd);
        g_clear_pointer(&l->problem, g_free);
}

static void look_at(int root_fd, const char *root, enum fh_platform p, const struct entry *e, bool create,
                    struct look *ret) {
        g_autofree char *dir = g_path_get_dirname(e->path), *where = NULL, *why = NULL;
        g_autofree char *shown = NULL, *full = NULL;

        *ret = (struct look) { .found = FOUND_ABSENT };
        ret->dir_fd = open_dir(root_fd, dir, create, e->dir_mode, &where);
        if (ret->dir_fd == -ELOOP || ret->dir_fd == -ENOTDIR) {
                full = fh_platform_path(root, where);
                shown = fh_escape_dup(full);
                ret->problem = g_strdup_printf("%s is %s: not followed", shown,
                                               ret->dir_fd == -ELOOP ? "a symlink" : "not a directory");
                ret->found = FOUND_FOREIGN;
                return;
        }
        if (ret->dir_fd < 0)
                return;         /* missing: nothing there */
        ret->found = probe(ret->dir_fd, p, e, &why);
        if (ret->found == FOUND_FOREIGN) {
                full = fh_platform_path(root, e->path);
                shown = fh_escape_dup(full);
                ret->problem = g_strdup_printf("%s is not ours (%s)", shown, why);
        }
}

enum fh_attach_state fh_attach_state(const char *root, enum fh_platform p, char **ret_problem) {
        struct entry e[3];
        guint n = entries(p, e), ours = 0;
        int root_fd = open_root(root);

        for (guint i = 0; root_fd >= 0 && i < n; i++) {
                struct look l;

                look_at(root_fd, root, p, &e[i], false, &l);
                if (l.found == FOUND_FOREIGN) {
                        *ret_problem = g_steal_pointer(&l.problem);
                        look_done(&l);
                        close(root_fd);
                        return FH_ATTACH_FOREIGN;
                }
                ours += l.found != FOUND_ABSENT;
                look_done(&l);
        }
        if (root_fd >= 0)
                close(root_fd);
        return ours == 0 ? FH_ATTACH_ABSENT : ours == n ? FH_ATTACH_OURS : FH_ATTACH_PARTIAL;
}

bool fh_attach_agent_installed(const char *root, enum fh_platform p) {
        const struct fh_platform_info *i = fh_platform_info(p);

        for (const char *const *a = i ? i->agents : NULL; a && *a; a++) {
                g_autofree char *path = fh_platform_path(root, *a);

                if (access(path, F_OK) == 0)
                        return true;
        }
        return false;
}

/* --- writing ---------------------------------------------------------------------- */

/* Writes 'text' to a new temporary file in 'dir_fd' with 'mode', then
 * renames it to 'name': never over anything unless 'replace' (our own
 * stale file), so a file that appeared meanwhile is not lost. */
static int write_entry(int dir_fd, const char *name, const char *text, mode_t mode, bool replace) {
        g_autofree char *tmp = NULL;
        size_t len = strlen(text);
        int fd = -1, r = 0;

        for (int tries = 0; fd < 0 && tries < 16; tries++) {
                g_free(tmp);
                tmp = g_strdup_printf(".%s.%08x", name, g_random_int());
                fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return -errno;
        }
        if (fd < 0)
                return -EEXIST;
        if (write(fd, text, len) != (ssize_t) len || fchmod(fd, mode) < 0 || fsync(fd) < 0)
                r = errno ? -errno : -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat2(dir_fd, tmp, dir_fd, name, replace ? 0 : RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* A new link to INSTALLED as 'name' in 'dir_fd'; over the one there only
 * if 'replace' (our own, to another installation), atomically. */
static int link_entry(int dir_fd, const char *name, bool replace) {
        g_autofree char *tmp = NULL;
        int r = -EEXIST;

        if (!replace)
                return symlinkat(INSTALLED, dir_fd, name) < 0 ? -errno : 0;
        for (int tries = 0; r == -EEXIST && tries < 16; tries++) {
                g_free(tmp);
                tmp = g_strdup_printf(".%s.%08x", name, g_random_int());
                r = symlinkat(INSTALLED, dir_fd, tmp) < 0 ? -errno : 0;
        }
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                (void) unlinkat(dir_fd, tmp, 0);
        }
        return r;
}

static int install(int dir_fd, enum fh_platform p, const struct entry *e, bool replace) {
        g_autofree char *base = g_path_get_basename(e->path), *text = NULL;

        if (e->kind == KIND_LINK)
                return link_entry(dir_fd, base, replace);
        text = expected_text(p, e);
        return write_entry(dir_fd, base, text, expected_mode(e), replace);
}

/* The command line that attaches 'p' to what 'root' names: with an
 * image's --root, advice without it would act on the running system.
 * Shell-quoted to be pasted, escaped to be shown. */
static char *attach_command(const char *root, enum fh_platform p) {
        g_autofree char *quoted = root ? g_shell_quote(root) : NULL;
        g_autofree char *line = g_strdup_printf("fsfreeze-hook %s%s%s--attach=%s", quoted ? "--root=" : "",
                                                quoted ? quoted : "", quoted ? " " : "", fh_platform_to_string(p));

        return fh_escape_dup(line);
}

/* What to do about somebody else's file in our place. */
static void refuse(FILE *err, const char *root, enum fh_platform p, const char *problem) {
        g_autofree char *hooks = fh_platform_path(root, DEFAULT_HOOKS_DIR), *shown = fh_escape_dup(hooks);
        g_autofree char *again = attach_command(root, p);

        fprintf(err, "fsfreeze-hook: %s: not replaced (fix: it is somebody else's: make what it does a hook in "
                "%s (see fsfreeze-hook(8)) and move it away, then run %s again)\n", problem, shown, again);
}

/* As root: the directory must be one the trust policy accepts, or what we
 * install there could be replaced by whoever else may write it. */
static int trusted_dir(FILE *err, struct fh_trust *trust, const char *root, const struct entry *e) {
        g_autofree char *dir = g_path_get_dirname(e->path), *full = NULL, *problem = NULL;

        if (!trust)
                return 0;
        full = fh_platform_path(root, dir);
        if (fh_trust_check_new_dir(trust, full, &problem) != -EPERM)
                return 0;
        fprintf(err, "fsfreeze-hook: %s: nothing written there\n", problem);
        return -EPERM;
}

/* Everything looked at first: either all of it is installed, or nothing. */
static int check_all(FILE *err, int root_fd, const char *root, enum fh_platform p, const struct entry *e, guint n,
                     bool *ret_done) {
        bool refused = false, done = true;

        for (guint i = 0; i < n; i++) {
                struct look l;

                look_at(root_fd, root, p, &e[i], false, &l);
                if (l.found == FOUND_FOREIGN) {
                        refuse(err, root, p, l.problem);
                        refused = true;
                }
                done &= l.found == FOUND_OURS;
                look_done(&l);
        }
        *ret_done = done;
        return refused ? -EEXIST : 0;
}

/* The entry points name INSTALLED in the image; it may come later (an
 * image gets the package after it is attached), so only a warning. */
static void warn_program_missing(FILE *err, const char *root) {
        g_autofree char *full = fh_platform_path(root, INSTALLED), *shown = NULL;
        struct stat st;

        if (stat(full, &st) == 0)
                return;
        shown = fh_escape_dup(full);
        fprintf(err, "fsfreeze-hook: warning: %s: %s: the agent cannot run it until fsfreeze-hook is installed "
                "there\n", shown, g_strerror(errno));
}

int fh_attach(FILE *out, FILE *err, const char *root, enum fh_platform p, struct fh_trust *trust) {
        const char *name = fh_platform_to_string(p);
        struct entry e[3];
        guint n = entries(p, e);
        int root_fd = open_root(root), status = 0;
        bool done;

        if (root_fd < 0) {
                fprintf(err, "fsfreeze-hook: root %s: %s\n", root, g_strerror(-root_fd));
                return 1;
        }
        warn_program_missing(err, root);
        if (check_all(err, root_fd, root, p, e, n, &done) < 0 || done) {
                if (done)
                        fprintf(out, "%s: already attached\n", name);
                close(root_fd);
                return done ? 0 : 1;
        }
        for (guint i = 0; i < n && status == 0; i++) {
                g_autofree char *full = fh_platform_path(root, e[i].path), *shown = fh_escape_dup(full);
                struct look l;
                int r = trusted_dir(err, trust, root, &e[i]);

                if (r < 0) {
                        status = 1;
                        break;
                }
                look_at(root_fd, root, p, &e[i], true, &l);
                if (l.found == FOUND_FOREIGN) {
                        refuse(err, root, p, l.problem);
                        r = -EEXIST;
                } else if (l.dir_fd < 0)
                        r = l.dir_fd;
                else if (l.found != FOUND_OURS)
                        r = install(l.dir_fd, p, &e[i], l.found == FOUND_STALE);
                if (r < 0 && r != -EEXIST)
                        fprintf(err, "fsfreeze-hook: %s: cannot install: %s\n", shown, g_strerror(-r));
                else if (r == 0 && l.found != FOUND_OURS)
                        fprintf(out, "%s: %s %s\n", name, l.found == FOUND_STALE ? "updated" : "installed", shown);
                status = r < 0;
                look_done(&l);
        }
        close(root_fd);
        if (status == 0)
                fprintf(out, "%s: attached: %s runs fsfreeze-hook, which runs the admin hook directory (%s)%s\n",
                        name, fh_platform_info(p)->title, DEFAULT_HOOKS_DIR " unless hook-dirs= names others",
                        fh_attach_agent_installed(root, p) ? "" : "; the agent is not installed (yet)");
        return status;
}

int fh_detach(FILE *out, FILE *err, const char *root, enum fh_platform p, struct fh_trust *trust) {
        const char *name = fh_platform_to_string(p);
        struct entry e[3];
        guint n = entries(p, e), removed = 0;
        int root_fd = open_root(root), status = 0;

        if (root_fd < 0) {
                fprintf(err, "fsfreeze-hook: root %s: %s\n", root, g_strerror(-root_fd));
                return 1;
        }
        for (guint i = n; i-- > 0;) {
                g_autofree char *full = fh_platform_path(root, e[i].path), *shown = fh_escape_dup(full);
                g_autofree char *base = g_path_get_basename(e[i].path);
                struct look l;

                look_at(root_fd, root, p, &e[i], false, &l);
                if (l.found == FOUND_FOREIGN)
                        fprintf(out, "%s: %s: left alone\n", name, l.problem);
                else if (l.found != FOUND_ABSENT && unlinkat(l.dir_fd, base, 0) < 0) {
                        fprintf(err, "fsfreeze-hook: %s: cannot remove: %s\n", shown, g_strerror(errno));
                        status = 1;
                } else if (l.found != FOUND_ABSENT) {
                        fprintf(out, "%s: removed %s\n", name, shown);
                        removed++;
                }
                look_done(&l);
        }
        close(root_fd);
        if (removed == 0 && status == 0)
                fprintf(out, "%s: not attached\n", name);
        return status;
}

/* --- status ------------------------------------------------------------------------ */

static char *state_text(const char *root, enum fh_attach_state s, enum fh_platform p) {
        g_autofree char *fix = NULL;

        switch (s) {
        case FH_ATTACH_OURS:
                return g_strdup("attached");
        case FH_ATTACH_PARTIAL:
                fix = attach_command(root, p);
                return g_strdup_printf("partly attached (fix: %s)", fix);
        default:
                return g_strdup("not attached");
        }
}

char *fh_attach_describe(const char *root, enum fh_platform p, enum fh_attach_state *ret_state) {
        g_autofree char *problem = NULL, *state = NULL;
        enum fh_attach_state s = fh_attach_state(root, p, &problem);

        state = state_text(root, s, p);
        if (ret_state)
                *ret_state = s;
        return g_strdup_printf("%s: %s%s%s; agent %s", fh_platform_to_string(p), state,
                               problem ? ": " : "", problem ? problem : "",
                               fh_attach_agent_installed(root, p) ? "installed" : "not installed");
}

void fh_attach_print_status(FILE *out, const char *root) {
        fprintf(out, "Platforms:\n");
        for (int p = 0; p < _FH_PLATFORM_MAX; p++) {
                g_autofree char *line = fh_attach_describe(root, p, NULL);

                fprintf(out, "  %s\n", line);
        }
}

void fh_attach_status_json(GString *s, const char *root) {
        g_string_append_c(s, '[');
        for (int p = 0; p < _FH_PLATFORM_MAX; p++) {
                g_autofree char *problem = NULL, *shown = NULL, *quoted = NULL;
                enum fh_attach_state st = fh_attach_state(root, p, &problem);

                /* Already escaped as the log shows names: valid UTF-8. */
                quoted = problem ? fh_json_quote(problem) : NULL;
                g_string_append_printf(s, "%s{\"name\": \"%s\", \"entry_point\": \"%s\", \"agent_installed\": %s, "
                                       "\"problem\": %s}", p ? ", " : "", fh_platform_to_string(p),
                                       fh_attach_state_to_string(st),
                                       fh_attach_agent_installed(root, p) ? "true" : "false",
                                       quoted ? quoted : "null");
        }
        g_string_append_c(s, ']');
}
