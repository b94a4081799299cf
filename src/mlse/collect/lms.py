"""Take an LMS download (a zip of one file per student) into nbgrader's ``submitted/`` layout.

Canvas and Moodle name each file after the student; only part of each name is the LMS's own:

* Canvas: ``doejane_12345_6789012_roles_warmup.ipynb``: ``lastfirst`` (letters and digits only),
  ``_LATE`` when Canvas found it late, the Canvas **user id**, the submission id, then the file's
  own name (chosen by the student; ``roles_warmup-1.ipynb`` for a resubmission);
* Moodle: ``Jane Doe_12345_assignsubmission_file_roles_warmup.ipynb``: the display name (chosen
  by the student, within limits), the Moodle **participant id**, the marker
  ``_assignsubmission_file_``, the file's own name; with "download submissions in folders" the
  folder is ``Jane Doe_12345_assignsubmission_file_`` and the file is inside it.

Identity comes from the LMS's id, never from a display name: a student of the gradebook whose
``lms_user_id`` is that id; else, the first time, the one student *without* an LMS id whose name
(or student id) matches, who then keeps that LMS id in the gradebook. Never a merge: an id that
two students could be, or a student that two ids claim, is refused and listed. A Moodle name in
which the LMS's marker appears twice (a display or file name shaped like
``zz_12345_assignsubmission_file_x``) cannot be read safely and is refused (issue 12, item 5).

The name parsing is an nbgrader collector plugin, :class:`LmsFileNameCollector`, which also works
with nbgrader's own ``nbgrader zip_collect --collector=mlse.collect.lms.LmsFileNameCollector``.
``mlse collect`` uses it but reads the zip itself, because zip_collect extracts every member to
disk without size limits and overwrites submissions without a check. Before anything is replaced,
each notebook is checked (a readable, complete JSON notebook within the size limits; the zip
within zip-bomb limits). The LMS's submission time (the zip entry's time) becomes nbgrader's
``timestamp.txt``, so due dates, extensions and late penalties work; an earlier version is moved to
``.mlse/versions/``, never deleted.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from textwrap import dedent

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Float, Integer, Unicode
from traitlets.config import Configurable

__all__ = ["LmsFile", "LmsCollect", "LmsFileNameCollector", "parse_lms_name", "collect_zip",
           "CollectReport", "print_collect_report", "CollectError"]

# Canvas makes "lastfirst" from the name with everything but letters and digits removed: it holds
# no "_", so the fields after it are unambiguous.
_CANVAS = re.compile(r"^(?P<key>[^_/]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<name>.+)$")
_MOODLE_MARK = re.compile(r"_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_")
_VERSION = re.compile(r"^(?P<stem>.+?)(?:-(?P<n>\d+)| \((?P<m>\d+)\))$")


class CollectError(ValueError):
    """The download cannot be collected at all (not a zip, too large); nothing was changed."""


@dataclass(frozen=True)
class LmsFile:
    """What an LMS file name says: which LMS, who (the LMS's id, and the name it shows) and the
    file's own name. ``problem`` is set when the name cannot be read safely."""

    lms: str  # "canvas" or "moodle"
    key: str  # canvas "lastfirst", or the slug of moodle's display name
    uid: str
    full_name: str
    filename: str
    late: bool = False
    problem: str = ""


def _slug(text: str) -> str:
    """Letters and digits only, accents dropped: how Canvas writes "lastfirst" (García -> garcia)."""
    import unicodedata

    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\W_]", "", text.lower())


def parse_lms_name(path: str) -> LmsFile | None:
    """Parse a member name of an LMS zip; None if it follows neither Canvas's nor Moodle's form."""
    p = PurePosixPath(path)
    # Moodle "in folders": the student is in a folder name (maybe under a top folder), which ends
    # with the LMS's marker, so its id is the last one in that folder's name.
    for i, part in enumerate(p.parts[:-1]):
        folder = part if part.endswith("_") else part + "_"  # some versions drop the last "_"
        marks = list(_MOODLE_MARK.finditer(folder))
        if marks and marks[-1].end() == len(folder):
            last = marks[-1]
            full = folder[:last.start()]
            problem = ("the display name contains Moodle's own '_ID_assignsubmission_' marker, so "
                       "the name cannot say whose file this is" if len(marks) > 1 else "")
            return LmsFile("moodle", _slug(full), last["uid"], full, "/".join(p.parts[i + 1:]),
                           problem=problem)
    marks = list(_MOODLE_MARK.finditer(p.name))
    if marks:
        m = marks[0]
        full = p.name[:m.start()]
        problem = ""
        if len(marks) > 1:
            ids = ", ".join(sorted({x["uid"] for x in marks}))
            problem = (f"Moodle's '_ID_assignsubmission_' marker appears {len(marks)} times (ids "
                       f"{ids}): a display or file name imitates it, so the name cannot say whose "
                       f"file this is; download with 'in folders', or collect it by hand")
        return LmsFile("moodle", _slug(full), m["uid"], full, p.name[m.end():], problem=problem)
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


class LmsFileNameCollector(FileNameCollectorPlugin):
    """nbgrader collector plugin for Canvas and Moodle download names.

    With nbgrader's own zip_collect: ``nbgrader zip_collect ASSIGNMENT
    --collector=mlse.collect.lms.LmsFileNameCollector``. The student is the gradebook's student
    whose ``lms_user_id`` is the LMS's id in the file name; files of unknown ids and names that
    cannot be read safely are skipped (``mlse collect`` also matches a roster without LMS ids).
    """

    def _students_by_lms_id(self) -> dict[str, list[str]]:
        if getattr(self, "_by_uid", None) is None:
            from nbgrader.api import Gradebook

            self._by_uid = {}
            coursedir = getattr(self.parent, "coursedir", None)
            if coursedir is not None:
                with Gradebook(coursedir.db_url) as gb:
                    for s in gb.students:
                        if s.lms_user_id:
                            self._by_uid.setdefault(str(s.lms_user_id), []).append(s.id)
        return self._by_uid

    def collect(self, submitted_file: str) -> dict | None:
        info = parse_lms_name(submitted_file.replace("\\", "/"))
        if info is None or not info.filename.endswith(".ipynb"):
            self.log.warning("Not a Canvas or Moodle notebook name, skipped: %s", submitted_file)
            return None
        if info.problem:
            self.log.warning("Skipped %s: %s", submitted_file, info.problem)
            return None
        students = self._students_by_lms_id().get(info.uid, [])
        if len(students) != 1:
            self.log.warning("Skipped %s: %s", submitted_file,
                             f"{len(students)} gradebook students have LMS id {info.uid}")
            return None
        return {"student_id": students[0], "file_id": _version(info.filename)[0]}


class LmsCollect(Configurable):
    """Limits and settings of ``mlse collect`` (set them in nbgrader_config.py as
    ``c.LmsCollect.max_notebook_mb = 20``; the command line overrides the file)."""

    max_notebook_mb = Float(20.0, help="Largest notebook taken in, in MB (uncompressed); larger "
                                       "ones are refused and listed.").tag(config=True)
    max_total_mb = Float(2000.0, help="Most data a download may unpack to, in MB, all members "
                                      "together (a zip bomb stops here).").tag(config=True)
    max_ratio = Integer(200, help="Largest compression ratio of a member over 1 MB (a zip bomb "
                                  "compresses far better than a notebook).").tag(config=True)
    max_members = Integer(20000, help="Most files a download may hold.").tag(config=True)
    zip_timezone = Unicode("UTC", help=dedent("""\
        Time zone of the zip entries' times, when the zip does not record UTC itself (Canvas
        and Moodle store the submission time as each file's time). An IANA name, e.g.
        "Europe/Paris".""")).tag(config=True)


@dataclass
class CollectReport:
    assignment: str
    collected: list[tuple[str, str, str]] = field(default_factory=list)  # student, member, dest
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # student, member
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # member, why
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # student, member, why
    added: list[str] = field(default_factory=list)
    linked: list[tuple[str, str]] = field(default_factory=list)  # student, LMS id newly kept
    late: list[str] = field(default_factory=list)  # students the LMS marked late
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file of the download was taken in (or was already there)."""
        return not (self.unmatched or self.refused)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("assignment", "collected", "unchanged", "unmatched",
                                              "refused", "added", "linked", "late", "notes")}


def _entry_time(info: zipfile.ZipInfo, tz: str) -> datetime:
    """The member's time as UTC: the exact Unix time of the "extended timestamp" extra field when
    the zip has one, else its DOS date and time read in ``tz``."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body = extra[4:4 + size]
        if tag == 0x5455 and size >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<I", body[1:5])[0], timezone.utc)
        extra = extra[4 + size:]
    from zoneinfo import ZoneInfo

    return datetime(*info.date_time, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def _check_notebook(data: bytes, limit: int) -> str:
    """Why ``data`` cannot be taken in as a notebook ("" if it can)."""
    import nbformat

    if not data.strip():
        return "the file is empty (0 bytes of notebook)"
    if len(data) > limit:
        return f"the notebook is {len(data) / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit"
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "not a notebook: the file is not UTF-8 text"
    except ValueError as exc:
        return f"not a complete notebook (truncated or not JSON: {exc})"
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        return "not a notebook: JSON without cells"
    try:
        nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001  (nbformat raises several kinds)
        return f"not a readable notebook: {type(exc).__name__}: {str(exc)[:200]}"
    return ""


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a member: a header that lies about its size cannot make us
    unpack more."""
    with zf.open(info) as fh:
        return fh.read(limit + 1)


class _Roster:
    """The gradebook's students, and who each LMS id is."""

    def __init__(self, gb):
        self.gb = gb
        self.refresh()

    def refresh(self) -> None:
        self.students = list(self.gb.students)
        self.by_uid: dict[str, list] = {}
        for s in self.students:
            if s.lms_user_id:
                self.by_uid.setdefault(str(s.lms_user_id), []).append(s)

    def candidates(self, info: LmsFile) -> tuple[list, str]:
        """(the students this file could be, how they were found)."""
        found = self.by_uid.get(info.uid, [])
        if found:
            return found, "lms id"
        free = [s for s in self.students if not s.lms_user_id]
        by_name = [s for s in free
                   if info.key in {_slug((s.last_name or "") + (s.first_name or "")),
                                   _slug((s.first_name or "") + (s.last_name or ""))} - {""}]
        if by_name:
            return by_name, "name"
        return [s for s in free if info.key == _slug(s.id)], "student id"


def collect_zip(root: str | Path, assignment: str, zip_path: str | Path, add_unknown: bool = False,
                options: LmsCollect | None = None) -> CollectReport:
    """Unpack ``zip_path`` into nbgrader's submitted folder for ``assignment`` and report.

    A file whose content equals what is already there is left alone; a changed one replaces the
    earlier version (moved to ``.mlse/versions/``) with the LMS's time in ``timestamp.txt``, so
    ``mlse grade`` regrades it and nothing else. A notebook that fails the checks replaces nothing:
    it is refused, and the submission is put in the needs-attention state (its old grade is no
    longer counted). Raises :class:`CollectError` when the zip cannot be read at all.
    """
    from nbgrader.api import Gradebook

    from .. import attention
    from ..course import Course
    from ..workspace import notebooks_of

    course = Course.of(root)
    root = course.root
    options = options or LmsCollect()
    db_url = course.require_gradebook()
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise CollectError(f"No file at {zip_path}: nothing was collected.")
    if not zipfile.is_zipfile(zip_path):
        raise CollectError(f"{zip_path} is not a zip file: download the submissions again with "
                           f"Canvas's 'Download Submissions' or Moodle's 'Download all "
                           f"submissions'. Nothing was collected.")
    expected = {nb.name for nb in notebooks_of(course.source_of(assignment))}
    limit = int(options.max_notebook_mb * 1e6)
    report = CollectReport(assignment)
    # (student, notebook) -> (named right, time, version, member, info)
    chosen: dict[tuple[str, str], tuple[bool, datetime, int, zipfile.ZipInfo, LmsFile]] = {}
    claims: dict[str, dict[str, list[str]]] = {}  # student -> LMS id -> members claiming them
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise CollectError(f"{zip_path} is not a readable zip ({exc}). Nothing was collected.") from None
    with zf, Gradebook(db_url) as gb:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > options.max_members:
            raise CollectError(f"{zip_path} holds {len(members)} files, over the limit of "
                               f"{options.max_members} (LmsCollect.max_members). Nothing was collected.")
        total = sum(i.file_size for i in members)
        if total > options.max_total_mb * 1e6:
            raise CollectError(f"{zip_path} would unpack to {total / 1e6:.0f} MB, over the "
                               f"{options.max_total_mb:g} MB limit (LmsCollect.max_total_mb). "
                               f"Nothing was collected.")
        roster = _Roster(gb)
        for zi in sorted(members, key=lambda i: i.filename):
            member = zi.filename
            if PurePosixPath(member).name.startswith(".") or "__MACOSX" in member:
                continue
            info = parse_lms_name(member)
            if info is None:
                report.unmatched.append((member, "not named as Canvas or Moodle name submissions "
                                                 "(lastfirst_USERID_SUBMISSIONID_file or "
                                                 "Full Name_ID_assignsubmission_file_file)"))
                continue
            if info.problem:
                report.unmatched.append((member, info.problem))
                continue
            name, version = _version(PurePosixPath(info.filename).name)
            if not name.endswith(".ipynb"):
                report.unmatched.append((member, f"not a notebook ({info.lms} user {info.uid} "
                                                 f"handed in {info.filename})"))
                continue
            renamed = False
            if name not in expected:
                if len(expected) != 1:
                    report.unmatched.append((member, f"wrongly named notebook: {name} is not a "
                                                     f"notebook of {assignment} (expected "
                                                     f"{', '.join(sorted(expected))})"))
                    continue
                renamed, name = True, next(iter(expected))
            if zi.file_size > limit:
                report.unmatched.append((member, f"the notebook is {zi.file_size / 1e6:.1f} MB, over "
                                                 f"the {options.max_notebook_mb:g} MB limit "
                                                 f"(LmsCollect.max_notebook_mb)"))
                continue
            if zi.file_size > 1e6 and zi.compress_size and zi.file_size / zi.compress_size > options.max_ratio:
                report.unmatched.append((member, f"compressed {zi.file_size / zi.compress_size:.0f} "
                                                 f"times: over the zip-bomb limit "
                                                 f"(LmsCollect.max_ratio = {options.max_ratio})"))
                continue
            found, how = roster.candidates(info)
            if len(found) > 1:
                report.unmatched.append((member, f"ambiguous: {info.lms} user {info.uid} "
                                                 f"({info.full_name or info.key}) could be any of "
                                                 f"{', '.join(sorted(s.id for s in found))} (matched "
                                                 f"by {how}); set each one's lms_user_id in the "
                                                 f"gradebook"))
                continue
            if not found:
                if not add_unknown:
                    report.unmatched.append((member, f"no student in the gradebook matches "
                                                     f"{info.lms} user {info.uid} "
                                                     f"({info.full_name or info.key}); add them, or "
                                                     f"use --add-unknown"))
                    continue
                student = info.key or info.uid
                if any(s.id == student for s in roster.students):
                    student = f"{student}_{info.uid}"
                first, _, last = info.full_name.partition(" ")
                gb.update_or_create_student(student, lms_user_id=info.uid,
                                            first_name=first or None, last_name=last or None)
                roster.refresh()
                report.added.append(student)
            else:
                student = found[0].id
            claims.setdefault(student, {}).setdefault(info.uid, []).append(member)
            when = _entry_time(zi, options.zip_timezone)
            key = (student, name)
            entry = (not renamed, when, version, zi, info)
            if key in chosen:
                keep, drop = sorted([chosen[key], entry], key=lambda e: e[:3], reverse=True)
                if not drop[0] and keep[0]:
                    report.unmatched.append((drop[3].filename, f"wrongly named notebook (expected "
                                                               f"{name}), not used: the student "
                                                               f"also handed in {name}"))
                else:
                    report.notes.append(f"{student}: {name} handed in more than once in this "
                                        f"download; kept the latest, {keep[3].filename}")
                entry = keep
            chosen[key] = entry

        # never a merge: a student that two LMS ids claim gets neither
        for student, uids in sorted(claims.items()):
            if len(uids) > 1:
                for key in [k for k in chosen if k[0] == student]:
                    del chosen[key]
                report.notes = [n for n in report.notes if not n.startswith(f"{student}: ")]
                for uid, members_of_uid in sorted(uids.items()):
                    for m in members_of_uid:
                        report.unmatched.append((m, f"ambiguous: LMS ids {', '.join(sorted(uids))} "
                                                    f"all match student {student}; nothing taken "
                                                    f"for any of them; set each one's lms_user_id "
                                                    f"in the gradebook"))

        for (student, name), (named_right, when, _, zi, info) in sorted(chosen.items()):
            member = zi.filename
            if not named_right:
                report.notes.append(f"{member}: renamed to {name}, the assignment's only notebook")
            data = _read_member(zf, zi, limit)
            problem = _check_notebook(data, limit)
            folder = course.submission(student, assignment)
            if problem:
                report.refused.append((student, member, problem))
                attention.mark(course, gb, assignment, student,
                               f"the new submission {member} was refused by mlse collect: {problem}",
                               "collect")
                continue
            found, _ = roster.candidates(info)
            if not found or not found[0].lms_user_id:
                gb.update_or_create_student(student, lms_user_id=info.uid)
                report.linked.append((student, info.uid))
                roster.refresh()
            if info.late:
                report.late.append(student)
            _keep_lms_record(course, assignment, student, info, member, when)
            dest = folder / name
            old_time = course.timestamp(folder)
            if dest.is_file() and dest.read_bytes() == data:
                report.unchanged.append((student, member))
                continue
            if old_time is not None and when < old_time:
                report.notes.append(f"{student}: {member} is older ({when:%Y-%m-%d %H:%M} UTC) than "
                                    f"the submission already collected ({old_time:%Y-%m-%d %H:%M} "
                                    f"UTC); kept the newer one")
                continue
            if folder.is_dir() and any(folder.iterdir()):
                keep = course.state_path("versions", assignment, student,
                                         (old_time or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ"))
                keep.mkdir(parents=True, exist_ok=True)
                for f in folder.iterdir():
                    if f.is_file():
                        shutil.copy2(f, keep / f.name)
                report.notes.append(f"{student}: the earlier version was kept in "
                                    f"{keep.relative_to(root)}")
            folder.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".collecting")
            tmp.write_bytes(data)
            tmp.replace(dest)
            course.write_timestamp(folder, when)
            report.collected.append((student, member, str(dest.relative_to(root))))
            attention.new_version(course, assignment, student)
        if report.late:
            try:
                due = gb.find_assignment(assignment).duedate
            except Exception:  # noqa: BLE001  (not released yet)
                due = None
            if due is None:
                report.notes.append(f"Canvas marked {len(report.late)} submission(s) LATE, but "
                                    f"{assignment} has no due date in the gradebook, so nbgrader "
                                    f"computes no lateness: set one with `nbgrader db assignment "
                                    f"add {assignment} --duedate=...`")
    course.write_log("collect", report.assignment, report.to_json())
    return report


LMS_RECORD = "lms.json"  # in the course's .mlse/


def _keep_lms_record(course, assignment: str, student: str, info: LmsFile, member: str,
                     when: datetime) -> None:
    """What the LMS said about the submission collected last (its id, file, time and late flag),
    in ``.mlse/lms.json``; the export shows the late flag beside nbgrader's own lateness."""
    data = course.read_json(LMS_RECORD)
    data[f"{assignment}/{student}"] = {"lms": info.lms, "lms_user_id": info.uid, "file": member,
                                       "submitted": when.isoformat(), "late": info.late}
    course.write_json(LMS_RECORD, data)


def lms_records(root) -> dict[tuple[str, str], dict]:
    """(assignment, student) -> what the LMS said about the last collected submission."""
    from ..course import Course

    return {tuple(k.split("/", 1)): v for k, v in Course.of(root).read_json(LMS_RECORD).items()}


def print_collect_report(report: CollectReport, console=None, verbose: bool = False) -> None:
    """Counts first; every problem in full; per-student lines only with ``verbose``."""
    from rich.console import Console

    console = console or Console(soft_wrap=True)  # reasons in full, never cut or folded
    console.print(f"[bold]{report.assignment}[/]: {len(report.collected)} collected, "
                  f"{len(report.unchanged)} unchanged, {len(report.refused)} refused, "
                  f"{len(report.unmatched)} not matched")
    if verbose:
        for student, member, dest in report.collected:
            console.print(f"  {student}: {member} -> {dest}")
        for student, member in report.unchanged:
            console.print(f"  {student}: {member} [dim]unchanged[/]")
    if report.added:
        console.print(f"Added to the gradebook: {', '.join(report.added)}")
    if report.linked:
        console.print("LMS ids kept in the gradebook (first match): "
                      + ", ".join(f"{s}={u}" for s, u in report.linked))
    if report.late:
        console.print(f"Marked late by the LMS: {', '.join(sorted(set(report.late)))}")
    for note in report.notes:
        console.print(f"note: {note}")
    if report.refused:
        console.print("[bold red]Refused[/] (the earlier submission was kept; these now need "
                      "attention, their old grade no longer counts):")
        for student, member, why in report.refused:
            console.print(f"  {student}: {member}: {why}")
    if report.unmatched:
        console.print("[bold red]Not collected[/] (nothing was written for them):")
        for member, why in report.unmatched:
            console.print(f"  {member}: {why}")
