"""``mlse check``: a learner grades their own notebook, locally, before handing it in.

The notebook is graded exactly as the instructor will grade it (real ``nbgrader autograde``, with
the hidden tests) but in a throwaway course folder with its own gradebook, deleted afterwards:
no class gradebook, ``submitted/`` or ``autograded/`` folder is read or written. The learner sees
a score per part and, for every test that failed, the friendly message it gave; a hidden test's
code is never shown (its output goes through the same redaction as instructor feedback).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .outputs.feedback import RedactHiddenOutputs
from .gradebook import cell_scores
from .grade.worker import GradeJob, grade_in_workspace
from .notebook_cells import grade_id
from .outputs.report import part_of_cells
from .workspace import find_course_root, make_workspace, submit_notebook

__all__ = ["PartResult", "assignment_of", "check_notebook", "check_notebooks"]

STUDENT = "me"
#: How a message about an answer cell that raised begins (see :func:`_answer_errors`).
RAISED_PREFIXES = ("your answer cell ", "a cell you added ")


@dataclass
class PartResult:
    part: str
    score: float
    max_score: float
    auto: bool  # False: graded by your instructor
    messages: list[str]
    later: float = 0.0  # points of tests that are all hidden (student edition): graded by your instructor


def assignment_of(root: Path, notebook: Path) -> str:
    """The assignment a notebook belongs to: its folder's name if that is an assignment with a
    notebook of the same name, else the one assignment that has a notebook of that name."""
    from .course import Course

    course = Course.of(root)
    names = course.assignments()
    source = course.source
    if notebook.parent.name in names and (source / notebook.parent.name / notebook.name).is_file():
        return notebook.parent.name
    owners = [a for a in names if (source / a / notebook.name).is_file()]
    if len(owners) != 1:
        raise FileNotFoundError(
            f"{notebook.name} is not a notebook of any assignment in {source.name}/ "
            f"({', '.join(names)}): check the file name, or pass the copy in exercises/.")
    return owners[0]


def _messages(cell) -> list[str]:
    """The friendly lines a test cell printed when it failed (after hidden-test redaction): its
    error, or else the lines marked ✘ or ✎ it printed (a part scored by a number, such as the
    learner-written tests, says there why it gave fewer points)."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            if o.get("ename") == "CheckFailed":
                out += [l for l in str(o.get("evalue", "")).splitlines() if l.strip()]
            else:
                out.append(f"{o.get('ename')}: {o.get('evalue')}")
    if not out:
        out = [line.strip() for o in cell.get("outputs", []) if o.get("output_type") == "stream"
               for line in str(o.get("text", "")).splitlines() if line.strip()[:1] in ("✘", "✎")]
    return out


def error_line(cell) -> str:
    """The last line of the error a code cell raised (``NameError: name 'pytest' is not defined``),
    or ``""`` when it raised nothing."""
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            message = str(o.get("evalue", "")).strip().splitlines()
            return f"{o.get('ename')}: {message[0]}" if message else str(o.get("ename"))
    return ""


def answer_error_note(cell) -> str:
    """The line feedback adds under an answer cell that raised, or ``""``."""
    line = error_line(cell)
    return (f"✘ This answer cell raised {line}. What it defines after that line is missing, so "
            "the tests that need it lose points.") if line else ""


def _answer_errors(graded, parts_of: dict[str, str]) -> dict[str, list[str]]:
    """``{part: [message]}`` for every answer cell (or cell the learner added) that raised: its
    points are lost in the tests after it, and the learner must hear why."""
    raised: dict[str, list[str]] = {}
    part = next(iter(parts_of.values()), "")
    for cell in graded.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in parts_of:
            part = parts_of[gid]
        if cell.cell_type != "code" or (meta and not meta.get("solution")):
            continue  # given code and tests: their own messages say what failed
        line = error_line(cell)
        if line:
            where = f"your answer cell {gid}" if gid else "a cell you added"
            raised.setdefault(part, []).append(f"{where} raised {line}")
    return raised


def check_notebook(notebook: str | Path, root: str | Path | None = None) -> list[PartResult]:
    """Grade one notebook in a throwaway course folder; return the result per part."""
    from .course import Course

    course = root if isinstance(root, Course) else Course(find_course_root(root))
    notebook = Path(notebook).resolve()
    if not notebook.is_file():
        raise FileNotFoundError(f"No notebook at {notebook}.")
    assignment = assignment_of(course, notebook)
    from .sandbox.zygote import start_in_background

    start_in_background()  # a no-op when `mlse check` already started it
    tmp = Path(tempfile.mkdtemp(prefix="mlse-check-"))
    result = None
    try:
        ws = Course(make_workspace(tmp / "course", course))
        _generate(ws, assignment)
        submit_notebook(ws, STUDENT, assignment, notebook)
        # the instructor's grading unit, in-process: same nbgrader Autograde, same isolation
        result = grade_in_workspace(GradeJob(str(ws.root), assignment, STUDENT, str(ws.db_path)))
        private = Course(result.workspace) if result.workspace else None
        graded_path = private.autograded_of(STUDENT, assignment) / notebook.name if private else None
        if not result.ok or graded_path is None or not graded_path.is_file():
            raise RuntimeError(f"{notebook.name} could not be graded at all (is it a valid notebook, "
                               f"saved from Jupyter?). nbgrader said:\n{result.log[-1500:]}")
        graded = nbformat.read(graded_path, as_version=4)
        redact = RedactHiddenOutputs()
        cells = {}
        for i, cell in enumerate(graded.cells):
            gid = grade_id(cell)
            if gid:
                cells[gid] = redact.preprocess_cell(cell, {}, i)[0]
        source_nb = course.source_of(assignment) / notebook.name
        parts_of = part_of_cells(source_nb)
        hidden_only = _hidden_only_tests(source_nb)
        results: dict[str, PartResult] = {}
        for s in cell_scores(private.db_url, assignment):
            part = parts_of.get(s.cell, s.cell)
            r = results.setdefault(part, PartResult(part, 0.0, 0.0, s.auto, []))
            if s.cell in hidden_only:  # nothing to run here: its tests were removed on release
                r.later += s.max_score
                continue
            r.max_score += s.max_score
            r.score += s.score or 0.0
            r.auto = r.auto and s.auto
            if s.auto and (s.score or 0) < s.max_score and s.cell in cells:
                msgs = _messages(cells[s.cell])
                hidden = "BEGIN HIDDEN TESTS" in cells[s.cell].source
                msgs = msgs[:4] or [f"{s.cell} earned {s.score or 0:g} of {s.max_score:g} points"]
                seen = {m.removeprefix("hidden test: ") for m in r.messages}
                msgs = [m for m in msgs if m not in seen]  # a part's two tests often say the same
                if hidden and msgs:
                    msgs[0] = "hidden test: " + msgs[0]
                r.messages += msgs
        for part, lines in _answer_errors(graded, parts_of).items():
            if part in results:
                results[part].messages[:0] = lines
        order = list(dict.fromkeys(parts_of.values()))
        return sorted(results.values(), key=lambda r: order.index(r.part) if r.part in order else 99)
    finally:
        from .sandbox.cleanup import remove_tree

        remove_tree(tmp)  # never raises, never recurses (whatever the notebook left there)
        if result is not None and result.workspace:
            remove_tree(result.workspace)


def _hidden_only_tests(source_nb: Path) -> set[str]:
    """Test cells with no code left (in a student edition, where hidden tests were removed on
    release): they pass whatever is answered, so they are not counted here."""
    from .notebook_cells import grade_id, is_autograded_test

    out = set()
    for cell in nbformat.read(source_nb, as_version=4).cells:
        if is_autograded_test(cell):
            code = [l for l in cell.source.splitlines() if l.strip() and not l.strip().startswith("#")]
            if not code:
                out.add(grade_id(cell))
    return out


def _generate(ws, assignment: str) -> None:
    """nbgrader generate_assignment, in-process (a learner should not wait for two interpreters
    to start): it records the assignment, with its hidden tests, in the throwaway gradebook.

    Generating is most of a check's time (nbgrader creates a gradebook through an ``alembic``
    subprocess), and its result depends only on the assignment's source notebooks, the course's
    nbgrader_config.py and nbgrader's version; so the gradebook and the release it makes are kept
    in the user's cache folder (``~/.cache/mlse/generated/``), under a digest of those, and reused.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    config = ws.config
    release = ws.release_of(assignment)
    cached = _cache_folder() / _generation_key(ws.root, ws.source_of(assignment))
    if (cached / _CACHED_DB).is_file() and (cached / _CACHED_RELEASE).is_dir():
        shutil.copyfile(cached / _CACHED_DB, ws.db_path)
        shutil.rmtree(release, ignore_errors=True)
        shutil.copytree(cached / _CACHED_RELEASE, release)
        return
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    app = GenerateAssignment(coursedir=coursedir, config=config)
    app.force = True
    app.start()
    staging = None
    try:  # kept for next time: written beside, then renamed (two checks at once both succeed)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_cache_folder()))
        shutil.copyfile(ws.db_path, staging / _CACHED_DB)
        shutil.copytree(release, staging / _CACHED_RELEASE)
        os.rename(staging, cached)
    except OSError:  # stored by another check first, or no cache folder: generating again is fine
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


_CACHED_DB, _CACHED_RELEASE = "generated.sqlite", "released"  # one cache entry's two parts


def _cache_folder() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "mlse" / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _generation_key(ws: Path, source: Path) -> str:  # ws: the workspace's folder
    """A digest of everything generate_assignment's output depends on."""
    import hashlib

    import nbgrader

    digest = hashlib.sha256(f"nbgrader {nbgrader.__version__}\n".encode())
    from .course import CONFIG_FILE

    digest.update((ws / CONFIG_FILE).read_bytes())
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def _has_hidden_tests(source: Path) -> bool:
    return any("BEGIN HIDDEN TESTS" in p.read_text(encoding="utf-8") for p in source.glob("*/*.ipynb"))


def check_notebooks(paths: list[str], console=None) -> int:
    """``mlse check``: print a table per notebook; returns 0 if every notebook could be graded."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    from .course import Course

    dirs = Course(find_course_root())
    root = dirs
    notebooks = [Path(p) for p in paths] or sorted(dirs.release.glob("*/*.ipynb"))
    if not notebooks:
        console.print("No notebooks to check: pass one, e.g. mlse check exercises/ASSIGNMENT/NAME.ipynb")
        return 1
    status = 0
    for nb in notebooks:
        console.print(f"Checking [bold]{nb}[/] (as your instructor's autograder will) ...")
        try:
            results = check_notebook(nb, root)
        except (FileNotFoundError, RuntimeError) as exc:
            console.print(f"[bold red]✘[/] {exc}")
            status = 1
            continue
        table = Table(title=str(nb))
        for col, kw in (("part", {}), ("score", {"justify": "right"}), ("what to look at", {})):
            table.add_column(col, overflow="fold", **kw)
        auto = sum(r.score for r in results if r.auto), sum(r.max_score for r in results if r.auto)
        for r in results:
            if not r.auto:
                table.add_row(r.part, f"- / {r.max_score:g}", "graded by your instructor")
                continue
            if r.later and not r.max_score:
                table.add_row(r.part, f"- / {r.later:g}", "hidden tests: run when your instructor grades")
                continue
            ok = r.score >= r.max_score
            raised = [m for m in r.messages if m.startswith(RAISED_PREFIXES)]  # an answer cell raised
            table.add_row(r.part, f"[{'green' if ok else 'red'}]{r.score:g} / {r.max_score:g}[/]",
                          "\n".join(["✔ all tests pass", *raised]) if ok else "\n".join(r.messages))
        console.print(table)
        console.print(f"Autograded total: [bold]{auto[0]:g} / {auto[1]:g}[/] "
                      f"(plus {sum(r.max_score for r in results if not r.auto):g} points graded by hand"
                      + (f", {sum(r.later for r in results):g} points of hidden tests your instructor runs"
                         if any(r.later for r in results) else "") + ")")
        rubric = _rubric_for(nb, dirs)
        if rubric is not None and any(not r.auto for r in results):
            console.print(f"Learning on your own? Mark the parts graded by hand yourself, after writing "
                          f"your answer, with the rubric and model answers in [bold]{rubric}[/].")
        if dirs.source == dirs.release or not _has_hidden_tests(dirs.source):
            console.print("[dim]Visible tests only: your instructor's grading adds hidden tests "
                          "for edge cases, so the final score can be lower.[/]")
    return status


#: The file beside an exercise with its hand-graded parts' rubric and model answers.
RUBRIC_FILE = "rubric.md"


def _rubric_for(notebook: Path, dirs) -> Path | None:
    """The rubric of ``notebook``'s assignment: beside the learner's copy, or in the released
    exercise's folder; None when the assignment has none."""
    beside = Path(notebook).parent / RUBRIC_FILE
    if beside.is_file():
        return beside
    released = dirs.release / Path(notebook).resolve().parent.name / RUBRIC_FILE
    return released if released.is_file() else None
