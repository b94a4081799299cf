"""Honest work gets the same score from the judge as from plain nbgrader, cell by cell (issue 11).

The session's graded class (conftest: the solution, the blank exercise and a half-done submission
of every assignment, graded by plain ``nbgrader autograde`` in one kernel) is graded again by
``mlse grade`` (intake, the sandbox, and test cells in the judge kernel). Every autograded cell
must get the same score both ways.
"""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT, copy_course
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin
from mlse.notebook_cells import is_autograded_test
from mlse.workspace import notebooks_of


STUDENTS = ("solution", "blank", "half")  # conftest's graded class, without class_submissions


@pytest.fixture(scope="module")
def judged_class(graded_class, released_course, tmp_path_factory):
    ws = copy_course(released_course, tmp_path_factory.mktemp("judged"))
    for student in STUDENTS:  # the class of the docstring, not students other modules added
        shutil.copytree(graded_class.workspace / "submitted" / student, ws / "submitted" / student)
    for assignment in AUTOGRADED:
        proc = subprocess.run(["mlse", "grade", assignment], cwd=ws, env=environment_with_bin(),
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {a: cell_scores(db_url_for(ws), a) for a in AUTOGRADED}


def _autograded(assignment: str) -> bool:
    return any(is_autograded_test(cell) for path in notebooks_of(ROOT / "solutions" / assignment)
               for cell in nbformat.read(path, as_version=4).cells)


AUTOGRADED = [a for a in ASSIGNMENTS if _autograded(a)]  # m5 is graded by hand only


@pytest.mark.parametrize("assignment", AUTOGRADED)
def test_the_judge_scores_every_cell_as_plain_nbgrader_does(graded_class, judged_class, assignment):
    plain = {(s.student, s.notebook, s.cell): s.score for s in graded_class.scores[assignment]
             if s.auto and s.student in STUDENTS}
    judged = {(s.student, s.notebook, s.cell): s.score for s in judged_class[assignment] if s.auto}
    assert plain, f"{assignment}: nothing was graded by plain nbgrader"
    assert set(judged) == set(plain), f"{assignment}: different cells graded"
    differ = {key: (plain[key], judged[key]) for key in plain if plain[key] != judged[key]}
    assert not differ, f"{assignment}: (plain nbgrader, judge) scores differ: {differ}"
