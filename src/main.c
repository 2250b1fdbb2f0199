/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsfreeze-hook: qemu-ga's fsfreeze hook. Runs the hooks of its directories
 * before a filesystem freeze and after the thaw, logs everything they do,
 * contains the ones that misbehave, and never fails the freeze for them
 * (unless told to, with on-failure=abort).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <glib.h>

#include "attach.h"
#include "caller.h"
#include "check.h"
#include "cli.h"
#include "config.h"
#include "deadline.h"
#include "defaults.h"
#include "dispatch.h"
#include "dryrun.h"
#include "env.h"
#include "escape.h"
#include "log.h"
#include "platform.h"
#include "spawn.h"
#include "status.h"
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

/* The configuration file. As root it is opened through the trust policy:
 * one that others could have written, or redirected through a symlink,
 * could turn the policy off. Returns a descriptor or -errno (-ENOENT: no
 * file; -EPERM: not trusted, said in 'warnings'). */
static int open_config(struct fh_trust *trust, const char *path, GPtrArray *warnings) {
        g_autofree char *problem = NULL, *shown = NULL;
        struct stat st;
        int fd, r;

        if (!trust) {
                fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                return fd < 0 ? -errno : fd;
        }
        r = fh_trust_open(trust, path, O_RDONLY | O_NONBLOCK, &fd, &st, &problem);
        if (r < 0 && r != -EPERM)
                return r;       /* missing: nothing to trust; unreadable: the loader says so */
        if (r == 0 && !problem)
                return fd;
        if (r == 0)
                close(fd);
        shown = fh_escape_dup(path);
        g_ptr_array_add(warnings, g_strdup_printf("%s is not trusted: %s: ignored, using the defaults", shown,
                                                  problem));
        return -EPERM;
}

/* Issue 13 part 1: --platform-scripts names that are none. */
static void platform_settings(const struct fh_cli *cli, struct fh_settings *s, GPtrArray *warnings) {
        for (char **n = cli->unknown_platforms; n && *n; n++) {
                g_autofree char *shown = fh_escape_dup(*n);
                g_ptr_array_add(warnings, g_strdup_printf("option --platform-scripts: unknown platform '%s' "
                                                          "(expected vmware, nutanix, gce, azure, all or none): "
                                                          "ignored", shown));
        }
}

/* Which platform's agent ran us (-1: qemu-ga or a shell): for a run, as
 * the parser recognised it; for the freeze deadline's fire, which runs
 * our command line again without its arguments, from --caller or argv[0]. */
static int who_ran_us(const struct fh_cli *cli, const char *argv0) {
        int phase;

        if (cli->action == FH_ACTION_RUN || cli->action == FH_ACTION_DRY_RUN)
                return cli->caller.platform;
        if (cli->action != FH_ACTION_DEADLINE_FIRE)
                return -1;
        return cli->forced_caller >= 0 ? cli->forced_caller : fh_caller_from_argv0(argv0, &phase);
}

/* Defaults, then the configuration file, then the command line. */
static void load_settings(const struct fh_cli *cli, const char *argv0, struct fh_trust *trust,
                          struct fh_settings *ret, GPtrArray *warnings) {
        int caller = who_ran_us(cli, argv0);
        struct fh_layer file;
        int fd;

        /* Run by another platform's agent, argv[0] is its entry point
         * (backupScripts.d/..., pre.sh): "beside it" is nobody's hook
         * directory; the administrator's is the build's default. */
        fh_settings_init(ret, caller >= 0 ? NULL : argv0);
        ret->caller = caller;
        ret->caller_arg = g_strdup(cli->caller.arg);
        ret->root = g_strdup(cli->root);
        fh_layer_init(&file);
        fd = open_config(trust, cli->config, warnings);
        if (fd != -EPERM && fh_config_load_fd(fd, cli->config, &file, warnings) == 0)
                fh_settings_apply(ret, &file);
        if (fd >= 0)
                close(fd);
        fh_layer_done(&file);
        fh_settings_apply(ret, &cli->layer);
        platform_settings(cli, ret, warnings);
}

/* A log with another name (a root file hard-linked into a directory a
 * group may write) would have root append every hook's output there. */
static char *hard_links_problem(const char *path, const struct stat *st) {
        g_autofree char *shown = fh_escape_dup(path), *q = g_shell_quote(path);
        g_autofree char *fix = fh_escape_dup(q);

        return g_strdup_printf("%s has %ju hard links: every other name of it would get the hooks' output (fix: "
                               "check what else it is, then rm %s; it is created again)", shown,
                               (uintmax_t) st->st_nlink, fix);
}

/* In a directory a group may write (Ubuntu's /var/log), any root file of
 * the directory can be renamed over the log by a member: one that others
 * can read would publish every hook's output. There the log must be
 * root's alone. */
static char *shared_dir_problem(const char *path, const struct stat *st) {
        g_autoptr(fh_trust) strict = fh_trust_new(0);
        g_autofree char *dir = g_path_get_dirname(path), *problem = NULL, *shown = NULL, *q = NULL, *fix = NULL;

        if ((st->st_mode & 0077) == 0 || fh_trust_check_dir(strict, dir, &problem) == 0)
                return NULL;
        shown = fh_escape_dup(path);
        q = g_shell_quote(path);
        fix = fh_escape_dup(q);
        return g_strdup_printf("%s is readable by group or others in a directory a group can write, where any file "
                               "of the directory could be renamed to it (fix: check what it is, then chmod 0600 %s; "
                               "or keep the log in a directory only root can write)", shown, fix);
}

/* The log file, as root: written by root with every hook's output, it must
 * not be somewhere a user can redirect (a symlinked directory) or read (a
 * file of theirs). Returns 'path', or NULL (with a warning) to log to the
 * journal only. */
static const char *trusted_log_file(bool as_root, const char *path, GPtrArray *warnings) {
        g_autofree char *problem = NULL, *dir = NULL, *shown = NULL;
        g_autoptr(fh_trust) trust = NULL;
        struct stat st;
        int fd, r;

        if (!as_root || !path)
                return path;
        trust = fh_trust_new_for_output(0);
        r = fh_trust_open(trust, path, O_PATH, &fd, &st, &problem);
        if (r == 0) {
                close(fd);
                /* Not a regular file: the log module refuses it itself. */
                if (!S_ISREG(st.st_mode))
                        g_clear_pointer(&problem, g_free);
                else if (!problem && st.st_nlink > 1)
                        problem = hard_links_problem(path, &st);
                else if (!problem)
                        problem = shared_dir_problem(path, &st);
        } else if (r == -ENOENT) {
                /* Not created yet: where it will be must be trusted. */
                g_clear_pointer(&problem, g_free);
                dir = g_path_get_dirname(path);
                if (fh_trust_check_dir(trust, dir, &problem) != -EPERM)
                        g_clear_pointer(&problem, g_free);
        } else if (r != -EPERM)
                g_clear_pointer(&problem, g_free);      /* the log module says why */
        if (!problem)
                return path;
        shown = fh_escape_dup(path);
        /* Said here too: this message cannot be in the log it is about. */
        fprintf(stderr, "fsfreeze-hook: log file %s is not trusted: %s: not written\n", shown, problem);
        g_ptr_array_add(warnings, g_strdup_printf("log file %s is not trusted: %s: not written", shown, problem));
        return NULL;
}

/* The hooks' PATH, as root: every directory in it decides what a hook's
 * "mysql", or "#!/usr/bin/env NAME", runs, and a caller's PATH (su without
 * '-', sudo keeping it) may hold a user's directory, or '.'. Directories
 * the trust policy refuses are dropped, each said in 'problems' (kept,
 * with the warning, when strict modes are off). */
static void trust_search_path(struct fh_trust *trust, const struct fh_settings *s, struct fh_env *env,
                              GPtrArray *problems) {
        g_autofree char *path = NULL;

        if (!trust)
                return;
        path = fh_trust_search_path(trust, fh_env_get(env, "PATH"), problems);
        if (!s->strict_modes)
                return;
        if (*path)
                fh_env_set(env, "PATH", path);
        else
                fh_env_unset(env, "PATH");      /* never "": that is the working directory */
}

/* Who called, for the hooks: FSFREEZE_CALLER (qemu-ga or the platform),
 * FSFREEZE_CALLER_ARG (VMware's scriptArg, Google's disk list; unset if
 * none) and, on a thaw, FSFREEZE_THAW_REASON: freeze-failed for VMware's
 * freezeFail, else thaw. Never inherited from whoever ran us. The freeze
 * deadline's thaw leaves the reason to the dispatcher. */
static void caller_env(const struct fh_cli *cli, const struct fh_settings *s, struct fh_env *env, bool fired) {
        fh_env_set(env, "FSFREEZE_CALLER", fh_caller_name(s->caller));
        if (s->caller_arg)
                fh_env_set(env, "FSFREEZE_CALLER_ARG", s->caller_arg);
        else
                fh_env_unset(env, "FSFREEZE_CALLER_ARG");
        if (cli->phase == FH_PHASE_THAW && !fired)
                fh_env_set(env, "FSFREEZE_THAW_REASON", cli->caller.freeze_failed ? "freeze-failed" : "thaw");
        else
                fh_env_unset(env, "FSFREEZE_THAW_REASON");
}

/* Run by another platform's agent: the log says which, with what. The
 * freeze deadline's fire was not: it says whose freeze it ends. */
static void log_caller(struct fh_log *log, const struct fh_cli *cli, const struct fh_settings *s, bool fired) {
        g_autofree char *arg = NULL, *shown = NULL;

        if (s->caller < 0)
                return;
        if (fired) {
                fh_log_message(log, LOG_INFO, "caller", "thaw: the freeze deadline, for a freeze run by %s (%s)",
                               fh_platform_info(s->caller)->title, fh_platform_to_string(s->caller));
                return;
        }
        if (s->caller_arg) {
                shown = fh_escape_dup(s->caller_arg);
                arg = g_strdup_printf(", argument '%s'", shown);
        }
        fh_log_message(log, LOG_INFO, "caller", "%s: run by %s (%s)%s%s",
                       fh_phase_to_string(fired ? FH_PHASE_THAW : (enum fh_phase) cli->phase),
                       fh_platform_info(s->caller)->title, fh_platform_to_string(s->caller), arg ? arg : "",
                       cli->caller.freeze_failed ? ", after freezeFail: a later script's freeze failed" : "");
}

/* --status as root: records in a directory others could write may be
 * forged. */
static int print_status(struct fh_trust *trust, const struct fh_settings *s, bool json) {
        g_autofree char *problem = NULL, *shown = NULL, *doc = NULL;
        int status;

        if (trust && fh_trust_check_new_dir(trust, s->state_dir, &problem) == -EPERM) {
                shown = fh_escape_dup(s->state_dir);
                fprintf(stderr, "fsfreeze-hook: state directory %s is not trusted: %s: its records are not shown\n",
                        shown, problem);
                return EXIT_FAILURE;
        }
        /* Then each platform's entry point, of the image at --root. */
        if (!json) {
                status = fh_print_status(stdout, s->state_dir, false);
                fh_attach_print_status(stdout, s->root);
                return status;
        }
        doc = fh_status_json_root(s->state_dir, s->root, true, &status);
        fputs(doc, stdout);
        return status;
}

static void print_warnings(GPtrArray *warnings) {
        for (guint i = 0; i < warnings->len; i++)
                fprintf(stderr, "fsfreeze-hook: warning: %s\n", (const char *) warnings->pdata[i]);
}

/* What the freeze deadline needs to run us again: our command line
 * without the arguments (the phase, and another platform's scriptArg or
 * disk list), which the parser has moved to the end. Run by an agent
 * under its entry point's name, the fire is not: under Google's pre.sh
 * the last argument is the disk list, so the fire's own options would be
 * read as data and the fire as a freeze. It runs under our own name with
 * --caller instead, which keeps the caller and the default hook
 * directory that caller gets. */
static char **rerun_argv(int args_start, char **argv) {
        GPtrArray *a = g_ptr_array_new();
        int phase, agent = fh_caller_from_argv0(argv[0], &phase);

        if (agent >= 0) {
                g_ptr_array_add(a, g_strdup("fsfreeze-hook"));
                g_ptr_array_add(a, g_strconcat("--caller=", fh_platform_to_string(agent), NULL));
        } else
                g_ptr_array_add(a, g_strdup(argv[0]));
        for (int i = 1; i < args_start; i++)
                g_ptr_array_add(a, g_strdup(argv[i]));
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

static int run(const struct fh_cli *cli, const struct fh_settings *settings, struct fh_trust *trust,
               GPtrArray *warnings, char *const *rerun, const struct fh_deadline *fired) {
        g_autoptr(fh_log) log = NULL;
        g_autoptr(fh_env) env = fh_env_new(environ);
        g_autoptr(GPtrArray) path_problems = g_ptr_array_new_with_free_func(g_free);
        struct fh_dispatch_summary summary;
        const char *log_file;
        sigset_t ignored;
        int signal_fd, devnull_fd;

        log_file = trusted_log_file(trust != NULL, settings->log_file, warnings);
        signal_fd = setup_signals();
        fh_spawn_ignored_signals(&ignored);
        /* Its errno now: the calls that follow may change errno. */
        devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull_fd < 0)
                devnull_fd = -errno;
        log = fh_log_new(&(struct fh_log_options) {
                .file = log_file,
                .journal = settings->journal,
                .terminal_fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1,
        });
        fh_log_set_phase(log, fired ? FH_PHASE_THAW : (enum fh_phase) cli->phase);
        for (guint i = 0; i < warnings->len; i++)
                fh_log_message(log, LOG_WARNING, "config-warning", "%s", (const char *) warnings->pdata[i]);
        trust_search_path(trust, settings, env, path_problems);
        caller_env(cli, settings, env, fired != NULL);
        log_caller(log, cli, settings, fired != NULL);
        for (guint i = 0; i < path_problems->len; i++)
                fh_log_message(log, LOG_WARNING, "untrusted", "%s: %s", (const char *) path_problems->pdata[i],
                               settings->strict_modes ? "dropped from the hooks' PATH"
                                                      : "kept in the hooks' PATH (strict modes are off)");
        if (signal_fd < 0 || devnull_fd < 0) {
                /* No hook can run; under abort a freeze that cannot run its
                 * hooks fails (nothing has frozen, nothing to thaw). */
                bool fail = cli->phase == FH_PHASE_FREEZE && settings->on_failure == FH_ON_FAILURE_ABORT;

                fh_log_message(log, LOG_ERR, "setup-error", "cannot set up (%s: %s): no hooks run%s",
                               signal_fd < 0 ? "signalfd" : "open /dev/null",
                               g_strerror(signal_fd < 0 ? -signal_fd : -devnull_fd),
                               fail ? "; the freeze fails (on-failure=abort)" : "");
                return fail ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        fh_dispatch(&(struct fh_dispatch_options) {
                .phase = fired ? FH_PHASE_THAW : (enum fh_phase) cli->phase,
                .settings = settings,
                .trust = trust,
                .signal_fd = signal_fd,
                .devnull_fd = devnull_fd,
                .ignored = &ignored,
                .env = env,
                .rerun_argv = rerun,
                .deadline_fired = fired,
        }, log, &summary);

        /* Whatever the hooks did, and even when interrupted: a non-zero
         * status would make qemu-ga fail the freeze, and then no thaw
         * would follow to release the hooks that already ran. Only an
         * abort, which has released them itself, fails on purpose. */
        return summary.aborted ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* --deadline-fire=ID: the freeze deadline's timer ran us. The
 * filesystems are thawed before anything is logged: the log file may be
 * on one of them. */
static int fire(const struct fh_cli *cli, const struct fh_settings *settings, struct fh_trust *trust,
                GPtrArray *warnings) {
        g_autoptr(fh_deadline) d = NULL;
        int lock_fd, status;

        /* Executed as /proc/self/exe: be found by our own name. */
        (void) prctl(PR_SET_NAME, "fsfreeze-hook");
        if (cli->deadline_sleep_until > 0)
                fh_deadline_sleep_until(cli->deadline_sleep_until);
        lock_fd = fh_deadline_claim(settings->state_dir, cli->deadline_id, &d);
        if (lock_fd < 0)
                return EXIT_SUCCESS;    /* disarmed, or replaced by a later freeze */
        status = run(cli, settings, trust, warnings, NULL, d);
        close(lock_fd);
        return status;
}

int main(int argc, char **argv) {
        g_autofree char *error = NULL;
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(fh_trust) trust = NULL;
        struct fh_settings settings;
        struct fh_cli cli;
        int status;

        ensure_std_fds();
        if (fh_cli_parse(argc, argv, &cli, &error) < 0) {
                fprintf(stderr, "fsfreeze-hook: %s\nTry 'fsfreeze-hook --help' for more information.\n", error);
                return FH_EXIT_USAGE;
        }
        if (cli.action == FH_ACTION_HELP || cli.action == FH_ACTION_VERSION) {
                if (cli.action == FH_ACTION_HELP)
                        fh_cli_usage(stdout);
                else
                        printf("fsfreeze-hook %s\n", PACKAGE_VERSION);
                fh_cli_done(&cli);
                return EXIT_SUCCESS;
        }

        trust = trust_for_caller();
        load_settings(&cli, argv[0], trust, &settings, warnings);
        switch (cli.action) {
        case FH_ACTION_DRY_RUN:
                print_warnings(warnings);
                fh_print_plan(stdout, cli.phase, &settings, trust);
                status = EXIT_SUCCESS;
                break;
        case FH_ACTION_STATUS:
                print_warnings(warnings);
                status = print_status(trust, &settings, cli.json);
                break;
        case FH_ACTION_CHECK:
                status = fh_check(stdout, &settings, cli.config, warnings);
                break;
        case FH_ACTION_DEADLINE_FIRE:
                status = fire(&cli, &settings, trust, warnings);
                break;
        case FH_ACTION_ATTACH:
                status = fh_attach(stdout, stderr, settings.root, cli.platform, trust);
                break;
        case FH_ACTION_DETACH:
                status = fh_detach(stdout, stderr, settings.root, cli.platform, trust);
                break;
        default: {
                g_auto(GStrv) rerun = rerun_argv(cli.args_start, argv);
                status = run(&cli, &settings, trust, warnings, rerun, NULL);
                break;
        }
        }
        fh_settings_done(&settings);
        fh_cli_done(&cli);
        return status;
}
