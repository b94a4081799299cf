"""The help desk's ticket service: the fixed parts of its specification (module 3).

The software engineer's lesson and assignment build a small service that validates, stores and
lists support tickets on a SQLite database. This module holds what every version of that service
shares, so notebooks import it rather than copy it:

* the specification's constants (teams, priorities, statuses, length limits);
* :class:`TicketError`, the one error the service raises for bad input;
* :class:`Ticket`, the data model;
* :data:`SCHEMA`, the SQL table the tickets live in;
* :func:`response_hours`, the help desk's response-time rule.

What the assignment asks a learner to write (validation, the store, ...) is deliberately not
here. Not to be confused with the ML engineer's ticket *data set*, which is another module.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TEAMS",
    "PRIORITIES",
    "STATUSES",
    "MAX_TITLE",
    "MAX_BODY",
    "RESPONSE_HOURS",
    "TicketError",
    "Ticket",
    "SCHEMA",
    "response_hours",
]

from .teams import TEAMS  # noqa: E402  (the one list, shared with the model's labels)
#: Priorities, from most to least pressing.
PRIORITIES = ("urgent", "high", "normal", "low")
#: A ticket's life: opened, worked on, closed.
STATUSES = ("open", "in_progress", "closed")
#: Longest title and body, in characters (after surrounding spaces are removed).
MAX_TITLE = 80
MAX_BODY = 2000
#: Hours within which the help desk promises a first reply, by priority.
RESPONSE_HOURS = {"urgent": 1, "high": 4, "normal": 24, "low": 72}


class TicketError(ValueError):
    """Bad input to the ticket service. Its message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Ticket:
    """One support ticket.

    Frozen (immutable): a changed ticket is a new value, made with ``dataclasses.replace``, so
    nothing changes a ticket behind the back of the code that holds it. ``id`` is ``None`` until
    the ticket is stored; the database gives it its number.
    """

    title: str
    body: str
    team: str
    priority: str = "normal"
    status: str = "open"
    id: int | None = None


#: The tickets table. ``CHECK`` constraints repeat the rules in the database itself, so even a
#: bug in the Python code cannot store a ticket with an unknown team or status.
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tickets (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    title    TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND {MAX_TITLE}),
    body     TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND {MAX_BODY}),
    team     TEXT NOT NULL CHECK (team IN ({", ".join(repr(t) for t in TEAMS)})),
    priority TEXT NOT NULL CHECK (priority IN ({", ".join(repr(p) for p in PRIORITIES)})),
    status   TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)}))
);
"""


def response_hours(priority: str, vip: bool = False) -> int:
    """Hours within which the help desk must first reply to a ticket.

    The rule (the help desk's service-level agreement):

    * urgent: 1 hour; high: 4 hours; normal: 24 hours; low: 72 hours;
    * VIP customers get half that time, rounded down, but never less than 1 hour;
    * the priority's case and surrounding spaces do not matter (``" High"`` is ``"high"``);
    * anything else (an unknown priority, or one that is not a string) raises
      :class:`TicketError`, whose message lists the known priorities.
    """
    if not isinstance(priority, str):
        raise TicketError(f"priority must be text, one of {', '.join(PRIORITIES)}; "
                          f"got {type(priority).__name__}")
    key = priority.strip().lower()
    if key not in RESPONSE_HOURS:
        raise TicketError(f"unknown priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    hours = RESPONSE_HOURS[key]
    if vip:
        hours = max(1, hours // 2)
    return hours
