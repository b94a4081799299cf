"""`mlse collect`: a real zip named as Canvas and Moodle name submissions, into nbgrader's layout."""

from __future__ import annotations

import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENTS, ROOT, copy_course
from mlse.apps.cli import main
from mlse.collect import collect_zip
from mlse.gradebook import db_url_for
from mlse.workspace import make_workspace, notebooks_of

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")


def _course_with_students(ws):
    make_workspace(ws, ROOT)
    with Gradebook(db_url_for(ws)) as gb:  # a new gradebook: nbgrader runs alembic (seconds)
        gb.update_or_create_student("jdoe", first_name="Jane", last_name="Doe", lms_user_id="12345")
        gb.update_or_create_student("asmith", first_name="Alan", last_name="Smith")
        gb.update_or_create_student("mgarcia", first_name="María", last_name="García")
        gb.update_or_create_student("bking", first_name="Bo", last_name="King")


@pytest.fixture
def course(shared, tmp_path):
    """A course folder whose gradebook knows four students: made once per run, copied per test."""
    return copy_course(shared("course-with-students", _course_with_students), tmp_path / "course")


def _notebook(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {marker}")])
    return nbformat.writes(nb).encode()


def test_canvas_and_moodle_names_land_in_submitted(course, tmp_path):
    assignment = ASSIGNMENTS[0]
    name = notebooks_of(ROOT / "solutions" / assignment)[0].name
    stem = name[:-len(".ipynb")]
    zpath = tmp_path / "download.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        # Canvas: matched by LMS user id; a resubmission (-1) wins over the first one
        zf.writestr(f"doejane_12345_900001_{name}", _notebook("jane first"))
        zf.writestr(f"doejane_LATE_12345_900002_{stem}-1.ipynb", _notebook("jane second"))
        # Canvas: matched by lastfirst
        zf.writestr(f"smithalan_777_900003_{name}", _notebook("alan"))
        # Moodle, flat and "in folders" (under a top folder), matched by full name
        zf.writestr(f"María García_55_assignsubmission_file_{name}", _notebook("maria"))
        zf.writestr(f"course-download/Bo King_56_assignsubmission_file_/{stem} (1).ipynb", _notebook("bo"))
        # not matched: an unknown student, a stray file, a non-notebook
        zf.writestr(f"nobodyelse_999_900004_{name}", _notebook("who"))
        zf.writestr("readme.txt", b"hello")
        zf.writestr("doejane_12345_900005_notes.pdf", b"%PDF")
    report = collect_zip(course, assignment, zpath)

    def content(student):
        path = course / "submitted" / student / assignment / name
        return nbformat.read(path, as_version=4).cells[0].source

    assert content("jdoe") == "# jane second"
    assert content("asmith") == "# alan"
    assert content("mgarcia") == "# maria"
    assert content("bking") == "# bo"
    assert (course / "submitted" / "jdoe" / assignment / "timestamp.txt").is_file()
    unmatched = dict(report.unmatched)
    assert set(unmatched) == {f"nobodyelse_999_900004_{name}", "readme.txt",
                              "doejane_12345_900005_notes.pdf"}
    assert "no student" in unmatched[f"nobodyelse_999_900004_{name}"]
    assert not (course / "submitted" / "nobodyelse").exists()

    # collecting the same zip again writes nothing (so `mlse grade` regrades nothing)
    again = collect_zip(course, assignment, zpath)
    assert not again.collected and len(again.unchanged) == 4


def test_add_unknown_and_cli_exit_code(course, tmp_path, monkeypatch, capsys):
    assignment = ASSIGNMENTS[0]
    name = notebooks_of(ROOT / "solutions" / assignment)[0].name
    zpath = tmp_path / "moodle.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(f"Grace Hopper_81_assignsubmission_file_{name}", _notebook("grace"))
    monkeypatch.chdir(course)
    assert main(["collect", assignment, str(zpath)]) == 0
    assert "not matched" in capsys.readouterr().out
    assert main(["collect", assignment, str(zpath), "--add-unknown"]) == 0
    assert (course / "submitted" / "gracehopper" / assignment / name).is_file()
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_student("gracehopper").lms_user_id == "81"
    assert main(["collect", "no_such_assignment", str(zpath)]) == 1
