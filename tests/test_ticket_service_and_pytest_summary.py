"""Unit tests of helpers.ticket_service (the fixed parts of module 3's specification) and of
helpers.pytest_summary (stable pytest output for lessons)."""

from __future__ import annotations

import dataclasses
import sqlite3
import textwrap

import pytest

from helpers.pytest_summary import run_pytest
from helpers.ticket_service import (MAX_TITLE, PRIORITIES, SCHEMA, STATUSES, TEAMS, Ticket,
                                    TicketError, response_hours)


@pytest.mark.parametrize("priority, hours, vip_hours",
                         [("urgent", 1, 1), ("high", 4, 2), ("normal", 24, 12), ("low", 72, 36)])
def test_response_hours_follow_the_rule(priority, hours, vip_hours):
    assert response_hours(priority) == hours
    assert response_hours(priority, vip=True) == vip_hours
    assert response_hours(f"  {priority.upper()} ") == hours


@pytest.mark.parametrize("bad", ["asap", "", None, 3, ["high"]])
def test_response_hours_refuses_anything_else_with_a_clear_message(bad):
    with pytest.raises(TicketError, match="urgent, high, normal, low"):
        response_hours(bad)


def test_ticket_error_is_a_value_error_and_tickets_are_frozen():
    assert issubclass(TicketError, ValueError)
    ticket = Ticket("Refund", "Charged twice.", "billing")
    assert (ticket.priority, ticket.status, ticket.id) == ("normal", "open", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ticket.team = "sales"


def test_the_schema_enforces_the_specification_in_sqlite():
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        insert = "INSERT INTO tickets (title, body, team, priority, status) VALUES (?, ?, ?, ?, ?)"
        db.execute(insert, ("ok", "ok", TEAMS[0], PRIORITIES[0], STATUSES[0]))
        for row in [("x" * (MAX_TITLE + 1), "b", "billing", "low", "open"), ("t", "", "billing", "low", "open"),
                    ("t", "b", "marketing", "low", "open"), ("t", "b", "billing", "asap", "open"),
                    ("t", "b", "billing", "low", "done")]:
            with pytest.raises(sqlite3.IntegrityError):
                db.execute(insert, row)
    finally:
        db.close()


def test_run_pytest_prints_a_stable_summary_and_returns_the_exit_code(tmp_path, capsys):
    (tmp_path / "test_demo.py").write_text(textwrap.dedent("""
        import pytest

        def test_ok():
            assert 1 + 1 == 2

        @pytest.mark.parametrize("x", [1, 2])
        def test_small(x):
            assert x < 2, "too big"
    """))
    assert run_pytest(tmp_path) == 1
    first = capsys.readouterr().out
    assert "✘ test_small[2] FAILED: AssertionError: too big" in first
    assert "✔ passed: test_ok, test_small (1 case)" in first and "1 failed, 2 passed." in first
    assert " in 0." not in first and "seconds" not in first  # no timings
    assert run_pytest(tmp_path) == 1
    assert capsys.readouterr().out == first  # the same output on every run
    (tmp_path / "test_demo.py").write_text("def test_ok():\n    assert True\n")
    assert run_pytest(tmp_path) == 0
    assert "All 1 passed." in capsys.readouterr().out
