"""Course directories for nbgrader: find the course, list its assignments, make scratch copies.

A *workspace* is a throwaway nbgrader course directory (its own nbgrader_config.py, solutions/,
gradebook and submitted/ folders). Tests and benchmarks grade inside one, so they never touch an
instructor's real gradebook.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

__all__ = [
    "find_course_root",
    "list_assignments",
    "notebooks_of",
    "make_workspace",
    "submit_notebook",
]


def find_course_root(start: str | Path | None = None) -> Path:
    """The nearest folder, from ``start`` (default: the current one) upwards, that holds
    ``nbgrader_config.py`` and the source directory it names (``solutions/`` in this course;
    ``exercises/`` in a student edition)."""
    from .course import CONFIG_FILE, Course

    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() and Course(folder).source.is_dir():
            return folder
    raise FileNotFoundError(
        f"No course folder found at or above {here}: run this from the course folder "
        "(the one with nbgrader_config.py and solutions/).")


def list_assignments(root) -> list[str]:
    """Assignment names: the folders of the source directory (``solutions/``, as
    nbgrader_config.py names it) that hold at least one notebook."""
    from .course import Course

    return Course.of(root).assignments()


def notebooks_of(folder: str | Path) -> list[Path]:
    """The notebooks directly inside an assignment folder, in name order."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if p.is_file())


def make_workspace(dest: str | Path, root=None) -> Path:
    """Copy the course's nbgrader set-up (config and solutions/) into ``dest``.

    exercises/ is deliberately *not* copied: generating it afresh in the workspace is how the
    committed exercises/ is checked.
    """
    from .course import Course

    course = root if isinstance(root, Course) else Course(find_course_root(root))
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    course.copy_config_to(dest)
    source = course.source
    shutil.copytree(source, dest / source.relative_to(course.root),
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def submit_notebook(workspace, student: str, assignment: str, notebook) -> Path:
    """Place one notebook (a path or an ``nbformat`` node) as ``student``'s submission, where
    the course's nbgrader configuration puts it. Returns the written path."""
    from .course import Course

    folder = Course.of(workspace).submission(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, (str, Path)):
        target = folder / Path(notebook).name
        shutil.copy2(notebook, target)
        return target
    name = notebook.metadata.get("mlse_filename")
    if not name:
        raise ValueError("An in-memory notebook needs metadata['mlse_filename'] to be submitted.")
    target = folder / name
    nb = nbformat.from_dict(notebook)
    del nb.metadata["mlse_filename"]
    nbformat.write(nb, target)
    return target
