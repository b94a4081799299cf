"""Feedback for what changed only: which students' feedback must be generated again.

A student's feedback depends on their graded notebooks (``autograded/``), their rows in the
gradebook (scores, comments, late penalty, extension, flags), the course's feedback settings
(``nbgrader_config.py``) and whether the due date has passed (``hint_only_until_due``). A digest
of all of it is kept in ``.mlse/feedback-digests/ASSIGNMENT/STUDENT.sha256`` when the student's files are
placed; ``mlse feedback`` regenerates a student's files only when that digest changed (or a file
is missing), so ten new submissions in a class of 200 cost ten notebooks, not 200.
"""

from __future__ import annotations

import hashlib

__all__ = ["select", "remember", "feedback_digest"]


def _record(assignment: str, student: str) -> str:
    return f"feedback-digests/{assignment}/{student}.sha256"


def feedback_digest(course, gb, assignment: str, student: str, due_passed: bool) -> str:
    from nbgrader.api import MissingEntry

    from ..course import CONFIG_FILE

    h = hashlib.sha256()
    config = course.root / CONFIG_FILE
    h.update(config.read_bytes() if config.is_file() else b"")
    h.update(b"due-passed" if due_passed else b"before-due")
    folder = course.autograded_of(student, assignment)
    for path in sorted(folder.glob("*.ipynb")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return h.hexdigest()
    h.update(repr((str(sub.timestamp), str(sub.extension))).encode())
    for nb in sorted(sub.notebooks, key=lambda n: n.name):
        h.update(repr((nb.name, nb.flagged, nb.late_submission_penalty)).encode())
        for g in sorted(nb.grades, key=lambda g: g.name):
            h.update(repr((g.name, g.auto_score, g.manual_score, g.extra_credit,
                           g.needs_manual_grade)).encode())
        for c in sorted(nb.comments, key=lambda c: c.name):
            h.update(repr((c.name, c.auto_comment, c.manual_comment)).encode())
    return h.hexdigest()


def select(course, assignment: str, students: list[str], force: bool,
           wait_for_hand_grades: bool):
    """(students to generate, FeedbackFile results for the others, {student: digest})."""
    from datetime import datetime, timezone

    from nbgrader.api import Gradebook

    from ..course import Course
    from ..handgrades import settle
    from .feedback import FeedbackFile, _latest_due
    from .pending import pending_hand_grades

    course = Course.of(course)
    due = _latest_due(course.db_url, assignment)
    due_passed = due is not None and datetime.now(timezone.utc).replace(tzinfo=None) >= due
    todo, skipped, digests = [], [], {}
    with Gradebook(course.db_url) as gb:
        settle(course, assignment, students, gb=gb)  # grades and penalties final before they are shown
        for student in students:
            if wait_for_hand_grades:
                points = pending_hand_grades(gb, assignment, student)
                if points:
                    skipped.append(FeedbackFile(student, None, "waiting",
                                                f"{points:g} point(s) wait for a hand grade"))
                    continue
            digest = feedback_digest(course, gb, assignment, student, due_passed)
            digests[student] = digest
            graded = sorted(course.autograded_of(student, assignment).glob("*.ipynb"))
            placed = all((course.feedback_of(student, assignment) / (p.stem + ".html")).is_file()
                         for p in graded)
            recorded = course.read_state(_record(assignment, student))
            if not force and placed and recorded is not None and recorded.strip() == digest:
                skipped.append(FeedbackFile(student, None, "unchanged", "nothing changed since it "
                                                                        "was written"))
                continue
            todo.append(student)
    return todo, skipped, digests


def remember(course, assignment: str, student: str, digest: str) -> None:
    from ..course import Course

    Course.of(course).write_state(_record(assignment, student), digest)
