"""`mlse check`: a learner grades their own notebook, and no class gradebook is touched."""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.selfcheck import check_notebook
from mlse.workspace import notebooks_of

pytestmark = [pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet"),
              pytest.mark.slow]  # grades two notebooks on real kernels


def _state():
    db = ROOT / "gradebook.db"
    return (db.stat().st_mtime_ns if db.exists() else None,
            (ROOT / "submitted").exists(), (ROOT / "autograded").exists())


def test_check_a_solution_and_a_blank_exercise():
    assignment = ASSIGNMENTS[0]
    solution = notebooks_of(ROOT / "solutions" / assignment)[0]
    before = _state()
    full = check_notebook(solution, ROOT)
    auto = [r for r in full if r.auto]
    assert auto and all(r.score == r.max_score and not r.messages for r in auto)
    assert any(not r.auto for r in full), "the free-text part is reported as graded by hand"

    blank = check_notebook(ROOT / "exercises" / assignment / solution.name, ROOT)
    auto = [r for r in blank if r.auto]
    assert [r.part for r in blank] == [r.part for r in full]
    for r in auto:
        assert r.score == 0, r
        assert r.messages, f"{r.part}: a failed part must say what to fix"
    assert any("NotImplementedError" in m or "not written" in m or "not right yet" in m
               for r in auto for m in r.messages)
    assert _state() == before, "mlse check touched the class gradebook or folders"


def test_check_refuses_a_notebook_of_no_assignment(tmp_path):
    stray = tmp_path / "my_notes.ipynb"
    stray.write_text("{}")
    with pytest.raises(FileNotFoundError, match="not a notebook of any assignment"):
        check_notebook(stray, ROOT)
