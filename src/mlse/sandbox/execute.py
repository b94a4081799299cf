"""The Execute step of autograding, sandboxed: nbgrader's Execute preprocessor with the student's
kernel started by :class:`~mlse.sandbox.SandboxedKernelManager`, a cap on output (per cell and per
notebook, display updates included: :mod:`.output_guard`), a time budget for the whole notebook,
and recovery when a cell kills its kernel or ignores an interrupt (the cell gets an error, the
kernel restarts, the notebook's locked set-up cells run again, and the rest of the notebook is
still graded).
"""

from __future__ import annotations

import copy
import os
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from traitlets import Integer

from nbgrader.preprocessors import Execute

from .kernel import SandboxedKernelManager
from ..notebook_cells import is_given_code
from .output_guard import OutputGuard, display_id_count

__all__ = ["SandboxedExecute"]


class SandboxedExecute(Execute):
    """nbgrader's Execute, with sandboxed kernels, capped outputs and recovery from dead kernels."""

    max_output_bytes = Integer(1_000_000, help="largest output a cell may keep while it runs; the "
                                               "rest is dropped with a note").tag(config=True)
    max_notebook_output_bytes = Integer(5_000_000, help="largest output the whole notebook may keep "
                                                        "(display updates included)").tag(config=True)
    notebook_timeout = Integer(600, help="total time budget in seconds for running one notebook "
                                         "(every cell, kernel restarts included); cells left when it "
                                         "is used up are not run and say so. 0: no budget").tag(config=True)
    max_restarts = Integer(3, help="kernel restarts per notebook before the remaining cells "
                                   "are marked not run").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._restarts = 0
        self._work_source = ""
        self._guard = OutputGuard()
        self._started = None

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
        self._guard = OutputGuard(self.max_output_bytes, self.max_notebook_output_bytes)
        self._started = time.monotonic()
        self._restarts = 0
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.work_source = self._work_source
        return km

    # -- output cap ----------------------------------------------------------------------------

    def process_message(self, msg, cell, cell_index):
        """Every iopub message passes the notebook's :class:`OutputGuard` before it is applied
        (nbgrader's LimitOutput trims lines only afterwards, once everything is in memory)."""
        content = msg.get("content") or {}
        display_id = (content.get("transient") or {}).get("display_id")
        verdict = self._guard.check(msg, cell_index,
                                    display_id_count(getattr(self, "_display_id_map", {}), display_id))
        if verdict.note:
            cell.outputs.append(new_output("stream", name="stdout", text=verdict.note))
        if verdict.drop:
            return None
        return super().process_message(verdict.msg, cell, cell_index)

    def guard_client(self, client) -> None:
        """Put another NotebookClient of this notebook (the judge's) under the same output budget."""
        applied = client.process_message

        def process_message(msg, cell, cell_index):
            content = msg.get("content") or {}
            display_id = (content.get("transient") or {}).get("display_id")
            verdict = self._guard.check(msg, cell_index, display_id_count(
                getattr(client, "_display_id_map", {}), display_id))
            if verdict.note:
                cell.outputs.append(new_output("stream", name="stdout", text=verdict.note))
            return None if verdict.drop else applied(verdict.msg, cell, cell_index)

        client.process_message = process_message

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
        left = self._budget_left()
        if left is not None and left <= 0:
            cell.outputs = []
            self._error(cell, "NotRun", f"not run: the notebook used up its total time budget of "
                                        f"{self.notebook_timeout} s")
            return cell
        cell_timeout = self.timeout
        budget_bound = left is not None and (cell_timeout is None or left < cell_timeout)
        if budget_bound:
            self.timeout = max(1, int(left))
        try:
            out = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if budget_bound and (self._budget_left() or 0) <= 0:
                self._error(cell, "NotebookTimeBudget", f"this cell was stopped: the notebook used up "
                                                        f"its total time budget of {self.notebook_timeout} s")
            return out
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
        finally:
            self.timeout = cell_timeout

    execute_cell = run_sync(async_execute_cell)

    def _budget_left(self) -> float | None:
        if not self.notebook_timeout or self._started is None:
            return None
        return self.notebook_timeout - (time.monotonic() - self._started)

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
            if is_given_code(earlier):
                await super().async_execute_cell(copy.deepcopy(earlier), i, store_history=False)


