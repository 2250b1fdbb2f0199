/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the tests: temporary hook directories with real
 * files, and running the real fsfreeze-hook binary. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* cmocka's exit code for a skipped test program, as meson understands it. */
#define TEST_SKIP 77

/* A fresh directory under $TMPDIR (or /tmp); removed with everything in
 * it by tl_rmtree(). */
char *tl_mkdtemp(void);
void tl_rmtree(const char *path);

/* Writes 'content' to dir/name with 'mode' (exact, not umask'ed). Returns
 * the path (g_free). */
char *tl_write_file(const char *dir, const char *name, const char *content, mode_t mode);

/* Writes a #!/bin/sh hook whose body is 'body'. */
char *tl_write_hook(const char *dir, const char *name, const char *body);

/* Contents of a file, or NULL (g_free). */
char *tl_read_file(const char *path);

/* Number of lines of 'text' containing 'needle'. */
unsigned tl_count_lines_with(const char *text, const char *needle);

/* Index of the first line containing 'needle', -1 if none. */
int tl_line_index(const char *text, const char *needle);

/* The built binary under test (FSFREEZE_HOOK_BIN, set by meson). */
const char *tl_binary(void);

struct tl_run {
        int status;             /* exit status; 128+N if killed by signal N */
        char *out;              /* stdout */
        char *err;              /* stderr */
        long maxrss_kib;        /* the process's peak resident set size */
};
void tl_run_clear(struct tl_run *r);

/* Runs 'argv' (argv[0] is the program) with 'envp' (NULL: inherit),
 * capturing stdout and stderr separately; fails the test if it does not
 * finish within 'deadline_ms' (a hang detector, not a performance check).
 * When argv[0] is the binary under test and FSFREEZE_HOOK_WRAPPER is set
 * (e.g. to "valgrind --error-exitcode=99 ..."), it runs under that. */
void tl_run(char **argv, char **envp, int deadline_ms, struct tl_run *ret);

/* Like tl_run(), with a hook run in between: 'before_exec' is called in the
 * child just before exec (to set an rlimit, say). */
void tl_run_with(char **argv, char **envp, int deadline_ms, void (*before_exec)(void), struct tl_run *ret);

/* Runs the dispatcher: tl_binary() with the given arguments (a NULL-terminated list). */
void tl_run_hook(struct tl_run *ret, ...) G_GNUC_NULL_TERMINATED;

/* Waits until process 'pid' has exited (it need not be our child), for
 * at most 'deadline_ms'. Returns true if it did. */
bool tl_await_exit(pid_t pid, int deadline_ms);

/* Whether 'pid' is alive and not a zombie. */
bool tl_alive(pid_t pid);

/* Reads a decimal pid written by a hook into 'path'; 0 if missing. */
pid_t tl_read_pid(const char *path);

/* Waits (inotify on its directory, bounded) until 'path' exists. */
bool tl_await_file(const char *path, int deadline_ms);

/* Waits (polling, bounded) until the file 'path' has 'needle' in it.
 * Returns true if it did. */
bool tl_await_text(const char *path, const char *needle, int deadline_ms);

/* Writes top/conf: [fsfreeze-hook] with hook-dirs=HOOK_DIRS, log-file=LOG,
 * state-dir=STATE and journal=false, then the lines 'extra' (NULL: none).
 * Returns its path (g_free). */
char *tl_write_conf(const char *top, const char *hook_dirs, const char *log, const char *state,
                    const char *extra);

/* Runs the dispatcher with --config=CONF and the arguments in 'ap' (a
 * NULL-terminated list of strings); a hang detector as tl_fx_run(). */
void tl_run_config(const char *conf, struct tl_run *ret, va_list ap);

/* The fixture of the process tests: a temporary directory 'top' with an
 * empty hook directory, and hermetic --config/--state-dir options so that
 * no test reads the machine's configuration or pairing state. */
struct tl_fx {
        char *top;
        char *hooks;            /* top/fsfreeze-hook.d */
        char *log;              /* top/log */
        char *out;              /* top/out: what recording hooks append to */
        char *conf;             /* top/conf: absent unless a test writes it */
        char *state;            /* top/state */
        char *conf_opt, *state_opt;
};

/* Stops every freeze deadline process (--deadline-fire=) whose command
 * line mentions 'dir', a test's own temporary directory, and waits for
 * them to exit: no test leaves one sleeping, also where an attack or a
 * kill left no record of it. */
void tl_disarm_deadline(const char *dir);

/* cmocka group/test setup and teardown for a struct tl_fx in *state. */
int tl_fx_setup(void **state);
int tl_fx_teardown(void **state);

/* A hook 'name' that appends "NAME PHASE" to f->out. */
void tl_fx_recording_hook(struct tl_fx *f, const char *name);

/* Runs the dispatcher on f->hooks without the journal, logging to 'log'
 * (NULL: f->log), with the extra options that follow 'phase' (a
 * NULL-terminated list) placed before it. */
void tl_fx_run(struct tl_fx *f, struct tl_run *r, const char *log, const char *phase, ...) G_GNUC_NULL_TERMINATED;

/* The log file's contents; fails the test if there is none (g_free). */
char *tl_fx_read_log(struct tl_fx *f);
