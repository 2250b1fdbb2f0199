/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "config.h"
#include "escape.h"
#include "foreign.h"
#include "parse.h"

const char *const fh_config_main_keys[] = {
        "hook-dirs", "log-file", "journal", "timeout", "thaw-timeout", "kill-grace",
        "max-output", "on-failure", "state-dir", "strict-modes", "freeze-deadline", "metrics-file",
        "platform-scripts", NULL,
};

const char *const fh_config_hook_keys[] = { "timeout", "enabled", NULL };

/* Where keys under a malformed group header go, to be ignored. */
#define IGNORED_GROUP "#ignored"

/* Files bigger than this are not configuration. */
#define MAX_CONFIG_SIZE (1024 * 1024)

struct parser {
        const char *filename;           /* escaped */
        GPtrArray *warnings;
        GHashTable *lines;              /* "group\nkey" -> line number */
        GKeyFile *kf;
        struct fh_layer *out;
};

static void warn(struct parser *p, unsigned line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void warn(struct parser *p, unsigned line, const char *fmt, ...) {
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        if (line > 0)
                g_ptr_array_add(p->warnings, g_strdup_printf("%s:%u: %s", p->filename, line, msg));
        else
                g_ptr_array_add(p->warnings, g_strdup_printf("%s: %s", p->filename, msg));
}

static unsigned line_of(struct parser *p, const char *group, const char *key) {
        g_autofree char *k = g_strconcat(group, "\n", key, NULL);

        return GPOINTER_TO_UINT(g_hash_table_lookup(p->lines, k));
}

/* Printable text only, so that group and key names can go into log lines
 * as they are: no brackets (locale suffixes are not ours either), no C0 or
 * C1 control characters, no DEL. */
static bool valid_group_name(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n;) {
                unsigned cp;
                size_t len = fh_utf8_decode((const unsigned char *) s + i, n - i, &cp);

                if (len == 0 || cp == '[' || cp == ']' || fh_unsafe_codepoint(cp))
                        return false;
                i += len;
        }
        return true;
}

static bool valid_key_name(const char *s) {
        return valid_group_name(s, strlen(s));
}

/* GKeyFile rejects a whole file for one bad line. Keep only lines it will
 * accept, remembering where each key was, and warn about the rest. */
static GString *clean(struct parser *p, const char *data, size_t len) {
        GString *out = g_string_sized_new(len + 1);
        g_autofree char *group = NULL;
        unsigned lineno = 0;
        const char *end = data + len;

        for (const char *line = data; line < end;) {
                const char *nl = memchr(line, '\n', (size_t) (end - line));
                size_t n = nl ? (size_t) (nl - line) : (size_t) (end - line);
                g_autofree char *text = g_strndup(line, n);
                char *s = g_strstrip(g_strdup(text));
                const char *eq;

                lineno++;
                line += n + (nl ? 1 : 0);
                if (strlen(text) != n || !g_utf8_validate(text, -1, NULL)) {
                        warn(p, lineno, "not valid UTF-8 text: line ignored");
                } else if (*s == '\0' || *s == '#') {
                        /* blank or comment */
                } else if (*s == '[') {
                        size_t sl = strlen(s);
                        if (s[sl - 1] != ']' || !valid_group_name(s + 1, sl - 2)) {
                                g_autofree char *shown = fh_escape_dup(s);
                                warn(p, lineno, "malformed group header '%s': line ignored, and the keys under it", shown);
                                g_clear_pointer(&group, g_free);
                                /* Keys below it must not land in the previous group. */
                                g_string_append(out, "[" IGNORED_GROUP "]\n");
                        } else {
                                g_free(group);
                                group = g_strndup(s + 1, sl - 2);
                                if (!g_hash_table_contains(p->lines, group))
                                        g_hash_table_insert(p->lines, g_strdup(group), GUINT_TO_POINTER(lineno));
                                g_string_append_printf(out, "%s\n", s);
                        }
                } else if ((eq = strchr(s, '=')) && eq > s) {
                        g_autofree char *key = g_strstrip(g_strndup(s, (gsize) (eq - s)));
                        if (!group) {
                                g_autofree char *shown = fh_escape_dup(key);
                                warn(p, lineno, "key '%s' outside any group: ignored", shown);
                        } else if (!valid_key_name(key)) {
                                g_autofree char *shown = fh_escape_dup(key);
                                warn(p, lineno, "'%s' is not a valid key name: line ignored", shown);
                        } else {
                                g_hash_table_insert(p->lines, g_strconcat(group, "\n", key, NULL),
                                                    GUINT_TO_POINTER(lineno));
                                g_string_append_printf(out, "%s\n", s);
                        }
                } else {
                        g_autofree char *shown = fh_escape_dup(s);
                        warn(p, lineno, "'%s' is not a [group], a key=value pair or a # comment: line ignored", shown);
                }
                g_free(s);
        }
        return out;
}

/* --- values ---------------------------------------------------------------- */

static char *get_string(struct parser *p, const char *group, const char *key) {
        g_autoptr(GError) error = NULL;
        char *v = g_key_file_get_string(p->kf, group, key, &error);

        if (!v) {
                g_autofree char *msg = fh_escape_dup(error->message);
                warn(p, line_of(p, group, key), "key '%s' in [%s]: %s: using the default", key, group, msg);
        }
        return v;
}

static void bad_value(struct parser *p, const char *group, const char *key, const char *value, const char *expected) {
        g_autofree char *shown = fh_escape_dup(value);

        warn(p, line_of(p, group, key), "key '%s' in [%s]: invalid value '%s' (expected %s): using the default", key,
             group, shown, expected);
}

static void get_seconds(struct parser *p, const char *group, const char *key, int64_t *ret) {
        g_autofree char *v = get_string(p, group, key);

        if (v && fh_parse_seconds(v, ret) < 0)
                bad_value(p, group, key, v, "seconds, e.g. 30 or 0.5, at most 86400");
}

static void get_bool(struct parser *p, const char *group, const char *key, int *ret) {
        g_autofree char *v = get_string(p, group, key);

        if (!v)
                return;
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
                *ret = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
                *ret = 0;
        else
                bad_value(p, group, key, v, "true or false");
}

static bool absolute_path(struct parser *p, const char *group, const char *key, const char *v) {
        if (v[0] == '/')
                return true;
        bad_value(p, group, key, v, "an absolute path");
        return false;
}

static void get_path(struct parser *p, const char *key, char **ret, bool empty_ok) {
        g_autofree char *v = get_string(p, FH_CONFIG_GROUP, key);

        if (!v || (!(empty_ok && !*v) && !absolute_path(p, FH_CONFIG_GROUP, key, v)))
                return;
        g_free(*ret);
        *ret = g_steal_pointer(&v);
}

/* A list that cannot be read, or that keeps no directory, is an error:
 * it would otherwise turn every hook off without a word. */
static void get_hook_dirs(struct parser *p) {
        unsigned line = line_of(p, FH_CONFIG_GROUP, "hook-dirs");
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) list = g_key_file_get_string_list(p->kf, FH_CONFIG_GROUP, "hook-dirs", NULL, &error);
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        g_auto(GStrv) dirs = NULL;

        if (!list) {
                g_autofree char *msg = fh_escape_dup(error ? error->message : "no value");
                warn(p, line, "key 'hook-dirs' in [" FH_CONFIG_GROUP "]: %s: using the default", msg);
                return;
        }
        for (char **d = list; *d; d++) {
                g_strstrip(*d);
                if (**d && absolute_path(p, FH_CONFIG_GROUP, "hook-dirs", *d))
                        g_strv_builder_add(b, *d);
        }
        dirs = g_strv_builder_end(b);
        if (!dirs[0]) {
                warn(p, line, "key 'hook-dirs' in [" FH_CONFIG_GROUP "]: no usable directory: using the default");
                return;
        }
        g_strfreev(p->out->hook_dirs);
        p->out->hook_dirs = g_steal_pointer(&dirs);
}

/* A list like hook-dirs; a name that is no platform costs itself only. */
static void get_platform_scripts(struct parser *p) {
        unsigned line = line_of(p, FH_CONFIG_GROUP, "platform-scripts");
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) list = g_key_file_get_string_list(p->kf, FH_CONFIG_GROUP, "platform-scripts", NULL, &error);
        g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);

        if (!list) {
                g_autofree char *msg = fh_escape_dup(error ? error->message : "no value");
                warn(p, line, "key 'platform-scripts' in [" FH_CONFIG_GROUP "]: %s: using the default", msg);
                return;
        }
        for (char **n = list; *n; n++)
                g_strstrip(*n);
        p->out->platform_scripts = (int) fh_foreign_parse(list, unknown);
        for (guint k = 0; k < unknown->len; k++) {
                g_autofree char *shown = fh_escape_dup(unknown->pdata[k]);
                warn(p, line, "key 'platform-scripts' in [" FH_CONFIG_GROUP "]: unknown platform '%s' (expected "
                     "vmware, nutanix, gce, azure, all or none): ignored", shown);
        }
}

static void get_main(struct parser *p) {
        const char *g = FH_CONFIG_GROUP;
        struct fh_layer *o = p->out;

        if (g_key_file_has_key(p->kf, g, "hook-dirs", NULL))
                get_hook_dirs(p);
        if (g_key_file_has_key(p->kf, g, "log-file", NULL)) {
                get_path(p, "log-file", &o->log_file, true);
                o->log_file_set = o->log_file != NULL;
        }
        if (g_key_file_has_key(p->kf, g, "journal", NULL))
                get_bool(p, g, "journal", &o->journal);
        if (g_key_file_has_key(p->kf, g, "timeout", NULL))
                get_seconds(p, g, "timeout", &o->timeout_msec);
        if (g_key_file_has_key(p->kf, g, "thaw-timeout", NULL))
                get_seconds(p, g, "thaw-timeout", &o->thaw_timeout_msec);
        if (g_key_file_has_key(p->kf, g, "kill-grace", NULL))
                get_seconds(p, g, "kill-grace", &o->kill_grace_msec);
        if (g_key_file_has_key(p->kf, g, "max-output", NULL)) {
                g_autofree char *v = get_string(p, g, "max-output");
                uint64_t n;
                if (v && fh_parse_size(v, &n) < 0)
                        bad_value(p, g, "max-output", v, "bytes, e.g. 4194304, 512K or 4M");
                else if (v)
                        o->max_output = (int64_t) n;
        }
        if (g_key_file_has_key(p->kf, g, "on-failure", NULL)) {
                g_autofree char *v = get_string(p, g, "on-failure");
                int f = v ? fh_on_failure_from_string(v) : -1;
                if (v && f < 0)
                        bad_value(p, g, "on-failure", v, "continue or abort");
                else if (v)
                        o->on_failure = f;
        }
        if (g_key_file_has_key(p->kf, g, "state-dir", NULL))
                get_path(p, "state-dir", &o->state_dir, false);
        if (g_key_file_has_key(p->kf, g, "strict-modes", NULL))
                get_bool(p, g, "strict-modes", &o->strict_modes);
        if (g_key_file_has_key(p->kf, g, "freeze-deadline", NULL))
                get_seconds(p, g, "freeze-deadline", &o->freeze_deadline_msec);
        if (g_key_file_has_key(p->kf, g, "metrics-file", NULL))
                get_path(p, "metrics-file", &o->metrics_file, true);
        if (g_key_file_has_key(p->kf, g, "platform-scripts", NULL))
                get_platform_scripts(p);
}

static void get_hook(struct parser *p, const char *group) {
        const char *name = group + strlen(FH_CONFIG_HOOK_PREFIX);
        struct fh_hook_settings h = { .timeout_msec = -1, .enabled = -1 };

        if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                g_autofree char *shown = fh_escape_dup(group);
                warn(p, GPOINTER_TO_UINT(g_hash_table_lookup(p->lines, group)),
                     "group [%s]: not a hook name (a file name, without '/'): ignored", shown);
                return;
        }
        if (g_key_file_has_key(p->kf, group, "timeout", NULL))
                get_seconds(p, group, "timeout", &h.timeout_msec);
        if (g_key_file_has_key(p->kf, group, "enabled", NULL))
                get_bool(p, group, "enabled", &h.enabled);
        if (!p->out->hooks)
                p->out->hooks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_replace(p->out->hooks, g_strdup(name), g_memdup2(&h, sizeof h));
}

static bool known(const char *const *keys, const char *key) {
        for (; *keys; keys++)
                if (strcmp(*keys, key) == 0)
                        return true;
        return false;
}

static void check_unknown(struct parser *p) {
        g_auto(GStrv) groups = g_key_file_get_groups(p->kf, NULL);

        for (char **g = groups; *g; g++) {
                const char *const *keys;
                g_auto(GStrv) names = NULL;

                if (strcmp(*g, FH_CONFIG_GROUP) == 0)
                        keys = fh_config_main_keys;
                else if (g_str_has_prefix(*g, FH_CONFIG_HOOK_PREFIX))
                        keys = fh_config_hook_keys;
                else {
                        if (strcmp(*g, IGNORED_GROUP) != 0) {
                                g_autofree char *shown = fh_escape_dup(*g);
                                warn(p, GPOINTER_TO_UINT(g_hash_table_lookup(p->lines, *g)),
                                     "unknown group [%s]: ignored", shown);
                        }
                        continue;
                }
                names = g_key_file_get_keys(p->kf, *g, NULL, NULL);
                for (char **k = names; names && *k; k++)
                        if (!known(keys, *k)) {
                                g_autofree char *shown = fh_escape_dup(*k);
                                warn(p, line_of(p, *g, *k), "unknown key '%s' in [%s]: ignored", shown, *g);
                        }
        }
}

void fh_config_parse(const char *data, size_t len, const char *filename, struct fh_layer *ret, GPtrArray *warnings) {
        g_autofree char *shown = fh_escape_dup(filename);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GHashTable) lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GError) error = NULL;
        struct parser p = { .filename = shown, .warnings = warnings, .lines = lines, .kf = kf, .out = ret };
        g_autoptr(GString) text = NULL;

        fh_layer_init(ret);
        /* Editors on other systems may start the file with a UTF-8 byte
         * order mark; it would hide the first group header. */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                data += 3;
                len -= 3;
        }
        text = clean(&p, data, len);
        if (!g_key_file_load_from_data(kf, text->str, text->len, G_KEY_FILE_NONE, &error)) {
                /* The cleaning should make this impossible; be safe anyway. */
                g_autofree char *msg = fh_escape_dup(error->message);
                warn(&p, 0, "%s: file ignored", msg);
                return;
        }

        check_unknown(&p);
        if (g_key_file_has_group(kf, FH_CONFIG_GROUP))
                get_main(&p);
        {
                g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
                for (char **g = groups; *g; g++)
                        if (g_str_has_prefix(*g, FH_CONFIG_HOOK_PREFIX))
                                get_hook(&p, *g);
        }
}

/* Reads a whole file of at most 'max' bytes into a new string. */
static int read_fd(int fd, size_t max, char **ret_data, size_t *ret_len) {
        g_autofree char *data = NULL;
        struct stat st;
        size_t len = 0;
        int r = 0;

        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                st.st_size = 0;         /* --config=/dev/null: no configuration */
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else if ((size_t) st.st_size > max)
                r = -EFBIG;
        if (r == 0) {
                data = g_malloc((size_t) st.st_size + 1);
                while (len < (size_t) st.st_size) {
                        ssize_t n = read(fd, data + len, (size_t) st.st_size - len);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                r = n < 0 ? -errno : 0;
                                break;
                        }
                        len += (size_t) n;
                }
                data[len] = '\0';
        }
        if (r < 0)
                return r;
        *ret_data = g_steal_pointer(&data);
        *ret_len = len;
        return 0;
}

int fh_config_load_fd(int fd, const char *path, struct fh_layer *ret, GPtrArray *warnings) {
        g_autofree char *data = NULL;
        size_t len = 0;
        int r;

        fh_layer_init(ret);
        r = fd < 0 ? fd : read_fd(fd, MAX_CONFIG_SIZE, &data, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                g_autofree char *shown = fh_escape_dup(path);
                g_ptr_array_add(warnings, g_strdup_printf("%s: cannot read: %s: using the defaults", shown,
                                                          r == -EINVAL ? "not a regular file"
                                                          : r == -EFBIG ? "larger than 1 MiB" : g_strerror(-r)));
                return r;
        }
        fh_config_parse(data, len, path, ret, warnings);
        return 0;
}

int fh_config_load(const char *path, struct fh_layer *ret, GPtrArray *warnings) {
        /* Plain system calls: a missing file, the common case, must cost
         * nothing but the failed open (GLib's error path loads charset
         * tables to translate the message). */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        int r = fh_config_load_fd(fd < 0 ? -errno : fd, path, ret, warnings);

        if (fd >= 0)
                close(fd);
        return r;
}
