"""What a 200-student term costs an instructor in time, step by step (issue 21).

Run on demand (it is not a test), from the course root:

    .venv/bin/python benchmarks/bench_term.py --students 200 --graded 20

In a throwaway course with m1_roles_warmup released and a due date, each step is the real
``mlse`` command, run as a process as an instructor runs it, timed (wall and CPU):

1. ``mlse roster import`` of a Canvas gradebook CSV of N students;
2. ``mlse collect`` of a Canvas zip of N notebooks (complete, half done, blank; some late);
3. ``mlse grade`` of G of them, graded for real: the per-submission figure, times N, is the
   **scaled** cost of grading the class (the machine has 2 cores; grading is the one step whose
   cost grows with notebooks run). The other N - G students then get a copy of a graded
   classmate's rows and files (same answers, so the same grades), so that every later step works
   on a gradebook of N graded students;
4. ``mlse grade`` again (everything skipped);
5. ``mlse handgrade export`` and ``import`` of m1's Part 6 for the class;
6. ``mlse export`` (both files);
7. ``mlse feedback`` for the class (nbgrader's generate_feedback on N notebooks), then again
   (nothing changed: nothing regenerated);
8. a second download with R resubmissions: ``mlse collect``, ``mlse grade`` (R graded),
   ``mlse feedback`` (R regenerated).

It prints a Markdown table. The machine is shared: figures vary with the load (printed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

A, NB = "m1_roles_warmup", "roles_warmup.ipynb"
DUE = datetime(2026, 3, 1, 12, 0, 0)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(course: Path, *args: str, ok=(0, 1)) -> tuple[float, float, str]:
    from mlse.nbgrader_cli import environment_with_bin

    cpu, start = _cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mlse.apps.cli", *args], cwd=course,
                          env=environment_with_bin(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"mlse {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall, _cpu() - cpu, proc.stdout + proc.stderr


def _variants() -> dict[str, bytes]:
    import nbformat

    from simulated import blank_submission, half_done_submission

    source, released = ROOT / "solutions" / A / NB, ROOT / "exercises" / A / NB
    return {"solution": source.read_bytes(),
            "half": nbformat.writes(half_done_submission(source, released)[0]).encode(),
            "blank": nbformat.writes(blank_submission(released)).encode()}


def _clone(course: Path, template: str, student: str) -> None:
    """Give ``student`` (same answers as ``template``) the template's graded rows and files."""
    from nbgrader.api import Gradebook

    from mlse.gradebook import db_url_for
    from mlse.grade.merge import copy_notebook_rows

    src, dest = course / "autograded" / template / A, course / "autograded" / student / A
    shutil.copytree(src, dest, dirs_exist_ok=True)
    stamp = (course / "submitted" / student / A / "timestamp.txt").read_text()
    (dest / "timestamp.txt").write_text(stamp)
    from nbgrader.utils import parse_utc

    with Gradebook(db_url_for(course)) as gb:
        t = gb.find_submission(A, template)
        s = gb.update_or_create_submission(A, student, timestamp=parse_utc(stamp))
        copy_notebook_rows(gb, t, A, student)
        gb.db.commit()
        del s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--graded", type=int, default=20, help="submissions graded for real")
    parser.add_argument("--resubmissions", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    from mlse.nbgrader_cli import run_nbgrader
    from mlse.workspace import make_workspace

    n, g = args.students, min(args.graded, args.students)
    tmp = Path(tempfile.mkdtemp(prefix="mlse-bench-term-"))
    course = make_workspace(tmp / "course", ROOT)
    run_nbgrader(["generate_assignment", A, "--force"], cwd=course)
    run_nbgrader(["db", "assignment", "add", A, f"--duedate={DUE:%Y-%m-%d %H:%M:%S} UTC"], cwd=course)
    students = [f"s{i:03d}" for i in range(n)]
    kinds = ["solution", "half", "blank"]
    variants = _variants()
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} (1001)"],
            ["    Points Possible", "", "", "", "", "18"]]
    for i, s in enumerate(students):
        rows.append([f"Last{i}, First{i}", str(5000 + i), f"S{5000 + i}", s, f"Section {i % 4}", ""])
    with open(course / "canvas.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with zipfile.ZipFile(course / "download1.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i, s in enumerate(students):
            when = DUE + timedelta(hours=5) if i % 10 == 9 else DUE - timedelta(hours=1)
            zf.writestr(zipfile.ZipInfo(f"last{i}first{i}_{5000 + i}_{i}_{NB}", when.timetuple()[:6]),
                        variants[kinds[i % 3]])
    results = []

    def step(name, *cmd, count=None, note=""):
        wall, cpu, out = run(course, *cmd)
        results.append((name, count or n, wall, cpu, note))
        print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU", file=sys.stderr)
        return out

    load = os.getloadavg()
    step("mlse roster import", "roster", "import", "canvas.csv")
    step("mlse collect (first download)", "collect", A, "download1.zip")
    workers = ["--workers", str(args.workers)] if args.workers else []
    first = students[:g]
    wall, cpu, _ = run(course, "grade", A, *workers, *sum((["--student", s] for s in first), []))
    results.append((f"mlse grade ({g} graded for real)", g, wall, cpu,
                    f"scaled to {n}: {wall / g * n:.0f} s wall, {cpu / g * n:.0f} s CPU"))
    print(f"grade {g}: {wall:.1f} s", file=sys.stderr)
    for i, s in enumerate(students[g:], start=g):
        _clone(course, students[i % 3], s)
    step("mlse grade again (all skipped)", "grade", A)
    step("mlse handgrade export (Part 6)", "handgrade", "export", A, "-o", "sheet.csv")
    sheet = list(csv.DictReader(open(course / "sheet.csv", newline="")))
    for r in sheet:
        r["score"] = r["score"] or "2"
    with open(course / "sheet.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(sheet[0]))
        w.writeheader()
        w.writerows(sheet)
    step("mlse handgrade import", "handgrade", "import", A, "sheet.csv",
         note=f"{len(sheet)} rows (identical answers grouped)")
    step("mlse export (Canvas + per-part CSV)", "export")
    step("mlse feedback (every student)", "feedback", A)
    step("mlse feedback again (nothing changed)", "feedback", A)
    r = min(args.resubmissions, n)
    with zipfile.ZipFile(course / "download2.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i, s in enumerate(students):
            when = DUE + timedelta(days=1) if i < r else (DUE + timedelta(hours=5) if i % 10 == 9
                                                          else DUE - timedelta(hours=1))
            data = variants["solution"] if i < r else variants[kinds[i % 3]]
            if i < r and kinds[i % 3] == "solution":
                data = variants["half"]
            zf.writestr(zipfile.ZipInfo(f"last{i}first{i}_{5000 + i}_{1000 + i}_{NB}", when.timetuple()[:6]), data)
    step("mlse collect (second download)", "collect", A, "download2.zip", note=f"{r} resubmissions")
    step(f"mlse grade ({r} resubmissions)", "grade", A, *workers, count=r)
    step(f"mlse feedback ({r} changed)", "feedback", A, count=r)
    step("mlse export", "export")
    print(f"\nOne run, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load average at "
          f"start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f} (shared machine)\n")
    print("| step | submissions | wall | CPU | note |\n|---|---|---|---|---|")
    for name, count, wall, cpu, note in results:
        print(f"| {name} | {count} | {wall:.1f} s | {cpu:.1f} s | {note} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
