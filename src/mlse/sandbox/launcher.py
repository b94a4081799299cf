"""The launcher that turns an ordinary kernel command into a sandboxed one (Linux).

:mod:`mlse.sandbox` starts every grading kernel through this module, in two stages, so that the
student's code never runs with the grader's view of the machine or its rights:

``outer`` (runs as the grader)
    asks the kernel to die with its parent (``PR_SET_PDEATHSIG``), then re-executes itself as
    ``inner`` under ``unshare`` in fresh mount, network and PID namespaces (plus a user namespace
    when the grader is not root).
``inner`` (PID 1 of the new namespaces)
    hides the whole file system except the operating system, the Python environment and the
    student's throwaway working copy; mounts a fresh ``/proc``; sets resource limits; drops to an
    unprivileged uid (when started as root); then ``exec``\\ s the kernel.

It imports nothing but the standard library, so it starts fast and can be read in one sitting.
The plan (what to hide, what to expose, which limits, which uid) is decided by
:mod:`mlse.sandbox` and passed as a JSON file: this module only carries it out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import signal
import sys

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

LIMITS = {  # plan key -> (resource, how to turn the plan's number into the limit's unit)
    "memory_mb": (resource.RLIMIT_AS, lambda v: v * 1024 * 1024),
    "cpu_seconds": (resource.RLIMIT_CPU, int),
    "processes": (resource.RLIMIT_NPROC, int),
    "file_size_mb": (resource.RLIMIT_FSIZE, lambda v: v * 1024 * 1024),
    "open_files": (resource.RLIMIT_NOFILE, int),
}


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


def _hide_and_expose(plan: dict) -> None:
    """Cover every hidden folder with an empty tmpfs, then bind the exposed ones back in.

    Exposed folders are opened *before* anything is covered, and bound from their open file
    descriptors, so a folder inside a hidden one (the course's .venv inside the course folder,
    the working copy inside /tmp) comes back without its hidden neighbours.
    """
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing we do here leaks to the host
    exposed = [(path, writable, os.open(path, os.O_PATH | os.O_DIRECTORY))
               for path, writable in plan["expose"]]
    for path in plan["hide"]:
        if os.path.isdir(path) and not os.path.islink(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    for path, writable, fd in exposed:
        os.makedirs(path, exist_ok=True)  # inside a fresh tmpfs: an empty mount point
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if not writable:
            _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)  # only this sandbox's processes


def _set_limits(plan: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write a core file
    for key, (which, convert) in LIMITS.items():
        value = plan["limits"].get(key)
        if value:
            limit = convert(value)
            if key == "cpu_seconds":  # SIGXCPU at the soft limit, SIGKILL a little after
                resource.setrlimit(which, (limit, limit + 5))
            else:
                resource.setrlimit(which, (limit, limit))


def _drop_privileges(plan: dict) -> None:
    uid, gid = plan.get("uid"), plan.get("gid")
    if uid is None or os.geteuid() != 0 or plan["mode"] == "userns":
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise RuntimeError("could not drop root privileges")


def inner(plan: dict, cmd: list[str]) -> None:
    """PID 1 of the sandbox: set it up, become the unprivileged kernel."""
    if plan["mode"] in ("root", "userns"):
        _hide_and_expose(plan)
    _set_limits(plan)
    _drop_privileges(plan)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # no set-uid program can give rights back
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the uid change: ask again
    os.chdir(plan["workdir"])
    os.umask(0o077)
    os.execve(cmd[0], cmd, plan["env"])


def outer(plan_path: str, cmd: list[str]) -> None:
    """Start the sandbox: die with the grader, enter the namespaces, run :func:`inner`."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    with open(plan_path) as f:
        plan = json.load(f)
    me = [sys.executable, "-I", "-S", os.path.abspath(__file__), "inner", plan_path, "--", *cmd]
    if plan["mode"] == "none":  # no namespaces: limits and the working copy only
        os.execv(sys.executable, me)
    unshare = [plan["unshare"], "--mount", "--net", "--pid", "--fork", "--kill-child",
               "--propagation", "private"]
    if plan["mode"] == "userns":
        unshare += ["--user", "--map-root-user"]
    os.execv(unshare[0], [*unshare, "--", *me])


def main(argv: list[str]) -> None:
    stage, plan_path, sep, *cmd = argv
    if sep != "--" or not cmd:
        raise SystemExit("usage: sandbox_exec.py outer|inner PLAN.json -- KERNEL_COMMAND...")
    if stage == "outer":
        outer(plan_path, cmd)
    else:
        with open(plan_path) as f:
            plan = json.load(f)
        inner(plan, cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
