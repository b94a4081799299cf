"""Simulated submissions made from the real exercises, for tests, demos and benchmarks.

A simulated student starts from the released exercise (what a real learner downloads) and fills
in answers from the solution notebook, cell by cell, matched by nbgrader's ``grade_id``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from mlse.notebook_cells import grade_id

__all__ = ["answer_cells", "blank_submission", "half_done_submission", "fill_answers"]


def answer_cells(nb) -> list:
    """The cells a learner writes in (nbgrader solution cells), in notebook order."""
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


def _autograded_answers(nb) -> list[str]:
    """grade_ids of answer cells that tests grade (code answers that are not graded by hand)."""
    return [grade_id(c) for c in answer_cells(nb)
            if c.cell_type == "code" and not c.metadata["nbgrader"].get("grade")]


def _read(notebook_path: str | Path):
    nb = nbformat.read(notebook_path, as_version=4)
    nb.metadata["mlse_filename"] = Path(notebook_path).name
    return nb


def blank_submission(released: str | Path):
    """The released exercise, submitted as it is."""
    return _read(released)


def fill_answers(released, solution, grade_ids: set[str]):
    """A copy of ``released`` whose answer cells in ``grade_ids`` hold the solution's source."""
    solution_sources = {grade_id(c): c.source for c in answer_cells(solution)}
    for cell in answer_cells(released):
        gid = grade_id(cell)
        if gid in grade_ids and gid in solution_sources:
            cell.source = solution_sources[gid]
    return released


def half_done_submission(solution_path: str | Path, released_path: str | Path):
    """The exercise with the first half (rounded up) of its autograded answers filled in.

    Returns the notebook and the set of grade_ids filled, so a test can say which test cells
    must pass (those after a filled answer) and which must fail.
    """
    solution = nbformat.read(solution_path, as_version=4)
    released = _read(released_path)
    ids = _autograded_answers(solution)
    filled = set(ids[: (len(ids) + 1) // 2])
    return fill_answers(released, solution, filled), filled
