/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "testlib.h"

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *tl_mkdtemp(void) {
        char *dir = g_build_filename(g_get_tmp_dir(), "fsfreeze-test-XXXXXX", NULL);

        if (!g_mkdtemp(dir))
                g_error("mkdtemp %s: %s", dir, g_strerror(errno));
        return dir;
}

void tl_rmtree(const char *path) {
        g_autoptr(GDir) d = NULL;
        const char *name;

        if (!path)
                return;
        d = g_dir_open(path, 0, NULL);
        if (d)
                while ((name = g_dir_read_name(d))) {
                        g_autofree char *p = g_build_filename(path, name, NULL);
                        struct stat st;

                        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                                chmod(p, 0700);
                                tl_rmtree(p);
                        } else
                                unlink(p);
                }
        rmdir(path);
}

char *tl_write_file(const char *dir, const char *name, const char *content, mode_t mode) {
        char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents(path, content, -1, &error))
                g_error("write %s: %s", path, error->message);
        if (chmod(path, mode) < 0)
                g_error("chmod %s: %s", path, g_strerror(errno));
        return path;
}

char *tl_write_hook(const char *dir, const char *name, const char *body) {
        g_autofree char *content = g_strconcat("#!/bin/sh\n", body, "\n", NULL);

        return tl_write_file(dir, name, content, 0755);
}

char *tl_read_file(const char *path) {
        char *content = NULL;

        if (!g_file_get_contents(path, &content, NULL, NULL))
                return NULL;
        return content;
}

unsigned tl_count_lines_with(const char *text, const char *needle) {
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
        unsigned n = 0;

        for (char **l = lines; *l; l++)
                if (strstr(*l, needle))
                        n++;
        return n;
}

int tl_line_index(const char *text, const char *needle) {
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

        for (int i = 0; lines[i]; i++)
                if (strstr(lines[i], needle))
                        return i;
        return -1;
}

const char *tl_binary(void) {
        static char *bin = NULL;

        if (!bin) {
                const char *env = g_getenv("FSFREEZE_HOOK_BIN");
                if (!env)
                        g_error("FSFREEZE_HOOK_BIN is not set: run the tests through meson test");
                bin = g_canonicalize_filename(env, NULL);
        }
        return bin;
}

void tl_run_clear(struct tl_run *r) {
        g_clear_pointer(&r->out, g_free);
        g_clear_pointer(&r->err, g_free);
}

static void read_into(int fd, GString *s, bool *open) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);

        if (n > 0)
                g_string_append_len(s, buf, n);
        else if (n == 0 || errno != EAGAIN)
                *open = false;
}

/* argv, prefixed with FSFREEZE_HOOK_WRAPPER's words when it runs the
 * binary under test. */
static char **wrapped(char **argv) {
        const char *wrapper = g_getenv("FSFREEZE_HOOK_WRAPPER");
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        g_auto(GStrv) words = NULL;

        if (wrapper && *wrapper && strcmp(argv[0], tl_binary()) == 0) {
                words = g_strsplit_set(wrapper, " ", -1);
                for (char **w = words; *w; w++) {
                        g_autofree char *found = NULL;

                        if (!**w)
                                continue;
                        /* execv() does not search PATH. */
                        if (w == words && !strchr(*w, '/') && (found = g_find_program_in_path(*w)))
                                g_strv_builder_add(b, found);
                        else
                                g_strv_builder_add(b, *w);
                }
        }
        for (char **a = argv; *a; a++)
                g_strv_builder_add(b, *a);
        return g_strv_builder_end(b);
}

void tl_run(char **argv, char **envp, int deadline_ms, struct tl_run *ret) {
        tl_run_with(argv, envp, deadline_ms, NULL, ret);
}

void tl_run_with(char **argv_in, char **envp, int deadline_ms, void (*before_exec)(void), struct tl_run *ret) {
        g_auto(GStrv) argv = wrapped(argv_in);
        struct rusage ru;
        int out[2], err[2], status;
        g_autoptr(GString) o = g_string_new(NULL);
        g_autoptr(GString) e = g_string_new(NULL);
        bool out_open = true, err_open = true;
        int64_t deadline = now_ms() + deadline_ms;
        pid_t pid;

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                g_error("pipe: %s", g_strerror(errno));
        pid = fork();
        if (pid == 0) {
                dup2(out[1], 1);
                dup2(err[1], 2);
                if (before_exec)
                        before_exec();
                if (envp)
                        execve(argv[0], argv, envp);
                else
                        execv(argv[0], argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        /* Read to EOF: the dispatcher must never let a hook inherit its own
         * stdout or stderr, so EOF comes when it exits. */
        while (out_open || err_open) {
                struct pollfd p[2] = { { out_open ? out[0] : -1, POLLIN, 0 }, { err_open ? err[0] : -1, POLLIN, 0 } };
                int64_t left = deadline - now_ms();

                if (left <= 0) {
                        kill(pid, SIGKILL);
                        g_error("%s did not finish within %d ms; stdout so far:\n%s", argv[0], deadline_ms, o->str);
                }
                if (poll(p, 2, (int) left) < 0 && errno != EINTR)
                        g_error("poll: %s", g_strerror(errno));
                if (p[0].revents)
                        read_into(out[0], o, &out_open);
                if (p[1].revents)
                        read_into(err[0], e, &err_open);
        }
        close(out[0]);
        close(err[0]);
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
        ret->maxrss_kib = ru.ru_maxrss;
        if (g_getenv("FSFREEZE_TEST_DEBUG"))
                fprintf(stderr, "--- %s exit %d stderr:\n%s", argv[0], status, e->str);
        ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ret->out = g_string_free(g_steal_pointer(&o), FALSE);
        ret->err = g_string_free(g_steal_pointer(&e), FALSE);
}

void tl_run_hook(struct tl_run *ret, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *arg;
        va_list ap;

        g_ptr_array_add(argv, (char *) tl_binary());
        va_start(ap, ret);
        while ((arg = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) arg);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        tl_run((char **) argv->pdata, NULL, 60000, ret);
}

bool tl_await_exit(pid_t pid, int deadline_ms) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        int64_t deadline = now_ms() + deadline_ms;
        struct pollfd p;
        int r;

        if (fd < 0 && errno == ENOSYS) {
                /* No pidfd_open (valgrind 3.19 does not know it): watch
                 * /proc instead, until the deadline. */
                while (tl_alive(pid) && now_ms() < deadline)
                        g_usleep(10000);
                return !tl_alive(pid);
        }
        if (fd < 0)
                return errno == ESRCH;  /* already gone and reaped */
        /* A pidfd becomes readable when the process exits, zombie or not. */
        p = (struct pollfd) { .fd = fd, .events = POLLIN };
        r = poll(&p, 1, deadline_ms);
        close(fd);
        return r == 1;
}

bool tl_alive(pid_t pid) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int) pid);
        g_autofree char *stat = tl_read_file(path);
        const char *p;

        if (!stat)
                return false;
        p = strrchr(stat, ')');
        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

pid_t tl_read_pid(const char *path) {
        g_autofree char *s = tl_read_file(path);

        return s ? (pid_t) atoi(s) : 0;
}

bool tl_await_file(const char *path, int deadline_ms) {
        g_autofree char *dir = g_path_get_dirname(path);
        int64_t deadline = now_ms() + deadline_ms;
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        bool found = false;

        if (fd < 0)
                g_error("inotify: %s", g_strerror(errno));
        inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
        /* Checked after the watch is set, so a creation cannot slip through. */
        while (!(found = access(path, F_OK) == 0)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                int64_t left = deadline - now_ms();

                if (left <= 0 || poll(&p, 1, (int) left) <= 0)
                        break;
                while (read(fd, buf, sizeof buf) > 0)
                        ;
        }
        close(fd);
        return found;
}

bool tl_await_text(const char *path, const char *needle, int deadline_ms) {
        gint64 end = g_get_monotonic_time() + deadline_ms * 1000LL;

        for (;;) {
                g_autofree char *text = tl_read_file(path);

                if (text && strstr(text, needle))
                        return true;
                if (g_get_monotonic_time() >= end)
                        return false;
                g_usleep(20000);
        }
}

char *tl_write_conf(const char *top, const char *hook_dirs, const char *log, const char *state,
                    const char *extra) {
        g_autofree char *text = g_strdup_printf("[fsfreeze-hook]\nhook-dirs=%s\nlog-file=%s\nstate-dir=%s\n"
                                                "journal=false\n%s", hook_dirs, log, state, extra ? extra : "");

        return tl_write_file(top, "conf", text, 0644);
}

void tl_run_config(const char *conf, struct tl_run *r, va_list ap) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *conf_opt = g_strdup_printf("--config=%s", conf);
        const char *a;

        g_ptr_array_add(argv, (char *) tl_binary());
        g_ptr_array_add(argv, conf_opt);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) a);
        g_ptr_array_add(argv, NULL);
        tl_run((char **) argv->pdata, NULL, 120000, r);
}

int tl_fx_setup(void **state) {
        struct tl_fx *f = g_new0(struct tl_fx, 1);

        f->top = tl_mkdtemp();
        f->hooks = g_build_filename(f->top, "fsfreeze-hook.d", NULL);
        f->log = g_build_filename(f->top, "log", NULL);
        f->out = g_build_filename(f->top, "out", NULL);
        f->conf = g_build_filename(f->top, "conf", NULL);
        f->state = g_build_filename(f->top, "state", NULL);
        f->conf_opt = g_strdup_printf("--config=%s", f->conf);
        f->state_opt = g_strdup_printf("--state-dir=%s", f->state);
        if (g_mkdir(f->hooks, 0755) < 0)
                g_error("mkdir %s: %s", f->hooks, g_strerror(errno));
        *state = f;
        return 0;
}

/* Whether /proc/PID/cmdline has an argument "--deadline-fire=..." and
 * one that contains 'dir'. */
static bool deadline_process_of(const char *pid, const char *dir) {
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", pid);
        g_autofree char *cmdline = NULL;
        bool fire = false, mentions = false;
        gsize len = 0;

        if (!g_file_get_contents(path, &cmdline, &len, NULL))
                return false;
        for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1) {
                fire |= g_str_has_prefix(cmdline + i, "--deadline-fire=");
                mentions |= strstr(cmdline + i, dir) != NULL;
        }
        return fire && mentions;
}

void tl_disarm_deadline(const char *dir) {
        GDir *proc = g_dir_open("/proc", 0, NULL);
        const char *name;

        if (!proc)
                return;
        while ((name = g_dir_read_name(proc)))
                if (g_ascii_isdigit(name[0]) && deadline_process_of(name, dir)) {
                        pid_t pid = (pid_t) atoi(name);
                        kill(pid, SIGTERM);
                        (void) tl_await_exit(pid, 10000);
                }
        g_dir_close(proc);
}

int tl_fx_teardown(void **state) {
        struct tl_fx *f = *state;

        tl_disarm_deadline(f->top);
        tl_rmtree(f->top);
        g_free(f->top);
        g_free(f->hooks);
        g_free(f->log);
        g_free(f->out);
        g_free(f->conf);
        g_free(f->state);
        g_free(f->conf_opt);
        g_free(f->state_opt);
        g_free(f);
        return 0;
}

void tl_fx_recording_hook(struct tl_fx *f, const char *name) {
        g_autofree char *body = g_strdup_printf("echo \"%s $1\" >> '%s'", name, f->out);

        g_free(tl_write_hook(f->hooks, name, body));
}

void tl_fx_run(struct tl_fx *f, struct tl_run *r, const char *log, const char *phase, ...) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        const char *a;
        va_list ap;

        g_ptr_array_add(argv, (char *) tl_binary());
        g_ptr_array_add(argv, f->conf_opt);
        g_ptr_array_add(argv, f->state_opt);
        g_ptr_array_add(argv, "--no-journal");
        g_ptr_array_add(argv, "-d");
        g_ptr_array_add(argv, f->hooks);
        g_ptr_array_add(argv, "-l");
        g_ptr_array_add(argv, (char *) (log ? log : f->log));
        va_start(ap, phase);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (char *) a);
        va_end(ap);
        g_ptr_array_add(argv, (char *) phase);
        g_ptr_array_add(argv, NULL);
        /* A hang detector only; valgrind runs are slow. */
        tl_run((char **) argv->pdata, NULL, 120000, r);
}

char *tl_fx_read_log(struct tl_fx *f) {
        char *log = tl_read_file(f->log);

        assert_non_null(log);
        return log;
}
