/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "env.h"
#include "spawn.h"
#include "trust.h"

/* The descriptor the hook is executed from, in the child. */
#define EXEC_FD 3

int fh_exec_file_open(const char *path, struct fh_exec_file *ret) {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

        if (fd < 0 && errno == EACCES)
                /* Execute-only (e.g. 0711) binary run by a non-root user:
                 * it cannot be read, but it can be executed. It cannot be
                 * a script either, since its interpreter could not read it. */
                fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fh_exec_file_adopt(fd, ret);
}

int fh_exec_file_adopt(int fd, struct fh_exec_file *ret) {
        struct fh_exec_file f = { .fd = fd };
        char magic[2];

        if (fstat(f.fd, &f.st) < 0) {
                int r = -errno;
                fh_exec_file_close(&f);
                return r;
        }
        if (!S_ISREG(f.st.st_mode) || (f.st.st_mode & 0111) == 0) {
                int r = S_ISDIR(f.st.st_mode) ? -EISDIR : !S_ISREG(f.st.st_mode) ? -EINVAL : -EACCES;
                fh_exec_file_close(&f);
                return r;
        }
        f.is_script = pread(f.fd, magic, sizeof magic, 0) == 2 && magic[0] == '#' && magic[1] == '!';
        *ret = f;
        return 0;
}

int fh_exec_file_open_hook(struct fh_trust *trust, const char *dir, const char *path, bool strict,
                           const char *search_path, struct fh_exec_file *ret_file, char **ret_problem) {
        g_autofree char *problem = NULL, *name = g_path_get_basename(path);
        struct stat st;
        int fd, r;

        if (!trust)
                return fh_exec_file_open(path, ret_file);
        r = fh_trust_open_in(trust, dir, name, O_RDONLY | O_NONBLOCK, &fd, &st, &problem);
        if (r == 0 && problem && strict) {
                close(fd);
                r = -EPERM;
        }
        if (r == 0)
                r = fh_exec_file_adopt(fd, ret_file);
        if (r == 0 && ret_file->is_script && !problem &&
            fh_trust_check_interpreter(trust, ret_file->fd, search_path ? search_path : FH_DEFAULT_PATH,
                                       &problem) < 0 && strict) {
                fh_exec_file_close(ret_file);
                r = -EPERM;
        }
        if (r == 0 || r == -EPERM)
                *ret_problem = g_steal_pointer(&problem);
        return r;
}

void fh_exec_file_close(struct fh_exec_file *f) {
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
}

void fh_spawn_ignored_signals(sigset_t *ret) {
        sigemptyset(ret);
        for (int sig = 1; sig < _NSIG; sig++) {
                struct sigaction sa;

                if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                        sigaddset(ret, sig);
        }
}

/* From here on we are in the child of vfork(): it shares our memory, runs
 * on our stack while our thread waits, and the journal thread goes on
 * beside it. So: only system calls until execve, no allocation, no stdio,
 * no locale, no return from here, and no signal handler that could run
 * (every disposition is the default or ignore, none is a handler). */

static void put(const char *s) {
        (void) !write(STDERR_FILENO, s, strlen(s));
}

static _Noreturn void child_fail(const char *step, int err) {
        /* strerrordesc_np(): the English text, without locale or locks. */
        const char *desc = strerrordesc_np(err);

        put("fsfreeze-hook: cannot ");
        put(step);
        put(": ");
        put(desc ? desc : "unknown error");
        put("\n");
        _exit(err == ENOENT ? 127 : 126);
}

static void reset_signals(const sigset_t *ignored) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        /* The dispatcher ignores SIGPIPE (and whatever its caller ignored)
         * and blocks the signals it reads through its signalfd; both would
         * survive execve. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (!ignored || sigismember(ignored, sig) == 1)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_from(int lowfd) {
        if (close_range((unsigned) lowfd, ~0U, 0) == 0)
                return;
        /* Kernels before 5.9 have no close_range(). */
        for (long fd = lowfd, max = sysconf(_SC_OPEN_MAX); fd < max && fd < 65536; fd++)
                (void) close((int) fd);
}

/* A script is executed through /dev/fd/3 by its interpreter, so that
 * descriptor has to survive execve; a binary's must not leak into it. */
static int place_exec_fd(const struct fh_exec_file *file) {
        if (file->fd == EXEC_FD)
                return fcntl(EXEC_FD, F_SETFD, file->is_script ? 0 : FD_CLOEXEC);
        return dup3(file->fd, EXEC_FD, file->is_script ? 0 : O_CLOEXEC);
}

/* The script a shell reads, at FH_SCRIPT_FD, kept across execve. It is
 * moved out of the way of EXEC_FD first, which place_exec_fd() takes. */
static int place_script_fd(const struct fh_spawn_request *req, int *fd) {
        if (!req->script)
                return 0;
        *fd = req->script->fd;
        if (*fd <= FH_SCRIPT_FD)
                *fd = fcntl(*fd, F_DUPFD_CLOEXEC, FH_SCRIPT_FD + 1);
        return *fd;
}

static _Noreturn void child(const struct fh_spawn_request *req) {
        int script_fd = -1;

        if (setsid() < 0)
                child_fail("start a new session", errno);
        reset_signals(req->ignored);
        if (dup2(req->stdin_fd, STDIN_FILENO) < 0 || dup2(req->stdout_fd, STDOUT_FILENO) < 0 ||
            dup2(req->stderr_fd, STDERR_FILENO) < 0)
                child_fail("set up stdin, stdout and stderr", errno);
        if (place_script_fd(req, &script_fd) < 0 || place_exec_fd(req->file) < 0 ||
            (req->script && dup2(script_fd, FH_SCRIPT_FD) < 0))
                child_fail("set up the hook descriptor", errno);
        close_from(req->script ? FH_SCRIPT_FD + 1 : EXEC_FD + 1);
        umask(022);
        execveat(EXEC_FD, "", req->argv, req->envp, AT_EMPTY_PATH);
        if (errno == ENOENT && !req->file->is_script && fcntl(EXEC_FD, F_SETFD, 0) == 0)
                /* A binfmt_misc format (a jar, a foreign binary under
                 * qemu-user) reopens the file too, like a script does. */
                execveat(EXEC_FD, "", req->argv, req->envp, AT_EMPTY_PATH);
        child_fail(errno == ENOEXEC ? "execute (no #! line, or not a binary for this machine)" : "execute",
                   errno);
}

int fh_spawn(const struct fh_spawn_request *req, pid_t *ret_pid) {
        /* vfork: no copy of our page tables, no copy-on-write faults after;
         * on a VM that is most of what starting a hook costs us. */
        pid_t pid = vfork();

        if (pid < 0)
                return -errno;
        if (pid == 0)
                child(req);
        *ret_pid = pid;
        return 0;
}
