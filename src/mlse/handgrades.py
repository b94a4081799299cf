"""Hand grades follow the answer they were given for.

nbgrader keeps a hand grade (``Grade.manual_score``, ``Comment.manual_comment``) across every
``autograde`` of the same student and assignment, and sets ``needs_manual_grade`` back on it
(``SaveAutoGrades._add_score``). So a regrade after fixing a test sent every hand-graded answer
back to "needs a hand grade", while a resubmission kept the *old* answer's grade and comment as if
current (a blank resubmission's feedback read "3.0/3.0, Comments: ok" next to ``YOUR ANSWER
HERE``).

:func:`reconcile` makes the gradebook say what is true, comparing each hand-graded answer's text
with the text it was graded on:

* the same text: the hand grade stands (``needs_manual_grade`` cleared again);
* a different text (a new version): the old grade and comment leave the gradebook for the
  submission's version history (``.mlse/versions/ASSIGNMENT/STUDENT/hand-grades.json``) and the
  answer waits for a hand grade (``needs_manual_grade`` set, unless nbgrader scored it 0 itself,
  as it does for an answer left as released);
* a grade a person gave *after* the last autograde (``needs_manual_grade`` False, as formgrader
  and ``mlse handgrade import`` leave it) is the grade of the answer there now: its text is
  recorded.

What text each hand grade was given for is kept in ``.mlse/hand-grades.json`` (digests, never the
answers); the grades themselves live only in nbgrader's gradebook, where formgrader reads and
writes them. ``mlse grade`` reconciles before grading (recording what the instructor graded in
formgrader) and after; ``mlse handgrade import`` and ``mlse export`` do too (:func:`settle`).

**Writing a hand grade with nbgrader's API** (what formgrader does, what this module does): set
``grade.manual_score`` (and ``comment.manual_comment``) *and* ``grade.needs_manual_grade = False``;
a score written without clearing the flag leaves the answer pending in formgrader, in ``mlse
export`` and in nbgrader's own counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["answer_digest", "answers_of", "reconcile", "settle", "Reconciled", "hand_graded_cells",
           "graded_copy_stamp",
           "record_grade", "history"]


def answer_digest(text: str) -> str:
    """A digest of an answer's text, blind to trailing spaces and blank lines at either end."""
    norm = "\n".join(line.rstrip() for line in (text or "").strip().splitlines())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def hand_graded_cells(nb) -> set[str]:
    """Grade ids of a (submitted or source) gradebook notebook's answers graded by hand: cells
    that are both solution and grade cells."""
    book_nb = getattr(nb, "notebook", nb)
    return {c.name for c in book_nb.solution_cells} & {c.name for c in book_nb.grade_cells}


def answers_of(course, assignment: str, student: str) -> dict[tuple[str, str], str]:
    """(notebook, grade id) -> the answer's text in the version that was graded last
    (``autograded/STUDENT/ASSIGNMENT/``); empty if there is none."""
    import nbformat

    from .course import Course

    out = {}
    folder = Course.of(course).autograded_of(student, assignment)
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001  (an unreadable copy: nothing to compare with)
            continue
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                out[(path.stem, grade_id)] = cell.source
    return out


STATE = "hand-grades.json"  # in .mlse/: which answer each hand grade was given for (digests)


def _history_record(assignment: str, student: str) -> str:
    """The version history of a student's hand grades, beside collect's earlier versions."""
    return f"versions/{assignment}/{student}/hand-grades.json"


def history(course, assignment: str, student: str) -> list[dict]:
    """Hand grades a student's earlier versions had (oldest first): notebook, cell, score,
    comment, when it was replaced and why."""
    from .course import Course

    text = Course.of(course).read_state(_history_record(assignment, student))
    return json.loads(text) if text else []


@dataclass
class Reconciled:
    kept: list[tuple[str, str, str]] = field(default_factory=list)      # student, notebook, cell
    reopened: list[tuple[str, str, str]] = field(default_factory=list)  # answer changed: to grade again
    recorded: int = 0


def graded_copy_stamp(course, assignment: str, student: str, notebook: str) -> int | None:
    """When the graded copy of a notebook was last written (None if there is none): while it is
    unchanged, so is every answer in it, and :func:`reconcile` need not read it (at 200 students,
    reading every notebook at every command costs seconds)."""
    path = course.autograded_of(student, assignment) / f"{notebook}.ipynb"
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def record_grade(state: dict, assignment: str, student: str, notebook: str, cell: str,
                 text: str, score: float | None, comment: str | None,
                 copy_stamp: int | None = None) -> None:
    """Remember that (score, comment) was given for this answer text (in ``state``, the loaded
    ``hand-grades.json``), found in the graded copy written at ``copy_stamp``."""
    state.setdefault(f"{assignment}/{student}", {})[f"{notebook}/{cell}"] = {
        "digest": answer_digest(text), "score": score, "comment": comment or "",
        "copy": copy_stamp, "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def reconcile(course, gb, assignment: str, students: list[str] | None = None) -> Reconciled:
    """Make every hand grade of ``assignment`` follow its answer (see the module docstring).
    ``gb`` is an open nbgrader Gradebook; changes are committed."""
    from .course import Course

    course = Course.of(course)
    state = course.read_json(STATE)
    out = Reconciled()
    wanted = set(students) if students is not None else None
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    touched = False
    cells_of: dict[str, set[str]] = {}  # notebook -> its hand-graded cells (the same for everyone)
    for sub in gb.assignment_submissions(assignment):
        student = sub.student.id
        if wanted is not None and student not in wanted:
            continue
        mine = state.get(f"{assignment}/{student}", {})
        answers = None
        old_versions = []
        for nb in sub.notebooks:
            if nb.name not in cells_of:
                cells_of[nb.name] = hand_graded_cells(nb)
            cells = cells_of[nb.name]
            if not cells:
                continue
            comments = {c.name: c for c in nb.comments}
            for g in nb.grades:
                if g.name not in cells:
                    continue
                key = f"{nb.name}/{g.name}"
                rec = mine.get(key)
                if g.manual_score is None:
                    if rec is not None:
                        del mine[key]
                        touched = True
                    continue
                comment = comments.get(g.name)
                said = (comment.manual_comment if comment else None) or ""
                stamp = graded_copy_stamp(course, assignment, student, nb.name)
                if (not g.needs_manual_grade and rec and stamp is not None and rec.get("copy") == stamp
                        and (rec["score"], rec["comment"]) == (g.manual_score, said)):
                    continue  # nothing changed since it was recorded: no need to read the answer
                if answers is None:
                    answers = answers_of(course, assignment, student)
                text = answers.get((nb.name, g.name))
                if text is None:
                    continue  # no graded copy to compare with: leave it as nbgrader has it
                digest = answer_digest(text)
                if not g.needs_manual_grade:
                    # a person graded it after the last autograde: the grade of this answer
                    if rec and rec["digest"] != digest:
                        old_versions.append({**rec, "notebook": nb.name, "cell": g.name,
                                             "replaced": now, "why": "graded again by hand"})
                    if not rec or (rec["digest"], rec["score"], rec["comment"], rec.get("copy")) != \
                            (digest, g.manual_score, said, stamp):
                        record_grade(state, assignment, student, nb.name, g.name, text,
                                     g.manual_score, said, stamp)
                        mine = state[f"{assignment}/{student}"]
                        out.recorded += 1
                        touched = True
                elif rec is not None and rec["digest"] == digest:
                    g.needs_manual_grade = False  # the same answer: its hand grade stands
                    rec["copy"] = stamp
                    touched = True
                    out.kept.append((student, nb.name, g.name))
                elif rec is not None:
                    old_versions.append({**rec, "notebook": nb.name, "cell": g.name,
                                         "replaced": now, "why": "the answer changed in a new version"})
                    g.manual_score = None
                    if comment is not None:
                        comment.manual_comment = None
                    g.needs_manual_grade = g.auto_score is None
                    del mine[key]
                    touched = True
                    out.reopened.append((student, nb.name, g.name))
                # else: graded by hand before mlse saw it, then autograded again: nbgrader's
                # "needs a hand grade" stands (formgrader shows the old score to confirm)
        if old_versions:
            course.write_state(_history_record(assignment, student),
                               json.dumps(history(course, assignment, student) + old_versions, indent=1))
        if mine:
            state[f"{assignment}/{student}"] = mine
        elif f"{assignment}/{student}" in state:
            del state[f"{assignment}/{student}"]
            touched = True
    gb.db.commit()
    if touched:
        course.write_json(STATE, state)
    return out


def settle(course, assignment: str, students: list[str] | None = None, gb=None) -> Reconciled:
    """The final score, computed at the end: hand grades reconciled with their answers
    (:func:`reconcile`), then every late penalty recomputed from the total of automatic and hand
    points (:func:`mlse.late.apply_late_penalties`). Run whenever either may have changed."""
    from .course import Course
    from .late import apply_late_penalties

    course = Course.of(course)
    if gb is None:
        with course.gradebook() as book:
            return settle(course, assignment, students, book)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notices inside nbgrader's API
        result = reconcile(course, gb, assignment, students)
        apply_late_penalties(course, assignment, students, gb=gb)
    return result
