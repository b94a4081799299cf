"""The "needs attention" state: a submission whose latest version could not be collected or graded.

Grades are never stale. When a student's *new* submission is refused by ``mlse collect`` (a
truncated or oversized notebook) or cannot be graded by ``mlse grade`` (nbgrader failed on it), the
grade of the *old* one must not go on looking current. So:

* in the gradebook, each of the submission's notebooks is ``flagged`` (nbgrader's own flag, which
  formgrader shows) and every automatic score is cleared (``auto_score`` None): nothing of the old
  run is counted;
* the old feedback is moved aside, out of the feedback folder that ``nbgrader release_feedback``
  hands out, into ``.mlse/stale-feedback/``;
* the reason, in full, is kept in ``.mlse/attention.json``, which the summary and the export read
  (the export leaves the score blank and says why in its ``pending`` column).

A later successful grading of that submission clears the state (:func:`clear`).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

__all__ = ["mark", "clear", "new_version", "reasons"]

RECORD = "attention.json"  # in the course's .mlse/ (see mlse.course.Course.write_json)


def _load(course) -> dict:
    return course.read_json(RECORD)


def _save(course, data: dict) -> None:
    course.write_json(RECORD, data)


def reasons(root, assignment: str | None = None) -> dict[tuple[str, str], dict]:
    """(assignment, student) -> {"reason", "stage", "since"} for every submission needing attention."""
    from .course import Course

    out = {}
    for key, value in _load(Course.of(root)).items():
        a, _, s = key.partition("/")
        if assignment is None or a == assignment:
            out[(a, s)] = value
    return out


def mark(root, gb, assignment: str, student: str, reason: str, stage: str) -> None:
    """Put (assignment, student) in the needs-attention state (see the module docstring).

    ``gb`` is an open nbgrader Gradebook; the submission is created if the gradebook has none yet
    (so formgrader and the export list it), its notebooks flagged and automatic scores cleared.
    """
    from .course import Course

    course = Course.of(root)
    sub = gb.update_or_create_submission(assignment, student)
    for nb in sub.notebooks:
        nb.flagged = True
        for grade in nb.grades:
            grade.auto_score = None
    gb.db.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    feedback = course.feedback_of(student, assignment)
    if feedback.is_dir():
        aside = course.state_path("stale-feedback", student, assignment, stamp)
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(feedback), str(aside))
    data = _load(course)
    data[f"{assignment}/{student}"] = {"reason": reason, "stage": stage,
                                       "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _save(course, data)


def clear(root, gb, assignment: str, student: str) -> None:
    """Leave the needs-attention state: the submission was graded again, successfully. A
    submission whose new version collect refused stays in it (grading the old file again does not
    make the old grade current); collecting a valid new version (:func:`new_version`) lifts that."""
    from nbgrader.api import MissingEntry

    from .course import Course

    course = Course.of(root)
    data = _load(course)
    entry = data.get(f"{assignment}/{student}")
    if entry is None or entry.get("stage") == "collect":
        return
    del data[f"{assignment}/{student}"]
    _save(course, data)
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return
    for nb in sub.notebooks:
        nb.flagged = False
    gb.db.commit()


def new_version(root, assignment: str, student: str) -> None:
    """A valid new version was collected after a refused one: it still needs grading (the state
    stays until ``mlse grade`` grades it), but no longer waits for the student."""
    from .course import Course

    course = Course.of(root)
    data = _load(course)
    entry = data.get(f"{assignment}/{student}")
    if entry and entry.get("stage") == "collect":
        entry.update(stage="collected", reason="a new version was collected; grade it with mlse grade")
        _save(course, data)
