#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The freeze deadline where it matters: a Debian 12 guest under systemd
(booted as vm_test.py boots it, our .deb installed with dpkg), its own
filesystems frozen from the host through the real agent, and no thaw.

- The deadline is a transient systemd timer: after the (shortened)
  deadline the guest's filesystems thaw by themselves (the image's ext4
  superblock shows it from the host), the MariaDB hook's thaw runs, so a
  database write that waited completes before the host ever thaws;
  journalctl and --status --json say so; the host's late thaw returns and
  runs no hook a second time; the timer and its service are gone.
- The same after `systemctl kill -s KILL qemu-guest-agent` while frozen:
  systemd restarts the agent, which believes the guest frozen, and the
  deadline, outside the agent's cgroup, still thaws it.
- A normal freeze and thaw leaves no timer behind.

usage: deadline_test.py SOURCE_DIR
"""

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_test  # noqa: E402
from vm_test import Fail, Skip, check, log  # noqa: E402

DEADLINE = 40           # seconds: a freeze with MariaDB takes ~10 s under TCG
KILL_AFTER = 8          # seconds after the last freeze hook: after FIFREEZE, before DEADLINE

# Every 20 s, what the guest is doing, to its serial console (a file on the
# host): while qemu-ga believes the guest frozen nothing else can be asked.
DIAGNOSTICS = ("while :; do sleep 20; { date; ps -eo pid,ppid,stat,etime,wchan:20,cmd; "
               "systemctl list-units --all --plain --no-legend 'fsfreeze*' 'qemu*'; "
               "cat /run/fsfreeze-hook/deadline; journalctl -n 30 --no-pager; } > /dev/ttyS0 2>&1; done")


def guest_sh(agent, script, timeout=60, check_code=True):
    return agent.exec(["/bin/sh", "-c", script], timeout=timeout, check=check_code)[1]


def deadline_units(agent):
    return guest_sh(agent, "systemctl list-units --all --plain --no-legend 'fsfreeze-hook-deadline-*' "
                           "| awk '{print $1}'").split()


def await_thawed_by_itself(disk, within):
    """The superblock shows the journal in use again: something wrote, so
    the filesystem was thawed, without any thaw from us."""
    deadline = time.time() + within
    while time.time() < deadline:
        if not vm_test.superblock_frozen(disk):
            return
        time.sleep(0.5)
    raise Fail(f"the guest is still frozen {within} s later: the deadline did not thaw it")


def set_deadline(agent, seconds):
    conf = agent.read_file("/etc/qemu-ga/fsfreeze-hook.conf")
    conf = re.sub(r"(?m)^freeze-deadline=.*\n", "", conf)
    check("[fsfreeze-hook]\n" in conf, f"no [fsfreeze-hook] group in the configuration: {conf}")
    conf = conf.replace("[fsfreeze-hook]\n", f"[fsfreeze-hook]\nfreeze-deadline={seconds}\n", 1)
    agent.write_file("/etc/qemu-ga/fsfreeze-hook.conf", conf.encode(), "0644")


def start_writer(agent, name):
    """Inserts a row every 0.1 s, noting on /run (never frozen) when each
    insert completed. In a unit of its own: `systemctl kill` of qemu-ga
    kills everything in its cgroup, a guest-exec'd command included."""
    agent.write_file("/root/writer", b"#!/bin/sh\ni=0\n"
                     b"while [ $i -lt 3000 ] && [ ! -e /run/writer-stop ]; do\n"
                     b"  i=$((i + 1))\n  mariadb -e \"INSERT INTO t.x VALUES ($i)\" || exit 1\n"
                     b"  echo \"$i $(date +%s.%N)\" >> /run/" + name.encode() + b"\n  sleep 0.1\ndone\n", "0755")
    agent.exec(["/bin/rm", "-f", "/run/writer-stop", f"/run/{name}"])
    agent.exec(["/usr/bin/systemd-run", f"--unit={name}", "/root/writer"])
    guest_sh(agent, f"for i in $(seq 1 600); do [ -s /run/{name} ] && exit 0; sleep 0.1; done; exit 1", timeout=90)
    return name


def stop_writer(agent, unit):
    agent.exec(["/usr/bin/touch", "/run/writer-stop"])
    guest_sh(agent, f"for i in $(seq 1 300); do systemctl is-active -q {unit} || exit 0; sleep 0.1; done; exit 1",
             timeout=60)


def status_json(agent):
    return json.loads(guest_sh(agent, "/usr/sbin/fsfreeze-hook --status --json"))


def deadline_record(agent):
    text = guest_sh(agent, "cat /run/fsfreeze-hook/deadline")
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


def freeze(agent, disk):
    frozen = agent.freeze_guest()
    check(isinstance(frozen, int) and frozen >= 1, f"freeze returned {frozen}")
    check(agent.call("guest-fsfreeze-status") == "frozen", "status is not frozen")
    check(vm_test.superblock_frozen(disk), "the image's superblock does not show a frozen ext4")


def late_thaw(agent):
    thawed = agent.call("guest-fsfreeze-thaw", timeout=120)
    check(thawed == 0, f"the late thaw thawed {thawed} filesystems: the deadline had not")
    check(agent.call("guest-fsfreeze-status") == "thawed", "status is not thawed after the late thaw")


def check_fired(agent, writes_log, hook_log_before):
    """What the guest says after the deadline fired and the host's late
    thaw came. Times are the guest's own."""
    rec = deadline_record(agent)
    check(rec.get("mechanism") == "systemd", f"the deadline was not a systemd timer: {rec}")
    check(rec.get("fired") == "true" and int(rec.get("thawed", "0")) >= 1, f"deadline record: {rec}")
    fired_at = int(rec["fired-usec"]) / 1e6
    froze_at = [float(l.split()[2]) for l in agent.read_file("/run/record").splitlines()
                if l.startswith("50-record freeze ")][-1]
    done = [float(l.split()[1]) for l in agent.read_file(f"/run/{writes_log}").splitlines()]
    # The write that blocked at the freeze completed after the deadline
    # fired, none in between; the host's late thaw thawed nothing (0) and
    # ran no hook, so it was not what released it.
    check(not [t for t in done if froze_at < t < fired_at], "a database write completed while frozen")
    check(any(t > fired_at for t in done), "no database write completed after the deadline fired")
    st = status_json(agent)
    # What the host reads through the agent (guest-file-open/read/close).
    check(json.loads(agent.read_file("/run/fsfreeze-hook/status.json")) == st, "status.json is not --status --json")
    check(st["deadline"]["fired"] is True and st["deadline"]["mechanism"] == "systemd"
          and st["deadline"]["late_thaw"] is not None and st["awaiting_thaw"] is False, f"--status --json: {st}")
    hook_log = agent.read_file("/var/log/qga-fsfreeze-hook.log")[len(hook_log_before):]
    print(hook_log, end="")
    executes = re.findall(r"execute /etc/qemu/fsfreeze-hook\.d/(\S+) (freeze|thaw)", hook_log)
    executes = [e for e in executes if e[0] != "90-kill-qga"]
    check(executes == [("10-mysql-flush-lock", "freeze"), ("50-record", "freeze"),
                       ("50-record", "thaw"), ("10-mysql-flush-lock", "thaw")], f"hooks ran: {executes}")
    check(re.search(r"the guest was frozen for \d+ s and no thaw came: thawed \d+ filesystems and released the "
                    r"hooks", hook_log), "the log does not say why the guest was thawed")
    check("nothing is released twice" in hook_log, "the late thaw does not say the deadline already thawed")
    _, journal, _ = agent.exec(["/usr/bin/journalctl", "-t", "fsfreeze-hook", "-o", "json", "--no-pager",
                                "FSFREEZE_EVENT=deadline", "PRIORITY=3"])
    fired = [json.loads(l) for l in journal.splitlines() if l.strip()]
    check(any("no thaw came" in e.get("MESSAGE", "") for e in fired), f"journal: {fired}")
    # The timer elapsed and its service ran: both go away by themselves.
    deadline = time.time() + 60
    while deadline_units(agent) and time.time() < deadline:
        time.sleep(1)
    check(not deadline_units(agent), f"deadline units left: {deadline_units(agent)}")
    return hook_log


def test(source, cache):
    work = tempfile.mkdtemp(prefix="fsfreeze-vm-deadline.")
    pidfile = build = None
    try:
        image, kernel, initrd = vm_test.build_image(cache)
        t0 = time.time()
        disk, agent, pidfile = vm_test.boot(work, image, kernel, initrd)
        build = vm_test.start_deb_build(source, work)
        agent.wait_ready(vm_test.BOOT_TIMEOUT)
        deb = vm_test.finish_deb_build(build, work)
        agent.write_file("/root/fsfreeze-hook.deb", open(deb, "rb").read())
        vm_test.dpkg_through_agent(agent, ["/usr/bin/dpkg", "-i", "/root/fsfreeze-hook.deb"], "install ok installed",
                                   True)
        agent.write_file("/etc/qemu/fsfreeze-hook.d/10-mysql-flush-lock",
                         open(f"{source}/hooks.d-examples/10-mysql-flush-lock", "rb").read(), "0755")
        agent.write_file("/etc/qemu/fsfreeze-hook.d/50-record",
                         b"#!/bin/sh\necho \"50-record $1 $(date +%s.%N)\" >> /run/record\n", "0755")
        guest_sh(agent, "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && exit 0; sleep 1; done; "
                        "exit 1", timeout=150)
        agent.exec(["/usr/bin/mariadb", "-e", "CREATE DATABASE IF NOT EXISTS t; "
                    "CREATE TABLE IF NOT EXISTS t.x (i INT) ENGINE=InnoDB"])
        set_deadline(agent, DEADLINE)

        log("a normal freeze and thaw: the deadline is disarmed, no timer is left")
        freeze(agent, disk)
        check(agent.call("guest-fsfreeze-thaw", timeout=120) >= 1, "the thaw thawed nothing")
        check(not deadline_units(agent), f"a deadline timer is left after the thaw: {deadline_units(agent)}")
        st = json.loads(agent.read_file("/run/fsfreeze-hook/status.json"))
        check(st["version"] == 1 and st["awaiting_thaw"] is False, f"status.json: {st}")
        check([h["name"] for h in st["thaw"]["hooks"]] == ["50-record", "10-mysql-flush-lock"]
              and all(h["status"] == 0 for h in st["freeze"]["hooks"] + st["thaw"]["hooks"]), f"status.json: {st}")
        check(st["deadline"]["armed"] is False and st["deadline"]["fired"] is False, f"status.json: {st}")

        log(f"freeze, and no thaw: the deadline of {DEADLINE} s thaws the guest")
        hook_log = agent.read_file("/var/log/qga-fsfreeze-hook.log")
        writer = start_writer(agent, "writes-1")
        t1 = time.time()
        freeze(agent, disk)
        await_thawed_by_itself(disk, DEADLINE + 120)
        log(f"thawed by itself {time.time() - t1:.0f} s after the freeze")
        late_thaw(agent)
        stop_writer(agent, writer)
        hook_log += check_fired(agent, "writes-1", hook_log)

        log("freeze, then qemu-ga killed with SIGKILL while frozen: the deadline still thaws")
        old_pid = guest_sh(agent, "systemctl show -p MainPID --value qemu-guest-agent").strip()
        writer = start_writer(agent, "writes-2")
        guest_sh(agent, f"systemd-run --unit=diagnostics /bin/sh -c \"{DIAGNOSTICS}\"")
        # The last freeze hook schedules the kill: it comes after FIFREEZE
        # however long the hooks took, from outside qemu-ga's cgroup.
        agent.write_file("/etc/qemu/fsfreeze-hook.d/90-kill-qga",
                         f"#!/bin/sh\n[ \"$1\" = freeze ] || exit 0\n"
                         f"systemd-run --unit=kill-qga --on-active={KILL_AFTER} /bin/sh -c "
                         f"'date +%s.%N > /run/qga-killed-at; systemctl kill -s KILL qemu-guest-agent'\n".encode(),
                         "0755")
        t1 = time.time()
        freeze(agent, disk)
        await_thawed_by_itself(disk, DEADLINE + 120)
        log(f"thawed by itself {time.time() - t1:.0f} s after the freeze")
        agent.wait_ready(120)
        check(agent.call("guest-fsfreeze-status") == "frozen", "the restarted agent does not believe it frozen")
        late_thaw(agent)
        stop_writer(agent, writer)
        agent.exec(["/bin/rm", "-f", "/etc/qemu/fsfreeze-hook.d/90-kill-qga"])
        new_pid = guest_sh(agent, "systemctl show -p MainPID --value qemu-guest-agent").strip()
        check(new_pid != old_pid, f"qemu-ga was not killed (MainPID {old_pid} -> {new_pid})")
        killed_at = float(agent.read_file("/run/qga-killed-at").strip())
        rec = deadline_record(agent)
        check(killed_at < int(rec["fired-usec"]) / 1e6, "qemu-ga was killed after the deadline, not while frozen")
        check_fired(agent, "writes-2", hook_log)
        log(f"PASS in {time.time() - t0:.0f} s from boot")
        try:
            agent.exec(["/usr/bin/systemctl", "poweroff", "--no-block"], timeout=10)
        except (OSError, Fail):
            pass
        vm_test.wait_qemu_exit(pidfile, 30)
    except BaseException:
        # What the guest said on its console: the diagnostics above.
        try:
            print(open(f"{work}/console.log", errors="replace").read()[-20000:])
        except OSError:
            pass
        raise
    finally:
        if build and build.poll() is None:
            build.kill()
        vm_test.kill_qemu(pidfile)
        shutil.rmtree(work, ignore_errors=True)


def main():
    source = os.path.abspath(sys.argv[1])
    cache = os.environ.get("FSFREEZE_VM_CACHE", "/var/cache/fsfreeze-hook-vm")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if os.geteuid() != 0:
            raise Skip("needs root (debootstrap, dpkg-buildpackage)")
        for tool in ["qemu-system-x86_64", "dpkg-buildpackage", "dumpe2fs"]:
            if not shutil.which(tool):
                raise Skip(f"{tool} is not installed (apt-get install qemu-system-x86 dpkg-dev e2fsprogs)")
        test(source, cache)
        print("PASS")
        return 0
    except Skip as e:
        print(f"SKIP: {e}")
        return vm_test.SKIP
    except Fail as e:
        print(f"FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
