"""Fast checks of the pieces under the end-to-end tests: demo students, mistakes, redaction."""

from __future__ import annotations

import random

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.demo import PROFILES, demo_students, forget_edge_cases, make_submission, one_slip
from mlse.outputs.feedback import WITHHELD, RedactHiddenOutputs
from mlse.workspace import notebooks_of


def test_demo_students_are_deterministic_and_cover_every_profile():
    a, b = demo_students(8, seed=3), demo_students(8, seed=3)
    assert a == b
    assert {s.profile for s in a} == set(PROFILES)
    assert len({s.id for s in demo_students(120)}) == 120, "ids must stay unique past the name list"


def test_mistakes_change_the_code_and_still_parse():
    code = ("def f(low, high):\n    if low > high:\n        raise ValueError('x')\n"
            "    return (low + high) / 2\n")
    forgot = forget_edge_cases(code)
    assert "raise" not in forgot and "return" in forgot
    slipped = one_slip(code, random.Random(0))
    assert slipped != code
    compile(slipped, "<slip>", "exec")


@pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_fills_answers_as_described(profile):
    assignment = ASSIGNMENTS[0]
    solution = notebooks_of(ROOT / "solutions" / assignment)[0]
    released = ROOT / "exercises" / assignment / solution.name
    nb = make_submission(released, solution, profile, random.Random(1))
    blank = nbformat.read(released, as_version=4)
    answers = [(c.source, b.source) for c, b in zip(nb.cells, blank.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    changed = sum(a != b for a, b in answers)
    if profile == "blank":
        assert changed == 0
    elif profile == "partial":
        assert 0 < changed < len(answers)
    else:
        assert changed == len(answers)
    # locked cells (tests, set-up) are never touched: nbgrader would restore them anyway
    for c, b in zip(nb.cells, blank.cells):
        if c.metadata.get("nbgrader", {}).get("locked"):
            assert c.source == b.source


def test_redaction_keeps_friendly_messages_and_drops_tracebacks():
    cell = nbformat.v4.new_code_cell(
        "# Hidden tests (2 points)\n### BEGIN HIDDEN TESTS\n_secret_case = compute(41, 'sentinel')\n"
        "check(_secret_case == 42, 'the secret case', '42')\n### END HIDDEN TESTS\n")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="✔ part one\n_secret_case = compute(41, 'sentinel')\n"),
        nbformat.v4.new_output("error", ename="TypeError", evalue="bad operand",
                               traceback=["\x1b[31mTypeError\x1b[0m", "----> 3 _secret_case = compute(41, 'sentinel')"]),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>chart</b>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1.5"}, execution_count=3),
    ]
    out, _ = RedactHiddenOutputs().preprocess_cell(cell, {}, 0)
    text = "\n".join(str(o) for o in out.outputs)
    assert "compute(41" not in text
    assert "✔ part one" in text and "bad operand" in text and "1.5" in text
    assert "<b>chart</b>" not in text and WITHHELD in text
    friendly = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS")
    friendly.outputs = [nbformat.v4.new_output(
        "error", ename="CheckFailed", evalue="✘ a tie: not right yet.\n  Expected: A",
        traceback=["CheckFailed", "✘ a tie: not right yet.", "  Expected: A"])]
    out, _ = RedactHiddenOutputs().preprocess_cell(friendly, {}, 0)
    assert out.outputs[0]["traceback"] == ["CheckFailed", "✘ a tie: not right yet.", "  Expected: A"]
