"""Nothing lost, nothing graded twice, the same scores every time.

A small class (an honest student, one whose kernel dies, one whose loop ignores interrupts) is
graded three ways, with the reference loop :func:`mlse.journal.grade_all`:

1. straight through;
2. killed with SIGKILL while grading, then run again (it must resume, not start over);
3. graded again from scratch.

All three must give identical scores, every student exactly one journal entry, and no sandbox
(process or folder) may outlive the killed run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from mlse.gradebook import cell_scores, db_url_for
from hostile_cases import build_cases, write_case
from mlse.grade.journal import Journal, grade_all
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader
from mlse.workspace import make_workspace

ASSIGNMENT = "m1_roles_warmup"
NOTEBOOK = "roles_warmup.ipynb"
STUDENTS = ["honest", "os_exit", "infinite_loop_no_interrupt"]
OPTIONS = {"cell_timeout": 5, "limits": {"memory_mb": 1024, "cpu_seconds": 120}}

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no warm-up assignment")


def _class(dest: Path) -> Path:
    ws = make_workspace(dest, ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=ws)
    cases = {c.name: c for c in build_cases(ws / "solutions" / ASSIGNMENT / NOTEBOOK,
                                            ws / "exercises" / ASSIGNMENT / NOTEBOOK)}
    for student in STUDENTS:
        write_case(cases[student], ws / "submitted" / student / ASSIGNMENT)
    return ws


def _scores(ws: Path) -> dict:
    return {(s.student, s.cell): s.score for s in cell_scores(db_url_for(ws), ASSIGNMENT)}


def _sandbox_processes(ours: Path) -> list[int]:
    """Live processes running as a sandbox uid (see SandboxedKernelManager.uid_base) that belong
    to this test (their command line or environment names its folder: a cold kernel's TMPDIR, a
    warm kernel's zygote socket); other runs' sandboxes on the machine are not counted."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except FileNotFoundError:
                continue
            if 1_790_000_000 <= uid < 1_790_000_000 + 256:
                try:
                    if "\nState:\tZ" in (entry / "status").read_text():  # zombies hold nothing
                        continue
                    seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
                except (FileNotFoundError, ProcessLookupError, PermissionError):
                    continue
                if str(ours).encode() in seen:
                    pids.append(int(entry.name))
    return pids


def test_killed_batch_resumes_and_every_run_gives_the_same_scores(tmp_path):
    boxes = tmp_path / "boxes"
    boxes.mkdir()
    options = {**OPTIONS, "sandbox_root": str(boxes)}
    straight = _class(tmp_path / "straight")
    grade_all(straight, ASSIGNMENT, STUDENTS, **options)
    reference = _scores(straight)
    assert {s for s, _ in reference} == set(STUDENTS)
    assert reference[("honest", "part3_hidden")] == 2.0 and reference[("os_exit", "part2_visible")] == 0.0

    # 2. killed midway, then resumed
    killed = _class(tmp_path / "killed")
    journal = Journal(killed, ASSIGNMENT)
    script = (f"from mlse.grade.journal import grade_all; "
              f"grade_all({str(killed)!r}, {ASSIGNMENT!r}, {STUDENTS!r}, **{options!r})")
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    env = {**environment_with_bin(), "TMPDIR": str(own_tmp)}  # its zygote lives in our folder
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=killed, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not journal.entries() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(2)  # well into the second student
    assert proc.poll() is None, "the batch finished before it could be killed: nothing was tested"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.entries()
    assert 1 <= len(done_before) < len(STUDENTS), f"kill -9 should land mid-batch; journal had {list(done_before)}"
    deadline = time.monotonic() + 15  # the kill travels grader -> launcher -> kernel -> its children
    while _sandbox_processes(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _sandbox_processes(tmp_path), "a sandboxed kernel outlived the killed grader"

    entries = grade_all(killed, ASSIGNMENT, STUDENTS, **options)
    assert sorted(entries) == sorted(STUDENTS)
    for student, entry in done_before.items():  # finished before the kill: not graded again
        assert entries[student] == entry, f"{student} was graded again after the restart"
    assert _scores(killed) == reference, "a resumed batch gives other scores than an uninterrupted one"

    # 3. the same class graded again from scratch
    for entry in Path(straight, ".mlse", "journal", ASSIGNMENT).glob("*.json"):
        entry.unlink()
    grade_all(straight, ASSIGNMENT, STUDENTS, **options)
    assert _scores(straight) == reference, "regrading the same class changed scores"
    leftover = list(boxes.glob("mlse-sbx-*"))
    assert not leftover, f"sandbox folders left behind: {leftover}"
