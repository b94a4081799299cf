"""The Execute step with a judge: every cell runs where its nbgrader role says it must.

nbgrader's autograde pipeline stays as it is (it restores the locked cells and the hidden tests
from the gradebook, then saves the grades); only its Execute step is replaced. Two kernels run per
notebook:

* **S, the student's kernel** (sandboxed, :class:`~mlse.sandbox.SandboxedKernelManager`): runs the
  learner's answer cells, any cell the learner added, and the given (locked) code cells, so the
  learner's code finds what the notebook promised it.
* **J, the judge's kernel** (:class:`~mlse.sandbox.judge_kernel.JudgeKernelManager`): runs the
  given code cells too (its own copy of the trusted definitions), and the **test cells, only
  there**. Their outputs are the cell's outputs, so nbgrader grades them as usual.

After each cell that ran in S, the judge binds in J the names that the assignment's answers define
(read from the solution notebook, the trusted side, never from S): a value when S's object is
data, a handle otherwise (:mod:`mlse.judge.client`). Names that the given code or the tests
define are never rebound from S, so a learner who redefines ``check`` or ``answer_of`` changes
only their own kernel. The test source, its expected values and the reference implementations
never enter S: S receives only the calls the tests make (their arguments included).

Given cells keep J's outputs (S ran the same trusted code; what S printed there might have been
rewritten by the learner's earlier cells).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from nbclient import NotebookClient
from nbclient.util import ensure_async, run_sync
from nbformat import read as read_notebook
from traitlets import Integer

from nbgrader.preprocessors import Execute

from ..sandbox.execute import SandboxedExecute
from ..notebook_cells import grade_id, names_bound, role
from ..sandbox.guarded_client import dropped_count
from ..sandbox.judge_kernel import JudgeKernelManager

__all__ = ["FINDINGS", "FINDINGS_MIME", "Findings", "JudgedExecute"]

#: The key, in the resources nbgrader hands each preprocessor, of the list the judge's findings go
#: into: calls that failed in a telling way (no answer, a reply that is not data, a kernel that
#: died while called), kernels that died, forged messages. The caller puts a list there
#: (``mlse.grade.one.autograde`` does) and reads it when the notebook is graded.
FINDINGS = "mlse_findings"

class Findings(list):
    """The list the judge's findings go into. nbconvert deep-copies the resources before the
    preprocessors see them (``Exporter._preprocess``): this list stays itself through that copy,
    so what the judge appends reaches the grader that put it there."""

    def __deepcopy__(self, memo):
        return self


#: How J hands its own record to the grader: one display message of this type, a JSON list.
FINDINGS_MIME = "application/vnd.mlse.judge-findings+json"


class JudgedExecute(SandboxedExecute):
    """nbgrader's Execute, with the test cells run by a judge kernel (see the module docstring)."""

    call_timeout = Integer(60, help="seconds the judge waits for one call into the student's "
                                    "code before that test fails").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._judge_km = None
        self._judge = None
        resources = resources if resources is not None else {}
        self.findings = resources.setdefault(FINDINGS, [])
        self._plan_names(nb, resources)
        return super().preprocess(nb, resources, km)

    # -- which names the judge takes from the student's kernel --------------------------------

    def _solution_notebook(self, resources: dict):
        """The assignment's solution notebook (the trusted source of the answers' names), if here."""
        from nbgrader.coursedir import CourseDirectory

        info = resources.get("nbgrader", {})
        if not (info.get("assignment") and info.get("notebook")):
            return None
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
        path = Path(folder) / f"{info['notebook']}.ipynb"
        try:
            return read_notebook(str(path), as_version=4)
        except (OSError, ValueError):
            return None

    def _plan_names(self, nb, resources: dict) -> None:
        """Work out, before anything runs, which names J may ever take from S."""
        protected: set[str] = set()   # defined by the instructor's code: J keeps its own
        for cell in nb.cells:
            if cell.cell_type == "code" and role(cell) in ("given", "test"):
                protected |= names_bound(cell.source)
        solution = self._solution_notebook(resources)
        self._trusted_names = solution is not None
        self._solution_names: dict[str, set[str]] = {}
        for cell in (solution.cells if solution is not None else []):
            if cell.cell_type == "code" and role(cell) == "answer":
                self._solution_names[grade_id(cell)] = names_bound(cell.source)
        self._answer_names = set().union(*self._solution_names.values()) if self._solution_names else set()
        # A name an answer redefines (a buggy function to fix) comes from S; no other name the
        # instructor's code defines ever does.
        self._protected = protected - self._answer_names

    def _names_to_bind(self, cell) -> list[str]:
        """The names J takes from S after ``cell`` ran in S.

        With the solution notebook at hand: the names the solution's cell of this grade_id binds,
        and any answer name this cell binds (an answer written in an extra cell still counts).
        Without it (a course that ships no solutions to the grader): what the cell itself binds.
        Never a name the instructor's code defines (unless an answer redefines it), never a dunder.
        """
        bound = names_bound(cell.source)
        if self._trusted_names:
            gid = grade_id(cell) if role(cell) == "answer" else None
            wanted = (bound & self._answer_names) | self._solution_names.get(gid, set())
        else:
            wanted = bound
        return sorted(n for n in wanted if n not in self._protected and not n.startswith("__"))

    # -- the two kernels ------------------------------------------------------------------------

    async def async_start_new_kernel_client(self):
        # S has been launched (nbclient started it before asking for a client): J is launched
        # while S's kernel is still starting up, then both are waited for.
        judge_km = await self._launch_judge()
        try:
            kc = await super().async_start_new_kernel_client()
        except BaseException:
            await ensure_async(judge_km.shutdown_kernel(now=True))
            await ensure_async(judge_km.cleanup_resources())
            raise
        await self._connect_judge(judge_km)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # nbclient binds these by name

    async def _launch_judge(self) -> JudgeKernelManager:
        judge_km = JudgeKernelManager(config=self.config, student=self.km,
                                      kernel_name=self.km.kernel_name)
        judge_km.course_root = getattr(self.km, "course_root", "")
        judge_km.judge_order_key = getattr(self.km, "judge_order_key", "")
        await ensure_async(judge_km.start_kernel(extra_arguments=self.extra_arguments))
        return judge_km

    async def _connect_judge(self, judge_km: JudgeKernelManager) -> None:
        self._judge_km = judge_km  # from here on, cleaning up the kernels shuts J down too
        judge = Execute(config=self.config)
        NotebookClient.__init__(judge, self.nb, judge_km)
        judge.resources = self.resources
        judge.timeout, judge.allow_errors = self.timeout, True
        self.guard_client(judge)  # the notebook's one output budget covers J's outputs too
        judge.kc = judge_km.client()
        await ensure_async(judge.kc.start_channels())
        await ensure_async(judge.kc.wait_for_ready(timeout=self.startup_timeout))
        judge.kc.allow_stdin = False
        self._judge_km, self._judge = judge_km, judge
        info = dict(self.km.get_connection_info(session=False))
        info = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}
        await self._in_judge(
            "__mlse_judge__ = __import__('mlse.judge.client', fromlist=['Judge']).Judge("
            f"{json.dumps(info)!r}, call_timeout={int(self.call_timeout)}, "
            f"order_key={getattr(judge_km, 'judge_order_key', '')!r})")

    async def _in_judge(self, code: str) -> dict:
        """Run the grader's own code in J (not part of the notebook); return its reply content."""
        errors: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}")

        reply = await self._judge.kc.execute_interactive(code, silent=False, store_history=False,
                                                         output_hook=hook, timeout=self.call_timeout + 30)
        if errors:
            self.log.warning("judge: %s", "; ".join(errors))
        return reply.get("content", {})

    async def _collect_incidents(self) -> None:
        """J's own record of what it saw, sent as one display message of :data:`FINDINGS_MIME`
        (a JSON list of strings; J runs only the grader's code, but its record is checked all
        the same)."""
        sent: list = []

        def hook(msg):
            if msg["msg_type"] == "display_data":
                sent.append(msg["content"].get("data", {}).get(FINDINGS_MIME))

        code = ("__import__('IPython.display', fromlist=['publish_display_data']).publish_display_data("
                f"{{{FINDINGS_MIME!r}: __import__('json').loads(__mlse_judge__.incidents())}})")
        try:
            await self._judge.kc.execute_interactive(code, silent=False, store_history=False,
                                                     output_hook=hook, timeout=30)
            record = next(x for x in sent if x is not None)
            if not (isinstance(record, list) and all(isinstance(x, str) for x in record)):
                raise TypeError("not a list of strings")
            self.findings.extend(record)
        except Exception as exc:  # noqa: BLE001 - the judge itself is gone: say so
            self.findings.append(f"the judge's record could not be read: {type(exc).__name__}")

    async def _async_cleanup_kernel(self) -> None:
        try:
            dropped, reasons = dropped_count(self.kc) if self.kc is not None else (0, [])
            if dropped:
                self.findings.append(f"the student's kernel sent {dropped} message(s) that failed "
                                 f"verification (forged or mangled; ignored): {'; '.join(reasons)}")
            if self._judge is not None:
                await self._collect_incidents()
            judge, judge_km = self._judge, self._judge_km
            self._judge = self._judge_km = None
            if judge_km is not None:
                try:
                    if judge is not None and judge.kc is not None:
                        judge.kc.stop_channels()
                finally:
                    await ensure_async(judge_km.shutdown_kernel(now=True))
                    await ensure_async(judge_km.cleanup_resources())
        finally:
            await super()._async_cleanup_kernel()

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    # -- routing ----------------------------------------------------------------------------------

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip() or self._judge is None:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        kind = role(cell)
        if kind == "test":
            return await self._judge.async_execute_cell(cell, cell_index, execution_count, store_history)
        if kind == "given":
            in_student = copy.deepcopy(cell)
            await super().async_execute_cell(in_student, cell_index, execution_count, store_history)
            return await self._judge.async_execute_cell(cell, cell_index, execution_count, store_history)
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        # every cell S ran is told to J (its text, never run there): which definition a test
        # reads is decided from the whole submission in order (mlse.intake.code_reading)
        await self._in_judge(f"__mlse_judge__.bind({self._names_to_bind(cell)!r}, {cell.source!r})")
        return result

    async def _restart_and_replay(self, cell_index: int) -> None:
        self.findings.append(f"the student's kernel died or stopped answering in cell {cell_index} "
                         "and was restarted")
        await super()._restart_and_replay(cell_index)
        if self._judge is not None:  # S is back: the judge calls it afresh (old handles are gone)
            await self._in_judge("__mlse_judge__.reconnect()")

    execute_cell = run_sync(async_execute_cell)
