"""Inspect a submission before grading: say what is wrong with it, and repair what can be.

Real classes hand in files that are not notebooks, notebooks under another name, and notebooks
whose graded cells were deleted, copied, split, re-typed or edited. Left alone, some of these stop
``nbgrader autograde`` for that student (a file that is not JSON) and others grade unfairly (a
deleted test cell is never run). :func:`inspect` compares a student's folder with the released
exercise and returns an :class:`IntakeReport`: every :class:`Problem` found, each in words a person
understands, and a *prepared* copy of the submission that nbgrader can always grade.

The submitted files are only read, never modified: repairs go into the prepared copy, under
``<course>/.mlse/intake/STUDENT/ASSIGNMENT``; grade it with
``mlse.grade.one.autograde(..., submitted_directory=outcome.submitted_directory)``.

Problem codes (``Problem.code``), and what happens to each:

=====================  ===========================================================================
not_json               the file is not JSON (truncated, binary): left out, graded as missing (0)
not_notebook           JSON, but not a notebook: left out, graded as missing (0)
missing_notebook       an expected notebook is absent or unreadable: nbgrader scores it 0
renamed_notebook       a notebook under another name, recognised by its cells: graded as itself
extra_notebook         a notebook that is not part of the assignment: not graded
deleted_cell           a graded or locked cell is gone: put back from the release
duplicate_cell         a graded or locked cell appears more than once (copied, or split): test and
                       locked copies are reduced to one; answer copies all run, in order
retyped_cell           a cell's type was changed (code to markdown...): changed back
edited_locked_cell     a test or locked cell was edited: the original is restored (nbgrader does
                       this too, from the gradebook) and graded as if untouched
symlink                a symbolic link (to solutions, say): left out, never followed
suspicious_code        student code redefines a name the tests rely on, or tampers with IPython:
                       graded, but flagged for a person to look at
=====================  ===========================================================================
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..notebook_cells import describe, grade_id, is_learners, names_bound, nbgrader_meta, role
from .code_reading import dynamic_code

__all__ = ["Problem", "IntakeReport", "inspect"]

RISKY = re.compile(r"os\._exit|os\.fork|os\.kill|ctypes|signal\.signal|socket|subprocess|os\.system|"
                   r"resource\.setrlimit")
REPAIRED = {"renamed_notebook", "deleted_cell", "duplicate_cell", "retyped_cell", "edited_locked_cell"}
TAMPERING = re.compile(r"showtraceback|input_transformers|ast_transformers|run_cell|excepthook|"
                       r"__builtins__|builtins\.|sys\.modules\[|set_custom_exc|events\.register")


@dataclass
class Problem:
    code: str
    notebook: str
    message: str

    @property
    def repaired(self) -> bool:
        return self.code in REPAIRED


@dataclass
class IntakeReport:
    """What intake found in one student's submission of one assignment."""

    student: str
    assignment: str
    status: str  # ok | repaired | flagged | nothing_gradable | no_submission
    problems: list[Problem] = field(default_factory=list)
    prepared: Path | None = None  # the prepared copy: .../STUDENT/ASSIGNMENT
    submitted_directory: str | None = None  # for nbgrader's CourseDirectory.submitted_directory

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def summary(self) -> str:
        if not self.problems:
            return f"{self.student}: {self.status}"
        return f"{self.student}: {self.status}: " + "; ".join(p.message for p in self.problems)

    def to_dict(self) -> dict:
        return {"student": self.student, "assignment": self.assignment, "status": self.status,
                "problems": [vars(p) | {"repaired": p.repaired} for p in self.problems],
                "prepared": str(self.prepared) if self.prepared else None}




def _read_notebook(path: Path) -> tuple[object | None, str | None, str]:
    """(notebook, problem code, message): the notebook when it reads, else why it does not."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, "not_json", f"{path.name} is not a notebook file (not valid JSON: {exc.__class__.__name__})"
    if not (isinstance(data, dict) and isinstance(data.get("cells"), list) and "nbformat" in data):
        return None, "not_notebook", f"{path.name} is JSON but not a Jupyter notebook (no cells)"
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds
        return None, "not_notebook", f"{path.name} is not a valid notebook ({str(exc).splitlines()[0][:120]})"
    return nb, None, ""


def _protected_names(release) -> set[str]:
    """Names the tests rely on: everything the locked set-up cells import or define, except what
    an answer cell is meant to redefine (m3 asks for a fixed ``short_title``: an honest answer
    must never be flagged)."""
    names: set[str] = set()
    answers: set[str] = set()
    for cell in release.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        if role(cell) == "given":
            names |= _bound_names(tree)
        elif is_learners(cell):
            answers |= _bound_names(tree)
    return names - answers


def _imports(tree) -> set[tuple]:
    """``(module, name, bound as)`` of every top-level import in ``tree``."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            found |= {(node.module, a.name, a.asname or a.name) for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {(a.name, None, a.asname or a.name.split(".")[0]) for a in node.names}
    return found


def _given_imports(release) -> set[tuple]:
    """The imports of the locked given cells: an answer that repeats one (``from collections
    import Counter`` when the set-up has it too) binds the very same object, and is not flagged."""
    found: set[tuple] = set()
    for cell in release.cells:
        if cell.cell_type == "code" and role(cell) == "given":
            try:
                found |= _imports(ast.parse(cell.source))
            except SyntaxError:
                continue
    return found


def _bound_names(tree) -> set[str]:
    """Names a cell binds at its top level: the ones a later cell (a test) can see. A variable
    inside a function is the function's own business (an honest answer has many)."""
    return names_bound(ast.unparse(tree)) if tree.body else set()


def _patched_modules(tree) -> list[str]:
    """``module.attribute = ...`` where the module is one of the course's or IPython's: a change
    to what the tests call (``import helpers.checks as c; c.check = ...``)."""
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                full = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                imported[(alias.asname or alias.name).split(".")[0]] = full
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)] \
            if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(target, ast.Attribute) and isinstance(base, ast.Name):
                module = imported.get(base.id, "")
                if module.split(".")[0] in ("helpers", "mlse", "IPython", "ipykernel", "nbgrader"):
                    found.append(f"{base.id}.{target.attr}")
    return found


def _suspicious(cell, protected: set[str], given_imports: set[tuple] = frozenset()) -> str | None:
    """Why a student's code cell deserves a human look, or None."""
    found = TAMPERING.search(cell.source)
    if found:
        return f"touches `{found.group(0)}` (IPython or Python internals)"
    found = RISKY.search(cell.source)
    if found:
        return f"uses `{found.group(0)}` (process, signal or network control)"
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return None
    patched = _patched_modules(tree)
    if patched:
        return "changes " + ", ".join(f"`{n}`" for n in patched) + " in a module the tests use"
    same_imports = {bound for (_m, _n, bound) in _imports(tree) & set(given_imports)}
    other_bindings = _bound_names(ast.Module(body=[n for n in tree.body if not (
        isinstance(n, (ast.Import, ast.ImportFrom)) and {b for (_m, _n, b) in _imports(ast.Module(body=[n], type_ignores=[]))} <= same_imports)],
        type_ignores=[]))
    rebound = sorted(other_bindings & protected)
    if rebound:
        return "redefines " + ", ".join(f"`{n}`" for n in rebound) + ", which the tests rely on"
    dynamic = dynamic_code(tree)
    if dynamic:  # it may rebind an answer out of sight: the judge will not trust a reading of code
        return f"may rebind names out of sight: {dynamic}"
    return None


def _compare(release, nb, name: str, problems: list[Problem]):
    """Repair ``nb`` (a copy) against ``release``; record each problem found."""
    rel_cells = {grade_id(c): (i, c) for i, c in enumerate(release.cells) if grade_id(c)}
    order = [grade_id(c) for c in release.cells if grade_id(c)]

    # duplicates: nbgrader keeps the grading metadata on the LAST copy; for tests and locked
    # cells, drop the earlier copies (they would run a partial or edited test for nothing)
    seen: dict[str, int] = {}
    for c in nb.cells:
        if grade_id(c):
            seen[grade_id(c)] = seen.get(grade_id(c), 0) + 1
    for gid, count in sorted(seen.items()):
        if count > 1 and gid in rel_cells:
            kind = describe(rel_cells[gid][1])
            if is_learners(rel_cells[gid][1]):
                how = "all copies run in order; the last one is the graded answer"
                # nbgrader would blank the earlier copies' metadata, then refuse the notebook as
                # "old metadata format": make them plain cells of the student's instead
                last = max(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)
                for i, c in enumerate(nb.cells):
                    if grade_id(c) == gid and i != last:
                        del c.metadata["nbgrader"]
            else:
                how = "only the last copy is kept"
                last = max(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)
                nb.cells = [c for i, c in enumerate(nb.cells) if grade_id(c) != gid or i == last]
            problems.append(Problem("duplicate_cell", name,
                                    f"{name}: {kind} '{gid}' appears {count} times (copied or split): {how}"))

    # deleted: put back from the release, after the nearest earlier cell that is still there
    present = {grade_id(c) for c in nb.cells}
    for pos, gid in enumerate(order):
        if gid in present:
            continue
        cell = copy.deepcopy(rel_cells[gid][1])
        earlier = [g for g in order[:pos] if g in present]
        at = 0
        if earlier:
            at = max(i for i, c in enumerate(nb.cells) if grade_id(c) == earlier[-1]) + 1
        nb.cells.insert(at, cell)
        present.add(gid)
        kind = describe(cell)
        fix = ("put back from the exercise, so it is graded as if untouched" if kind != "answer cell"
               else "put back as the blank exercise cell (its answer is missing)")
        problems.append(Problem("deleted_cell", name, f"{name}: {kind} '{gid}' was deleted: {fix}"))

    # re-typed and edited cells
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid not in rel_cells:
            continue
        orig = rel_cells[gid][1]
        meta, orig_meta = nbgrader_meta(cell), nbgrader_meta(orig)
        if cell.cell_type != orig.cell_type:
            problems.append(Problem("retyped_cell", name, f"{name}: {describe(orig)} '{gid}' was changed "
                                    f"from {orig.cell_type} to {cell.cell_type}: changed back"))
            cell.cell_type = orig.cell_type
            if cell.cell_type == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        edits = []
        if not is_learners(orig) and cell.source != orig.source:
            edits.append("its content")
            cell.source = orig.source
        changed = sorted(k for k in set(orig_meta) | set(meta) if k != "checksum" and orig_meta.get(k) != meta.get(k))
        if changed:
            edits.append("its grading settings (" + ", ".join(changed) + ")")
            cell.metadata["nbgrader"] = copy.deepcopy(orig_meta)
        if edits:
            problems.append(Problem("edited_locked_cell", name, f"{name}: {describe(orig)} '{gid}': "
                                    f"{' and '.join(edits)} had been edited: restored, graded as if untouched"))

    protected, given = _protected_names(release), _given_imports(release)
    for cell in nb.cells:
        if cell.cell_type != "code" or (grade_id(cell) and not is_learners(cell)):
            continue
        why = _suspicious(cell, protected, given)
        if why:
            where = f"answer cell '{grade_id(cell)}'" if grade_id(cell) else "a cell of the student's own"
            problems.append(Problem("suspicious_code", name, f"{name}: {where} {why}: look at it"))
    ids: set[str] = set()
    for i, cell in enumerate(nb.cells):  # copies and re-inserted cells must not share an id
        if cell.get("id") in ids or not cell.get("id"):
            cell["id"] = f"mlse-intake-{i:03d}"
        ids.add(cell["id"])
    return nb


def inspect(course_root, assignment: str, student: str, *,
            release: str | Path | None = None, prepare: bool = True) -> IntakeReport:
    """Inspect ``student``'s submission of ``assignment`` against the released exercise.

    ``course_root``: the course (a :class:`~mlse.course.Course` or its folder). ``release`` is
    the folder of released notebooks (default: the course's release folder of the assignment).
    With ``prepare`` (the default), writes the repaired copy that should be graded
    (:meth:`~mlse.course.Course.intake_of`) and returns its location in the outcome.
    """
    from ..course import Course

    course = Course.of(course_root)
    folder = course.submission(student, assignment)
    release_dir = Path(release) if release else course.release_of(assignment)
    expected = {p.name: nbformat.read(p, as_version=4) for p in sorted(release_dir.glob("*.ipynb"))}
    if not expected:
        raise FileNotFoundError(f"no released notebooks in {release_dir}: run `mlse release {assignment}`")
    if not folder.is_dir():
        return IntakeReport(student, assignment, "no_submission",
                       [Problem("missing_notebook", "", f"no submission folder {folder}")])

    problems: list[Problem] = []
    for link in sorted(p for p in folder.rglob("*") if p.is_symlink()):
        # a link could make the trusted grader copy a file the student must not see
        problems.append(Problem("symlink", link.name, f"{link.relative_to(folder)} is a symbolic link "
                                f"(to {os.readlink(link)}): left out, never followed"))
    readable: dict[str, object] = {}
    for path in sorted(p for p in folder.glob("*.ipynb") if not p.is_symlink()):
        nb, code, message = _read_notebook(path)
        if nb is None:
            problems.append(Problem(code, path.name, message))
        else:
            readable[path.name] = nb

    matched: dict[str, object] = {}
    for name in expected:
        if name in readable:
            matched[name] = readable.pop(name)
    for name, rel in expected.items():  # recognise renamed notebooks by their grade ids
        if name in matched:
            continue
        want = {grade_id(c) for c in rel.cells if grade_id(c)}
        best = max(readable.items(), key=lambda kv: len(want & {grade_id(c) for c in kv[1].cells}), default=None)
        if best and want & {grade_id(c) for c in best[1].cells}:
            matched[name] = readable.pop(best[0])
            problems.append(Problem("renamed_notebook", name,
                                    f"{best[0]} is {name} under another name: graded as {name}"))
    for name in readable:
        problems.append(Problem("extra_notebook", name, f"{name} is not part of this assignment: not graded"))
    for name in expected:
        if name not in matched:
            problems.append(Problem("missing_notebook", name, f"{name} is missing or unreadable: it scores 0"))

    repaired = {name: _compare(expected[name], copy.deepcopy(nb), name, problems)
                for name, nb in matched.items()}

    codes = {p.code for p in problems}
    if not matched:
        status = "nothing_gradable"
    elif codes - REPAIRED - {"extra_notebook"}:
        status = "flagged"
    elif codes & REPAIRED:
        status = "repaired"
    else:
        status = "ok"
    outcome = IntakeReport(student, assignment, status, problems)
    if prepare:
        dest = course.intake_of(student, assignment)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for path in sorted(folder.iterdir()):  # the student's other files, and timestamp.txt
            if path.is_symlink():
                continue  # reported below; never followed
            if path.is_dir():
                shutil.copytree(path, dest / path.name, symlinks=True,
                                ignore=lambda d, names: [n for n in names if (Path(d) / n).is_symlink()])
            elif path.suffix != ".ipynb" and path.is_file():
                shutil.copy2(path, dest / path.name)
        for name in readable:  # extra notebooks travel along (nbgrader skips them)
            nbformat.write(readable[name], dest / name)
        for name, nb in repaired.items():
            nbformat.write(nb, dest / name)
        if not repaired:
            # nbgrader refuses a submission without any notebook of the assignment; the blank
            # exercise stands in for it, so the student is graded (0 on every test) like the rest
            for name in expected:
                shutil.copy2(release_dir / name, dest / name)
            problems.append(Problem("missing_notebook", "", "nothing gradable was handed in: the blank "
                                    "exercise is graded in its place (0 on every test)"))
        outcome.prepared = dest
        outcome.submitted_directory = course.INTAKE_STEP
    return outcome
