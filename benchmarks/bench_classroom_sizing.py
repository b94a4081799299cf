"""Measure what one student costs a class hub: memory and CPU of a student's server, of a kernel
running each lesson, and of ``mlse check`` on each exercise (docs/classroom.md, "Sizing").

Run on demand (it is not a test), from the course root:

    .venv/bin/python benchmarks/bench_classroom_sizing.py [--repeat 1] [--out FILE.json]

Everything is a real process, started the way a student's server starts it (one thread per
numeric library, as ``mlse classroom`` sets), and measured from /proc while it runs:

* **memory**: the peak, sampled every 100 ms, of the summed proportional set size (PSS, from
  ``/proc/PID/smaps_rollup``) of the process and all its descendants: a page shared by n processes
  counts 1/n in each, so forked kernels (``mlse check``'s zygote) are not counted twice. The summed
  resident memory (RSS, every shared page counted in every process) is given too, as an upper
  bound;
* **CPU**: user + system seconds of the process and its descendants (from /proc and getrusage).

Prints a table and the figures for a class size (``--students``), with the assumptions stated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _tree(pid: int) -> list[int]:
    """``pid`` and its living descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _rss(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


def _pss(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            pass
    return total


def _cpu(pids: list[int]) -> float:
    """User + system seconds of living processes, with their waited-for children."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            pass
    return total / TICK


class Peak:
    """Samples the summed RSS of ``pid``'s tree every 50 ms in a thread, until stopped."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.peak_rss, self.cpu = pid, 0, 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            self.peak = max(self.peak, _pss(pids))
            self.peak_rss = max(self.peak_rss, _rss(pids))
            self.cpu = max(self.cpu, _cpu(pids))
            self._stop.wait(0.1)

    def stop(self) -> "Peak":
        self._stop.set()
        self._thread.join()
        return self


def measure_server(state: Path) -> dict:
    """A student's JupyterLab server, idle after start (what every logged-in student costs)."""
    port = _free_port()
    token = secrets.token_hex(8)
    env = dict(os.environ, **THREADS, JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTER_DATA_DIR=str(state / "data"), JUPYTER_RUNTIME_DIR=str(state / "runtime"))
    cmd = [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={state}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    peak = Peak(proc.pid)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5)
                break
            except OSError:
                time.sleep(0.3)
        # A page load makes the server build its lab page and settings once.
        urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=60).read()
        time.sleep(3)
        rss = _pss(_tree(proc.pid))
    finally:
        peak.stop()
        proc.terminate()
        proc.wait(timeout=30)
    return {"what": "JupyterLab server, idle after start", "peak_mb": peak.peak / 2**20,
            "peak_rss_mb": peak.peak_rss / 2**20, "steady_mb": rss / 2**20, "cpu_s": peak.cpu}


def measure_lesson(notebook: Path) -> dict:
    """A kernel running every cell of a lesson (nbclient), as a student's Run All."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(notebook.parent), env=dict(os.environ, **THREADS,
                                                      PYTHONPATH=str(ROOT / "src")))
    pid = km.provisioner.process.pid
    peak = Peak(pid)
    started = time.monotonic()
    try:
        NotebookClient(nb, km=km, timeout=300).execute()
        wall = time.monotonic() - started
        cpu = _cpu(_tree(pid))
    finally:
        peak.stop()
        km.shutdown_kernel(now=True)
    return {"what": f"kernel, Run All of {notebook.name}", "peak_mb": peak.peak / 2**20,
            "peak_rss_mb": peak.peak_rss / 2**20,
            "cpu_s": max(cpu, peak.cpu), "wall_s": wall}


def measure_check(notebook: Path, scratch: Path) -> dict:
    """``mlse check`` of an exercise: what a learner's self-check costs (its grader, zygote and
    kernels)."""
    copy = scratch / notebook.name
    shutil.copy2(notebook, copy)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen([str(BIN / "mlse"), "check", str(copy)], cwd=ROOT,
                            env=dict(os.environ, **THREADS), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    peak = Peak(proc.pid)
    proc.wait(timeout=600)
    peak.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"what": f"mlse check {notebook.parent.name}/{notebook.name}", "peak_mb": peak.peak / 2**20,
            "peak_rss_mb": peak.peak_rss / 2**20,
            "cpu_s": max(cpu, peak.cpu), "wall_s": time.monotonic() - started}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    os.environ["PATH"] = os.pathsep.join([str(BIN), os.environ["PATH"]])
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlse-sizing-") as scratch:
        scratch = Path(scratch)
        rows.append(measure_server(scratch))
        print(rows[-1], flush=True)
        for lesson in sorted((ROOT / "course").glob("*.ipynb")):
            rows.append(measure_lesson(lesson))
            print(rows[-1], flush=True)
        for exercise in sorted((ROOT / "exercises").glob("*/*.ipynb")):
            rows.append(measure_check(exercise, scratch))
            print(rows[-1], flush=True)
    load = os.getloadavg()
    server = rows[0]
    lessons = [r for r in rows if r["what"].startswith("kernel")]
    checks = [r for r in rows if r["what"].startswith("mlse check")]
    heavy_lesson = max(lessons, key=lambda r: r["peak_mb"])
    heavy_check = max(checks, key=lambda r: r["peak_mb"])
    per_student_mb = server["steady_mb"] + heavy_lesson["peak_mb"] + heavy_check["peak_mb"]
    print("\n| measured | peak PSS (MiB) | peak RSS (MiB) | CPU (s) | wall (s) |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['what']} | {r['peak_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['cpu_s']:.1f} | "
              f"{r.get('wall_s', 0):.1f} |")
    print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
          f"Python {platform.python_version()}")
    print(f"per student, worst case at once (server + heaviest lesson's kernel + heaviest check): "
          f"{per_student_mb:.0f} MiB; {args.students} students: {per_student_mb * args.students / 1024:.0f} GiB")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "load": load, "per_student_mb": per_student_mb},
                                             indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
