"""What a notebook cell is to nbgrader: the one home for reading grade ids, roles and hidden regions.

nbgrader marks every cell it cares about in ``cell.metadata.nbgrader``: ``solution`` (the learner
writes here), ``grade`` with ``points`` (a test, or an answer graded by hand), ``locked`` (given
code the learner may not change) and a ``grade_id``. Intake, the judge, the demo class, feedback and
the tests all need the same few questions answered about a cell, and must answer them the same
way; they all ask here.
"""

from __future__ import annotations

import ast
from typing import Literal

__all__ = [
    "HIDDEN_BEGIN", "HIDDEN_END", "SOLUTION_BEGIN", "SOLUTION_END",
    "nbgrader_meta", "grade_id", "role", "is_answer", "is_learners", "is_autograded_test",
    "is_given_code", "describe", "hidden_regions", "hidden_lines", "split_hidden", "solution_lines",
    "plain_lines", "names_bound",
]

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"

Role = Literal["answer", "test", "given", "manual", "free"]


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata ({} for a cell nbgrader does not know)."""
    return (cell.get("metadata", {}) or {}).get("nbgrader", {}) or {}


def grade_id(cell) -> str | None:
    """The cell's nbgrader grade_id, when nbgrader tracks the cell (answer, test or locked)."""
    meta = nbgrader_meta(cell)
    if meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"):
        return meta.get("grade_id")
    return None


def role(cell) -> Role:
    """What the cell is for:

    * ``answer``: the learner's code (``solution`` and not ``grade``);
    * ``manual``: an answer graded by hand (``solution`` and ``grade``);
    * ``test``: an autograded test (``grade`` and not ``solution``);
    * ``given``: locked code the instructor wrote (set-up, data, a buggy function to fix);
    * ``free``: anything else, including every cell a learner added.
    """
    meta = nbgrader_meta(cell)
    if meta.get("solution"):
        return "manual" if meta.get("grade") else "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "given"
    return "free"


def is_answer(cell) -> bool:
    return role(cell) == "answer"


def is_learners(cell) -> bool:
    """The learner writes in this cell (an answer, autograded or graded by hand)."""
    return role(cell) in ("answer", "manual")


def describe(cell) -> str:
    """What the cell is, in a person's words: "test cell", "answer cell" or "locked cell"."""
    kind = role(cell)
    return {"test": "test cell", "answer": "answer cell", "manual": "answer cell"}.get(kind, "locked cell")


def is_autograded_test(cell) -> bool:
    return cell.get("cell_type") == "code" and role(cell) == "test"


def is_given_code(cell) -> bool:
    return cell.get("cell_type") == "code" and role(cell) == "given"


def split_hidden(source: str) -> tuple[list[str], list[str]]:
    """(visible lines, hidden lines) of a test cell's source; the marker lines are in neither."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return visible, hidden


def hidden_lines(source: str) -> list[str]:
    """Every line inside the hidden-test regions of a cell's source, markers excluded."""
    return split_hidden(source)[1]


def hidden_regions(source: str) -> list[str]:
    """The text of each hidden-test region of a cell's source, markers excluded."""
    regions, current = [], None
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            current = []
        elif "END HIDDEN TESTS" in line and current is not None:
            regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return regions


def solution_lines(source: str) -> list[str]:
    """The lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (what the release removes)."""
    out, inside = [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif inside:
            out.append(line)
    return out


def plain_lines(source: str) -> list[str]:
    """The lines outside every solution and hidden-test region (what a learner sees of the cell
    in the released exercise), markers excluded."""
    out, in_solution, in_hidden = [], False, False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            in_solution = True
        elif "END SOLUTION" in line:
            in_solution = False
        elif "BEGIN HIDDEN TESTS" in line:
            in_hidden = True
        elif "END HIDDEN TESTS" in line:
            in_hidden = False
        elif not (in_solution or in_hidden):
            out.append(line)
    return out


def names_bound(source: str) -> set[str]:
    """Names a cell binds at its top level (assignments, functions, classes, imports, loops, with).

    The cell is parsed, never run; a cell that does not parse binds nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()

    def targets(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in getattr(node, "targets", None) or [node.target]:
                targets(target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
    return names
