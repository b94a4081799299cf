"""Run students' code sandboxed while nbgrader grades it.

nbgrader runs a student's notebook in a kernel with the grader's rights and with the working
directory inside the course folder, where ``../../..`` reaches ``solutions/`` and the gradebook
(nbgrader issue #483). This module keeps nbgrader's own pipeline (restoring the tests, executing,
saving grades into the gradebook) and changes only *how the kernel runs*:

* :class:`SandboxedKernelManager` starts every grading kernel in a throwaway working copy of the
  submission (outside the course folder), through :mod:`mlse.sandbox_exec`, which on Linux puts it
  in fresh mount, network and PID namespaces where only the operating system, the Python
  environment and that copy are visible; with resource limits (memory, CPU time, processes, file
  size); as an unprivileged uid of its own when the grader is root. Where the OS does not allow a
  protection it says so in a warning (or refuses, with ``require_isolation``), never silently.
* :class:`SandboxedExecute` is nbgrader's Execute with that kernel manager, a cap on the output a
  cell can send, and recovery when a cell kills its kernel or cannot be interrupted: the cell gets
  an error (so its tests score zero), the kernel restarts, the notebook's locked set-up cells are
  run again, and the rest of the notebook is graded.
* :func:`autograde_one` runs ``nbgrader autograde`` for ONE student with both in place, and
  returns a :class:`GradeResult`. It is the entry point for ``mlse grade`` (see
  docs/grading-safety.md for what it guarantees and what it does not).
"""

from __future__ import annotations

import copy
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
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from traitlets import Bool, Dict, Integer, List, Unicode

from nbgrader.preprocessors import Execute

__all__ = [
    "DEFAULT_LIMITS",
    "GradeResult",
    "SandboxedExecute",
    "SandboxedKernelManager",
    "autograde_one",
    "isolation_available",
    "sweep_stale_sandboxes",
]

EXEC = Path(__file__).with_name("sandbox_exec.py")

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

    _sandbox: Path | None = None
    _slot: _UidSlot | None = None

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
        submission = kw.get("cwd")
        if not restarting and submission:
            # The throwaway working copy: the student's own files only.
            shutil.copytree(submission, box / "work", dirs_exist_ok=True, symlinks=True)
        plan = self._plan(cmd, kw.get("env") or {})
        (box / "plan.json").write_text(json.dumps(plan, indent=1))
        os.chmod(box / "plan.json", 0o600)
        self._hand_over(box, plan)
        kw["cwd"] = str(box / "work")
        kw["env"] = plan["env"]
        return [sys.executable, "-I", "-S", str(EXEC), "outer", str(box / "plan.json"), "--", *cmd], kw

    def _plan(self, cmd: list[str], env: dict) -> dict:
        box, mode = self._sandbox, self._mode_used
        limits = {**DEFAULT_LIMITS, **self.limits}
        plan = {"mode": mode, "workdir": str(box / "work"), "limits": limits,
                "unshare": shutil.which("unshare") or "/usr/bin/unshare", "uid": None, "gid": None}
        if os.geteuid() == 0 and mode in ("root", "none"):  # never run student code as root
            if self.run_as:
                user = pwd.getpwnam(self.run_as)
                plan["uid"], plan["gid"] = user.pw_uid, user.pw_gid
            else:
                if self._slot is None:
                    self._slot = _UidSlot(self.uid_base, self.uid_count,
                                          Path(tempfile.gettempdir()) / "mlse-sandbox-uids")
                plan["uid"] = plan["gid"] = self._slot.uid
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


# ---------------------------------------------------------------------------------------------
# The Execute preprocessor


class SandboxedExecute(Execute):
    """nbgrader's Execute, with sandboxed kernels, capped outputs and recovery from dead kernels."""

    max_output_bytes = Integer(1_000_000, help="largest output a cell may keep while it runs; the "
                                               "rest is dropped with a note").tag(config=True)
    max_restarts = Integer(3, help="kernel restarts per notebook before the remaining cells "
                                   "are marked not run").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._restarts = 0
        self._truncated: set[int] = set()

    # -- output cap ----------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_bytes`` of a cell's output while it runs (nbgrader's
        LimitOutput trims lines only afterwards, once everything is in the grader's memory)."""
        if cell_index in self._truncated:
            return None
        out = super().output(outs, msg, display_id, cell_index)
        size = sum(len(json.dumps(o)) for o in outs)
        if size > self.max_output_bytes:
            self._truncated.add(cell_index)
            last = outs[-1] if outs else None
            if last is not None and isinstance(last.get("text"), str):
                last["text"] = last["text"][: max(0, len(last["text"]) - (size - self.max_output_bytes))]
            outs.append(new_output("stream", name="stdout", text=(
                f"\n[output truncated by the grader: more than {self.max_output_bytes:,} bytes]\n")))
        return out

    # -- recovery ------------------------------------------------------------------------------

    def _error(self, cell, ename: str, evalue: str) -> None:
        cell.outputs.append(new_output("error", ename=ename, evalue=evalue,
                                       traceback=[f"{ename}: {evalue}"]))

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._restarts > self.max_restarts:
            cell.outputs = []
            self._error(cell, "NotRun", "not run: the kernel died too many times in this notebook")
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except (DeadKernelError, CellTimeoutError) as exc:
            why = ("the kernel died while running this cell (it exited, crashed, or hit a "
                   "resource limit)" if isinstance(exc, DeadKernelError) else
                   f"this cell ran past the {self.timeout} s time limit and ignored the interrupt")
            self.log.warning("Cell %d: %s; restarting the kernel", cell_index, why)
            self._error(cell, "KernelDied" if isinstance(exc, DeadKernelError) else "CellTimeoutError",
                        why + ". The kernel was restarted; the rest of the notebook was still graded.")
            self._restarts += 1
            await self._restart_and_replay(cell_index)
            return cell

    execute_cell = run_sync(async_execute_cell)

    async def _restart_and_replay(self, cell_index: int) -> None:
        """A fresh kernel, then the notebook's locked set-up code cells (the instructor's, never the
        student's) above ``cell_index`` again, so later parts find their imports and data."""
        try:
            await self.km.restart_kernel(now=True)
            await self.kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as exc:  # the restart itself failed: the rest cannot run
            self.log.error("Kernel restart failed: %s", exc)
            self._restarts = self.max_restarts + 1
            return
        for i, earlier in enumerate(self.nb.cells[:cell_index]):
            meta = earlier.metadata.get("nbgrader", {})
            if earlier.cell_type == "code" and meta.get("locked") and not meta.get("grade") \
                    and not meta.get("solution"):
                await super().async_execute_cell(copy.deepcopy(earlier), i, store_history=False)


# ---------------------------------------------------------------------------------------------
# One student, end to end


@dataclass
class GradeResult:
    """What happened when one student's submission was autograded."""

    student: str
    assignment: str
    ok: bool                       # nbgrader finished and wrote grades for this student
    isolation: str                 # "root", "userns" or "none"
    seconds: float
    warnings: list[str] = field(default_factory=list)
    error: str = ""                # why it did not finish, when ok is False
    log_tail: str = ""             # the end of nbgrader's log, for a person to read

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


AUTOGRADE_PREPROCESSORS = [  # nbgrader's own list, with Execute replaced
    "mlse.sandbox.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


def _run_autograde(settings: dict, argv: list[str]) -> None:
    """``nbgrader autograde ARGV`` in this process, with the sandbox configured on top of the
    course's nbgrader_config.py (run by :func:`autograde_one` in a child process)."""
    from nbgrader.apps.autogradeapp import AutogradeApp
    from traitlets.config import Config

    app = AutogradeApp.instance()
    app.initialize(argv)
    extra = Config()
    extra.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
    for key, value in settings.items():  # "Class.trait" -> value
        cls, trait = key.split(".")
        extra[cls][trait] = value
    app.update_config(extra)
    app.start()


def autograde_one(course_root: str | Path, assignment: str, student: str, *,
                  cell_timeout: int | None = None, limits: dict | None = None,
                  require_isolation: bool = False, force: bool = True,
                  submitted_directory: str | None = None, wall_timeout: float = 3600) -> GradeResult:
    """Autograde ``student``'s submission of ``assignment`` with real nbgrader, sandboxed.

    Runs ``nbgrader autograde ASSIGNMENT --student STUDENT`` in its own process (so nothing a
    submission does can take the caller down) with :class:`SandboxedExecute` in place of Execute.
    nbgrader itself (trusted) restores the tests from the gradebook, and saves the grades into it;
    only the kernel is sandboxed. ``cell_timeout`` overrides the course's ``Execute.timeout``.

    The submitted files are only read. Returns a :class:`GradeResult`; it never raises for a bad
    submission (``ok`` False and ``error`` say what happened).
    """
    from .nbgrader_cli import environment_with_bin

    root = Path(course_root).resolve()
    start = time.monotonic()
    mode, reason = isolation_available()
    warnings = [] if mode == "root" else [f"reduced isolation ({mode}): {reason}"]
    settings = {
        "SandboxedKernelManager.course_root": str(root),
        "SandboxedKernelManager.limits": {**DEFAULT_LIMITS, **(limits or {})},
        "SandboxedKernelManager.require_isolation": require_isolation,
    }
    if cell_timeout is not None:
        settings["Execute.timeout"] = int(cell_timeout)
        settings["SandboxedExecute.timeout"] = int(cell_timeout)
    argv = [assignment, "--student", student, *(["--force"] if force else [])]
    if submitted_directory:
        argv.append(f"--CourseDirectory.submitted_directory={submitted_directory}")
    cmd = [sys.executable, "-m", "mlse.sandbox", "autograde", json.dumps(settings), "--", *argv]
    try:
        proc = subprocess.run(cmd, cwd=root, env=environment_with_bin(), capture_output=True,
                              text=True, timeout=wall_timeout)
        log, rc = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        log, rc = f"nbgrader autograde took longer than {wall_timeout} s: {exc}", -1
    warnings += [line.strip() for line in log.splitlines()
                 if "[WARNING]" in line and ("sandbox" in line or "restarting" in line or "Cell" in line)]
    failed = rc != 0 or "[ERROR]" in log and "There was an error processing" in log
    error = ""
    if failed:
        lines = log.splitlines()
        errors = [" ".join(l.strip() for l in lines[i:i + 3]) for i, l in enumerate(lines) if "[ERROR]" in l]
        error = (errors[0] if errors else textwrap.shorten(log[-1000:], 500)).replace("[AutogradeApp | ERROR] ", "")
    return GradeResult(student=student, assignment=assignment, ok=not failed, isolation=mode,
                       seconds=round(time.monotonic() - start, 2), warnings=warnings, error=error,
                       log_tail="" if not failed else log[-3000:])


if __name__ == "__main__":  # python -m mlse.sandbox autograde SETTINGS_JSON -- NBGRADER_ARGS
    if len(sys.argv) < 4 or sys.argv[1] != "autograde" or sys.argv[3] != "--":
        raise SystemExit("usage: python -m mlse.sandbox autograde SETTINGS_JSON -- ASSIGNMENT --student ID ...")
    _run_autograde(json.loads(sys.argv[2]), sys.argv[4:])
