"""The judge's kernel: a trusted kernel that runs test cells and never runs student code.

Nothing it runs is the student's, but it is started exactly like the student's kernel (same
launcher, namespaces, hidden file system, resource limits) and, when the grader is root, as the
*same unprivileged uid* as the student's sandbox: it then has no more rights on the machine than
the student's kernel (a bug in decoding a reply cannot become the grader), and the files both must
reach are readable and writable by both. It sees the Python environment, its own folder, and two
folders of the student's sandbox: the sockets of the student's kernel (to call it) and the temp
folder. The judge's temp folder *is* the
student's sandbox temp folder (the same path in both), so a test that makes a fresh SQLite path
(``new_db_path()``) hands the student's code a place it can write, and reads the file back itself.
Its home, IPython folder and connection file are its own, outside anything the student sees.

It starts warm like the student's kernel (forked from the worker's zygote, see
:mod:`mlse.sandbox.zygote`), through the same plan, or cold when ``warm`` is off.
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Any as AnyTrait

from .kernel import SandboxedKernelManager

__all__ = ["JudgeKernelManager"]


class JudgeKernelManager(SandboxedKernelManager):
    """A :class:`SandboxedKernelManager` without namespaces, tied to one student kernel manager."""

    student = AnyTrait(None, help="the student's SandboxedKernelManager (started first)")

    def _fill_working_copy(self, work: Path, cwd: str | None) -> None:
        return  # the judge works in an empty folder: it reads nothing of the submission

    def _plan(self, cmd: list[str], env: dict) -> dict:
        plan = super()._plan(cmd, env)
        student = self.student
        if student is not None and student._sandbox is not None:
            shared = [str(student._sandbox / "tmp"), str(student._sandbox / "ipc")]
            plan["env"]["TMPDIR"] = shared[0]
            if "expose" in plan:  # namespaces: bind the two shared folders in, writable
                plan["shared"] = shared
            if getattr(student, "_plan_uid", None) is not None:
                plan["uid"], plan["gid"] = student._plan_uid
        return plan

    def _borrow_uid(self) -> bool:
        """Run as the student's uid (see the module docstring) rather than a slot of its own."""
        return self.student is not None and getattr(self.student, "_plan_uid", None) is not None
