/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* The freeze deadline: armed by a freeze before its first hook, disarmed
 * by the thaw (or an abort); if no thaw comes in time it runs the thaw
 * hooks, through `fsfreeze-hook --deadline-fire=ID`, after thawing every
 * filesystem if qemu-ga (or a shell) ran the freeze: another platform's
 * agent freezes the filesystems itself and owns their thaw, or freezes
 * none (Google's). It is kept in STATE_DIR/deadline (under /run: a
 * reboot forgets it, as it forgets the timer). Where systemd runs, the
 * timer is a transient .timer and .service started over D-Bus, outside
 * qemu-ga's cgroup; elsewhere a detached process of our own sleeps until
 * the deadline. Either way nothing of the dispatcher's is held: qemu-ga
 * 9.1+ reads the hook's output pipe to its end. */

/* 15 minutes: see "FREEZE DEADLINE" in fsfreeze-hook(8) for why. */
#define FH_DEFAULT_FREEZE_DEADLINE_MSEC (900 * 1000)

enum fh_deadline_mechanism {
        FH_DEADLINE_SYSTEMD,    /* a transient timer unit */
        FH_DEADLINE_PROCESS,    /* a detached process of our own */
};

struct fh_deadline {
        char *id;               /* 16 hex digits, in the unit name or the process's command line */
        int64_t msec;           /* the deadline, from arming */
        int64_t armed_usec;     /* wall clock */
        int64_t expires_usec;   /* wall clock, for people: the timer runs on the boot clock */
        enum fh_deadline_mechanism mechanism;
        char *unit;             /* systemd: the timer unit */
        pid_t pid;              /* process: the sleeper */
        bool fired;
        int64_t fired_usec;     /* wall clock, 0: not fired */
        int thawed;             /* filesystems the deadline thawed, -1: none yet */
        int64_t late_thaw_usec; /* the thaw that came after the deadline fired, 0: none yet */
        char *boot_id;
        int caller;             /* who ran the freeze that armed it: enum fh_platform, -1: qemu-ga or a
                                 * shell (also a record of a version that did not keep it) */
};

/* Armed by 'caller' (enum fh_platform, -1: qemu-ga or a shell). */
struct fh_deadline *fh_deadline_new(int64_t msec, int caller);
void fh_deadline_free(struct fh_deadline *d);
typedef struct fh_deadline fh_deadline;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fh_deadline, fh_deadline_free)

/* Whether the fire of 'd' thaws the filesystems: only for qemu-ga (or a
 * shell), which froze them after our freeze returned and may be gone.
 * VMware's vmtoolsd and Azure's VM backup freeze them themselves and thaw
 * them on their own terms (vmtoolsd's quiesce timer may be longer than
 * ours: a thaw from us would land in its snapshot); Google's agent
 * freezes none; what Nutanix's does is not documented, and not ours. */
bool fh_deadline_thaws(const struct fh_deadline *d);

/* Whether 's' is an ID as fh_deadline_new() makes them. */
bool fh_deadline_id_valid(const char *s);

/* STATE_DIR/deadline. Read: -ENOENT (none), -ESTALE (an earlier boot's),
 * -EBADMSG. Write: atomically. Both return 0 or -errno. */
int fh_deadline_read(const char *dir, struct fh_deadline **ret);
int fh_deadline_write(const char *dir, const struct fh_deadline *d);
int fh_deadline_remove(const char *dir);

/* Starts the timer for 'd', which fires `rerun_argv[0] --deadline-fire=ID
 * rerun_argv[1..]` (the freeze's own command line without its phase, so
 * that the fire reads the same configuration), and records how in 'd'.
 * The fire runs from our working directory if 'keep_cwd', else from /.
 * Uses systemd where it runs; if that fails, a process, and *ret_why says
 * why systemd was not used (g_free). Returns 0 or -errno. */
int fh_deadline_start(struct fh_deadline *d, char *const *rerun_argv, bool keep_cwd, char **ret_why);

/* 'argv' as systemd's ExecStart= must be given it to run exactly it
 * (g_strfreev). */
char **fh_deadline_exec_argv(char *const *argv);

/* Stops the timer of 'd', if it has not fired: the timer unit, or the
 * sleeping process if it is still ours. Returns 0 (also when it is gone
 * already) or -errno. */
int fh_deadline_stop(const struct fh_deadline *d);

/* Whether the timer of 'd', not fired, still runs: 1; 0 if it is gone
 * (the process killed, the units stopped by hand): it will not fire;
 * -errno if that cannot be told (no access to systemd). */
int fh_deadline_timer_alive(const struct fh_deadline *d);

/* The sleeper: waits until the boot clock reaches 'boottime_usec'. */
void fh_deadline_sleep_until(int64_t boottime_usec);

/* The fire, before anything is logged or written outside STATE_DIR: takes
 * the state lock (waiting for a dispatcher that holds it), checks that the
 * deadline 'id' is still armed (not disarmed by a thaw, not replaced by a
 * later freeze, not fired), thaws every filesystem if fh_deadline_thaws()
 * (else 'thawed' stays -1: none attempted) and records that it fired. Returns the lock's descriptor, which the caller holds until the
 * thaw hooks have run, and the record in *ret; -ESRCH if there is
 * nothing to do, or another -errno. */
int fh_deadline_claim(const char *dir, const char *id, struct fh_deadline **ret);
