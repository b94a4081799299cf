"""The sandbox hook of the grading unit: extra nbgrader configuration reaches the kernel that runs
the student's code, and a submission that cannot run is a clear failure, not a stopped batch."""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.gradebook import db_url_for
from mlse.grade.batch import GradingError, grade_assignment
from mlse.workspace import make_workspace, notebooks_of, submit_notebook

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")


def test_extra_config_reaches_the_kernel_and_failure_is_reported(course_copy, tmp_path):
    assignment = ASSIGNMENTS[0]
    unreleased = make_workspace(tmp_path / "unreleased", ROOT)
    with pytest.raises(GradingError, match="mlse release"):
        grade_assignment(unreleased, assignment)  # not generated yet: a clear error, not a traceback
    ws = course_copy  # the same course, generated
    for source in notebooks_of(ROOT / "solutions" / assignment):
        submit_notebook(ws, "ada", assignment, source)
    # a kernel that does not exist stands in for a sandbox that refuses to start
    [outcome] = grade_assignment(ws, assignment, workers=1, sandbox=False,
                                 extra_config={"Execute": {"kernel_name": "no-such-kernel"}})
    assert outcome.status == "failed"
    assert "no-such-kernel" in outcome.message or "NoSuchKernel" in outcome.message, outcome.message
    assert not (ws / "autograded" / "ada" / assignment).exists()
    # the same submission, without the hook and sandboxed (the default), scores full marks
    [outcome] = grade_assignment(ws, assignment, workers=1)
    assert outcome.status == "graded"
    from mlse.gradebook import cell_scores
    auto = [s for s in cell_scores(db_url_for(ws), assignment) if s.auto]
    assert auto and all(s.score == s.max_score for s in auto)
