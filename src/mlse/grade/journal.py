"""A grading journal, so that a batch killed midway and run again loses nothing and grades no one twice.

``nbgrader autograde`` writes a student's grades into the gradebook in one SQLite transaction,
and regrading a submission replaces its grades. So grading is idempotent per student, and all a
batch needs to resume is to know who is finished. The journal records that, one small JSON file
per student (``<course>/.mlse/journal/ASSIGNMENT/STUDENT.json``), written atomically (a temporary
file, fsync, rename) *after* the gradebook has the grades. A student whose entry is missing (the
run was killed while grading them) or whose submission changed since (its digest differs) is
graded again; everyone else is skipped.

:func:`grade_all` is the reference loop (intake, sandboxed autograde, journal) that ``mlse grade``
can run in parallel, one student per worker.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from .. import intake
from ..gradebook import cell_scores, db_url_for
from .one import GradeResult, autograde_one

__all__ = ["Journal", "submission_digest", "grade_one", "grade_all"]

JOURNAL_DIR = ".mlse/journal"


def submission_digest(folder: str | Path) -> str:
    """A digest of every file name and content in a submission folder (changes on resubmission)."""
    h = hashlib.sha256()
    folder = Path(folder)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


class Journal:
    """Which students of one assignment are graded, for which version of their submission."""

    def __init__(self, course_root: str | Path, assignment: str):
        self.folder = Path(course_root).resolve() / JOURNAL_DIR / assignment
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def entry(self, student: str) -> dict | None:
        try:
            return json.loads(self._path(student).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None  # never finished (a torn write cannot happen, but be safe)

    def is_done(self, student: str, digest: str) -> bool:
        entry = self.entry(student)
        return bool(entry) and entry.get("digest") == digest and entry.get("result", {}).get("ok", False)

    def record(self, student: str, entry: dict) -> None:
        tmp = self._path(student).with_suffix(".json.tmp")
        with open(tmp, "w") as f:
            json.dump(entry, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path(student))
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def entries(self) -> dict[str, dict]:
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))}


def grade_one(course_root: str | Path, assignment: str, student: str, journal: Journal | None = None,
              **autograde_options) -> dict:
    """Intake, sandboxed autograde and journal entry for one student; returns the entry."""
    root = Path(course_root).resolve()
    journal = journal or Journal(root, assignment)
    digest = submission_digest(root / "submitted" / student / assignment)
    outcome = intake.inspect(root, assignment, student)
    if outcome.status == "no_submission":
        result = GradeResult(student, assignment, ok=False, isolation="", seconds=0.0,
                             error="no submission")
    else:
        result = autograde_one(root, assignment, student,
                               submitted_directory=outcome.submitted_directory, **autograde_options)
    scores = {f"{s.notebook}/{s.cell}": s.score for s in cell_scores(db_url_for(root), assignment)
              if s.student == student}
    entry = {"student": student, "digest": digest, "intake": outcome.to_dict(),
             "result": asdict(result), "scores": scores}
    journal.record(student, entry)
    return entry


def grade_all(course_root: str | Path, assignment: str, students: list[str], **autograde_options) -> dict[str, dict]:
    """Grade every student not yet graded (per the journal), one after the other.

    Safe to kill at any moment and run again: the students finished before are skipped, the one
    being graded is graded again from scratch, and the result is as if never interrupted.
    """
    root = Path(course_root).resolve()
    journal = Journal(root, assignment)
    for student in students:
        digest = submission_digest(root / "submitted" / student / assignment)
        if not journal.is_done(student, digest):
            grade_one(root, assignment, student, journal, **autograde_options)
    return journal.entries()
