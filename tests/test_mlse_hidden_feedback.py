"""Hidden tests' feedback set to pass or fail with the hint only (RedactHiddenOutputs.hidden_feedback),
for example until the latest due date, extensions included, has passed. A real gradebook."""

from __future__ import annotations

from datetime import datetime, timedelta

import nbformat
from nbgrader.api import Gradebook
from traitlets.config import Config

from mlse.outputs.feedback import HINT_ONLY_NOTE, RedactHiddenOutputs


def _cell():
    cell = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\ncheck(f(0.5), 0.8264835202336883)\n### END HIDDEN TESTS")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="trying f(0.5)\n"),
        nbformat.v4.new_output("error", ename="CheckFailed",
                               evalue="✘ the score: not right yet.\n  Expected: 0.8264835202336883\n"
                                      "  Got:      0.5\n  Hint:     Divide by the total.",
                               traceback=[]),
    ]
    return cell


def _redact(mode: str, resources=None) -> str:
    config = Config({"RedactHiddenOutputs": {"hidden_feedback": mode}})
    out, _ = RedactHiddenOutputs(config=config).preprocess_cell(_cell(), resources or {}, 0)
    return "\n".join(str(o) for o in out.outputs)


def test_hint_only_hides_expected_values_and_inputs():
    text = _redact("hint_only")
    assert "not right yet" in text and "Divide by the total" in text
    assert "0.8264835202336883" not in text and "Got" not in text and "f(0.5)" not in text
    assert HINT_ONLY_NOTE in text
    assert "0.8264835202336883" in _redact("full")  # the default keeps the friendly message


def test_hint_only_until_the_latest_due_date(tmp_path):
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    now = datetime.utcnow()
    with Gradebook(db) as gb:
        gb.update_or_create_assignment("a1", duedate=now - timedelta(days=1))
        gb.add_student("s1")
        gb.add_student("s2")
        gb.update_or_create_submission("a1", "s1")
    resources = {"nbgrader": {"assignment": "a1", "student": "s1", "db_url": db}}
    assert "0.8264835202336883" in _redact("hint_only_until_due", resources)  # deadline passed
    with Gradebook(db) as gb:  # s2 has two more days: nobody may see expected values yet
        gb.update_or_create_submission("a1", "s2", extension=timedelta(days=2))
    text = _redact("hint_only_until_due", resources)
    assert "0.8264835202336883" not in text and "Divide by the total" in text
    assert "0.8264835202336883" not in _redact("hint_only_until_due", {})  # no due date known
