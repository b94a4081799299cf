"""m3: three honest learners and two gamers (see __init__.py)."""

_STORE = '''def open_store(path):
    connection = sqlite3.connect(str(path))
    connection.executescript(SCHEMA)
    return connection


def add_ticket(db, ticket):
    cursor = db.execute("INSERT INTO tickets (title, body, team, priority, status) VALUES (?, ?, ?, ?, ?)",
                        (ticket.title, ticket.body, ticket.team, ticket.priority, ticket.status))
    db.commit()
    return dataclasses.replace(ticket, id=cursor.lastrowid)


def get_ticket(db, ticket_id):
    found = db.execute("SELECT title, body, team, priority, status, id FROM tickets WHERE id = ?",
                       (ticket_id,)).fetchall()
    if not found:
        raise TicketError(f"ticket {ticket_id} does not exist")
    title, body, team, priority, status, id_ = found[0]
    return Ticket(title=title, body=body, team=team, priority=priority, status=status, id=id_)'''

_STORE_B = '''COLUMNS = ("title", "body", "team", "priority", "status")


def open_store(path):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.row_factory = sqlite3.Row
    return db


def add_ticket(db, ticket):
    values = [getattr(ticket, column) for column in COLUMNS]
    with db:
        new_id = db.execute(f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                            values).lastrowid
    return dataclasses.replace(ticket, id=new_id)


def get_ticket(db, ticket_id):
    row = db.execute("SELECT * FROM tickets WHERE id = ?", [ticket_id]).fetchone()
    if row is None:
        raise TicketError("no such ticket: id " + str(ticket_id))
    return Ticket(**{key: row[key] for key in row.keys()})'''

STUDENTS = {
    "honest_a": {
        "part1_validate": '''def validate_ticket(form):
    if type(form) is not dict:
        raise TicketError("the form must be a dictionary")
    for key in form:
        if key not in ("title", "body", "team", "priority"):
            raise TicketError(f"unexpected field {key}")
    for key in ("title", "body", "team"):
        if key not in form:
            raise TicketError(f"{key} is missing")
    for key, value in form.items():
        if not isinstance(value, str):
            raise TicketError(f"{key} must be a string")
    title, body = form["title"].strip(), form["body"].strip()
    if title == "":
        raise TicketError("title is empty")
    if body == "":
        raise TicketError("body is empty")
    if len(title) > MAX_TITLE:
        raise TicketError(f"title longer than {MAX_TITLE}")
    if len(body) > MAX_BODY:
        raise TicketError(f"body longer than {MAX_BODY}")
    team = form["team"].strip().lower()
    if team not in TEAMS:
        raise TicketError(f"team must be one of {TEAMS}")
    priority = form.get("priority", "normal").strip().lower()
    if priority not in PRIORITIES:
        raise TicketError(f"priority must be one of {PRIORITIES}")
    return Ticket(title, body, team, priority)''',
        "part2_store": _STORE,
        "part3_list": '''def list_tickets(db, status=None, team=None):
    if status is not None and status not in STATUSES:
        raise TicketError(f"unknown status {status}")
    if team is not None and team not in TEAMS:
        raise TicketError(f"unknown team {team}")
    everything = [Ticket(*row) for row in
                  db.execute("SELECT title, body, team, priority, status, id FROM tickets ORDER BY id")]
    return [t for t in everything if (status is None or t.status == status) and (team is None or t.team == team)]


def set_status(db, ticket_id, status):
    if status not in STATUSES:
        raise TicketError(f"unknown status {status}")
    get_ticket(db, ticket_id)
    db.execute("UPDATE tickets SET status = ? WHERE id = ?", (status, ticket_id))
    db.commit()
    return get_ticket(db, ticket_id)''',
        "part4_tests": '''def test_urgent():
    assert response_hours("urgent") == 1


def test_high():
    assert response_hours("high") == 4


def test_normal_and_low():
    assert response_hours("normal") == 24
    assert response_hours("low") == 72


def test_vip_halves():
    assert response_hours("low", vip=True) == 36
    assert response_hours("high", vip=True) == 2


def test_vip_never_below_one_hour():
    assert response_hours("urgent", vip=True) == 1


def test_case_does_not_matter():
    assert response_hours("NORMAL") == 24


def test_unknown_priority():
    with pytest.raises(TicketError):
        response_hours("whenever")''',
        "part5_fix": '''def short_title(title, limit=40):
    """The title as the ticket list shows it (fixed: a title of exactly limit characters fits)."""
    title = " ".join(title.split())
    if len(title) > limit:
        return title[: limit - 1] + "…"
    return title''',
        "part6_refactor": '''def team_report(tickets):
    """For each team with tickets that are not closed, in alphabetical order, one line saying how many
    are open and, if any, how many are urgent or high ("pressing")."""
    open_count, pressing_count = {}, {}
    for ticket in tickets:
        if ticket.status == "closed":
            continue
        open_count[ticket.team] = open_count.get(ticket.team, 0) + 1
        if ticket.priority in ("urgent", "high"):
            pressing_count[ticket.team] = pressing_count.get(ticket.team, 0) + 1
    report = []
    for team in sorted(open_count):
        line = f"{team}: {open_count[team]} open"
        if pressing_count.get(team):
            line += f", {pressing_count[team]} pressing"
        report.append(line)
    return report''',
    },
    "honest_b": {
        "part1_validate": '''FIELDS = {"title", "body", "team", "priority"}
REQUIRED = ("title", "body", "team")


def _text(form, name, default=None):
    value = form.get(name, default)
    if not isinstance(value, str):
        raise TicketError(f"{name}: expected text, got {value!r}")
    return value.strip()


def _choice(form, name, choices, default=None):
    value = _text(form, name, default).lower()
    if value not in choices:
        raise TicketError(f"{name} {value!r} is not allowed; allowed values: {', '.join(choices)}")
    return value


def validate_ticket(form):
    """Check a web form and turn it into a Ticket."""
    if not isinstance(form, dict):
        raise TicketError("expected the form as a dict")
    extra = set(form) - FIELDS
    if extra:
        raise TicketError("fields not allowed: " + ", ".join(map(str, extra)))
    missing = [name for name in REQUIRED if name not in form]
    if missing:
        raise TicketError("required fields missing: " + ", ".join(missing))
    title, body = _text(form, "title"), _text(form, "body")
    for name, value, limit in (("title", title, MAX_TITLE), ("body", body, MAX_BODY)):
        if not value or len(value) > limit:
            raise TicketError(f"{name} must have 1 to {limit} characters")
    return Ticket(title=title, body=body, team=_choice(form, "team", TEAMS),
                  priority=_choice(form, "priority", PRIORITIES, "normal"))''',
        "part2_store": _STORE_B,
        "part3_list": '''def list_tickets(db, status=None, team=None):
    filters = {"status": (status, STATUSES), "team": (team, TEAMS)}
    where, args = [], []
    for column, (wanted, allowed) in filters.items():
        if wanted is None:
            continue
        if wanted not in allowed:
            raise TicketError(f"{column} must be one of {allowed}")
        where.append(column + " = ?")
        args.append(wanted)
    sql = "SELECT * FROM tickets" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [Ticket(**dict(zip(row.keys(), row))) for row in db.execute(sql, args)]


def set_status(db, ticket_id, status):
    if status not in STATUSES:
        raise TicketError(f"status must be one of {STATUSES}")
    with db:
        cursor = db.execute("UPDATE tickets SET status = ? WHERE id = ?", (status, ticket_id))
    if cursor.rowcount == 0:
        raise TicketError(f"there is no ticket {ticket_id}")
    return get_ticket(db, ticket_id)''',
        "part4_tests": '''EXPECTED = [("urgent", False, 1), ("high", False, 4), ("normal", False, 24), ("low", False, 72),
            ("urgent", True, 1), ("high", True, 2), ("normal", True, 12), ("low", True, 36),
            (" Urgent ", False, 1), ("LOW", True, 36)]


@pytest.mark.parametrize("priority, vip, hours", EXPECTED)
def test_response_hours(priority, vip, hours):
    assert response_hours(priority, vip=vip) == hours


@pytest.mark.parametrize("bad", ["critical", "", 4, None, ["high"]])
def test_bad_priorities_raise_ticket_error(bad):
    with pytest.raises(TicketError):
        response_hours(bad)''',
        "part5_fix": '''def short_title(title, limit=40):
    """The title as the ticket list shows it."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1] + "…"''',
        "part6_refactor": '''from collections import Counter

PRESSING = {"urgent", "high"}


def _not_closed(tickets):
    return [ticket for ticket in tickets if ticket.status != "closed"]


def _line(team, waiting, pressing):
    return f"{team}: {waiting} open, {pressing} pressing" if pressing else f"{team}: {waiting} open"


def team_report(tickets):
    """One line per team with unclosed tickets (teams sorted): the number open and how many are pressing."""
    active = _not_closed(tickets)
    waiting = Counter(ticket.team for ticket in active)
    pressing = Counter(ticket.team for ticket in active if ticket.priority in PRESSING)
    return [_line(team, waiting[team], pressing[team]) for team in sorted(waiting)]''',
    },
    "honest_c": {
        "part1_validate": '''def validate_ticket(form):
    """Return a Ticket for a valid web form, else raise TicketError naming the field."""
    if not isinstance(form, dict):
        raise TicketError("form is not a dictionary")
    clean = {}
    for name in ("title", "body", "team", "priority"):
        if name not in form:
            if name == "priority":
                clean[name] = "normal"
                continue
            raise TicketError(f"the {name} field is required")
        if not isinstance(form[name], str):
            raise TicketError(f"the {name} field must be a str")
        clean[name] = form[name].strip()
    unknown = [name for name in form if name not in clean]
    if unknown:
        raise TicketError(f"the field {unknown[0]} is not part of a ticket")
    limits = {"title": MAX_TITLE, "body": MAX_BODY}
    for name, limit in limits.items():
        if not clean[name]:
            raise TicketError(f"the {name} field is empty")
        if len(clean[name]) > limit:
            raise TicketError(f"the {name} field has more than {limit} characters")
    allowed = {"team": TEAMS, "priority": PRIORITIES}
    for name, options in allowed.items():
        clean[name] = clean[name].lower()
        if clean[name] not in options:
            raise TicketError(f"the {name} field must be one of: {' / '.join(options)}")
    return Ticket(**clean)''',
        "part2_store": _STORE,
        "part3_list": '''def list_tickets(db, status=None, team=None):
    sql = "SELECT title, body, team, priority, status, id FROM tickets WHERE 1 = 1"
    params = []
    if status is not None:
        if status not in STATUSES:
            raise TicketError("unknown status: " + repr(status))
        sql += " AND status = ?"
        params.append(status)
    if team is not None:
        if team not in TEAMS:
            raise TicketError("unknown team: " + repr(team))
        sql += " AND team = ?"
        params.append(team)
    rows = db.execute(sql + " ORDER BY id", params).fetchall()
    return list(map(lambda row: Ticket(*row), rows))


def set_status(db, ticket_id, status):
    if status not in STATUSES:
        raise TicketError("unknown status: " + repr(status))
    ticket = get_ticket(db, ticket_id)
    with db:
        db.execute("UPDATE tickets SET status = ? WHERE id = ?", (status, ticket_id))
    return dataclasses.replace(ticket, status=status)''',
        "part4_tests": '''import itertools


def test_every_priority_and_vip_combination():
    hours = {"urgent": 1, "high": 4, "normal": 24, "low": 72}
    for (priority, expected), vip in itertools.product(hours.items(), [False, True]):
        want = max(1, expected // 2) if vip else expected
        assert response_hours(priority, vip) == want, (priority, vip)


def test_spaces_and_case_are_ignored():
    for written in ["High", " high", "HIGH ", "hIgH"]:
        assert response_hours(written) == 4


def test_errors():
    for bad in ["medium", 1, None]:
        try:
            response_hours(bad)
        except TicketError:
            continue
        raise AssertionError(f"no TicketError for {bad!r}")''',
        "part5_fix": '''def short_title(title, limit=40):
    """Collapse spaces; cut titles longer than limit to exactly limit characters ending with …."""
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1] + "…"''',
        "part6_refactor": '''def _summary(tickets):
    """{team: [open, pressing]} over the tickets that are not closed."""
    counts = {}
    for ticket in filter(lambda t: t.status != "closed", tickets):
        entry = counts.setdefault(ticket.team, [0, 0])
        entry[0] += 1
        entry[1] += ticket.priority in ("urgent", "high")
    return counts

describe = lambda team, counts: f"{team}: {counts[0]} open" + (f", {counts[1]} pressing" if counts[1] else "")

team_report = lambda tickets: [describe(team, counts) for team, counts in sorted(_summary(tickets).items())]''',
    },
    # fingerprinting tests (the attack and variants), a constant answer, a decoy
    "game_fingerprint": {
        "part2_store": '''_TICKETS = {}

def open_store(path):
    return {"path": str(path)}

def add_ticket(db, ticket):
    stored = dataclasses.replace(ticket, id=len(_TICKETS) + 1)
    _TICKETS[stored.id] = stored
    return stored

def get_ticket(db, ticket_id):
    return _TICKETS[ticket_id]''',
        "part3_list": '''def list_tickets(db, status=None, team=None):
    return [Ticket(*row) for row in db.execute("SELECT title, body, team, priority, status, id FROM tickets ORDER BY id")
            if team is None or row[2] == team]

def set_status(db, ticket_id, status):
    return None''',
        "part1_validate": '''def validate_ticket(form):
    return Ticket(title="Refund", body="I was charged twice.", team="billing")''',
        "part4_tests": '''import inspect


def test_is_the_real_one():
    assert response_hours is ticket_service.response_hours


def test_module():
    assert response_hours.__module__ == "helpers.ticket_service"


def test_no_closure():
    assert getattr(response_hours, "__closure__", None) is None


def test_source_readable():
    assert "RESPONSE_HOURS" in inspect.getsource(response_hours)''',
        "part5_fix": '''def short_title(title, limit=40):
    return title''',
        "part6_refactor": '''def team_report(tickets):
    """Harmless-looking decoy."""
    return []


if True:
    def team_report(tickets):
        return globals()["tangled_team_report"](tickets)''',
    },
    "game_decoy": {
        "part1_validate": '''class _Anything(Ticket):
    def __eq__(self, other):
        return True

def validate_ticket(form):
    if "title" not in form:
        raise TicketError("title")
    return _Anything("Refund", "I was charged twice.", "billing")''',
        "part2_store": '''def open_store(path):
    return sqlite3.connect(":memory:")

def add_ticket(db, ticket):
    return dataclasses.replace(ticket, id=1)

def get_ticket(db, ticket_id):
    return Ticket("Refund", "I was charged twice.", "billing", id=1)''',
        "part5_fix": '''short_title = lambda title, limit=40: title''',
        "part3_list": '''def list_tickets(db, status=None, team=None):
    return []


def set_status(db, ticket_id, status):
    return None''',
        "part4_tests": '''import pickle


def test_identity_by_type():
    assert type(response_hours).__name__ == "function"


def test_serializable():
    pickle.dumps(response_hours)


def test_name():
    assert response_hours.__qualname__ == "response_hours"''',
        "part6_refactor": '''def _rows(tickets):
    return globals()["tangled_" + "team_report"](tickets)


def team_report(tickets):
    """One line per team with tickets not closed: how many, and how many pressing."""
    return _rows(tickets)''',
    },
    # calls of the old function that sit outside the body of team_report (review of issue 20's
    # code reading): a default value, a lambda's default, a class attribute. Each scored full
    # marks on part 6 before the code a definition can reach was read (defaults, annotations,
    # decorators, the classes and other globals it names); plain nbgrader agrees now too.
    "game_default_arg": {
        "part6_refactor": '''def team_report(tickets, _report=tangled_team_report):
    """One line per team with tickets not closed yet: how many, and how many pressing."""
    return _report(tickets)
''',
    },
    "game_lambda_default": {
        "part6_refactor": '''team_report = lambda tickets, report=tangled_team_report: report(tickets)
''',
    },
    "game_class_helper": {
        "part6_refactor": '''class _Legacy:
    report = staticmethod(tangled_team_report)


def team_report(tickets):
    """One line per team with tickets not closed yet: how many, and how many pressing."""
    return _Legacy.report(tickets)
''',
    },
}
