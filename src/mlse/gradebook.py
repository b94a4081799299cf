"""Read scores out of nbgrader's SQLite gradebook.

Tests and reports read grades from the gradebook that ``nbgrader autograde`` wrote, never from
its console output: the gradebook is what an instructor exports, so that is what must be right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

__all__ = ["CellScore", "cell_scores", "db_url_for", "gradebook_rows"]


@dataclass(frozen=True)
class CellScore:
    """One graded cell of one student's notebook, as the gradebook holds it."""

    student: str
    notebook: str
    cell: str
    score: float | None
    max_score: float
    auto: bool  # True for autograded test cells, False for cells graded by hand


def db_url_for(course_root) -> str:
    """The class gradebook's URL of the course at ``course_root`` (:attr:`mlse.course.Course.db_url`:
    the course's ``db_url`` setting, or nbgrader's default)."""
    from .course import Course

    return Course.of(course_root).db_url


def cell_scores(db_url: str, assignment: str) -> list[CellScore]:
    """Every grade of ``assignment`` in the gradebook, sorted by student, notebook and cell.

    A hand-graded cell that nobody graded yet has ``score`` None; autograded cells always have a
    number after ``nbgrader autograde``.
    """
    rows = []
    with Gradebook(db_url) as gb:
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                # A grade cell that is also a solution cell is an answer graded by hand; a grade
                # cell that is not is an autograded test cell.
                answers = {cell.name for cell in nb.notebook.solution_cells}
                for grade in nb.grades:
                    graded = grade.auto_score is not None or grade.manual_score is not None
                    rows.append(CellScore(
                        student=submission.student.id,
                        notebook=nb.name,
                        cell=grade.name,
                        score=grade.score if graded else None,
                        max_score=grade.max_score,
                        auto=grade.name not in answers,
                    ))
    return sorted(rows, key=lambda r: (r.student, r.notebook, r.cell))


def gradebook_rows(db_url: str) -> list[tuple]:
    """Every value that grading writes into a gradebook, one tuple per grade or comment cell,
    keyed by names rather than database ids, sorted: two gradebooks with equal rows hold the same
    grades, cell for cell (used to show that parallel grading equals sequential nbgrader)."""
    rows = []
    with Gradebook(db_url) as gb:
        for student in gb.students:
            rows.append(("student", student.id, student.first_name, student.last_name,
                         student.email, student.lms_user_id))
        for assignment in gb.assignments:
            for sub in gb.assignment_submissions(assignment.name):
                key = (assignment.name, sub.student.id)
                rows.append(("submission", *key, str(sub.timestamp), str(sub.extension)))
                for nb in sub.notebooks:
                    rows.append(("notebook", *key, nb.name, nb.flagged, nb.late_submission_penalty))
                    for g in nb.grades:
                        rows.append(("grade", *key, nb.name, g.name, g.auto_score, g.manual_score,
                                     g.extra_credit, g.needs_manual_grade))
                    for c in nb.comments:
                        rows.append(("comment", *key, nb.name, c.name, c.auto_comment,
                                     c.manual_comment))
    return sorted(rows, key=repr)
