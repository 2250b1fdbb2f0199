/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "linebuf.h"
#include "supervise.h"
#include "timeutil.h"

/* One read() per ready stream per wakeup: a pipe's default capacity, so a
 * flooding hook is drained at full speed and the other stream is not
 * starved. */
#define READ_CHUNK 65536

enum stage {
        STAGE_RUNNING,
        STAGE_TERM_SENT,        /* waiting the grace for it to exit */
        STAGE_KILL_SENT,        /* waiting once more, in case it is stuck in the kernel */
};

struct stream {
        int fd;                 /* read end, -1 once closed */
        struct fh_linebuf lb;
};

/* Bigger pipes mean fewer wakeups for both sides when a hook floods; the
 * kernel allocates the pages only as data comes. */
#define PIPE_SIZE (1024 * 1024)

struct run {
        const struct fh_run_request *req;
        const struct fh_run_observer *obs;
        pid_t pid;
        struct stream streams[_FH_STREAM_MAX];
        enum stage stage;
        int64_t deadline;       /* monotonic usec, -1: none */
        bool exited;
        bool reaped;            /* already reaped by the kernel: status unknown */
        siginfo_t status;
        struct fh_result *result;
        bool discarding;        /* the observer wants no more lines */
        char buf[READ_CHUNK];
};

struct line_ctx {
        struct run *run;
        enum fh_stream stream;
};

static void on_line(void *userdata, const char *line, size_t len, bool continued, bool ended) {
        const struct line_ctx *ctx = userdata;
        const struct fh_run_observer *obs = ctx->run->obs;

        if (!ctx->run->discarding && obs->output(obs->userdata, ctx->stream, line, len, continued))
                return;
        /* The line refused and those after it, with their newline if
         * they had one: the count is of the bytes the hook printed. */
        ctx->run->discarding = true;
        obs->discarded(obs->userdata, len + ended);
}

/* Once discarding, what a line buffer holds is counted as it is: its
 * newline, if it comes, is counted with the raw bytes that bring it. */
static void discard_pending(struct run *run, enum fh_stream s) {
        struct fh_linebuf *lb = &run->streams[s].lb;

        if (lb->len > 0)
                run->obs->discarded(run->obs->userdata, lb->len);
        fh_linebuf_init(lb);
}

static void close_stream(struct run *run, enum fh_stream s) {
        struct line_ctx ctx = { run, s };

        if (run->streams[s].fd < 0)
                return;
        if (run->discarding)
                discard_pending(run, s);
        else
                fh_linebuf_flush(&run->streams[s].lb, on_line, &ctx);
        close(run->streams[s].fd);
        run->streams[s].fd = -1;
}

/* Reads at most 'max' bytes once. Returns bytes read, 0 at EOF, -errno. */
static ssize_t read_stream(struct run *run, enum fh_stream s, size_t max) {
        struct line_ctx ctx = { run, s };
        ssize_t n;

        if (max > sizeof run->buf)
                max = sizeof run->buf;
        n = read(run->streams[s].fd, run->buf, max);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
        if (n == 0)
                return 0;
        if (run->discarding) {
                discard_pending(run, s);
                run->obs->discarded(run->obs->userdata, (size_t) n);
                return n;
        }
        if (run->obs->chunk)
                run->obs->chunk(run->obs->userdata);
        fh_linebuf_feed(&run->streams[s].lb, run->buf, (size_t) n, on_line, &ctx);
        return n;
}

static void on_readable(struct run *run, enum fh_stream s) {
        ssize_t n = read_stream(run, s, sizeof run->buf);

        if (n == 0 || (n < 0 && n != -EAGAIN))
                close_stream(run, s);
        else if (n == (ssize_t) sizeof run->buf)
                /* A full read: this hook floods. A bigger pipe means fewer
                 * wakeups for both sides; a hint, the default will do. */
                (void) fcntl(run->streams[s].fd, F_SETPIPE_SZ, PIPE_SIZE);
}

/* The main process has exited. Take what its pipes already hold, but do not
 * wait for EOF: a process it left behind (a lock holder until thaw, say)
 * may keep the write ends open for as long as it lives. FIONREAD bounds the
 * drain, so even a background process that keeps writing cannot hold us. */
static void drain_streams(struct run *run) {
        for (int s = 0; s < _FH_STREAM_MAX; s++) {
                int pending = 0;

                if (run->streams[s].fd < 0)
                        continue;
                if (ioctl(run->streams[s].fd, FIONREAD, &pending) < 0)
                        pending = 0;
                while (pending > 0) {
                        ssize_t n = read_stream(run, s, (size_t) pending);
                        if (n <= 0)
                                break;
                        pending -= (int) n;
                }
                close_stream(run, s);
        }
}

static void signal_group(struct run *run, int sig) {
        /* The hook leads its own session and process group (setsid), so
         * -pid reaches everything it started that did not move away. */
        (void) kill(-run->pid, sig);
}

/* The timeout expired, or the dispatcher was told to stop. */
static void escalate(struct run *run, int64_t now) {
        switch (run->stage) {
        case STAGE_RUNNING:
                signal_group(run, SIGTERM);
                /* A stopped process only acts on SIGTERM once continued. */
                signal_group(run, SIGCONT);
                run->stage = STAGE_TERM_SENT;
                run->deadline = now + run->req->kill_grace_usec;
                break;
        case STAGE_TERM_SENT:
                signal_group(run, SIGKILL);
                run->result->sent_sigkill = true;
                run->stage = STAGE_KILL_SENT;
                /* SIGKILL cannot interrupt a process stuck in the kernel
                 * (a dead NFS server, a frozen filesystem): give it one more
                 * grace, then leave it behind rather than hang the backup. */
                run->deadline = now + MAX(run->req->kill_grace_usec, USEC_PER_SEC);
                break;
        case STAGE_KILL_SENT:
                run->result->abandoned = true;
                run->deadline = -1;
                break;
        }
}

static void check_exited(struct run *run) {
        siginfo_t si = { 0 };

        /* WNOWAIT: leave it a zombie for now, so that its pid, which is also
         * its process group id, cannot be reused before we are done
         * signalling that group. */
        if (waitid(P_PID, (id_t) run->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
                if (si.si_pid == run->pid) {
                        run->exited = true;
                        run->status = si;
                }
                return;
        }
        /* ECHILD: it is gone without us (SIGCHLD ignored after all). Its
         * status is lost; never wait for it again. */
        if (errno == ECHILD) {
                run->exited = true;
                run->reaped = true;
        }
}

static void on_signals(struct run *run, int64_t now) {
        struct signalfd_siginfo ssi;

        while (read(run->req->signal_fd, &ssi, sizeof ssi) == sizeof ssi) {
                if (ssi.ssi_signo == SIGCHLD)
                        continue;
                /* SIGTERM, SIGINT or SIGHUP to the dispatcher: take the hook
                 * down with us; a second signal skips the rest of the grace. */
                if (run->result->interrupted_by == 0)
                        run->result->interrupted_by = (int) ssi.ssi_signo;
                escalate(run, now);
        }
        check_exited(run);
}

static int poll_timeout_ms(const struct run *run, int64_t now) {
        int64_t left;

        if (run->deadline < 0)
                return -1;
        left = run->deadline - now;
        if (left <= 0)
                return 0;
        /* Round up: waking a little late is harmless, early means spinning. */
        return (int) MIN((left + USEC_PER_MSEC - 1) / USEC_PER_MSEC, INT_MAX);
}

static void supervise(struct run *run) {
        int64_t now = 0;

        (void) fh_now_monotonic_usec(&now);
        check_exited(run);
        while (!run->exited && !run->result->abandoned) {
                struct pollfd pfd[1 + _FH_STREAM_MAX];
                int map[1 + _FH_STREAM_MAX];
                nfds_t n = 0;
                int r;

                pfd[n++] = (struct pollfd) { .fd = run->req->signal_fd, .events = POLLIN };
                for (int s = 0; s < _FH_STREAM_MAX; s++)
                        if (run->streams[s].fd >= 0) {
                                map[n] = s;
                                pfd[n++] = (struct pollfd) { .fd = run->streams[s].fd, .events = POLLIN };
                        }

                if (run->obs->idle)
                        run->obs->idle(run->obs->userdata);
                r = poll(pfd, n, poll_timeout_ms(run, now));
                (void) fh_now_monotonic_usec(&now);
                if (r < 0) {
                        /* EINTR, or ENOMEM: try again shortly; the deadlines
                         * still apply, so this cannot go on unbounded. */
                        if (errno != EINTR)
                                g_usleep(10000);
                        continue;
                }

                for (nfds_t i = 1; r > 0 && i < n; i++)
                        if (pfd[i].revents)
                                on_readable(run, (enum fh_stream) map[i]);
                if (r > 0 && pfd[0].revents)
                        on_signals(run, now);
                /* A hook that exited in this very wakeup did not time out:
                 * its background processes must not be killed. */
                if (!run->exited && run->deadline >= 0 && now >= run->deadline) {
                        if (run->stage == STAGE_RUNNING)
                                run->result->timed_out = true;
                        escalate(run, now);
                }
        }
}

/* The last line, for any caller: a dispatcher killed with SIGKILL (an
 * agent's timeout, a person) cannot kill the hook it was running, which
 * leads its own session and so would live on with its whole group. A
 * guard process, forked once per dispatch before the first hook, waits
 * for the end of a pipe whose only writer is the dispatcher: when that
 * comes (we exited, however), it kills the process group of the hook
 * running then, if any, which the dispatcher keeps in a shared page. A
 * hook that has ended is cleared first: the processes it left running on
 * purpose (a lock held until thaw) are not the guard's business.
 * PR_SET_PDEATHSIG on the hook instead would reach its main process only,
 * not the rest of its group (see fsfreeze-hook(8), "Timeouts"). */
static int *guard_pgid;         /* shared with the guard; 0: no hook running */
static int guard_fd = -1;       /* our end of the pipe; -1: no guard */

/* In the guard, a fork of a dispatcher that may have other threads: only
 * system calls. It keeps no descriptor of ours (none of the caller's
 * pipes, which Google's agent and qemu-ga read to their end). */
static _Noreturn void guard(int fd) {
        char c;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC), pgid;

        if (null >= 0)
                for (int i = 0; i <= 2; i++)
                        (void) dup2(null, i);
        if (dup2(fd, 3) == 3)
                (void) close_range(4, ~0U, 0);
        (void) prctl(PR_SET_NAME, "fsfreeze-guard");
        /* Out of the dispatcher's process group and session: what kills
         * that whole group (timeout(1), Ctrl-\ at a terminal, kill
         * -KILL -PGID) must not take the guard with it, and no terminal
         * sends it its signals. */
        (void) setsid();
        while (read(3, &c, 1) != 0 && errno == EINTR)
                ;
        pgid = __atomic_load_n(guard_pgid, __ATOMIC_SEQ_CST);
        if (pgid > 0)
                (void) kill(-pgid, SIGKILL);
        _exit(0);
}

/* Starts the guard, once; without one (no memory, no fork), hooks run
 * as before. */
static void guard_start(void) {
        static bool tried;
        int fds[2];
        pid_t pid;

        if (tried)
                return;
        tried = true;
        guard_pgid = mmap(NULL, sizeof *guard_pgid, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (guard_pgid == MAP_FAILED) {
                guard_pgid = NULL;
                return;
        }
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid == 0) {
                close(fds[1]);
                guard(fds[0]);
        }
        close(fds[0]);
        if (pid < 0)
                close(fds[1]);
        else
                guard_fd = fds[1];
}

static void guard_set(pid_t pgid) {
        if (guard_fd >= 0)
                __atomic_store_n(guard_pgid, (int) pgid, __ATOMIC_SEQ_CST);
}

static void finish(struct run *run, int64_t start) {
        int64_t end = start;

        /* After a timeout or an interruption the whole group goes, including
         * descendants that ignored SIGTERM; after a normal exit nothing is
         * killed: background processes are the hook's business. */
        if (run->stage != STAGE_RUNNING && !run->result->sent_sigkill) {
                signal_group(run, SIGKILL);
                run->result->sent_sigkill = true;
        }
        drain_streams(run);
        (void) fh_now_monotonic_usec(&end);
        run->result->duration_usec = end - start;

        /* Ended (or abandoned, killed already): what is left of its group
         * now is there on purpose, not the guard's to kill. */
        guard_set(0);
        if (run->result->abandoned)
                return;
        if (run->reaped) {
                run->result->error = -ECHILD;
                run->result->failed_step = "get its exit status";
                return;
        }
        (void) waitid(P_PID, (id_t) run->pid, &run->status, WEXITED);
        if (run->status.si_code == CLD_EXITED) {
                run->result->exit_status = run->status.si_status;
        } else {
                run->result->exit_status = -1;
                run->result->signal = run->status.si_status;
        }
}

static int open_pipe(int fds[2]) {
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        /* Our end must never block: we poll, and drain on a hook's exit. */
        if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
                int r = -errno;
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        return 0;
}

static int start(struct run *run, struct fh_result *ret, int64_t *ret_start) {
        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        int r;

        if ((r = open_pipe(out)) < 0 || (r = open_pipe(err)) < 0) {
                ret->failed_step = "create a pipe";
                goto fail;
        }
        if ((r = fh_now_monotonic_usec(ret_start)) < 0) {
                ret->failed_step = "read the clock";
                goto fail;
        }
        guard_start();
        r = fh_spawn(&(struct fh_spawn_request) {
                .file = run->req->file,
                .script = run->req->script,
                .argv = run->req->argv,
                .envp = run->req->envp,
                .stdin_fd = run->req->devnull_fd,
                .stdout_fd = out[1],
                .stderr_fd = err[1],
                .ignored = run->req->ignored,
        }, &run->pid);
        if (r < 0) {
                ret->failed_step = "fork";
                goto fail;
        }
        guard_set(run->pid);
        /* Only the child may hold the write ends, or we would never see EOF. */
        close(out[1]);
        close(err[1]);
        run->streams[FH_STREAM_STDOUT].fd = out[0];
        run->streams[FH_STREAM_STDERR].fd = err[0];
        return 0;

fail:
        for (int i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        ret->error = r;
        return r;
}

void fh_run_hook(const struct fh_run_request *req, const struct fh_run_observer *obs, struct fh_result *ret) {
        /* Not g_new0: zeroing the 72 KiB of buffers for every hook showed
         * up as the largest cost between hooks. Every field is set here. */
        g_autofree struct run *run = g_new(struct run, 1);
        int64_t start_usec = 0;

        *ret = (struct fh_result) { .exit_status = -1, .timeout_usec = req->timeout_usec };
        run->req = req;
        run->obs = obs;
        run->result = ret;
        run->pid = -1;
        run->stage = STAGE_RUNNING;
        run->deadline = -1;
        run->exited = false;
        run->reaped = false;
        run->discarding = false;
        memset(&run->status, 0, sizeof run->status);
        for (int s = 0; s < _FH_STREAM_MAX; s++) {
                run->streams[s].fd = -1;
                fh_linebuf_init(&run->streams[s].lb);
        }

        if (start(run, ret, &start_usec) < 0)
                return;
        if (req->timeout_usec > 0)
                run->deadline = start_usec + req->timeout_usec;
        supervise(run);
        finish(run, start_usec);
}

/* A termination signal that arrived while no hook was running. SIGCHLD
 * from a hook abandoned earlier is consumed and ignored. */
int fh_pending_interrupt(int signal_fd) {
        struct signalfd_siginfo ssi;

        while (read(signal_fd, &ssi, sizeof ssi) == sizeof ssi)
                if (ssi.ssi_signo != SIGCHLD)
                        return (int) ssi.ssi_signo;
        return 0;
}
