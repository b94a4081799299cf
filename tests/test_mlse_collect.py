"""`mlse collect`: real zips named as Canvas and Moodle name submissions, a real gradebook.

Identity from the LMS's ids, never a merge of two ids, ambiguous and forged names refused, every
notebook checked before it replaces anything, the LMS's time as nbgrader's timestamp, and nbgrader's
own `zip_collect` with the course's collector plugin.
"""

from __future__ import annotations

import shutil
import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENTS, ROOT
from mlse import attention
from mlse.apps.cli import main
from mlse.collect import CollectError, LmsCollect, collect_zip, parse_lms_name
from mlse.gradebook import db_url_for
from mlse.nbgrader_cli import run_nbgrader
from mlse.workspace import make_workspace, notebooks_of

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignments yet")

A = "m1_roles_warmup" if "m1_roles_warmup" in ASSIGNMENTS else (ASSIGNMENTS or ["none"])[0]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A course folder where `nbgrader generate_assignment A` ran (made once, copied per test)."""
    ws = make_workspace(tmp_path_factory.mktemp("released") / "course", ROOT)
    run_nbgrader(["generate_assignment", A, "--force"], cwd=ws)
    return ws


@pytest.fixture
def course(released, tmp_path):
    ws = tmp_path / "course"
    shutil.copytree(released, ws)
    with Gradebook(db_url_for(ws)) as gb:
        gb.update_or_create_student("jdoe", first_name="Jane", last_name="Doe", lms_user_id="12345")
        gb.update_or_create_student("asmith", first_name="Alan", last_name="Smith")
        gb.update_or_create_student("mgarcia", first_name="María", last_name="García")
        gb.update_or_create_student("bking", first_name="Bo", last_name="King")
    return ws


NB = notebooks_of(ROOT / "solutions" / A)[0].name if ASSIGNMENTS else "x.ipynb"
STEM = NB[:-len(".ipynb")]


def _notebook(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {marker}")])
    return nbformat.writes(nb).encode()


def _zip(path, members: dict, times: dict | None = None):
    """A zip as an LMS writes it: each member with its own time (the submission time)."""
    times = times or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zi = zipfile.ZipInfo(name, date_time=times.get(name, (2026, 3, 1, 12, 0, 0)))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return path


def _content(course, student, name=NB):
    return nbformat.read(course / "submitted" / student / A / name, as_version=4).cells[0].source


def test_canvas_and_moodle_names_land_in_submitted(course, tmp_path):
    zpath = _zip(tmp_path / "download.zip", {
        # Canvas: matched by LMS user id; the later submission (time, then -1) wins
        f"doejane_12345_900001_{NB}": _notebook("jane first"),
        f"doejane_LATE_12345_900002_{STEM}-1.ipynb": _notebook("jane second"),
        # Canvas: matched by lastfirst, the first time; the id is kept in the gradebook
        f"smithalan_777_900003_{NB}": _notebook("alan"),
        # Moodle, flat and "in folders" (under a top folder), matched by full name
        f"María García_55_assignsubmission_file_{NB}": _notebook("maria"),
        f"course-download/Bo King_56_assignsubmission_file_/{STEM} (1).ipynb": _notebook("bo"),
        # not collected: an unknown student, a stray file, a non-notebook
        f"nobodyelse_999_900004_{NB}": _notebook("who"),
        "readme.txt": b"hello",
        "doejane_12345_900005_notes.pdf": b"%PDF",
    }, times={f"doejane_LATE_12345_900002_{STEM}-1.ipynb": (2026, 3, 2, 9, 30, 0)})
    report = collect_zip(course, A, zpath)
    assert _content(course, "jdoe") == "# jane second"
    assert _content(course, "asmith") == "# alan"
    assert _content(course, "mgarcia") == "# maria"
    assert _content(course, "bking") == "# bo"
    # the LMS's submission time is nbgrader's timestamp; Canvas's LATE flag is reported
    stamp = (course / "submitted" / "jdoe" / A / "timestamp.txt").read_text()
    assert stamp.startswith("2026-03-02 09:30:00")
    assert report.late == ["jdoe"]
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_student("asmith").lms_user_id == "777"
        assert gb.find_student("mgarcia").lms_user_id == "55"
    assert dict(report.linked) == {"asmith": "777", "mgarcia": "55", "bking": "56"}
    unmatched = dict(report.unmatched)
    assert set(unmatched) == {f"nobodyelse_999_900004_{NB}", "readme.txt",
                              "doejane_12345_900005_notes.pdf"}
    assert "no student" in unmatched[f"nobodyelse_999_900004_{NB}"]
    assert not (course / "submitted" / "nobodyelse").exists()
    assert not report.ok

    # collecting the same zip again writes nothing (so `mlse grade` regrades nothing)
    again = collect_zip(course, A, zpath)
    assert not again.collected and len(again.unchanged) == 4
    # once kept, the id decides: a renamed Alan is still Alan
    z2 = _zip(tmp_path / "renamed.zip", {f"smithalan_777_900009_{NB}": _notebook("alan 2"),
                                         f"newnamealan_777_900010_{NB}": _notebook("alan 3")},
              times={f"newnamealan_777_900010_{NB}": (2026, 3, 5, 0, 0, 0)})
    third = collect_zip(course, A, z2)
    assert _content(course, "asmith") == "# alan 3" and third.ok
    # the earlier version is kept, not deleted
    kept = list((course / ".mlse" / "versions" / A / "asmith").glob(f"*/{NB}"))
    assert kept and nbformat.read(kept[0], as_version=4).cells[0].source == "# alan"


def test_two_students_with_one_name_are_never_merged(course, tmp_path):
    with Gradebook(db_url_for(course)) as gb:
        gb.update_or_create_student("ang1", first_name="Andrew", last_name="Ng", lms_user_id="10")
        gb.update_or_create_student("ang2", first_name="Andrew", last_name="Ng", lms_user_id="11")
        gb.update_or_create_student("lee1", first_name="Kim", last_name="Lee")
        gb.update_or_create_student("lee2", first_name="Kim", last_name="Lee")
    zpath = _zip(tmp_path / "moodle.zip", {
        f"Andrew Ng_10_assignsubmission_file_{NB}": _notebook("ng ten"),
        f"Andrew Ng_11_assignsubmission_file_{NB}": _notebook("ng eleven"),
        # two roster students named Kim Lee, neither with an LMS id yet: refused, listed
        f"Kim Lee_20_assignsubmission_file_{NB}": _notebook("kim"),
        # two Canvas users named Alan Smith, one roster Alan Smith without an id: neither taken
        f"smithalan_30_900001_{NB}": _notebook("alan a"),
        f"smithalan_31_900002_{NB}": _notebook("alan b"),
    })
    report = collect_zip(course, A, zpath)
    assert _content(course, "ang1") == "# ng ten"
    assert _content(course, "ang2") == "# ng eleven"
    why = dict(report.unmatched)
    assert "ambiguous" in why[f"Kim Lee_20_assignsubmission_file_{NB}"]
    assert "lee1" in why[f"Kim Lee_20_assignsubmission_file_{NB}"]
    assert "ambiguous" in why[f"smithalan_30_900001_{NB}"] and "30, 31" in why[f"smithalan_31_900002_{NB}"]
    for student in ("lee1", "lee2", "asmith"):
        assert not (course / "submitted" / student).exists()
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_student("asmith").lms_user_id is None


def test_a_display_name_cannot_claim_another_students_id(course, tmp_path):
    """Issue 12, item 5: a Moodle display name shaped like the LMS's own marker."""
    first = _zip(tmp_path / "first.zip", {f"Jane Doe_12345_assignsubmission_file_{NB}": _notebook("jane")})
    assert collect_zip(course, A, first).ok
    forged = f"zz_12345_assignsubmission_file_x_666_assignsubmission_file_{NB}"
    forged_file = f"Eve_666_assignsubmission_file_x_12345_assignsubmission_file_{NB}"
    report = collect_zip(course, A, _zip(tmp_path / "evil.zip", {forged: _notebook("evil"),
                                                                  forged_file: _notebook("evil2")}))
    assert _content(course, "jdoe") == "# jane"
    why = dict(report.unmatched)
    assert "marker appears 2 times" in why[forged] and "marker appears 2 times" in why[forged_file]
    assert not report.collected
    assert parse_lms_name(f"course/Jane Doe_12345_assignsubmission_file_/{NB}").uid == "12345"


def test_broken_new_submission_replaces_nothing_and_old_grade_stops_counting(course, tmp_path):
    good = _zip(tmp_path / "good.zip", {f"doejane_12345_1_{NB}": _notebook("jane good"),
                                        f"smithalan_777_2_{NB}": _notebook("alan good"),
                                        f"garciamaria_55_3_{NB}": _notebook("maria good")})
    assert collect_zip(course, A, good).ok
    # pretend jdoe's good notebook was graded, with feedback
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.update_or_create_submission(A, "jdoe")
        for nb in sub.notebooks:
            for g in nb.grades:
                g.auto_score = g.max_score
        gb.db.commit()
        assert gb.find_submission(A, "jdoe").score > 0
    fb = course / "feedback" / "jdoe" / A
    fb.mkdir(parents=True)
    (fb / f"{STEM}.html").write_text("old feedback")
    whole = _notebook("jane truncated")
    bad = _zip(tmp_path / "bad.zip", {f"doejane_12345_4_{NB}": whole[: len(whole) // 2],
                                      f"smithalan_777_5_{NB}": b"",
                                      f"garciamaria_55_6_{NB}": b'{"not": "a notebook"}'},
               times={m: (2026, 3, 9, 0, 0, 0) for m in ("x",)})
    report = collect_zip(course, A, bad)
    why = {s: w for s, _, w in report.refused}
    assert "truncated" in why["jdoe"] and "empty" in why["asmith"] and "without cells" in why["mgarcia"]
    assert _content(course, "jdoe") == "# jane good"  # nothing replaced
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.find_submission(A, "jdoe")
        assert all(nb.flagged for nb in sub.notebooks)
        assert all(g.auto_score is None for nb in sub.notebooks for g in nb.grades)
    assert not fb.exists()  # old feedback moved aside, not deleted
    assert list((course / ".mlse" / "stale-feedback" / "jdoe" / A).glob(f"*/{STEM}.html"))
    assert "truncated" in attention.reasons(course, A)[(A, "jdoe")]["reason"]
    # a valid new version lifts the wait for the student; grading it clears the state
    fixed = _zip(tmp_path / "fixed.zip", {f"doejane_12345_7_{NB}": _notebook("jane fixed")},
                 times={f"doejane_12345_7_{NB}": (2026, 3, 10, 0, 0, 0)})
    assert collect_zip(course, A, fixed).ok
    assert attention.reasons(course, A)[(A, "jdoe")]["stage"] == "collected"


def test_size_and_zip_bomb_limits(course, tmp_path):
    big = _notebook("x" * 3_000_000)
    zpath = _zip(tmp_path / "big.zip", {f"doejane_12345_1_{NB}": big})
    report = collect_zip(course, A, zpath, options=LmsCollect(max_notebook_mb=1))
    assert "over the 1 MB limit" in dict(report.unmatched)[f"doejane_12345_1_{NB}"]
    assert not (course / "submitted" / "jdoe").exists()
    # a notebook that compresses 1000 times: a zip bomb's shape
    report = collect_zip(course, A, zpath, options=LmsCollect(max_ratio=50))
    assert "zip-bomb" in dict(report.unmatched)[f"doejane_12345_1_{NB}"]
    with pytest.raises(CollectError, match="unpack to"):
        collect_zip(course, A, zpath, options=LmsCollect(max_total_mb=1))


def test_bad_inputs_say_what_and_exit_non_zero(course, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(course)
    notzip = tmp_path / "grades.zip"
    notzip.write_text("this is not a zip")
    assert main(["collect", A, str(notzip)]) == 1
    assert "is not a zip file" in capsys.readouterr().err
    assert main(["collect", A, str(tmp_path / "absent.zip")]) == 1
    assert "No file at" in capsys.readouterr().err
    z = _zip(tmp_path / "m.zip", {f"Grace Hopper_81_assignsubmission_file_{NB}": _notebook("grace"),
                                  "Jane Doe_12345_assignsubmission_file_Untitled.ipynb": _notebook("jane")})
    assert main(["collect", A, str(z)]) == 1  # Grace is not in the gradebook
    out = capsys.readouterr().out
    assert "no student in the gradebook matches moodle user 81" in out
    assert "renamed to" in out  # a wrongly named notebook of a one-notebook assignment
    assert main(["collect", A, str(z), "--add-unknown"]) == 0
    assert (course / "submitted" / "gracehopper" / A / NB).is_file()
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_student("gracehopper").lms_user_id == "81"
    assert main(["collect", "no_such_assignment", str(z)]) == 1
    # a missing gradebook is an error, and none is created
    (course / "gradebook.db").unlink()
    assert main(["collect", A, str(z)]) == 1
    assert "No gradebook" in capsys.readouterr().err
    assert not (course / "gradebook.db").exists()


def test_nbgrader_zip_collect_with_the_collector_plugin(course, tmp_path):
    """nbgrader's own zip_collect, with the course's plugin: files go to the student whose
    lms_user_id is in the name; a forged or unknown name is skipped."""
    archive = course / "downloaded" / A / "archive"
    archive.mkdir(parents=True)
    _zip(archive / "canvas.zip", {f"doejane_12345_900001_{NB}": _notebook("jane via nbgrader"),
                                  f"zz_12345_assignsubmission_file_x_9_assignsubmission_file_{NB}":
                                      _notebook("forged"),
                                  f"nobody_4242_900002_{NB}": _notebook("unknown")})
    run_nbgrader(["zip_collect", A, "--collector=mlse.collect.lms.LmsFileNameCollector"], cwd=course)
    assert _content(course, "jdoe") == "# jane via nbgrader"
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["jdoe"]
