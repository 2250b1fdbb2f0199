/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench: how much the dispatcher costs, against its anchors, in one run,
 * printed as one table.
 *
 *   bench FSFREEZE_HOOK QEMU_SCRIPT [--quick]
 *
 * 1. Dispatch overhead: N trivial #!/bin/sh hooks (N = 1, 10, 100), freeze,
 *    median of repeated runs interleaved A B C: fsfreeze-hook as deployed
 *    (a symlink with fsfreeze-hook.d beside it), QEMU's own script (its log
 *    redirected to a temporary file), and a bare loop that only executes
 *    the same hooks one after another (the floor).
 * 2. Output capture: one hook printing 256 MiB of 80-byte lines, through
 *    the dispatcher (everything logged, and with the default cap), against
 *    the same output redirected straight into a file; peak RSS.
 * 3. Timeout precision: from the deadline to the next hook starting, for a
 *    hook that sleeps and one that ignores SIGTERM.
 * 4. Start-up to exit with an empty hook directory.
 *
 * Also, as "bench --write-lines BYTES": the hook of benchmark 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *binary, *qemu_script, *self;
static char *top;
static bool quick;

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
        qsort(v, (size_t) n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs argv with stdout to 'out_fd' (-1: /dev/null); returns wall ms, and
 * the child's peak RSS in KiB. Fails loudly if it does not exit 0. */
static double run(char **argv, int out_fd, long *ret_rss) {
        posix_spawn_file_actions_t fa;
        struct rusage ru;
        double t0, t1;
        int status;
        pid_t pid;

        posix_spawn_file_actions_init(&fa);
        if (out_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        t0 = now_ms();
        if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
                g_error("cannot run %s", argv[0]);
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
                ;
        t1 = now_ms();
        posix_spawn_file_actions_destroy(&fa);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                g_error("%s failed (status %d)", argv[0], status);
        if (ret_rss)
                *ret_rss = ru.ru_maxrss;
        return t1 - t0;
}

static void write_hook(const char *dir, const char *name, const char *body) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

        if (!g_file_set_contents(path, text, -1, NULL) || chmod(path, 0755) < 0)
                g_error("cannot write %s", path);
}

/* An installation: DIR/fsfreeze-hook (our binary, or QEMU's script) with
 * DIR/fsfreeze-hook.d beside it. */
static char *install(const char *name, bool qemu) {
        char *dir = g_build_filename(top, name, NULL);
        g_autofree char *hooks = g_build_filename(dir, "fsfreeze-hook.d", NULL);
        g_autofree char *hook = g_build_filename(dir, "fsfreeze-hook", NULL);

        g_mkdir_with_parents(hooks, 0755);
        if (!qemu) {
                if (symlink(binary, hook) < 0)
                        g_error("symlink %s", hook);
        } else {
                g_autofree char *script = NULL, *log = g_build_filename(dir, "qemu.log", NULL);
                g_autofree char *patched = NULL, *line = g_strdup_printf("LOGFILE=%s", log);
                g_autoptr(GRegex) re = g_regex_new("^LOGFILE=.*$", G_REGEX_MULTILINE, 0, NULL);

                if (!g_file_get_contents(qemu_script, &script, NULL, NULL))
                        g_error("cannot read %s", qemu_script);
                patched = g_regex_replace_literal(re, script, -1, 0, line, 0, NULL);
                if (!g_file_set_contents(hook, patched, -1, NULL) || chmod(hook, 0755) < 0)
                        g_error("cannot write %s", hook);
        }
        return dir;
}

/* Our binary, as qemu-ga runs it (no option but those keeping it away
 * from the machine's configuration, state and log), plus the extra
 * options given, NULL-terminated. */
static char **our_argv(const char *dir, const char *phase, ...) {
        GStrvBuilder *b = g_strv_builder_new();
        const char *extra;
        va_list ap;
        char **v;

        g_autofree char *hook = g_build_filename(dir, "fsfreeze-hook", NULL);
        g_autofree char *conf = g_strdup_printf("--config=%s/none.conf", dir);
        g_autofree char *state = g_strdup_printf("--state-dir=%s/state", dir);
        g_autofree char *log = g_strdup_printf("--log-file=%s/fsfreeze-hook.log", dir);

        /* g_strv_builder_take() is GLib 2.80. */
        g_strv_builder_add(b, hook);
        g_strv_builder_add(b, conf);
        g_strv_builder_add(b, state);
        g_strv_builder_add(b, log);
        va_start(ap, phase);
        while ((extra = va_arg(ap, const char *)))
                g_strv_builder_add(b, extra);
        va_end(ap);
        g_strv_builder_add(b, phase);
        v = g_strv_builder_end(b);
        g_strv_builder_unref(b);
        return v;
}

/* The floor: each hook executed in turn, nothing else. */
static double bare_loop(char **hooks) {
        double t0 = now_ms();

        for (char **h = hooks; *h; h++) {
                char *argv[] = { *h, "freeze", NULL };
                run(argv, -1, NULL);
        }
        return now_ms() - t0;
}

static char **list_hooks(const char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        GPtrArray *a = g_ptr_array_new();
        const char *name;

        while ((name = g_dir_read_name(d)))
                g_ptr_array_add(a, g_build_filename(dir, name, NULL));
        g_ptr_array_sort(a, (GCompareFunc) g_strcmp0);
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

/* --- 1. dispatch overhead --------------------------------------------------- */

static void bench_dispatch(int n, int reps) {
        g_autofree char *name_ours = g_strdup_printf("ours-%d", n), *name_qemu = g_strdup_printf("qemu-%d", n);
        g_autofree char *ours = install(name_ours, false), *qemu = install(name_qemu, true);
        g_autofree char *hooks_dir = g_build_filename(ours, "fsfreeze-hook.d", NULL);
        g_autofree char *qemu_hooks = g_build_filename(qemu, "fsfreeze-hook.d", NULL);
        g_autofree char *qemu_hook = g_build_filename(qemu, "fsfreeze-hook", NULL);
        g_auto(GStrv) argv = our_argv(ours, "freeze", NULL);
        g_auto(GStrv) hooks = NULL;
        char *qemu_argv[] = { qemu_hook, "freeze", NULL };
        double *a = g_new(double, reps), *b = g_new(double, reps), *c = g_new(double, reps);
        double ma, mb, mc;

        for (int i = 0; i < n; i++) {
                g_autofree char *hook = g_strdup_printf("%03d-trivial", i);
                write_hook(hooks_dir, hook, "exit 0");
                write_hook(qemu_hooks, hook, "exit 0");
        }
        hooks = list_hooks(hooks_dir);
        /* Warm up the page cache and the dynamic loader once. */
        run(argv, -1, NULL);
        run(qemu_argv, -1, NULL);
        bare_loop(hooks);
        for (int r = 0; r < reps; r++) {
                a[r] = run(argv, -1, NULL);
                b[r] = run(qemu_argv, -1, NULL);
                c[r] = bare_loop(hooks);
        }
        ma = median(a, reps);
        mb = median(b, reps);
        mc = median(c, reps);
        printf("  %-5d %10.1f ms %10.1f ms %10.1f ms %9.2fx %9.2fx  %s\n", n, mc, mb, ma, ma / mc, mb / ma,
               n < 100 ? "" : ma / mc <= 1.10 && mb / ma >= 4 ? "met (<= 1.10x, >= 4x)" : "MISSED (<= 1.10x, >= 4x)");
        g_free(a);
        g_free(b);
        g_free(c);
}

/* --- 2. capture ---------------------------------------------------------------- */

/* The floor of any capture through a pipe: the hook's output read from a
 * pipe and written to a file unchanged (what `hook | cat > file` does). */
static double pipe_floor(char **hook_argv, const char *out_path) {
        static char buf[65536];
        int p[2], out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        posix_spawn_file_actions_t fa;
        double t0;
        ssize_t n;
        pid_t pid;

        if (out < 0 || pipe2(p, O_CLOEXEC) < 0)
                g_error("pipe floor: %s", g_strerror(errno));
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        t0 = now_ms();
        if (posix_spawn(&pid, hook_argv[0], &fa, NULL, hook_argv, environ) != 0)
                g_error("cannot run %s", hook_argv[0]);
        close(p[1]);
        while ((n = read(p[0], buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t) n) != n)
                        g_error("pipe floor: short write");
        waitpid(pid, NULL, 0);
        t0 = now_ms() - t0;
        posix_spawn_file_actions_destroy(&fa);
        close(p[0]);
        close(out);
        unlink(out_path);
        return t0;
}

/* The hook of the capture benchmark: 80-byte lines, BYTES of them. */
static int write_lines(long long bytes) {
        static char buf[80 * 819];     /* 65520 bytes of whole lines */

        for (size_t i = 0; i < sizeof buf; i += 80) {
                snprintf(buf + i, 81, "%079zu", i / 80);
                buf[i + 79] = '\n';
        }
        while (bytes > 0) {
                size_t n = bytes < (long long) sizeof buf ? (size_t) bytes : sizeof buf;
                ssize_t w = write(1, buf, n);
                if (w <= 0)
                        return 1;
                bytes -= w;
        }
        return 0;
}

static void bench_capture(void) {
        const long long size = quick ? 32LL << 20 : 256LL << 20;
        const int reps = quick ? 1 : 3;
        g_autofree char *dir = install("capture", false);
        g_autofree char *hooks = g_build_filename(dir, "fsfreeze-hook.d", NULL);
        g_autofree char *body = g_strdup_printf("exec %s --write-lines %lld", self, size);
        g_autofree char *hook = g_build_filename(hooks, "10-flood", NULL);
        g_autofree char *direct = g_build_filename(dir, "direct.out", NULL);
        g_autofree char *log = g_build_filename(dir, "fsfreeze-hook.log", NULL);
        g_auto(GStrv) all = our_argv(dir, "freeze", "--max-output=0", NULL);
        g_auto(GStrv) capped = our_argv(dir, "freeze", NULL);
        char *hook_argv[] = { hook, "freeze", NULL };
        double d[3], f[3], p[3], q[3];
        long rss_all = 0, rss_capped = 0, rss;
        double mib = size / 1048576.0;

        write_hook(hooks, "10-flood", body);
        for (int r = 0; r < reps; r++) {
                int fd = open(direct, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                d[r] = run(hook_argv, fd, NULL);
                close(fd);
                unlink(direct);
                q[r] = pipe_floor(hook_argv, direct);
                f[r] = run(all, -1, &rss);
                rss_all = MAX(rss_all, rss);
                unlink(log);
                p[r] = run(capped, -1, &rss);
                rss_capped = MAX(rss_capped, rss);
                unlink(log);
        }
        {
                double md = mib / (median(d, reps) / 1e3), mf = mib / (median(f, reps) / 1e3);
                double mp = mib / (median(p, reps) / 1e3), mq = mib / (median(q, reps) / 1e3);

                printf("  direct redirect into a file (QEMU)    %8.0f MiB/s\n", md);
                printf("  through a pipe into a file (cat)      %8.0f MiB/s  %.2fx direct: the floor of any pipe capture\n",
                       mq, mq / md);
                printf("  fsfreeze-hook, every line logged      %8.0f MiB/s  %.2fx direct  %.2fx pipe  peak RSS %.1f MiB  %s\n",
                       mf, mf / md, mf / mq, rss_all / 1024.0,
                       mf / md >= 0.5 && rss_all < 8 * 1024 ? "met (>= 0.5x direct, < 8 MiB)"
                                                            : "MISSED (>= 0.5x direct, < 8 MiB)");
                printf("  fsfreeze-hook, default cap (4 MiB)    %8.0f MiB/s  %.2fx direct  %.2fx pipe  peak RSS %.1f MiB\n", mp,
                       mp / md, mp / mq, rss_capped / 1024.0);
        }
}

/* --- 3. timeouts ------------------------------------------------------------- */

/* Milliseconds between the deadline of the first hook and the start of the
 * second, from the log's own timestamps ("execute ..." lines). */
static double deadline_to_next(const char *log_path, double timeout_ms) {
        g_autofree char *log = NULL;
        g_auto(GStrv) lines = NULL;
        double t[2] = { 0, 0 };
        int n = 0;

        if (!g_file_get_contents(log_path, &log, NULL, NULL))
                g_error("no log %s", log_path);
        lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l && n < 2; l++) {
                int h, m;
                double s;

                if (!strstr(*l, ": execute ") || sscanf(*l + 11, "%d:%d:%lf", &h, &m, &s) != 3)
                        continue;
                t[n++] = (h * 3600 + m * 60 + s) * 1e3;
        }
        if (n < 2)
                g_error("the log of %s lacks its execute lines", log_path);
        return t[1] - t[0] - timeout_ms;
}

static void bench_timeout(const char *name, const char *body, const char *grace_opt, double grace_ms) {
        const int reps = quick ? 1 : 3;
        g_autofree char *dir = install(name, false);
        g_autofree char *hooks = g_build_filename(dir, "fsfreeze-hook.d", NULL);
        g_autofree char *log = g_build_filename(dir, "fsfreeze-hook.log", NULL);
        g_auto(GStrv) argv = our_argv(dir, "freeze", "--timeout=1", grace_opt, NULL);
        double v[3];

        write_hook(hooks, "10-slow", body);
        write_hook(hooks, "20-next", "exit 0");
        for (int r = 0; r < reps; r++) {
                unlink(log);
                run(argv, -1, NULL);
                v[r] = deadline_to_next(log, 1000) - grace_ms;
        }
        printf("  %-40s %6.0f ms after the deadline%s  %s\n", name, median(v, reps),
               grace_ms > 0 ? " + grace" : "        ", median(v, reps) <= 100 ? "met (<= 100 ms)" : "MISSED (<= 100 ms)");
}

/* --- 4. start-up ------------------------------------------------------------- */

static void bench_startup(void) {
        const int reps = quick ? 11 : 51;
        g_autofree char *dir = install("empty", false);
        g_auto(GStrv) argv = our_argv(dir, "freeze", NULL);
        char *true_argv[] = { "/bin/true", NULL };
        double v[51], t[51];

        run(argv, -1, NULL);
        for (int r = 0; r < reps; r++) {
                v[r] = run(argv, -1, NULL);
                t[r] = run(true_argv, -1, NULL);
        }
        printf("  empty hook directory, start to exit   %6.2f ms  (/bin/true: %.2f ms)  %s\n", median(v, reps),
               median(t, reps), median(v, reps) < 2 ? "met (< 2 ms)" : "MISSED (< 2 ms)");
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "--write-lines") == 0)
                return write_lines(atoll(argv[2]));
        if (argc < 3) {
                fprintf(stderr, "usage: bench FSFREEZE_HOOK QEMU_SCRIPT [--quick]\n");
                return 2;
        }
        binary = g_canonicalize_filename(argv[1], NULL);
        qemu_script = argv[2];
        quick = argc > 3 && strcmp(argv[3], "--quick") == 0;
        self = g_canonicalize_filename(argv[0], NULL);
        if (access(qemu_script, R_OK) < 0) {
                printf("SKIP: %s not found (apt-get install qemu-guest-agent)\n", qemu_script);
                return 77;
        }
        top = g_build_filename(g_get_tmp_dir(), "fsfreeze-bench-XXXXXX", NULL);
        if (!g_mkdtemp(top))
                g_error("mkdtemp");

        printf("fsfreeze-hook benchmarks, %s (median of interleaved runs)\n\n", quick ? "quick" : "full");
        printf("1. dispatch, N trivial #!/bin/sh hooks, freeze\n");
        printf("  %-5s %13s %13s %13s %10s %10s  %s\n", "N", "bare loop", "QEMU script", "fsfreeze-hook", "ours/bare",
               "QEMU/ours", "target at N=100");
        bench_dispatch(1, quick ? 5 : 21);
        bench_dispatch(10, quick ? 5 : 21);
        bench_dispatch(100, quick ? 3 : 11);
        printf("\n2. capture, one hook printing %s of 80-byte lines\n", quick ? "32 MiB" : "256 MiB");
        bench_capture();
        printf("\n3. timeouts (--timeout=1), time from the deadline to the next hook's start\n");
        bench_timeout("hook that sleeps", "exec sleep 1000", "--kill-grace=5", 0);
        bench_timeout("hook that ignores SIGTERM (grace 1 s)", "trap '' TERM; sleep 1000", "--kill-grace=1", 1000);
        printf("\n4. start-up\n");
        bench_startup();

        {
                g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", top);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", top);
        }
        return 0;
}
