"""Every nbgrader directory setting works in every mlse command (issue 22).

One :class:`mlse.course.Course` says where everything is; no module spells a course folder name
itself. A course that renames every folder nbgrader lets it rename (source, release, submitted,
autograded, feedback) and keeps its gradebook elsewhere (``db_url``) runs the whole workflow:
release, collect, grade, feedback, export; nothing lands in nbgrader's default folders.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT
from mlse.course import Course
from mlse.workspace import make_workspace, notebooks_of

A = "m1_roles_warmup"
SRC = ROOT / "src" / "mlse"

RENAMED = {
    "source_directory": "teacher",
    "release_directory": "handout",
    "submitted_directory": "handed_in",
    "autograded_directory": "marked",
    "feedback_directory": "returned",
}
DEFAULTS = ["source", "release", "submitted", "autograded", "feedback", "solutions", "exercises",
            "gradebook.db"]


def _renamed_course(folder: Path, db_file: Path, structure: str | None = None) -> Path:
    """A copy of this course whose nbgrader_config.py renames every folder and moves the gradebook."""
    ws = make_workspace(folder, ROOT)
    (ws / "solutions").rename(ws / RENAMED["source_directory"])
    config = ws / "nbgrader_config.py"
    text = config.read_text()
    text += "\n# renamed by tests/test_course_layout.py\n"
    text += "".join(f"c.CourseDirectory.{k} = {v!r}\n" for k, v in RENAMED.items())
    text += f"c.CourseDirectory.db_url = {'sqlite:///' + str(db_file)!r}\n"
    if structure:
        text += f"c.CourseDirectory.directory_structure = {structure!r}\n"
    config.write_text(text)
    return ws


def test_course_follows_every_setting(tmp_path):
    ws = _renamed_course(tmp_path / "course", tmp_path / "records" / "grades.sqlite",
                         structure="{nbgrader_step}/{assignment_id}/{student_id}")
    course = Course(ws)
    assert course.source == ws / "teacher" and course.release == ws / "handout"
    assert course.db_url == f"sqlite:///{tmp_path / 'records' / 'grades.sqlite'}"
    assert course.db_path == tmp_path / "records" / "grades.sqlite"
    # directory_structure decides where one student's files are, in every step
    assert course.submission("ada", A) == ws / "handed_in" / A / "ada"
    assert course.autograded_of("ada", A) == ws / "marked" / A / "ada"
    assert course.feedback_of("ada", A) == ws / "returned" / A / "ada"
    assert course.source_of(A) == ws / "teacher" / A
    for student in ("ada", "bo"):
        course.submission(student, A).mkdir(parents=True)
    (ws / "handed_in" / "m2_ml_engineer" / "cy").mkdir(parents=True)
    assert course.submitters(A) == ["ada", "bo"]
    assert course.assignments() == sorted(ASSIGNMENTS)
    # a workspace made from it keeps its own gradebook, never the class's
    private = Course(make_workspace(tmp_path / "ws", course))
    assert private.db_path == tmp_path / "ws" / "gradebook.db"


def test_state_is_written_atomically(tmp_path):
    course = Course(tmp_path)
    course.write_json("attention.json", {"a/b": {"reason": "x"}})
    assert course.read_json("attention.json") == {"a/b": {"reason": "x"}}
    assert [p.name for p in course.state.iterdir()] == ["attention.json"]  # no partial left
    (course.state / "broken.json").write_text("{not json")
    assert course.read_json("broken.json") == {}
    log = course.write_log("grade", A, {"n": 1})
    assert log.parent == course.state / "logs" and log.name.startswith(f"grade-{A}-")


def test_timestamps_read_one_way(tmp_path):
    from datetime import datetime, timezone

    when = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    Course.write_timestamp(tmp_path, when)
    assert Course.timestamp(tmp_path) == when
    (tmp_path / "timestamp.txt").write_text("not a time")
    assert Course.timestamp(tmp_path) is None
    assert Course.timestamp(tmp_path / "nowhere") is None


def test_no_course_folder_name_outside_course_py():
    """Folder names are the Course's to know: a literal path part anywhere else in src/mlse
    would break a course that renames it."""
    names = r"submitted|autograded|feedback|release|source|solutions|exercises|gradebook\.db|timestamp\.txt"
    as_path = re.compile(rf"""(/\s*["']({names})["'])|(["']({names})/)|(["']\.mlse/)|(["']\.mlse["'])""")
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "course.py" and path.parent == SRC:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if as_path.search(code) and "help=" not in code:
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zi = zipfile.ZipInfo(name, date_time=(2026, 3, 1, 12, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return path


@pytest.mark.slow
@pytest.mark.skipif(A not in ASSIGNMENTS, reason="needs m1")
@pytest.mark.parametrize("structure", [None, "{nbgrader_step}/{assignment_id}/{student_id}"],
                         ids=["renamed", "renamed-and-restructured"])
def test_whole_workflow_with_every_folder_renamed(tmp_path, monkeypatch, structure):
    from mlse.apps.cli import main
    from mlse.nbgrader_cli import run_nbgrader

    db_file = tmp_path / "records" / "grades.sqlite"
    db_file.parent.mkdir()
    ws = _renamed_course(tmp_path / "course", db_file, structure)
    course = Course(ws)
    monkeypatch.chdir(ws)
    assert main(["release", A]) == 0
    assert db_file.is_file()
    for student, first, uid in (("ada", "Ada", "101"), ("bo", "Bo", "102")):
        run_nbgrader(["db", "student", "add", student, f"--first-name={first}",
                      "--last-name=Test", f"--lms-user-id={uid}"], cwd=ws)

    solution = notebooks_of(ws / "teacher" / A)[0]
    blank = ws / "handout" / A / solution.name
    zpath = _zip(tmp_path / "download.zip", {
        f"testada_101_900001_{solution.name}": solution.read_bytes(),
        f"testbo_102_900002_{solution.name}": blank.read_bytes(),
    })
    assert main(["collect", A, str(zpath)]) == 0
    assert (course.submission("ada", A) / solution.name).is_file()
    assert course.submission("ada", A).parent.parent == ws / "handed_in"

    assert main(["grade", A, "--workers", "1"]) == 0
    assert (course.autograded_of("ada", A) / solution.name).is_file()
    from mlse.gradebook import cell_scores

    scores = {}
    for s in cell_scores(course.db_url, A):
        if s.auto:
            got, full = scores.get(s.student, (0.0, 0.0))
            scores[s.student] = (got + (s.score or 0), full + s.max_score)
    assert scores["ada"][0] == scores["ada"][1] > 0
    assert scores["bo"][0] < scores["bo"][1]
    # a rerun finds both graded (the resume rule reads the renamed folders too)
    assert main(["grade", A, "--workers", "1"]) == 0

    assert main(["feedback", A]) == 0
    assert list(course.feedback_of("ada", A).glob("*.html"))
    # a notebook nbgrader cannot render gets its own reason; the others are still written
    from mlse.outputs.feedback import generate_feedback

    (course.autograded_of("bo", A) / solution.name).write_text("{ not a notebook")
    results = {r.student: r for r in generate_feedback(course, A, force=True)}  # unchanged: redo
    assert results["ada"].status == "written"
    assert results["bo"].status == "missing" and "JSON" in results["bo"].note, results["bo"]
    shutil.rmtree(course.autograded_of("bo", A))

    assert main(["export", "--format", "csv", "-o", "grades.csv"]) == 0
    rows = {r["student_id"]: r for r in csv.DictReader((ws / "grades.csv").open())}
    # m1 has one answer graded by hand: the total waits for it, the autograded parts are there
    assert "by hand" in rows["ada"]["pending"] and rows["ada"][A] == ""
    parts = [k for k in rows["ada"] if k.startswith(f"{A}: ")]
    auto = sum(float(rows["ada"][k]) for k in parts if rows["ada"][k])
    assert auto == scores["ada"][0]

    leftovers = [name for name in DEFAULTS if (ws / name).exists()]
    assert not leftovers, f"written to nbgrader's default folders: {leftovers}"
    shutil.rmtree(ws, ignore_errors=True)
