"""Hand grading a class without a browser: one sheet per part, identical answers grouped once.

``mlse handgrade export ASSIGNMENT [PART]`` writes a CSV that opens in any spreadsheet: one row
per *distinct* answer to one hand-graded part (identical answers, as Gradescope groups them, are
one row listing every student who wrote it), largest groups first, with the part's points and an
empty ``score`` and ``comment`` to fill in. ``mlse handgrade import ASSIGNMENT FILE`` writes those
scores and comments into nbgrader's gradebook, for every student of each row, exactly as formgrader
would (``manual_score``, ``manual_comment``, ``needs_manual_grade = False``), records which answer
each grade was given for (:mod:`mlse.handgrades`), and recomputes the late penalties.

The import checks the whole sheet before writing anything: a missing column, an unknown student or
part, a score that is not a number or is out of range (below 0, above the part's points), a
student in two rows, an answer that changed since the sheet was exported (a resubmission: export
again). Any of these is a clear error listing every bad row, and the gradebook is left as it was.
A row with an empty score is skipped (not graded yet). formgrader keeps working on the same
gradebook, before and after.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SheetError", "SheetExport", "SheetImport", "export_sheet", "import_sheet",
           "hand_graded_parts", "COLUMNS"]

COLUMNS = ["answer_id", "students", "count", "answer", "max_score", "score", "comment",
           "notebook", "cell"]
REQUIRED = ["answer_id", "students", "score", "comment", "notebook", "cell"]
_ID_LEN = 12


class SheetError(ValueError):
    """The sheet cannot be exported or imported; nothing was written."""


@dataclass
class SheetExport:
    path: Path
    notebook: str
    cell: str
    answers: int
    groups: int
    graded: int  # answers that already have a final score (prefilled)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # student, why
    prefilled: int = 0  # answers still to grade, prefilled with the grade their identical text has


@dataclass
class SheetImport:
    graded: int = 0       # answers written
    students: int = 0
    rows: int = 0
    skipped_rows: int = 0  # no score yet


def hand_graded_parts(course, gb, assignment: str) -> list[tuple[str, str, str, float]]:
    """(notebook, grade id, part title, points) of every answer of ``assignment`` graded by hand."""
    from .outputs.export import _parts_of

    titles = _parts_of(course, assignment)
    out = []
    for nb in gb.find_assignment(assignment).notebooks:
        solution = {c.name for c in nb.solution_cells}
        for cell in nb.grade_cells:
            if cell.name in solution:
                out.append((nb.name, cell.name, titles.get(nb.name, {}).get(cell.name, cell.name),
                            cell.max_score))
    return out


def _choose_part(course, gb, assignment: str, part: str | None):
    parts = hand_graded_parts(course, gb, assignment)
    if not parts:
        raise SheetError(f"{assignment} has no answer graded by hand.")
    listed = "; ".join(f"{cell} ({title}, {points:g} points)" for _, cell, title, points in parts)
    if part is None:
        if len(parts) > 1:
            raise SheetError(f"{assignment} has {len(parts)} parts graded by hand; say which: {listed}")
        return parts[0]
    for p in parts:
        if part in (p[1], p[2]) or part.lower() == p[2].lower():
            return p
    raise SheetError(f"{assignment} has no part {part!r} graded by hand; its parts: {listed}")


def export_sheet(course, assignment: str, part: str | None = None,
                 output: str | Path | None = None, pending_only: bool = False) -> SheetExport:
    """Write the grading sheet of one hand-graded part of ``assignment`` (see the module docstring)."""
    from nbgrader.api import Gradebook, MissingEntry

    from . import attention
    from .course import Course
    from .handgrades import answer_digest, answers_of, settle

    course = Course.of(course)
    db_url = course.require_gradebook()
    settle(course, assignment)  # current hand grades follow their answers before we read them
    waiting = attention.reasons(course, assignment)
    groups: dict[str, dict] = {}
    given: dict[str, set] = {}  # answer digest -> {(score, comment)} of the students graded on it
    skipped = []
    with Gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SheetError(f"No assignment {assignment!r} in the gradebook.") from None
        notebook, cell, title, points = _choose_part(course, gb, assignment, part)
        dest = Path(output) if output else course.root / f"handgrade-{assignment}-{cell}.csv"
        graded = 0
        for sub in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student.id):
            student = sub.student.id
            if (assignment, student) in waiting:
                skipped.append((student, "needs attention: " + waiting[(assignment, student)]["reason"]))
                continue
            text = answers_of(course, assignment, student).get((notebook, cell))
            if text is None:
                skipped.append((student, "no graded copy (run mlse grade first)"))
                continue
            try:
                g = gb.find_grade(cell, notebook, assignment, student)
                c = gb.find_comment(cell, notebook, assignment, student)
            except MissingEntry:
                skipped.append((student, "the gradebook has no grade for this part"))
                continue
            final = not g.needs_manual_grade and (g.manual_score is not None or g.auto_score is not None)
            digest = answer_digest(text)
            if final:
                graded += 1
                given.setdefault(digest, set()).add((g.score, c.manual_comment or ""))
                if pending_only:
                    continue
            group = groups.setdefault(digest, {"text": text, "students": [], "pending": 0})
            group["students"].append(student)
            group["pending"] += not final
    rows = sorted(groups.items(), key=lambda kv: (-len(kv[1]["students"]), kv[1]["text"]))
    prefilled = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for digest, g in rows:
            # The grade this very text already has (one score and comment for every student graded
            # on it) fills the row, also for the students who still wait: identical answers get
            # identical grades. Graded differently, the row stays blank for you to decide.
            grades = given.get(digest, set())
            score, comment = next(iter(grades)) if len(grades) == 1 else (None, "")
            if score is not None:
                prefilled += g["pending"]
            w.writerow([digest[:_ID_LEN], " ".join(g["students"]), len(g["students"]), g["text"],
                        f"{points:g}", "" if score is None else f"{score:g}", comment, notebook, cell])
    tmp.replace(dest)
    return SheetExport(dest, notebook, cell, sum(len(g["students"]) for g in groups.values()),
                       len(groups), graded, skipped, prefilled)


def _students_of(field_text: str) -> list[str]:
    return [s for s in re.split(r"[\s,;]+", field_text or "") if s]


def import_sheet(course, assignment: str, path: str | Path) -> SheetImport:
    """Write the scores and comments of a filled sheet into the gradebook, all or nothing (see the
    module docstring). Raises :class:`SheetError` listing every problem."""
    from nbgrader.api import Gradebook, MissingEntry

    from .course import Course
    from .csv_files import read_import_csv, read_number
    from .handgrades import STATE, answer_digest, answers_of, graded_copy_stamp, record_grade, settle

    course = Course.of(course)
    db_url = course.require_gradebook()
    path = Path(path)
    header, rows = read_import_csv(path, SheetError)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SheetError(f"{path} has no column {', '.join(missing)} (a sheet from `mlse handgrade "
                         f"export` has {', '.join(COLUMNS)}); nothing was imported.")
    settle(course, assignment)
    errors: list[str] = []
    plan: list[tuple[str, str, str, float, str, str]] = []  # student, notebook, cell, score, comment, text
    seen: dict[tuple[str, str, str], int] = {}
    result = SheetImport(rows=len(rows))
    with Gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SheetError(f"No assignment {assignment!r} in the gradebook; nothing was imported.") from None
        parts = {(nb, cell): points for nb, cell, _, points in hand_graded_parts(course, gb, assignment)}
        known = {s.id for s in gb.students}
        answers: dict[str, dict] = {}
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            where = f"line {line}"
            score_text = (row.get("score") or "").strip()
            students = _students_of(row.get("students", ""))
            if not score_text:
                result.skipped_rows += 1
                continue
            key = ((row.get("notebook") or "").strip(), (row.get("cell") or "").strip())
            if key not in parts:
                errors.append(f"{where}: {key[0]}/{key[1]} is not a part of {assignment} graded by "
                              f"hand (parts: {', '.join(f'{n}/{c}' for n, c in parts)})")
                continue
            try:
                score = read_number(score_text)
            except ValueError:
                errors.append(f"{where}: score {score_text!r} is not a number")
                continue
            if not 0 <= score <= parts[key]:
                errors.append(f"{where}: score {score:g} is out of range (0 to {parts[key]:g} for {key[1]})")
                continue
            if not students:
                errors.append(f"{where}: no student listed")
                continue
            answer_id = (row.get("answer_id") or "").strip()
            for student in students:
                if student not in known:
                    errors.append(f"{where}: unknown student {student!r} (not in the gradebook)")
                    continue
                if (student, *key) in seen:
                    errors.append(f"{where}: {student} is also on line {seen[(student, *key)]}")
                    continue
                seen[(student, *key)] = line
                if student not in answers:
                    answers[student] = answers_of(course, assignment, student)
                text = answers[student].get(key)
                if text is None:
                    errors.append(f"{where}: {student} has no graded answer to {key[1]}")
                    continue
                if answer_id and not answer_digest(text).startswith(answer_id):
                    errors.append(f"{where}: {student}'s answer changed since the sheet was exported "
                                  f"(a new version was graded); export the sheet again")
                    continue
                plan.append((student, *key, score, (row.get("comment") or "").strip(), text))
        if errors:
            shown = "\n  ".join(errors[:30])
            more = f"\n  ... and {len(errors) - 30} more" if len(errors) > 30 else ""
            raise SheetError(f"{path}: {len(errors)} problem(s); nothing was imported:\n  {shown}{more}")
        state = course.read_json(STATE)
        for student, notebook, cell, score, comment, text in plan:
            g = gb.find_grade(cell, notebook, assignment, student)
            c = gb.find_comment(cell, notebook, assignment, student)
            g.manual_score = score
            g.needs_manual_grade = False  # without this, nbgrader and formgrader keep it pending
            c.manual_comment = comment or None
            record_grade(state, assignment, student, notebook, cell, text, score, comment,
                         graded_copy_stamp(course, assignment, student, notebook))
        gb.db.commit()
        course.write_json(STATE, state)
        settle(course, assignment, sorted({p[0] for p in plan}), gb=gb)
    result.graded = len(plan)
    result.students = len({p[0] for p in plan})
    return result
