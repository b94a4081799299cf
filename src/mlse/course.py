"""The course's configuration, read the way nbgrader reads it: ``nbgrader_config.py`` in the course
folder, traitlets settings, the command line overriding the file.

* Folder names come from nbgrader's :class:`~nbgrader.coursedir.CourseDirectory` (``source_directory``,
  ``release_directory``, ``submitted_directory``, ``autograded_directory``, ``feedback_directory``),
  never hard-coded: :func:`course_dirs`.
* ``mlse``'s own options are traitlets ``Configurable`` classes with help text (for example
  ``c.LmsCollect.max_notebook_mb = 20`` in nbgrader_config.py); :func:`settings` builds one from the
  file, with the command line's values (those not ``None``) on top.
* :func:`require_gradebook`: every command that reads grades refuses to run without the class
  gradebook, instead of letting nbgrader create an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = ["CourseDirs", "load_config", "course_dirs", "settings", "require_gradebook",
           "GradebookMissing"]

T = TypeVar("T")


class GradebookMissing(FileNotFoundError):
    """The class gradebook does not exist (and this command must not create an empty one)."""


def load_config(root: str | Path):
    """The traitlets Config of ``root/nbgrader_config.py`` (empty if there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root)
    if not (root / "nbgrader_config.py").is_file():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


@dataclass(frozen=True)
class CourseDirs:
    """Where nbgrader keeps each stage's files for this course (absolute paths)."""

    root: Path
    source: Path        # solutions/ in this course: the instructor's notebooks, with tests
    release: Path       # exercises/: what learners get
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str
    db_path: Path | None  # the SQLite file, when the gradebook is one

    def submission(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment


def course_dirs(root: str | Path, config=None) -> CourseDirs:
    """The course's folders as nbgrader_config.py sets them (nbgrader's defaults otherwise)."""
    from nbgrader.coursedir import CourseDirectory

    root = Path(root).resolve()
    config = load_config(root) if config is None else config
    cd = CourseDirectory(config=config)
    cd.root = str(root)

    def folder(name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else root / p

    db_url = cd.db_url or f"sqlite:///{root / 'gradebook.db'}"
    db_path = Path(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else None
    return CourseDirs(root, folder(cd.source_directory), folder(cd.release_directory),
                      folder(cd.submitted_directory), folder(cd.autograded_directory),
                      folder(cd.feedback_directory), db_url, db_path)


def settings(cls: type[T], root: str | Path, config=None, **overrides) -> T:
    """An instance of the Configurable ``cls`` configured from the course's nbgrader_config.py,
    then from ``overrides`` (the command line; ``None`` means "not given")."""
    from traitlets.config import Config

    config = Config(load_config(root) if config is None else config)
    given = {k: v for k, v in overrides.items() if v is not None}
    if given:
        config.merge(Config({cls.__name__: given}))
    return cls(config=config)


def require_gradebook(root: str | Path) -> str:
    """The gradebook's URL, or :class:`GradebookMissing` with what to do: commands that read or
    change grades never create an empty gradebook by accident (nbgrader would, silently)."""
    dirs = course_dirs(root)
    if dirs.db_path is not None and not dirs.db_path.is_file():
        raise GradebookMissing(
            f"No gradebook at {dirs.db_path}. Nothing was changed. Run this from the course folder "
            f"that holds your class's gradebook; for a new course, `mlse release` creates it "
            f"(it records the assignments), then add your students with "
            f"`nbgrader db student import students.csv`.")
    return dirs.db_url
