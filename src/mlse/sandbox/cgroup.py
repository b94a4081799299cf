"""A control group per submission: memory and process count for the whole submission.

rlimits are per process (RLIMIT_AS) or per uid (RLIMIT_NPROC): three children of 1.5 GB each
pass a 2 GB address-space limit. A cgroup counts every process of the submission together,
whatever it forks. Linux has two versions; hosts run one, the other, or both (a "hybrid" host
with the controllers on v1 and an empty v2 tree), so :func:`cgroup_support` looks at what this
host has and :class:`SubmissionCgroup` uses it:

* **v2**: one folder in the unified tree with ``memory.max``, ``memory.swap.max``,
  ``pids.max``; ``cgroup.kill`` ends everything in it;
* **v1**: one folder in each of the ``memory`` and ``pids`` hierarchies
  (``memory.limit_in_bytes``, ``memory.memsw.limit_in_bytes`` when swap is accounted,
  ``pids.max``).

The folders are made under the grader's own cgroup (so any limit the host put on the grader
still applies) and named ``mlse-<grader pid>-<random>``, so :func:`sweep_stale_cgroups` can remove
those of a grader killed with ``kill -9``. Processes join by writing ``0`` (themselves) into the
``cgroup.procs`` files listed in :attr:`SubmissionCgroup.procs_files`, before they drop root:
the sandbox launcher and the zygote's children do that, so every process the student's code
starts is inside. Where none of this is possible (not root, no controller), the reason is
returned and the caller reports a reduced isolation level.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import signal
import time
from pathlib import Path

__all__ = ["cgroup_support", "SubmissionCgroup", "sweep_stale_cgroups"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
_NAME = re.compile(r"^mlse-(\d+)-[0-9a-f]+$")


def _own_path(controller: str | None) -> str:
    """This process's cgroup path in the v1 hierarchy of ``controller`` (None: the v2 tree)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        hid, controllers, path = line.split(":", 2)
        if controller is None and hid == "0" and controllers == "":
            return path
        if controller is not None and controller in controllers.split(","):
            return path
    return "/"


def _v1_dir(controller: str) -> Path | None:
    for name in (controller, f"{controller},cpuacct" if controller == "cpu" else controller):
        d = CGROUP_ROOT / name
        if (d / "cgroup.procs").exists():
            return d
    return None


def _v2_dir() -> Path | None:
    for d in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        if (d / "cgroup.controllers").exists():
            return d
    return None


def _writable(d: Path) -> bool:
    return os.access(d, os.W_OK)


@functools.lru_cache(maxsize=None)
def cgroup_support() -> tuple[str, str]:
    """``("v2" | "v1" | "none", reason)``: how this host can limit a whole submission."""
    if not CGROUP_ROOT.is_dir():
        return "none", "no /sys/fs/cgroup (not Linux, or cgroups not mounted)"
    v2 = _v2_dir()
    if v2 is not None:
        parent = v2 / _own_path(None).lstrip("/")
        ctrl = (v2 / "cgroup.controllers").read_text().split()
        if {"memory", "pids"} <= set(ctrl) and _writable(parent):
            return "v2", ""
    mem, pids = _v1_dir("memory"), _v1_dir("pids")
    if mem is not None and pids is not None:
        pm = mem / _own_path("memory").lstrip("/")
        pp = pids / _own_path("pids").lstrip("/")
        if _writable(pm) and _writable(pp):
            return "v1", ""
        return "none", "cgroup v1 memory and pids hierarchies are not writable (not root?)"
    return "none", "neither cgroup v2 with the memory and pids controllers nor cgroup v1 is available"


class SubmissionCgroup:
    """The cgroup(s) of one submission. ``create()`` returns None (and says why) when impossible."""

    def __init__(self, version: str, dirs: list[Path]):
        self.version, self.dirs = version, dirs

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    @classmethod
    def create(cls, memory_mb: int | None, processes: int | None) -> tuple["SubmissionCgroup | None", str]:
        version, reason = cgroup_support()
        if version == "none":
            return None, reason
        name = f"mlse-{os.getpid()}-{secrets.token_hex(4)}"
        made: list[Path] = []
        try:
            if version == "v2":
                v2 = _v2_dir()
                parent = v2 / _own_path(None).lstrip("/")
                try:  # needed once per parent; fails harmlessly when already on
                    (parent / "cgroup.subtree_control").write_text("+memory +pids")
                except OSError:
                    pass
                d = parent / name
                d.mkdir()
                made.append(d)
                if memory_mb:
                    (d / "memory.max").write_text(str(memory_mb * 1024 * 1024))
                    if (d / "memory.swap.max").exists():
                        (d / "memory.swap.max").write_text("0")
                if processes:
                    (d / "pids.max").write_text(str(processes))
            else:
                mem = _v1_dir("memory") / _own_path("memory").lstrip("/") / name
                pids = _v1_dir("pids") / _own_path("pids").lstrip("/") / name
                mem.mkdir()
                made.append(mem)
                pids.mkdir()
                made.append(pids)
                if memory_mb:
                    limit = str(memory_mb * 1024 * 1024)
                    (mem / "memory.limit_in_bytes").write_text(limit)
                    if (mem / "memory.memsw.limit_in_bytes").exists():
                        try:
                            (mem / "memory.memsw.limit_in_bytes").write_text(limit)
                        except OSError:
                            pass
                if processes:
                    (pids / "pids.max").write_text(str(processes))
        except OSError as exc:
            cg = cls(version, made)
            cg.remove()
            return None, f"could not set up a cgroup ({version}): {exc}"
        return cls(version, made), ""

    def pids(self) -> set[int]:
        out: set[int] = set()
        for d in self.dirs:
            try:
                out |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return out

    def memory_peak_bytes(self) -> int | None:
        for d in self.dirs:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((d / name).read_text())
                except (OSError, ValueError):
                    continue
        return None

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup (a fork bomb included), until it is empty."""
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                try:
                    (d / "cgroup.kill").write_text("1")
                except OSError:
                    pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> list[str]:
        """Kill what is left, then remove the folders; return the problems met."""
        self.kill_all()
        problems = []
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:  # EBUSY while the last processes exit
                    err = exc
                    time.sleep(0.05)
            else:
                problems.append(f"cgroup {d}: {err}")
        self.dirs = []
        return problems


def sweep_stale_cgroups() -> list[str]:
    """Remove the cgroups of graders that no longer run (killed with ``kill -9``)."""
    version, _ = cgroup_support()
    if version == "none":
        return []
    if version == "v2":
        parents = [_v2_dir() / _own_path(None).lstrip("/")]
    else:
        parents = [_v1_dir("memory") / _own_path("memory").lstrip("/"),
                   _v1_dir("pids") / _own_path("pids").lstrip("/")]
    removed = []
    for parent in parents:
        try:
            children = list(parent.iterdir())
        except OSError:
            continue
        for d in children:
            m = _NAME.match(d.name)
            if not m or not d.is_dir():
                continue
            try:
                os.kill(int(m.group(1)), 0)
                continue  # its grader is alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            cg = SubmissionCgroup(version, [d])
            if not cg.remove():
                removed.append(str(d))
    return removed
