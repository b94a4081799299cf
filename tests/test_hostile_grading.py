"""Broken and hostile submissions, graded for real: every one gets a clear outcome, the batch goes on.

One class of students, one per case of :mod:`hostile_cases` (built from the real m1_roles_warmup
exercise), is put through intake and sandboxed ``nbgrader autograde`` (two at a time, as
``mlse grade`` would). Each test then asserts on what the gradebook, the graded notebooks and the
intake outcome say about one case. Per-cell timeout 5 s and memory limit 1 GB keep it quick.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, copy_course
from mlse import intake
from mlse.gradebook import cell_scores, db_url_for
from hostile_cases import SECRET_ENV, Case, build_cases, read_probe, write_case
from mlse.grade.one import autograde_one
from mlse.grade.result import Outcome
from mlse.sandbox import isolation_available

ASSIGNMENT = "m1_roles_warmup"
NOTEBOOK = "roles_warmup.ipynb"
LIMITS = {"memory_mb": 1024, "cpu_seconds": 120}
CELL_TIMEOUT = 5

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no warm-up assignment")


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class HostileClass:
    workspace: Path
    cases: dict[str, Case]
    outcomes: dict[str, intake.IntakeReport]
    results: dict[str, Outcome]
    scores: dict[str, dict[str, float | None]]
    submitted_before: dict[str, str]
    boxes: Path


@pytest.fixture(scope="module")
def hostile_class(released_course, tmp_path_factory) -> HostileClass:
    ws = copy_course(released_course, tmp_path_factory.mktemp("hostile"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    cases = {c.name: c for c in build_cases(
        ws / "solutions" / ASSIGNMENT / NOTEBOOK, ws / "exercises" / ASSIGNMENT / NOTEBOOK,
        course_root=ws, assignment=ASSIGNMENT, other_student="honest",
        listener_port=listener.getsockname()[1])}
    for name, case in cases.items():
        write_case(case, ws / "submitted" / name / ASSIGNMENT)
    before = tree_digest(ws / "submitted")
    outcomes = {name: intake.inspect(ws, ASSIGNMENT, name) for name in cases}
    boxes = tmp_path_factory.mktemp("boxes")  # this run's sandboxes only

    def grade(name):
        return name, autograde_one(ws, ASSIGNMENT, name, cell_timeout=CELL_TIMEOUT, limits=LIMITS,
                                   submitted_directory=outcomes[name].submitted_directory,
                                   sandbox_root=str(boxes))

    saved = {k: os.environ.get(k) for k in SECRET_ENV}
    os.environ.update(SECRET_ENV)  # the grader's secrets: they must not reach student code
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(pool.map(grade, sorted(cases)))
    finally:
        listener.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    scores: dict[str, dict[str, float | None]] = {name: {} for name in cases}
    for s in cell_scores(db_url_for(ws), ASSIGNMENT):
        if s.auto:
            scores[s.student][s.cell] = s.score
    return HostileClass(ws, cases, outcomes, results, scores, before, boxes)


CASE_NAMES = [c.name for c in build_cases(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK,
                                          ROOT / "exercises" / ASSIGNMENT / NOTEBOOK)]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_every_submission_is_graded_with_the_expected_scores(hostile_class, name):
    case, result = hostile_class.cases[name], hostile_class.results[name]
    assert result.ok, f"{name} ({case.what}): grading did not finish: {result.error}"
    got = hostile_class.scores[name]
    wrong = {cell: (got.get(cell), want) for cell, want in case.expected.items() if got.get(cell) != want}
    assert not wrong, (f"{name} ({case.what}): cells scored (got, expected) {wrong}; "
                       f"intake said: {hostile_class.outcomes[name].summary()}; warnings: {result.warnings}")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_intake_reports_what_is_wrong(hostile_class, name):
    case, outcome = hostile_class.cases[name], hostile_class.outcomes[name]
    assert case.outcome <= outcome.codes, f"{name}: expected problems {case.outcome}, got {outcome.summary()}"
    if name == "honest":
        assert outcome.status == "ok" and not outcome.problems
    for problem in outcome.problems:
        assert problem.message.strip(), problem


def test_the_snooping_notebook_reads_nothing_and_connects_nowhere(hostile_class):
    report = read_probe(hostile_class.workspace / "autograded" / "snoop" / ASSIGNMENT / NOTEBOOK)
    assert report is not None, "the probe's report is missing from the graded notebook"
    mode, reason = isolation_available()
    leaked = {k: v for k, v in report.items() if isinstance(v, str) and v.startswith(("READ", "CONNECTED"))
              and k != "/proc/1/environ"}
    if mode == "none":
        # A laptop without namespaces can only say so; CI must check the isolation it promises.
        message = f"no isolation here ({reason}); the probe found {leaked}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run student code isolated, but cannot: {message}", pytrace=False)
        pytest.skip(message)
    assert not leaked, f"student code could reach: {leaked}"
    ws = str(hostile_class.workspace)
    assert not report["cwd"].startswith(ws), f"the kernel ran inside the course folder: {report['cwd']}"
    if mode == "root":
        assert report["uid"] != 0, "the kernel ran as root"
    assert report["env secrets"] == [], f"the grader's secrets reached student code: {report['env secrets']}"
    allowed = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "usr"}
    assert report["/ files"] == [], f"files at the top of / are visible: {report['/ files']}"
    extra = set(report["/ entries"]) - allowed
    # besides the operating system, only the ancestors of the Python environment and the sandbox
    needed = {p.split("/")[1] for p in (sys.prefix, sys.base_prefix, str(hostile_class.boxes))}
    assert extra <= needed, f"the sandbox's root shows more than it needs: {sorted(extra - needed)}"


def test_runaway_cells_are_stopped_and_recovered_from(hostile_class):
    """The infinite loops, bombs and crashes end in their own cell: say so in that cell."""
    for name in ["infinite_loop", "infinite_loop_no_interrupt", "os_exit", "segfault", "memory_bomb", "fork_bomb"]:
        path = hostile_class.workspace / "autograded" / name / ASSIGNMENT / NOTEBOOK
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "part2_midpoint"
                    or c.get("id") == "part2-midpoint")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"{name}: the attacking cell shows no error"


def test_gigantic_output_is_capped(hostile_class):
    path = hostile_class.workspace / "autograded" / "huge_output" / ASSIGNMENT / NOTEBOOK
    assert path.stat().st_size < 3_000_000, f"the graded notebook is {path.stat().st_size:,} bytes"


def test_submitted_files_are_never_modified(hostile_class):
    assert tree_digest(hostile_class.workspace / "submitted") == hostile_class.submitted_before


def test_no_sandbox_is_left_behind(hostile_class):
    left = [p for p in hostile_class.boxes.glob("mlse-sbx-*")]
    assert not left, f"sandbox folders left behind: {left}"
