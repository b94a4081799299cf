"""The student's kernel, sandboxed: a jupyter_client kernel manager that starts it isolated.

nbgrader runs a student's notebook in a kernel with the grader's rights and with the working
directory inside the course folder, where ``../../..`` reaches ``solutions/`` and the gradebook
(nbgrader issue #483). :class:`SandboxedKernelManager` starts every grading kernel instead in a
throwaway working copy of the student's own submitted files (outside the course folder), through
:mod:`mlse.sandbox.launcher`, which on Linux puts it in fresh mount, network and PID namespaces
where only the operating system, the Python environment and that copy are visible; with resource
limits (memory, CPU time, processes, file size); as an unprivileged uid of its own when the grader
is root. Where the OS does not allow a protection it says so in a warning (or refuses, with
``require_isolation``), never silently. :mod:`mlse.grade.execute` is the Execute step that uses it.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Dict, Integer, List, Unicode


__all__ = [
    "DEFAULT_LIMITS",
    "SandboxedKernelManager",
    "isolation_available",
    "sweep_stale_sandboxes",
]

EXEC = Path(__file__).with_name("launcher.py")

#: Limits applied to every grading kernel (see docs/grading-safety.md for the reasoning).
DEFAULT_LIMITS = {
    "memory_mb": 2048,     # address space: a memory bomb gets a MemoryError, not the machine
    "cpu_seconds": 900,    # CPU time of the whole kernel: a backstop behind the per-cell timeout
    "processes": 64,       # processes and threads of the sandbox's own uid: a fork bomb stops here
    "file_size_mb": 64,    # largest file the student's code may write
    "open_files": 256,
}

# Folders at the top of the file system that student code may see; every other one is hidden
# (covered by an empty tmpfs), and the Python environment is then exposed back, read-only.
SYSTEM_DIRS = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sys"}
# Hidden even though they sit under a visible system folder.
EXTRA_HIDDEN = ["/usr/local/share/nbgrader", "/dev/shm", "/etc/jupyter", "/usr/local/etc/jupyter"]


# ---------------------------------------------------------------------------------------------
# What the operating system allows


@functools.lru_cache(maxsize=None)
def isolation_available() -> tuple[str, str]:
    """The strongest isolation this machine allows, and why not more.

    Returns ``(mode, reason)`` where mode is ``"root"`` (namespaces, and a uid of its own for
    every kernel), ``"userns"`` (namespaces through an unprivileged user namespace: the kernel
    runs as the grader's user, but sees nothing of the grader's files), or ``"none"`` (resource
    limits and a working copy outside the course folder only).
    """
    if platform.system() != "Linux":
        return "none", f"{platform.system()} has no Linux namespaces"
    unshare = shutil.which("unshare") or ("/usr/bin/unshare" if os.path.exists("/usr/bin/unshare") else None)
    if not unshare:
        return "none", "the `unshare` command (util-linux) is not installed"
    base = [unshare, "--mount", "--net", "--pid", "--fork", "--kill-child"]
    if os.geteuid() == 0:
        attempts = [("root", base), ("userns", [*base, "--user", "--map-root-user"])]
    else:
        attempts = [("userns", [*base, "--user", "--map-root-user"])]
    errors = []
    for mode, cmd in attempts:
        try:
            proc = subprocess.run([*cmd, "true"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            continue
        if proc.returncode == 0:
            return mode, "" if mode == "root" else "not root: kernels run as the grader's own user"
        errors.append(proc.stderr.strip())
    return "none", "unshare is not permitted here (" + "; ".join(e for e in errors if e) + ")"


@functools.lru_cache(maxsize=None)
def _kernel_sys_path(python: str) -> tuple[str, ...]:
    """The folders the kernel's Python imports from (its prefix, site-packages, editable installs).

    Asked of the kernel's Python itself, isolated (-I) and from ``/``, so neither the grader's
    working directory (nbgrader puts the course folder on its own sys.path) nor PYTHONPATH count.
    """
    out = subprocess.run([python, "-I", "-c", "import sys, json; print(json.dumps(sys.path))"],
                         capture_output=True, text=True, timeout=60, check=True, cwd="/").stdout
    return tuple(p for p in json.loads(out) if p and os.path.isdir(p))


# ---------------------------------------------------------------------------------------------
# A uid of its own for every sandbox (root only)


class _UidSlot:
    """Hold one of ``count`` anonymous uids (``base`` + slot) for as long as a kernel runs.

    RLIMIT_NPROC counts every process of a *real uid*, so a fork bomb in one student's kernel
    would starve the others graded in parallel if they shared a uid. A lock file per slot makes
    sure no two live kernels share one, across processes. The uids need no /etc/passwd entry;
    uids that do have one (a real account) are skipped.
    """

    def __init__(self, base: int, count: int, lock_dir: Path):
        lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for slot in range(count):
            uid = base + slot
            try:
                pwd.getpwuid(uid)
                continue  # a real account: never borrow it
            except KeyError:
                pass
            fd = os.open(lock_dir / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise RuntimeError(f"all {count} sandbox uids from {base} are in use")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sweep_stale_sandboxes(root: str | Path | None = None) -> list[Path]:
    """Remove working copies left by a grader that was killed (kill -9 skips every clean-up).

    A sandbox folder records the pid of the grader that made it; when that process is gone, so
    is the kernel (it dies with its grader), and the folder is garbage.
    """
    removed = []
    for box in Path(root or tempfile.gettempdir()).glob("mlse-sbx-*"):
        try:
            owner = int((box / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # its grader is alive
        except ProcessLookupError:
            pass
        except (FileNotFoundError, ValueError, PermissionError):
            if time.time() - box.stat().st_mtime < 3600:
                continue  # being set up right now, or not ours to judge yet
        shutil.rmtree(box, ignore_errors=True)
        removed.append(box)
    return removed


# ---------------------------------------------------------------------------------------------
# The kernel manager


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a sandbox (see the module docstring).

    Configure it like any traitlets class, e.g. ``c.SandboxedKernelManager.memory_mb = 1024``.
    """

    limits = Dict(help="resource limits, merged over DEFAULT_LIMITS").tag(config=True)
    sandbox_root = Unicode("", help="where throwaway working copies are made (default: the "
                                    "system temp folder)").tag(config=True)
    run_as = Unicode("", help="run kernels as this existing user instead of an anonymous uid "
                              "per kernel (root only)").tag(config=True)
    uid_base = Integer(1_790_000_000, help="first anonymous uid for sandboxes").tag(config=True)
    uid_count = Integer(256).tag(config=True)
    require_isolation = Bool(False, help="refuse to run when namespaces are not available, "
                                         "instead of warning").tag(config=True)
    hide = List(Unicode(), help="more folders to hide (e.g. an exchange outside /srv)").tag(config=True)
    expose = List(Unicode(), help="more folders to expose read-only").tag(config=True)
    course_root = Unicode("", help="the course folder: checked never to be exposed").tag(config=True)
    work_source = Unicode("", help="the folder whose files become the student's working copy: the "
                                   "student's own submission, never the folder nbgrader grades in "
                                   "(whose notebook holds the restored hidden tests)")

    _sandbox: Path | None = None
    _slot: _UidSlot | None = None
    _plan_uid: tuple[int, int] | None = None

    def _borrow_uid(self) -> bool:
        """True for a kernel that runs as another kernel's uid (the judge, see judge_kernel.py)."""
        return False

    # -- set-up --------------------------------------------------------------------------

    def _mode(self) -> str:
        mode, reason = isolation_available()
        if mode != "root" and reason:
            if self.require_isolation and mode == "none":
                raise RuntimeError(f"sandbox: no isolation available ({reason}); refusing to run "
                                   "student code (SandboxedKernelManager.require_isolation is set)")
            self.log.warning("sandbox: reduced isolation (%s): %s", mode, reason)
        return mode

    def _new_sandbox(self) -> Path:
        root = Path(self.sandbox_root or tempfile.gettempdir())
        sweep_stale_sandboxes(root)
        box = Path(tempfile.mkdtemp(prefix="mlse-sbx-", dir=root))
        os.chmod(box, 0o711)
        (box / "owner.pid").write_text(str(os.getpid()))
        for sub in ("work", "home", "ipc", "tmp"):
            (box / sub).mkdir(mode=0o700)
        return box

    async def _async_pre_start_kernel(self, **kw):
        restarting = self._sandbox is not None
        if not restarting:
            self._sandbox = self._new_sandbox()
            self._mode_used = self._mode()
        box = self._sandbox
        # ZeroMQ over unix sockets inside the sandbox: a kernel with no network still talks to us.
        self.transport = "ipc"
        self.ip = str(box / "ipc" / "kernel")
        self.connection_file = str(box / "connection.json")
        if restarting and os.path.exists(self.connection_file):
            os.remove(self.connection_file)  # written afresh, then handed to the kernel's uid
            self._connection_file_written = False
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if not restarting:
            self._fill_working_copy(box / "work", kw.get("cwd"))
        plan = self._plan(cmd, kw.get("env") or {})
        (box / "plan.json").write_text(json.dumps(plan, indent=1))
        os.chmod(box / "plan.json", 0o600)
        self._hand_over(box, plan)
        kw["cwd"] = str(box / "work")
        kw["env"] = plan["env"]
        return [sys.executable, "-I", "-S", str(EXEC), "outer", str(box / "plan.json"), "--", *cmd], kw

    def _fill_working_copy(self, work: Path, cwd: str | None) -> None:
        """The throwaway working copy: the student's own submitted files only.

        nbgrader executes the notebook from ``autograded/``, where it has already restored the
        hidden tests into the notebook file; copying that folder would hand them to student code
        (``open("roles_warmup.ipynb").read()``). So the copy is made from the submission itself
        (``work_source``); without one (a kernel started outside grading), from ``cwd`` minus
        every notebook file, which is the one thing nbgrader rewrites there.
        """
        if self.work_source:
            shutil.copytree(self.work_source, work, dirs_exist_ok=True, symlinks=True)
        elif cwd:
            shutil.copytree(cwd, work, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns("*.ipynb"))

    def _plan(self, cmd: list[str], env: dict) -> dict:
        box, mode = self._sandbox, self._mode_used
        limits = {**DEFAULT_LIMITS, **self.limits}
        plan = {"mode": mode, "workdir": str(box / "work"), "limits": limits,
                "unshare": shutil.which("unshare") or "/usr/bin/unshare", "uid": None, "gid": None}
        if os.geteuid() == 0 and mode in ("root", "none"):  # never run student code as root
            if self.run_as:
                user = pwd.getpwnam(self.run_as)
                plan["uid"], plan["gid"] = user.pw_uid, user.pw_gid
            elif self._borrow_uid():
                pass  # a judge kernel: set to its student's uid by JudgeKernelManager._plan
            else:
                if self._slot is None:
                    self._slot = _UidSlot(self.uid_base, self.uid_count,
                                          Path(tempfile.gettempdir()) / "mlse-sandbox-uids")
                plan["uid"] = plan["gid"] = self._slot.uid
        self._plan_uid = None if plan["uid"] is None else (plan["uid"], plan["gid"])
        home = box / "home"
        plan["env"] = {
            **{k: v for k, v in env.items() if k.startswith(("NBGRADER_", "JPY_"))},
            "PATH": os.pathsep.join([str(Path(cmd[0]).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(home), "TMPDIR": str(box / "tmp"), "LANG": "C.UTF-8",
            "MPLCONFIGDIR": str(home / ".matplotlib"), "IPYTHONDIR": str(home / ".ipython"),
            "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            # one thread per numerical library: deterministic sums, and within the process limit
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        if mode in ("root", "userns"):
            python = cmd[0]
            prefixes = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.realpath(python)))}
            expose = sorted({*prefixes, *_kernel_sys_path(python), *self.expose})
            self._refuse_secrets(expose)
            top = [f"/{d}" for d in sorted(os.listdir("/"))
                   if d not in SYSTEM_DIRS and os.path.isdir(f"/{d}") and not os.path.islink(f"/{d}")]
            # the course folder too, in case it lives under a visible system folder
            course = [self.course_root] if self.course_root else []
            plan["hide"] = [*top, *[h for h in [*EXTRA_HIDDEN, *course, *self.hide] if os.path.isdir(h)]]
            # bind the sandbox itself last: it is the only writable folder
            plan["expose"] = [*[[p, False] for p in _outermost(expose)], [str(box), True]]
        return plan

    def _refuse_secrets(self, expose: list[str]) -> None:
        """Never expose a folder that holds the course's solutions, gradebook or submissions."""
        if not self.course_root:
            return
        root = Path(self.course_root).resolve()
        secrets = [root / n for n in ("solutions", "source", "gradebook.db", "submitted", "autograded",
                                      "feedback", "release")]
        for path in expose:
            p = Path(path).resolve()
            leaked = [s for s in secrets if s == p or p in s.parents]
            if leaked:
                raise RuntimeError(f"sandbox: refusing to expose {p} to student code: it contains "
                                   f"{leaked[0]}. Install the course's Python environment outside "
                                   "the course folder's graded parts.")

    def _hand_over(self, box: Path, plan: dict) -> None:
        """Give the kernel's uid its working copy, home, sockets folder and connection file."""
        uid = plan["uid"]
        if uid is None:
            return
        gid = plan["gid"]
        for sub in ("work", "home", "ipc", "tmp"):
            for dirpath, dirnames, filenames in os.walk(box / sub):
                os.chown(dirpath, uid, gid, follow_symlinks=False)
                for name in [*dirnames, *filenames]:
                    os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
        os.chown(self.connection_file, uid, gid)

    # -- tear-down -------------------------------------------------------------------------

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart:
            return
        if self._sandbox is not None:
            shutil.rmtree(self._sandbox, ignore_errors=True)
            self._sandbox = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None

    cleanup_resources = _async_cleanup_resources  # nbclient awaits it (ensure_async)


def _outermost(paths: list[str]) -> list[str]:
    """Drop every path that lies inside another one of the list (binding the outer one suffices)."""
    out: list[str] = []
    for p in sorted({os.path.realpath(p) for p in paths}, key=len):
        if not any(p == o or p.startswith(o.rstrip("/") + "/") for o in out):
            out.append(p)
    return sorted(out)
