"""The Makefile's cleaning targets, run for real with make in a scratch folder: `make clean` (what an
instructor runs when the environment breaks mid-term) never touches the grades; the grading state
goes only with `make delete-grading-state CONFIRM=yes`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

GRADING_STATE = ["gradebook.db", "submitted/alice/m1_roles_warmup/roles_warmup.ipynb",
                 "autograded/alice/m1_roles_warmup/roles_warmup.ipynb",
                 "feedback/alice/m1_roles_warmup/roles_warmup.html", ".mlse/hand-grades.json"]
BUILD = [".venv/bin/python", "build/site/index.html", "tests/node_modules/.installed"]


def _course(folder):
    shutil.copy2(ROOT / "Makefile", folder / "Makefile")
    for rel in GRADING_STATE + BUILD:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("x")
    return folder


def _make(folder, *args):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=folder, capture_output=True,
                          text=True, timeout=60)


def test_make_clean_keeps_the_grading_state(tmp_path):
    course = _course(tmp_path)
    assert _make(course, "clean").returncode == 0
    assert not any((course / rel).exists() for rel in BUILD)
    assert all((course / rel).exists() for rel in GRADING_STATE)


def test_grading_state_goes_only_when_confirmed(tmp_path):
    course = _course(tmp_path)
    refused = _make(course, "delete-grading-state")
    assert refused.returncode != 0
    assert "Nothing was deleted" in refused.stdout and "CONFIRM=yes" in refused.stdout
    assert "gradebook.db" in refused.stdout and ".mlse" in refused.stdout
    assert all((course / rel).exists() for rel in GRADING_STATE + BUILD)
    done = _make(course, "delete-grading-state", "CONFIRM=yes")
    assert done.returncode == 0, done.stderr
    assert not any((course / rel.split("/")[0]).exists() for rel in GRADING_STATE)
    assert all((course / rel).exists() for rel in BUILD)  # the environment stays


def test_make_help_names_both(tmp_path):
    out = _make(_course(tmp_path), "help").stdout
    assert "make clean" in out and "never the grading state" in out
    assert "make delete-grading-state CONFIRM=yes" in out


def test_every_make_target_the_docs_name_is_in_make_help(tmp_path):
    """README.md and docs/instructor.md name only targets that `make help` lists (an instructor
    told to run `make setup` finds it there)."""
    import re

    out = _make(_course(tmp_path), "help").stdout
    listed = set(re.findall(r"^make ([a-z][a-z-]*)", out, re.M))
    named = set()
    for doc in ("README.md", "docs/instructor.md"):
        named |= set(re.findall(r"`make ([a-z][a-z-]*)", (ROOT / doc).read_text(encoding="utf-8")))
        named |= set(re.findall(r"^make ([a-z][a-z-]*)", (ROOT / doc).read_text(encoding="utf-8"), re.M))
    assert named and named <= listed, sorted(named - listed)
