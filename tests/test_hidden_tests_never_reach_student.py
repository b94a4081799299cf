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

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import ASSIGNMENTS, ROOT, copy_course
from mlse.gradebook import cell_scores, db_url_for
from mlse.notebook_cells import hidden_regions, is_answer, is_autograded_test, solution_lines
from mlse.workspace import notebooks_of

MARK = "MLSE-LEAK-PROBE:"

PROBE = r'''
import base64 as _b, json as _j, os as _o
# nbgrader's markers mean test or solution source in a notebook or a gradebook (the course's own
# tools mention them too, as plain strings); the assignment's own hidden and solution lines mean it anywhere.
_markers = [x.encode() for x in ("### BEGIN " + "HIDDEN TESTS", "### BEGIN " + "SOLUTION", "### END " + "SOLUTION")]
_needles = [_b.b64decode(x) for x in {hidden!r}]
_hits, _seen, _budget = [], 0, 20000
def _look(path):
    global _seen
    _seen += 1
    try:
        with open(path, "rb") as f:
            data = f.read(20_000_000)
    except Exception:
        return
    for n in _needles + (_markers if path.endswith((".ipynb", ".db", ".json")) else []):
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


def _longest(lines, n=3) -> list[str]:
    return sorted({line.strip() for line in lines if len(line.strip()) > 25}, key=len, reverse=True)[:n]


def _hidden_lines(solution: nbformat.NotebookNode) -> list[str]:
    """The longest lines of the notebook's hidden tests and of its solutions: text no student has seen."""
    hidden = [line for cell in solution.cells if is_autograded_test(cell)
              for region in hidden_regions(cell.source) for line in region.splitlines()]
    solved = [line for cell in solution.cells if is_answer(cell) and cell.cell_type == "code"
              for line in solution_lines(cell.source)]
    return _longest(hidden, 4) + _longest(solved, 6) if hidden else []


GRADED = [a for a in ASSIGNMENTS
          if any(_hidden_lines(nbformat.read(nb, as_version=4)) for nb in notebooks_of(ROOT / "solutions" / a))]


@pytest.fixture(scope="module")
def probed(released_course, tmp_path_factory):
    """Every assignment with hidden tests, one probing student each, graded by `mlse grade`."""
    ws = copy_course(released_course, tmp_path_factory.mktemp("probe"))
    for assignment in GRADED:
        for solution_path in notebooks_of(ws / "solutions" / assignment):
            released = ws / "exercises" / assignment / solution_path.name
            handed_out = released.read_text()  # lines the learner has anyway are no secret
            hidden = [line for line in _hidden_lines(nbformat.read(solution_path, as_version=4))
                      if json.dumps(line)[1:-1] not in handed_out and line not in handed_out]
            nb = nbformat.read(released, as_version=4)
            code = PROBE.format(hidden=[base64.b64encode(h.encode()).decode() for h in hidden], mark=MARK)
            nb.cells.insert(2, new_code_cell(code))
            folder = ws / "submitted" / "prober" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / solution_path.name)
        run_nbgrader_grade = ["mlse", "grade", assignment, "--workers", "1"]
        from mlse.nbgrader_cli import environment_with_bin
        import subprocess
        proc = subprocess.run(run_nbgrader_grade, cwd=ws, env=environment_with_bin(), capture_output=True,
                              text=True, timeout=900)
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
