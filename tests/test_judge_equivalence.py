"""Honest work gets the same score from the judge as from plain nbgrader, cell by cell (issue 11).

The session's graded class (conftest: the solution, the blank exercise and a half-done submission
of every assignment, graded by plain ``nbgrader autograde`` in one kernel) is graded again by
``mlse grade`` (intake, the sandbox, and test cells in the judge kernel). Every autograded cell
must get the same score both ways.
"""

from __future__ import annotations

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.notebook_cells import is_autograded_test
from mlse.workspace import notebooks_of


STUDENTS = ("solution", "blank", "half")  # conftest's graded class, without class_submissions


@pytest.fixture(scope="module")
def judged(judged_class):
    """conftest's graded class, graded again by ``mlse grade`` (one run per assignment, shared
    with tests/test_fairness.py); only the students of the docstring are compared here."""
    return judged_class.scores


def _autograded(assignment: str) -> bool:
    return any(is_autograded_test(cell) for path in notebooks_of(ROOT / "solutions" / assignment)
               for cell in nbformat.read(path, as_version=4).cells)


AUTOGRADED = [a for a in ASSIGNMENTS if _autograded(a)]  # m5 is graded by hand only


@pytest.mark.parametrize("assignment", AUTOGRADED)
def test_the_judge_scores_every_cell_as_plain_nbgrader_does(graded_class, judged, assignment):
    plain = {(s.student, s.notebook, s.cell): s.score for s in graded_class.scores[assignment]
             if s.auto and s.student in STUDENTS}
    by_judge = {(s.student, s.notebook, s.cell): s.score for s in judged[assignment]
                if s.auto and s.student in STUDENTS}
    assert plain, f"{assignment}: nothing was graded by plain nbgrader"
    assert set(by_judge) == set(plain), f"{assignment}: different cells graded"
    differ = {key: (plain[key], by_judge[key]) for key in plain if plain[key] != by_judge[key]}
    assert not differ, f"{assignment}: (plain nbgrader, judge) scores differ: {differ}"
