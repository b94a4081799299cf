"""Benchmark `mlse grade` against sequential `nbgrader autograde` and bare nbclient execution.

Run on demand (it is not a test), from the course root:

    .venv/bin/python benchmarks/bench_grading.py --students 40

On a demo class of N students with a submission of every assignment, in one run on one machine:

1. sequential ``nbgrader autograde ASSIGNMENT`` (nbgrader's CLI, as an instructor runs it);
2. ``mlse grade`` with W workers (default: one per core), on an identical copy;
3. ``mlse grade --workers 1`` on a third copy, to measure the per-notebook cost of our pipeline;
4. bare ``nbclient`` execution of the same submitted notebooks, one after another.

It checks that the gradebooks of 1 and 2 are equal cell by cell, then reports
speed-up = t(1) / t(2) and per-notebook overhead = t(3) / t(4), and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlse.demo import make_demo_class  # noqa: E402
from mlse.gradebook import db_url_for, gradebook_rows  # noqa: E402
from mlse.grade.batch import default_workers, grade_assignment  # noqa: E402
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader  # noqa: E402
from mlse.workspace import list_assignments  # noqa: E402


def _course(dest: Path, students: int, assignments: list[str]) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, dest / folder)
    for a in assignments:
        run_nbgrader(["generate_assignment", a, "--force"], cwd=dest)
    make_demo_class(dest, students, assignments=assignments)
    return dest


def _bare_nbclient(course: Path, assignments: list[str]) -> tuple[float, int]:
    """Execute every submitted notebook with nbclient alone: the floor any grader pays."""
    from nbclient import NotebookClient

    count, start = 0, time.perf_counter()
    for a in assignments:
        for path in sorted((course / "submitted").glob(f"*/{a}/*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            count += 1
    return time.perf_counter() - start, count


def _mlse_check(course: Path, assignment: str) -> list[float]:
    """Seconds of ``mlse check`` on the solution of ``assignment``, run twice (the second on a
    warm machine: files cached), as a learner or instructor runs it."""
    import subprocess

    notebook = sorted((course / "solutions" / assignment).glob("*.ipynb"))[0]
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(["mlse", "check", str(notebook)], cwd=course, env=environment_with_bin(),
                       capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--assignments", nargs="*", default=None, help="default: all")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade with `mlse grade --no-sandbox` (namespaces off; the judge stays)")
    parser.add_argument("--skip-check", action="store_true", help="skip timing `mlse check`")
    parser.add_argument("--skip-single", action="store_true",
                        help="skip the --workers 1 run (then no per-notebook overhead ratio)")
    args = parser.parse_args()
    os.environ["PATH"] = environment_with_bin()["PATH"]
    assignments = args.assignments or list_assignments(ROOT)
    workers = args.workers or default_workers()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="mlse-bench-"))
    try:
        print(f"building a demo class of {args.students} students in {tmp} ...", flush=True)
        base = _course(tmp / "base", args.students, assignments)
        seq, par, one = (tmp / n for n in ("sequential", "parallel", "single"))
        for d in (seq, par, one):
            shutil.copytree(base, d)
        notebooks = len(list((base / "submitted").glob("*/*/*.ipynb")))

        # One assignment at a time, every way in turn, so a change in the machine's load (it is
        # shared) falls on all four alike rather than on whichever ran last.
        t_seq = t_par = t_bare = 0.0
        t_one = None if args.skip_single else 0.0
        n_bare, outcomes = 0, []
        for a in assignments:
            print(f"{a}: sequential nbgrader autograde ...", flush=True)
            t0 = time.perf_counter()
            run_nbgrader(["autograde", a], cwd=seq, check=False, plain=True)
            t_seq += time.perf_counter() - t0
            print(f"{a}: mlse grade with {workers} workers ...", flush=True)
            t0 = time.perf_counter()
            outcomes += grade_assignment(par, a, workers=workers, sandbox=not args.no_sandbox)
            t_par += time.perf_counter() - t0
            if t_one is not None:
                print(f"{a}: mlse grade with 1 worker ...", flush=True)
                t0 = time.perf_counter()
                grade_assignment(one, a, workers=1, sandbox=not args.no_sandbox)
                t_one += time.perf_counter() - t0
            print(f"{a}: bare nbclient execution ...", flush=True)
            seconds, count = _bare_nbclient(base, [a])
            t_bare, n_bare = t_bare + seconds, n_bare + count
        failed = [o.student for o in outcomes if o.status == "failed"]
        same = gradebook_rows(db_url_for(seq)) == gradebook_rows(db_url_for(par))
        print(f"   gradebooks equal: {same}; failed submissions: {len(failed)}", flush=True)
        t_check = _mlse_check(base, assignments[0]) if not args.skip_check else None
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    speedup = t_seq / t_par
    lines = [
        "# Grading benchmark",
        "",
        "Written by `benchmarks/bench_grading.py` (run on demand, not a test: "
        f"`.venv/bin/python benchmarks/bench_grading.py --students {args.students}"
        f"{' --no-sandbox' if args.no_sandbox else ''}`). `mlse grade` runs as instructors run it: "
        "intake, the sandbox (namespaces, cgroup, empty root; kernels forked warm from one zygote "
        "per run) and the judge (test cells in a second kernel that never runs student code).",
        "",
        f"* when: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{os.cpu_count()} logical cores, Python {platform.python_version()}",
        f"* load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(other work on the machine slows every row alike, and the parallel run most)",
        f"* class: {args.students} demo students x {len(assignments)} assignment(s) "
        f"({', '.join(assignments)}) = {notebooks} notebooks",
        f"* gradebooks of sequential nbgrader and `mlse grade` equal cell by cell: **{same}**",
        "",
        "| run | wall time (s) | per notebook (s) |",
        "|---|---:|---:|",
        f"| sequential `nbgrader autograde` | {t_seq:.1f} | {t_seq / notebooks:.2f} |",
        f"| `mlse grade --workers {workers}` | {t_par:.1f} | {t_par / notebooks:.2f} |",
    ]
    if t_one is not None:
        lines.append(f"| `mlse grade --workers 1` | {t_one:.1f} | {t_one / notebooks:.2f} |")
    lines += [
        f"| bare nbclient execution | {t_bare:.1f} | {t_bare / n_bare:.2f} |",
        "",
        f"* **speed-up of `mlse grade` over sequential nbgrader: {speedup:.2f}x** "
        f"with {workers} workers (target: at least 3x on 2 cores, aim 4x)",
    ]
    if t_one is not None:
        lines.append(f"* **per-notebook cost of `mlse grade` (1 worker) over bare nbclient: "
                     f"{t_one / t_bare:.2f}x** (target: at most 0.8x)")
    lines.append(f"* sequential nbgrader over bare nbclient, for comparison: {t_seq / t_bare:.2f}x")
    if t_check is not None:
        lines.append(f"* `mlse check` of the {assignments[0]} solution: {t_check[0]:.1f} s, then "
                     f"{t_check[1]:.1f} s on a warm machine (target: under 3 s warm)")
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
