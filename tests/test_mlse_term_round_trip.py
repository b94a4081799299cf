"""Issue 21: a term whose grades an instructor can publish, with real nbgrader, step by step, and
the Canvas CSV checked after every step against a computation of its own.

The class is the shared graded class (``solution``, ``blank``, ``half``: every assignment
autograded by real ``nbgrader autograde``), copied; a fourth student, ``dora``, comes from the
Canvas roster and hands in another assignment's notebook. The term: the roster imported from
Canvas's gradebook CSV; late work under a percentage-per-day policy (nbgrader plugin
``mlse.late.PercentLatePenalty``); an extension; hand grades through a grading sheet (bad sheets
refused, nothing written); a regrade that keeps them; a resubmission whose written answer changed
(its hand grade goes to the version history); an old download collected again; a foreign
notebook; a refused newer file, listed and resolved with ``mlse attention``; a forced regrade
interrupted by Ctrl-C and resumed; feedback marked "Pending"; nbgrader's own ``zip_collect`` with
two versions of one student. Five submissions are graded by ``mlse grade`` in all.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, copy_course
from mlse.apps.cli import main
from mlse.gradebook import db_url_for, gradebook_rows
from mlse.handgrades import history
from mlse.nbgrader_cli import environment_with_bin, run_nbgrader

A, NB = "m1_roles_warmup", "roles_warmup.ipynb"
M5, NB5 = "m5_reflection", "reflection.ipynb"
PART = "part6_split"
DUE = datetime(2026, 3, 1, 12, 0, 0)
IDS = {"solution": "201", "blank": "202", "half": "203", "dora": "204"}
CANVAS_IDS = {A: "1001", M5: "1005"}

pytestmark = pytest.mark.skipif(not (ROOT / "solutions" / A).is_dir() or not (ROOT / "solutions" / M5).is_dir(),
                                reason="needs m1 and m5")


def _canvas_gradebook(path) -> None:
    """What Canvas's Grades > Export gives: a Points Possible row, a test student, a column that
    is not one of ours."""
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} ({CANVAS_IDS[A]})",
             f"{M5} ({CANVAS_IDS[M5]})", "Quiz 1 (999)", "Current Score"],
            ["    Points Possible", "", "", "", "", "18", "5", "10", ""]]
    for sid, (last, first, section) in {"solution": ("Sol", "Ana", "Section A"),
                                        "blank": ("Bea", "Bo", "Section B"),
                                        "half": ("Hal", "Hu", "Section A"),
                                        "dora": ("Dee", "Dora", "Section B")}.items():
        rows.append([f"{last}, {first}", IDS[sid], f"S-{IDS[sid]}", sid, section, "", "", "", ""])
    rows.append(["Student, Test", "999", "", "", "", "", "", "", ""])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def _zip(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, when) in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when.timetuple()[:6]), data)


def _stamp(course, student: str, when: datetime) -> None:
    """A submission's time, as collect writes it (timestamp.txt) and grading records it (in the
    autograded copy and the gradebook: the version graded is the version collected)."""
    for step in ("submitted", "autograded"):
        (course / step / student / A / "timestamp.txt").write_text(
            when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    with Gradebook(db_url_for(course)) as gb:
        gb.find_submission(A, student).timestamp = when
        gb.db.commit()


def _canvas(course) -> dict[str, list[str]]:
    assert main(["export", "--format", "canvas"]) == 0
    rows = list(csv.reader(open(course / "canvas_grades.csv", newline="", encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       f"{A} ({CANVAS_IDS[A]})", f"{M5} ({CANVAS_IDS[M5]})"]  # only ids Canvas knows
    assert rows[1][0] == "Points Possible"
    return {r[3]: r for r in rows[2:]}


def _expected(course, student: str) -> str:
    """The m1 cell Canvas should get, computed here from the gradebook's raw points: blank while
    a hand grade is pending, else the total less 10 % per started day late (capped at 50 %)."""
    with Gradebook(db_url_for(course)) as gb:
        sub = gb.find_submission(A, student)
        grades = [g for nb in sub.notebooks for g in nb.grades]
        if any(g.needs_manual_grade or (g.auto_score is None and g.manual_score is None) for g in grades):
            return ""
        total = sum(g.manual_score if g.manual_score is not None else g.auto_score for g in grades)
        due = DUE + (sub.extension or timedelta(0))
        late = max(0.0, (sub.timestamp - due).total_seconds()) if sub.timestamp else 0.0
    days = math.ceil(late / 86400 - 1e-9) if late > 0 else 0
    return f"{round(total * (1 - min(50, 10 * days) / 100), 4):g}"


def _check_canvas(course, **overrides) -> dict:
    rows = _canvas(course)
    for student in ("solution", "blank", "half"):
        want = overrides.get(student, _expected(course, student))
        assert rows[student][5] == want, (student, rows[student], want)
    assert rows["dora"][5] == overrides.get("dora", "")
    return rows


def _sheet(course, edit=None):
    assert main(["handgrade", "export", A, "-o", "sheet.csv"]) == 0
    rows = list(csv.DictReader(open(course / "sheet.csv", newline="", encoding="utf-8")))
    if edit:
        edit(rows)
    return rows


def _write_sheet(path, rows, columns=None) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns or list(rows[0]), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _grade(course, student):
    with Gradebook(db_url_for(course)) as gb:
        g = gb.find_grade(PART, NB[:-6], A, student)
        c = gb.find_comment(PART, NB[:-6], A, student)
        return g.manual_score, g.needs_manual_grade, c.manual_comment


#: The students of the shared graded class this term is about; other modules add students of their
#: own to that class (the fairness corpus, the m3 learners), whom this term never met.
TERM_CLASS = {"solution", "blank", "half"}


def _only_the_term_class(ws):
    """Remove every other student of the shared graded class from this copy: its gradebook rows
    and its folders, so that the term's sheets and exports hold exactly the class it builds."""
    from mlse.course import Course

    with Gradebook(db_url_for(ws)) as gb:
        for student in [s.id for s in gb.students if s.id not in TERM_CLASS]:
            gb.remove_student(student)
    course = Course(ws)
    for step in (course.submitted, course.autograded):
        for folder in step.iterdir() if step.is_dir() else ():
            if folder.is_dir() and folder.name not in TERM_CLASS:
                shutil.rmtree(folder)


@pytest.fixture(scope="module")
def course(graded_class, tmp_path_factory):
    ws = copy_course(graded_class.workspace, tmp_path_factory.mktemp("term21") / "course")
    _only_the_term_class(ws)
    with open(ws / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.AssignLatePenalties.plugin_class = "mlse.late.PercentLatePenalty"\n'
                 'c.PercentLatePenalty.percent = 10\nc.PercentLatePenalty.max_percent = 50\n')
    with Gradebook(db_url_for(ws)) as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
    cwd = os.getcwd()
    os.chdir(ws)
    yield ws
    os.chdir(cwd)


def test_a_term(course, capsys):
    # -- the roster from Canvas: ids, SIS ids, sections, and which assignments Canvas has --------
    _canvas_gradebook(course / "canvas_gradebook.csv")
    assert main(["roster", "import", "canvas_gradebook.csv"]) == 0
    out = capsys.readouterr().out
    assert "1 student(s) added, 3 updated" in out and f"{A} = 1001" in out and "Test" in out
    with Gradebook(db_url_for(course)) as gb:
        assert {s.id: s.lms_user_id for s in gb.students if s.id in IDS} == IDS
    # late work: solution 25 hours late (two started days), half 3 hours, blank on time
    _stamp(course, "solution", DUE + timedelta(hours=25))
    _stamp(course, "half", DUE + timedelta(hours=3))
    _stamp(course, "blank", DUE - timedelta(hours=2))
    rows = _check_canvas(course)
    assert rows["solution"][:5] == ["Sol, Ana", "201", "S-201", "solution", "Section A"]
    assert rows["dora"][:5] == ["Dee, Dora", "204", "S-204", "dora", "Section B"]
    assert rows["solution"][5] == ""  # m1's Part 6 waits for a hand grade
    assert main(["export", "--format", "canvas", "--missing-as-zero"]) == 0
    assert {r[3]: r for r in csv.reader(open(course / "canvas_grades.csv"))}["dora"][5] == "0"
    capsys.readouterr()
    assert main(["export", "-o", "somewhere.csv"]) == 2  # -o is never ignored
    assert "--format" in capsys.readouterr().err and not (course / "somewhere.csv").exists()

    # -- hand grading for the class without a browser --------------------------------------------
    rows = _sheet(course)
    groups = {r["students"]: r for r in rows}
    assert set(groups) == {"blank half", "solution"}  # the two untouched stubs are one group
    assert groups["blank half"]["score"] == "0"  # nbgrader scored the untouched stub 0 itself
    before = gradebook_rows(db_url_for(course))
    bad_rows = [dict(r) for r in rows]
    bad_rows[0]["students"] += " zed"
    bad_rows[1]["score"] = "4"
    errors = {}
    for name, sheet_rows, columns in [("bad.csv", bad_rows, None),
                                      ("nocol.csv", rows, [c for c in rows[0] if c != "score"])]:
        _write_sheet(course / name, sheet_rows, columns)
        capsys.readouterr()
        assert main(["handgrade", "import", A, name]) == 1
        errors[name] = capsys.readouterr().err
        assert "nothing was imported" in errors[name]
        assert gradebook_rows(db_url_for(course)) == before  # nothing written
    assert "unknown student 'zed'" in errors["bad.csv"] and "out of range (0 to 3" in errors["bad.csv"]
    assert "no column score" in errors["nocol.csv"]
    groups["solution"]["score"], groups["solution"]["comment"] = "3", "Clear split of ownership."
    _write_sheet(course / "good.csv", rows)
    assert main(["handgrade", "import", A, "good.csv"]) == 0
    assert _grade(course, "solution") == (3.0, False, "Clear split of ownership.")
    rows = _check_canvas(course)
    with Gradebook(db_url_for(course)) as gb:  # the penalty is on automatic + hand points
        full = gb.find_assignment(A).max_score
    assert float(rows["solution"][5]) == pytest.approx(full * 0.8)
    # plain `nbgrader export` says the same
    run_nbgrader(["export"], cwd=course)
    plain = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv")) if r["assignment"] == A}
    for student in ("solution", "blank", "half"):
        assert float(plain[student]["score"]) == pytest.approx(float(rows[student][5]))

    # -- an extension: the penalty goes, hand points included ------------------------------------
    assert main(["extension", A, "solution", "--days", "2"]) == 0
    assert float(_check_canvas(course)["solution"][5]) == pytest.approx(full)

    # -- a regrade keeps every hand grade whose answer did not change ----------------------------
    assert main(["grade", A, "--student", "solution", "--force", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "Waiting for a hand grade" not in out
    assert _grade(course, "solution") == (3.0, False, "Clear split of ownership.")
    assert float(_check_canvas(course)["solution"][5]) == pytest.approx(full)

    # -- a download: a resubmission with a new written answer, an old file, foreign notebooks ---
    solution = json.loads((ROOT / "solutions" / A / NB).read_text())
    for cell in solution["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == PART:
            cell["source"] = "The ML engineer owns the model, the software engineer the service."
    m5 = (ROOT / "solutions" / M5 / NB5).read_bytes()
    _zip(course / "download2.zip", {
        f"solana_LATE_201_9_{NB[:-6]}-1.ipynb": (json.dumps(solution), DUE + timedelta(days=2, hours=5)),
        f"halhu_203_7_{NB}": ('{"cells": [ truncated', DUE - timedelta(hours=1)),  # older than collected
        f"beabo_202_8_{NB5}": (m5, DUE),                   # another assignment's notebook, by name
        f"deedora_204_6_{NB}": (m5, DUE),                  # ... and by content, renamed
    })
    assert main(["collect", A, "download2.zip"]) == 1
    out = capsys.readouterr().out
    assert "halhu_203_7" in out and "older" in out
    assert f"{NB5} is a notebook of {M5}" in out
    assert f"its cells are those of {M5}" in out
    assert not (course / "submitted" / "dora").exists()
    # the old broken file changed nothing: half is not in "needs attention", still exported;
    # solution's new version is collected, not graded: her old grade is not current anywhere
    assert main(["attention"]) == 0
    out = capsys.readouterr().out
    assert "dora" in out and "half" not in out
    assert f"solution {A}: a new version was collected and is not graded yet" in out
    _check_canvas(course, solution="")
    out = capsys.readouterr().out
    assert "need attention" in out and "dora" in out  # listed before uploading
    assert "1 submission(s) not graded yet" in out and "is not graded yet" in out and "solution" in out
    assert main(["export", "--format", "csv"]) == 0
    header, *parts = list(csv.reader(open(course / "mlse_grades.csv", newline="")))
    solution_row = {r[0]: r for r in parts}["solution"]
    assert solution_row[header.index(A)] == ""
    assert all(solution_row[i] == "" for i, h in enumerate(header) if h.startswith(f"{A}: "))
    assert "not graded yet" in solution_row[header.index("pending")]
    capsys.readouterr()
    assert main(["feedback", A, "--student", "solution"]) == 1  # never the old version's
    assert "not graded" in capsys.readouterr().out

    # -- a refused newer file: needs attention, listed, resolved -----------------------------------
    _zip(course / "download3.zip", {f"beabo_202_10_{NB}": ("", DUE + timedelta(hours=1))})
    assert main(["collect", A, "download3.zip"]) == 1
    rows = _check_canvas(course, blank="", solution="")  # the old grade no longer counts
    assert "blank" in capsys.readouterr().out
    assert main(["attention", "resolve", A, "blank"]) == 0
    assert main(["collect", A, "download3.zip"]) == 1  # the same download again: stays resolved
    out = capsys.readouterr().out
    assert "you resolved it" in out
    assert main(["attention"]) == 0
    out = capsys.readouterr().out  # no longer needs attention; its blank stays until graded
    assert f"  blank {A} (since" not in out
    assert f"  blank {A}: the version collected is not graded yet" in out

    # -- a forced regrade, interrupted, then resumed where it stopped ------------------------------
    graded = {s: (course / "autograded" / s / A).stat().st_ino
              for s in ("solution", "half") if (course / "autograded" / s / A).is_dir()}
    env = environment_with_bin()
    proc = subprocess.Popen([sys.executable, "-m", "mlse.apps.cli", "grade", A, "--force",
                             "--workers", "1", "--student", "blank", "--student", "half",
                             "--student", "solution"],
                            cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 300

    def finished() -> list[str]:
        return [s for s in ("blank", "half", "solution") if (course / "autograded" / s / A).is_dir()
                and (course / "autograded" / s / A).stat().st_ino != graded.get(s)]

    while time.monotonic() < deadline and not finished() and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "regrades the submissions this --force run had not reached" in err
    left = json.loads((course / ".mlse" / "resume" / f"grade-{A}.json").read_text())["left"]
    assert left and set(left) <= {"blank", "half", "solution"}
    done_first = set(finished())
    assert done_first and not done_first & set(left)
    # until it is resumed, what it did not regrade is not current: listed, and blank in Canvas
    capsys.readouterr()
    assert main(["attention"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {s} {A}: a `mlse grade --force` run was stopped" in out for s in left), out
    rows = _canvas(course)
    assert all(rows[s][5] == "" for s in left)
    assert "was stopped before it regraded" in capsys.readouterr().out
    logs_before = set((course / ".mlse" / "logs").glob(f"grade-{A}-*.json"))
    assert main(["grade", A, "--workers", "1"]) == 0  # without --force: it resumes, in one run
    out = capsys.readouterr().out
    assert out.count("Grading ") == 1 and out.count(f"{A}: 3 submission(s)") == 1, out
    (resumed,) = set((course / ".mlse" / "logs").glob(f"grade-{A}-*.json")) - logs_before
    statuses = {o["student"]: o["status"] for o in json.loads(resumed.read_text())["outcomes"]}
    assert {s for s, st in statuses.items() if st == "graded"} == set(left)
    assert {st for s, st in statuses.items() if s not in left} <= {"skipped"}
    assert not (course / ".mlse" / "resume" / f"grade-{A}.json").exists()

    # the resubmission's changed answer waits for a hand grade; its old grade is history
    assert _grade(course, "solution") == (None, True, None)
    assert [(h["score"], h["comment"]) for h in history(course, A, "solution")] == \
        [(3.0, "Clear split of ownership.")]
    assert _grade(course, "half")[:2] == (0.0, False)  # unchanged answers keep their hand grade
    rows = _check_canvas(course)  # blank's resolved version graded again: back in the export
    assert rows["solution"][5] == "" and rows["blank"][5] == "0"

    # -- feedback: "Pending" where a hand grade is missing; only what changed is regenerated --------
    assert main(["feedback", A, "--student", "solution", "--student", "half"]) == 0
    page = (course / "feedback" / "solution" / A / NB.replace(".ipynb", ".html")).read_text()
    assert "Not final yet" in page and "Pending: not graded by hand yet" in page
    assert "Clear split of ownership" not in page
    capsys.readouterr()
    assert main(["feedback", A, "--student", "solution", "--student", "half"]) == 0
    assert "0 written, 2 unchanged" in capsys.readouterr().out
    assert main(["feedback", A, "--student", "solution", "--wait-for-hand-grades"]) == 0
    assert "1 waiting for hand grades" in capsys.readouterr().out

    # the new answer graded from a sheet with only the pending answers; late by 2 days 5 hours
    # with a 2-day extension: one started day, 10 %
    assert main(["handgrade", "export", A, "-o", "pending.csv", "--pending-only"]) == 0
    pending = list(csv.DictReader(open(course / "pending.csv", newline="")))
    assert [r["students"] for r in pending] == ["solution"]
    pending[0]["score"] = "2"
    _write_sheet(course / "pending.csv", pending)
    assert main(["handgrade", "import", A, "pending.csv"]) == 0
    rows = _check_canvas(course)
    assert float(rows["solution"][5]) == pytest.approx((full - 1) * 0.9)


def test_nbgrader_zip_collect_with_two_versions_of_one_student(course, tmp_path):
    """nbgrader's own zip_collect with our plugins: the newest of two versions wins, by the LMS's
    time, and that time is written to timestamp.txt (nbgrader stops the run without times)."""
    ws = copy_course(course, tmp_path / "zc")
    archive = ws / "downloaded" / A / "archive"
    archive.mkdir(parents=True)
    solution = (ROOT / "solutions" / A / NB).read_bytes()
    _zip(archive / "submissions.zip", {
        f"halhu_203_7_{NB}": (b'{"an": "older version"}', DUE - timedelta(hours=1)),
        f"halhu_203_9_{NB[:-6]}-1.ipynb": (solution, DUE + timedelta(hours=4, minutes=30)),
    })
    run_nbgrader(["zip_collect", A, "--extractor=mlse.collect.lms.LmsZipExtractor",
                  "--collector=mlse.collect.lms.LmsFileNameCollector", "--force"], cwd=ws)
    folder = ws / "submitted" / "half" / A
    assert (folder / NB).read_bytes() == solution
    assert (folder / "timestamp.txt").read_text().startswith("2026-03-01 16:30:00")
