"""Take submissions from nbgrader's exchange (a class hub) into nbgrader's ``submitted/`` layout.

On a hub, students press *Submit* in the Assignments tab and nbgrader copies their folder into
the exchange: ``EXCHANGE/COURSE/inbound/STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM/`` (the inbound folder
is write-only for students, so nobody can list another's work). ``nbgrader collect`` copies the
latest one of each student over ``submitted/``, following symbolic links, without looking at it.
``mlse collect ASSIGNMENT --exchange`` gives the exchange the guarantees of an LMS zip
(:mod:`mlse.collect.lms`):

* **checked before anything is replaced**: the folder must belong to the account it names (a
  student cannot submit in another's name), every notebook must be a readable, complete notebook
  within ``HubCollect.max_notebook_mb``, the whole folder within ``max_submission_mb``; symbolic
  links and special files are never followed or copied. A submission that fails is refused, the
  earlier one is kept, and the student's grade *needs attention* (:mod:`mlse.attention`);
* **earlier versions kept**: a replaced submission, and every earlier submission of the student
  still in the exchange, are copied to ``.mlse/versions/ASSIGNMENT/STUDENT/TIME/``;
* **timestamps kept**: ``timestamp.txt`` (and ``submission_secret.txt``, which
  ``nbgrader release_feedback`` needs to hand the feedback back to that student) are copied byte
  for byte, so nbgrader's late penalties and feedback work as with ``nbgrader collect``;
* **late work known**: the summary says who submitted after the due date (extensions included),
  by how much;
* **a student not in the course** (not in the gradebook) is refused and listed, unless
  ``--add-unknown``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

from traitlets import Bool, Float
from traitlets.config import Configurable

from .lms import CollectError, CollectReport, _check_notebook

__all__ = ["HubCollect", "collect_exchange", "exchange_root", "course_id_of", "inbound_folder"]

#: nbgrader's own default (``c.Exchange.root``).
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"


class HubCollect(Configurable):
    """Settings of ``mlse collect ASSIGNMENT --exchange`` (in nbgrader_config.py as
    ``c.HubCollect.check_owner = False``; the command line overrides the file)."""

    check_owner = Bool(True, help="Take a submission only from the system account it is named "
                                  "after (on a hub with system accounts, nbgrader's inbound folder "
                                  "lets anyone write a folder named after anyone). Turn off where "
                                  "every server runs as one account (Kubernetes: jovyan).").tag(config=True)
    max_notebook_mb = Float(20.0, help="Largest notebook taken in, in MB.").tag(config=True)
    max_submission_mb = Float(100.0, help="Largest submission folder taken in, in MB, all files "
                                          "together.").tag(config=True)


def exchange_root(course) -> Path:
    """The exchange the course uses: ``c.Exchange.root`` in its nbgrader_config.py, else nbgrader's
    default, ``/srv/nbgrader/exchange``."""
    from ..course import Course

    return Path(Course.of(course).config.Exchange.get("root", DEFAULT_EXCHANGE))


def course_id_of(course) -> str:
    """``c.CourseDirectory.course_id`` of the course: its folder's name in the exchange."""
    from ..course import Course

    return str(Course.of(course).coursedir.course_id or "")


def inbound_folder(exchange: Path, course_id: str) -> Path:
    """``EXCHANGE/COURSE/inbound``, after checking it is there and readable; a
    :class:`CollectError` that says what to do otherwise. Nothing is changed either way."""
    if not course_id:
        raise CollectError("The course has no course id (c.CourseDirectory.course_id in "
                           "nbgrader_config.py): the exchange keeps each course's submissions under "
                           "its id. Nothing was collected.")
    if not exchange.is_dir():
        raise CollectError(f"No nbgrader exchange at {exchange} (c.Exchange.root in "
                           f"nbgrader_config.py, or --exchange PATH). Set up the classroom with "
                           f"`mlse classroom setup` (docs/classroom.md), or point to the exchange "
                           f"your hub uses. Nothing was collected.")
    inbound = exchange / course_id / "inbound"
    if not inbound.is_dir():
        raise CollectError(f"No inbound folder for course {course_id!r} in the exchange "
                           f"({inbound}): nothing of this course was ever released there. Release "
                           f"the assignment first (`nbgrader release_assignment ASSIGNMENT`); "
                           f"students submit into it. Nothing was collected.")
    if not os.access(inbound, os.R_OK | os.X_OK):
        info = inbound.stat()
        raise CollectError(f"Cannot read {inbound} (mode {stat.filemode(info.st_mode)}, owner "
                           f"{_owner(info.st_uid)}): students may only write there, so run "
                           f"`mlse collect` as root (sudo) or as the account that released the "
                           f"assignment. Nothing was collected.")
    return inbound


def _owner(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _parse_record(name: str, assignment: str):
    """``(student, timestamp text, time)`` of an inbound folder name, None if it is not
    ``STUDENT+ASSIGNMENT+TIMESTAMP[+RANDOM]`` of this assignment (nbgrader's own naming: student
    names may hold ``+``, so it is split from the right)."""
    from nbgrader.utils import parse_utc

    parts = name.rsplit("+", 3)
    if len(parts) == 4 and parts[1] != assignment:
        parts = name.rsplit("+", 2)  # no random suffix, and a "+" in the student's name
    if len(parts) < 3 or parts[1] != assignment:
        return None
    try:
        when = parse_utc(parts[2])
    except (ValueError, OverflowError):
        return None
    return parts[0], parts[2], when.replace(tzinfo=timezone.utc)


def _read_submission(folder: Path, max_bytes: int) -> tuple[dict[Path, tuple[bytes, int]], str]:
    """Every regular file under ``folder`` as ``{relative path: (bytes, mtime_ns)}``, or why the
    folder cannot be taken: a symbolic link or a special file anywhere, or more than ``max_bytes``
    in all.

    Collect runs as root on folders that students own and can change while it reads (the inbound
    folder is writable by all). So nothing is looked up twice by name: each folder is opened once
    (``O_NOFOLLOW``) and everything in it is opened relative to that handle, never following a
    link; what is checked is exactly what is read."""
    files: dict[Path, tuple[bytes, int]] = {}
    total = 0
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

    def walk(dir_fd: int, rel: Path) -> str:
        nonlocal total
        for name in sorted(os.listdir(dir_fd)):
            path = rel / name
            try:
                fd = os.open(name, flags | os.O_NONBLOCK, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return f"{path} is a symbolic link (never followed: it could point at any file)"
                return f"{path} cannot be read ({exc.strerror})"
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode):
                    problem = walk(fd, path)
                    if problem:
                        return problem
                    continue
                if not stat.S_ISREG(info.st_mode):
                    return f"{path} is not a regular file"
                total += info.st_size
                if total > max_bytes:
                    return f"the submission holds over {max_bytes / 1e6:g} MB (HubCollect.max_submission_mb)"
                with os.fdopen(os.dup(fd), "rb") as fh:
                    files[path] = (fh.read(info.st_size + 1), info.st_mtime_ns)
            finally:
                os.close(fd)
        return ""

    try:
        top = os.open(folder, flags | os.O_DIRECTORY)
    except OSError as exc:
        return {}, f"the submission folder cannot be opened ({exc.strerror})"
    try:
        problem = walk(top, Path())
    finally:
        os.close(top)
    return ({}, problem) if problem else (files, "")


def _write_files(files: dict[Path, tuple[bytes, int]], dest: Path, owner: tuple[int, int] | None) -> None:
    """Write ``files`` into the new folder ``dest``, bytes and modification times kept, owned by
    ``owner`` (the course folder's owner, when collect runs as root)."""
    dest.mkdir(parents=True)
    for rel, (data, mtime_ns) in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, ns=(mtime_ns, mtime_ns))
    if owner is not None:
        for path in [dest, *dest.rglob("*")]:
            os.chown(path, *owner, follow_symlinks=False)


def _keep_version(course, assignment: str, student: str, folder: Path, when: datetime | None,
                  owner) -> Path | None:
    """A copy of ``folder`` in ``.mlse/versions/ASSIGNMENT/STUDENT/TIME/`` (kept once per time)."""
    keep = course.state_path("versions", assignment, student,
                             (when or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ"))
    if keep.exists():
        return None
    files, problem = _read_submission(folder, 1 << 34)
    if problem:
        return None
    _write_files(files, keep, owner)
    return keep


def _read_stamp_text(folder: Path) -> str | None:
    """``timestamp.txt`` as nbgrader wrote it (compared as text: collect keeps it byte for byte)."""
    from ..course import TIMESTAMP_FILE

    path = folder / TIMESTAMP_FILE
    return path.read_text().strip() if path.is_file() else None


def _late_by(gb, assignment: str, student: str, when: datetime) -> timedelta | None:
    """How late ``when`` is for ``student`` (the due date plus their extension), None if on time
    or the assignment has no due date."""
    from nbgrader.api import MissingEntry

    try:
        due = gb.find_assignment(assignment).duedate
    except MissingEntry:
        return None
    if due is None:
        return None
    try:
        extension = gb.find_submission(assignment, student).extension or timedelta(0)
    except MissingEntry:
        extension = timedelta(0)
    late = when.replace(tzinfo=None) - (due + extension)
    return late if late > timedelta(0) else None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return f"{delta.total_seconds():.0f} s"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return " ".join(f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "0 min"


def collect_exchange(root, assignment: str, exchange: str | Path | None = None,
                     add_unknown: bool = False, options: HubCollect | None = None) -> CollectReport:
    """Take the latest submission of ``assignment`` of every student from the exchange into
    ``submitted/`` (see the module docstring for the guarantees) and report. Raises
    :class:`CollectError` when the exchange cannot be read at all (nothing is changed then)."""
    import pwd

    from nbgrader.api import Gradebook

    from .. import attention
    from ..course import Course
    from ..workspace import notebooks_of

    course = Course.of(root)
    root = course.root
    options = options or HubCollect()
    db_url = course.require_gradebook()
    exchange = Path(exchange) if exchange else exchange_root(course)
    course_id = course_id_of(course)
    inbound = inbound_folder(exchange, course_id)
    expected = {nb.name for nb in notebooks_of(course.source_of(assignment))}
    limit = int(options.max_notebook_mb * 1e6)
    report = CollectReport(assignment)
    owner = None
    if os.geteuid() == 0:  # files collect writes belong to the course folder's owner, not root
        info = root.stat()
        owner = (info.st_uid, info.st_gid)

    by_student: dict[str, list[tuple[str, datetime, Path]]] = {}
    for entry in sorted(inbound.iterdir()):
        record = _parse_record(entry.name, assignment)
        if record is None:
            if f"+{assignment}+" in entry.name:
                report.unmatched.append((entry.name, "not named STUDENT+ASSIGNMENT+TIME as "
                                                     "nbgrader's submit names its folders"))
            continue
        student, stamp, when = record
        if entry.is_symlink() or not entry.is_dir():
            report.unmatched.append((entry.name, "not a folder (nbgrader submits a folder)"))
            continue
        if options.check_owner:
            folder_owner = _owner(entry.lstat().st_uid)
            if folder_owner != student and entry.lstat().st_uid != 0:
                report.unmatched.append((entry.name, f"submitted in {student}'s name by the account "
                                                     f"{folder_owner}: not taken (only {student} can "
                                                     f"submit as {student}; c.HubCollect.check_owner)"))
                continue
        by_student.setdefault(student, []).append((stamp, when, entry))

    with Gradebook(db_url) as gb:
        known = {s.id for s in gb.students}
        for student, records in sorted(by_student.items()):
            records.sort(key=lambda r: r[1])
            stamp, when, source = records[-1]
            if student not in known:
                if not add_unknown:
                    report.unmatched.append((source.name, f"{student} is not a student of course "
                                                          f"{course_id} (not in the gradebook): add "
                                                          f"them with `nbgrader db student add "
                                                          f"{student}`, or use --add-unknown"))
                    continue
                try:
                    full = pwd.getpwnam(student).pw_gecos.split(",")[0]
                except KeyError:
                    full = ""
                first, _, last = full.partition(" ")
                gb.update_or_create_student(student, first_name=first or None, last_name=last or None)
                report.added.append(student)
            if len(records) > 1:
                report.notes.append(f"{student}: submitted {len(records)} times; took the latest "
                                    f"({when:%Y-%m-%d %H:%M:%S} UTC)")
            folder = course.submission(student, assignment)
            old_stamp = _read_stamp_text(folder) if folder.is_dir() else None
            if old_stamp == stamp:
                report.unchanged.append((student, source.name))
                continue
            if old_stamp is not None:
                old_when = course.timestamp(folder)
                if old_when is not None and old_when > when:
                    report.notes.append(f"{student}: the submission already collected "
                                        f"({old_when:%Y-%m-%d %H:%M} UTC) is newer than any in the "
                                        f"exchange; kept it")
                    continue
            else:
                old_when = None

            files, problem = _read_submission(source, int(options.max_submission_mb * 1e6))
            if not problem:
                notebooks = [f for f in files if f.suffix == ".ipynb" and len(f.parts) == 1]
                for nb in notebooks:
                    why = _check_notebook(files[nb][0], limit)
                    if why:
                        problem = f"{nb}: {why}"
                        break
                missing = sorted(expected - {nb.name for nb in notebooks})
                if not problem and missing:
                    report.notes.append(f"{student}: {', '.join(missing)} not in the submission "
                                        f"(graded as missing)")
            if problem:
                report.refused.append((student, source.name, problem))
                attention.mark(course, gb, assignment, student,
                               f"the new submission {source.name} was refused by mlse collect: "
                               f"{problem}", "collect")
                continue

            # Every earlier version is kept: the one in submitted/, and the exchange's earlier ones.
            kept = []
            if folder.is_dir() and any(folder.iterdir()):
                kept.append(_keep_version(course, assignment, student, folder, old_when, owner))
            for _, earlier_when, earlier in records[:-1]:
                if old_when is None or earlier_when > old_when:
                    kept.append(_keep_version(course, assignment, student, earlier, earlier_when, owner))
            if any(kept):
                report.notes.append(f"{student}: earlier version(s) kept in "
                                    f"{course.state_path('versions', assignment, student).relative_to(root)}/")

            incoming = folder.with_name(f".{folder.name}.collecting")
            shutil.rmtree(incoming, ignore_errors=True)
            incoming.parent.mkdir(parents=True, exist_ok=True)
            _write_files(files, incoming, owner)
            if owner is not None:
                for parent in (folder.parent, folder.parent.parent):
                    if parent.stat().st_uid == 0 and parent.is_relative_to(root):
                        os.chown(parent, *owner)
            if folder.exists():
                outgoing = folder.with_name(f".{folder.name}.replaced")
                shutil.rmtree(outgoing, ignore_errors=True)
                folder.rename(outgoing)
                incoming.rename(folder)
                shutil.rmtree(outgoing, ignore_errors=True)
            else:
                incoming.rename(folder)
            report.collected.append((student, source.name, str(folder.relative_to(root))))
            attention.new_version(course, assignment, student)
            late = _late_by(gb, assignment, student, when)
            if late is not None:
                report.notes.append(f"{student}: late, submitted {_duration(late)} after the due "
                                    f"date (nbgrader's late penalty applies at grading)")
        if by_student:
            try:
                due = gb.find_assignment(assignment).duedate
            except Exception:  # noqa: BLE001  (not in the gradebook yet)
                due = None
            if due is None:
                report.notes.append(f"{assignment} has no due date in the gradebook, so no "
                                    f"submission counts as late: set one with `nbgrader db "
                                    f"assignment add {assignment} --duedate=...`")
        else:
            report.notes.append(f"no submission of {assignment} in {inbound}")
    course.write_log("collect", report.assignment, report.to_json())
    return report
