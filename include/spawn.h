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

struct fh_trust;
/* Opens the hook 'path' (in 'dir') to run it: with a trust policy (as
 * root) through the policy, which judges every step of the way to it,
 * then its #! interpreter, found in 'search_path' (NULL: FH_DEFAULT_PATH).
 * Returns 0 with *ret_file, and *ret_problem set if it is not trusted but
 * 'strict' (strict modes) is off; -EPERM with *ret_problem if the policy
 * refuses it; another -errno if it cannot be opened. What the policy
 * refuses is only ever opened for reading, to be judged, and closed:
 * never executed. Without a policy (trust NULL), fh_exec_file_open(). */
int fh_exec_file_open_hook(struct fh_trust *trust, const char *dir, const char *path, bool strict,
                           const char *search_path, struct fh_exec_file *ret_file, char **ret_problem);

/* Where a shell that runs a script finds it (sh /dev/fd/4): Azure's
 * scripts, VMware's without #! (foreign.h). */
#define FH_SCRIPT_FD 4

struct fh_spawn_request {
        const struct fh_exec_file *file;
        const struct fh_exec_file *script;      /* NULL, or what 'file' reads as /dev/fd/FH_SCRIPT_FD */
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
