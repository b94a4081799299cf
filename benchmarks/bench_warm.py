"""Warm versus cold kernels: kernel start-up, and the grading time of one m1 submission.

Run on demand (it is not a test), from the course root:

    .venv/bin/python benchmarks/bench_warm.py --repeat 3

1. Kernel start-up plus a first cell that imports the course's stack
   (``import numpy, pandas, sklearn, matplotlib.pyplot; from helpers.checks import check``),
   through :class:`mlse.sandbox.SandboxedKernelManager`, warm (forked from the zygote) and cold.
2. ``autograde_one`` of the complete m1_roles_warmup submission (intake, sandboxed nbgrader, the
   judge's and the student's kernels), warm and cold, in alternation so that both see the same
   load. The zygote is started once before timing (once per worker in ``mlse grade``).

It prints a table; it writes nothing in the course folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from traitlets.config import Config  # noqa: E402

from mlse import intake  # noqa: E402
from mlse.grade.one import autograde_one  # noqa: E402
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader  # noqa: E402
from mlse.sandbox import SandboxedKernelManager, zygote  # noqa: E402
from mlse.workspace import make_workspace  # noqa: E402

ASSIGNMENT, NOTEBOOK = "m1_roles_warmup", "roles_warmup.ipynb"
FIRST_CELL = "import numpy, pandas, sklearn, matplotlib.pyplot\nfrom helpers.checks import check"


def kernel_start(warm: bool, boxes: Path) -> float:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FIRST_CELL)])
    config = Config()
    config.SandboxedKernelManager.warm = warm
    config.SandboxedKernelManager.warm_fallback = False
    config.SandboxedKernelManager.sandbox_root = str(boxes)
    t = time.perf_counter()
    NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, config=config, timeout=120,
                   kernel_name="python3").execute()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["PATH"] = environment_with_bin()["PATH"]
    tmp = Path(tempfile.mkdtemp(prefix="mlse-bench-warm-"))
    boxes = tmp / "boxes"
    boxes.mkdir()
    z = zygote.ensure_zygote()
    print(f"zygote: {z.info}")
    starts = {"warm": [], "cold": []}
    for _ in range(args.repeat):
        for mode in ("warm", "cold"):
            starts[mode].append(kernel_start(mode == "warm", boxes))
    from hostile_cases import build_cases, write_case

    ws = make_workspace(tmp / "course", ROOT)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=ws)
    honest = next(c for c in build_cases(ws / "solutions" / ASSIGNMENT / NOTEBOOK,
                                         ws / "exercises" / ASSIGNMENT / NOTEBOOK) if c.name == "honest")
    grades = {"warm": [], "cold": []}
    for i in range(args.repeat):
        for mode in ("warm", "cold"):
            student = f"{mode}{i}"
            write_case(honest, ws / "submitted" / student / ASSIGNMENT)
            outcome = intake.inspect(ws, ASSIGNMENT, student)
            t = time.perf_counter()
            result = autograde_one(ws, ASSIGNMENT, student, submitted_directory=outcome.submitted_directory,
                                   warm=mode == "warm", sandbox_root=str(boxes))
            grades[mode].append(time.perf_counter() - t)
            assert result.ok, result.error
    print(f"load average: {os.getloadavg()}")
    print("| measure | warm (s) | cold (s) |")
    print("|---|---:|---:|")
    for name, data in (("kernel start + first cell (imports)", starts),
                       ("autograde_one, complete m1 submission", grades)):
        print(f"| {name} | {statistics.median(data['warm']):.2f} "
              f"({', '.join(f'{x:.2f}' for x in data['warm'])}) | {statistics.median(data['cold']):.2f} "
              f"({', '.join(f'{x:.2f}' for x in data['cold'])}) |")
    zygote.stop_zygote()


if __name__ == "__main__":
    main()
