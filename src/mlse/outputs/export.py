"""Grades for the LMS, as nbgrader export plugins (``nbgrader export --exporter=...``).

Two exporters, each an :class:`nbgrader.plugins.ExportPlugin`, so they run under nbgrader's own
``nbgrader export`` as well as under ``mlse export``:

* :class:`CanvasExporter` writes Canvas's gradebook import format (``canvas_grades.csv``): the
  columns ``Student``, ``ID`` (the Canvas user id, the gradebook's ``lms_user_id``),
  ``SIS User ID``, ``SIS Login ID``, ``Section`` (as ``mlse roster import`` kept them from
  Canvas's own export), then one column per assignment that has a Canvas assignment id (named
  ``name (Canvas assignment id)``; the ids come from the roster import or
  ``CanvasExporter.assignment_ids``; ``all_assignments`` writes the others too), and a
  ``Points Possible`` row first, as Canvas's own export has it. No other column: Canvas would
  take an unknown column for a new assignment. ``missing_as_zero`` writes 0 for a missing
  submission instead of a blank (which Canvas reads as "no change").
* :class:`PartsCsvExporter` writes a plain CSV (``mlse_grades.csv``): one row per student, the
  score of every part of every assignment, each assignment's late penalty (nbgrader's), the LMS's
  own late flag (Canvas's ``LATE``, kept by ``mlse collect``) and score, the total, and a
  ``pending`` column that says what is not final yet.

In both, a score is what nbgrader's own export computes: the submission's score minus its late
penalty (``AssignLatePenalties``, from the due date, the submission's timestamp and its extension),
never below 0. Both first settle every score (:func:`mlse.handgrades.settle`: hand grades follow
their answers, late penalties recomputed from the final total) and write it to the gradebook, so
``nbgrader export`` and formgrader say the same. A cell is **blank, not 0**, when there is no submission, when an answer still waits
for a hand grade, when the version collected is not graded yet (a resubmission collected since
the last ``mlse grade``, or one an interrupted ``--force`` run did not reach:
:func:`mlse.grade.selection.not_graded_yet`), or when the submission needs attention (its new
version could not be collected or graded, see :mod:`mlse.attention`); ``pending`` says which.
An assignment listed in ``CourseExport.optional_assignments`` (nbgrader_config.py) may be skipped:
a student without a submission of it has a blank cell there, nothing pending, and a final total.
Neither file is nbgrader's ``grades.csv``, so the two exports never overwrite each other.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import NamedTuple
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Dict, Enum, List, Unicode

__all__ = ["Standing", "standings", "CourseExport", "CanvasExporter", "PartsCsvExporter",
           "export_grades", "CANVAS_COLUMNS"]

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _fmt(x: float | None) -> str:
    """Scores as a person writes them: 12, 12.5 (never 12.000000001); blank for None."""
    return "" if x is None else f"{round(x, 4):g}"


class Pending(NamedTuple):
    """One score an export leaves blank or marks, and why: ``status`` is the Standing's
    ("missing", "pending", "attention", "ungraded", or "graded" for a flagged submission whose
    score counts). This is where every "not current" reason of an export lives."""

    student: str
    assignment: str
    status: str
    why: str
    flagged: bool = False  # the judge flagged the submission: a person should look at it


@dataclass
class Standing:
    """One student's standing on one assignment, as an export shows it."""

    status: str  # "graded", "missing", "pending" (hand grades), "attention", "ungraded" (the
    # version collected is not the one graded: mlse.grade.selection.not_graded_yet), "optional"
    # (no submission of an optional assignment: counts as nothing)
    score: float | None = None  # after the late penalty; None when not final
    raw_score: float | None = None
    penalty: float = 0.0
    max_score: float = 0.0
    parts: dict[str, float | None] = field(default_factory=dict)  # part title -> score (None: pending)
    pending: str = ""  # what is not final, in words
    timestamp: str = ""
    flagged: bool = False  # graded, but flagged for review in formgrader


def _parts_of(root, assignment: str) -> dict[str, dict[str, str]]:
    """notebook -> grade id -> part title (from the source notebooks' headings)."""
    from .report import part_of_cells

    if root is None:
        return {}
    from ..course import Course
    from ..workspace import notebooks_of

    return {nb.stem: part_of_cells(nb) for nb in notebooks_of(Course.of(root).source_of(assignment))}


def standings(gb, root, assignments: list[str] | None = None,
              optional: frozenset[str] | set[str] = frozenset()) -> tuple[list, dict, dict]:
    """(assignment rows, {(student, assignment): Standing}, {assignment: {part: max score}}) for
    every student of the gradebook. ``root``: the course (a Course or its folder), or None.
    ``optional``: assignments a student may skip (``CourseExport.optional_assignments``)."""
    from .. import attention
    from ..course import Course
    from ..grade.selection import not_graded_yet

    root = Course.of(root) if root is not None else None

    rows = sorted(gb.assignments, key=lambda a: a.name)
    if assignments:
        rows = [a for a in rows if a.name in assignments]
    waiting = attention.reasons(root) if root is not None else {}
    out, maxima = {}, {}
    for a in rows:
        parts_of = _parts_of(root, a.name)
        part_max: dict[str, float] = maxima.setdefault(a.name, {})
        for nb in a.notebooks:
            for cell in nb.grade_cells:
                title = parts_of.get(nb.name, {}).get(cell.name, cell.name)
                part_max[title] = part_max.get(title, 0.0) + cell.max_score
        ungraded = {} if root is None else not_graded_yet(
            root, a.name, {s.student.id for s in gb.assignment_submissions(a.name)})
        for student in gb.students:
            st = Standing("graded", max_score=a.max_score, parts={p: None for p in part_max})
            out[(student.id, a.name)] = st
            reason = waiting.get((a.name, student.id))
            if not reason and student.id in ungraded:  # the gradebook's grade is of another version
                st.status, st.pending = "ungraded", ungraded[student.id]
                continue
            try:
                sub = gb.find_submission(a.name, student.id)
            except MissingEntry:
                if a.name in optional:  # skipped an optional assignment: nothing is pending
                    st.status = "optional"
                else:
                    st.status, st.pending = "missing", "no submission"
                continue
            st.timestamp = str(sub.timestamp or "")
            flagged = any(nb.flagged for nb in sub.notebooks)
            if reason:  # a failed or refused submission: its old grade no longer counts
                st.status = "attention"
                st.pending = "needs attention: " + reason["reason"]
                continue
            to_grade = []
            parts: dict[str, float | None] = {p: 0.0 for p in part_max}
            for nb in sub.notebooks:
                for g in nb.grades:
                    title = parts_of.get(nb.name, {}).get(g.name, g.name)
                    if g.needs_manual_grade or (g.auto_score is None and g.manual_score is None):
                        to_grade.append((title, g.max_score))
                        parts[title] = None
                    elif parts.get(title) is not None:
                        parts[title] += g.score
            st.parts = parts
            st.raw_score = sub.score
            st.penalty = sub.late_submission_penalty or 0.0
            if to_grade:
                points = sum(p for _, p in to_grade)
                st.status = "pending"
                st.pending = (f"{points:g} point(s) to grade by hand: "
                              + ", ".join(sorted({t for t, _ in to_grade})))
            else:
                st.score = max(0.0, sub.score - st.penalty)
            if flagged:  # graded (the judge decided the score), but a person should look at it
                st.flagged = True
                note = "flagged for review in formgrader (the score counts)"
                st.pending = f"{st.pending}; {note}" if st.pending else note
    return rows, out, maxima


class CourseExport(ExportPlugin):
    """What both exporters share: the course folder (for part titles and needs-attention
    reasons), and the list of what is pending, for the console."""

    course_root = Unicode("", help="The course folder (default: the current folder).").tag(config=True)
    optional_assignments = List(Unicode(), [], help="Assignments a student may skip (this course: "
                                "m5_reflection). A missing submission of one counts as nothing: "
                                "its cell is blank, it is not pending, and the total is final "
                                "without it (a submission handed in counts as usual). Set it as "
                                "c.CourseExport.optional_assignments, for both exports."
                                ).tag(config=True)
    settle_first = Bool(True, help="Settle every score first (hand grades follow their answers, "
                                   "late penalties from the final total), writing the gradebook; "
                                   "False only when the caller just did.").tag(config=True)

    def _root(self) -> Path:
        return Path(self.course_root or ".").resolve()

    def _course(self):
        from ..course import Course

        if getattr(self, "_course_obj", None) is None:
            self._course_obj = Course(self._root())
        return self._course_obj

    def _select(self, gb, only=None):
        from ..handgrades import settle

        wanted = [str(a) for a in self.assignment] or None
        for a in gb.assignments if self.settle_first else []:  # the final score, computed now
            if (wanted is None or a.name in wanted) and (only is None or a.name in only):
                settle(self._course(), a.name, gb=gb)
        if only is not None:
            wanted = [a for a in (wanted or [a.name for a in gb.assignments]) if a in only]
        assignments, table, self.part_maxima = standings(gb, self._root(), wanted,
                                                         set(self.optional_assignments))
        students = sorted(gb.students, key=lambda s: s.id)
        if self.student:
            wanted = {str(s) for s in self.student}
            students = [s for s in students if s.id in wanted]
        self.pending = [Pending(s.id, a.name, st.status, st.pending, st.flagged)
                        for s in students for a in assignments
                        for st in [table[(s.id, a.name)]] if st.pending]
        return assignments, students, table

    def _dest(self, default: str) -> Path:
        dest = Path(self.to or default)
        return dest if dest.is_absolute() else self._root() / dest


class CanvasExporter(CourseExport):
    """Canvas's gradebook import CSV: ``nbgrader export --exporter=mlse.outputs.export.CanvasExporter``."""

    assignment_ids = Dict({}, help="Canvas assignment id of each nbgrader assignment, e.g. "
                                   "{'m1_roles_warmup': '12345'}: the column is then named "
                                   "'m1_roles_warmup (12345)', which Canvas matches to that "
                                   "assignment.").tag(config=True)
    student_id_column = Enum(["none", "SIS User ID", "SIS Login ID"], "none",
                             help="Also write nbgrader's student id in this column (when your "
                                  "nbgrader ids are your institution's SIS ids or logins), so "
                                  "Canvas can match students without an LMS id.").tag(config=True)
    all_assignments = Bool(False, help="Write every assignment, also those without a Canvas "
                                       "assignment id (Canvas takes such a column for a new "
                                       "assignment). By default only assignments with a Canvas "
                                       "id are written.").tag(config=True)
    missing_as_zero = Bool(False, help="Write 0, not a blank, for a student with no submission "
                                       "(a blank leaves Canvas's grade unchanged).").tag(config=True)

    def canvas_ids(self) -> dict[str, str]:
        """Canvas assignment id of each assignment: learned by `mlse roster import`, then
        ``assignment_ids`` from nbgrader_config.py on top."""
        from ..roster import canvas_records

        return {**canvas_records(self._root())["assignments"], **self.assignment_ids}

    def export(self, gradebook: Gradebook) -> None:
        from ..roster import canvas_records

        dest = self._dest("canvas_grades.csv")
        ids = self.canvas_ids()
        only = None
        if not self.all_assignments and not self.assignment:
            only = {a.name for a in gradebook.assignments if a.name in ids}
            if not only:
                raise ValueError("No assignment has a Canvas assignment id, so Canvas would take "
                                 "every column for a new assignment. Import your roster from "
                                 "Canvas's gradebook CSV (`mlse roster import FILE.csv`, which "
                                 "learns the ids), or set c.CanvasExporter.assignment_ids in "
                                 "nbgrader_config.py, or export with --all-assignments. Nothing "
                                 "was written.")
        assignments, students, table = self._select(gradebook, only)
        self.left_out = sorted(a.name for a in gradebook.assignments
                               if only is not None and a.name not in only)
        heads = [f"{a.name} ({ids[a.name]})" if a.name in ids else a.name for a in assignments]
        roster = canvas_records(self._root())["students"]
        self.without_id = []
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([*CANVAS_COLUMNS, *heads])
            w.writerow(["Points Possible", "", "", "", "", *(_fmt(a.max_score) for a in assignments)])
            for s in students:
                name = ", ".join(x for x in (s.last_name, s.first_name) if x) or s.id
                if not s.lms_user_id:
                    self.without_id.append(s.id)
                kept = roster.get(s.id, {})
                sis = {c: kept.get(c, "") for c in ("SIS User ID", "SIS Login ID")}
                if self.student_id_column != "none" and not sis[self.student_id_column]:
                    sis[self.student_id_column] = s.id
                w.writerow([name, s.lms_user_id or "", sis["SIS User ID"], sis["SIS Login ID"],
                            kept.get("Section", ""),
                            *(self._cell(table[(s.id, a.name)]) for a in assignments)])
        self.written = dest
        self.log.info("Wrote %s (%d students)", dest, len(students))
        if self.left_out:
            self.log.warning("Not written (no Canvas assignment id): %s", ", ".join(self.left_out))
        if self.without_id:
            self.log.warning("No Canvas user id for %s: Canvas cannot match them by ID",
                             ", ".join(self.without_id))


    def _cell(self, st: Standing) -> str:
        if st.status == "missing" and self.missing_as_zero:
            return "0"
        return _fmt(st.score)


class PartsCsvExporter(CourseExport):
    """Plain CSV with per-part scores: ``nbgrader export --exporter=mlse.outputs.export.PartsCsvExporter``."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self._dest("mlse_grades.csv")
        assignments, students, table = self._select(gradebook)
        columns = ["student_id", "lms_user_id", "last_name", "first_name", "email"]
        per = {}
        for a in assignments:
            parts = list(self.part_maxima[a.name])
            per[a.name] = parts
            columns += [f"{a.name}: {p}" for p in parts]
            columns += [f"{a.name} late penalty", f"{a.name} LMS late", a.name]
        columns += ["total", "pending"]
        from ..collect.lms import lms_records

        lms = lms_records(self._root())
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=columns)
            w.writeheader()
            possible = {"student_id": "points_possible"}
            for a in assignments:
                maxima = self.part_maxima[a.name]
                for p in per[a.name]:
                    possible[f"{a.name}: {p}"] = _fmt(maxima.get(p))
                possible[a.name] = _fmt(a.max_score)
            possible["total"] = _fmt(sum(a.max_score for a in assignments))
            w.writerow(possible)
            for s in students:
                row = {"student_id": s.id, "lms_user_id": s.lms_user_id or "",
                       "last_name": s.last_name or "", "first_name": s.first_name or "",
                       "email": s.email or ""}
                total, final, pending = 0.0, True, []
                for a in assignments:
                    st = table[(s.id, a.name)]
                    for p in per[a.name]:
                        row[f"{a.name}: {p}"] = "" if st.status in ("missing", "attention", "ungraded",
                                                                    "optional") \
                            else _fmt(st.parts.get(p))
                    row[f"{a.name} late penalty"] = _fmt(st.penalty) if st.penalty else ""
                    row[f"{a.name} LMS late"] = "LATE" if lms.get((a.name, s.id), {}).get("late") else ""
                    row[a.name] = _fmt(st.score)
                    if st.score is not None:
                        total += st.score
                    elif st.status != "optional":  # a skipped optional assignment counts as nothing
                        final = False
                    if st.pending:
                        pending.append(f"{a.name}: {st.pending}")
                row["total"] = _fmt(total) if final else ""
                row["pending"] = "; ".join(pending)
                w.writerow(row)
        self.written = dest
        self.log.info("Wrote %s (%d students)", dest, len(students))


def export_grades(root: str | Path, output: str | Path | None = None, fmt: str = "csv",
                  students: list[str] | None = None, assignments: list[str] | None = None,
                  options: dict | None = None):
    """Run one exporter on the class gradebook, configured from nbgrader_config.py (the same
    plugin ``nbgrader export --exporter=...`` runs). Returns the exporter (``written``,
    ``pending`` and, for Canvas, ``without_id``). ``options``: traits of the exporter
    (``all_assignments``, ``missing_as_zero``) from the command line; None means "as configured"."""
    from ..course import Course

    course = Course.of(root)
    db_url = course.require_gradebook()
    cls = {"csv": PartsCsvExporter, "canvas": CanvasExporter}[fmt]
    plugin = cls(config=course.config)
    plugin.course_root = str(course.root)
    if output is not None:
        plugin.to = str(output)
    plugin.student = list(students or [])
    plugin.assignment = list(assignments or [])
    for trait, value in (options or {}).items():
        if value is not None and plugin.has_trait(trait):
            setattr(plugin, trait, value)
    with Gradebook(db_url) as gb:
        plugin.export(gb)
    return plugin
