/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "escape.h"
#include "foreign.h"
#include "json.h"
#include "nofollow.h"
#include "scan.h"

/* One entry of a platform, both sides: the script before the snapshot
 * and the one after (the same file for VMware's backupScripts.d). */
struct foreign_entry {
        char *name;
        char *pre, *post;               /* absolute, under --root; NULL: none */
        char **pre_params, **post_params;       /* Azure */
        char *problem;                  /* why the entry cannot run at all (Azure's JSON) */
        bool refused;                   /* 'problem' is the trust policy's */
        char *config;                   /* Azure: the JSON, named when it cannot be used */
        bool own;                       /* Azure: the JSON --attach wrote, to run us */
};

static void entry_free(gpointer p) {
        struct foreign_entry *e = p;

        g_free(e->name);
        g_free(e->pre);
        g_free(e->post);
        g_strfreev(e->pre_params);
        g_strfreev(e->post_params);
        g_free(e->problem);
        g_free(e->config);
        g_free(e);
}

static struct foreign_entry *entry_new(enum fh_platform p, const char *what, char *pre, char *post) {
        struct foreign_entry *e = g_new0(struct foreign_entry, 1);

        e->name = g_strdup_printf("%s:%s", fh_platform_to_string(p), what);
        e->pre = pre;
        e->post = post;
        return e;
}

unsigned fh_foreign_parse(char *const *names, GPtrArray *unknown) {
        unsigned mask = 0;

        for (char *const *n = names; n && *n; n++) {
                int p = fh_platform_from_string(*n);

                if (p >= 0)
                        mask |= 1U << p;
                else if (strcmp(*n, "all") == 0)
                        mask = (1U << _FH_PLATFORM_MAX) - 1;
                else if (strcmp(*n, "none") == 0)
                        mask = 0;
                else if (**n)
                        g_ptr_array_add(unknown, g_strdup(*n));
        }
        return mask;
}

/* Compared as canonical names: hook-dirs=/etc/qemu/fsfreeze-hook.d/ is
 * the directory of the paths recorded from it too. */
static bool in_hook_dir(const struct fh_settings *s, const char *path) {
        g_autofree char *dir = g_path_get_dirname(path), *canon = g_canonicalize_filename(dir, "/");

        for (char **d = s->hook_dirs; d && *d; d++) {
                g_autofree char *hook_dir = g_canonicalize_filename(*d, "/");

                if (strcmp(hook_dir, canon) == 0)
                        return true;
        }
        return false;
}

int fh_foreign_platform_of(const struct fh_settings *s, const char *name, const char *path) {
        const char *colon = strchr(name, ':');
        g_autofree char *prefix = NULL;

        if (!colon || in_hook_dir(s, path))
                return -1;
        prefix = g_strndup(name, (gsize) (colon - name));
        return fh_platform_from_string(prefix) < 0 ? -1 : fh_platform_from_string(prefix);
}

/* What the agents check: stat() (symlinks followed) says a regular file. */
static bool is_file(const char *path) {
        struct stat st;

        return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *rooted(const struct fh_settings *s, const char *path) {
        return path ? fh_platform_path(s->root, path) : NULL;
}

static bool same_file(const struct stat *a, const char *path) {
        struct stat b;

        return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* Whether 'st' is this very program. The link /proc/self/exe names first:
 * under valgrind (tests/run) that is our program while the link itself
 * leads to valgrind's. */
static bool is_self(const struct stat *st) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

        if (n > 0) {
                self[n] = '\0';
                if (same_file(st, self))
                        return true;
        }
        return same_file(st, "/proc/self/exe");
}

/* Whether 'path' is one of our entry points: a link to this very program
 * or to another installation's, or a wrapper --attach wrote (the marker on its second line). Running it
 * would run us again. The marker is attach.h's, the one the writer uses. */
static bool own_entry_point(const char *path) {
        struct stat st;
        char head[512];
        const char *nl;
        ssize_t n;
        int fd;

        /* Another installation's link (attach.h's rule): it would run the
         * hooks again, under another copy of us. */
        n = readlink(path, head, sizeof head - 1);
        if (n > 0 && (head[n] = '\0', fh_attach_link_is_ours(head)))
                return true;
        fd = fh_open_regular(path, &st);
        if (fd < 0)
                return false;
        if (is_self(&st)) {
                close(fd);
                return true;
        }
        n = pread(fd, head, sizeof head - 1, 0);
        close(fd);
        if (n <= 0)
                return false;
        head[n] = '\0';
        nl = strchr(head, '\n');
        return nl && strncmp(nl + 1, FH_ATTACH_MARKER, strlen(FH_ATTACH_MARKER)) == 0;
}

/* vmtoolsd: slot 0 for the legacy pair if either file exists, then every
 * direct entry of backupScripts.d that stat() calls a regular file, in
 * strcmp order, dotfiles, backups and files without x bit included
 * (open-vm-tools services/plugins/vmbackup/scriptOps.c:476-538,
 * lib/file/filePosix.c:3307-3308). */
static void vmware_entries(const struct fh_settings *s, const struct fh_platform_info *info, GPtrArray *out) {
        g_autofree char *pre = rooted(s, info->pre_script), *post = rooted(s, info->post_script);
        g_autofree char *dir = rooted(s, info->script_dir);
        g_autoptr(GPtrArray) hooks = NULL;

        if (is_file(pre) || is_file(post))
                g_ptr_array_add(out, entry_new(FH_PLATFORM_VMWARE, "legacy", g_steal_pointer(&pre),
                                               g_steal_pointer(&post)));
        if (fh_scan_dir(dir, &hooks) < 0)
                return;
        for (guint k = 0; k < hooks->len; k++) {
                const struct fh_hook *h = hooks->pdata[k];

                if (is_file(h->path))
                        g_ptr_array_add(out, entry_new(FH_PLATFORM_VMWARE, h->name, g_strdup(h->path),
                                                       g_strdup(h->path)));
        }
}

/* Nutanix's and Google's fixed pair. */
static void pair_entry(const struct fh_settings *s, enum fh_platform p, const struct fh_platform_info *info,
                       GPtrArray *out) {
        g_autofree char *pre = rooted(s, info->pre_script), *post = rooted(s, info->post_script);

        if (is_file(pre) || is_file(post))
                g_ptr_array_add(out, entry_new(p, "scripts", g_steal_pointer(&pre), g_steal_pointer(&post)));
}

static void azure_entry(const struct fh_settings *s, struct fh_trust *trust, GPtrArray *out);

/* The entries of platform 'p', present or not enabled alike. */
static GPtrArray *platform_entries(const struct fh_settings *s, enum fh_platform p, struct fh_trust *trust) {
        GPtrArray *out = g_ptr_array_new_with_free_func(entry_free);
        const struct fh_platform_info *info = fh_platform_info(p);

        switch (p) {
        case FH_PLATFORM_VMWARE:
                vmware_entries(s, info, out);
                break;
        case FH_PLATFORM_NUTANIX:
        case FH_PLATFORM_GCE:
                pair_entry(s, p, info, out);
                break;
        case FH_PLATFORM_AZURE:
                azure_entry(s, trust, out);
                break;
        default:
                break;
        }
        return out;
}

static void not_run(struct fh_plan_item *i, bool notable, char *why) {
        i->run = false;
        i->verdict = FH_VERDICT_DISABLED;
        i->notable = notable;
        i->why = why;
}

/* The item of entry 'e' for 'phase'. */
static struct fh_plan_item *entry_item(const struct fh_settings *s, enum fh_platform p, const struct foreign_entry *e,
                                       enum fh_phase phase) {
        bool freeze = phase == FH_PHASE_FREEZE;
        const char *side = freeze ? e->pre : e->post, *other = freeze ? e->post : e->pre;
        const char *shown_path = e->problem ? e->config : is_file(side) || !other ? side : other;
        g_autofree char *dir = g_path_get_dirname(shown_path ? shown_path : "/");
        struct fh_plan_item *i = fh_plan_item_new(e->name, shown_path ? shown_path : "", dir);

        i->platform = p;
        i->timeout_msec = fh_settings_timeout(s, e->name, freeze);
        i->via_sh = p == FH_PLATFORM_AZURE;
        i->params = g_strdupv(freeze ? e->pre_params : e->post_params);
        if (e->problem) {
                not_run(i, true, g_strdup(e->problem));
                i->refused = e->refused;
                i->verdict = e->refused ? FH_VERDICT_REFUSED : FH_VERDICT_DISABLED;
        } else if (s->caller == (int) p)
                not_run(i, false, g_strdup_printf("%s ran us: it runs its own scripts itself",
                                                   fh_platform_info(p)->title));
        else if (e->own || own_entry_point(shown_path))
                not_run(i, false, g_strdup("fsfreeze-hook's own entry point"));
        else if (!fh_settings_enabled(s, e->name)) {
                g_autofree char *name = fh_escape_dup(e->name);
                not_run(i, false, g_strdup_printf("disabled (enabled=false in [hook %s])", name));
        } else if (!is_file(side) && freeze)
                /* Held all the same: the thaw runs the side that exists. */
                i->nothing_to_run = true;
        else if (!is_file(side))
                not_run(i, false, g_strdup("no thaw script"));
        return i;
}

void fh_foreign_plan(const struct fh_settings *s, enum fh_phase phase, struct fh_trust *trust, GPtrArray *items) {
        for (int p = 0; p < _FH_PLATFORM_MAX; p++) {
                g_autoptr(GPtrArray) entries = NULL;

                if (!(s->platform_scripts & (1U << p)))
                        continue;
                entries = platform_entries(s, p, trust);
                for (guint k = 0; k < entries->len; k++)
                        g_ptr_array_add(items, entry_item(s, p, entries->pdata[k], phase));
        }
}

struct fh_plan_item *fh_foreign_thaw_item(const struct fh_settings *s, struct fh_trust *trust, const char *name,
                                          const char *path) {
        int p = fh_foreign_platform_of(s, name, path);
        g_autoptr(GPtrArray) entries = NULL;
        g_autofree char *dir = NULL;
        struct fh_plan_item *i;

        if (p < 0)
                return NULL;
        entries = platform_entries(s, p, trust);
        for (guint k = 0; k < entries->len; k++) {
                const struct foreign_entry *e = entries->pdata[k];
                if (strcmp(e->name, name) == 0) {
                        i = entry_item(s, p, e, FH_PHASE_THAW);
                        i->froze = "yes";
                        return i;
                }
        }
        /* Gone since the freeze: nothing to thaw it with (vmtoolsd skips
         * it too, scriptOps.c:136-154); said, as for a hook. */
        dir = g_path_get_dirname(path);
        i = fh_plan_item_new(name, path, dir);
        i->platform = p;
        not_run(i, true, g_strdup("ran freeze but is gone: cannot thaw it"));
        i->verdict = FH_VERDICT_GONE;
        return i;
}

GPtrArray *fh_foreign_not_enabled(const struct fh_settings *s, struct fh_trust *trust) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

        for (int p = 0; p < _FH_PLATFORM_MAX; p++) {
                const struct fh_platform_info *info = fh_platform_info(p);
                g_autoptr(GPtrArray) entries = NULL;
                unsigned n = 0;

                if (s->platform_scripts & (1U << p))
                        continue;
                entries = platform_entries(s, p, trust);
                for (guint k = 0; k < entries->len; k++) {
                        const struct foreign_entry *e = entries->pdata[k];
                        n += !e->own && (e->problem || !own_entry_point(is_file(e->pre) ? e->pre : e->post));
                }
                if (n)
                        g_ptr_array_add(lines, g_strdup_printf("%s quiesce scripts are present but not run (%u): "
                                                               "platform-scripts=%s runs them", info->title, n,
                                                               info->name));
        }
        return lines;
}

/* Bigger than this is no script configuration (Azure's template: 1 KiB). */
#define AZURE_CONFIG_MAX (64 * 1024)

/* Reads Azure's JSON through the trust policy, as a hook is opened.
 * Returns 0, -ENOENT (none: no entry), or another -errno with *ret_problem
 * (-EPERM: refused). */
static int read_config(const struct fh_settings *s, struct fh_trust *trust, const char *path, char **ret_data,
                       size_t *ret_len, char **ret_problem) {
        g_autofree char *problem = NULL, *data = g_malloc(AZURE_CONFIG_MAX + 1);
        struct stat st;
        ssize_t n;
        int fd, r;

        if (trust)
                r = fh_trust_open(trust, path, O_RDONLY | O_NONBLOCK, &fd, &st, &problem);
        else
                r = (fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0 ? -errno : 0;
        if (r == -ENOENT)
                return r;
        if (r == 0 && problem && s->strict_modes) {
                close(fd);
                *ret_problem = g_strdup_printf("refused: %s", problem);
                return -EPERM;
        }
        if (r == 0 && !trust && fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
        }
        if (r < 0) {
                *ret_problem = g_strdup_printf("cannot open it: %s", g_strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                /* The trust policy opened it with O_PATH: nothing to read. */
                close(fd);
                *ret_problem = g_strdup("not a regular file");
                return -EINVAL;
        }
        n = read(fd, data, AZURE_CONFIG_MAX + 1);
        r = n < 0 ? -errno : n > AZURE_CONFIG_MAX ? -EFBIG : 0;
        close(fd);
        if (r < 0) {
                *ret_problem = g_strdup_printf("cannot read it: %s", g_strerror(-r));
                return r;
        }
        *ret_data = g_steal_pointer(&data);
        *ret_len = (size_t) n;
        return 0;
}

/* A list of strings (preScriptParams), or NULL with *ret_problem. */
static char **string_list(const struct fh_json *v, const char *key, char **ret_problem) {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        if (!v)
                return g_new0(char *, 1);
        if (fh_json_type(v) != FH_JSON_ARRAY) {
                *ret_problem = g_strdup_printf("%s is not a list", key);
                return NULL;
        }
        for (guint k = 0; k < fh_json_length(v); k++) {
                const char *a = fh_json_string(fh_json_at(v, k));
                if (!a) {
                        *ret_problem = g_strdup_printf("%s[%u] is not a string", key, k);
                        return NULL;
                }
                g_strv_builder_add(b, a);
        }
        return g_strv_builder_end(b);
}

/* preScriptLocation (absolute, as in the image) under --root. */
static char *script_location(const struct fh_settings *s, const struct fh_json *doc, const char *key,
                             char **ret_problem) {
        const char *v = fh_json_string(fh_json_member(doc, key));

        if (!v || *v != '/') {
                *ret_problem = g_strdup_printf("%s is %s", key, !v ? "missing or not a string" : "not an absolute path");
                return NULL;
        }
        return fh_platform_path(s->root, v);
}

/* The script locations and parameters of the JSON into 'e', or a problem. */
static void azure_fill(const struct fh_settings *s, const struct fh_json *doc, struct foreign_entry *e) {
        char *problem = NULL;

        if (fh_json_type(doc) != FH_JSON_OBJECT)
                problem = g_strdup("not a JSON object");
        if (!problem)
                e->pre = script_location(s, doc, "preScriptLocation", &problem);
        if (!problem)
                e->post = script_location(s, doc, "postScriptLocation", &problem);
        if (!problem)
                e->pre_params = string_list(fh_json_member(doc, "preScriptParams"), "preScriptParams", &problem);
        if (!problem)
                e->post_params = string_list(fh_json_member(doc, "postScriptParams"), "postScriptParams", &problem);
        if (!problem && !is_file(e->pre) && !is_file(e->post)) {
                g_autofree char *pre = fh_escape_dup(e->pre), *post = fh_escape_dup(e->post);
                problem = g_strdup_printf("neither of its scripts exists (%s, %s)", pre, post);
        }
        e->problem = problem;
}

/* Azure's one pre and post script, named by VMSnapshotScriptPluginConfig.json
 * (azure-linux-extensions VMBackup/main/ScriptRunner.py:76-117). A JSON
 * that cannot be read or used is an entry that says why, naming the file. */
static void azure_entry(const struct fh_settings *s, struct fh_trust *trust, GPtrArray *out) {
        g_autofree char *path = rooted(s, fh_platform_info(FH_PLATFORM_AZURE)->config);
        g_autofree char *data = NULL, *problem = NULL;
        g_autoptr(fh_json) doc = NULL;
        struct foreign_entry *e;
        size_t len = 0;
        int r;

        r = read_config(s, trust, path, &data, &len, &problem);
        if (r == -ENOENT)
                return;
        e = entry_new(FH_PLATFORM_AZURE, "scripts", NULL, NULL);
        e->config = g_strdup(path);
        g_ptr_array_add(out, e);
        if (r == 0 && fh_json_parse(data, len, &doc, &problem) == 0) {
                /* --attach wrote it, to run us; edited to name other
                 * scripts, it is somebody's. */
                e->own = fh_attach_azure_config_is_ours(doc);
                azure_fill(s, doc, e);
                return;
        }
        /* The item is the JSON: the log names it before this. */
        e->refused = r == -EPERM;
        e->problem = g_steal_pointer(&problem);
}

static const char *op_word(enum fh_foreign_op op) {
        switch (op) {
        case FH_FOREIGN_FREEZE:
                return "freeze";
        case FH_FOREIGN_FREEZE_FAIL:
                return "freezeFail";
        default:
                return "thaw";
        }
}

/* A script read, not executed (by the shell that runs it): judged as a
 * hook is, but no x bit is needed (Azure's agent runs `sh SCRIPT`). */
static int open_read(struct fh_trust *trust, const struct fh_plan_item *item, bool strict, struct fh_exec_file *ret,
                     char **ret_problem) {
        g_autofree char *name = g_path_get_basename(item->path), *problem = NULL;
        struct fh_exec_file f = { .fd = -1 };
        int r = 0;

        if (trust) {
                r = fh_trust_open_in(trust, item->dir, name, O_RDONLY | O_NONBLOCK, &f.fd, &f.st, &problem);
                if (r == 0 && problem && strict) {
                        close(f.fd);
                        r = -EPERM;
                }
                if (r == 0 || r == -EPERM)
                        *ret_problem = g_steal_pointer(&problem);
                if (r < 0)
                        return r;
        } else {
                f.fd = open(item->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (f.fd < 0 || fstat(f.fd, &f.st) < 0) {
                        r = -errno;
                        fh_exec_file_close(&f);
                        return r;
                }
        }
        if (!S_ISREG(f.st.st_mode)) {
                fh_exec_file_close(&f);
                return S_ISDIR(f.st.st_mode) ? -EISDIR : -EINVAL;
        }
        *ret = f;
        return 0;
}

/* The shell (the running system's, not --root's) that reads a script:
 * Azure's is sh; VMware's agent prefers bash, and falls back to sh
 * without it (procMgrPosix.c:1694-1757). */
static const char *shell_path(bool bash) {
        return bash && access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
}

/* Opens 'sh' as the trust policy asks of any program we run. */
static int open_shell(struct fh_trust *trust, const char *sh, bool strict, const char *search_path,
                      struct fh_exec_file *ret, char **ret_problem) {
        return fh_exec_file_open_hook(trust, "/bin", sh, strict, search_path, ret, ret_problem);
}

/* Neither #! nor a binary: vmtoolsd runs `bash -c '"PATH" op'`, and bash
 * runs a file that execve() refuses with ENOEXEC as a shell script. */
static bool needs_shell(const struct fh_exec_file *f) {
        char magic[4];
        ssize_t n;

        if (f->is_script)
                return false;
        n = pread(f->fd, magic, sizeof magic, 0);
        return n >= 0 && !(n == 4 && memcmp(magic, "\177ELF", 4) == 0);
}

static char **build_argv(const struct fh_plan_item *item, enum fh_foreign_op op, const char *shell) {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        if (shell) {
                g_strv_builder_add(b, shell);
                g_strv_builder_add(b, "/dev/fd/" G_STRINGIFY(FH_SCRIPT_FD));
        } else
                g_strv_builder_add(b, item->path);
        switch (item->platform) {
        case FH_PLATFORM_NUTANIX:
                break;                  /* no argument: undocumented, assumed */
        case FH_PLATFORM_GCE:
                g_strv_builder_add(b, "");      /* the disk list: qemu-ga knows none */
                break;
        case FH_PLATFORM_AZURE:
                for (char **a = item->params; a && *a; a++)
                        g_strv_builder_add(b, *a);
                break;
        case FH_PLATFORM_VMWARE:
                g_strv_builder_add(b, op_word(op));
                break;
        default:
                g_strv_builder_add(b, op == FH_FOREIGN_FREEZE ? "freeze" : "thaw");
                break;
        }
        return g_strv_builder_end(b);
}

int fh_foreign_open(struct fh_trust *trust, const struct fh_plan_item *item, enum fh_foreign_op op, bool strict,
                    const char *search_path, struct fh_foreign_exec *ret, char **ret_problem) {
        struct fh_foreign_exec e = { .file = { .fd = -1 }, .script = { .fd = -1 } };
        g_autofree char *problem = NULL, *shell_problem = NULL;
        const char *shell = NULL;
        int r;

        if (item->via_sh)
                r = open_read(trust, item, strict, &e.script, &problem);
        else
                r = fh_exec_file_open_hook(trust, item->dir, item->path, strict, search_path, &e.file, &problem);
        if (r == 0 && item->platform == FH_PLATFORM_VMWARE && needs_shell(&e.file)) {
                e.script = e.file;
                e.file = (struct fh_exec_file) { .fd = -1 };
        }
        if (r == 0 && e.script.fd >= 0) {
                const char *sh = shell_path(!item->via_sh);

                /* argv[0], and what the log says read the script. */
                shell = strrchr(sh, '/') + 1;
                r = open_shell(trust, sh, strict, search_path, &e.file, &shell_problem);
                if (shell_problem && !problem)
                        problem = g_steal_pointer(&shell_problem);
        }
        if (r < 0) {
                fh_foreign_exec_done(&e);
                if (r == -EPERM)
                        *ret_problem = g_steal_pointer(&problem);
                return r;
        }
        e.argv = build_argv(item, op, shell);
        *ret = e;
        *ret_problem = g_steal_pointer(&problem);
        return 0;
}

char *fh_foreign_open_failure(const struct fh_plan_item *item, int r) {
        /* vmtoolsd runs every regular file of backupScripts.d, x bit or
         * not (scriptOps.c:476-532); bash then fails with 126. */
        if (item->platform == FH_PLATFORM_VMWARE && r == -EACCES)
                return g_strdup("not executable (vmtoolsd's bash would fail it too)");
        return g_strdup_printf("cannot open it: %s", g_strerror(-r));
}

void fh_foreign_exec_done(struct fh_foreign_exec *e) {
        fh_exec_file_close(&e->file);
        fh_exec_file_close(&e->script);
        g_clear_pointer(&e->argv, g_strfreev);
}

char *fh_foreign_exec_describe(const struct fh_foreign_exec *e) {
        g_autoptr(GString) s = g_string_new(NULL);
        guint first = e->script.fd >= 0 ? 2 : 1;

        for (guint k = first; e->argv[k - 1] && e->argv[k]; k++) {
                g_autofree char *shown = fh_escape_dup(e->argv[k]);
                g_string_append_printf(s, "%s%s", s->len ? " " : "", *shown ? shown : "''");
        }
        if (s->len == 0)
                g_string_append(s, "(no argument)");
        if (e->script.fd >= 0)
                g_string_append_printf(s, " (read by %s)", e->argv[0]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}
