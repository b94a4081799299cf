"""Issue 21's small pieces, fast: the late-penalty policy (mlse.late.PercentLatePenalty) and the
Canvas roster import (mlse.roster) on a real, empty nbgrader gradebook; no notebook is run."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from mlse.late import PercentLatePenalty
from mlse.roster import RosterError, canvas_records, import_canvas_roster

HOUR, DAY = 3600.0, 86400.0


@pytest.mark.parametrize("settings, late, percent", [
    ({}, 0, 0),
    ({}, 1, 10),                                   # a started day counts
    ({}, 3 * HOUR, 10),
    ({}, DAY + 1, 20),
    ({}, 30 * DAY, 100),                           # capped at 100 % by default
    ({"max_percent": 50}, 7 * DAY, 50),
    ({"unit": "hour", "percent": 2}, 3 * HOUR, 6),
    ({"unit": "hour", "percent": 2}, 3 * HOUR + 60, 8),
    ({"whole_units_only": False}, 36 * HOUR, 15),  # pro rata
    ({"grace_minutes": 15}, 10 * 60, 0),
    ({"grace_minutes": 15}, 20 * 60, 10),
])
def test_percent_late_penalty(settings, late, percent):
    plugin = PercentLatePenalty(**settings)
    assert plugin.percent_off(late) == pytest.approx(percent)
    penalty = plugin.late_submission_penalty("s", 18.0, late)
    assert (penalty or 0) == pytest.approx(18.0 * percent / 100)


def test_the_plugin_is_what_nbgrader_configures():
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config

    config = Config({"AssignLatePenalties": {"plugin_class": "mlse.late.PercentLatePenalty"},
                     "PercentLatePenalty": {"percent": 5, "max_percent": 20}})
    step = AssignLatePenalties(config=config)
    step.init_plugin()
    assert isinstance(step.plugin_inst, PercentLatePenalty)
    assert step.plugin_inst.late_submission_penalty("s", 10.0, 10 * DAY) == pytest.approx(2.0)


@pytest.fixture(scope="module")
def gradebook_template(tmp_path_factory):
    """One small gradebook, made once (nbgrader creates a new database with alembic: seconds)."""
    folder = tmp_path_factory.mktemp("roster")
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment("m1_roles_warmup")
        gb.update_or_create_student("ann", first_name="Ann", last_name="Old", lms_user_id="7")
    return folder / "gradebook.db"


@pytest.fixture
def course(tmp_path, gradebook_template):
    (tmp_path / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    (tmp_path / "solutions").mkdir()
    shutil.copy2(gradebook_template, tmp_path / "gradebook.db")
    return tmp_path


def _csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "m1_roles_warmup (1001)",
        "Other quiz (55)", "Current Score"]


def _students(tmp_path):
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        return {s.id: (s.first_name, s.last_name, s.lms_user_id) for s in gb.students}


def test_roster_import_keeps_ids_sections_and_assignment_ids(course):
    _csv(course / "g.csv", [HEAD, ["    Points Possible", "", "", "", "", "18", "5", ""],
                            ["Old, Ann", "7", "S7", "ann", "Sec 1", "", "", ""],
                            ["Lee, Bo", "8", "S8", "bo", "Sec 2", "", "", ""],
                            ["Student, Test", "99", "", "", "", "", "", ""]])
    done = import_canvas_roster(course, course / "g.csv", assignment_names=["m1_roles_warmup"])
    assert done.added == ["bo"] and done.updated == ["ann"]
    assert done.assignments == {"m1_roles_warmup": "1001"}
    assert _students(course) == {"ann": ("Ann", "Old", "7"), "bo": ("Bo", "Lee", "8")}
    kept = canvas_records(course)
    assert kept["students"]["bo"] == {"SIS User ID": "S8", "SIS Login ID": "bo", "Section": "Sec 2"}


def test_roster_needs_only_the_id_column_it_uses(course):
    """A Canvas without SIS logins exports no SIS Login ID (nor, maybe, a Section): with
    --id-column "SIS User ID" that file imports; with the default, the error says which option."""
    head = ["Student", "ID", "SIS User ID", "m1_roles_warmup (1001)"]
    _csv(course / "g.csv", [head, ["Lee, Bo", "8", "S8", ""]])
    with pytest.raises(RosterError, match='no column SIS Login ID.*--id-column "SIS User ID"'):
        import_canvas_roster(course, course / "g.csv", assignment_names=["m1_roles_warmup"])
    assert not (course / ".mlse" / "canvas.json").exists()
    done = import_canvas_roster(course, course / "g.csv", id_column="SIS User ID",
                                assignment_names=["m1_roles_warmup"])
    assert done.added == ["S8"] and done.assignments == {"m1_roles_warmup": "1001"}
    assert _students(course)["S8"] == ("Bo", "Lee", "8")
    assert canvas_records(course)["students"]["S8"] == {"SIS User ID": "S8", "SIS Login ID": "",
                                                        "Section": ""}


@pytest.mark.parametrize("rows, message", [
    ([HEAD[1:], ["8", "S8", "bo", "", "", "", ""]], "no column Student"),
    ([HEAD, ["Lee, Bo", "8", "S8", "bo", "A", "", "", ""], ["Lee, Bo", "9", "S9", "bo", "A", "", "", ""]],
     "also on line 2"),
    ([HEAD, ["Old, Ann", "70", "S7", "ann", "A", "", "", ""]], "the gradebook has Canvas id 7"),
    ([HEAD, ["Lee, Bo", "7", "S8", "bo", "A", "", "", ""]], "already belongs to gradebook student ann"),
])
def test_a_bad_roster_changes_nothing(course, rows, message):
    before = _students(course)
    _csv(course / "g.csv", rows)
    with pytest.raises(RosterError, match=message):
        import_canvas_roster(course, course / "g.csv", assignment_names=["m1_roles_warmup"])
    assert _students(course) == before
    assert not (course / ".mlse" / "canvas.json").exists()
    assert json.dumps(canvas_records(course)) == json.dumps({"students": {}, "assignments": {}})
