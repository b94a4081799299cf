"""Nothing lost, nothing graded twice, the same scores every time: `mlse grade` killed with -9.

A small class (an honest student, one whose kernel dies, one whose loop ignores interrupts) is
graded by ``mlse grade`` (the command instructors run, with its own resume rule) three ways:

1. straight through;
2. killed with SIGKILL while grading, then run again (it must resume, not start over);
3. graded again from scratch (``--force``).

All three must give identical scores; a student finished before the kill is not graded again; no
kernel (process) outlives the killed run, and no sandbox folder is left once grading ran again.
The course's own nbgrader_config.py sets the short cell timeout and the limits, as an instructor
would. Every run has its own temp folder, so other grading on the machine cannot disturb it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT
from hostile_cases import build_cases, write_case
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader
from mlse.workspace import make_workspace

ASSIGNMENT = "m1_roles_warmup"
NOTEBOOK = "roles_warmup.ipynb"
STUDENTS = ["honest", "os_exit", "infinite_loop_no_interrupt"]
SETTINGS = """
c.Execute.timeout = 5
c.SandboxedKernelManager.limits = {"memory_mb": 1024, "cpu_seconds": 120}
"""

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / ASSIGNMENT).is_dir(), reason="no warm-up assignment")


def _class(dest: Path) -> Path:
    ws = make_workspace(dest, ROOT)
    with open(ws / "nbgrader_config.py", "a") as config:
        config.write(SETTINGS)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=ws)
    cases = {c.name: c for c in build_cases(ws / "solutions" / ASSIGNMENT / NOTEBOOK,
                                            ws / "exercises" / ASSIGNMENT / NOTEBOOK)}
    for student in STUDENTS:
        write_case(cases[student], ws / "submitted" / student / ASSIGNMENT)
    # Its own temp folder, short: the kernels' unix sockets live there (107 bytes at most).
    (ws / "tmp").symlink_to(tempfile.mkdtemp(prefix="mlse-resume-", dir="/tmp"))
    return ws


def _env(ws: Path) -> dict:
    return {**environment_with_bin(), "TMPDIR": os.path.realpath(ws / "tmp")}


def _grade(ws: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mlse", "grade", ASSIGNMENT, "--workers", "1", *extra], cwd=ws, env=_env(ws),
                          capture_output=True, text=True, timeout=900)


def _scores(ws: Path) -> dict:
    return {(s.student, s.cell): s.score for s in cell_scores(db_url_for(ws), ASSIGNMENT)}


def _graded_at(ws: Path) -> dict[str, float]:
    """When each student's graded notebook was written (absent: not graded yet)."""
    return {p.parents[1].name: p.stat().st_mtime_ns
            for p in (ws / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}")}


def _processes_under(folder: Path) -> list[int]:
    """Live processes whose command line mentions ``folder`` (this run's kernels and launchers)."""
    pids, mark = [], str(folder).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark in (entry / "cmdline").read_bytes() and "\nState:\tZ" not in (entry / "status").read_text():
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


def test_killed_grading_resumes_and_every_run_gives_the_same_scores(tmp_path):
    straight = _class(tmp_path / "straight")
    first = _grade(straight)
    reference = _scores(straight)
    assert {s for s, _ in reference} == set(STUDENTS), first.stdout[-2000:] + first.stderr[-2000:]
    assert reference[("honest", "part3_hidden")] == 2.0 and reference[("os_exit", "part2_visible")] == 0.0

    # 2. killed midway, then resumed
    killed = _class(tmp_path / "killed")
    proc = subprocess.Popen(["mlse", "grade", ASSIGNMENT, "--workers", "1"], cwd=killed, env=_env(killed),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not _graded_at(killed) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(2)  # well into the next student
    assert proc.poll() is None, "grading finished before it could be killed: nothing was tested"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _graded_at(killed)
    assert 1 <= len(done_before) < len(STUDENTS), f"kill -9 should land mid-batch; graded: {list(done_before)}"
    deadline = time.monotonic() + 15  # the kill travels grader -> launcher -> kernel -> its children
    run_folders = [killed, Path(os.path.realpath(killed / "tmp"))]  # kernels and the zygote live in the second
    while any(_processes_under(f) for f in run_folders) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_processes_under(f) for f in run_folders), "a kernel outlived the killed grader"

    resumed = _grade(killed)
    assert resumed.returncode in (0, 1), resumed.stderr[-2000:]
    after = _graded_at(killed)
    assert sorted(after) == sorted(STUDENTS), resumed.stdout[-2000:]
    for student, when in done_before.items():  # finished before the kill: not graded again
        assert after[student] == when, f"{student} was graded again after the restart"
    assert _scores(killed) == reference, "a resumed run gives other scores than an uninterrupted one"
    assert not list((killed / "tmp").glob("mlse-sbx-*")), "the killed run's sandbox folders were not swept"

    # 3. the same class graded again from scratch
    _grade(straight, "--force")
    assert _scores(straight) == reference, "regrading the same class changed scores"
    leftover = list((straight / "tmp").glob("mlse-sbx-*"))
    assert not leftover, f"sandbox folders left behind: {leftover}"
    for ws in (straight, killed):
        shutil.rmtree(os.path.realpath(ws / "tmp"), ignore_errors=True)
