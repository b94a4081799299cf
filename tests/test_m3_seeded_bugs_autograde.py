"""Real `nbgrader autograde` of the part where learners write tests (m3, part 4).

Three learners hand in the full solution except for their tests of ``response_hours``:

* ``some``: tests that catch 3 of the 6 seeded bugs      -> 3 of 6 points;
* ``nothing``: tests that call the function but check nothing -> 0;
* ``wrongspec``: a test that fails on the correct function  -> 0.

Every other autograded cell must keep full marks: the part's grading must not disturb the rest.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest

from conftest import ROOT, class_submissions
from simulated import answer_cells, fill_answers
from mlse.workspace import submit_notebook

ASSIGNMENT = "m3_software_engineer"
NOTEBOOK = "software_engineer.ipynb"
PART = "part4_tests"
GRADED_CELL = "part4_hidden"

LEARNER_TESTS = {
    "some": """
        def test_each_priority():
            assert response_hours("urgent") == 1
            assert response_hours("high") == 4
            assert response_hours("normal") == 24
            assert response_hours("low") == 72

        def test_vip_high():
            assert response_hours("high", vip=True) == 2

        def test_unknown_priority():
            with pytest.raises(Exception):
                response_hours("asap")
    """,
    "nothing": """
        def test_it_runs():
            response_hours("high")

        def test_true():
            assert True
    """,
    "wrongspec": """
        def test_urgent():
            assert response_hours("urgent") == 1

        def test_vip_urgent():
            assert response_hours("urgent", vip=True) == 0
    """,
}
EXPECTED = {"some": 3.0, "nothing": 0.0, "wrongspec": 0.0}

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no m3 assignment")


@class_submissions(ASSIGNMENT)
def _seeded_learners(ws, assignment):
    """The three learners join the session's graded class: graded in its one `nbgrader autograde`
    run of m3 (see conftest.py), not in a run of their own."""
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    every_answer = {c.metadata["nbgrader"]["grade_id"] for c in answer_cells(solution)}
    for student, tests in LEARNER_TESTS.items():
        released = nbformat.read(ws / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
        nb = fill_answers(released, solution, every_answer - {PART})
        [cell] = [c for c in answer_cells(nb) if c.metadata["nbgrader"]["grade_id"] == PART]
        cell.source = textwrap.dedent(tests).strip()
        nb.metadata["mlse_filename"] = NOTEBOOK
        submit_notebook(ws, student, ASSIGNMENT, nb)


@pytest.fixture(scope="module")
def graded(graded_class):
    scores = [s for s in graded_class.scores[ASSIGNMENT] if s.student in LEARNER_TESTS]
    assert {s.student for s in scores} == set(LEARNER_TESTS), "a seeded learner was not graded"
    return graded_class.workspace, scores


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_learner_tests_score_by_the_bugs_they_catch(graded, student):
    _, scores = graded
    [part] = [s for s in scores if s.student == student and s.cell == GRADED_CELL]
    assert part.max_score == 6
    assert part.score == EXPECTED[student], f"{student}: {part.score} points for part 4"


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_the_rest_of_the_notebook_keeps_full_marks(graded, student):
    _, scores = graded
    short = [(s.cell, s.score) for s in scores
             if s.student == student and s.auto and s.cell != GRADED_CELL and s.score != s.max_score]
    assert not short, f"{student} lost points outside part 4: {short}"


def test_the_message_says_how_many_bugs_were_caught_never_which(graded):
    ws, _ = graded
    nb = nbformat.read(ws / "autograded" / "some" / ASSIGNMENT / NOTEBOOK, as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == GRADED_CELL]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert "caught 3 of 6 seeded bugs" in text
    assert all(o.get("name") != "stderr" for o in cell.outputs)
    for secret in ("low", "48", "KeyError", "vip", "case"):
        assert secret not in text.lower().replace("caught", ""), f"the message reveals {secret!r}: {text}"
