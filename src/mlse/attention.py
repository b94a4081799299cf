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

A later successful grading of that submission clears the state (:func:`clear`), and so does
the instructor, with ``mlse attention resolve ASSIGNMENT STUDENT`` (:func:`resolve`: "the version
collected stands"; a refused file that was resolved is not refused again when the same download
is collected again). ``mlse attention`` lists every submission in the state.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["STATE_DIR", "mark", "clear", "new_version", "reasons", "state_dir", "resolve",
           "was_resolved"]

STATE_DIR = ".mlse"


def state_dir(root: str | Path) -> Path:
    """``.mlse/`` in the course folder: mlse's own records (never handed to students)."""
    return Path(root) / STATE_DIR


def _path(root) -> Path:
    return state_dir(root) / "attention.json"


def _load(root) -> dict:
    path = _path(root)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}


def _save(root, data: dict) -> None:
    path = _path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def reasons(root: str | Path, assignment: str | None = None) -> dict[tuple[str, str], dict]:
    """(assignment, student) -> {"reason", "stage", "since"} for every submission needing attention."""
    out = {}
    for key, value in _load(root).items():
        a, _, s = key.partition("/")
        if assignment is None or a == assignment:
            out[(a, s)] = value
    return out


def mark(root: str | Path, gb, assignment: str, student: str, reason: str, stage: str,
         refused_file: str = "") -> None:
    """Put (assignment, student) in the needs-attention state (see the module docstring).

    ``gb`` is an open nbgrader Gradebook; the submission is created if the gradebook has none yet
    (so formgrader and the export list it), its notebooks flagged and automatic scores cleared.
    """
    from .course import course_dirs

    root = Path(root)
    sub = gb.update_or_create_submission(assignment, student)
    for nb in sub.notebooks:
        nb.flagged = True
        for grade in nb.grades:
            grade.auto_score = None
    gb.db.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    feedback = course_dirs(root).feedback / student / assignment
    if feedback.is_dir():
        aside = state_dir(root) / "stale-feedback" / student / assignment / stamp
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(feedback), str(aside))
    data = _load(root)
    data[f"{assignment}/{student}"] = {"reason": reason, "stage": stage, "file": refused_file,
                                       "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _save(root, data)


def clear(root: str | Path, gb, assignment: str, student: str) -> None:
    """Leave the needs-attention state: the submission was graded again, successfully (also
    when collect had refused a newer file: grading the version collected, by ``--force`` or
    ``--student``, says that version stands)."""
    from nbgrader.api import MissingEntry

    data = _load(root)
    entry = data.get(f"{assignment}/{student}")
    if entry is None:
        return
    del data[f"{assignment}/{student}"]
    _save(root, data)
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return
    for nb in sub.notebooks:
        nb.flagged = False
    gb.db.commit()


def new_version(root: str | Path, assignment: str, student: str) -> None:
    """A valid new version was collected after a refused one: it still needs grading (the state
    stays until ``mlse grade`` grades it), but no longer waits for the student."""
    data = _load(root)
    entry = data.get(f"{assignment}/{student}")
    if entry and entry.get("stage") == "collect":
        entry.update(stage="collected", reason="a new version was collected; grade it with mlse grade")
        _save(root, data)


def _resolved_path(root) -> Path:
    return state_dir(root) / "attention-resolved.json"


def was_resolved(root: str | Path, assignment: str, student: str, refused_file: str) -> bool:
    """True when the instructor resolved this very refused file (collecting the same download
    again must not put the submission back in the state)."""
    path = _resolved_path(root)
    if not path.is_file():
        return False
    try:
        done = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return refused_file in done.get(f"{assignment}/{student}", [])


def resolve(root: str | Path, gb, assignment: str, student: str) -> dict:
    """The instructor's "the version collected stands": leave the state, unflag the notebooks,
    and drop the graded copy so the next ``mlse grade`` grades that version again (its automatic
    scores were cleared when the state began). Returns the entry that was resolved."""
    from .course import course_dirs
    from .sandbox.cleanup import remove_tree

    data = _load(root)
    entry = data.pop(f"{assignment}/{student}", None)
    if entry is None:
        raise ValueError(f"{student}'s {assignment} does not need attention; nothing was changed.")
    _save(root, data)
    if entry.get("file"):
        path = _resolved_path(root)
        done = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        done.setdefault(f"{assignment}/{student}", []).append(entry["file"])
        path.write_text(json.dumps(done, indent=1, sort_keys=True), encoding="utf-8")
    try:
        for nb in gb.find_submission(assignment, student).notebooks:
            nb.flagged = False
        gb.db.commit()
    except Exception:  # noqa: BLE001  (MissingEntry: nothing recorded yet)
        gb.db.rollback()
    graded = course_dirs(root).autograded / student / assignment
    if graded.exists():
        remove_tree(graded)
    return entry
