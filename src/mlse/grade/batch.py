"""Autograde a whole class in parallel, with the same gradebook that sequential nbgrader writes.

nbgrader's ``autograde`` grades one submission after another (nbgrader issue #174) in one process
that reads and writes one SQLite gradebook; several ``nbgrader autograde`` processes on the same
gradebook would race on that file. :func:`grade_assignment` runs a class in these steps, each in
a module of its own:

1. **Select** (:mod:`.selection`): every submission, minus those already graded (nbgrader's rule
   and a digest of the files graded), or only the students asked for.
2. **Grade in workers** (:mod:`.worker`, on the pool of :mod:`.pool`): each submission in a
   private workspace, a throwaway course folder with a *copy* of the class gradebook; nothing a
   worker does touches another worker's files or the class gradebook.
3. **Merge** (:mod:`.merge`): as each worker finishes, the parent copies that student's rows for
   that assignment into the class gradebook, and the autograded files into the class's folder.
   Only the parent writes the class gradebook, so there is nothing to race on.
4. **Record**: a failure puts the submission in the needs-attention state
   (:mod:`mlse.attention`); every submission comes back as one :class:`~.result.Outcome`.

Why the result equals sequential ``nbgrader autograde``, and how resume, Ctrl-C and the lock
work: ``docs/grading.md``. The console (progress bar, summary) is the command's:
:mod:`mlse.apps.grade_console`.
"""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path
from typing import Callable, Iterable

from ..sandbox.cleanup import remove_tree
from . import merge
from .pool import CourseBusy, course_lock, default_workers, deferred_interrupts, run_jobs
from .result import FAILED, GRADED, SKIPPED, GradingError, GradingInterrupted, Outcome
from .selection import failed_students, needs_grading, record_graded, submissions_of
from .worker import GradeJob, grade_in_workspace

__all__ = ["grade_assignment", "GradeJob", "Outcome", "GradingError", "GradingInterrupted",
           "CourseBusy", "course_lock", "failed_students", "submissions_of", "needs_grading",
           "grade_in_workspace", "default_workers"]


def grade_assignment(course, assignment: str, *, workers: int | None = None,
                     force: bool = False, extra_config: dict | None = None, sandbox: bool = True,
                     students: Iterable[str] | None = None,
                     progress: Callable[[Outcome], None] | None = None,
                     announce: Callable[[int, int], None] | None = None,
                     regrade: Iterable[str] = ()) -> list[Outcome]:
    """Autograde every submission of ``assignment`` in ``course`` (a Course or its folder);
    return one :class:`Outcome` each, sorted by student.

    ``workers`` defaults to one per available core. Without ``force``, submissions already graded
    are skipped (:func:`~.selection.needs_grading`), except those in ``regrade`` (what an
    interrupted ``--force`` run had not reached). ``students``: only these. ``progress`` is
    called with each outcome as it comes, in this process. ``announce`` is called once, with (how
    many will be graded, how many are skipped as already graded), when the run has the course's
    lock and has chosen what to grade: a run that cannot start (another holds the lock) says
    nothing before its error. One failing submission never stops the others; Ctrl-C raises
    :class:`GradingInterrupted` with what was kept.
    """
    from ..course import Course, GradebookMissing

    course = Course.of(course)
    if not course.source_of(assignment).is_dir():
        raise GradingError(f"No assignment {assignment!r} in {course.source}.")
    try:  # grading never creates an empty class gradebook by accident
        course.require_gradebook()
    except GradebookMissing as missing:
        raise GradingError(str(missing)) from None
    if course.db_path is None:
        raise GradingError(f"mlse grade needs a SQLite gradebook; this course's is {course.db_url}.")
    with course_lock(course), deferred_interrupts() as interrupts:
        to_grade, skipped = _select(course, assignment, students, force, set(regrade))
        if announce:
            announce(len(to_grade), len(skipped))
        return _grade(course, assignment, to_grade, skipped, workers=workers or default_workers(),
                      extra_config=dict(extra_config or {}), sandbox=sandbox, progress=progress,
                      interrupts=interrupts)


def _select(course, assignment: str, students, force: bool,
            regrade: set[str] = frozenset()) -> tuple[list[str], list[Outcome]]:
    """(students to grade, outcomes of those skipped as already graded)."""
    from nbgrader.api import Gradebook, MissingEntry

    wanted = list(students) if students is not None else course.submitters(assignment)
    to_grade, skipped = [], []
    with Gradebook(course.db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"Assignment {assignment!r} is not in the gradebook yet: run `mlse release "
                f"{assignment}` first (it runs nbgrader generate_assignment).") from None
        graded = {s.student.id for s in gb.assignment_submissions(assignment)}
        for student in wanted:
            if force or student in regrade or needs_grading(course, assignment, student, graded):
                to_grade.append(student)
            else:
                score, max_score = merge.score_of(gb, assignment, student)
                skipped.append(Outcome(student, assignment, SKIPPED, score, max_score,
                                       message="already graded (use --force to regrade)"))
    return to_grade, skipped


def _grade(course, assignment: str, to_grade: list[str], skipped: list[Outcome], *, workers: int,
           extra_config: dict, sandbox: bool, progress, interrupts) -> list[Outcome]:
    from nbgrader.api import Gradebook

    outcomes: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress:
            progress(outcome)

    if not to_grade:
        for outcome in skipped:
            report(outcome)
        return sorted(outcomes, key=lambda o: o.student)

    tmp = Path(tempfile.mkdtemp(prefix="mlse-grade-run-"))
    gb = None
    try:
        snapshot = merge.snapshot_gradebook(course.db_path, tmp / "gradebook-snapshot.db")
        jobs = [GradeJob(str(course.root), assignment, student, str(snapshot), extra_config, sandbox,
                         workspace_parent=str(tmp))
                for student in to_grade]

        def on_start() -> None:  # every worker exists: now open the gradebook, start reporting
            nonlocal gb
            gb = Gradebook(course.db_url)
            for outcome in skipped:
                report(outcome)

        def on_result(outcome: Outcome) -> None:
            with interrupts.held():  # Ctrl-C waits until this student's rows are all written
                report(_bring_in(course, gb, outcome))

        try:
            run_jobs(jobs, workers, on_start, on_result)
        except KeyboardInterrupt:
            done = {o.student for o in outcomes}
            raise GradingInterrupted(assignment, sorted(outcomes, key=lambda o: o.student),
                                     [s for s in to_grade if s not in done]) from None
    finally:
        if gb is not None:
            gb.close()
        remove_tree(tmp)
    return sorted(outcomes, key=lambda o: o.student)


def _bring_in(course, gb, outcome: Outcome) -> Outcome:
    """A worker's outcome, merged into the class: its gradebook rows and autograded files, the
    needs-attention state, the record of what was graded, and its score from the class gradebook."""
    from ..course import Course

    a, s = outcome.assignment, outcome.student
    try:
        if outcome.workspace:
            merge.merge_into_gradebook(gb, Course(outcome.workspace).db_url, a, s)
            merge.copy_autograded(course, outcome.workspace, a, s, outcome.ok)
    except Exception:  # noqa: BLE001
        gb.db.rollback()
        outcome.fail("merging into the class gradebook failed:\n" + traceback.format_exc())
    finally:
        if outcome.workspace:
            remove_tree(outcome.workspace)  # never raises, never recurses
            outcome.workspace = ""
    if outcome.status == FAILED and not outcome.message:
        outcome.message = "grading failed"
    merge.record_attention(course, gb, a, s, outcome.message if outcome.status == FAILED else "")
    record_graded(course, a, s)
    if outcome.status == GRADED:
        outcome.message = ""
        if outcome.incidents:
            merge.flag(gb, a, s)  # tampering signs: graded, and marked for a person
        outcome.log = ""  # a graded submission's log says nothing a person needs
    outcome.score, outcome.max_score = merge.score_of(gb, a, s)
    return outcome
