"""Entering the sandbox (Linux): the steps that turn a process into a sandboxed one.

The plan (what to expose, which limits, which uid, which cgroup) is decided by
:mod:`mlse.sandbox.kernel` and passed as a JSON file or a dict: this module only carries it out,
with the standard library only, so it starts fast and can be read in one sitting. Two ways in,
with the same steps and so the same guarantees:

* **cold**: ``python launcher.py outer PLAN -- KERNEL...`` (run as the grader) joins the
  submission's cgroup and re-executes itself as ``inner`` under ``unshare`` in fresh mount,
  network, PID, IPC and UTS namespaces (plus a user namespace when the grader is not root);
  ``inner`` (PID 1 of the new namespaces) calls :func:`enter` then ``exec``\\ s the kernel;
* **warm**: a forked child of the zygote (:mod:`mlse.sandbox.zygote`) calls :func:`join_cgroup`,
  :func:`unshare` (ctypes: Python 3.11 has no ``os.unshare``), forks once more (a new PID
  namespace applies to the children), and the grandchild calls :func:`enter` and runs the kernel
  in-process.

:func:`enter` builds the sandbox's file system **from an empty root**: a fresh tmpfs into which
only the named folders are bind-mounted read-only (the operating system's ``/usr``, ``/etc``...,
the Python environment) plus the submission's own box (writable, size-limited), a minimal
``/dev``, a private ``/dev/shm`` and a fresh ``/proc``; then ``pivot_root`` into it and detach
the old root. Nothing else exists: no file at the top of ``/``, no course folder, no other
sandbox. Then resource limits, the hostname, the unprivileged uid, ``no_new_privs``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import platform
import resource
import signal
import sys

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "ppc64le": 203, "s390x": 217,
                  "riscv64": 41, "i686": 217, "i386": 217}

LIMITS = {  # plan key -> (resource, how to turn the plan's number into the limit's unit)
    "memory_mb": (resource.RLIMIT_AS, lambda v: v * 1024 * 1024),
    "cpu_seconds": (resource.RLIMIT_CPU, int),
    "processes": (resource.RLIMIT_NPROC, int),
    "file_size_mb": (resource.RLIMIT_FSIZE, lambda v: v * 1024 * 1024),
    "open_files": (resource.RLIMIT_NOFILE, int),
}
# Device files a program may need; everything else in /dev is absent.
DEVICES = ["null", "zero", "full", "random", "urandom", "tty"]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None),
           f"mount {source} on {target}")


def die_with_parent() -> None:
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# Steps taken while still the grader's user (root): cgroup, namespaces


def join_cgroup(plan: dict) -> None:
    """Move this process (and so all it will start) into the submission's cgroup."""
    for procs in plan.get("cgroup_procs") or []:
        with open(procs, "w") as f:
            f.write("0")


def namespace_flags(plan: dict) -> int:
    if plan["mode"] not in ("root", "userns"):
        return 0
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    return flags | (CLONE_NEWUSER if plan["mode"] == "userns" else 0)


def unshare(plan: dict) -> None:
    """Enter new namespaces (the PID namespace applies to the children: fork after this)."""
    flags = namespace_flags(plan)
    if not flags:
        return
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")
    if flags & CLONE_NEWUSER:  # be root inside, the grader's user outside (--map-root-user)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")


# ---------------------------------------------------------------------------------------------
# Steps taken inside the namespaces


def _bind(source: str, target: str, writable: bool, recursive: bool = True) -> None:
    _mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
    _mount("none", target, None, flags)


def _pivot_root(new_root: str) -> None:
    number = SYS_PIVOT_ROOT.get(platform.machine())
    os.chdir(new_root)
    if number is None:  # an unknown architecture: chroot is the next best thing
        os.chroot(".")
    else:
        _check(_libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
        # the old root is now stacked on top of the new one at "/": detach it
        _check(_libc.umount2(b".", ctypes.c_int(MNT_DETACH)), "umount old root")
    os.chdir("/")


def build_root(plan: dict) -> None:
    """An empty tmpfs root with only the named folders in it; then pivot into it."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we do here leaks to the host
    new = plan["root_mount"]
    os.makedirs(new, exist_ok=True)
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m")
    for path in plan["expose"]:
        if not os.path.lexists(path):
            continue
        target = new + path
        if os.path.islink(path) and os.path.dirname(path) == "/":  # /bin -> usr/bin
            os.symlink(os.readlink(path), target)
            continue
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        _bind(path, target, writable=False)
    box = plan["box"]
    os.makedirs(new + box, exist_ok=True)
    _bind(box, new + box, writable=True, recursive=False)  # the only writable folder...
    for path in plan.get("shared") or []:  # ...besides, for a judge, two of its student's
        os.makedirs(new + path, exist_ok=True)
        _bind(path, new + path, writable=True, recursive=False)
    # /dev: a few device files, a private /dev/shm (POSIX shared memory) of its own size
    dev = new + "/dev"
    os.makedirs(dev, exist_ok=True)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            open(f"{dev}/{name}", "a").close()
            _mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.makedirs(f"{dev}/shm")
    _mount("tmpfs", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
           f"mode=1777,size={int(plan.get('shm_mb') or 64)}m")
    _mount("none", dev, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC | MS_RDONLY)
    os.makedirs(new + "/proc", exist_ok=True)
    _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this PID namespace only
    for path in plan.get("hide") or []:  # named folders that sit inside an exposed one
        if os.path.isdir(new + path) and not os.path.islink(new + path):
            _mount("tmpfs", new + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0755,size=4k")
    _pivot_root(new)
    _mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def set_limits(plan: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write a core file
    for key, (which, convert) in LIMITS.items():
        value = plan["limits"].get(key)
        if value:
            limit = convert(value)
            if key == "cpu_seconds":  # SIGXCPU at the soft limit, SIGKILL a little after
                resource.setrlimit(which, (limit, limit + 5))
            else:
                resource.setrlimit(which, (limit, limit))


def drop_privileges(plan: dict) -> None:
    uid, gid = plan.get("uid"), plan.get("gid")
    if uid is None or os.geteuid() != 0 or plan["mode"] == "userns":
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise RuntimeError("could not drop root privileges")


def enter(plan: dict) -> None:
    """Inside the namespaces (PID 1 of its PID namespace): become the sandboxed process."""
    if plan["mode"] in ("root", "userns"):
        build_root(plan)
        try:
            _libc.sethostname(b"sandbox", ctypes.c_size_t(7))  # own UTS namespace
        except Exception:  # noqa: BLE001
            pass
    set_limits(plan)
    drop_privileges(plan)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # no set-uid program can give rights back
    die_with_parent()  # cleared by the uid change: ask again
    os.chdir(plan["workdir"])
    os.umask(0o077)


# ---------------------------------------------------------------------------------------------
# The cold path: two stages, each a fresh interpreter


def inner(plan: dict, cmd: list[str]) -> None:
    enter(plan)
    os.execve(cmd[0], cmd, plan["env"])


def outer(plan_path: str, cmd: list[str]) -> None:
    """Start the sandbox: die with the grader, join the cgroup, enter the namespaces, run
    :func:`inner`."""
    die_with_parent()
    with open(plan_path) as f:
        plan = json.load(f)
    join_cgroup(plan)
    me = [sys.executable, "-I", "-S", os.path.abspath(__file__), "inner", plan_path, "--", *cmd]
    if plan["mode"] not in ("root", "userns"):  # no namespaces: limits and the working copy only
        os.execv(sys.executable, me)
    unshare_cmd = [plan["unshare"], "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                   "--kill-child", "--propagation", "private"]
    if plan["mode"] == "userns":
        unshare_cmd += ["--user", "--map-root-user"]
    os.execv(unshare_cmd[0], [*unshare_cmd, "--", *me])


def main(argv: list[str]) -> None:
    stage, plan_path, sep, *cmd = argv
    if sep != "--" or not cmd:
        raise SystemExit("usage: launcher.py outer|inner PLAN.json -- KERNEL_COMMAND...")
    if stage == "outer":
        outer(plan_path, cmd)
    else:
        with open(plan_path) as f:
            plan = json.load(f)
        inner(plan, cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
