/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "config.h"
#include "parse.h"

enum {
        OPT_NO_JOURNAL = 0x100,
        OPT_NO_STRICT_MODES,
};

static const struct option long_options[] = {
        { "hooks-dir", required_argument, NULL, 'd' },
        { "log-file", required_argument, NULL, 'l' },
        { "timeout", required_argument, NULL, 't' },
        { "kill-grace", required_argument, NULL, 'k' },
        { "max-output", required_argument, NULL, 'm' },
        { "no-strict-modes", no_argument, NULL, OPT_NO_STRICT_MODES },
        { "no-journal", no_argument, NULL, OPT_NO_JOURNAL },
        { "dry-run", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 }
};

char *fh_default_hooks_dir(const char *argv0) {
        g_autofree char *dir = NULL;

        if (!argv0 || !strchr(argv0, '/'))
                return g_strdup(DEFAULT_HOOKS_DIR);
        dir = g_path_get_dirname(argv0);
        return g_build_filename(dir, "fsfreeze-hook.d", NULL);
}

void fh_cli_usage(FILE *out) {
        char max_output[32];

        fh_format_size(DEFAULT_MAX_OUTPUT, max_output, sizeof max_output);
        fprintf(out,
                "Usage:\n"
                " fsfreeze-hook [options] freeze|thaw\n"
                "\n"
                "Run every hook of the hook directory with the argument freeze (in name\n"
                "order) or thaw (in reverse order), as qemu-ga's fsfreeze hook (-F).\n"
                "Hook failures are logged, never passed on: the exit status is 0.\n"
                "\n"
                "Options:\n"
                " -d, --hooks-dir=DIR       hook directory (default: fsfreeze-hook.d beside\n"
                "                             the path this program was invoked as, or\n"
                "                             " DEFAULT_HOOKS_DIR ")\n"
                " -l, --log-file=FILE       log file, empty for none\n"
                "                             (default: " DEFAULT_LOG_FILE ")\n"
                " -t, --timeout=SECONDS     time limit per hook, 0 for none (default: %d)\n"
                " -k, --kill-grace=SECONDS  after a timeout, time between SIGTERM and\n"
                "                             SIGKILL (default: %d)\n"
                " -m, --max-output=SIZE     output per hook written to the log, e.g. 512K,\n"
                "                             4M; the rest is read and dropped; 0 for no\n"
                "                             limit (default: %s)\n"
                "     --no-journal          do not send events to the systemd journal\n"
                "     --no-strict-modes     also run hooks that someone other than root\n"
                "                             could have changed, with a warning (as root,\n"
                "                             they are refused by default)\n"
                " -n, --dry-run             list the entries of the hook directory in run\n"
                "                             order, marked run or skip with the reason;\n"
                "                             run nothing, log nothing\n"
                " -h, --help                display this help\n"
                " -V, --version             display version\n"
                "\n"
                "For more details see fsfreeze-hook(8).\n",
                DEFAULT_TIMEOUT_MS / 1000, DEFAULT_KILL_GRACE_MS / 1000, max_output);
}

static int parse_seconds_option(const char *name, const char *value, int64_t *ret, char **ret_error) {
        int r = fh_parse_seconds(value, ret);

        if (r < 0)
                *ret_error = g_strdup_printf("invalid %s '%s': expected seconds, e.g. 30 or 0.5, at most 86400",
                                             name, value);
        return r;
}

static int parse_options(int argc, char **argv, struct fh_cli *cli, char **ret_error) {
        int c;

        /* getopt would print its own messages; we print ours, once. */
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":d:l:t:k:m:nhV", long_options, NULL)) != -1) {
                switch (c) {
                case 'd':
                        g_free(cli->hooks_dir);
                        cli->hooks_dir = g_strdup(optarg);
                        break;
                case 'l':
                        g_free(cli->log_file);
                        cli->log_file = *optarg ? g_strdup(optarg) : NULL;
                        break;
                case 't':
                        if (parse_seconds_option("timeout", optarg, &cli->timeout_msec, ret_error) < 0)
                                return -EINVAL;
                        break;
                case 'k':
                        if (parse_seconds_option("kill grace", optarg, &cli->kill_grace_msec, ret_error) < 0)
                                return -EINVAL;
                        break;
                case 'm':
                        if (fh_parse_size(optarg, &cli->max_output) < 0) {
                                *ret_error = g_strdup_printf("invalid max output '%s': expected bytes, e.g. 4194304, "
                                                             "512K or 4M, at most 1024G", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_NO_JOURNAL:
                        cli->journal = false;
                        break;
                case OPT_NO_STRICT_MODES:
                        cli->strict_modes = false;
                        break;
                case 'n':
                        cli->action = FH_ACTION_DRY_RUN;
                        break;
                case 'h':
                        cli->action = FH_ACTION_HELP;
                        return 0;
                case 'V':
                        cli->action = FH_ACTION_VERSION;
                        return 0;
                case ':':
                        *ret_error = g_strdup_printf("option '%s' requires an argument", argv[optind - 1]);
                        return -EINVAL;
                default:
                        *ret_error = g_strdup_printf("unrecognized option '%s'", argv[optind - 1]);
                        return -EINVAL;
                }
        }
        return 0;
}

int fh_cli_parse(int argc, char **argv, struct fh_cli *ret, char **ret_error) {
        struct fh_cli cli = {
                .action = FH_ACTION_RUN,
                .phase = FH_PHASE_FREEZE,
                .log_file = g_strdup(DEFAULT_LOG_FILE),
                .timeout_msec = DEFAULT_TIMEOUT_MS,
                .kill_grace_msec = DEFAULT_KILL_GRACE_MS,
                .max_output = DEFAULT_MAX_OUTPUT,
                .journal = true,
                .strict_modes = true,
        };
        int r;

        r = parse_options(argc, argv, &cli, ret_error);
        if (r < 0)
                goto fail;
        if (cli.action == FH_ACTION_HELP || cli.action == FH_ACTION_VERSION) {
                *ret = cli;
                return 0;
        }
        if (optind >= argc) {
                *ret_error = g_strdup("missing phase: freeze or thaw");
                r = -EINVAL;
                goto fail;
        }
        if (optind + 1 < argc) {
                *ret_error = g_strdup_printf("unexpected argument '%s'", argv[optind + 1]);
                r = -EINVAL;
                goto fail;
        }
        r = fh_phase_from_string(argv[optind]);
        if (r < 0) {
                *ret_error = g_strdup_printf("unknown phase '%s': expected freeze or thaw", argv[optind]);
                goto fail;
        }
        cli.phase = r;
        if (!cli.hooks_dir)
                cli.hooks_dir = fh_default_hooks_dir(argv[0]);
        *ret = cli;
        return 0;

fail:
        fh_cli_done(&cli);
        return -EINVAL;
}

void fh_cli_done(struct fh_cli *cli) {
        g_clear_pointer(&cli->hooks_dir, g_free);
        g_clear_pointer(&cli->log_file, g_free);
}
