"""``mlse student-edition OUT``: the course as an instructor hands it to students.

It holds the lessons, the released exercises, the helpers package the notebooks import, the
``mlse`` tool (for ``mlse check``) and the set-up files (``pyproject.toml``, ``Makefile``,
``README.md``), and nothing of the instructor's: no source directory (``solutions/``), no hidden
tests, no tests/ folder, no gradebook, no submissions.

``mlse check`` works there with the visible tests only: the edition's ``nbgrader_config.py`` is the
course's, with nbgrader's source directory set to the released exercises, so a learner's notebook
is graded exactly as the instructor's autograder grades it, minus the hidden tests.

Before it finishes, the edition is checked: every significant line of every hidden test and
every solution of the source notebooks is searched for in every file written; one found stops the
command (and removes the edition).
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["build_student_edition", "EditionLeak"]

EDITION_CONFIG = '''

# --- student edition (written by `mlse student-edition`) ---------------------------------------
# No solutions here: nbgrader's source directory is the released exercises, so `mlse check` grades
# with the visible tests only (hidden tests run when your instructor grades).
c.CourseDirectory.source_directory = "{release}"
c.CourseDirectory.release_directory = ".release"
'''

_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "*.egg-info")


class EditionLeak(RuntimeError):
    """A line of a hidden test or a solution was found in the student edition."""


def _secret_lines(source: Path) -> tuple[set[str], set[str]]:
    """(hidden-test lines, solution lines): the significant lines of every hidden-test region and
    every solution region of the source notebooks, minus lines a learner sees anyway (given
    code, visible tests)."""
    import nbformat

    from .notebook_cells import hidden_regions, plain_lines, solution_lines
    from .outputs.feedback import _norm, significant_lines

    hidden: set[str] = set()
    solution: set[str] = set()
    visible: set[str] = set()
    for path in source.glob("*/*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in hidden_regions(cell.source):
                hidden |= significant_lines(region.splitlines())
            solution |= significant_lines(solution_lines(cell.source))
            visible |= {_norm(line) for line in plain_lines(cell.source)}
    return hidden - visible, solution - visible


def _lines(path: Path) -> set[str]:
    """Normalised lines of a file: the sources of a notebook's cells, or a text file's lines."""
    import json

    from .outputs.feedback import _norm

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        sources = [c.get("source", "") for c in json.loads(text).get("cells", [])]
        text = "\n".join("".join(x) if isinstance(x, list) else x for x in sources)
    return {_norm(l) for l in text.splitlines()}


def build_student_edition(root: str | Path, out: str | Path) -> list[str]:
    """Write the student edition of the course at ``root`` into ``out`` (which must not exist or
    be empty). Returns the top-level entries written."""

    from .course import Course

    dirs = Course.of(root)
    root = dirs.root
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} exists and is not empty: give a new folder (nothing was written).")
    if out == root or root in out.parents:
        raise ValueError(f"{out} is inside the course folder: give a folder outside it.")
    if not dirs.release.is_dir():
        raise FileNotFoundError(f"No released exercises in {dirs.release}: run `mlse release` first.")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        lessons = root / "course"
        release_name = dirs.release.relative_to(root).as_posix()
        for name, src in [("course", lessons), (release_name, dirs.release),
                          ("src/helpers", root / "src" / "helpers"), ("src/mlse", root / "src" / "mlse")]:
            if src.is_dir():
                shutil.copytree(src, out / name, ignore=_IGNORE)
                written.append(name)
        for name in ("pyproject.toml", "Makefile", "README.md", "LICENSE", ".gitignore"):
            if (root / name).is_file():
                shutil.copy2(root / name, out / name)
                written.append(name)
        config = (root / "nbgrader_config.py").read_text(encoding="utf-8")
        (out / "nbgrader_config.py").write_text(config + EDITION_CONFIG.format(release=release_name),
                                                encoding="utf-8")
        written.append("nbgrader_config.py")

        # the check: no hidden-test line in a lesson or exercise, no solution line in an exercise.
        # src/helpers is learner-facing by design (every notebook imports it): a hidden test that
        # repeats one of its lines reveals nothing, so those lines are not secrets.
        hidden, solution = _secret_lines(dirs.source)
        shipped = set().union(*(_lines(p) for p in (out / "src" / "helpers").rglob("*.py")))
        hidden -= shipped
        for path in [*(out / "course").rglob("*.ipynb"), *(out / release_name).rglob("*.ipynb")]:
            lines = _lines(path)
            in_exercises = out / release_name in path.parents
            found = lines & (hidden | solution if in_exercises else hidden)
            if any("BEGIN HIDDEN TESTS" in l for l in lines):
                found.add("### BEGIN HIDDEN TESTS")
            if found:
                raise EditionLeak(f"{path.relative_to(out)} holds a line of a hidden test or a "
                                  f"solution: {sorted(found)[0][:80]}. Nothing was written.")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return written
