/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsfreeze-hook: qemu-ga's fsfreeze hook. Runs the hooks of a directory
 * before a filesystem freeze and after the thaw, logs everything they do,
 * contains the ones that misbehave, and never fails the freeze for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include <glib.h>

#include "cli.h"
#include "config.h"
#include "dispatch.h"
#include "env.h"
#include "log.h"
#include "trust.h"

extern char **environ;

/* With fd 0, 1 or 2 closed, the first pipe we create would take its
 * number and a hook's output would end up in the wrong place. */
static void ensure_std_fds(void) {
        for (int fd = 0; fd <= 2; fd++)
                if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
                        (void) open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
}

/* SIGCHLD and the termination signals are read from a signalfd in the
 * supervisor's poll loop rather than handled asynchronously. SIGPIPE is
 * ignored: a manual run piped into `head` must not stop the hooks. */
static int setup_signals(void) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t mask;
        int fd;

        /* An ignored SIGCHLD survives execve, and with it the kernel reaps
         * our hooks before we can learn how they ended. */
        sigaction(SIGCHLD, &dfl, NULL);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);
        fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* The trust policy protects root: as anyone else, a hook can do no more
 * than its caller could anyway. */
static struct fh_trust *trust_for_caller(void) {
        return geteuid() == 0 ? fh_trust_new(0) : NULL;
}

static void dry_run(const struct fh_cli *cli) {
        g_autoptr(fh_trust) trust = trust_for_caller();

        fh_print_plan(stdout, &(struct fh_dispatch_options) {
                .phase = cli->phase,
                .hooks_dir = cli->hooks_dir,
                .trust = trust,
                .strict_modes = cli->strict_modes,
        });
}

static int run(const struct fh_cli *cli) {
        g_autoptr(fh_log) log = NULL;
        g_autoptr(fh_env) env = NULL;
        g_autoptr(fh_trust) trust = trust_for_caller();
        struct fh_dispatch_summary summary;
        int signal_fd, devnull_fd;

        signal_fd = setup_signals();
        devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        log = fh_log_new(&(struct fh_log_options) {
                .file = cli->log_file,
                .journal = cli->journal,
                .terminal_fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1,
        });
        fh_log_set_phase(log, cli->phase);
        if (signal_fd < 0 || devnull_fd < 0) {
                fh_log_message(log, LOG_ERR, "setup-error", "cannot set up (%s): no hooks run",
                               g_strerror(signal_fd < 0 ? -signal_fd : errno));
                return EXIT_SUCCESS;
        }

        env = fh_env_new(environ);
        fh_env_set(env, "FSFREEZE_PHASE", fh_phase_to_string(cli->phase));
        fh_env_set(env, "FSFREEZE_HOOK_DIR", cli->hooks_dir);

        fh_dispatch(&(struct fh_dispatch_options) {
                .phase = cli->phase,
                .hooks_dir = cli->hooks_dir,
                .timeout_usec = cli->timeout_msec * 1000,
                .kill_grace_usec = cli->kill_grace_msec * 1000,
                .max_output = cli->max_output,
                .trust = trust,
                .strict_modes = cli->strict_modes,
                .signal_fd = signal_fd,
                .devnull_fd = devnull_fd,
                .env = env,
        }, log, &summary);

        /* Whatever the hooks did, and even when interrupted: a non-zero
         * status would make qemu-ga fail the freeze, and then no thaw
         * would follow to release the hooks that already ran. */
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        g_autofree char *error = NULL;
        struct fh_cli cli;
        int status;

        ensure_std_fds();
        if (fh_cli_parse(argc, argv, &cli, &error) < 0) {
                fprintf(stderr, "fsfreeze-hook: %s\nTry 'fsfreeze-hook --help' for more information.\n", error);
                return FH_EXIT_USAGE;
        }

        switch (cli.action) {
        case FH_ACTION_HELP:
                fh_cli_usage(stdout);
                status = EXIT_SUCCESS;
                break;
        case FH_ACTION_VERSION:
                printf("fsfreeze-hook %s\n", PACKAGE_VERSION);
                status = EXIT_SUCCESS;
                break;
        case FH_ACTION_DRY_RUN:
                dry_run(&cli);
                status = EXIT_SUCCESS;
                break;
        default:
                status = run(&cli);
                break;
        }
        fh_cli_done(&cli);
        return status;
}
