"""Bring one graded submission into the class: its gradebook rows and its autograded files.

Only the parent process writes the class gradebook. When a worker finishes, :func:`merge_into_gradebook`
copies that student's rows for that assignment from the worker's private gradebook, field by
field (the student record; the submission's timestamp and extension; each notebook's flag and late
penalty; every grade's auto score, manual score, extra credit and needs-manual-grade flag; every
comment), and :func:`copy_autograded` replaces the class's autograded copy with the worker's.
Grading student S's submission of A reads only A's definition and S's rows and writes only S's
rows for A, so the class gradebook ends as sequential ``nbgrader autograde`` would leave it
(``docs/grading.md`` says why at length).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import warnings
from pathlib import Path

from ..sandbox.cleanup import remove_tree

__all__ = ["snapshot_gradebook", "merge_into_gradebook", "copy_notebook_rows", "copy_autograded", "score_of", "flag",
           "record_attention"]


def snapshot_gradebook(db_path: Path, dest: Path) -> Path:
    """A consistent copy of the class gradebook (SQLite's online backup), for workers to copy."""
    src = sqlite3.connect(str(db_path))
    out = sqlite3.connect(str(dest))
    try:
        src.backup(out)
    finally:
        out.close()
        src.close()
    return dest


def merge_into_gradebook(gb, private_db_url: str, assignment: str, student: str) -> None:
    """Copy one student's rows for one assignment from a worker's gradebook into ``gb``.

    Copies what nbgrader's autograde writes (the student record, the submission's timestamp and
    extension, each notebook's flag and late penalty, every grade and comment, all of their
    fields), so the class gradebook ends as if nbgrader had graded the submission there.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(private_db_url) as private, warnings.catch_warnings():
        # nbgrader's own add_submission makes SQLAlchemy warn about autoflush; it is harmless
        warnings.simplefilter("ignore")
        try:
            student_row = private.find_student(student)
        except MissingEntry:
            return  # nbgrader failed before it recorded anything: nothing to copy
        gb.update_or_create_student(student, first_name=student_row.first_name,
                                    last_name=student_row.last_name, email=student_row.email,
                                    lms_user_id=student_row.lms_user_id)
        try:
            sub = private.find_submission(assignment, student)
        except MissingEntry:
            return
        target = gb.update_or_create_submission(assignment, student)
        target.timestamp = sub.timestamp
        target.extension = sub.extension
        copy_notebook_rows(gb, sub, assignment, student)
        gb.db.commit()


def copy_notebook_rows(gb, source_submission, assignment: str, student: str) -> None:
    """Give ``student``'s submission of ``assignment`` in ``gb`` (which must exist) every
    notebook's flag and late penalty, and every grade's and comment's fields, of
    ``source_submission`` (a submission row of any gradebook). The caller commits."""
    for nb in source_submission.notebooks:
        tnb = gb.find_submission_notebook(nb.name, assignment, student)
        tnb.flagged = nb.flagged
        tnb.late_submission_penalty = nb.late_submission_penalty
        grades = {g.name: g for g in tnb.grades}
        for g in nb.grades:
            t = grades[g.name]
            t.auto_score, t.manual_score = g.auto_score, g.manual_score
            t.extra_credit, t.needs_manual_grade = g.extra_credit, g.needs_manual_grade
        comments = {c.name: c for c in tnb.comments}
        for c in nb.comments:
            t = comments[c.name]
            t.auto_comment, t.manual_comment = c.auto_comment, c.manual_comment


def copy_autograded(course, workspace: str, assignment: str, student: str, success: bool) -> None:
    """Replace the class's autograded copy of the submission with the worker's (or remove it on
    a failure, as nbgrader does, so that a rerun tries the submission again)."""
    from ..course import Course

    dest = course.autograded_of(student, assignment)
    src = Course(workspace).autograded_of(student, assignment)
    if dest.exists():
        remove_tree(dest)  # never recursing, whatever the submission's folders look like
    if success and src.is_dir():
        # Copied beside, then renamed: a run killed mid-copy leaves no half-written notebook that
        # the next run's resume rule (needs_grading) would take for a graded one.
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.partial")
        remove_tree(partial)
        shutil.copytree(src, partial)
        os.rename(partial, dest)


def score_of(gb, assignment: str, student: str) -> tuple[float | None, float | None]:
    """(score, max score) of the submission in the gradebook ``gb`` ((None, None) if it has none)."""
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return None, None
    return sub.score, sub.max_score


def flag(gb, assignment: str, student: str) -> None:
    """Mark a graded submission's notebooks ``flagged`` in the class gradebook (signs of
    tampering: graded, and marked for a person)."""
    from nbgrader.api import MissingEntry

    try:
        for notebook in gb.find_submission(assignment, student).notebooks:
            notebook.flagged = True
        gb.db.commit()
    except MissingEntry:
        pass


def record_attention(course, gb, assignment: str, student: str, reason: str) -> None:
    """A failed submission is put in the needs-attention state (old scores cleared, notebooks
    flagged, old feedback moved aside: :mod:`mlse.attention`); a graded one leaves it."""
    from .. import attention

    try:
        if reason:
            attention.mark(course, gb, assignment, student, reason, "grade")
        else:
            attention.clear(course, gb, assignment, student)
    except Exception:  # noqa: BLE001  (the summary still reports the failure)
        gb.db.rollback()
