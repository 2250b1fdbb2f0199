/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "deadline.h"
#include "defaults.h"
#include "foreign.h"
#include "parse.h"
#include "platform.h"

enum {
        OPT_NO_JOURNAL = 0x100,
        OPT_NO_STRICT_MODES,
        OPT_THAW_TIMEOUT,
        OPT_ON_FAILURE,
        OPT_STATE_DIR,
        OPT_STATUS,
        OPT_JSON,
        OPT_CHECK,
        OPT_FREEZE_DEADLINE,
        OPT_METRICS_FILE,
        OPT_DEADLINE_FIRE,
        OPT_DEADLINE_SLEEP_UNTIL,
        OPT_PLATFORM_SCRIPTS,
        OPT_ATTACH,
        OPT_DETACH,
        OPT_ROOT,
        OPT_CALLER,
};

static const struct option long_options[] = {
        { "config", required_argument, NULL, 'c' },
        { "hooks-dir", required_argument, NULL, 'd' },
        { "log-file", required_argument, NULL, 'l' },
        { "timeout", required_argument, NULL, 't' },
        { "thaw-timeout", required_argument, NULL, OPT_THAW_TIMEOUT },
        { "kill-grace", required_argument, NULL, 'k' },
        { "max-output", required_argument, NULL, 'm' },
        { "on-failure", required_argument, NULL, OPT_ON_FAILURE },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
        { "no-strict-modes", no_argument, NULL, OPT_NO_STRICT_MODES },
        { "dry-run", no_argument, NULL, 'n' },
        { "status", no_argument, NULL, OPT_STATUS },
        { "json", no_argument, NULL, OPT_JSON },
        { "check", no_argument, NULL, OPT_CHECK },
        { "freeze-deadline", required_argument, NULL, OPT_FREEZE_DEADLINE },
        { "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
        { "platform-scripts", required_argument, NULL, OPT_PLATFORM_SCRIPTS },
        /* Internal: how the freeze deadline runs us (see deadline.h). */
        { "deadline-fire", required_argument, NULL, OPT_DEADLINE_FIRE },
        { "deadline-sleep-until", required_argument, NULL, OPT_DEADLINE_SLEEP_UNTIL },
        { "attach", required_argument, NULL, OPT_ATTACH },
        { "detach", required_argument, NULL, OPT_DETACH },
        { "root", required_argument, NULL, OPT_ROOT },
        { "caller", required_argument, NULL, OPT_CALLER },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 }
};

void fh_cli_usage(FILE *out) {
        char max_output[32];

        fh_format_size(DEFAULT_MAX_OUTPUT, max_output, sizeof max_output);
        fprintf(out,
                "Usage:\n"
                " fsfreeze-hook [options] freeze|thaw\n"
                " fsfreeze-hook [options] --dry-run freeze|thaw\n"
                " fsfreeze-hook [options] --status [--json]\n"
                " fsfreeze-hook [options] --check\n"
                " fsfreeze-hook [--root=DIR] --attach=PLATFORM|--detach=PLATFORM\n"
                "\n"
                "Run the hooks of the hook directories with the argument freeze (in name\n"
                "order) or thaw (in reverse order), as qemu-ga's fsfreeze hook (-F), or\n"
                "as another platform's snapshot script (see --attach).\n"
                "Hook failures are logged, never passed on: the exit status is 0.\n"
                "\n"
                "Options (they override the configuration file):\n"
                " -c, --config=FILE         configuration file (default:\n"
                "                             " DEFAULT_CONFIG ")\n"
                " -d, --hooks-dir=DIR       hook directory; repeat for several, lowest\n"
                "                             priority first (default: " DEFAULT_VENDOR_HOOKS_DIR ",\n"
                "                             then fsfreeze-hook.d beside this program;\n"
                "                             " DEFAULT_HOOKS_DIR " if run from\n"
                "                             " PROGRAM_DIR ", PATH or another platform's\n"
                "                             agent)\n"
                " -l, --log-file=FILE       log file, empty for none\n"
                "                             (default: " DEFAULT_LOG_FILE ")\n"
                " -t, --timeout=SECONDS     time limit per freeze hook, 0 for none (default: %d)\n"
                "     --thaw-timeout=SECONDS  time limit per thaw hook (default: as --timeout)\n"
                " -k, --kill-grace=SECONDS  after a timeout, time between SIGTERM and\n"
                "                             SIGKILL (default: %d)\n"
                " -m, --max-output=SIZE     bytes each hook's output adds to the log, its\n"
                "                             timestamps, names and escaping included, e.g.\n"
                "                             512K, 4M; the rest is read and dropped; 0 for\n"
                "                             no limit (default: %s)\n"
                "     --on-failure=POLICY   continue (default), or abort: a failing freeze\n"
                "                             hook thaws the hooks that froze and fails the\n"
                "                             freeze\n"
                "     --state-dir=DIR       where freeze and thaw are recorded (default:\n"
                "                             " DEFAULT_STATE_DIR ")\n"
                "     --freeze-deadline=SECONDS\n"
                "                           if no thaw comes this long after a freeze\n"
                "                             began, thaw every filesystem (qemu-ga's freeze\n"
                "                             only) and run the thaw hooks; 0 for never\n"
                "                             (default: %d)\n"
                "     --metrics-file=FILE   after each freeze and thaw, write metrics there\n"
                "                             for node_exporter's textfile collector\n"
                "                             (default: none)\n"
                "     --platform-scripts=LIST\n"
                "                           also run the quiesce scripts of these platforms\n"
                "                             (comma-separated: vmware, nutanix, gce, azure,\n"
                "                             all, none), as their agents run them: before\n"
                "                             the hooks at freeze, after them at thaw\n"
                "                             (default: none)\n"
                "     --no-journal          do not send events to the systemd journal\n"
                "     --no-strict-modes     also run hooks that someone other than root\n"
                "                             could have changed, with a warning (as root,\n"
                "                             they are refused by default: the file, every\n"
                "                             directory and symlink on the way to it, and\n"
                "                             its #! interpreter must be root's and not\n"
                "                             writable by group or others)\n"
                "     --root=DIR            --attach, --detach, --status, --check and\n"
                "                             --platform-scripts: the other platforms'\n"
                "                             files in the image at DIR\n"
                "     --caller=PLATFORM     the platform whose agent runs us (vmware,\n"
                "                             nutanix, gce, azure): set by the wrappers\n"
                "                             --attach installs\n"
                "\n"
                "Commands (one at a time):\n"
                " -n, --dry-run             list the entries of the hook directories in run\n"
                "                             order, marked run or skip with the reason;\n"
                "                             run nothing, log nothing\n"
                "     --status              show the last freeze and thaw; with --json, as\n"
                "                             JSON\n"
                "     --check               check the hooks and the configuration; exit 1\n"
                "                             if anything is wrong\n"
                "     --attach=PLATFORM     make the snapshot agent of PLATFORM (vmware,\n"
                "                             nutanix, gce, azure) run this program as\n"
                "                             installed in " PROGRAM_DIR ", and with it the\n"
                "                             hooks; never replaces a file that is not ours\n"
                "     --detach=PLATFORM     remove what --attach installed, and only that\n"
                " -h, --help                display this help\n"
                " -V, --version             display version\n"
                "\n"
                "For more details see fsfreeze-hook(8) and fsfreeze-hook.conf(5).\n",
                DEFAULT_TIMEOUT_MS / 1000, DEFAULT_KILL_GRACE_MS / 1000, max_output,
                FH_DEFAULT_FREEZE_DEADLINE_MSEC / 1000);
}

static int seconds_option(const char *name, const char *value, int64_t *ret, char **ret_error) {
        if (fh_parse_seconds(value, ret) == 0)
                return 0;
        *ret_error = g_strdup_printf("invalid %s '%s': expected seconds, e.g. 30 or 0.5, at most 86400", name,
                                     value);
        return -EINVAL;
}

/* The command 'name' (as the help spells it): one per command line, or
 * one of them would be skipped without a word (--attach=vmware --status
 * ran only the status). The same one twice is one. */
static int command(struct fh_cli *cli, enum fh_action action, char *name, char **ret_error) {
        g_autofree char *owned = name;

        if (cli->command && !g_str_equal(cli->command, name)) {
                *ret_error = g_strdup_printf("%s and %s: one command at a time", cli->command, name);
                return -EINVAL;
        }
        g_free(cli->command);
        cli->command = g_steal_pointer(&owned);
        cli->action = action;
        return 0;
}

/* Comma-separated; a name that is no platform is a warning (main.c),
 * as in the configuration file, and the rest applies. */
static int platform_scripts_option(struct fh_cli *cli, const char *arg) {
        g_auto(GStrv) names = g_strsplit(arg, ",", -1);
        g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);

        for (char **n = names; *n; n++)
                g_strstrip(*n);
        cli->layer.platform_scripts = (int) fh_foreign_parse(names, unknown);
        g_strfreev(cli->unknown_platforms);
        g_ptr_array_add(unknown, NULL);
        cli->unknown_platforms = (char **) g_ptr_array_free(g_steal_pointer(&unknown), FALSE);
        return 0;
}

/* The options of issue 13: the other platforms' agents. */
static int platform_option(struct fh_cli *cli, int c, const char *arg, char **ret_error) {
        int p;

        if (c == OPT_ROOT) {
                if (*arg != '/') {
                        *ret_error = g_strdup_printf("invalid root '%s': expected an absolute path", arg);
                        return -EINVAL;
                }
                g_free(cli->root);
                cli->root = g_strdup(arg);
                return 0;
        }
        if (c != OPT_ATTACH && c != OPT_DETACH && c != OPT_CALLER)
                return -EINVAL;
        p = fh_platform_from_string(arg);
        if (p < 0) {
                *ret_error = g_strdup_printf("unknown platform '%s': expected vmware, nutanix, gce or azure", arg);
                return -EINVAL;
        }
        if (c == OPT_CALLER) {
                cli->forced_caller = p;
                return 0;
        }
        cli->platform = p;
        return command(cli, c == OPT_ATTACH ? FH_ACTION_ATTACH : FH_ACTION_DETACH,
                       g_strdup_printf("--%s=%s", c == OPT_ATTACH ? "attach" : "detach", arg), ret_error);
}

static int option(struct fh_cli *cli, int c, const char *arg, char **ret_error) {
        struct fh_layer *l = &cli->layer;
        uint64_t size;
        int r;

        switch (c) {
        case 'c':
                g_free(cli->config);
                cli->config = g_strdup(arg);
                return 0;
        case 'd': {
                /* Repeated: several directories, in the order given. */
                guint n = l->hook_dirs ? g_strv_length(l->hook_dirs) : 0;
                l->hook_dirs = g_renew(char *, l->hook_dirs, n + 2);
                l->hook_dirs[n] = g_strdup(arg);
                l->hook_dirs[n + 1] = NULL;
                return 0;
        }
        case 'l':
                g_free(l->log_file);
                l->log_file = g_strdup(arg);
                l->log_file_set = true;
                return 0;
        case 't':
                return seconds_option("timeout", arg, &l->timeout_msec, ret_error);
        case OPT_THAW_TIMEOUT:
                return seconds_option("thaw timeout", arg, &l->thaw_timeout_msec, ret_error);
        case 'k':
                return seconds_option("kill grace", arg, &l->kill_grace_msec, ret_error);
        case 'm':
                if (fh_parse_size(arg, &size) < 0) {
                        *ret_error = g_strdup_printf("invalid max output '%s': expected bytes, e.g. 4194304, "
                                                     "512K or 4M, at most 1024G", arg);
                        return -EINVAL;
                }
                l->max_output = (int64_t) size;
                return 0;
        case OPT_ON_FAILURE:
                r = fh_on_failure_from_string(arg);
                if (r < 0) {
                        *ret_error = g_strdup_printf("invalid on-failure policy '%s': expected continue or abort", arg);
                        return -EINVAL;
                }
                l->on_failure = r;
                return 0;
        case OPT_STATE_DIR:
                g_free(l->state_dir);
                l->state_dir = g_strdup(arg);
                return 0;
        case OPT_NO_JOURNAL:
                l->journal = 0;
                return 0;
        case OPT_NO_STRICT_MODES:
                l->strict_modes = 0;
                return 0;
        case 'n':
                return command(cli, FH_ACTION_DRY_RUN, g_strdup("--dry-run"), ret_error);
        case OPT_STATUS:
                return command(cli, FH_ACTION_STATUS, g_strdup("--status"), ret_error);
        case OPT_JSON:
                cli->json = true;
                return 0;
        case OPT_CHECK:
                return command(cli, FH_ACTION_CHECK, g_strdup("--check"), ret_error);
        case OPT_FREEZE_DEADLINE:
                return seconds_option("freeze deadline", arg, &l->freeze_deadline_msec, ret_error);
        case OPT_METRICS_FILE:
                if (*arg && *arg != '/') {
                        *ret_error = g_strdup_printf("invalid metrics file '%s': expected an absolute path", arg);
                        return -EINVAL;
                }
                g_free(l->metrics_file);
                l->metrics_file = g_strdup(arg);
                return 0;
        case OPT_PLATFORM_SCRIPTS:
                return platform_scripts_option(cli, arg);
        case OPT_DEADLINE_FIRE:
                if (!fh_deadline_id_valid(arg)) {
                        *ret_error = g_strdup_printf("invalid deadline ID '%s'", arg);
                        return -EINVAL;
                }
                g_free(cli->deadline_id);
                cli->deadline_id = g_strdup(arg);
                return command(cli, FH_ACTION_DEADLINE_FIRE, g_strdup("--deadline-fire"), ret_error);
        case OPT_DEADLINE_SLEEP_UNTIL: {
                uint64_t v;
                if (!g_ascii_string_to_unsigned(arg, 10, 1, INT64_MAX, &v, NULL)) {
                        *ret_error = g_strdup_printf("invalid time '%s'", arg);
                        return -EINVAL;
                }
                cli->deadline_sleep_until = (int64_t) v;
                return 0;
        }
        }
        return platform_option(cli, c, arg, ret_error);
}

static int parse_options(int argc, char **argv, struct fh_cli *cli, char **ret_error) {
        int phase, c;
        int agent = fh_caller_from_argv0(argv[0], &phase);
        /* Run by another platform's agent under its entry point's name,
         * what follows the phase is the host's data (vmtoolsd's scriptArg
         * "-d/usr/sbin" or "--help"), never an option: options stop at the
         * first argument. */
        const char *opts = agent >= 0 ? "+:c:d:l:t:k:m:nhV" : ":c:d:l:t:k:m:nhV";
        /* Google's agent passes one argument, the disk list, and no phase
         * (the name says it): the last argument is that data, whatever it
         * begins with, and options can only come before it. */
        int n_options = agent == FH_PLATFORM_GCE && argc > 1 ? argc - 1 : argc;

        /* getopt would print its own messages; we print ours, once. */
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(n_options, argv, opts, long_options, NULL)) != -1) {
                switch (c) {
                case 'h':
                        cli->action = FH_ACTION_HELP;
                        return 0;
                case 'V':
                        cli->action = FH_ACTION_VERSION;
                        return 0;
                case ':':
                        *ret_error = g_strdup_printf("option '%s' requires an argument", argv[optind - 1]);
                        return -EINVAL;
                case '?':
                        *ret_error = g_strdup_printf("unrecognized option '%s'", argv[optind - 1]);
                        return -EINVAL;
                default:
                        if (option(cli, c, optarg, ret_error) < 0)
                                return -EINVAL;
                }
        }
        return 0;
}

static int parse_arguments(int argc, char **argv, struct fh_cli *cli, char **ret_error) {
        bool wants_phase = cli->action == FH_ACTION_RUN || cli->action == FH_ACTION_DRY_RUN;

        cli->args_start = optind;
        if (cli->deadline_sleep_until > 0 && cli->action != FH_ACTION_DEADLINE_FIRE) {
                *ret_error = g_strdup("--deadline-sleep-until goes with --deadline-fire");
                return -EINVAL;
        }
        if (!wants_phase) {
                if (optind < argc) {
                        *ret_error = g_strdup_printf("unexpected argument '%s'", argv[optind]);
                        return -EINVAL;
                }
                if (cli->json && cli->action != FH_ACTION_STATUS) {
                        *ret_error = g_strdup("--json goes with --status");
                        return -EINVAL;
                }
                return 0;
        }
        if (cli->json) {
                *ret_error = g_strdup("--json goes with --status");
                return -EINVAL;
        }
        /* qemu-ga's "freeze" or "thaw", or another platform's call. */
        if (fh_caller_recognise(argv[0], cli->forced_caller, argv + optind, argc - optind, &cli->caller,
                                ret_error) < 0)
                return -EINVAL;
        cli->phase = cli->caller.phase;
        return 0;
}

int fh_cli_parse(int argc, char **argv, struct fh_cli *ret, char **ret_error) {
        struct fh_cli cli = {
                .action = FH_ACTION_RUN,
                .phase = -1,
                .config = g_strdup(DEFAULT_CONFIG),
                .platform = -1,
                .forced_caller = -1,
                .caller = { .platform = -1, .phase = -1 },
        };

        fh_layer_init(&cli.layer);
        if (parse_options(argc, argv, &cli, ret_error) < 0)
                goto fail;
        if (cli.action != FH_ACTION_HELP && cli.action != FH_ACTION_VERSION &&
            parse_arguments(argc, argv, &cli, ret_error) < 0)
                goto fail;
        *ret = cli;
        return 0;

fail:
        fh_cli_done(&cli);
        return -EINVAL;
}

void fh_cli_done(struct fh_cli *cli) {
        g_clear_pointer(&cli->config, g_free);
        g_clear_pointer(&cli->deadline_id, g_free);
        g_clear_pointer(&cli->unknown_platforms, g_strfreev);
        g_clear_pointer(&cli->root, g_free);
        g_clear_pointer(&cli->command, g_free);
        fh_caller_done(&cli->caller);
        fh_layer_done(&cli->layer);
}
