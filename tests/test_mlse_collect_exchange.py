"""`mlse collect ASSIGNMENT --exchange`: nbgrader's exchange with the guarantees of an LMS zip.

The inbound folders are laid out exactly as `nbgrader submit` names them
(``STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM/`` with ``timestamp.txt`` and ``submission_secret.txt``);
the class hub test (test_classroom_hub.py) makes them with real students in a browser. Here, the
cases a class rarely shows: a broken notebook, a symbolic link, a newer version after a refused
one, a missing exchange.
"""

from __future__ import annotations

import json
import os
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENTS, ROOT
from mlse import attention
from mlse.apps.cli import main
from mlse.collect import CollectError, collect_exchange
from mlse.gradebook import db_url_for

pytestmark = pytest.mark.skipif("m1_roles_warmup" not in ASSIGNMENTS, reason="needs m1")
A, NB = "m1_roles_warmup", "roles_warmup.ipynb"


@pytest.fixture
def course(course_copy, tmp_path):
    """The released course with two students, and an exchange with its inbound folder."""
    exchange = tmp_path / "exchange"
    (exchange / "mlse" / "inbound").mkdir(parents=True)
    config = course_copy / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n")
    with Gradebook(db_url_for(course_copy)) as gb:
        gb.update_or_create_student("ada")
        gb.update_or_create_student("ben")
    return course_copy


def _exchange(course):
    return course.parent / "exchange" / "mlse" / "inbound"


def submit(course, student: str, stamp: str, notebook: bytes | None = None, extra: dict | None = None):
    """A submission folder as nbgrader's submit writes it."""
    folder = _exchange(course) / f"{student}+{A}+{stamp} UTC+{os.urandom(3).hex()}"
    folder.mkdir()
    released = (ROOT / "exercises" / A / NB).read_bytes()
    (folder / NB).write_bytes(released if notebook is None else notebook)
    (folder / "timestamp.txt").write_text(f"{stamp} UTC")
    (folder / "submission_secret.txt").write_text(os.urandom(8).hex())
    for name, data in (extra or {}).items():
        (folder / name).write_bytes(data)
    return folder


def test_latest_taken_bytes_and_times_kept_earlier_kept(course):
    first = submit(course, "ada", "2026-03-01 10:00:00.000001")
    submit(course, "ada", "2026-03-01 11:00:00.000002", extra={"notes.txt": b"v2"})
    report = collect_exchange(course, A)
    assert [c[0] for c in report.collected] == ["ada"] and report.ok
    got = course / "submitted" / "ada" / A
    assert (got / "timestamp.txt").read_text() == "2026-03-01 11:00:00.000002 UTC"
    assert (got / "notes.txt").read_bytes() == b"v2"
    kept = course / ".mlse" / "versions" / A / "ada"
    assert [(p / "timestamp.txt").read_text() for p in kept.iterdir()] == \
        [(first / "timestamp.txt").read_text()]
    again = collect_exchange(course, A)
    assert not again.collected and again.unchanged == [("ada", report.collected[0][1])]


def test_a_broken_notebook_replaces_nothing_and_needs_attention(course):
    submit(course, "ada", "2026-03-01 10:00:00.000001")
    collect_exchange(course, A)
    before = (course / "submitted" / "ada" / A / NB).read_bytes()
    submit(course, "ada", "2026-03-01 12:00:00.000001", notebook=b'{"cells": [')
    report = collect_exchange(course, A)
    assert report.refused and "not a complete notebook" in report.refused[0][2]
    assert (course / "submitted" / "ada" / A / NB).read_bytes() == before
    assert attention.reasons(course, A)[(A, "ada")]["stage"] == "collect"


def test_links_and_special_files_are_refused_never_followed(course):
    folder = submit(course, "ben", "2026-03-01 10:00:00.000001")
    (folder / "answers.txt").symlink_to(ROOT / "solutions" / A / NB)
    report = collect_exchange(course, A)
    assert report.refused and "symbolic link" in report.refused[0][2]
    assert not (course / "submitted" / "ben").exists()
    (folder / "answers.txt").unlink()
    (folder / "data").symlink_to(ROOT / "solutions", target_is_directory=True)
    assert "data is a symbolic link" in collect_exchange(course, A).refused[0][2]
    (folder / "data").unlink()
    os.mkfifo(folder / "pipe")  # would block a reader that opened it blindly
    assert "pipe is not a regular file" in collect_exchange(course, A).refused[0][2]
    (folder / "pipe").unlink()
    assert collect_exchange(course, A).collected


def test_unknown_students_and_an_empty_exchange_are_said(course, capsys):
    submit(course, "eve", "2026-03-01 10:00:00.000001")
    report = collect_exchange(course, A)
    assert "eve is not a student of course mlse" in report.unmatched[0][1]
    assert collect_exchange(course, A, add_unknown=True).added == ["eve"]
    shutil.rmtree(course.parent / "exchange")
    with pytest.raises(CollectError, match="No nbgrader exchange at"):
        collect_exchange(course, A)
    os.chdir(course)
    assert main(["collect", A, "--exchange"]) == 1
    assert "No nbgrader exchange at" in capsys.readouterr().err
    assert main(["collect", A]) == 2  # neither a zip nor --exchange
    log = sorted((course / ".mlse" / "logs").glob("collect-*.json"))[-1]
    assert json.loads(log.read_text())["assignment"] == A


def test_the_due_date_says_who_is_late(course):
    with Gradebook(db_url_for(course)) as gb:
        gb.update_or_create_assignment(A, duedate="2026-03-01 12:00:00")
    submit(course, "ada", "2026-03-01 11:59:59.000001")
    submit(course, "ben", "2026-03-01 14:30:00.000001")
    notes = "\n".join(collect_exchange(course, A).notes)
    assert "ben: late, submitted 2 h 30 min after the due date" in notes
    assert "ada: late" not in notes
    nbformat.read(course / "submitted" / "ben" / A / NB, as_version=4)
