/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "spawn.h"
#include "stream.h"

/* What the supervisor reports while a hook runs. */
struct fh_run_observer {
        /* A chunk of output was just read and its lines follow: they
         * arrived together, so one clock reading stamps them all. */
        void (*chunk)(void *userdata);
        /* One line (or piece of a long line) of output, raw bytes. Returns
         * false once no more lines are wanted (an output cap): from then on
         * the output is still read, so that the hook never blocks, but only
         * counted, through 'discarded' (the refused line included), without
         * being split into lines. */
        bool (*output)(void *userdata, enum fh_stream stream, const char *line, size_t len, bool continued);
        void (*discarded)(void *userdata, size_t bytes);
        /* About to wait for the hook: a good moment to write buffered log
         * lines out, so the log is current whenever we block. */
        void (*idle)(void *userdata);
        void *userdata;
};

struct fh_run_request {
        const struct fh_exec_file *file;
        const struct fh_exec_file *script;      /* see fh_spawn_request */
        char *const *argv;
        char *const *envp;
        int devnull_fd;
        /* signalfd for SIGCHLD, SIGTERM, SIGINT and SIGHUP, all blocked. */
        int signal_fd;
        int64_t timeout_usec;           /* 0: none */
        int64_t kill_grace_usec;
        const sigset_t *ignored;        /* see fh_spawn_request */
};

/* Runs one hook to completion: captures both output streams line by line,
 * enforces the timeout (SIGTERM then SIGKILL to the whole process group),
 * and reaps it. Returns when the hook's main process has exited and the
 * output it left in its pipes has been read; processes it left running in
 * the background are not waited for and not killed. Fills *ret in every
 * case; a hook that could not be started has ret->error < 0. */
void fh_run_hook(const struct fh_run_request *req, const struct fh_run_observer *obs, struct fh_result *ret);

/* A termination signal read from 'signal_fd' (see fh_run_request) while no
 * hook runs, or 0. SIGCHLD from a hook abandoned earlier is consumed and
 * ignored. */
int fh_pending_interrupt(int signal_fd);
