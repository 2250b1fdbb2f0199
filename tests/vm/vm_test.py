#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The dispatcher as users deploy it: a Debian 12 VM booted under software
emulation, systemd's qemu-ga reached over virtio-serial, our .deb installed
through the agent alone (a plain guest-exec of dpkg -i, as an operator
without a shell in the guest would), the MySQL/MariaDB example hook in
front of a real MariaDB.

From the host, over the agent's socket: the package makes qemu-ga run our
hook; guest-fsfreeze-freeze (the guest's own filesystems) makes a database
write in the guest wait, and the image's ext4 superblock shows the freeze;
guest-fsfreeze-thaw lets the write complete; the hook log and the journal,
read back through the agent, have the hooks in order with their
timestamps and statuses. A hook that hangs is killed by its timeout and
the freeze still succeeds. Upgrading, reinstalling and purging through
guest-exec each return dpkg's exit status and leave the package configured
(or gone) and qemu-ga restarted by itself, with our -F (or, after purge, as
Debian shipped it). Then host/fsfreeze-hook-deploy, over the same socket,
installs the package and a hook, and reports a hook that fails --check.

The guest image (debootstrap minbase with systemd, udev, qemu-guest-agent,
the kernel and MariaDB) is built once and cached, keyed by its recipe; each
run boots a sparse copy. Needs root, debootstrap, qemu-system-x86, e2fsprogs
and a Debian mirror; skips with a message otherwise.

usage: vm_test.py SOURCE_DIR
"""

import base64
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77

# What goes into the guest image. Changing any of it changes the cache key.
SUITE = "bookworm"
INCLUDE = ["systemd-sysv", "udev", "qemu-guest-agent", "linux-image-amd64", "mariadb-server",
           "mariadb-client", "e2fsprogs"]
INITRAMFS_MODULES = ["virtio_pci", "virtio_blk", "ext4"]
IMAGE_SIZE = "2G"
RECIPE_VERSION = 1

BOOT_TIMEOUT = 180      # until qemu-ga answers


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# --- the guest image ---------------------------------------------------------

def mirror():
    """The Debian mirror this machine's apt uses (CI machines may have their own)."""
    for path in ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+" + SUITE, text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def recipe_key():
    recipe = json.dumps([RECIPE_VERSION, SUITE, INCLUDE, INITRAMFS_MODULES, IMAGE_SIZE])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def configure_root(root):
    """What a freshly installed VM would have, minus what slows a TCG boot."""
    with open(f"{root}/etc/fstab", "w") as f:
        f.write("/dev/vda / ext4 defaults,errors=remount-ro 0 1\n")
    with open(f"{root}/etc/hostname", "w") as f:
        f.write("fsfreeze-vm\n")
    # No login prompt on the serial console: nobody logs in.
    os.makedirs(f"{root}/etc/systemd/system", exist_ok=True)
    for unit in ["serial-getty@ttyS0.service", "getty@tty1.service", "systemd-timesyncd.service",
                 "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer"]:
        link = f"{root}/etc/systemd/system/{unit}"
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)


def build_image(cache):
    """debootstrap, then mkfs.ext4 -d: no mount, no loop device."""
    key = recipe_key()
    image = f"{cache}/guest-{key}.img"
    kernel, initrd = f"{cache}/guest-{key}.vmlinuz", f"{cache}/guest-{key}.initrd"
    if all(os.path.exists(p) for p in (image, kernel, initrd)):
        log(f"guest image from the cache ({image})")
        return image, kernel, initrd

    for tool in ["debootstrap", "mkfs.ext4"]:
        if not shutil.which(tool):
            raise Skip(f"{tool} is not installed (apt-get install debootstrap e2fsprogs)")
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fsfreeze-vm-root.", dir=cache)
    root = f"{work}/root"
    try:
        t0 = time.time()
        log(f"debootstrap {SUITE} from {mirror()} (once; cached after)")
        try:
            run(["debootstrap", "--variant=minbase", "--foreign", f"--include={','.join(INCLUDE)}",
                 SUITE, root, mirror()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except subprocess.CalledProcessError as e:
            raise Skip(f"debootstrap cannot fetch {SUITE} from {mirror()}: {e.stderr.decode()[-300:]}")
        # Speed: dpkg without fsync, and an initramfs with only what this VM needs.
        os.makedirs(f"{root}/etc/dpkg/dpkg.cfg.d", exist_ok=True)
        with open(f"{root}/etc/dpkg/dpkg.cfg.d/unsafe-io", "w") as f:
            f.write("force-unsafe-io\n")
        os.makedirs(f"{root}/etc/initramfs-tools/conf.d", exist_ok=True)
        with open(f"{root}/etc/initramfs-tools/conf.d/fsfreeze-vm", "w") as f:
            f.write("MODULES=list\nCOMPRESS=gzip\n")
        with open(f"{root}/etc/initramfs-tools/modules", "a") as f:
            f.write("\n".join(INITRAMFS_MODULES) + "\n")
        run(["chroot", root, "/debootstrap/debootstrap", "--second-stage"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.remove(f"{root}/etc/dpkg/dpkg.cfg.d/unsafe-io")
        configure_root(root)
        vmlinuz = sorted(f for f in os.listdir(f"{root}/boot") if f.startswith("vmlinuz-"))[-1]
        initrd_name = "initrd.img-" + vmlinuz[len("vmlinuz-"):]
        shutil.copy(f"{root}/boot/{vmlinuz}", kernel + ".tmp")
        shutil.copy(f"{root}/boot/{initrd_name}", initrd + ".tmp")
        log(f"root built in {time.time() - t0:.0f} s; making the image")
        run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, image + ".tmp", IMAGE_SIZE],
            stdout=subprocess.DEVNULL)
        for p in (image, kernel, initrd):
            os.rename(p + ".tmp", p)
        log(f"guest image ready in {time.time() - t0:.0f} s")
        return image, kernel, initrd
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the agent, over virtio-serial ---------------------------------------------

class Agent:
    """One request at a time over the VM's qemu-ga socket. A virtio-serial
    channel keeps stale bytes between connections: every exchange starts
    with 0xFF and guest-sync-delimited with a fresh id, and reads until that
    id comes back."""

    def __init__(self, path, pidfile):
        self.path = path
        self.pidfile = pidfile

    def freeze_guest(self, timeout=120):
        """A bare guest-fsfreeze-freeze freezes every filesystem of whatever
        runs the agent behind the socket: send it only when that socket is
        the virtio-serial chardev of our own qemu, so that the agent is the
        guest's and the filesystems are the guest's."""
        pid = qemu_pid(self.pidfile)
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if pid else []
        except OSError:
            cmdline = []
        chardev = f"socket,path={self.path},server=on,wait=off,id=qga0".encode()
        if not cmdline or not cmdline[0].endswith(b"qemu-system-x86_64") or chardev not in cmdline:
            raise Fail(f"refusing guest-fsfreeze-freeze: {self.path} is not our guest's agent socket")
        return self.call("guest-fsfreeze-freeze", timeout=timeout)

    def call(self, command, arguments=None, timeout=60):
        deadline = time.time() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.path)
            sync_id = random.randrange(1, 2**31)
            s.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited",
                                            "arguments": {"id": sync_id}}).encode() + b"\n")
            buf = b""
            while True:
                reply, buf = self._read_json(s, buf, deadline)
                if reply.get("return") == sync_id:
                    break
            request = {"execute": command}
            if arguments is not None:
                request["arguments"] = arguments
            s.sendall(json.dumps(request).encode() + b"\n")
            reply, _ = self._read_json(s, buf, deadline)
        if "error" in reply:
            raise Fail(f"{command}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")

    @staticmethod
    def _read_json(s, buf, deadline):
        while True:
            # Skip the 0xFF the agent sends before a delimited reply.
            buf = buf.lstrip(b"\xff")
            if b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.strip(b"\xff \r")
                if line:
                    try:
                        return json.loads(line), buf
                    except ValueError:
                        continue        # stale bytes from an earlier connection
                continue
            if time.time() > deadline:
                raise Fail("no reply from qemu-ga in time")
            chunk = s.recv(65536)
            if not chunk:
                raise Fail("qemu-ga closed the connection")
            buf += chunk

    def wait_ready(self, timeout):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                self.call("guest-ping", timeout=5)
                return
            except (OSError, Fail) as e:
                last = e
                time.sleep(0.5)
        raise Fail(f"qemu-ga did not answer within {timeout} s: {last}")

    def exec(self, argv, timeout=60, check=True):
        """Runs a command in the guest; returns (exit code, stdout, stderr)."""
        pid = self.call("guest-exec", {"path": argv[0], "arg": argv[1:], "capture-output": True})["pid"]
        deadline = time.time() + timeout
        while True:
            st = self.call("guest-exec-status", {"pid": pid})
            if st.get("exited"):
                break
            if time.time() > deadline:
                raise Fail(f"{argv} still runs after {timeout} s")
            time.sleep(0.2)
        out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
        err = base64.b64decode(st.get("err-data", "")).decode(errors="replace")
        code = st.get("exitcode", 128 + st.get("signal", 0))
        if check and code != 0:
            raise Fail(f"{argv} exited {code}: {out}{err}")
        return code, out, err

    def spawn(self, argv):
        """Starts a command in the guest and returns its pid, not waiting."""
        return self.call("guest-exec", {"path": argv[0], "arg": argv[1:], "capture-output": True})["pid"]

    def status(self, pid):
        return self.call("guest-exec-status", {"pid": pid})

    def write_file(self, path, data, mode="0644"):
        handle = self.call("guest-file-open", {"path": path, "mode": "w"})
        for i in range(0, len(data), 32768):
            self.call("guest-file-write", {"handle": handle,
                                           "buf-b64": base64.b64encode(data[i:i + 32768]).decode()})
        self.call("guest-file-close", {"handle": handle})
        self.exec(["/bin/chmod", mode, path])

    def read_file(self, path):
        handle = self.call("guest-file-open", {"path": path, "mode": "r"})
        data = b""
        while True:
            r = self.call("guest-file-read", {"handle": handle, "count": 65536})
            data += base64.b64decode(r["buf-b64"])
            if r.get("eof") or r["count"] == 0:
                break
        self.call("guest-file-close", {"handle": handle})
        return data.decode(errors="replace")


# --- the test ------------------------------------------------------------------------

def start_deb_build(source, work):
    """dpkg-buildpackage in the background: it runs while the guest boots."""
    log("building the .deb from the tree under test, while the guest boots")
    src = f"{work}/src"
    # The tree's files as .ci/source-files lists them: git's in a work
    # tree, the unpacked files in a release tarball (no .git).
    listing = subprocess.run([f"{source}/.ci/source-files", source], capture_output=True, text=True)
    if listing.returncode != 0:
        raise Fail(f".ci/source-files {source}: {listing.stderr.strip()}")
    files = listing.stdout.split("\n")
    for f in filter(None, files):
        if os.path.isfile(f"{source}/{f}"):
            os.makedirs(os.path.dirname(f"{src}/{f}"), exist_ok=True)
            shutil.copy2(f"{source}/{f}", f"{src}/{f}")
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
    return subprocess.Popen(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_deb_build(build, work):
    try:
        out, _ = build.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        build.kill()
        raise Fail("dpkg-buildpackage did not finish in 600 s")
    if build.returncode != 0:
        raise Fail("dpkg-buildpackage: " + out[-3000:])
    return [f"{work}/{f}" for f in os.listdir(work) if re.match(r"fsfreeze-hook_.*_amd64\.deb$", f)][0]


def boot(work, image, kernel, initrd):
    disk = f"{work}/disk.img"
    run(["cp", "--sparse=always", image, disk])
    sock, pidfile = f"{work}/qga.sock", f"{work}/qemu.pid"
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "1024",
           "-kernel", kernel, "-initrd", initrd,
           "-append", "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0",
           "-drive", f"file={disk},format=raw,if=virtio,cache=unsafe",
           "-device", "virtio-serial",
           "-chardev", f"socket,path={sock},server=on,wait=off,id=qga0",
           "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
           "-nic", "none", "-display", "none", "-serial", f"file:{work}/console.log",
           "-pidfile", pidfile, "-daemonize"]
    run(cmd)
    return disk, Agent(sock, pidfile), pidfile


def superblock_frozen(disk):
    """While frozen, ext4 has written its journal out and cleared
    needs_recovery in the superblock: the host sees it in the image."""
    out = subprocess.run(["dumpe2fs", "-h", disk], capture_output=True, text=True).stdout
    features = re.search(r"^Filesystem features:\s*(.*)$", out, re.M).group(1)
    return "needs_recovery" not in features.split()


def qemu_ga_cmdline(agent):
    # No pidof or pgrep on a minbase guest.
    _, out, _ = agent.exec(["/bin/sh", "-c", "for d in /proc/[0-9]*; do "
                            "[ \"$(cat $d/comm 2>/dev/null)\" = qemu-ga ] && tr '\\0' ' ' < $d/cmdline && break; done"])
    return out.strip()


def qemu_ga_process(agent):
    """qemu-ga's pid and command line, read in the guest."""
    # No pidof or pgrep on a minbase guest.
    _, out, _ = agent.exec(["/bin/sh", "-c", "for d in /proc/[0-9]*; do "
                            "[ \"$(cat $d/comm 2>/dev/null)\" = qemu-ga ] && echo ${d#/proc/} && "
                            "tr '\\0' ' ' < $d/cmdline && break; done"])
    pid, _, cmdline = out.partition("\n")
    return pid.strip(), cmdline.strip()


def wait_agent_restart(agent, handle, timeout):
    """A file handle dies with the agent that opened it (the next agent
    does not reuse its number): polling it runs nothing in the guest, so it
    does not hold off the deferred restart it waits for."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            agent.call("guest-file-seek", {"handle": handle, "offset": 0, "whence": "set"}, timeout=10)
        except Fail as e:
            if str(e).startswith("guest-file-seek:"):
                agent.wait_ready(60)
                return
        except OSError:
            pass                # restarting right now
        time.sleep(0.5)
    raise Fail(f"qemu-ga did not restart within {timeout} s")


def dpkg_status(agent):
    code, out, _ = agent.exec(["/usr/bin/dpkg-query", "-W", "-f", "${Status} ${Version}", "fsfreeze-hook"],
                              check=False)
    return out.strip() if code == 0 else "unknown to dpkg"


def dpkg_through_agent(agent, argv, want_status, want_hook):
    """As an operator without a shell in the guest: a plain guest-exec of
    dpkg, its exit status collected with guest-exec-status, whatever the
    maintainer scripts do to qemu-ga meanwhile. Then the package's state, the
    agent's restart and its command line."""
    old_pid, _ = qemu_ga_process(agent)
    handle = agent.call("guest-file-open", {"path": "/proc/version", "mode": "r"})
    t0 = time.time()
    try:
        code, out, err = agent.exec(argv, timeout=300, check=False)
    except (OSError, Fail) as e:
        raise Fail(f"{' '.join(argv)} through guest-exec: no exit status ({e}); "
                   f"the package now: {dpkg_status(agent) if agent_alive(agent) else 'agent down'}")
    check(code == 0, f"{' '.join(argv)} through guest-exec exited {code}: {out}{err}")
    decided = [l for l in (out + err).splitlines() if l.startswith("fsfreeze-hook:")]
    log(f"{' '.join(argv)}: exit status 0 in {time.time() - t0:.0f} s; {' / '.join(decided)}")
    check(any("run by qemu-guest-agent" in l for l in decided), f"no deferred restart reported: {out}{err}")
    status = dpkg_status(agent)
    check(status.startswith(want_status), f"after {' '.join(argv)} dpkg says '{status}', not '{want_status}...'")
    t0 = time.time()
    wait_agent_restart(agent, handle, 120)
    pid, cmdline = qemu_ga_process(agent)
    log(f"qemu-ga restarted {time.time() - t0:.0f} s later (pid {old_pid} -> {pid}): {cmdline}")
    check(pid != old_pid, f"qemu-ga was not restarted (pid {pid})")
    check(("-F/usr/sbin/fsfreeze-hook" in cmdline) == want_hook, f"after {' '.join(argv)} qemu-ga runs: {cmdline}")
    return cmdline


def agent_alive(agent):
    try:
        agent.wait_ready(60)
        return True
    except Fail:
        return False


def repack_deb(deb, version, work):
    """The same package under a higher version: an upgrade for dpkg, with
    this tree's maintainer scripts on both sides."""
    tree = f"{work}/repack"
    run(["dpkg-deb", "-R", deb, tree])
    control = open(f"{tree}/DEBIAN/control").read()
    open(f"{tree}/DEBIAN/control", "w").write(re.sub(r"^Version: .*$", f"Version: {version}", control, flags=re.M))
    out = f"{work}/fsfreeze-hook_{version}_amd64.deb"
    run(["dpkg-deb", "--root-owner-group", "-b", tree, out], stdout=subprocess.DEVNULL)
    return out


def run_deploy(source, agent, *args):
    """The host-side helper, over the same socket as the test's agent."""
    p = subprocess.run([sys.executable, f"{source}/host/fsfreeze-hook-deploy", "--socket", agent.path,
                        "--timeout", "30", *args], capture_output=True, text=True, timeout=900)
    print(p.stdout + p.stderr, end="", flush=True)
    return p.returncode, p.stdout + p.stderr


def deploy_with_helper(source, agent, deb, work, stock):
    log("the host-side helper: package and hooks through the agent alone, then --check, --dry-run, --status")
    hooks = f"{work}/deploy-hooks"
    os.makedirs(hooks)
    with open(f"{hooks}/20-deployed", "w") as f:
        f.write("#!/bin/sh\necho \"deployed hook $1\"\n")
    os.chmod(f"{hooks}/20-deployed", 0o755)
    code, out = run_deploy(source, agent, "--package", deb, "--hooks", hooks)
    check(code == 0, f"the helper failed: exit {code}")
    for want in ["--- dpkg -i (exit 0)", "qemu-ga restarted and answers", "--- fsfreeze-hook --check (exit 0)",
                 "--- fsfreeze-hook --dry-run freeze (exit 0)", "--- fsfreeze-hook --status --json (exit 0)",
                 "/etc/qemu/fsfreeze-hook.d/20-deployed"]:
        check(want in out, f"the helper's output has no '{want}'")
    status = out.split("--- fsfreeze-hook --status --json (exit 0)\n", 1)[1].split("\nfsfreeze-hook-deploy:", 1)[0]
    json.loads(status)
    _, cmdline = qemu_ga_process(agent)
    check("-F/usr/sbin/fsfreeze-hook" in cmdline and cmdline != stock, f"after the helper qemu-ga runs: {cmdline}")

    log("the helper with a hook that fails --check")
    bad = f"{work}/bad-hooks"
    os.makedirs(bad)
    with open(f"{bad}/30-broken", "w") as f:
        f.write("#!/bin/sh\nif then\n")
    os.chmod(f"{bad}/30-broken", 0o755)
    code, out = run_deploy(source, agent, "--hooks", bad)
    check(code == 1, f"the helper exited {code} with a hook that fails --check")
    check("FAILED: fsfreeze-hook --check failed in the guest" in out, "the helper does not say --check failed")
    check(re.search(r"30-broken.*syntax error", out), "--check's output about the hook is not shown")


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def test(source, cache):
    work = tempfile.mkdtemp(prefix="fsfreeze-vm.")
    pidfile = build = None
    try:
        image, kernel, initrd = build_image(cache)
        t0 = time.time()
        disk, agent, pidfile = boot(work, image, kernel, initrd)
        build = start_deb_build(source, work)
        agent.wait_ready(BOOT_TIMEOUT)
        log(f"guest-ping answered {time.time() - t0:.0f} s after start")
        deb = finish_deb_build(build, work)
        stock = qemu_ga_cmdline(agent)
        check("-F" not in stock, f"Debian's qemu-ga already runs a hook: {stock}")
        _, dropins, _ = agent.exec(["/bin/sh", "-c", "ls /lib/systemd/system/qemu-guest-agent.service.d 2>&1 || true"])

        log("installing our .deb with a plain guest-exec of dpkg -i, as without a shell in the guest")
        agent.write_file("/root/fsfreeze-hook.deb", open(deb, "rb").read())
        dpkg_through_agent(agent, ["/usr/bin/dpkg", "-i", "/root/fsfreeze-hook.deb"], "install ok installed", True)

        log("the MariaDB example hook and a recording hook in /etc/qemu/fsfreeze-hook.d")
        agent.write_file("/etc/qemu/fsfreeze-hook.d/10-mysql-flush-lock",
                         open(f"{source}/hooks.d-examples/10-mysql-flush-lock", "rb").read(), "0755")
        # At freeze it also proves the database lock (the filesystem freeze
        # alone would stop the writer too): an insert must not get through.
        agent.write_file("/etc/qemu/fsfreeze-hook.d/50-record",
                         b"#!/bin/sh\necho \"50-record $1 $(date +%s.%N)\" >> /root/record\n"
                         b"if [ \"$1\" = freeze ]; then\n"
                         b"  if mariadb -e 'SET SESSION lock_wait_timeout=1; INSERT INTO t.x VALUES (-1)' 2>/dev/null; then\n"
                         b"    echo 'lock absent' >> /root/record\n"
                         b"  else\n    echo 'lock held' >> /root/record\n  fi\nfi\n"
                         b"echo recorded $1\n", "0755")
        agent.exec(["/bin/sh", "-c", "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && exit 0; "
                    "sleep 1; done; exit 1"], timeout=150)
        agent.exec(["/usr/bin/mariadb", "-e", "CREATE DATABASE IF NOT EXISTS t; "
                    "CREATE TABLE IF NOT EXISTS t.x (i INT) ENGINE=InnoDB"])
        agent.exec(["/bin/rm", "-f", "/root/record"])
        _, checked, _ = agent.exec(["/usr/sbin/fsfreeze-hook", "--check"], check=False)
        log("--check in the guest: " + (checked.strip().splitlines() or ["(no output)"])[-1])

        # While frozen, qemu-ga runs nothing but ping, sync, status and
        # thaw: the writer starts before the freeze. It inserts a row every
        # 0.1 s and notes, on tmpfs (never frozen), when each insert
        # completed.
        agent.write_file("/root/writer", b"#!/bin/sh\ni=0\n"
                         b"while [ $i -lt 3000 ] && [ ! -e /run/writer-stop ]; do\n"
                         b"  i=$((i + 1))\n  mariadb -e \"INSERT INTO t.x VALUES ($i)\" || exit 1\n"
                         b"  echo \"$i $(date +%s.%N)\" >> /run/writer.log\n  sleep 0.1\ndone\n", "0755")
        writer = agent.spawn(["/root/writer"])
        agent.exec(["/bin/sh", "-c", "for i in $(seq 1 600); do [ -s /run/writer.log ] && exit 0; sleep 0.1; done; exit 1"],
                   timeout=90)

        log("guest-fsfreeze-freeze")
        t1 = time.time()
        frozen = agent.freeze_guest()
        log(f"froze {frozen} filesystem(s) in {time.time() - t1:.1f} s")
        check(isinstance(frozen, int) and frozen >= 1, f"freeze returned {frozen}")
        check(agent.call("guest-fsfreeze-status") == "frozen", "status is not frozen")
        check(superblock_frozen(disk), "the image's superblock does not show a frozen ext4")
        time.sleep(2)   # frozen for a while: the writer must stand still meanwhile

        log("guest-fsfreeze-thaw")
        t1 = time.time()
        thawed = agent.call("guest-fsfreeze-thaw", timeout=120)
        log(f"thawed {thawed} filesystem(s) in {time.time() - t1:.1f} s")
        check(agent.call("guest-fsfreeze-status") == "thawed", "status is not thawed")
        check(not superblock_frozen(disk), "needs_recovery is not back after thaw")
        # A few more inserts after the thaw, then stop the writer.
        agent.exec(["/bin/sh", "-c", "n=$(wc -l < /run/writer.log); for i in $(seq 1 600); do "
                    "[ $(wc -l < /run/writer.log) -gt $((n + 3)) ] && exit 0; sleep 0.1; done; exit 1"], timeout=90)
        agent.exec(["/usr/bin/touch", "/run/writer-stop"])
        for _ in range(100):
            st = agent.status(writer)
            if st.get("exited"):
                break
            time.sleep(0.2)
        check(st.get("exited") and st.get("exitcode") == 0, f"the writer failed: {st}")
        # Between the recording hook's freeze and thaw (inside the span of
        # the lock), no insert completed; inserts went on before and after.
        record_text = agent.read_file("/root/record")
        check("lock held" in record_text.splitlines(), f"the MariaDB lock was not held at freeze: {record_text}")
        record = dict((l.split()[1], float(l.split()[2])) for l in record_text.splitlines()
                      if l.startswith("50-record ") and len(l.split()) == 3)
        done = [float(l.split()[1]) for l in agent.read_file("/run/writer.log").splitlines()]
        during = [t for t in done if record["freeze"] < t < record["thaw"]]
        check(not during, f"{len(during)} writes completed while frozen")
        check(any(t < record["freeze"] for t in done) and any(t > record["thaw"] for t in done),
              "the writer did not write before the freeze and after the thaw")
        log(f"{len(done)} writes: none in the {record['thaw'] - record['freeze']:.1f} s between freeze and thaw")
        _, rows, _ = agent.exec(["/usr/bin/mariadb", "-N", "-e", "SELECT COUNT(*) FROM t.x WHERE i > 0"])
        check(int(rows.strip()) == len(done), f"{rows.strip()} rows, {len(done)} writes")

        log("the hook log and the journal, read through the agent")
        hook_log = agent.read_file("/var/log/qga-fsfreeze-hook.log")
        print(hook_log, end="")
        ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d: "
        for line in hook_log.splitlines():
            check(re.match(ts, line), f"a log line without its timestamp: {line}")
        executes = re.findall(r"execute /etc/qemu/fsfreeze-hook\.d/(\S+) (freeze|thaw)", hook_log)
        check(executes == [("10-mysql-flush-lock", "freeze"), ("50-record", "freeze"),
                           ("50-record", "thaw"), ("10-mysql-flush-lock", "thaw")], f"order: {executes}")
        check(len(re.findall(r"finished with status=0 in", hook_log)) == 4, "not every hook finished with 0")
        check("10-mysql-flush-lock: stdout: tables flushed and read-locked" in hook_log, "no lock reported")
        check("10-mysql-flush-lock: stdout: tables unlocked" in hook_log, "no unlock reported")
        check("thaw: 2 hooks to release" in hook_log, "the thaw did not pair with the freeze")
        _, journal, _ = agent.exec(["/usr/bin/journalctl", "-t", "fsfreeze-hook", "-o", "json", "--no-pager"])
        entries = [json.loads(l) for l in journal.splitlines() if l.strip()]
        finished = [e for e in entries if e.get("FSFREEZE_EVENT") == "finished"]
        check(len(finished) == 4 and all(e.get("FSFREEZE_EXIT_STATUS") == "0" and e.get("PRIORITY") == "6"
                                         for e in finished), f"journal: {finished}")
        check({e.get("FSFREEZE_PHASE") for e in finished} == {"freeze", "thaw"}, "journal phases")

        log("a hook that hangs: killed by its timeout, the freeze still succeeds")
        agent.write_file("/etc/qemu/fsfreeze-hook.d/30-hang", b"#!/bin/sh\n[ \"$1\" = freeze ] && sleep 1000\nexit 0\n",
                         "0755")
        conf = agent.read_file("/etc/qemu-ga/fsfreeze-hook.conf")
        agent.write_file("/etc/qemu-ga/fsfreeze-hook.conf", (conf + "\n[hook 30-hang]\ntimeout=3\n").encode(), "0644")
        frozen = agent.freeze_guest()
        check(isinstance(frozen, int) and frozen >= 1, f"freeze with a hanging hook returned {frozen}")
        agent.call("guest-fsfreeze-thaw", timeout=120)
        hook_log = agent.read_file("/var/log/qga-fsfreeze-hook.log")
        check(re.search(r"/30-hang finished with status=143 \(timed out after 3\.000 s", hook_log),
              "the hanging hook was not killed by its timeout")

        log("upgrade to a rebuilt package, then reinstall it, each with a plain guest-exec dpkg -i")
        upgrade = repack_deb(deb, "0.1.0+vmtest1", work)
        agent.write_file("/root/fsfreeze-hook-upgrade.deb", open(upgrade, "rb").read())
        dpkg_through_agent(agent, ["/usr/bin/dpkg", "-i", "/root/fsfreeze-hook-upgrade.deb"],
                           "install ok installed 0.1.0+vmtest1", True)
        dpkg_through_agent(agent, ["/usr/bin/dpkg", "-i", "/root/fsfreeze-hook-upgrade.deb"],
                           "install ok installed 0.1.0+vmtest1", True)

        log("purge with a plain guest-exec: qemu-ga goes back to Debian's command line")
        cmdline = dpkg_through_agent(agent, ["/usr/bin/dpkg", "--purge", "fsfreeze-hook"],
                                     ("unknown to dpkg", "unknown ok not-installed", "purge ok not-installed"), False)
        check(cmdline == stock, f"after purge qemu-ga runs '{cmdline}', not '{stock}'")
        code, out, _ = agent.exec(["/usr/bin/dpkg", "--verify", "qemu-guest-agent"], check=False)
        check(code == 0 and not out.strip(), f"qemu-guest-agent's files changed: {out}")
        _, after, _ = agent.exec(["/bin/sh", "-c", "ls /lib/systemd/system/qemu-guest-agent.service.d 2>&1 || true"])
        check(after == dropins, f"drop-ins left after purge: {after}")

        deploy_with_helper(source, agent, deb, work, stock)
        log(f"PASS in {time.time() - t0:.0f} s from boot")

        try:
            agent.exec(["/usr/bin/systemctl", "poweroff", "--no-block"], timeout=10)
        except (OSError, Fail):
            pass
        wait_qemu_exit(pidfile, 30)
    finally:
        if build and build.poll() is None:
            build.kill()
        kill_qemu(pidfile)
        shutil.rmtree(work, ignore_errors=True)


def qemu_pid(pidfile):
    try:
        return int(open(pidfile).read().strip())
    except (OSError, ValueError, TypeError):
        return None


def wait_qemu_exit(pidfile, timeout):
    pid = qemu_pid(pidfile)
    deadline = time.time() + timeout
    while pid and time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)


def kill_qemu(pidfile):
    pid = qemu_pid(pidfile) if pidfile else None
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    source = os.path.abspath(sys.argv[1])
    cache = os.environ.get("FSFREEZE_VM_CACHE", "/var/cache/fsfreeze-hook-vm")
    # meson's timeout sends SIGTERM: leave through the finally clauses, which
    # kill qemu (daemonized, out of our process group) and remove the work.
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
        return SKIP
    except Fail as e:
        print(f"FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
