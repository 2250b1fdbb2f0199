/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "escape.h"
#include "trust.h"

/* As the kernel's MAXSYMLINKS (40) and systemd's CHASE_MAX (32). */
#define MAX_SYMLINKS 32
/* binfmt_script: an interpreter may itself be a script, 4 levels deep. */
#define MAX_INTERP_DEPTH 4
#define FUSE_SUPER_MAGIC 0x65735546
#define HEAD_SIZE 256

/* A directory resolved once for all its entries. */
struct dir_entry {
        struct stat st;         /* the directory that was judged */
        int error;              /* 0, or -errno */
        char *real;             /* where it really is */
        char *problem;          /* NULL: trusted */
};

struct fh_trust {
        uid_t owner;
        mode_t forbidden;       /* write bits that make an object untrusted */
        GHashTable *dirs;       /* directory name as asked -> struct dir_entry */
        GHashTable *interps;    /* interpreter -> problem, or "" when trusted */
        GHashTable *failed;     /* failed resolutions, kept only to be freed */
};

static void dir_entry_free(gpointer p) {
        struct dir_entry *e = p;

        g_free(e->real);
        g_free(e->problem);
        g_free(e);
}

struct fh_trust *fh_trust_new(uid_t owner) {
        struct fh_trust *t = g_new0(struct fh_trust, 1);

        t->owner = owner;
        t->forbidden = S_IWGRP | S_IWOTH;
        t->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dir_entry_free);
        t->interps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        t->failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dir_entry_free);
        return t;
}

struct fh_trust *fh_trust_new_for_output(uid_t owner) {
        struct fh_trust *t = fh_trust_new(owner);

        t->forbidden = S_IWOTH;
        return t;
}

void fh_trust_free(struct fh_trust *t) {
        if (!t)
                return;
        g_hash_table_unref(t->dirs);
        g_hash_table_unref(t->interps);
        g_hash_table_unref(t->failed);
        g_free(t);
}

/* --- the pure rule ------------------------------------------------------------ */

bool fh_is_null_device(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/* /, /dev, /proc and /sys are the system's: advising chmod or chown there
 * would break the machine; the path that leads there is what to change. */
static bool is_system_path(const char *path) {
        static const char *const roots[] = { "/dev", "/proc", "/sys" };

        if (strcmp(path, "/") == 0)
                return true;
        for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
                size_t n = strlen(roots[i]);
                if (strncmp(path, roots[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
                        return true;
        }
        return false;
}

#define SYSTEM_FIX "(a system path: do not change it; use another path)"

/* 'path', escaped for the log and quoted for the shell, for the fix. */
static char *quoted(const char *path) {
        g_autofree char *q = g_shell_quote(path);

        return fh_escape_dup(q);
}

static char *judge_owner(const struct stat *st, const char *path, uid_t owner) {
        g_autofree char *shown = fh_escape_dup(path);
        g_autofree char *q = quoted(path);

        if (st->st_uid == 0 || st->st_uid == owner)
                return NULL;
        if (is_system_path(path))
                return g_strdup_printf("%s is owned by uid %u, not by root " SYSTEM_FIX, shown, (unsigned) st->st_uid);
        if (S_ISLNK(st->st_mode))
                return g_strdup_printf("%s is a symlink owned by uid %u, not by root, so that user can point it "
                                       "anywhere (fix: check where it points, then chown -h root %s)", shown,
                                       (unsigned) st->st_uid, q);
        return g_strdup_printf("%s is owned by uid %u, not by root (fix: chown root %s)", shown,
                               (unsigned) st->st_uid, q);
}

static char *judge(const struct stat *st, const char *path, uid_t owner, bool above_hook_dir, mode_t forbidden) {
        g_autofree char *shown = fh_escape_dup(path);
        g_autofree char *q = quoted(path);
        char *problem = judge_owner(st, path, owner);

        if (problem || S_ISLNK(st->st_mode) || fh_is_null_device(st))
                return problem;
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                return g_strdup_printf("%s is a device, not a file (fix: use another path)", shown);
        if ((st->st_mode & forbidden) == 0)
                return NULL;
        /* The sticky bit lets nobody but an entry's owner rename or remove
         * it: what root put in /tmp stays root's. */
        if (above_hook_dir && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
                return NULL;
        if (is_system_path(path))
                return g_strdup_printf("%s is writable by group or others " SYSTEM_FIX, shown);
        /* /tmp and the like are shared on purpose: chmod would break them. */
        if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
                return g_strdup_printf("%s is writable by group or others (fix: chmod go-w %s, unless it is "
                                       "shared on purpose, as /tmp is: then use a directory only root can write)",
                                       shown, q);
        return g_strdup_printf("%s is writable by group or others (fix: chmod go-w %s)", shown, q);
}

char *fh_trust_judge(const struct stat *st, const char *path, uid_t owner, bool above_hook_dir) {
        return judge(st, path, owner, above_hook_dir, S_IWGRP | S_IWOTH);
}

/* A FUSE server, which a user may run, reports owners and modes as it
 * likes: root-owned and 0755 proves nothing there. */
static char *judge_filesystem(int fd, const char *path) {
        struct statfs sf;
        g_autofree char *shown = NULL;

        if (fstatfs(fd, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
                return NULL;
        shown = fh_escape_dup(path);
        return g_strdup_printf("%s is on a FUSE filesystem, whose owners and modes its server reports as it likes "
                               "(fix: use a directory on a local filesystem)", shown);
}

/* --- the walk ----------------------------------------------------------------- */

struct step {
        int fd;                 /* O_PATH; only the last step holds one open */
        struct stat st;
        char *path;             /* where it really is */
};

struct walk {
        const struct fh_trust *t;
        GArray *steps;          /* struct step: / down to the current directory */
        GPtrArray *todo;        /* components still to resolve, the next one last */
        char *problem;          /* the first problem met */
        unsigned hops;
        /* The object the path leads to, when it is not a directory. */
        struct stat st;
        char *name;             /* its name in the last step */
        char *path;
};

static void step_clear(gpointer p) {
        struct step *s = p;

        if (s->fd >= 0)
                close(s->fd);
        g_free(s->path);
}

static void walk_init(struct walk *w, const struct fh_trust *t) {
        *w = (struct walk) { .t = t };
        w->steps = g_array_new(FALSE, TRUE, sizeof(struct step));
        g_array_set_clear_func(w->steps, step_clear);
        w->todo = g_ptr_array_new_with_free_func(g_free);
}

static void walk_done(struct walk *w) {
        g_array_unref(w->steps);
        g_ptr_array_unref(w->todo);
        g_free(w->problem);
        g_free(w->name);
        g_free(w->path);
}

static struct step *top(struct walk *w) {
        return &g_array_index(w->steps, struct step, w->steps->len - 1);
}

/* Keeps the first problem: it is the one to fix first. */
static void note(struct walk *w, char *problem) {
        if (!problem)
                return;
        if (w->problem)
                g_free(problem);
        else
                w->problem = problem;
}

/* Queues the components of 'path' in front of those still to resolve. */
static void queue(struct walk *w, const char *path) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);

        for (guint n = g_strv_length(parts); n-- > 0;)
                if (*parts[n] && strcmp(parts[n], ".") != 0)
                        g_ptr_array_add(w->todo, g_strdup(parts[n]));
}

/* Back up to the first 'len' steps, physically: '..' from where the walk
 * is, or / itself, and it must be the very directory judged on the way
 * down. Only the last step holds a descriptor, so that a deep walk needs
 * two at a time. */
static int back_to(struct walk *w, guint len) {
        struct stat st;
        struct step *s;
        int fd;

        if (len >= w->steps->len)
                return 0;
        fd = len == 1 ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                      : openat(top(w)->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        g_array_set_size(w->steps, len);
        s = top(w);
        if (fstat(fd, &st) < 0 || st.st_dev != s->st.st_dev || st.st_ino != s->st.st_ino) {
                close(fd);
                return -EAGAIN;         /* moved while being walked */
        }
        s->fd = fd;
        return 0;
}

static char *child_path(const char *dir, const char *name) {
        return strcmp(dir, "/") == 0 ? g_strconcat("/", name, NULL) : g_strconcat(dir, "/", name, NULL);
}

static int push_dir(struct walk *w, int fd, const struct stat *st, const char *path) {
        struct step s = { .fd = fd, .st = *st, .path = g_strdup(path) };

        /* Every directory on the way is "above" the last one, which is
         * judged again, without the sticky exception, at the end. */
        note(w, judge(st, path, w->t->owner, true, w->t->forbidden));
        note(w, judge_filesystem(fd, path));
        if (w->steps->len > 0 && top(w)->fd >= 0) {
                close(top(w)->fd);
                top(w)->fd = -1;
        }
        g_array_append_val(w->steps, s);
        return 0;
}

static int walk_start(struct walk *w, const char *path) {
        struct stat st;
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        push_dir(w, fd, &st, "/");
        if (path[0] != '/') {
                /* A relative name (fsfreeze-hook.d beside a relative
                 * argv[0]): the directories above the current one count. */
                g_autofree char *cwd = g_get_current_dir();
                g_autofree char *full = g_build_filename(cwd, path, NULL);
                queue(w, full);
        } else
                queue(w, path);
        return 0;
}

/* A symlink met on the way: judged by its owner (its directory is the
 * current step, already judged), then replaced by its target. */
static int follow(struct walk *w, int fd, const struct stat *st, const char *path) {
        char target[PATH_MAX];
        ssize_t n;

        note(w, judge(st, path, w->t->owner, true, w->t->forbidden));
        if (++w->hops > MAX_SYMLINKS)
                return -ELOOP;
        n = readlinkat(fd, "", target, sizeof target - 1);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ENOENT;
        target[n] = '\0';
        queue(w, target);
        return target[0] == '/' ? back_to(w, 1) : 0;
}

/* One component. Returns 0 to go on, 1 when the walk ended on a
 * non-directory (w->st, w->name, w->path), -errno on failure. */
static int walk_one(struct walk *w, const char *name) {
        struct step *cur = top(w);
        g_autofree char *path = NULL;
        struct stat st;
        int fd, r;

        if (strcmp(name, "..") == 0) {
                /* Physically, as the kernel does: the parent of where the
                 * walk really is, already judged on the way down. */
                return w->steps->len > 1 ? back_to(w, w->steps->len - 1) : 0;
        }
        path = child_path(cur->path, name);
        if (strlen(path) >= PATH_MAX) {
                /* Every step keeps where it is: past PATH_MAX (where a
                 * name could not be opened anyway), a user's chain of
                 * links would cost root gigabytes. */
                g_free(w->path);
                w->path = g_steal_pointer(&path);
                return -ENAMETOOLONG;
        }
        fd = openat(cur->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                g_free(w->path);
                w->path = g_steal_pointer(&path);
                return r;
        }
        if (S_ISLNK(st.st_mode)) {
                r = follow(w, fd, &st, path);
                close(fd);
                if (r < 0) {
                        g_free(w->path);
                        w->path = g_steal_pointer(&path);
                }
                return r;
        }
        if (S_ISDIR(st.st_mode))
                return push_dir(w, fd, &st, path);
        if (w->todo->len > 0) {
                close(fd);
                g_free(w->path);
                w->path = g_steal_pointer(&path);
                return -ENOTDIR;
        }
        /* Only its stat: it is reopened from its directory, verified. */
        close(fd);
        w->st = st;
        w->name = g_strdup(name);
        w->path = g_steal_pointer(&path);
        return 1;
}

/* Resolves w->todo. Returns 0 if it ends on a directory (top(w)), 1 on
 * anything else (w->st), -errno with w->path the failing step. */
static int walk_all(struct walk *w) {
        while (w->todo->len > 0) {
                g_autofree char *name = g_ptr_array_steal_index(w->todo, w->todo->len - 1);
                int r = walk_one(w, name);

                if (r > 0) {
                        /* The directory the object really is in holds
                         * it: no sticky exception there. */
                        note(w, judge(&top(w)->st, top(w)->path, w->t->owner, false, w->t->forbidden));
                        note(w, judge(&w->st, w->path, w->t->owner, false, w->t->forbidden));
                }
                if (r != 0)
                        return r;
        }
        note(w, judge(&top(w)->st, top(w)->path, w->t->owner, false, w->t->forbidden));
        return 0;
}

static char *cannot_examine(const char *path, int r) {
        g_autofree char *shown = fh_escape_dup(path);

        return g_strdup_printf("cannot examine %s: %s", shown, g_strerror(-r));
}

/* --- directories ---------------------------------------------------------------- */

static struct dir_entry *resolve_dir(const struct fh_trust *t, const char *dir) {
        struct dir_entry *e = g_new0(struct dir_entry, 1);
        struct walk w;
        int r;

        walk_init(&w, t);
        r = walk_start(&w, dir);
        if (r == 0)
                r = walk_all(&w);
        if (r > 0)
                r = -ENOTDIR;
        if (r < 0) {
                e->error = w.problem ? -EPERM : r;
                e->problem = w.problem ? g_steal_pointer(&w.problem) : cannot_examine(w.path ? w.path : dir, r);
        } else {
                struct step *s = top(&w);
                e->st = s->st;
                e->real = g_strdup(s->path);
                e->problem = g_steal_pointer(&w.problem);
        }
        walk_done(&w);
        return e;
}

static const struct dir_entry *cached_dir(struct fh_trust *t, const char *dir) {
        struct dir_entry *e = g_hash_table_lookup(t->dirs, dir);

        if (!e) {
                e = resolve_dir(t, dir);
                /* What is missing may be created (the state directory):
                 * only verdicts are kept. */
                if (e->error < 0 && e->error != -EPERM) {
                        g_hash_table_insert(t->failed, g_strdup(dir), e);
                        return e;
                }
                g_hash_table_insert(t->dirs, g_strdup(dir), e);
        }
        return e;
}

int fh_trust_check_dir(struct fh_trust *t, const char *dir, char **ret_problem) {
        const struct dir_entry *e = cached_dir(t, dir);

        if (!e->problem)
                return 0;
        *ret_problem = g_strdup(e->problem);
        return e->error < 0 ? e->error : -EPERM;
}

static int missing_problem(struct fh_trust *t, const char *path, char **ret_problem);

int fh_trust_check_new_dir(struct fh_trust *t, const char *dir, char **ret_problem) {
        g_autofree char *problem = NULL;
        int r = fh_trust_check_dir(t, dir, &problem);

        if ((r == -ENOENT || r == -ENOTDIR) && missing_problem(t, dir, ret_problem) == -EPERM)
                return -EPERM;
        if (r < 0)
                *ret_problem = g_steal_pointer(&problem);
        return r;
}

/* --- files -------------------------------------------------------------------- */

/* Opens the judged object for use: only a regular file (or /dev/null) is
 * reopened, from the directory it was found in, without following
 * anything, and must be the very inode that was judged. */
static int reopen(int dir_fd, const char *name, const struct stat *st, int flags) {
        struct stat now;
        int fd;

        if (!(S_ISREG(st->st_mode) || fh_is_null_device(st)))
                flags = O_PATH;
        fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
                close(fd);
                return -EAGAIN;         /* replaced while being examined */
        }
        return fd;
}

int fh_trust_open(struct fh_trust *t, const char *path, int flags, int *ret_fd, struct stat *ret_st,
                  char **ret_problem) {
        struct walk w;
        int r, fd = -1;

        walk_init(&w, t);
        r = walk_start(&w, path);
        if (r == 0)
                r = walk_all(&w);
        if (r == 0) {
                /* A directory: only ever looked at. */
                w.st = top(&w)->st;
                r = 1;
        }
        if (r > 0) {
                fd = reopen(top(&w)->fd, w.name ? w.name : ".", &w.st, flags);
                r = fd < 0 ? fd : 0;
        }
        if (r < 0) {
                /* A problem met before the failure comes first: what is
                 * missing under a user's directory, the user can create. */
                if (w.problem)
                        r = -EPERM;
                *ret_problem = w.problem ? g_steal_pointer(&w.problem) : cannot_examine(w.path ? w.path : path, r);
                walk_done(&w);
                return r;
        }
        *ret_fd = fd;
        *ret_st = w.st;
        *ret_problem = g_steal_pointer(&w.problem);
        walk_done(&w);
        return 0;
}

/* dir/name, found in the directory 'e' describes, opened as 'dfd'. */
static int open_entry(struct fh_trust *t, const struct dir_entry *e, int dfd, const char *name, const char *path,
                      int flags, int *ret_fd, struct stat *ret_st, char **ret_problem) {
        struct stat st;
        int fd;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                fd = -errno;
        else if (S_ISLNK(st.st_mode))
                /* Rare: walk it all, the link's own target included. */
                return fh_trust_open(t, path, flags, ret_fd, ret_st, ret_problem);
        else if (S_ISDIR(st.st_mode))
                fd = -EISDIR;
        else
                fd = reopen(dfd, name, &st, flags);
        if (fd < 0) {
                *ret_problem = cannot_examine(path, fd);
                return fd;
        }
        *ret_fd = fd;
        *ret_st = st;
        *ret_problem = e->problem ? g_strdup(e->problem) : judge(&st, path, t->owner, false, t->forbidden);
        return 0;
}

int fh_trust_open_in(struct fh_trust *t, const char *dir, const char *name, int flags, int *ret_fd,
                     struct stat *ret_st, char **ret_problem) {
        const struct dir_entry *e = cached_dir(t, dir);
        g_autofree char *path = NULL;
        struct stat st;
        int dfd, r;

        if (e->error < 0) {
                *ret_problem = g_strdup(e->problem);
                return e->error;
        }
        path = child_path(e->real, name);
        /* The directory again, by the name it really has, which nobody but
         * root can change if it was trusted: that it is the same one is
         * enough. Holding it open would cost every hook a descriptor. */
        dfd = open(e->real, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_dev != e->st.st_dev || st.st_ino != e->st.st_ino) {
                r = dfd < 0 ? -errno : -EAGAIN;
                if (dfd >= 0)
                        close(dfd);
                *ret_problem = cannot_examine(e->real, r);
                return r;
        }
        r = open_entry(t, e, dfd, name, path, flags, ret_fd, ret_st, ret_problem);
        close(dfd);
        return r;
}

/* --- interpreters --------------------------------------------------------------- */

/* A word that env -S takes as it is for the program to run: no option,
 * quoting, escape, ${VAR} or NAME=VALUE for env to interpret. */
static bool plain_word(const char *w) {
        return *w && *w != '-' && !strpbrk(w, "=$\\'\"");
}

/* What env does with its one #! argument 'arg' (the kernel passes all that
 * follows the program as one): without -S it is the NAME looked up, as it
 * is, spaces included, or an assignment that runs nothing; "-S NAME ARGS"
 * splits it. Anything else (options, assignments, quoting under -S) could
 * change the search path or the directory and is returned as "": env runs
 * what the policy cannot tell. NULL: env runs nothing. */
static char *env_name(const char *arg) {
        g_auto(GStrv) words = NULL;

        if (!*arg)
                return NULL;
        if (*arg != '-')
                return strchr(arg, '=') ? NULL : g_strdup(arg);
        if (!g_str_has_prefix(arg, "-S"))
                return g_strdup("");
        /* What follows NAME are its arguments; NAME is the first word. */
        words = g_strsplit_set(arg + 2, " \t", -1);
        for (char **w = words; *w; w++)
                if (**w)
                        return g_strdup(plain_word(*w) ? *w : "");
        return NULL;
}

bool fh_shebang_parse(const char *head, size_t len, char **ret_program, char **ret_env_name) {
        const char *nl;
        g_autofree char *line = NULL;
        char *program, *arg;

        if (len < 2 || head[0] != '#' || head[1] != '!')
                return false;
        /* binfmt_script sees the first BINPRM_BUF_SIZE - 1 bytes only. */
        len = MIN(len, (size_t) HEAD_SIZE - 1);
        nl = memchr(head, '\n', len);
        line = g_strndup(head + 2, (gsize) ((nl ? nl : head + len) - head - 2));
        /* Only spaces and tabs separate, as for the kernel: a CR stays
         * part of the name (env would look for "sh\r"). */
        program = line + strspn(line, " \t");
        for (size_t n = strlen(program); n > 0 && (program[n - 1] == ' ' || program[n - 1] == '\t');)
                program[--n] = '\0';
        if (!*program)
                return false;   /* a bare "#!" names nothing */
        /* As binfmt_script: the program ends at the first space or tab,
         * and the rest, stripped, is one argument. */
        arg = program + strcspn(program, " \t");
        if (*arg) {
                *arg++ = '\0';
                arg += strspn(arg, " \t");
        }
        *ret_env_name = g_str_has_suffix(program, "/env") ? env_name(arg) : NULL;
        *ret_program = g_strdup(program);
        return true;
}

static int interpreter_problem(struct fh_trust *t, int fd, const char *search_path, unsigned depth,
                               char **ret_problem);

/* 'path' does not exist: what will hold it, its deepest directory that
 * exists, must be one that only root can add to (a sticky /tmp is not,
 * even above nothing else: anyone can create the name there). */
static int missing_problem(struct fh_trust *t, const char *path, char **ret_problem) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *problem = NULL;
        int r;

        for (;;) {
                r = fh_trust_check_dir(t, dir, &problem);
                if ((r != -ENOENT && r != -ENOTDIR) || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
                        break;
                g_clear_pointer(&problem, g_free);
                {
                        char *up = g_path_get_dirname(dir);
                        g_free(dir);
                        dir = up;
                }
        }
        if (r != -EPERM)
                return 0;
        *ret_problem = g_steal_pointer(&problem);
        return -EPERM;
}

/* The interpreter 'program' (absolute: the kernel does not search PATH),
 * and the interpreter that it needs in turn. */
static int program_problem(struct fh_trust *t, const char *program, const char *search_path, unsigned depth,
                           char **ret_problem) {
        g_autofree char *problem = NULL;
        struct stat st;
        int fd = -1, r;

        if (depth > MAX_INTERP_DEPTH) {
                g_autofree char *shown = fh_escape_dup(program);
                *ret_problem = g_strdup_printf("%s: too many levels of #! interpreters", shown);
                return -ELOOP;
        }
        r = fh_trust_open(t, program, O_RDONLY | O_NONBLOCK, &fd, &st, &problem);
        if (r == -ENOENT || r == -ENOTDIR) {
                /* Not there: the hook cannot run at all (--check says so),
                 * unless someone else can add it before it runs. */
                return missing_problem(t, program, ret_problem);
        }
        if (r < 0 && r != -EPERM) {
                /* Unknown is not trusted. */
                *ret_problem = g_steal_pointer(&problem);
                return -EPERM;
        }
        if (r == 0 && !problem && S_ISREG(st.st_mode) && !(fcntl(fd, F_GETFL) & O_PATH))
                r = interpreter_problem(t, fd, search_path, depth + 1, &problem);
        if (fd >= 0)
                close(fd);
        if (!problem)
                return 0;
        *ret_problem = g_steal_pointer(&problem);
        return -EPERM;
}

/* env NAME: every directory of the search up to where NAME is found can
 * decide what runs, so every one of them must be trusted. A relative
 * entry (empty: ".") is the working directory, judged as such. */
static int env_name_problem(struct fh_trust *t, const char *name, const char *search_path, unsigned depth,
                            char **ret_problem) {
        g_auto(GStrv) dirs = NULL;

        if (!*name) {
                *ret_problem = g_strdup("its #! line runs env with options or assignments that the trust policy "
                                        "cannot follow (fix: name the interpreter by its absolute path, e.g. "
                                        "#!/usr/bin/python3)");
                return -EPERM;
        }
        if (strchr(name, '/'))
                return program_problem(t, name, search_path, depth, ret_problem);
        dirs = g_strsplit(search_path ? search_path : "", ":", -1);
        for (char **d = dirs; *d; d++) {
                const char *dir = **d ? *d : ".";
                g_autofree char *problem = NULL, *candidate = NULL;
                struct stat st;

                if (fh_trust_check_dir(t, dir, &problem) == -EPERM) {
                        g_autofree char *shown = fh_escape_dup(dir);
                        *ret_problem = g_strdup_printf("%s is searched for '%s' by its #! line: %s", shown, name,
                                                       problem);
                        return -EPERM;
                }
                candidate = g_build_filename(dir, name, NULL);
                if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
                        return program_problem(t, candidate, search_path, depth, ret_problem);
        }
        return 0;
}

static int interpreter_problem(struct fh_trust *t, int fd, const char *search_path, unsigned depth,
                               char **ret_problem) {
        g_autofree char *program = NULL, *env_name = NULL, *key = NULL;
        const char *cached;
        char head[HEAD_SIZE];
        ssize_t len = pread(fd, head, sizeof head, 0);
        char *problem = NULL;
        int r;

        if (len < 0 || !fh_shebang_parse(head, (size_t) len, &program, &env_name))
                return 0;
        key = g_strdup_printf("%u %s %s %s", depth, program, env_name ? env_name : "", search_path);
        cached = g_hash_table_lookup(t->interps, key);
        if (!cached) {
                r = program_problem(t, program, search_path, depth, &problem);
                if (r == 0 && env_name)
                        r = env_name_problem(t, env_name, search_path, depth, &problem);
                g_hash_table_insert(t->interps, g_steal_pointer(&key), g_strdup(problem ? problem : ""));
                if (!problem)
                        return 0;
                *ret_problem = problem;
                return -EPERM;
        }
        if (!*cached)
                return 0;
        *ret_problem = g_strdup(cached);
        return -EPERM;
}

int fh_trust_check_interpreter(struct fh_trust *t, int fd, const char *search_path, char **ret_problem) {
        g_autofree char *problem = NULL;

        if (interpreter_problem(t, fd, search_path, 1, &problem) == 0)
                return 0;
        *ret_problem = g_strdup_printf("its #! interpreter is not trusted: %s", problem);
        return -EPERM;
}

char *fh_trust_search_path(struct fh_trust *t, const char *search_path, GPtrArray *problems) {
        g_auto(GStrv) dirs = g_strsplit(search_path, ":", -1);
        g_autoptr(GString) kept = g_string_new(NULL);

        for (char **d = dirs; *d; d++) {
                g_autofree char *problem = NULL, *shown = NULL;
                int r = fh_trust_check_dir(t, **d ? *d : ".", &problem);

                if (r == 0) {
                        g_string_append_printf(kept, "%s%s", kept->len ? ":" : "", *d);
                        continue;
                }
                /* Missing, or not a directory: it holds nothing now, and
                 * must not be found holding something later. */
                if (r != -EPERM)
                        continue;
                shown = fh_escape_dup(*d);
                g_ptr_array_add(problems, g_strdup_printf("PATH entry %s%s%s%s is not trusted: %s",
                                                          **d == '/' ? "" : "'", shown,
                                                          **d == '/' ? "" : "'",
                                                          **d == '/' ? "" : " (relative: the working directory)",
                                                          problem));
        }
        return g_string_free(g_steal_pointer(&kept), FALSE);
}
