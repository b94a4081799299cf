"""Fair to honest work, zero for games, under both graders (issue 20).

``tests/fairness_answers/`` holds, for m1-m4, answers written from the task text alone: three
honest learners per assignment (``honest_*``, every autograded part in a style of its own) and two
learners who game (``game_*``: a constant or a lookup table of the visible examples, values that
claim to equal everything, tests that fingerprint the implementation under test, decoys for the
code-reading test). They join the session's graded class (conftest's ``class_submissions``), so
they cost one notebook run each in the one ``nbgrader autograde`` run per assignment, and one in
the one ``mlse grade`` run per assignment (``judged_class``, shared with test_judge_equivalence).

* every honest learner gets full marks on every autograded cell, under plain nbgrader and under
  the judge;
* every game scores 0 on every hidden test cell under the judge (the visible test of a part may
  pass: it is built from the example the learner sees), and a part with a game in it never scores
  full marks;
* the fingerprinting tests are explained in the graded notebook, and flag it;
* a refactor that calls the old function from a default value, a lambda's default or a class
  scores 0 on the hidden part 6 test under both graders.
"""

from __future__ import annotations

import importlib

import nbformat
import pytest

from conftest import ROOT, class_submissions
from mlse.workspace import notebooks_of, submit_notebook

ASSIGNMENTS = ["m1_roles_warmup", "m2_ml_engineer", "m3_software_engineer", "m4_shipping_together"]
ANSWERS = {a: importlib.import_module(f"fairness_answers.{a}").STUDENTS for a in ASSIGNMENTS}


def student_notebook(ws, assignment: str, answers: dict[str, str]):
    """The released exercise with the answer cells in ``answers`` (grade_id -> source) filled in."""
    [released] = notebooks_of(ws / "exercises" / assignment)
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
    nb.metadata["mlse_filename"] = released.name
    return nb


def _register(assignment: str):
    @class_submissions(assignment)
    def _submit(ws, name):
        for student, answers in ANSWERS[name].items():
            submit_notebook(ws, student, name, student_notebook(ws, name, answers))
    return _submit


for _assignment in ASSIGNMENTS:
    _register(_assignment)


def _honest():
    return [(a, s) for a in ASSIGNMENTS for s in ANSWERS[a] if s.startswith("honest")]


def _games():
    return [(a, s) for a in ASSIGNMENTS for s in ANSWERS[a] if s.startswith("game")]


def _answered_parts(assignment: str, student: str) -> set[str]:
    """The hidden test cells of the parts a student answered (the test cell after each answer)."""
    [solution] = notebooks_of(ROOT / "solutions" / assignment)
    nb = nbformat.read(solution, as_version=4)
    parts, current = set(), None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current = meta.get("grade_id")
        elif meta.get("grade") and "hidden" in str(meta.get("grade_id")) and current in ANSWERS[assignment][student]:
            parts.add(meta["grade_id"])
    return parts


def test_every_part_has_three_honest_answers_and_two_games():
    for assignment in ASSIGNMENTS:
        [solution] = notebooks_of(ROOT / "solutions" / assignment)
        nb = nbformat.read(solution, as_version=4)
        graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
        honest = [s for s in ANSWERS[assignment] if s.startswith("honest")]
        assert len(honest) >= 3
        for student in honest:
            assert set(ANSWERS[assignment][student]) == graded, f"{assignment} {student}: not every part"
        games = [s for s in ANSWERS[assignment] if s.startswith("game")]
        for part in graded:
            tried = [s for s in games if part in ANSWERS[assignment][s]]
            assert len(tried) >= 2, f"{assignment} {part}: fewer than two games tried"


@pytest.mark.parametrize("assignment, student", _honest())
@pytest.mark.parametrize("grader", ["nbgrader", "mlse"])
def test_honest_answers_get_full_marks(graded_class, judged_class, grader, assignment, student):
    scores = (graded_class if grader == "nbgrader" else judged_class).of(assignment, student)
    auto = [s for s in scores if s.auto]
    assert auto, f"{student} was not graded"
    short = [(s.cell, s.score, s.max_score) for s in auto if s.score != s.max_score]
    assert not short, f"{assignment} {student} under {grader}: {short}"


@pytest.mark.parametrize("assignment, student", _games())
def test_games_score_nothing_on_hidden_tests(judged_class, assignment, student):
    scores = {s.cell: s for s in judged_class.of(assignment, student) if s.auto}
    assert scores, f"{student} was not graded"
    parts = _answered_parts(assignment, student)
    assert parts
    won = {cell: scores[cell].score for cell in parts if scores[cell].score}
    assert not won, f"{assignment} {student} scored on hidden tests: {won}"


#: Refactors that still call the old function from outside their body (a default value, a lambda's
#: default, a class attribute): both graders read the code a definition can reach, so both agree.
CALLS_OUTSIDE_THE_BODY = ["game_default_arg", "game_lambda_default", "game_class_helper"]


@pytest.mark.parametrize("student", CALLS_OUTSIDE_THE_BODY)
@pytest.mark.parametrize("grader", ["nbgrader", "mlse"])
def test_a_call_of_the_old_function_outside_the_body_scores_nothing_under_both_graders(
        graded_class, judged_class, grader, student):
    scores = {s.cell: s for s in (graded_class if grader == "nbgrader" else judged_class)
              .of("m3_software_engineer", student) if s.auto}
    assert scores["part6_visible"].score == scores["part6_visible"].max_score  # it does the same
    assert scores["part6_hidden"].score == 0, f"{student} under {grader}: {scores['part6_hidden']}"


def _flagged(ws, assignment: str, student: str) -> bool:
    from nbgrader.api import Gradebook

    from mlse.gradebook import db_url_for

    with Gradebook(db_url_for(ws)) as gb:
        submission = gb.find_submission(assignment, student)
        return any(nb.flagged for nb in submission.notebooks)


@pytest.mark.parametrize("assignment, student, cell", [
    ("m3_software_engineer", "game_fingerprint", "part4_hidden"),
    ("m4_shipping_together", "game_lookup", "part4_hidden"),
    ("m3_software_engineer", "game_fingerprint", "part6_hidden"),
])
def test_fingerprints_and_decoys_are_explained_and_flagged(judged_class, assignment, student, cell):
    [name] = [p.name for p in notebooks_of(ROOT / "solutions" / assignment)]
    nb = nbformat.read(judged_class.workspace / "autograded" / student / assignment / name, as_version=4)
    [graded] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell]
    text = "".join(o.get("text", "") + str(o.get("evalue", "")) + "".join(o.get("traceback", []))
                   for o in graded.outputs)
    assert any(word in text for word in ("look at", "inside an if block")), text[-1500:]
    assert _flagged(judged_class.workspace, assignment, student)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_work_is_never_flagged(judged_class, assignment):
    for student in ANSWERS[assignment]:
        if student.startswith("honest"):
            assert not _flagged(judged_class.workspace, assignment, student), f"{assignment} {student}"
