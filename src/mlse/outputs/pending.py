"""Feedback that says what is not final: answers still waiting for a hand grade.

nbgrader's feedback shows every cell's score as a number; an answer nobody has graded by hand yet
shows "0.0 / 3.0", and the notebook's total counts it as 0, with nothing to say that this is not
the grade. :class:`MarkPendingHandGrades`, run by ``GenerateFeedback`` right after ``GetGrades``
(nbgrader_config.py), adds a note at the top of the notebook (how many points are pending, and
where) and, in place of the comment of each pending answer, "Pending: not graded by hand yet".

``mlse feedback --wait-for-hand-grades`` instead writes no feedback for a submission until all of
its hand grades are in (:func:`pending_hand_grades` says which).
"""

from __future__ import annotations

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["MarkPendingHandGrades", "pending_hand_grades", "PENDING_NOTE"]

PENDING_NOTE = "Pending: not graded by hand yet (the score shown here is not final)."


def _is_pending(grade) -> bool:
    return bool(grade.needs_manual_grade) or (grade.auto_score is None and grade.manual_score is None)


def pending_hand_grades(gb, assignment: str, student: str) -> float:
    """Points of ``student``'s ``assignment`` that wait for a hand grade (0 when none)."""
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return 0.0
    return sum(g.max_score for nb in sub.notebooks for g in nb.grades if _is_pending(g))


class MarkPendingHandGrades(NbGraderPreprocessor):
    """Say "pending" wherever a hand grade is missing (see the module docstring)."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        info = resources.get("nbgrader", {})
        pending = {}
        try:
            with Gradebook(info["db_url"]) as gb:
                book_nb = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                                      info["student"])
                pending = {g.name: g.max_score for g in book_nb.grades if _is_pending(g)}
        except (KeyError, MissingEntry):
            return nb, resources
        if not pending:
            return nb, resources
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade_id") in pending:
                meta["comment"] = PENDING_NOTE
        points = sum(pending.values())
        banner = nbformat.v4.new_markdown_cell(
            f"**Not final yet:** {points:g} point(s) of this notebook ({len(pending)} answer(s)) "
            f"wait for a hand grade; until then they count as 0 in the score below. Each is marked "
            f"*Pending*.")
        banner.metadata["mlse_pending_note"] = True
        nb.cells.insert(0, banner)
        return nb, resources
