"""Shared fixtures: the course root, and one real nbgrader run over a simulated class.

The simulated class is graded once per test session (it is the slow part) in a throwaway
workspace with its own SQLite gradebook; the instructor's real gradebook is never touched.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlse.gradebook import CellScore, cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader
from simulated import blank_submission, half_done_submission
from mlse.workspace import list_assignments, make_workspace, notebooks_of, submit_notebook

ROOT = Path(__file__).resolve().parents[1]
# nbgrader starts `alembic` by name: make sure this environment's bin/ is on PATH for every test.
os.environ["PATH"] = environment_with_bin()["PATH"]

ASSIGNMENTS = list_assignments(ROOT)


@dataclass
class GradedClass:
    """A workspace in which every assignment was generated and a small class autograded."""

    workspace: Path
    scores: dict[str, list[CellScore]]  # assignment -> every cell of every student
    half_done_answers: dict[str, dict[str, set[str]]]  # assignment -> notebook -> answers filled

    def of(self, assignment: str, student: str) -> list[CellScore]:
        return [s for s in self.scores[assignment] if s.student == student]


@pytest.fixture(scope="session")
def course_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def generated_workspace(tmp_path_factory) -> Path:
    """A workspace in which `nbgrader generate_assignment` ran for every assignment."""
    ws = make_workspace(tmp_path_factory.mktemp("course"), ROOT)
    for assignment in ASSIGNMENTS:
        run_nbgrader(["generate_assignment", assignment, "--force"], cwd=ws)
    return ws


@pytest.fixture(scope="session")
def graded_class(generated_workspace) -> GradedClass:
    """Three students per assignment, autograded for real by `nbgrader autograde`:

    * ``solution`` submits the solution notebooks;
    * ``blank`` submits the committed exercises untouched;
    * ``half`` submits the exercises with the first half of the autograded answers filled in.
    """
    ws = generated_workspace
    half_done = {}
    for assignment in ASSIGNMENTS:
        half_done[assignment] = {}
        for source in notebooks_of(ROOT / "solutions" / assignment):
            released = ROOT / "exercises" / assignment / source.name
            submit_notebook(ws, "solution", assignment, source)
            submit_notebook(ws, "blank", assignment, blank_submission(released))
            half, filled = half_done_submission(source, released)
            submit_notebook(ws, "half", assignment, half)
            half_done[assignment][source.stem] = filled
        run_nbgrader(["autograde", assignment, "--force"], cwd=ws)
    scores = {a: cell_scores(db_url_for(ws), a) for a in ASSIGNMENTS}
    return GradedClass(ws, scores, half_done)


def pytest_report_header(config):
    return [f"course assignments: {', '.join(ASSIGNMENTS) or 'none'}", f"python: {sys.executable}"]
