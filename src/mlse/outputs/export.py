"""Grades as CSV for an LMS: one row per student, one column per assignment.

nbgrader's own ``nbgrader export`` writes one row per (student, assignment) pair, which an LMS
gradebook import does not take. This reads the same gradebook and pivots it. A student with no
submission of an assignment gets 0 for it, as in nbgrader's export; a score includes the
hand-graded answers (nbgrader counts a manual score in place of the automatic one).
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..gradebook import db_url_for

__all__ = ["grade_table", "export_grades"]

NAME_COLUMNS = ["student_id", "last_name", "first_name", "email"]


def grade_table(db_url: str) -> tuple[list[str], list[dict]]:
    """(assignment names, one dict per student): the student's names and a score per assignment,
    plus ``total``, from the gradebook at ``db_url``. A first row ``points_possible`` holds each
    assignment's maximum, as LMS imports (Canvas's "Points Possible") expect."""
    with Gradebook(db_url) as gb:
        assignments = sorted(a.name for a in gb.assignments)
        maxima = {a.name: a.max_score for a in gb.assignments}
        rows = [{"student_id": "points_possible", "last_name": "", "first_name": "", "email": "",
                 **{a: _fmt(maxima[a]) for a in assignments},
                 "total": _fmt(sum(maxima.values()))}]
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"student_id": student.id, "last_name": student.last_name or "",
                   "first_name": student.first_name or "", "email": student.email or ""}
            total = 0.0
            for a in assignments:
                try:
                    score = gb.find_submission(a, student.id).score
                except MissingEntry:
                    score = 0.0
                row[a] = _fmt(score)
                total += score
            row["total"] = _fmt(total)
            rows.append(row)
    return assignments, rows


def _fmt(x: float) -> str:
    """Scores as a person writes them: 12, 12.5 (never 12.000000001)."""
    return f"{round(x, 4):g}"


def export_grades(root: str | Path, output: str | Path = "grades.csv") -> tuple[Path, int]:
    """Write the class's grades to ``output`` (relative to the course root); returns the path and
    the number of students."""
    root = Path(root)
    path = Path(output) if Path(output).is_absolute() else root / output
    assignments, rows = grade_table(db_url_for(root))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*NAME_COLUMNS, *assignments, "total"])
        writer.writeheader()
        writer.writerows(rows)
    return path, len(rows) - 1
