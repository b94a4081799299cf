"""``mlse extension``: give one student more time, the way nbgrader's late logic understands it.

nbgrader keeps an extension on the student's submission (``SubmittedAssignment.extension``); the
submission's due date is the assignment's due date plus that extension, and ``AssignLatePenalties``
(run by every ``nbgrader autograde``) computes each notebook's late penalty from it. Granting an
extension here sets that field and recomputes the penalties of a submission already graded with
nbgrader's own preprocessor, so the export is right at once, without regrading.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

__all__ = ["grant_extension"]


def grant_extension(root, assignment: str, student: str, extension: timedelta) -> dict:
    """Set ``student``'s extension on ``assignment`` (replacing any earlier one; a zero timedelta
    removes it) and recompute the late penalties. Returns what the gradebook now says."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import AssignLatePenalties

    from .course import Course

    course = Course.of(root)
    db_url = course.require_gradebook()
    with Gradebook(db_url) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"No assignment {assignment!r} in the gradebook: release it first "
                             f"(`mlse release {assignment}`).") from None
        try:
            gb.find_student(student)
        except MissingEntry:
            raise ValueError(f"No student {student!r} in the gradebook: nothing was changed.") from None
        sub = gb.update_or_create_submission(assignment, student)
        sub.extension = extension if extension.total_seconds() else None
        gb.db.commit()
        notebooks = [nb.name for nb in sub.notebooks]
        due = a.duedate
    preprocessor = AssignLatePenalties(config=course.config)
    for name in notebooks:
        resources = {"nbgrader": {"notebook": name, "assignment": assignment, "student": student,
                                  "db_url": db_url}}
        preprocessor.preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        return {"duedate": due, "extended_duedate": sub.duedate, "timestamp": sub.timestamp,
                "seconds_late": sub.total_seconds_late, "penalty": sub.late_submission_penalty}
