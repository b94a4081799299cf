"""Student code can read nothing that holds test source, expected values or the reference (issue 16).

For every autograded assignment, a probe submission is built from the real released exercise: a
student adds one cell that searches everything it can read (its working folder and every folder
above it, home, the temp folder, shared memory, its environment, the top of the file system) for
the markers of hidden tests and solutions, and for a line of that assignment's hidden tests. The
submission is graded for real with the course's grading, and the probe's report, read back from
the graded notebook, must show that it found nothing and that it really ran.

The markers are built at run time and the hidden line travels base64-encoded, so the probe's own
notebook (which is in its working folder) does not match itself.
"""

from __future__ import annotations

import base64
import json
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import ASSIGNMENTS, ROOT, copy_course
from mlse.gradebook import cell_scores, db_url_for
from mlse.nbgrader_cli import environment_with_bin
from mlse.notebook_cells import hidden_regions, is_autograded_test
from mlse.workspace import notebooks_of

MARK = "MLSE-LEAK-PROBE:"

PROBE = r'''
import base64 as _b, json as _j, os as _o
_needles = [x.encode() for x in ("### BEGIN " + "HIDDEN TESTS", "### BEGIN " + "SOLUTION", "### END " + "SOLUTION")]
_needles += [_b.b64decode(x) for x in {hidden!r}]
_hits, _seen, _budget = [], 0, 20000
def _look(path):
    global _seen
    _seen += 1
    try:
        with open(path, "rb") as f:
            data = f.read(20_000_000)
    except Exception:
        return
    for n in _needles:
        if n in data:
            _hits.append(path + " holds " + n[:40].decode("utf-8", "replace"))
def _walk(top, depth):
    global _budget
    try:
        names = _o.listdir(top)
    except Exception:
        return
    for name in names:
        _budget -= 1
        if _budget < 0:
            return
        path = _o.path.join(top, name)
        if _o.path.islink(path):
            continue
        if _o.path.isfile(path):
            _look(path)
        elif _o.path.isdir(path) and depth > 0:
            _walk(path, depth - 1)
_places = {{_o.getcwd(), _o.path.expanduser("~"), _o.environ.get("TMPDIR", "/tmp"), "/tmp", "/dev/shm",
           "/var/tmp", "/srv", "/home", "/root", "/work", "/opt", "/mnt"}}
_p = _o.getcwd()
while _p != "/":
    _p = _o.path.dirname(_p)
    _places.add(_p)
for _top in sorted(_places):
    _walk(_top, 0 if _top == "/" else 6)
for _n in _needles:
    for _k, _v in _o.environ.items():
        if _n in _v.encode():
            _hits.append("environment variable " + _k)
print({mark!r} + _j.dumps({{"hits": sorted(set(_hits)), "files_read": _seen, "cwd": _o.getcwd()}}))
'''


def _probe_report(notebook) -> dict | None:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(MARK):
                    return json.loads(line[len(MARK):])
    return None


def _hidden_lines(solution: nbformat.NotebookNode) -> list[str]:
    """The three longest lines of the notebook's hidden tests: text no student has seen."""
    lines = [line.strip() for cell in solution.cells if is_autograded_test(cell)
             for region in hidden_regions(cell.source) for line in region.splitlines()]
    return sorted({line for line in lines if len(line) > 25}, key=len, reverse=True)[:3]


GRADED = [a for a in ASSIGNMENTS
          if any(_hidden_lines(nbformat.read(nb, as_version=4)) for nb in notebooks_of(ROOT / "solutions" / a))]


@pytest.fixture(scope="module")
def probed(released_course, tmp_path_factory):
    """Every assignment with hidden tests, one probing student each, graded by `mlse grade`."""
    ws = copy_course(released_course, tmp_path_factory.mktemp("probe"))
    for assignment in GRADED:
        for solution_path in notebooks_of(ws / "solutions" / assignment):
            hidden = _hidden_lines(nbformat.read(solution_path, as_version=4))
            nb = nbformat.read(ws / "exercises" / assignment / solution_path.name, as_version=4)
            code = PROBE.format(hidden=[base64.b64encode(h.encode()).decode() for h in hidden], mark=MARK)
            nb.cells.insert(2, new_code_cell(code))
            folder = ws / "submitted" / "prober" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / solution_path.name)
        proc = subprocess.run(["mlse", "grade", assignment, "--workers", "1"], cwd=ws,
                              env=environment_with_bin(), capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return ws


@pytest.mark.parametrize("assignment", GRADED)
def test_student_code_finds_no_test_source_anywhere(probed, assignment):
    scores = [s for s in cell_scores(db_url_for(probed), assignment) if s.student == "prober"]
    assert scores, f"{assignment}: the probing submission was not graded"
    for notebook in notebooks_of(probed / "solutions" / assignment):
        report = _probe_report(probed / "autograded" / "prober" / assignment / notebook.name)
        assert report is not None, f"{assignment}/{notebook.name}: the probe did not run or its report is lost"
        assert report["files_read"] > 0, f"the probe read no file at all: {report}"
        assert not report["hits"], f"{assignment}: student code could read test source: {report['hits']}"
