"""Take an LMS download (a zip of one file per student) into nbgrader's ``submitted/`` layout.

Canvas and Moodle name each file after the student, not after nbgrader's student id:

* Canvas: ``doejane_12345_6789012_roles_warmup.ipynb`` (``lastfirst``, the Canvas user id, the
  submission id, the file's own name), ``doejane_LATE_12345_...`` for a late one, and
  ``roles_warmup-1.ipynb`` when a student resubmitted;
* Moodle: ``Jane Doe_12345_assignsubmission_file_roles_warmup.ipynb``, or with "download
  submissions in folders", ``Jane Doe_12345_assignsubmission_file_/roles_warmup.ipynb``.

Each file is matched to a student of the class gradebook (``nbgrader db student add`` or
``nbgrader db student import``, or ``mlse demo-class``): by LMS user id (the gradebook's
``lms_user_id``), by name, or by student id. A file that matches nobody is listed, never guessed.
``--add-unknown`` adds such students, named from the LMS. nbgrader's own exchange
(``nbgrader collect``) is untouched and keeps working as documented.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ..workspace import notebooks_of

__all__ = ["LmsFile", "parse_lms_name", "collect_zip", "CollectReport", "print_collect_report"]

_CANVAS = re.compile(r"^(?P<key>[a-z0-9]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<name>.+)$")
_MOODLE = re.compile(r"^(?P<full>[^/]+?)_(?P<uid>\d+)_assignsubmission_[a-z]+_/?(?P<name>.*)$")
_VERSION = re.compile(r"^(?P<stem>.+?)(?:-(?P<n>\d+)| \((?P<m>\d+)\))$")


@dataclass(frozen=True)
class LmsFile:
    """What an LMS file name says: which LMS, who (its key, id, full name) and the file's name."""

    lms: str  # "canvas" or "moodle"
    key: str  # canvas "lastfirst", or the slug of moodle's full name
    uid: str
    full_name: str
    filename: str
    late: bool = False


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def parse_lms_name(path: str) -> LmsFile | None:
    """Parse a member name of an LMS zip; None if it follows neither Canvas's nor Moodle's form."""
    p = PurePosixPath(path)
    # Moodle's "in folders" download puts the student in a folder name (maybe under a top folder)
    at = next((i for i, part in enumerate(p.parts) if "_assignsubmission_" in part), None)
    m = _MOODLE.match("/".join(p.parts[at:])) if at is not None else None
    if m:
        return LmsFile("moodle", _slug(m["full"]), m["uid"], m["full"], PurePosixPath(m["name"]).name)
    m = _CANVAS.match(p.name)
    if m:
        return LmsFile("canvas", m["key"], m["uid"], "", m["name"], bool(m["late"]))
    return None


def _version(filename: str) -> tuple[str, int]:
    """``roles_warmup-2.ipynb`` -> (``roles_warmup.ipynb``, 2): Canvas numbers resubmissions."""
    stem, suffix = (filename[:-6], ".ipynb") if filename.endswith(".ipynb") else (filename, "")
    m = _VERSION.match(stem)
    if m:
        return m["stem"] + suffix, int(m["n"] or m["m"])
    return filename, 0


@dataclass
class CollectReport:
    assignment: str
    collected: list[tuple[str, str, str]] = field(default_factory=list)  # student, zip member, dest
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # student, zip member
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # zip member, why
    added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _match(info: LmsFile, students) -> str | None:
    for s in students:
        if s.lms_user_id and s.lms_user_id == info.uid:
            return s.id
    for s in students:
        first, last = s.first_name or "", s.last_name or ""
        names = {_slug(last + first), _slug(first + last)} - {""}
        if info.key in names or info.key == _slug(s.id):
            return s.id
    return None


def collect_zip(root: str | Path, assignment: str, zip_path: str | Path,
                add_unknown: bool = False) -> CollectReport:
    """Unpack ``zip_path`` into ``root/submitted/STUDENT/ASSIGNMENT/`` and report what happened.

    A file whose content equals what is already there is left alone; a changed one is written
    with a fresh ``timestamp.txt``, so ``mlse grade`` regrades it and nothing else.
    """
    from nbgrader.api import Gradebook

    from ..gradebook import db_url_for

    root = Path(root)
    expected = {nb.name for nb in notebooks_of(root / "solutions" / assignment)}
    report = CollectReport(assignment)
    chosen: dict[tuple[str, str], tuple[int, str, LmsFile]] = {}
    with zipfile.ZipFile(zip_path) as zf, Gradebook(db_url_for(root)) as gb:
        students = list(gb.students)
        for member in sorted(zf.namelist()):
            if member.endswith("/") or PurePosixPath(member).name.startswith("."):
                continue
            info = parse_lms_name(member)
            if info is None:
                report.unmatched.append((member, "not named as Canvas or Moodle name submissions"))
                continue
            name, version = _version(info.filename)
            if not name.endswith(".ipynb"):
                report.unmatched.append((member, "not a notebook"))
                continue
            if name not in expected:
                if len(expected) == 1:
                    report.notes.append(f"{member}: renamed to {next(iter(expected))}, the "
                                        f"assignment's only notebook")
                    name = next(iter(expected))
                else:
                    report.unmatched.append((member, f"no notebook {name} in {assignment} "
                                                     f"(expected {', '.join(sorted(expected))})"))
                    continue
            student = _match(info, students)
            if student is None and add_unknown:
                first, _, last = info.full_name.partition(" ")
                student = info.key
                gb.update_or_create_student(student, lms_user_id=info.uid,
                                            first_name=first or None, last_name=last or None)
                students = list(gb.students)
                report.added.append(student)
            if student is None:
                report.unmatched.append((member, f"no student in the gradebook matches {info.lms} "
                                                 f"user {info.uid} ({info.full_name or info.key})"))
                continue
            key = (student, name)
            if key in chosen:
                report.notes.append(f"{student}: {name} submitted more than once, kept the latest")
                if chosen[key][0] > version:
                    continue
            chosen[key] = (version, member, info)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
        for (student, name), (_, member, info) in sorted(chosen.items()):
            folder = root / "submitted" / student / assignment
            dest = folder / name
            data = zf.read(member)
            if dest.is_file() and dest.read_bytes() == data:
                report.unchanged.append((student, member))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            (folder / "timestamp.txt").write_text(stamp)
            report.collected.append((student, member, str(dest.relative_to(root))))
            if info.late:
                report.notes.append(f"{student}: Canvas marked this submission LATE")
    return report


def print_collect_report(report: CollectReport, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"{report.assignment}: {len(report.collected)} collected, "
                        f"{len(report.unchanged)} unchanged, {len(report.unmatched)} not matched")
    for col in ("student", "from the zip", "to"):
        table.add_column(col, overflow="fold")
    for student, member, dest in report.collected:
        table.add_row(student, member, dest)
    for student, member in report.unchanged:
        table.add_row(student, member, "[dim]unchanged[/]")
    console.print(table)
    if report.added:
        console.print(f"Added to the gradebook: {', '.join(report.added)}")
    for note in report.notes:
        console.print(f"note: {note}")
    if report.unmatched:
        console.print("[bold red]Files not matched to a student[/] (nothing was written for them):")
        for member, why in report.unmatched:
            console.print(f"  {member}: {why}")
