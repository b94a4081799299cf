"""The worker: grade one submission in a private workspace, in a worker process.

A *private workspace* is a throwaway course folder holding exactly what grading one (student,
assignment) reads: the course's ``nbgrader_config.py`` (its gradebook pinned to the workspace's
own), the assignment's source and released notebooks, the student's submitted folder, and a copy
of the class gradebook taken when the run started. nbgrader's own Autograde runs there
(:func:`mlse.grade.one.autograde`), so nothing a worker writes is visible to any other worker or
to the class; the parent merges the result (:mod:`mlse.grade.merge`).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .result import Outcome

__all__ = ["GradeJob", "grade_in_workspace", "private_workspace"]

_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


@dataclass(frozen=True)
class GradeJob:
    """Everything a worker needs to grade one student's submission of one assignment."""

    course_root: str
    assignment: str
    student: str
    gradebook_snapshot: str  # a consistent copy of the class gradebook, read-only for workers
    extra_config: dict = field(default_factory=dict)  # merged over nbgrader_config.py
    sandbox: bool = True  # inspect the submission (intake) and run its kernel sandboxed (issue 7)
    workspace_parent: str = ""  # where the private workspace goes (the run's temp folder; "" = system temp)


def private_workspace(job: GradeJob):
    """A throwaway course (a :class:`~mlse.course.Course`) holding exactly what grading
    (job.student, job.assignment) reads, laid out as the course's nbgrader_config.py says, with
    its own gradebook."""
    from ..course import Course

    course = Course(job.course_root)
    ws = Path(tempfile.mkdtemp(prefix=f"mlse-grade-{job.assignment}-{job.student}-",
                               dir=job.workspace_parent or None))
    course.copy_config_to(ws)
    private = Course(ws)
    a, s = job.assignment, job.student
    shutil.copytree(course.source_of(a), private.source_of(a), ignore=_IGNORE)
    shutil.copytree(course.submission(s, a), private.submission(s, a), ignore=_IGNORE)
    if course.release_of(a).is_dir() and course.release_of(a) != course.source_of(a):
        # intake compares a submission with the released exercise
        shutil.copytree(course.release_of(a), private.release_of(a), ignore=_IGNORE)
    shutil.copyfile(job.gradebook_snapshot, private.db_path)
    return private


def grade_in_workspace(job: GradeJob) -> Outcome:
    """Grade one submission in a private workspace: intake, then :func:`mlse.grade.one.autograde`
    (nbgrader's Autograde with the judge's Execute step), in this worker process.

    This is the one grading path, whatever the options: ``job.sandbox`` False only lowers the
    student kernel's isolation (limits and a working copy, no namespaces), and ``job.extra_config``
    is applied on top of the course's nbgrader_config.py (for example
    ``{"Execute": {"timeout": 30}}``). Student code runs only in the kernels that the Execute step
    starts, never here. It never raises: a failure comes back as an :class:`Outcome` with
    ``status`` "failed" and the reason; its ``workspace`` is where the parent finds the results.
    """
    from .. import intake
    from ..course import Course
    from .one import autograde

    start = time.perf_counter()
    outcome = Outcome(job.student, job.assignment)
    buffer = io.StringIO()
    logger = logging.getLogger(f"mlse.grade.{job.assignment}.{job.student}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    saved_stderr = os.dup(2)
    try:
        ws = private_workspace(job)
        outcome.workspace = str(ws.root)
        # The kernels nbgrader starts inherit this process's stderr: keep their chatter (and
        # SQLAlchemy's warnings from inside nbgrader) out of the instructor's progress bar.
        with open(ws.root / "worker-stderr.log", "wb") as err:
            os.dup2(err.fileno(), 2)
        warnings.simplefilter("ignore")
        found = intake.inspect(ws, job.assignment, job.student)
        if found.problems:
            logger.warning("intake: %s", found.summary())
        if found.status == "flagged":
            outcome.incidents.append(f"intake: {found.summary()}")
        if found.status == "no_submission" or ("symlink" in found.codes and found.status == "nothing_gradable"):
            outcome.fail(f"intake: {found.summary()}")
        else:
            settings = {"SandboxedKernelManager.course_root": str(ws.root),
                        # the real course's key (ws is a throwaway copy, made for this one job)
                        "SandboxedKernelManager.judge_order_key": Course(job.course_root).judge_order_key(),
                        **_flatten(job.extra_config)}
            if not job.sandbox:
                settings["SandboxedKernelManager.namespaces"] = False
            prepared = None if found.status == "nothing_gradable" else found.submitted_directory
            graded = autograde(ws.root, job.assignment, job.student, settings=settings,
                               submitted_directory=prepared, log=logger)
            outcome.incidents += graded.incidents
            outcome.isolation, outcome.warnings = graded.isolation, graded.warnings
            if found.status == "nothing_gradable":
                outcome.fail(f"intake: {found.summary()}")
            elif not graded.ok:
                outcome.fail(graded.message or "grading failed")
    except BaseException:  # noqa: BLE001  (one submission must never stop the batch)
        outcome.fail(traceback.format_exc(limit=3))
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        logger.removeHandler(handler)
    outcome.log = buffer.getvalue()
    outcome.seconds = time.perf_counter() - start
    return outcome


def _flatten(config: dict) -> dict:
    """``{"Class": {"trait": v}}`` or ``{"Class.trait": v}`` as ``{"Class.trait": v}``."""
    flat = {}
    for key, value in (config or {}).items():
        if isinstance(value, dict) and "." not in key:
            flat.update({f"{key}.{trait}": v for trait, v in value.items()})
        else:
            flat[key] = value
    return flat
