"""CI gate: notebooks are stored the way each audience needs them.

* solutions/ and exercises/ carry no outputs (learners start clean; outputs can leak answers);
* course/ lessons keep their outputs, run top to bottom, follow the lesson shape, and are never
  skipped by nbval (a green run that skipped a notebook proves nothing);
* no learner-facing notebook reads from solutions/.
"""

from __future__ import annotations

import re
import tomllib

import nbformat
import pytest

from conftest import ROOT

LESSONS = sorted((ROOT / "course").glob("*.ipynb"))
GRADED = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "exercises").glob("*/*.ipynb"))
SKIP_TAGS = {"nbval-skip", "skip-execution", "raises-exception", "nbval-raises-exception"}


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def test_there_are_lessons_and_nbval_collects_them():
    assert LESSONS, "course/ has no lesson notebooks"
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "course" in options["testpaths"] and "--nbval" in options["addopts"], \
        "the test command must validate course/ with nbval"


@pytest.mark.parametrize("path", GRADED, ids=_rel)
def test_graded_notebooks_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{_rel(path)}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", LESSONS, ids=_rel)
def test_lesson_was_run_top_to_bottom_and_keeps_outputs(path):
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{_rel(path)}: run it with Restart Kernel and Run All before committing (counts: {counts})")
    errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_rel(path)}: stored outputs contain errors in cells {errors}"


@pytest.mark.parametrize("path", LESSONS, ids=_rel)
def test_lesson_is_never_skipped(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [(i, sorted(set(c.metadata.get("tags", [])) & SKIP_TAGS)) for i, c in enumerate(nb.cells)
              if set(c.metadata.get("tags", [])) & SKIP_TAGS]
    assert not tagged, f"{_rel(path)}: cells tagged to be skipped or to fail: {tagged}"
    assert "nbval" not in nb.metadata, f"{_rel(path)}: notebook-level nbval settings are not allowed"


@pytest.mark.parametrize("path", LESSONS, ids=_rel)
def test_lesson_has_the_lesson_shape(path):
    nb = nbformat.read(path, as_version=4)
    head = nb.cells[0].source
    assert head.startswith("# "), f"{_rel(path)}: the first cell should be the lesson's title"
    for part in ("Estimated time", "Questions", "Objectives"):
        assert part in head, f"{_rel(path)}: the first cell should state its {part}"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"^#+ Key points", text, re.M), f"{_rel(path)}: missing a 'Key points' section"
    assert re.search(r"^#+ (Where to go next|Next)", text, re.M), f"{_rel(path)}: missing 'Where to go next'"


@pytest.mark.parametrize("path", LESSONS + GRADED, ids=_rel)
def test_learner_notebooks_never_read_solutions(path):
    if "solutions" in path.parts:
        return
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "solutions" not in code, f"{_rel(path)}: code that mentions solutions/"
