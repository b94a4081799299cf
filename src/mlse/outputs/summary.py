"""The end of ``mlse grade``: what a person needs to know about a run, and a log of everything.

:func:`grade_summary` gathers counts, every failure with its reason in full, submissions that need
attention since collect, missing submissions, and the points that wait for a hand grade;
:func:`write_log` keeps all of it (every outcome, every reason, the lists) as JSON in
``.mlse/logs/``. The console shows it: :func:`mlse.apps.grade_console.print_grade_summary`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["GradeSummary", "grade_summary", "write_log"]


@dataclass
class GradeSummary:
    assignment: str
    counts: dict[str, int]
    failed: list[tuple[str, str]]  # student, reason in full
    attention: list[tuple[str, str]]  # student, reason (from collect, or an earlier run)
    missing: list[str]  # gradebook students with no submission
    manual_answers: int  # answers waiting for a hand grade
    manual_points: float
    manual_students: list[str]
    outcomes: list[dict] = field(default_factory=list)
    log: str = ""


def grade_summary(root, assignment: str, outcomes: list) -> GradeSummary:
    from nbgrader.api import Gradebook

    from .. import attention
    from ..course import Course

    course = Course.of(root)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("graded", "skipped", "failed")}
    failed = [(o.student, o.message) for o in outcomes if o.status == "failed"]
    failed_ids = {s for s, _ in failed}
    waiting = [(s, r["reason"]) for (a, s), r in sorted(attention.reasons(course, assignment).items())
               if s not in failed_ids]
    manual_answers, manual_points, manual_students = 0, 0.0, set()
    with Gradebook(course.db_url) as gb:
        roster = sorted(s.id for s in gb.students)
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.needs_manual_grade:
                        manual_answers += 1
                        manual_points += g.max_score
                        manual_students.add(sub.student.id)
    missing = [s for s in roster if not course.submission(s, assignment).is_dir()]
    return GradeSummary(assignment, counts, failed, waiting, missing, manual_answers, manual_points,
                        sorted(manual_students), [asdict(o) for o in outcomes])


def write_log(course, summary: GradeSummary) -> Path:
    """The run's record, in full, as JSON in the course's ``.mlse/logs/``; ``summary.log`` says where."""
    from ..course import Course

    course = Course.of(course)
    path = course.log_path("grade", summary.assignment)
    summary.log = str(path.relative_to(course.root))
    return course.write_log("grade", summary.assignment, asdict(summary), path)
