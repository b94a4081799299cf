"""The README's instructor quick start works exactly as written.

The commands between the quickstart markers are run verbatim with bash in a copy of the course
folder, then their results are checked in the gradebook and on disk.
"""

from __future__ import annotations

import csv
import html as htmllib
import re
import shutil
import subprocess

import nbformat
import pytest

from conftest import ROOT
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin

pytestmark = pytest.mark.slow  # runs nbgrader five times


def _quickstart_commands() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- quickstart:begin -->\s*```bash\n(.*?)```\s*<!-- quickstart:end -->", readme, re.S)
    assert block, "README.md lost its quickstart block"
    return block.group(1)


def test_readme_quickstart_runs_as_written(tmp_path):
    for name in ("nbgrader_config.py", "solutions", "exercises"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp_path / name)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", _quickstart_commands()], cwd=tmp_path,
                          env=environment_with_bin(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"quickstart failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    scores = [s for s in cell_scores(db_url_for(tmp_path), "m1_roles_warmup") if s.student == "alice"]
    assert scores and all(s.score == 0 for s in scores if s.auto), "alice handed in a blank: zero"

    feedback = list((tmp_path / "feedback" / "alice" / "m1_roles_warmup").glob("*.html"))
    assert feedback, "no feedback generated"
    # Code in the feedback is syntax-highlighted: drop the tags to compare plain text.
    html = htmllib.unescape(re.sub(r"<[^>]+>", "", feedback[0].read_text(encoding="utf-8")))
    solution = nbformat.read(ROOT / "solutions" / "m1_roles_warmup" / "roles_warmup.ipynb", as_version=4)
    hidden = [line.strip() for c in solution.cells for line in c.source.split("### BEGIN HIDDEN TESTS")[-1]
              .split("### END HIDDEN TESTS")[0].splitlines() if "BEGIN HIDDEN TESTS" in c.source and len(line.strip()) > 25]
    assert hidden
    leaked = [line for line in hidden if line in html]
    assert not leaked, f"feedback shows hidden tests: {leaked[:2]}"

    with open(tmp_path / "grades.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["student_id"] == "alice"]
    assert rows and float(rows[0]["score"]) == 0.0
