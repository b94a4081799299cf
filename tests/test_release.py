"""CI gate: exercises/ is exactly what nbgrader generates from solutions/, and leaks nothing."""

from __future__ import annotations

import json

import nbformat

from mlse.notebook_cells import split_hidden
import pytest

from conftest import ASSIGNMENTS, ROOT

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_are_generated_from_solutions(generated_workspace, assignment):
    fresh = generated_workspace / "exercises" / assignment
    committed = ROOT / "exercises" / assignment
    assert committed.is_dir(), f"exercises/{assignment} is missing: run `mlse release {assignment}`"
    assert _files(fresh) == _files(committed), f"exercises/{assignment} has other files than nbgrader generates"
    for name in _files(fresh):
        a, b = fresh / name, committed / name
        if name.endswith(".ipynb"):
            same = json.loads(a.read_text(encoding="utf-8")) == json.loads(b.read_text(encoding="utf-8"))
        else:
            same = a.read_bytes() == b.read_bytes()
        assert same, (f"exercises/{assignment}/{name} differs from what nbgrader generates from "
                      f"solutions/: regenerate it with `mlse release {assignment}`, never edit it by hand")


def _hidden_lines(source: str) -> list[str]:
    """Hidden-test lines long enough to be specific (not `else:`)."""
    return [line.strip() for line in split_hidden(source)[1] if len(line.strip()) > 25]


def _visible_lines(source: str) -> list[str]:
    return split_hidden(source)[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_reveal_no_solution_and_no_hidden_test(assignment):
    for path in sorted((ROOT / "exercises" / assignment).glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path.name} still contains {marker!r}"
        solution = nbformat.read(ROOT / "solutions" / assignment / path.name, as_version=4)
        exercise = nbformat.read(path, as_version=4)
        released = "\n".join(c.source for c in exercise.cells)
        # A hidden line that also stands outside every hidden region (a common idiom) reveals nothing.
        visible = {line.strip() for c in solution.cells for line in _visible_lines(c.source)}
        leaked = [line for c in solution.cells for line in _hidden_lines(c.source)
                  if line in released and line not in visible]
        assert not leaked, f"{path.name}: hidden test lines appear in the exercise: {leaked[:3]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_visible_test_cell_explains_itself(assignment):
    """A test cell a learner sees must say what it checks, even if all its tests are hidden."""
    for path in sorted((ROOT / "exercises" / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                assert cell.source.strip(), f"{path.name}/{meta['grade_id']}: an empty test cell"
                assert f"{meta['points']:g} point" in cell.source, (
                    f"{path.name}/{meta['grade_id']}: the cell should say how many points it is "
                    f"worth ({meta['points']:g})")
