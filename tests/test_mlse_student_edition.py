"""`mlse student-edition OUT`: what an instructor hands to students holds no solution and no hidden
test, and `mlse check` works there with the visible tests only."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.apps.cli import main
from mlse.edition import EditionLeak, build_student_edition
from mlse.notebook_cells import hidden_regions
from mlse.selfcheck import check_notebook
from mlse.workspace import notebooks_of

A = "m1_roles_warmup"
pytestmark = pytest.mark.skipif(A not in ASSIGNMENTS, reason="needs m1")


def test_edition_has_no_solutions_and_check_uses_visible_tests(tmp_path, monkeypatch, capsys):
    out = tmp_path / "for-students"
    monkeypatch.chdir(ROOT)
    assert main(["student-edition", str(out)]) == 0
    assert (out / "course").is_dir() and (out / "exercises" / A).is_dir()
    assert (out / "src" / "helpers").is_dir() and (out / "nbgrader_config.py").is_file()
    for absent in ("solutions", "tests", "gradebook.db", "submitted", "autograded", "docs"):
        assert not (out / absent).exists(), absent
    for nb in out.rglob("*.ipynb"):
        text = nb.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, nb
    # no line of any hidden test appears in a lesson or an exercise
    secret = set()
    for a in ASSIGNMENTS:
        for source in notebooks_of(ROOT / "solutions" / a):
            for cell in nbformat.read(source, as_version=4).cells:
                secret |= {l.strip() for r in hidden_regions(cell.source) for l in r.splitlines()
                           if len(l.strip()) >= 30 and not l.strip().startswith("#")}
    released = {l.strip() for p in (ROOT / "exercises").rglob("*.ipynb")
                for c in nbformat.read(p, as_version=4).cells for l in c.source.splitlines()}
    secret -= released  # lines a learner sees anyway in nbgrader's own release
    shipped = "\n".join(p.read_text(encoding="utf-8") for p in (out / "exercises").rglob("*.ipynb"))
    assert secret and not [s for s in secret if s in shipped]

    # a complete answer scores every visible point; the hidden-only tests are not counted as won
    solution = ROOT / "solutions" / A / "roles_warmup.ipynb"
    mine = tmp_path / "mine" / "roles_warmup.ipynb"
    mine.parent.mkdir()
    shutil.copy2(solution, mine)
    results = check_notebook(mine, out)
    auto = [r for r in results if r.auto]
    assert auto and all(r.score == r.max_score for r in auto)
    assert all(r.later > 0 for r in auto), "each part's hidden tests are left to the instructor"
    blank = check_notebook(out / "exercises" / A / "roles_warmup.ipynb", out)
    assert all(r.score == 0 for r in blank if r.auto), "a blank scores nothing on visible tests"
    # a folder that is not empty is never written into
    assert main(["student-edition", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_a_leak_stops_the_edition(tmp_path, monkeypatch):
    course = tmp_path / "course"
    for name in ("solutions", "exercises", "course", "src"):
        shutil.copytree(ROOT / name, course / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    # an exercise released by mistake with its hidden tests
    shutil.copy2(ROOT / "solutions" / A / "roles_warmup.ipynb", course / "exercises" / A / "roles_warmup.ipynb")
    with pytest.raises(EditionLeak):
        build_student_edition(course, tmp_path / "out")
    assert not (tmp_path / "out").exists()
