"""The course: one object that knows where everything is, built once per command and passed along.

A :class:`Course` is read the way nbgrader reads a course: ``nbgrader_config.py`` in the course
folder, traitlets settings. Every other module asks it, and never spells a folder name itself:

* **Folders** come from nbgrader's own :class:`~nbgrader.coursedir.CourseDirectory`: the step
  folders (``source_directory``, ``release_directory``, ``submitted_directory``,
  ``autograded_directory``, ``feedback_directory``) and, for one student's files, its
  ``format_path`` with ``directory_structure`` (:meth:`Course.submission`, :meth:`Course.autograded_of`,
  :meth:`Course.feedback_of`), so a course that renames a folder or changes the layout works in
  every command.
* **The gradebook**: :attr:`Course.db_url` is the one way to it (nbgrader's ``db_url`` setting, or
  ``gradebook.db`` in the course folder); :meth:`Course.require_gradebook` refuses to go on without
  it rather than letting nbgrader create an empty one.
* **mlse's own records** live under ``.mlse/`` (:attr:`Course.state`), and only this class writes
  there: :meth:`Course.write_state` (atomic: written beside, then renamed), :meth:`Course.write_log`
  (one JSON file per run in ``.mlse/logs/``), :meth:`Course.read_state`.
* **Submission times**: :meth:`Course.timestamp` is the one reader of nbgrader's ``timestamp.txt``,
  :meth:`Course.write_timestamp` the one writer.
* **mlse's options** are traitlets ``Configurable`` classes with help text (for example
  ``c.LmsCollect.max_notebook_mb = 20`` in nbgrader_config.py): :meth:`Course.settings`.

Functions that take a course accept a :class:`Course` or a path (:meth:`Course.of`): a path is
turned into a Course once, at the door.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import time
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TypeVar

__all__ = ["Course", "load_config", "GradebookMissing", "CONFIG_FILE", "TIMESTAMP_FILE"]

T = TypeVar("T")

CONFIG_FILE = "nbgrader_config.py"
TIMESTAMP_FILE = "timestamp.txt"  # nbgrader's record of when a submission was handed in
DEFAULT_GRADEBOOK = "gradebook.db"  # nbgrader's default, in the course folder
STATE_DIR = ".mlse"  # mlse's own records, never handed to students
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
WORKSPACE_GRADEBOOK = f"""

# Added by mlse in a throwaway workspace: its own gradebook, never the class's.
import os as _os
c.CourseDirectory.db_url = "sqlite:///" + _os.path.join(_os.path.dirname(_os.path.abspath(__file__)),
                                                       "{DEFAULT_GRADEBOOK}")
"""


class GradebookMissing(FileNotFoundError):
    """The class gradebook does not exist (and this command must not create an empty one)."""


def load_config(root: str | Path):
    """The traitlets Config of ``root/nbgrader_config.py`` (empty if there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root)
    if not (root / CONFIG_FILE).is_file():
        return Config()
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


class Course:
    """One nbgrader course folder: its configuration, its folders, its gradebook, mlse's records."""

    def __init__(self, root: str | Path, config=None, extra: dict | None = None):
        """``config``: an already loaded traitlets Config (default: read nbgrader_config.py);
        ``extra``: configuration merged on top (``{"Class": {"trait": value}}``)."""
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        self.root = Path(root).resolve()
        config = Config(load_config(self.root) if config is None else config)
        if extra:
            config.merge(Config(extra))
        config.CourseDirectory.root = str(self.root)
        self.config = config
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(self.root)

    @classmethod
    def of(cls, course: "Course | str | Path") -> "Course":
        """``course`` itself if it is a Course, else the Course at that path."""
        return course if isinstance(course, Course) else cls(course)

    def __repr__(self) -> str:
        return f"Course({str(self.root)!r})"

    def __fspath__(self) -> str:  # a Course can go wherever a path to its folder is expected
        return str(self.root)

    # ---------------------------------------------------------------- folders

    def _folder(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else self.root / p

    @property
    def source(self) -> Path:
        """solutions/ in this course: the instructor's notebooks, with tests."""
        return self._folder(self.coursedir.source_directory)

    @property
    def release(self) -> Path:
        """exercises/ in this course: what learners get."""
        return self._folder(self.coursedir.release_directory)

    @property
    def submitted(self) -> Path:
        return self._folder(self.coursedir.submitted_directory)

    @property
    def autograded(self) -> Path:
        return self._folder(self.coursedir.autograded_directory)

    @property
    def feedback(self) -> Path:
        return self._folder(self.coursedir.feedback_directory)

    def path(self, step: str, student: str, assignment: str) -> Path:
        """Where nbgrader keeps ``student``'s files of ``assignment`` for a step folder (a
        ``*_directory`` value), following ``directory_structure``."""
        return Path(self.coursedir.format_path(step, student, assignment))

    def source_of(self, assignment: str) -> Path:
        return self.path(self.coursedir.source_directory, ".", assignment)

    def release_of(self, assignment: str) -> Path:
        return self.path(self.coursedir.release_directory, ".", assignment)

    def submission(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.submitted_directory, student, assignment)

    def autograded_of(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.autograded_directory, student, assignment)

    def feedback_of(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.feedback_directory, student, assignment)

    #: intake's repaired copies, graded in place of the submitted folder (nbgrader's
    #: ``submitted_directory`` for that run): ``.mlse/intake/``, laid out like a step folder.
    INTAKE_STEP = f"{STATE_DIR}/intake"

    def intake_of(self, student: str, assignment: str) -> Path:
        return self.path(self.INTAKE_STEP, student, assignment)

    def _students_in(self, step: str, assignment: str) -> list[str]:
        """Students with a folder of ``assignment`` in a step folder (as nbgrader finds them:
        ``directory_structure`` with a wildcard for the student)."""
        pattern = self.coursedir.format_path(step, "*", assignment)
        regex = re.compile(self.coursedir.format_path(step, "(?P<student>[^/]+)", assignment,
                                                      escape=True) + "$")
        found = set()
        for path in glob.glob(pattern):
            m = regex.match(path)
            if m and os.path.isdir(path) and not m["student"].startswith("."):
                found.add(m["student"])
        return sorted(found)

    def submitters(self, assignment: str) -> list[str]:
        """Students with a submission of ``assignment``."""
        return self._students_in(self.coursedir.submitted_directory, assignment)

    def graded_students(self, assignment: str) -> list[str]:
        """Students with an autograded copy of ``assignment``."""
        return self._students_in(self.coursedir.autograded_directory, assignment)

    def assignments(self) -> list[str]:
        """Assignment names: the folders of the source directory that hold a notebook."""
        source = self.source
        if not source.is_dir():
            return []
        return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def copy_config_to(self, dest: str | Path) -> Path:
        """Copy nbgrader_config.py into ``dest``, a throwaway course folder (a workspace), with
        its gradebook pinned to ``dest/gradebook.db``: whatever ``db_url`` the course sets, grading
        in a workspace never writes the class gradebook."""
        src = self.root / CONFIG_FILE
        text = src.read_text(encoding="utf-8") if src.is_file() else ""
        text += WORKSPACE_GRADEBOOK
        target = Path(dest) / CONFIG_FILE
        target.write_text(text, encoding="utf-8")
        return target

    # ---------------------------------------------------------------- the gradebook

    @cached_property
    def db_url(self) -> str:
        """The class gradebook's URL: nbgrader's ``db_url`` setting, or its default."""
        configured = self.config.CourseDirectory.get("db_url")
        return configured or f"sqlite:///{self.root / DEFAULT_GRADEBOOK}"

    @property
    def db_path(self) -> Path | None:
        """The SQLite file, when the gradebook is one."""
        prefix = "sqlite:///"
        return Path(self.db_url[len(prefix):]) if self.db_url.startswith(prefix) else None

    def require_gradebook(self) -> str:
        """The gradebook's URL, or :class:`GradebookMissing` with what to do: commands that read or
        change grades never create an empty gradebook by accident (nbgrader would, silently)."""
        if self.db_path is not None and not self.db_path.is_file():
            raise GradebookMissing(
                f"No gradebook at {self.db_path}. Nothing was changed. Run this from the course "
                f"folder that holds your class's gradebook; for a new course, `mlse release` "
                f"creates it (it records the assignments), then add your students with "
                f"`nbgrader db student import students.csv`.")
        return self.db_url

    def gradebook(self):
        """An open nbgrader Gradebook (use ``with``)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url)

    # ---------------------------------------------------------------- mlse's records (.mlse/)

    @property
    def state(self) -> Path:
        """``.mlse/`` in the course folder: mlse's own records (never handed to students)."""
        return self.root / STATE_DIR

    def state_path(self, *parts: str) -> Path:
        return self.state.joinpath(*parts)

    def write_state(self, relpath: str | Path, data: str | bytes) -> Path:
        """Write ``.mlse/RELPATH`` atomically (beside, then renamed): a run killed mid-write
        leaves the old file or the new one, never half of one."""
        path = self.state / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        if isinstance(data, bytes):
            partial.write_bytes(data)
        else:
            partial.write_text(data, encoding="utf-8")
        os.replace(partial, path)
        return path

    def secret(self, name: str) -> str:
        """A random key of this course, kept in ``.mlse/NAME`` (made on first use, readable by its
        owner only, the same from then on): what the grader must know and a student must not,
        such as the key that orders the runs of learner-written tests (docs/judge.md). Two
        workers asking at once get the same key (the file is created once, exclusively)."""
        path = self.state / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # another worker may be writing it this very moment
                key = path.read_text(encoding="utf-8").strip()
                if key:
                    return key
                time.sleep(0.01)
            raise RuntimeError(f"{path} is empty: delete it, and a new key is made") from None
        key = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(key + "\n")
        return key

    def judge_order_key(self) -> str:
        """The key that orders the runs of learner-written tests under the judge
        (:meth:`mlse.judge.client.Judge.shuffled`), or "" when this course's ``.mlse/`` cannot be
        written (the runs then come in an order anyone can work out: grading goes on)."""
        try:
            return self.secret("judge-order-key")
        except OSError:
            return ""

    def read_state(self, relpath: str | Path) -> str | None:
        path = self.state / relpath
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def read_json(self, relpath: str | Path) -> dict:
        """A JSON record of ``.mlse/`` ({} if absent or unreadable)."""
        text = self.read_state(relpath)
        if text is None:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            return {}

    def write_json(self, relpath: str | Path, data: dict) -> Path:
        return self.write_state(relpath, json.dumps(data, indent=1, sort_keys=True))

    def log_path(self, command: str, assignment: str) -> Path:
        """Where one run's record goes: ``.mlse/logs/COMMAND-ASSIGNMENT-TIME.json``."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        return self.state / "logs" / f"{command}-{assignment}-{stamp}.json"

    def write_log(self, command: str, assignment: str, record, path: Path | None = None) -> Path:
        """One run's record (JSON-able), written as JSON at ``path`` (default: a new
        :meth:`log_path`)."""
        path = path or self.log_path(command, assignment)
        return self.write_state(path.relative_to(self.state), json.dumps(record, indent=1, default=str))

    # ---------------------------------------------------------------- submission times

    @staticmethod
    def timestamp(folder: str | Path) -> datetime | None:
        """When the submission in ``folder`` was handed in (its ``timestamp.txt``, in UTC), or None
        if it has none or it cannot be read."""
        from nbgrader.utils import parse_utc

        path = Path(folder) / TIMESTAMP_FILE
        if not path.is_file():
            return None
        text = path.read_text(errors="replace").strip()
        if not text:
            return None
        try:
            when = parse_utc(text)
        except (ValueError, OverflowError):
            return None
        return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when

    @staticmethod
    def write_timestamp(folder: str | Path, when: datetime) -> None:
        """Record when the submission in ``folder`` was handed in, as nbgrader writes it."""
        (Path(folder) / TIMESTAMP_FILE).write_text(when.strftime(TIMESTAMP_FORMAT))

    # ---------------------------------------------------------------- options

    def settings(self, cls: type[T], **overrides) -> T:
        """An instance of the Configurable ``cls`` configured from the course's nbgrader_config.py,
        then from ``overrides`` (the command line; ``None`` means "not given")."""
        from traitlets.config import Config

        config = Config(self.config)
        given = {k: v for k, v in overrides.items() if v is not None}
        if given:
            config.merge(Config({cls.__name__: given}))
        return cls(config=config)
