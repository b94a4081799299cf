"""Issue 12: one submission can never hurt another student, the grader, or whoever reads feedback.

Each hole is a submission built from the real m1_roles_warmup exercise (tests/hostile_cases.py,
:func:`build_isolation_cases`), graded for real with intake and sandboxed ``nbgrader autograde``;
then an honest (complete) and a blank submission are graded **after it**, in the same sandbox
folder and with the same zygote, and must still get their right scores. Every test has its own
temporary folders, so other grading runs on the machine do not disturb it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import ROOT
from hostile_cases import Case, build_cases, build_isolation_cases, write_case
from mlse import intake
from mlse.gradebook import cell_scores, db_url_for
from mlse.grade.one import autograde_one
from mlse.nbgrader_cli import run_nbgrader
from mlse.outputs.feedback import generate_feedback
from mlse.sandbox import isolation_available
from mlse.sandbox.cgroup import cgroup_support
from mlse.workspace import make_workspace

ASSIGNMENT = "m1_roles_warmup"
NOTEBOOK = "roles_warmup.ipynb"
LIMITS = {"memory_mb": 1024, "cpu_seconds": 120, "submission_memory_mb": 768}
CELL_TIMEOUT = 10

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no warm-up assignment")

CASES = {c.name: c for c in build_isolation_cases(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK,
                                                   ROOT / "exercises" / ASSIGNMENT / NOTEBOOK)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("isolation"), ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=ws)
    boxes = tmp_path_factory.mktemp("boxes")
    base = {c.name: c for c in build_cases(ws / "solutions" / ASSIGNMENT / NOTEBOOK,
                                           ws / "exercises" / ASSIGNMENT / NOTEBOOK)}
    blank = nbformat.read(ws / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
    controls = {"honest": base["honest"],
                "blank": Case("blank", "the exercise untouched", {NOTEBOOK: nbformat.writes(blank).encode()},
                              {g: 0.0 for g in base["honest"].expected})}
    return ws, boxes, controls


def _grade(ws: Path, boxes: Path, student: str, case: Case, limits: dict = LIMITS, **options):
    write_case(case, ws / "submitted" / student / ASSIGNMENT)
    outcome = intake.inspect(ws, ASSIGNMENT, student)
    result = autograde_one(ws, ASSIGNMENT, student, cell_timeout=CELL_TIMEOUT, limits=limits,
                           submitted_directory=outcome.submitted_directory, sandbox_root=str(boxes),
                           **options)
    assert result.ok, f"{student} ({case.what}): grading did not finish: {result.error}\n{result.log_tail}"
    scores = {s.cell: s.score for s in cell_scores(db_url_for(ws), ASSIGNMENT)
              if s.student == student and s.auto}
    wrong = {cell: (scores.get(cell), want) for cell, want in case.expected.items() if scores.get(cell) != want}
    assert not wrong, f"{student} ({case.what}): cells scored (got, expected) {wrong}; warnings {result.warnings}"
    return result, ws / "autograded" / student / ASSIGNMENT / NOTEBOOK


def _then_controls_still_grade(course, name: str):
    ws, boxes, controls = course
    for control in ("honest", "blank"):
        _grade(ws, boxes, f"{control}_after_{name}", controls[control])
    left = [p for p in boxes.iterdir() if p.name.startswith("mlse-sbx-")]
    assert not left, f"sandbox folders left behind after {name}: {left}"


def _needs(kind: str):
    mode, why = isolation_available()
    if kind == "namespaces" and mode == "none":
        pytest.skip(f"no namespaces here: {why}")
    if kind == "cgroup" and cgroup_support()[0] == "none":
        pytest.skip(f"no cgroup here: {cgroup_support()[1]}")
    if kind == "tmpfs" and os.geteuid() != 0:
        pytest.skip("a size-limited sandbox folder needs root")


def test_a_deep_directory_chain_neither_fails_this_grade_nor_later_ones(course):
    ws, boxes, _ = course
    _grade(ws, boxes, "deep_dirs", CASES["deep_dirs"])
    _then_controls_still_grade(course, "deep_dirs")


def test_disk_is_limited_per_submission_not_per_file(course):
    _needs("tmpfs")
    ws, boxes, _ = course
    _grade(ws, boxes, "many_files", CASES["many_files"])
    _then_controls_still_grade(course, "many_files")


def test_memory_is_limited_for_all_processes_of_a_submission_together(course):
    _needs("cgroup")
    ws, boxes, _ = course
    # each child (400 MB besides the kernel's own address space) is well under the 2 GB
    # per-process limit; together they are over the submission's 768 MB
    _grade(ws, boxes, "children_memory", CASES["children_memory"],
           limits={**LIMITS, "memory_mb": 2048, "submission_memory_mb": 768})
    _then_controls_still_grade(course, "children_memory")


def test_display_updates_cannot_get_past_the_output_cap(course):
    ws, boxes, _ = course
    _, graded = _grade(ws, boxes, "display_bomb", CASES["display_bomb"])
    size = graded.stat().st_size
    assert size < 6_000_000, f"the graded notebook is {size:,} bytes"
    nb = nbformat.read(graded, as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "pwned" not in outputs and "y" * 100_000 not in outputs
    _then_controls_still_grade(course, "display_bomb")


def test_feedback_runs_no_student_script(course):
    ws, boxes, _ = course
    _, graded = _grade(ws, boxes, "html_script", CASES["html_script"])
    results = {r.student: r for r in generate_feedback(ws, ASSIGNMENT)}
    fb = results["html_script"]
    assert fb.status == "written", fb
    soup = BeautifulSoup((ws / fb.path).read_text(), "html.parser")
    # the student's code is shown (escaped, as text); nothing of it may be markup that runs
    for script in soup.find_all("script"):
        assert "pwned" not in script.get_text() and "alert(" not in script.get_text(), script
    for tag in soup.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, f"an event handler reached feedback: {tag}"
        for attr in ("href", "src", "action", "formaction"):
            assert not str(tag.get(attr, "")).strip().lower().startswith(("javascript:", "data:text/html")), tag
    assert not soup.find_all(["svg", "iframe", "object", "embed"]), "active content reached feedback"
    _then_controls_still_grade(course, "html_script")


def test_a_notebook_has_a_total_time_budget(course):
    ws, boxes, _ = course
    result, graded = _grade(ws, boxes, "slow_notebook", CASES["slow_notebook"], notebook_timeout=20)
    nb = nbformat.read(graded, as_version=4)
    said = [o.get("ename") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]
    assert "NotRun" in said or "NotebookTimeBudget" in said, said
    assert result.seconds < 20 + 60, f"grading took {result.seconds} s"
    _then_controls_still_grade(course, "slow_notebook")
