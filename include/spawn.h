/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A hook opened for execution: the descriptor that is checked is the one
 * that is executed, so the file cannot be swapped in between. */
struct fh_exec_file {
        int fd;                 /* O_CLOEXEC; -1 when closed */
        bool is_script;         /* starts with "#!" */
        struct stat st;
};

/* Opens 'path' without blocking (a FIFO swapped in cannot hang us) and
 * checks that it is a regular file with an execute bit. Returns -errno:
 * -EISDIR, -EINVAL (not a regular file), -EACCES (no execute bit), or
 * what open() said. */
int fh_exec_file_open(const char *path, struct fh_exec_file *ret);
/* The same checks on a descriptor already opened (by the trust policy),
 * which it takes over, closing it on failure. */
int fh_exec_file_adopt(int fd, struct fh_exec_file *ret);
void fh_exec_file_close(struct fh_exec_file *f);

struct fh_spawn_request {
        const struct fh_exec_file *file;
        char *const *argv;
        char *const *envp;
        int stdin_fd;
        int stdout_fd;
        int stderr_fd;
        /* Signals ignored in the dispatcher, which execve would pass on:
         * the child resets exactly these (caught ones reset themselves);
         * NULL: all of them. */
        const sigset_t *ignored;
};

/* The signals currently ignored, for fh_spawn_request.ignored. Asking once
 * per dispatch spares every child 64 system calls. */
void fh_spawn_ignored_signals(sigset_t *ret);

/* vfork()s and executes the hook in a new session (so that its process group
 * can be killed as a whole), with the given descriptors as 0, 1 and 2 and
 * nothing else open, default signal dispositions, an empty signal mask
 * and umask 022. A failure after fork() is reported by the child on its
 * stderr and exit status 126 (127 if the file vanished), as a shell does,
 * so it lands in the log like any other hook output. Returns -errno if
 * fork() fails. */
int fh_spawn(const struct fh_spawn_request *req, pid_t *ret_pid);
