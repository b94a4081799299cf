"""A term's round trip with real nbgrader and a real gradebook (issue 13): collect from a Canvas
zip with the LMS's times, grade, late penalties and an extension, the Canvas and per-part exports,
a broken resubmission that must not leave a stale grade, --student and --only-failed, the lock,
Ctrl-C, and every command refusing to run without the class gradebook.

One class is graded once per module (the slow part); every test works on its own copy.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from simulated import blank_submission
from mlse import attention
from mlse.apps.cli import main
from mlse.gradebook import db_url_for
from mlse.grade.batch import course_lock
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader
from mlse.outputs.export import CANVAS_COLUMNS
from mlse.workspace import make_workspace

A, NB = "m1_roles_warmup", "roles_warmup.ipynb"
M5, NB5 = "m5_reflection", "reflection.ipynb"
DUE = datetime(2026, 3, 1, 12, 0, 0)

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / A).is_dir() or not (ROOT / "solutions" / M5).is_dir(),
                                reason="needs m1 and m5")


def _canvas_zip(path, members: dict) -> None:
    """A Canvas 'Download Submissions' zip: each member's time is the submission time."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, when) in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    ws = make_workspace(tmp_path_factory.mktemp("term") / "course", ROOT)
    with open(ws / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    for a in (A, M5):
        run_nbgrader(["generate_assignment", a, "--force"], cwd=ws)
    with Gradebook(db_url_for(ws)) as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
        for sid, first, last, uid in [("alice", "Alice", "Ames", "101"), ("bob", "Bob", "Byrd", "102"),
                                      ("carol", "Carol", "Cruz", "103"), ("dave", "Dave", "Dunn", "104"),
                                      ("erin", "Erin", "Eng", None)]:
            gb.update_or_create_student(sid, first_name=first, last_name=last, lms_user_id=uid)
    solution = (ROOT / "solutions" / A / NB).read_bytes()
    blank = nbformat.writes(blank_submission(ROOT / "exercises" / A / NB)).encode()
    on_time, late = (2026, 3, 1, 10, 0, 0), (2026, 3, 2, 9, 0, 0)
    _canvas_zip(ws / "m1.zip", {f"amesalice_101_1_{NB}": (solution, on_time),
                                f"byrdbob_LATE_102_2_{NB}": (solution, late),
                                f"cruzcarol_103_3_{NB}": (blank, on_time),
                                f"engerin_105_4_{NB}": (solution, on_time)})
    _canvas_zip(ws / "m5.zip", {f"amesalice_101_5_{NB5}": ((ROOT / "solutions" / M5 / NB5).read_bytes(), on_time)})
    cwd = os.getcwd()
    os.chdir(ws)
    try:
        assert main(["collect", A, str(ws / "m1.zip")]) == 0
        assert main(["collect", M5, str(ws / "m5.zip")]) == 0
        assert main(["grade", A, "--workers", "2"]) == 0
        assert main(["grade", M5, "--workers", "1"]) == 0
    finally:
        os.chdir(cwd)
    return ws


@pytest.fixture
def course(term, tmp_path, monkeypatch):
    ws = tmp_path / "course"
    shutil.copytree(term, ws)
    monkeypatch.chdir(ws)
    return ws


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_collect_kept_the_lms_times_and_ids(course):
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_student("erin").lms_user_id == "105"  # matched by name once, then kept
        bob = gb.find_submission(A, "bob")
        assert bob.timestamp == datetime(2026, 3, 2, 9, 0, 0)
        assert bob.total_seconds_late == 21 * 3600
        assert gb.find_submission(A, "alice").total_seconds_late == 0


def _hand_grade(course, assignment, student):
    """What formgrader does when the instructor gives full marks to every answer graded by hand."""
    with Gradebook(db_url_for(course)) as gb:
        for nb in gb.find_submission(assignment, student).notebooks:
            for g in nb.grades:
                if g.needs_manual_grade:
                    g.manual_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()


def test_canvas_export_late_penalty_extension_and_blanks(course, capsys):
    _hand_grade(course, A, "alice")
    _hand_grade(course, A, "bob")
    assert main(["export", "--all-assignments"]) == 0  # no Canvas ids here: every assignment
    out = capsys.readouterr().out
    assert "canvas_grades.csv" in out and "mlse_grades.csv" in out
    assert not (course / "grades.csv").exists()  # never nbgrader's file name
    rows = _rows(course / "canvas_grades.csv")
    # Canvas's documented import columns, then one column per assignment; Points Possible first
    assert rows[0][:5] == CANVAS_COLUMNS == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[0][5:] == [A, M5]
    assert rows[1][0] == "Points Possible"
    with Gradebook(db_url_for(course)) as gb:
        full = gb.find_assignment(A).max_score
        m5max = gb.find_assignment(M5).max_score
    assert [float(x) for x in rows[1][5:]] == [full, m5max]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["101"][0] == "Ames, Alice"
    assert float(by_id["101"][5]) == full        # on time, complete
    with Gradebook(db_url_for(course)) as gb:  # late: the penalty as nbgrader computed it
        bob = gb.find_submission(A, "bob")
        assert bob.late_submission_penalty > 0
        assert float(by_id["102"][5]) == max(0.0, bob.score - bob.late_submission_penalty) < full
    assert by_id["104"][5] == ""                 # dave: no submission -> blank, not 0
    assert by_id["101"][6] == ""                 # m5 waits for a hand grade -> blank
    assert by_id["105"][5] == ""                 # erin's m1 part 6 waits for a hand grade
    parts = {r[0]: r for r in _rows(course / "mlse_grades.csv")[1:]}
    header = _rows(course / "mlse_grades.csv")[0]
    pending = parts["alice"][header.index("pending")]
    assert f"{M5}:" in pending and "to grade by hand" in pending
    assert parts["dave"][header.index(A)] == "" and "no submission" in parts["dave"][header.index("pending")]
    # m5 is optional (nbgrader_config.py): carol skipped it, so her total is final, nothing pending
    assert parts["carol"][header.index(M5)] == "" and parts["carol"][header.index("pending")] == ""
    assert parts["carol"][header.index("total")] == parts["carol"][header.index(A)] != ""
    assert f"{M5}: no submission" not in parts["dave"][header.index("pending")]
    assert float(parts["bob"][header.index(f"{A} late penalty")]) > 0
    assert parts["bob"][header.index(f"{A} LMS late")] == "LATE"  # Canvas's own flag, kept by collect
    assert parts["alice"][header.index(f"{A} LMS late")] == ''
    assert "to grade by hand: Part 6" in parts["erin"][header.index("pending")]
    assert any(h.startswith(f"{A}: ") for h in header)  # per-part columns
    # nbgrader's own `nbgrader export` runs the same plugin
    run_nbgrader(["export", "--exporter=mlse.outputs.export.CanvasExporter", "--to=nb_canvas.csv",
                  f"--CanvasExporter.course_root={course}", "--CanvasExporter.all_assignments=True"],
                 cwd=course)
    assert _rows(course / "nb_canvas.csv") == rows

    # an extension that nbgrader's late logic respects: the penalty goes, without regrading
    assert main(["extension", A, "bob", "--days", "1"]) == 0
    assert "penalty 0" in capsys.readouterr().out
    assert main(["export", "--format", "canvas", "--all-assignments"]) == 0
    assert float({r[1]: r for r in _rows(course / "canvas_grades.csv")[2:]}["102"][5]) == full
    with Gradebook(db_url_for(course)) as gb:
        assert gb.find_submission(A, "bob").extension.days == 1
    # ... and a regrade keeps it (nbgrader reads it from the submission)
    assert main(["grade", A, "--student", "bob", "--force"]) == 0
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.find_submission(A, "bob")
        assert sub.extension.days == 1 and not sub.late_submission_penalty


def test_broken_resubmission_is_never_a_stale_grade(course, capsys):
    assert main(["feedback", A, "--student", "alice"]) == 0
    old_feedback = course / "feedback" / "alice" / A / "roles_warmup.html"
    assert old_feedback.is_file()
    assert not (course / "feedback" / "bob").exists()  # --student: only alice
    # alice hands in a notebook that nbgrader cannot read, placed without collect
    folder = course / "submitted" / "alice" / A
    (folder / NB).write_text('{"cells": [ this is not JSON')
    (folder / "timestamp.txt").write_text("2026-03-01 11:00:00.000000 UTC")
    capsys.readouterr()
    assert main(["grade", A]) == 1
    out = capsys.readouterr().out
    assert "Failed" in out and "alice:" in out
    assert "Missing: 1 student(s)" in out and "dave" in out
    assert "bob" not in out.split("Failed")[1].split("Missing")[0]  # per-student lines only with --verbose
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.find_submission(A, "alice")
        assert all(nb.flagged for nb in sub.notebooks)
        assert all(g.auto_score is None for nb in sub.notebooks for g in nb.grades)
    assert not old_feedback.exists()
    assert list((course / ".mlse" / "stale-feedback" / "alice" / A).rglob("*.html"))
    assert main(["export", "--format", "csv"]) == 0
    header, *rows = _rows(course / "mlse_grades.csv")
    alice = {r[0]: r for r in rows}["alice"]
    assert alice[header.index(A)] == "" and "needs attention" in alice[header.index("pending")]
    assert main(["feedback", A, "--student", "alice"]) == 1  # no feedback for a grade that is not current
    # --only-failed grades alice alone; a good notebook lifts the state
    shutil.copy2(ROOT / "solutions" / A / NB, folder / NB)
    log_count = len(list((course / ".mlse" / "logs").glob(f"grade-{A}-*.json")))
    assert main(["grade", A, "--only-failed"]) == 0
    logs = sorted((course / ".mlse" / "logs").glob(f"grade-{A}-*.json"))
    assert len(logs) == log_count + 1
    import json
    assert [o["student"] for o in json.loads(logs[-1].read_text())["outcomes"]] == ["alice"]
    assert attention.reasons(course, A) == {}
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.find_submission(A, "alice")
        assert not any(nb.flagged for nb in sub.notebooks)
        assert all(g.auto_score is not None for nb in sub.notebooks for g in nb.grades
                   if not g.needs_manual_grade) and sub.score > 0


def test_one_grading_run_per_course(course, capsys):
    with course_lock(course):
        assert main(["grade", A, "--force", "--student", "carol"]) == 1
    captured = capsys.readouterr()
    assert "Another grading run" in captured.err
    assert "Grading" not in captured.out  # a run that cannot start never says it is grading
    assert not (course / ".mlse" / "resume").exists() or not list((course / ".mlse" / "resume").iterdir())


def test_no_command_creates_an_empty_gradebook(course, capsys):
    (course / "gradebook.db").unlink()
    feedback_before = sorted(p for p in (course / "feedback").rglob("*")) if (course / "feedback").exists() else []
    for argv in (["grade", A], ["feedback", A], ["export"], ["extension", A, "bob", "--days", "1"],
                 ["report", A]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 1, argv
        assert "No gradebook" in err, (argv, err)
        assert not (course / "gradebook.db").exists(), argv
    after = sorted(p for p in (course / "feedback").rglob("*")) if (course / "feedback").exists() else []
    assert after == feedback_before


def test_ctrl_c_cancels_keeps_what_finished_and_resumes(course, tmp_path):
    """SIGINT to `mlse grade` as a terminal sends it: exit 130 at once, nothing left in the temp
    folder, finished students kept, and a rerun grades only the rest."""
    for i in range(6):
        dest = course / "submitted" / f"extra{i}" / A
        dest.mkdir(parents=True)
        shutil.copy2(ROOT / "solutions" / A / NB, dest / NB)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = environment_with_bin()
    env["TMPDIR"] = str(tmp)
    proc = subprocess.Popen([sys.executable, "-m", "mlse.apps.cli", "grade", A, "--workers", "1"],
                            cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((course / "autograded").glob(f"extra*/{A}")):
        time.sleep(0.2)
    assert list((course / "autograded").glob(f"extra*/{A}")), "nothing finished in time"
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as Ctrl-C does
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 20
    assert proc.returncode == 130, (out, err)
    assert "Interrupted" in err and "run the same command again" in err
    assert "Traceback" not in err
    assert not [p for p in tmp.iterdir() if p.name.startswith("mlse-grade")], list(tmp.iterdir())
    graded = {p.parent.name for p in (course / "autograded").glob(f"extra*/{A}")}
    with Gradebook(db_url_for(course)) as gb:
        for s in graded:
            assert gb.find_submission(A, s).score > 0
    assert not attention.reasons(course, A)  # cancelled work is not a failure
    os.chdir(course)
    assert main(["grade", A, "--workers", "2"]) == 0
    log = sorted((course / ".mlse" / "logs").glob(f"grade-{A}-*.json"))[-1]
    import json
    statuses = {o["student"]: o["status"] for o in json.loads(log.read_text())["outcomes"]}
    assert all(statuses[s] == "skipped" for s in graded)
    assert all(statuses[f"extra{i}"] in ("graded", "skipped") for i in range(6))


def test_every_assignment_skips_those_not_in_use(course, capsys):
    """`mlse grade` and `mlse feedback` with no assignment go through every assignment: one not
    released yet, or with nothing collected, is skipped with a line saying so; the rest are done."""
    m2, m3 = "m2_ml_engineer", "m3_software_engineer"
    with Gradebook(db_url_for(course)) as gb:
        gb.update_or_create_assignment(m2)  # released, nothing collected; m3 not released at all
    assert main(["grade", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f"{m2}: skipped (no submission collected yet)" in out
    assert f"{m3}: skipped (not released yet: not in the gradebook (`mlse release {m3}`))" in out
    assert f"{A}: 4 submission(s)" in out and f"{M5}: 1 submission(s)" in out  # all reached
    assert main(["feedback"]) == 0
    out = capsys.readouterr().out
    assert f"{m2}: skipped (no submission collected yet)" in out and f"{m3}: skipped" in out
    assert (course / "feedback" / "alice" / M5 / "reflection.html").is_file()
    assert (course / "feedback" / "carol" / A / "roles_warmup.html").is_file()


def test_handgrade_export_prints_the_import_command_for_the_file_written(course, capsys):
    """With -o elsewhere, the printed next step names that file, and works as printed."""
    import shlex

    (course.parent / "sheets").mkdir()
    assert main(["handgrade", "export", A, "-o", "../sheets/pending.csv", "--pending-only"]) == 0
    out = capsys.readouterr().out
    command = out.split("then `")[1].split("`")[0]
    assert command == f"mlse handgrade import {A} ../sheets/pending.csv"
    assert main(shlex.split(command)[1:]) == 0
    assert "imported 0 hand grade(s)" in capsys.readouterr().out


def test_a_sheet_saved_by_a_european_excel_imports(course, capsys):
    """Excel on Windows with European settings saves the filled sheet in cp1252, with `;` between
    columns and a decimal comma: it is read as meant, accents and half points included."""
    assert main(["handgrade", "export", M5, "-o", "sheet.csv"]) == 0
    with open(course / "sheet.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    (row,) = [r for r in rows if r["students"] == "alice"]
    row["score"], row["comment"] = "4,5", "Très clair; un plan précis."
    with open(course / "excel.csv", "w", newline="", encoding="cp1252") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
        w.writeheader()
        w.writerow(row)
    capsys.readouterr()
    assert main(["handgrade", "import", M5, "excel.csv"]) == 0, capsys.readouterr().err
    with Gradebook(db_url_for(course)) as gb:
        grade = gb.find_grade("reflection", "reflection", M5, "alice")
        comment = gb.find_comment("reflection", "reflection", M5, "alice")
        assert (grade.manual_score, grade.needs_manual_grade) == (4.5, False)
        assert comment.manual_comment == "Très clair; un plan précis."
    (course / "binary.csv").write_bytes(b"PK\x03\x04\x00\x00binary")  # an .xlsx renamed .csv
    assert main(["handgrade", "import", M5, "binary.csv"]) == 1
    assert "CSV UTF-8" in capsys.readouterr().err


def test_feedback_never_hands_out_the_rubric(course):
    """The autograded folder holds the assignment's rubric.md (model answers); the feedback folder,
    which release_feedback hands out, holds only the pages and the files it matches them by, and
    a rubric an earlier version placed there is removed when the feedback is written again."""
    assert (course / "autograded" / "alice" / A / "rubric.md").is_file()  # what nbgrader copied
    folder = course / "feedback" / "alice" / A
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rubric.md").write_text("model answers")  # placed by an earlier mlse
    assert main(["feedback", A, "--student", "alice", "--force"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["roles_warmup.html", "timestamp.txt"]


def test_verbose_table_shows_the_grade_as_exported(course, capsys, monkeypatch):
    """`mlse grade --verbose`: the score column is what the export writes, late penalty taken
    (bob is late under the "zero" policy) and blank, with why, while a hand grade is pending."""
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    _hand_grade(course, A, "bob")
    assert main(["grade", A, "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "grade (as exported)" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert "blank:" in lines["alice"] and "so far; 3 point(s) to grade by hand: Part 6" in lines["alice"]
    assert "0 / 18 (late: -18)" in lines["bob"]


def test_pending_answer_identical_to_a_graded_one_is_prefilled(course, capsys):
    """alice, bob and erin handed in the same Part 6 answer; alice's is graded (in formgrader):
    the row of bob and erin in the --pending-only sheet carries that grade, and importing the
    sheet gives it to them."""
    _hand_grade(course, A, "alice")
    capsys.readouterr()
    assert main(["handgrade", "export", A, "-o", "p.csv", "--pending-only"]) == 0
    assert "2 answer(s) still to grade are prefilled" in capsys.readouterr().out
    with open(course / "p.csv", newline="", encoding="utf-8") as fh:
        rows = {r["students"]: r for r in csv.DictReader(fh)}
    assert rows["bob erin"]["score"] == "3"
    assert main(["handgrade", "import", A, "p.csv"]) == 0
    with Gradebook(db_url_for(course)) as gb:
        g = gb.find_grade("part6_split", "roles_warmup", A, "erin")
        assert (g.manual_score, g.needs_manual_grade) == (3.0, False)
