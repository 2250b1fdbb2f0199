/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "caller.h"
#include "deadline.h"
#include "platform.h"
#include "runfile.h"
#include "thaw_all.h"
#include "timeutil.h"

#define GROUP "deadline"
#define FILE_NAME "deadline"
#define LOCK_NAME "lock"
#define FIRE_OPTION "--deadline-fire="
#define SLEEP_OPTION "--deadline-sleep-until="
/* How long a freeze waits for systemd before it uses a process instead. */
#define BUS_TIMEOUT_USEC (5 * USEC_PER_SEC)

static const char *const mechanism_names[] = {
        [FH_DEADLINE_SYSTEMD] = "systemd",
        [FH_DEADLINE_PROCESS] = "process",
};

struct fh_deadline *fh_deadline_new(int64_t msec, int caller) {
        struct fh_deadline *d = g_new0(struct fh_deadline, 1);

        d->id = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
        d->msec = msec;
        d->armed_usec = g_get_real_time();
        d->expires_usec = d->armed_usec + msec * USEC_PER_MSEC;
        d->thawed = -1;
        d->boot_id = fh_runfile_boot_id();
        d->caller = caller;
        return d;
}

void fh_deadline_free(struct fh_deadline *d) {
        if (!d)
                return;
        g_free(d->id);
        g_free(d->unit);
        g_free(d->boot_id);
        g_free(d);
}

bool fh_deadline_thaws(const struct fh_deadline *d) {
        return d->caller < 0;
}

bool fh_deadline_id_valid(const char *s) {
        size_t n = 0;

        for (; s[n]; n++)
                if (!g_ascii_isxdigit(s[n]) || g_ascii_isupper(s[n]))
                        return false;
        return n == 16;
}

/* --- the record ---------------------------------------------------------------- */

int fh_deadline_write(const char *dir, const struct fh_deadline *d) {
        g_autofree char *path = g_build_filename(dir, FILE_NAME, NULL);
        g_autofree char *text = g_strdup_printf(
                "[" GROUP "]\nid=%s\nmsec=%" G_GINT64_FORMAT "\narmed-usec=%" G_GINT64_FORMAT "\n"
                "expires-usec=%" G_GINT64_FORMAT "\nmechanism=%s\nunit=%s\npid=%d\nfired=%s\n"
                "fired-usec=%" G_GINT64_FORMAT "\nthawed=%d\nlate-thaw-usec=%" G_GINT64_FORMAT "\nboot-id=%s\n"
                "caller=%s\n",
                d->id, d->msec, d->armed_usec, d->expires_usec, mechanism_names[d->mechanism],
                d->unit ? d->unit : "", (int) d->pid, d->fired ? "true" : "false", d->fired_usec, d->thawed,
                d->late_thaw_usec, d->boot_id ? d->boot_id : "", fh_caller_name(d->caller));

        return fh_runfile_write(path, text, strlen(text), 0644);
}

/* The caller= line: absent (a record of a version that did not keep it)
 * or "qemu-ga": -1; a platform's name: that platform. Anything else is no
 * record of ours: whether to thaw cannot be told. */
static int read_caller(GKeyFile *kf, int *ret) {
        g_autofree char *name = g_key_file_get_string(kf, GROUP, "caller", NULL);
        int p;

        if (!name || strcmp(name, fh_caller_name(-1)) == 0) {
                *ret = -1;
                return 0;
        }
        p = fh_platform_from_string(name);
        if (p < 0)
                return -EBADMSG;
        *ret = p;
        return 0;
}

int fh_deadline_read(const char *dir, struct fh_deadline **ret) {
        g_autofree char *path = g_build_filename(dir, FILE_NAME, NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(fh_deadline) d = g_new0(struct fh_deadline, 1);
        g_autofree char *mechanism = NULL, *now_boot = fh_runfile_boot_id();

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error))
                return g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : -EBADMSG;
        d->id = g_key_file_get_string(kf, GROUP, "id", NULL);
        mechanism = g_key_file_get_string(kf, GROUP, "mechanism", NULL);
        if (!d->id || !fh_deadline_id_valid(d->id) || !mechanism || read_caller(kf, &d->caller) < 0)
                return -EBADMSG;
        d->mechanism = strcmp(mechanism, "systemd") == 0 ? FH_DEADLINE_SYSTEMD : FH_DEADLINE_PROCESS;
        d->msec = g_key_file_get_int64(kf, GROUP, "msec", NULL);
        d->armed_usec = g_key_file_get_int64(kf, GROUP, "armed-usec", NULL);
        d->expires_usec = g_key_file_get_int64(kf, GROUP, "expires-usec", NULL);
        d->unit = g_key_file_get_string(kf, GROUP, "unit", NULL);
        d->pid = (pid_t) g_key_file_get_integer(kf, GROUP, "pid", NULL);
        d->fired = g_key_file_get_boolean(kf, GROUP, "fired", NULL);
        d->fired_usec = g_key_file_get_int64(kf, GROUP, "fired-usec", NULL);
        d->thawed = g_key_file_get_integer(kf, GROUP, "thawed", NULL);
        d->late_thaw_usec = g_key_file_get_int64(kf, GROUP, "late-thaw-usec", NULL);
        d->boot_id = g_key_file_get_string(kf, GROUP, "boot-id", NULL);
        if (d->boot_id && *d->boot_id && now_boot && strcmp(d->boot_id, now_boot) != 0)
                return -ESTALE;
        *ret = g_steal_pointer(&d);
        return 0;
}

int fh_deadline_remove(const char *dir) {
        g_autofree char *path = g_build_filename(dir, FILE_NAME, NULL);

        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* --- the command line of the fire ------------------------------------------------ */

/* rerun_argv[0], our options, then the rest: a "--" that ended the
 * freeze's options then ends ours too, harmlessly. */
static char **fire_argv(const struct fh_deadline *d, char *const *rerun_argv, int64_t sleep_until) {
        GPtrArray *a = g_ptr_array_new();

        g_ptr_array_add(a, g_strdup(rerun_argv[0]));
        g_ptr_array_add(a, g_strconcat(FIRE_OPTION, d->id, NULL));
        if (sleep_until > 0)
                g_ptr_array_add(a, g_strdup_printf(SLEEP_OPTION "%" G_GINT64_FORMAT, sleep_until));
        for (char *const *p = rerun_argv + 1; *p; p++)
                g_ptr_array_add(a, g_strdup(*p));
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

/* --- systemd ----------------------------------------------------------------------- */

/* libsystemd is loaded at run time, as for the journal (see journal.c). */
struct bus_api {
        typeof(sd_booted) *booted;
        typeof(sd_bus_open_system) *open_system;
        typeof(sd_bus_new) *bus_new;
        typeof(sd_bus_set_address) *set_address;
        typeof(sd_bus_start) *start;
        typeof(sd_bus_flush_close_unref) *close_unref;
        typeof(sd_bus_message_new_method_call) *new_method_call;
        typeof(sd_bus_message_append) *append;
        typeof(sd_bus_message_append_strv) *append_strv;
        typeof(sd_bus_message_open_container) *open_container;
        typeof(sd_bus_message_close_container) *close_container;
        typeof(sd_bus_message_unref) *message_unref;
        typeof(sd_bus_call) *call;
        typeof(sd_bus_error_free) *error_free;
};

static bool load_bus_api(struct bus_api *api) {
        static void *lib;

        if (!lib)
                lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return false;
        api->booted = (typeof(api->booted)) dlsym(lib, "sd_booted");
        api->open_system = (typeof(api->open_system)) dlsym(lib, "sd_bus_open_system");
        api->bus_new = (typeof(api->bus_new)) dlsym(lib, "sd_bus_new");
        api->set_address = (typeof(api->set_address)) dlsym(lib, "sd_bus_set_address");
        api->start = (typeof(api->start)) dlsym(lib, "sd_bus_start");
        api->close_unref = (typeof(api->close_unref)) dlsym(lib, "sd_bus_flush_close_unref");
        api->new_method_call = (typeof(api->new_method_call)) dlsym(lib, "sd_bus_message_new_method_call");
        api->append = (typeof(api->append)) dlsym(lib, "sd_bus_message_append");
        api->append_strv = (typeof(api->append_strv)) dlsym(lib, "sd_bus_message_append_strv");
        api->open_container = (typeof(api->open_container)) dlsym(lib, "sd_bus_message_open_container");
        api->close_container = (typeof(api->close_container)) dlsym(lib, "sd_bus_message_close_container");
        api->message_unref = (typeof(api->message_unref)) dlsym(lib, "sd_bus_message_unref");
        api->call = (typeof(api->call)) dlsym(lib, "sd_bus_call");
        api->error_free = (typeof(api->error_free)) dlsym(lib, "sd_bus_error_free");
        return api->booted && api->open_system && api->bus_new && api->set_address && api->start && api->close_unref && api->new_method_call && api->append &&
               api->append_strv && api->open_container && api->close_container && api->message_unref &&
               api->call && api->error_free;
}

/* As root, systemd's own socket, as systemctl uses it: a minimal guest
 * has systemd but no D-Bus daemon. Otherwise, or if that fails, the
 * system bus. */
static int open_manager(const struct bus_api *api, sd_bus **ret) {
        sd_bus *bus = NULL;

        if (geteuid() == 0 && api->bus_new(&bus) >= 0) {
                if (api->set_address(bus, "unix:path=/run/systemd/private") >= 0 && api->start(bus) >= 0) {
                        *ret = bus;
                        return 0;
                }
                api->close_unref(bus);
        }
        return api->open_system(ret);
}

static sd_bus_message *manager_call(const struct bus_api *api, sd_bus *bus, const char *member) {
        sd_bus_message *m = NULL;

        if (api->new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                 "org.freedesktop.systemd1.Manager", member) < 0)
                return NULL;
        return m;
}

/* systemd expands $VAR and ${VAR} in ExecStart='s arguments, also when
 * set over D-Bus (only ExecStartEx= can turn that off, and not before
 * systemd 243): a path with a $ in it would be another path when the
 * deadline fires. "$$" is a literal "$". */
char **fh_deadline_exec_argv(char *const *argv) {
        char **r = g_new0(char *, g_strv_length((char **) argv) + 1);

        for (size_t i = 0; argv[i]; i++) {
                g_auto(GStrv) parts = g_strsplit(argv[i], "$", -1);
                r[i] = g_strjoinv("$$", parts);
        }
        return r;
}

/* ExecStart=: the real binary (argv[0] may be a symlink, and systemd
 * resolves nothing for us), with the freeze's argv[0] kept as given, on
 * which the default hook directory depends. */
static int append_exec_start(const struct bus_api *api, sd_bus_message *m, char **argv) {
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
        g_auto(GStrv) exec_argv = NULL;
        int r;

        if (!exe)
                return -errno;
        exec_argv = fh_deadline_exec_argv(argv);
        if ((r = api->open_container(m, 'r', "sv")) < 0 || (r = api->append(m, "s", "ExecStart")) < 0 ||
            (r = api->open_container(m, 'v', "a(sasb)")) < 0 || (r = api->open_container(m, 'a', "(sasb)")) < 0 ||
            (r = api->open_container(m, 'r', "sasb")) < 0 || (r = api->append(m, "s", exe)) < 0 ||
            (r = api->append_strv(m, exec_argv)) < 0 || (r = api->append(m, "b", 0)) < 0)
                return r;
        for (int i = 0; i < 4; i++)
                if ((r = api->close_container(m)) < 0)
                        return r;
        return 0;
}

/* WorkingDirectory=: the freeze's own, as the process fallback keeps it, so
 * that the relative paths of a freeze run by hand still lead where they
 * did; "-": a directory gone by then is no reason not to thaw. None (/)
 * unless 'keep_cwd'. */
static int append_working_directory(const struct bus_api *api, sd_bus_message *m, bool keep_cwd) {
        g_autofree char *cwd = g_get_current_dir();
        g_autofree char *wd = g_strconcat("-", cwd, NULL);

        if (!keep_cwd || strcmp(cwd, "/") == 0)
                return 0;
        return api->append(m, "(sv)", "WorkingDirectory", "s", wd);
}

/* StartTransientUnit(timer, "fail", timer properties, [(service, service properties)]),
 * as systemd-run --on-active does. */
static int append_units(const struct bus_api *api, sd_bus_message *m, const struct fh_deadline *d,
                        const char *service, char **argv, bool keep_cwd) {
        uint64_t usec = (uint64_t) d->msec * USEC_PER_MSEC;
        int r;

        if ((r = api->append(m, "ss", d->unit, "fail")) < 0 || (r = api->open_container(m, 'a', "(sv)")) < 0 ||
            (r = api->append(m, "(sv)", "Description", "s", "fsfreeze-hook freeze deadline")) < 0 ||
            (r = api->append(m, "(sv)", "RemainAfterElapse", "b", 0)) < 0 ||
            (r = api->append(m, "(sv)", "AccuracyUSec", "t", (uint64_t) USEC_PER_SEC)) < 0 ||
            (r = api->append(m, "(sv)", "TimersMonotonic", "a(st)", 1, "OnActiveSec", usec)) < 0 ||
            (r = api->close_container(m)) < 0)
                return r;
        if ((r = api->open_container(m, 'a', "(sa(sv))")) < 0 || (r = api->open_container(m, 'r', "sa(sv)")) < 0 ||
            (r = api->append(m, "s", service)) < 0 || (r = api->open_container(m, 'a', "(sv)")) < 0 ||
            (r = api->append(m, "(sv)", "Description", "s", "fsfreeze-hook: thaw a freeze that no thaw ended")) < 0 ||
            (r = api->append(m, "(sv)", "CollectMode", "s", "inactive-or-failed")) < 0 ||
            (r = append_working_directory(api, m, keep_cwd)) < 0 || (r = append_exec_start(api, m, argv)) < 0)
                return r;
        for (int i = 0; i < 3; i++)
                if ((r = api->close_container(m)) < 0)
                        return r;
        return 0;
}

static int call(const struct bus_api *api, sd_bus *bus, sd_bus_message *m, char **ret_why) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = api->call(bus, m, BUS_TIMEOUT_USEC, &error, NULL);

        /* A timer that elapsed is gone already (RemainAfterElapse=no). */
        if (r < 0 && g_strcmp0(error.name, "org.freedesktop.systemd1.NoSuchUnit") == 0)
                r = -ENOENT;
        if (r < 0 && ret_why)
                *ret_why = g_strdup(error.message ? error.message : g_strerror(-r));
        api->error_free(&error);
        return r;
}

static int start_systemd(const struct bus_api *api, struct fh_deadline *d, char *const *rerun_argv, bool keep_cwd,
                         char **ret_why) {
        g_autofree char *service = g_strdup_printf("fsfreeze-hook-deadline-%s.service", d->id);
        g_auto(GStrv) argv = fire_argv(d, rerun_argv, 0);
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL;
        int r;

        g_free(d->unit);
        d->unit = g_strdup_printf("fsfreeze-hook-deadline-%s.timer", d->id);
        r = open_manager(api, &bus);
        if (r >= 0 && !(m = manager_call(api, bus, "StartTransientUnit")))
                r = -ENOMEM;
        if (r >= 0 && (r = append_units(api, m, d, service, argv, keep_cwd)) >= 0)
                r = call(api, bus, m, ret_why);
        else if (r < 0)
                *ret_why = g_strdup(g_strerror(-r));
        if (m)
                api->message_unref(m);
        if (bus)
                api->close_unref(bus);
        if (r >= 0)
                d->mechanism = FH_DEADLINE_SYSTEMD;
        return r;
}

static int stop_unit(const char *unit) {
        struct bus_api api;
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL;
        int r;

        if (!load_bus_api(&api))
                return -EOPNOTSUPP;
        r = open_manager(&api, &bus);
        if (r >= 0 && !(m = manager_call(&api, bus, "StopUnit")))
                r = -ENOMEM;
        if (r >= 0 && (r = api.append(m, "ss", unit, "replace")) >= 0)
                r = call(&api, bus, m, NULL);
        if (m)
                api.message_unref(m);
        if (bus)
                api.close_unref(bus);
        return r == -ENOENT ? 0 : r;
}

/* --- a process of our own ------------------------------------------------------- */

/* In the grandchild, between fork and exec: system calls only (the
 * dispatcher has a journal thread). Nothing of the dispatcher's stays
 * open: qemu-ga 9.1+ reads the hook's output until every writer is gone.
 * Only 'keep_fd' (close-on-exec) stays until the exec, which tells the
 * dispatcher that we run as ourselves. */
static _Noreturn void become_sleeper(const char *exe, char **argv, int keep_fd, bool keep_cwd) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int fd;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        /* The working directory stays if the caller says so: the fire runs
         * the freeze's own command line again, whose relative paths (a
         * freeze run by hand with -d hooks, --state-dir=st) mean something
         * only from here. qemu-ga runs us from / anyway. */
        if (!keep_cwd)
                (void) chdir("/");
        /* Everything closed first: out of descriptors, /dev/null could
         * not be opened, and the caller's pipe would stay as our stdout. */
        if (close_range(0, (unsigned) keep_fd - 1, 0) < 0 || close_range((unsigned) keep_fd + 1, ~0U, 0) < 0)
                for (int i = 0; i < 65536; i++)
                        if (i != keep_fd)
                                (void) close(i);
        fd = open("/dev/null", O_RDWR);
        if (fd == 0) {
                (void) dup2(0, 1);
                (void) dup2(0, 2);
        }
        /* Our binary by its name, read before the fork: under a tool that
         * runs us (valgrind), /proc/self/exe is the tool. If an upgrade
         * removed that file, the running image is still there. */
        if (exe)
                execv(exe, argv);
        execv("/proc/self/exe", argv);
        _exit(127);
}

/* Double fork and setsid: not our child (nobody has to reap it), not in
 * qemu-ga's session or process group. The middle process passes the
 * sleeper's pid back through a pipe, which the sleeper holds until its
 * exec: once it reads its end, a thaw that follows at once finds it
 * with its own command line, which is how it recognises it. */
static int start_process(struct fh_deadline *d, char *const *rerun_argv, bool keep_cwd) {
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
        struct timespec now;
        g_auto(GStrv) argv = NULL;
        pid_t pid, sleeper = 0;
        int p[2], status;

        if (clock_gettime(CLOCK_BOOTTIME, &now) < 0)
                return -errno;
        argv = fire_argv(d, rerun_argv, now.tv_sec * USEC_PER_SEC + now.tv_nsec / 1000 + d->msec * USEC_PER_MSEC);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                pid_t grandchild;

                (void) setsid();
                grandchild = fork();
                if (grandchild == 0)
                        become_sleeper(exe, argv, p[1], keep_cwd);
                (void) !write(p[1], &grandchild, sizeof grandchild);
                _exit(0);
        }
        close(p[1]);
        if (pid > 0 && read(p[0], &sleeper, sizeof sleeper) != sizeof sleeper)
                sleeper = -1;
        if (pid > 0 && sleeper > 0) {
                char eof;
                while (read(p[0], &eof, 1) < 0 && errno == EINTR)
                        ;
        }
        close(p[0]);
        if (pid < 0)
                return -errno;
        (void) waitpid(pid, &status, 0);
        if (sleeper <= 0)
                return -ECHILD;
        d->mechanism = FH_DEADLINE_PROCESS;
        d->pid = sleeper;
        return 0;
}

/* The real uid of 'pid' (a setuid program keeps its caller's), or -1. */
static int64_t real_uid(pid_t pid) {
        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid), *text = NULL;
        const char *line;

        if (!g_file_get_contents(path, &text, NULL, NULL) || !(line = strstr(text, "\nUid:\t")))
                return -1;
        return g_ascii_strtoll(line + 6, NULL, 10);
}

/* Whether 'pid' is the sleeper of 'd': its command line has our option
 * with this deadline's ID, and it runs as root (or as us: a freeze run by
 * hand as a user). Anyone can put the option in a command line, and read
 * the ID from the record: a user's process that took the pid of a dead
 * sleeper is not it. */
static bool is_sleeper(pid_t pid, const char *id) {
        g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int) pid);
        g_autofree char *cmdline = NULL, *want = g_strconcat(FIRE_OPTION, id, NULL);
        int64_t uid = real_uid(pid);
        gsize len = 0;

        if ((uid != 0 && uid != (int64_t) getuid()) || !g_file_get_contents(path, &cmdline, &len, NULL))
                return false;
        for (gsize i = 0; i < len; i += strlen(cmdline + i) + 1)
                if (strcmp(cmdline + i, want) == 0)
                        return true;
        return false;
}

/* Through a pidfd, so that the pid checked is the pid signalled. */
static int stop_process(const struct fh_deadline *d) {
        int fd, r = 0;

        if (d->pid <= 0)
                return 0;
        fd = (int) syscall(SYS_pidfd_open, d->pid, 0);
        /* No pidfds (a kernel before 5.3, or valgrind): the check and the
         * signal are a few system calls apart, and the pid would have to
         * be reused by then. */
        if (fd < 0 && errno == ENOSYS)
                return is_sleeper(d->pid, d->id) && kill(d->pid, SIGTERM) < 0 && errno != ESRCH ? -errno : 0;
        if (fd < 0)
                return errno == ESRCH ? 0 : -errno;
        if (is_sleeper(d->pid, d->id) && syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                r = -errno;
        close(fd);
        return r;
}

/* kill(0) first: a /proc mounted with hidepid hides our sleeper from a
 * user's --status, but not from kill(). A process we may read that is
 * not the sleeper took its pid: the sleeper is gone. */
static int process_alive(const struct fh_deadline *d) {
        g_autofree char *path = g_strdup_printf("/proc/%d", (int) d->pid);

        if (d->pid <= 0 || (kill(d->pid, 0) < 0 && errno == ESRCH))
                return 0;
        if (access(path, F_OK) < 0)
                return 1;
        return is_sleeper(d->pid, d->id) ? 1 : 0;
}

static int unit_loaded(const struct bus_api *api, sd_bus *bus, const char *unit) {
        sd_bus_message *m = manager_call(api, bus, "GetUnit");
        int r = m ? api->append(m, "s", unit) : -ENOMEM;

        if (r >= 0)
                r = call(api, bus, m, NULL);
        if (m)
                api->message_unref(m);
        return r >= 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* The timer, or the service it started, which is firing now. */
static int units_alive(const struct fh_deadline *d) {
        g_autofree char *service = g_strdup_printf("fsfreeze-hook-deadline-%s.service", d->id);
        struct bus_api api;
        sd_bus *bus = NULL;
        int r;

        if (!d->unit || !*d->unit)
                return 0;
        if (!load_bus_api(&api))
                return -EOPNOTSUPP;
        r = open_manager(&api, &bus);
        if (r >= 0 && (r = unit_loaded(&api, bus, d->unit)) == 0)
                r = unit_loaded(&api, bus, service);
        if (bus)
                api.close_unref(bus);
        return r;
}

int fh_deadline_timer_alive(const struct fh_deadline *d) {
        return d->mechanism == FH_DEADLINE_SYSTEMD ? units_alive(d) : process_alive(d);
}

int fh_deadline_start(struct fh_deadline *d, char *const *rerun_argv, bool keep_cwd, char **ret_why) {
        struct bus_api api;

        if (!load_bus_api(&api) || api.booted() <= 0)
                return start_process(d, rerun_argv, keep_cwd);
        if (start_systemd(&api, d, rerun_argv, keep_cwd, ret_why) >= 0)
                return 0;
        g_clear_pointer(&d->unit, g_free);
        return start_process(d, rerun_argv, keep_cwd);
}

int fh_deadline_stop(const struct fh_deadline *d) {
        if (d->fired)
                return 0;
        if (d->mechanism == FH_DEADLINE_SYSTEMD)
                return d->unit && *d->unit ? stop_unit(d->unit) : 0;
        return stop_process(d);
}

void fh_deadline_sleep_until(int64_t boottime_usec) {
        struct timespec ts = { .tv_sec = boottime_usec / USEC_PER_SEC,
                               .tv_nsec = boottime_usec % USEC_PER_SEC * 1000 };

        while (clock_nanosleep(CLOCK_BOOTTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

/* --- the fire ---------------------------------------------------------------------- */

int fh_deadline_claim(const char *dir, const char *id, struct fh_deadline **ret) {
        g_autofree char *lock = g_build_filename(dir, LOCK_NAME, NULL);
        g_autoptr(fh_deadline) d = NULL;
        int fd, n, r;

        fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        /* A freeze still running its hooks holds the lock: its filesystems
         * are not frozen yet. Wait for it, however long. */
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        goto fail;
                }
        r = fh_deadline_read(dir, &d);
        if (r < 0 || d->fired || strcmp(d->id, id) != 0) {
                r = r == -ENOENT || r == -ESTALE || r == 0 ? -ESRCH : r;
                goto fail;
        }
        /* Another platform's agent: its freeze (if any) is its own to thaw. */
        if (fh_deadline_thaws(d)) {
                n = fh_thaw_all_mounted();
                d->thawed = n < 0 ? 0 : n;
        }
        d->fired = true;
        d->fired_usec = g_get_real_time();
        /* /run is never frozen: this write cannot block. */
        (void) fh_deadline_write(dir, d);
        *ret = g_steal_pointer(&d);
        return fd;

fail:
        close(fd);
        return r;
}
