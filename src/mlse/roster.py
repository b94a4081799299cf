"""The class roster from Canvas: ``mlse roster import CANVAS_GRADEBOOK.csv``.

Canvas's gradebook export (*Grades → Export → CSV*) has one row per student with ``Student``
("Last, First"), ``ID`` (the Canvas user id), ``SIS User ID``, ``SIS Login ID``, ``Section``, then
one column per assignment, named ``NAME (CANVAS ASSIGNMENT ID)``, and a ``Points Possible`` row.
Importing it:

* adds or updates each student in nbgrader's gradebook: nbgrader's student id is the column
  ``--id-column`` names (default ``SIS Login ID``; ``SIS User ID`` or ``ID`` when your logins are
  not your ids; a row without one falls back to the SIS User ID, then the Canvas ID), the names
  from ``Student``, and ``lms_user_id`` = the Canvas ``ID``, which ``mlse collect`` matches
  submissions by;
* keeps what nbgrader has no field for, the SIS ids and the section, in ``.mlse/canvas.json``, so
  ``mlse export`` writes them back in ``canvas_grades.csv`` exactly as Canvas gave them;
* learns the Canvas id of every column named after one of the course's assignments, so the export
  names its columns the way Canvas matches them (``c.CanvasExporter.assignment_ids`` in
  nbgrader_config.py overrides it).

Only ``Student``, ``ID`` and the ``--id-column`` are required (``SIS User ID``, ``SIS Login ID``
and ``Section`` are kept when the file has them: a Canvas without SIS logins exports no ``SIS
Login ID``). The whole file is checked first: a missing column, two rows with one id, or a student whose Canvas
id differs from the one the gradebook already has stop the import with every problem listed, and
nothing is written. Canvas's test student ("Student, Test") is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RosterError", "RosterImport", "import_canvas_roster", "canvas_records", "ID_COLUMNS"]

ID_COLUMNS = ["SIS Login ID", "SIS User ID", "ID"]
_HEAD = re.compile(r"^(?P<name>.+?)\s*\((?P<id>\d+)\)\s*$")


class RosterError(ValueError):
    """The roster cannot be imported; nothing was written."""


@dataclass
class RosterImport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)  # nbgrader assignment -> Canvas id
    skipped: list[str] = field(default_factory=list)


RECORD = "canvas.json"  # in .mlse/: what nbgrader's gradebook has no field for


def canvas_records(course) -> dict:
    """What the last roster import kept: {"students": {id: {"SIS User ID", "SIS Login ID",
    "Section"}}, "assignments": {name: canvas id}} (empty when there was none)."""
    from .course import Course

    data = Course.of(course).read_json(RECORD)
    data.setdefault("students", {})
    data.setdefault("assignments", {})
    return data


def _split_name(text: str) -> tuple[str, str]:
    """Canvas's "Last, First" as (first, last)."""
    last, sep, first = text.partition(",")
    if not sep:
        first, _, last = text.strip().partition(" ")
    return first.strip(), last.strip()


def import_canvas_roster(course, csv_path: str | Path, id_column: str = "SIS Login ID",
                         assignment_names: list[str] | None = None) -> RosterImport:
    """Import Canvas's gradebook CSV as the class roster (see the module docstring)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .course import Course
    from .csv_files import read_import_csv

    if id_column not in ID_COLUMNS:
        raise RosterError(f"--id-column must be one of {', '.join(ID_COLUMNS)}")
    course = Course.of(course)
    db_url = course.require_gradebook()
    csv_path = Path(csv_path)
    header, rows = read_import_csv(csv_path, RosterError)
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing:
        raise RosterError(f"{csv_path} has no column {', '.join(missing)}: export the gradebook "
                          f"from Canvas (Grades, Export, CSV). Nothing was imported.")
    if id_column not in header:  # the other SIS columns are optional: kept when there
        present = [c for c in ID_COLUMNS if c in header]
        raise RosterError(f"{csv_path} has no column {id_column}, which --id-column says holds "
                          f"nbgrader's student ids (default: SIS Login ID). This file has "
                          f"{', '.join(present)}: run it again with --id-column "
                          f"\"{present[0]}\". Nothing was imported.")
    names = set(assignment_names if assignment_names is not None else course.assignments())
    result = RosterImport()
    for head in header:
        m = _HEAD.match(head)
        if m and m["name"] in names:
            result.assignments[m["name"]] = m["id"]
    people, errors, seen = [], [], {}
    for line, row in enumerate(rows, start=2):
        student = (row.get("Student") or "").strip()
        if not student or student.lower().startswith("points possible") or not (row.get("ID") or "").strip():
            continue
        if student == "Student, Test":
            result.skipped.append("Student, Test (Canvas's test student)")
            continue
        canvas_id = row["ID"].strip()
        sid = next((row.get(c, "").strip() for c in [id_column, *ID_COLUMNS] if row.get(c, "").strip()), "")
        if sid in seen:
            errors.append(f"line {line}: id {sid!r} is also on line {seen[sid]}")
            continue
        seen[sid] = line
        first, last = _split_name(student)
        people.append((sid, first, last, canvas_id, {c: (row.get(c) or "").strip()
                                                     for c in ("SIS User ID", "SIS Login ID", "Section")}))
    with Gradebook(db_url) as gb:
        by_lms = {str(s.lms_user_id): s.id for s in gb.students if s.lms_user_id}
        for sid, first, last, canvas_id, _ in people:
            try:
                existing = gb.find_student(sid)
            except MissingEntry:
                existing = None
            if existing is not None and existing.lms_user_id and str(existing.lms_user_id) != canvas_id:
                errors.append(f"{sid}: the gradebook has Canvas id {existing.lms_user_id}, the file "
                              f"{canvas_id}; fix one of them")
            elif canvas_id in by_lms and by_lms[canvas_id] != sid:
                errors.append(f"{sid}: Canvas id {canvas_id} already belongs to gradebook student "
                              f"{by_lms[canvas_id]}")
        if errors:
            raise RosterError(f"{csv_path}: {len(errors)} problem(s); nothing was imported:\n  "
                              + "\n  ".join(errors))
        for sid, first, last, canvas_id, _ in people:
            try:
                gb.find_student(sid)
                result.updated.append(sid)
            except MissingEntry:
                result.added.append(sid)
            gb.update_or_create_student(sid, first_name=first or None, last_name=last or None,
                                        lms_user_id=canvas_id)
    data = canvas_records(course)
    for sid, *_, extra in people:
        data["students"][sid] = extra
    data["assignments"].update(result.assignments)
    course.write_json(RECORD, data)
    return result
