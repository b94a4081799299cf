"""The Execute step of autograding, sandboxed: nbgrader's Execute preprocessor with the student's
kernel started by :class:`~mlse.sandbox.SandboxedKernelManager`, a cap on output, and recovery when
a cell kills its kernel or ignores an interrupt (the cell gets an error, the kernel restarts, the
notebook's locked set-up cells run again, and the rest of the notebook is still graded).
"""

from __future__ import annotations

import copy
import json
import os

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from traitlets import Integer

from nbgrader.preprocessors import Execute

from ..sandbox import SandboxedKernelManager

__all__ = ["SandboxedExecute"]


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
        self._work_source = ""

    def preprocess(self, nb, resources=None, km=None):
        """Find the student's own submitted folder before the kernel starts (see
        :meth:`SandboxedKernelManager._fill_working_copy`)."""
        from nbgrader.coursedir import CourseDirectory

        info = (resources or {}).get("nbgrader", {})
        self._work_source = ""
        if info.get("student") and info.get("assignment"):
            coursedir = CourseDirectory(config=self.config)
            folder = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
            if os.path.isdir(folder):
                self._work_source = folder
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.work_source = self._work_source
        return km

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


