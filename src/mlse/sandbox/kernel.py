"""The student's kernel, sandboxed: a jupyter_client kernel manager that starts it isolated.

nbgrader runs a student's notebook in a kernel with the grader's rights and with the working
directory inside the course folder, where ``../../..`` reaches ``solutions/`` and the gradebook
(nbgrader issue #483). :class:`SandboxedKernelManager` starts every grading kernel instead in a
throwaway working copy of the student's own submitted files (outside the course folder), through
:mod:`mlse.sandbox.launcher`, which on Linux puts it in fresh mount, network and PID namespaces
where only the operating system, the Python environment and that copy are visible; with resource
limits (memory, CPU time, processes, file size); as an unprivileged uid of its own when the grader
is root. Where the OS does not allow a protection it says so in a warning (or refuses, with
``require_isolation``), never silently. :mod:`mlse.sandbox.execute` is the Execute step that uses it.

Per submission (issue 12): a cgroup for memory and process count of the whole submission
(:mod:`.cgroup`); a size-limited tmpfs as the whole sandbox folder (disk; removed by unmounting,
never by walking what the student left, :mod:`.cleanup`); new IPC and UTS namespaces; an
environment made of an exact allow-list of names (:data:`KERNEL_ENV_NAMES`); a file system built
from an empty root (:func:`mlse.sandbox.launcher.build_root`). Kernels start warm, forked from a
zygote that already imported the course's stack (:mod:`.zygote`), or cold (``warm = False``, or
when no zygote can start): both go through the same plan and the same steps.
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
from traitlets import Bool, DottedObjectName, Dict, Integer, List, Type, Unicode

from . import zygote as _zygote
from .cgroup import SubmissionCgroup, sweep_stale_cgroups
from .cleanup import remove_tree
from .guarded_client import GuardedKernelClient


__all__ = [
    "DEFAULT_LIMITS",
    "SandboxedKernelManager",
    "isolation_available",
    "sweep_stale_sandboxes",
    "KERNEL_ENV_NAMES",
    "kernel_environment",
    "sandbox_plan",
]

EXEC = Path(__file__).with_name("launcher.py")

#: Limits applied to every grading kernel (see docs/grading-safety.md for the reasoning).
DEFAULT_LIMITS = {
    "memory_mb": 2048,     # address space: a memory bomb gets a MemoryError, not the machine
    "cpu_seconds": 900,    # CPU time of the whole kernel: a backstop behind the per-cell timeout
    "processes": 64,       # processes and threads of the sandbox's own uid: a fork bomb stops here
    "file_size_mb": 64,    # largest file the student's code may write
    "open_files": 256,
    # per submission, all its processes together (a cgroup; see docs/grading-safety.md)
    "submission_memory_mb": 2048,  # memory of every process of the submission, files in tmpfs included
    "submission_processes": 128,   # processes and threads of the whole submission
    "disk_mb": 256,                # the sandbox folder (working copy, home, tmp): a tmpfs of this size
    "shm_mb": 64,                  # the sandbox's own /dev/shm
}

#: The only environment variable names a kernel gets (exact names, no prefixes): everything else
#: the grader has (JPY_API_TOKEN, NBGRADER_DB_PASSWORD, cloud credentials...) never reaches it.
KERNEL_ENV_NAMES = ("PATH", "HOME", "TMPDIR", "LANG", "MPLCONFIGDIR", "IPYTHONDIR", "MPLBACKEND",
                    "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# The operating system's folders put (read-only) into the sandbox's empty root, besides the
# Python environment and the sandbox folder itself; nothing else exists there (/dev and /proc
# are made fresh).
SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
# Hidden even though they sit under an exposed folder.
EXTRA_HIDDEN = ["/usr/local/share/nbgrader", "/etc/jupyter", "/usr/local/etc/jupyter"]
# Which anonymous uids are in use, machine-wide: RLIMIT_NPROC counts every process of a uid, so two
# grading runs (with different TMPDIRs) must never hand out the same uid at once.
UID_LOCK_DIR = Path("/tmp/mlse-sandbox-uids")


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
    base = [unshare, "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
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


def sweep_stale_sandboxes(root: str | Path | None = None, log=None) -> list[Path]:
    """Remove sandbox folders left by a grader that was killed (kill -9 skips every clean-up),
    and their cgroups. Never raises and never recurses: a folder that cannot be removed is
    reported (to ``log``, when given) and left for the next sweep.

    A sandbox folder records the pid of the grader that made it; when that process is gone, so
    is the kernel (it dies with its grader), and the folder is garbage.
    """
    removed = []
    try:
        base = Path(root or tempfile.gettempdir())
        boxes = [*base.glob("mlse-sbx-*"), *base.glob("mlse-zygote-*")]
    except OSError:
        return removed
    for box in boxes:
        try:
            try:
                owner = int((box / "owner.pid").read_text())
                os.kill(owner, 0)
                continue  # its grader is alive
            except ProcessLookupError:
                pass
            except (FileNotFoundError, ValueError, PermissionError, NotADirectoryError):
                if time.time() - box.lstat().st_mtime < 3600:
                    continue  # being set up right now, or not ours to judge yet
            problems = remove_tree(box)
            if problems and log is not None:
                log.warning("sandbox: could not remove stale %s: %s", box, "; ".join(problems[:3]))
            if not os.path.lexists(box):
                removed.append(box)
        except Exception as exc:  # noqa: BLE001  (sweeping must never fail a grade)
            if log is not None:
                log.warning("sandbox: could not sweep %s: %s", box, exc)
    try:
        sweep_stale_cgroups()
    except Exception as exc:  # noqa: BLE001
        if log is not None:
            log.warning("sandbox: could not sweep stale cgroups: %s", exc)
    return removed


def kernel_environment(python: str, box: Path) -> dict:
    """The kernel's whole environment: exactly :data:`KERNEL_ENV_NAMES`, nothing inherited."""
    home = box / "home"
    env = {
        "PATH": os.pathsep.join([str(Path(python).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home), "TMPDIR": str(box / "tmp"), "LANG": "C.UTF-8",
        "MPLCONFIGDIR": str(home / ".matplotlib"), "IPYTHONDIR": str(home / ".ipython"),
        "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        # one thread per numerical library: deterministic sums, and within the process limit
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }
    assert set(env) == set(KERNEL_ENV_NAMES)
    return env


#: Longest sandbox root that leaves room for ``/mlse-sbx-XXXXXXXX/ipc/kernel-N`` in a unix socket
#: path (107 bytes on Linux); a longer one (a deep TMPDIR) is replaced by /tmp.
MAX_ROOT_BYTES = 76


def make_box(root: str | Path | None, disk_mb: int | None) -> tuple[Path, str]:
    """A new sandbox folder: a tmpfs of ``disk_mb`` when this process may mount one (root), else
    a plain folder. Returns ``(folder, reason it is not size-limited or "")``."""
    base = Path(root or tempfile.gettempdir())
    if len(os.fsencode(str(base))) > MAX_ROOT_BYTES:
        # the kernel's unix sockets live in the box: a socket path has at most 107 bytes
        base = Path("/tmp") if os.path.isdir("/tmp") else base
    box = Path(tempfile.mkdtemp(prefix="mlse-sbx-", dir=base))
    reason = ""
    if disk_mb and platform.system() == "Linux" and os.geteuid() == 0:
        from .launcher import MS_NODEV, MS_NOSUID, _mount

        try:
            _mount("tmpfs", str(box), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0711,size={int(disk_mb)}m")
        except OSError as exc:
            reason = f"no size-limited sandbox folder ({exc}): disk is limited per file only"
    else:
        reason = "no size-limited sandbox folder (needs root on Linux): disk is limited per file only"
    os.chmod(box, 0o711)
    (box / "owner.pid").write_text(str(os.getpid()))
    for sub in ("work", "home", "ipc", "tmp"):
        (box / sub).mkdir(mode=0o700)
    (box / ".root").mkdir(mode=0o700)  # where the launcher builds the sandbox's empty root
    return box, reason


# ---------------------------------------------------------------------------------------------
# The kernel manager


def sandbox_plan(box: Path, mode: str, python: str, *, limits: dict, uid: int | None, gid: int | None,
                 cgroup: SubmissionCgroup | None, expose: list[str] = (), hide: list[str] = (),
                 course_root: str = "") -> dict:
    """What the launcher (cold) or the zygote's child (warm) does to become the student's kernel."""
    plan = {"mode": mode, "box": str(box), "workdir": str(box / "work"), "limits": limits,
            "unshare": shutil.which("unshare") or "/usr/bin/unshare", "uid": uid, "gid": gid,
            "cgroup_procs": cgroup.procs_files if cgroup else [], "shm_mb": limits.get("shm_mb"),
            "root_mount": str(box / ".root"), "env": kernel_environment(python, box),
            "shared": []}  # more writable folders (the judge's view of its student's sandbox)
    if mode in ("root", "userns"):
        prefixes = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.realpath(python)))}
        env_dirs = sorted({*prefixes, *_kernel_sys_path(python), *expose})
        _refuse_secrets(course_root, env_dirs)
        plan["expose"] = [*[d for d in SYSTEM_DIRS if os.path.lexists(d)], *_outermost(env_dirs)]
        course = [course_root] if course_root else []
        plan["hide"] = [h for h in [*EXTRA_HIDDEN, *course, *hide] if os.path.isdir(h)]
    return plan


def _refuse_secrets(course_root: str, expose: list[str]) -> None:
    """Never expose a folder that holds the course's solutions, gradebook or submissions."""
    if not course_root:
        return
    from ..course import Course

    course = Course.of(course_root)
    secrets = [course.source, course.submitted, course.autograded, course.feedback, course.release]
    if course.db_path is not None:
        secrets.append(course.db_path)
    for path in expose:
        p = Path(path).resolve()
        leaked = [s for s in secrets if s == p or p in s.parents]
        if leaked:
            raise RuntimeError(f"sandbox: refusing to expose {p} to student code: it contains "
                               f"{leaked[0]}. Install the course's Python environment outside "
                               "the course folder's graded parts.")


def _warm_argv(cmd: list[str]) -> list[str] | None:
    """The kernel's own arguments, when ``cmd`` is this interpreter running ipykernel (the only
    kind of kernel the zygote can become); None otherwise."""
    if len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]:
        try:
            same = os.path.realpath(shutil.which(cmd[0]) or cmd[0]) == os.path.realpath(sys.executable)
        except OSError:
            same = False
        if same:
            return list(cmd[3:])
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a sandbox (see the module docstring).

    Configure it like any traitlets class, e.g. ``c.SandboxedKernelManager.limits = {...}``.
    """

    limits = Dict(help="resource limits, merged over DEFAULT_LIMITS").tag(config=True)
    sandbox_root = Unicode("", help="where throwaway working copies are made (default: the "
                                    "system temp folder)").tag(config=True)
    run_as = Unicode("", help="run kernels as this existing user instead of an anonymous uid "
                              "per kernel (root only)").tag(config=True)
    uid_base = Integer(1_790_000_000, help="first anonymous uid for sandboxes").tag(config=True)
    uid_count = Integer(256).tag(config=True)
    namespaces = Bool(True, help="isolate the kernel in Linux namespaces when the machine allows it; "
                                 "False keeps only the limits, the uid and the working copy "
                                 "(`mlse grade --no-sandbox`)").tag(config=True)
    require_isolation = Bool(False, help="refuse to run when namespaces are not available, "
                                         "instead of warning").tag(config=True)
    hide = List(Unicode(), help="more folders to hide inside exposed ones").tag(config=True)
    expose = List(Unicode(), help="more folders to expose read-only").tag(config=True)
    course_root = Unicode("", help="the course folder: checked never to be exposed").tag(config=True)
    judge_order_key = Unicode("", help="the course's secret key for the order of learner-test runs "
                                       "(Course.judge_order_key; handed to the judge only)").tag(config=True)
    work_source = Unicode("", help="the folder whose files become the student's working copy: the "
                                   "student's own submission, never the folder nbgrader grades in "
                                   "(whose notebook holds the restored hidden tests)")
    warm = Bool(True, help="fork kernels from a zygote that already imported the course's stack "
                           "(mlse.sandbox.zygote); False: a fresh interpreter per kernel").tag(config=True)
    warm_fallback = Bool(True, help="when no zygote can be used, start the kernel cold (with a "
                                    "warning) instead of failing").tag(config=True)

    # the grader's client reads the kernel's messages without trusting them (guarded_client.py);
    # jupyter_client reads client_factory, whose default ignores a subclass's client_class
    client_class = DottedObjectName("mlse.sandbox.guarded_client.GuardedKernelClient")
    client_factory = Type(GuardedKernelClient, klass="jupyter_client.asynchronous.AsyncKernelClient")

    _sandbox: Path | None = None
    _slot: _UidSlot | None = None
    _cgroup: SubmissionCgroup | None = None
    _warm_args: list[str] | None = None
    started_warm = False
    reduced: list[str] = []  # protections this host did not allow, for the grader's report
    _plan_uid: tuple[int, int] | None = None

    def _borrow_uid(self) -> bool:
        """True for a kernel that runs as another kernel's uid (the judge, see judge_kernel.py)."""
        return False

    # -- set-up --------------------------------------------------------------------------

    def _mode(self) -> str:
        if not self.namespaces:
            self.log.warning("sandbox: reduced isolation (none): namespaces turned off by configuration")
            return "none"
        mode, reason = isolation_available()
        if mode != "root" and reason:
            if self.require_isolation and mode == "none":
                raise RuntimeError(f"sandbox: no isolation available ({reason}); refusing to run "
                                   "student code (SandboxedKernelManager.require_isolation is set)")
            self.log.warning("sandbox: reduced isolation (%s): %s", mode, reason)
        return mode

    def _limits(self) -> dict:
        return {**DEFAULT_LIMITS, **self.limits}

    def _new_sandbox(self) -> Path:
        root = Path(self.sandbox_root or tempfile.gettempdir())
        sweep_stale_sandboxes(root, log=self.log)
        limits = self._limits()
        box, reason = make_box(root, limits.get("disk_mb"))
        self.reduced = []
        if reason:
            self.reduced.append(reason)
        cg, reason = SubmissionCgroup.create(limits.get("submission_memory_mb"),
                                             limits.get("submission_processes"))
        self._cgroup = cg
        if reason:
            self.reduced.append(f"no cgroup per submission ({reason}): memory and processes are "
                                "limited per process and per uid only")
        for why in self.reduced:
            self.log.warning("sandbox: reduced isolation: %s", why)
        return box

    async def _async_pre_start_kernel(self, **kw):
        restarting = self._sandbox is not None
        if not restarting:
            self._sandbox = self._new_sandbox()
            self._mode_used = self._mode()
        elif self._cgroup is not None:
            self._cgroup.kill_all()  # nothing of the dead kernel survives its restart
        box = self._sandbox
        # ZeroMQ over unix sockets inside the sandbox: a kernel with no network still talks to us.
        self.transport = "ipc"
        self.ip = str(box / "ipc" / "kernel")
        if len(self.ip.encode()) + 3 > 107:  # a unix socket's path: at most 107 bytes on Linux
            raise RuntimeError(
                f"sandbox: the folder for sandboxes is too deep for the kernel's sockets ({self.ip}-NN "
                "is longer than 107 bytes): set TMPDIR (or SandboxedKernelManager.sandbox_root) "
                "to a shorter folder, such as /tmp")
        self.connection_file = str(box / "connection.json")
        if restarting and os.path.exists(self.connection_file):
            os.remove(self.connection_file)  # written afresh, then handed to the kernel's uid
            self._connection_file_written = False
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if not restarting:
            self._fill_working_copy(box / "work", kw.get("cwd"))
        plan = self._plan(cmd, kw.get("env") or {})
        self._plan_data = plan
        (box / "plan.json").write_text(json.dumps(plan, indent=1))
        os.chmod(box / "plan.json", 0o600)
        self._hand_over(box, plan)
        kw["cwd"] = str(box / "work")
        kw["env"] = plan["env"]
        self._warm_args = _warm_argv(cmd) if self.warm else None
        return [sys.executable, "-I", "-S", str(EXEC), "outer", str(box / "plan.json"), "--", *cmd], kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        """Warm: ask the zygote for a kernel in this sandbox; cold: run the launcher."""
        self.started_warm = False
        if self._warm_args is not None:
            try:
                proc = _zygote.zygote_client().spawn(self._plan_data, self._warm_args)
            except Exception as exc:  # noqa: BLE001
                if not self.warm_fallback:
                    raise
                self.log.warning("sandbox: warm start unavailable (%s); starting the kernel cold", exc)
            else:
                prov = self.provisioner
                # no process group: signals go through the pidfd (never to a reused pid)
                prov.process, prov.pid, prov.pgid = proc, proc.pid, None
                self.started_warm = True
                self._reconcile_connection_info(prov.connection_info)
                return
        await super()._async_launch_kernel(kernel_cmd, **kw)

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

    def _plan(self, cmd: list[str], env: dict | None = None) -> dict:
        box, mode = self._sandbox, self._mode_used
        uid = gid = None
        if os.geteuid() == 0 and mode in ("root", "none"):  # never run student code as root
            if self.run_as:
                user = pwd.getpwnam(self.run_as)
                uid, gid = user.pw_uid, user.pw_gid
            elif self._borrow_uid():
                pass  # a judge kernel: set to its student's uid by JudgeKernelManager._plan
            else:
                if self._slot is None:
                    self._slot = _UidSlot(self.uid_base, self.uid_count, UID_LOCK_DIR)
                uid = gid = self._slot.uid
        self._plan_uid = None if uid is None else (uid, gid)
        return sandbox_plan(box, mode, cmd[0], limits=self._limits(), uid=uid, gid=gid,
                            cgroup=self._cgroup, expose=list(self.expose), hide=list(self.hide),
                            course_root=self.course_root)

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
        if self._cgroup is not None:
            for problem in self._cgroup.remove():
                self.log.warning("sandbox: %s", problem)
            self._cgroup = None
        if self._sandbox is not None:
            problems = remove_tree(self._sandbox)  # never raises, never recurses
            if problems:
                self.log.warning("sandbox: could not remove %s completely: %s", self._sandbox,
                                 "; ".join(problems[:3]))
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
