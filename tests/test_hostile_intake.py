"""Intake on its own (no grading, fast): what it reports and how it repairs, case by case."""

from __future__ import annotations

import hashlib

import nbformat
import pytest

from conftest import ROOT
from mlse import intake
from hostile_cases import build_cases, write_case

ASSIGNMENT = "m1_roles_warmup"
NOTEBOOK = "roles_warmup.ipynb"
pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no warm-up assignment")
CASES = {c.name: c for c in build_cases(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK,
                                        ROOT / "exercises" / ASSIGNMENT / NOTEBOOK)}


@pytest.fixture
def course(tmp_path):
    """A course folder with its nbgrader_config.py (which names the release folder) and the
    released exercise (intake needs nothing else)."""
    (tmp_path / "nbgrader_config.py").write_bytes((ROOT / "nbgrader_config.py").read_bytes())
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    (tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK).write_bytes((ROOT / "exercises" / ASSIGNMENT / NOTEBOOK).read_bytes())
    return tmp_path


def _inspect(course, name):
    folder = write_case(CASES[name], course / "submitted" / name / ASSIGNMENT)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    outcome = intake.inspect(course, ASSIGNMENT, name)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert before == after, "intake modified the submitted files"
    return outcome


def _ids(path):
    nb = nbformat.read(path, as_version=4)
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_gets_its_outcome_and_a_gradable_copy(course, name):
    outcome = _inspect(course, name)
    assert CASES[name].outcome <= outcome.codes, outcome.summary()
    prepared = outcome.prepared / NOTEBOOK
    assert prepared.is_file(), f"{name}: no notebook in the prepared copy"
    nbformat.validate(nbformat.read(prepared, as_version=4))
    released = [i for i in _ids(course / "exercises" / ASSIGNMENT / NOTEBOOK) if i]
    got = [i for i in _ids(prepared) if i]
    assert got == released, f"{name}: the graded cells are not those of the exercise, in order"


def test_deleted_tests_go_back_where_they_were(course):
    outcome = _inspect(course, "deleted_tests")
    ids = _ids(outcome.prepared / NOTEBOOK)
    assert ids.index("part2_hidden") == ids.index("part2_visible") + 1
    assert ids.index("part3_visible") == ids.index("part3_widest") + 1
    assert outcome.status == "repaired"


def test_renamed_notebook_is_graded_under_its_name(course):
    outcome = _inspect(course, "renamed")
    assert sorted(p.name for p in outcome.prepared.glob("*.ipynb")) == [NOTEBOOK]


def test_edited_tests_are_restored(course):
    outcome = _inspect(course, "edited_tests")
    nb = nbformat.read(outcome.prepared / NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "part2_visible")
    assert cell.metadata["nbgrader"]["points"] == 1
    assert "check_close" in cell.source


def test_no_submission_is_reported_not_raised(course):
    outcome = intake.inspect(course, ASSIGNMENT, "nobody-handed-in")
    assert outcome.status == "no_submission" and outcome.prepared is None


def test_honest_submission_has_no_problems(course):
    outcome = _inspect(course, "honest")
    assert outcome.status == "ok" and outcome.problems == []


def test_symbolic_links_are_never_followed(course):
    """A link to the solutions must not make the (trusted) grader copy them for the student."""
    secret = course / "solutions" / ASSIGNMENT / NOTEBOOK
    secret.parent.mkdir(parents=True)
    secret.write_text("the solutions")
    folder = write_case(CASES["honest"], course / "submitted" / "linker" / ASSIGNMENT)
    (folder / "answers.ipynb").symlink_to(secret)
    (folder / "data").mkdir()
    (folder / "data" / "mine.csv").write_text("a,b\n")
    (folder / "data" / "theirs.txt").symlink_to(secret)
    outcome = intake.inspect(course, ASSIGNMENT, "linker")
    assert "symlink" in outcome.codes and outcome.status == "flagged"
    copied = sorted(str(p.relative_to(outcome.prepared)) for p in outcome.prepared.rglob("*"))
    assert copied == ["data", "data/mine.csv", NOTEBOOK], copied
