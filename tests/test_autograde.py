"""CI gate: real `nbgrader autograde` gives the scores a teacher expects.

* the solution notebooks score full marks on every autograded cell, and run without an error;
* the blank exercises score zero on every autograded cell (a test a blank passes is a defect);
* a half-done submission scores exactly the tests of the parts it answered.
"""

from __future__ import annotations

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT, copy_course
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import run_nbgrader
from mlse.workspace import notebooks_of

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")


def _autograded(scores):
    return [s for s in scores if s.auto]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(graded_class, assignment):
    every = graded_class.of(assignment, "solution")
    assert every, f"{assignment}: the solution was not graded"
    scores = _autograded(every)
    if not scores:  # an assignment graded only by hand, such as module 5's reflection
        manual = [s for s in every if not s.auto]
        assert manual and all(s.max_score > 0 for s in manual), (
            f"{assignment}: no autograded cell, so it must have answers graded by hand, worth points")
        # The solution's answers differ from the released stubs, so they wait for a teacher
        # (score None); an answer nbgrader scored 0 on its own would be left as handed out.
        scored = [f"{s.notebook}/{s.cell}: {s.score}" for s in manual if s.score is not None]
        assert not scored, f"{assignment}: the solution's hand-graded answers were scored unread: {scored}"
    short = [f"{s.notebook}/{s.cell}: {s.score} of {s.max_score}" for s in scores if s.score != s.max_score]
    assert not short, f"{assignment}: the solution loses points on: {short}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_top_to_bottom_without_errors(graded_class, assignment):
    folder = graded_class.workspace / "autograded" / "solution" / assignment
    for path in notebooks_of(folder):
        nb = nbformat.read(path, as_version=4)
        errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: cells raised errors when run on a fresh kernel: {errors}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_exercise_scores_zero(graded_class, assignment):
    scores = graded_class.of(assignment, "blank")
    assert scores, f"{assignment}: the blank submission was not graded"
    passed = [f"{s.notebook}/{s.cell}" for s in _autograded(scores) if s.score != 0]
    assert not passed, f"{assignment}: a blank exercise earns points on {passed}: these tests pass without an answer"
    manual = [s for s in scores if not s.auto]
    assert all(s.score == 0 for s in manual), "an untouched free-text answer must score 0"


def _expected_half_scores(assignment, notebook, filled):
    """test cell -> whether it should pass: tests pass when the answer before them is filled."""
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{notebook}.ipynb", as_version=4)
    expected, last_answer = {}, None
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code" and not meta.get("grade"):
            last_answer = meta["grade_id"]
        elif meta.get("grade") and not meta.get("solution") and last_answer is not None:
            expected[meta["grade_id"]] = last_answer in filled
    return expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_half_done_submission_scores_its_answered_parts(graded_class, assignment):
    scores = {(s.notebook, s.cell): s for s in _autograded(graded_class.of(assignment, "half"))}
    checked = 0
    for notebook, filled in graded_class.half_done_answers[assignment].items():
        for cell, should_pass in _expected_half_scores(assignment, notebook, filled).items():
            s = scores[(notebook, cell)]
            want = s.max_score if should_pass else 0
            assert s.score == want, (f"{assignment}/{notebook}/{cell}: expected {want} for a half-done "
                                     f"submission (answered: {sorted(filled)}), got {s.score}")
            checked += 1
    has_autograded = any(s.auto for s in graded_class.of(assignment, "solution"))
    assert checked or not has_autograded, f"{assignment}: no test cell follows an answer cell"


def test_grading_is_deterministic(graded_class, tmp_path):
    """The same submission gets the same score: regrade one assignment and compare (in a copy:
    the graded class is shared by every test of the run)."""
    assignment = ASSIGNMENTS[0]
    ws = copy_course(graded_class.workspace, tmp_path / "regraded")
    before = [(s.student, s.cell, s.score) for s in graded_class.scores[assignment]]
    assert before, f"{assignment}: nothing was graded"
    run_nbgrader(["autograde", assignment, "--force"], cwd=ws)
    after = [(s.student, s.cell, s.score) for s in cell_scores(db_url_for(ws), assignment)]
    assert before == after
