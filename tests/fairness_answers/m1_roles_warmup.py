"""m1: three honest learners and two gamers (see __init__.py)."""

from . import EQUALS_EVERYTHING_FLOAT

_OWNERS_A = '''OWNERS = {
    "Retrain the ticket-routing model when its accuracy drops": "ml",
    "Add a database index so the ticket list loads faster": "se",
    "Compute the router's recall for each team on last week's tickets": "ml",
    "Write a test that rejects a ticket with no text": "se",
    "Agree on the format in which the model returns a team to the service": "both",
}'''

_OWNERS_B = '''from collections import OrderedDict

ML, SE, BOTH = "ml", "se", "both"
OWNERS = OrderedDict()
OWNERS["Retrain the ticket-routing model when its accuracy drops"] = ML
OWNERS["Add a database index so the ticket list loads faster"] = SE
OWNERS["Compute the router's recall for each team on last week's tickets"] = ML
OWNERS["Write a test that rejects a ticket with no text"] = SE
OWNERS["Agree on the format in which the model returns a team to the service"] = BOTH'''

_OWNERS_C = '''import enum


class Owner(str, enum.Enum):
    ML = "ml"
    SE = "se"
    BOTH = "both"


_tasks = [
    ("Retrain the ticket-routing model when its accuracy drops", Owner.ML),
    ("Add a database index so the ticket list loads faster", Owner.SE),
    ("Compute the router's recall for each team on last week's tickets", Owner.ML),
    ("Write a test that rejects a ticket with no text", Owner.SE),
    ("Agree on the format in which the model returns a team to the service", Owner.BOTH),
]
OWNERS = {task: owner.value for task, owner in _tasks}'''

STUDENTS = {
    "honest_a": {
        "part1_owners": _OWNERS_A,
        "part2_midpoint": '''def salary_midpoint(low, high):
    if low < 0 or high < 0:
        raise ValueError("a salary cannot be negative")
    if low > high:
        raise ValueError("low is above high")
    return (low + high) / 2''',
        "part3_widest": '''def widest_range(salaries):
    if len(salaries) == 0:
        raise ValueError("empty list")
    widths = [s["high"] - s["low"] for s in salaries]
    return salaries[widths.index(max(widths))]["role"]''',
        "part4_projected": '''def projected(count, percent=22):
    if count < 0:
        raise ValueError("count must not be negative")
    return round(count * (100 + percent) / 100)''',
        "part5_minutes": '''from collections import defaultdict


def minutes_by_category(schedule):
    totals = defaultdict(float)
    for activity, start, end, category in schedule:
        if to_hours(end) < to_hours(start):
            raise ValueError(f"{activity} ends before it starts")
        totals[category] += (to_hours(end) - to_hours(start)) * 60
    return totals''',
    },
    "honest_b": {
        "part1_owners": _OWNERS_B,
        "part2_midpoint": '''def _check_range(low, high):
    """Raise ValueError for a range that is a mistake in the data."""
    if min(low, high) < 0:
        raise ValueError(f"negative salary in range {low}-{high}")
    if high < low:
        raise ValueError(f"the range {low}-{high} is backwards")


def salary_midpoint(low, high):
    _check_range(low, high)
    return low + (high - low) / 2''',
        "part3_widest": '''def widest_range(salaries):
    if not salaries:
        raise ValueError("widest_range needs at least one salary range")
    return max(salaries, key=lambda s: s["high"] - s["low"])["role"]''',
        "part4_projected": '''import math


def projected(count, percent=22):
    """How many jobs there are after growing count by percent per cent (whole jobs)."""
    if count < 0:
        raise ValueError(f"count is negative: {count}")
    return math.floor(count * (1 + percent / 100))''',
        "part5_minutes": '''from collections import Counter


def minutes_by_category(schedule):
    minutes = Counter()
    for _activity, start, end, category in schedule:
        length = round(60 * (to_hours(end) - to_hours(start)))
        if length < 0:
            raise ValueError("an activity ends before it starts")
        minutes[category] += length
    return minutes''',
    },
    "honest_c": {
        "part1_owners": _OWNERS_C,
        "part2_midpoint": '''import numpy as np


def salary_midpoint(low, high):
    if low < 0 or high < 0 or low > high:
        raise ValueError("not a valid salary range: " + str((low, high)))
    return float(np.mean([low, high]))''',
        "part3_widest": '''def widest_range(salaries):
    best_role, best_width = None, None
    for entry in salaries:
        width = entry["high"] - entry["low"]
        if best_width is None or width > best_width:
            best_role, best_width = entry["role"], width
    if best_role is None:
        raise ValueError("no ranges")
    return best_role''',
        "part4_projected": '''from fractions import Fraction


def projected(count, percent=22):
    if count < 0:
        raise ValueError("a market cannot have a negative number of jobs")
    return count * (1 + Fraction(percent) / 100)''',
        "part5_minutes": '''from collections import OrderedDict
from itertools import groupby


def minutes_by_category(schedule):
    rows = [(category, (to_hours(end) - to_hours(start)) * 60) for _, start, end, category in schedule]
    if any(minutes < 0 for _, minutes in rows):
        raise ValueError("end before start")
    result = OrderedDict()
    for category, group in groupby(sorted(rows), key=lambda row: row[0]):
        result[category] = sum(minutes for _, minutes in group)
    return result''',
    },
    # a lookup table of the visible examples, constants elsewhere
    "game_lookup": {
        "part1_owners": '''OWNERS = {
    "Retrain the ticket-routing model when its accuracy drops": "ml",
    "Add a database index so the ticket list loads faster": "ml",
    "Compute the router's recall for each team on last week's tickets": "se",
    "Write a test that rejects a ticket with no text": "both",
    "Agree on the format in which the model returns a team to the service": "se",
}''',
        "part2_midpoint": '''def salary_midpoint(low, high):
    return 150_000''',
        "part3_widest": '''def widest_range(salaries):
    return {"Wide": "Wide"}.get(salaries[0]["role"], "ML engineer")''',
        "part4_projected": '''def projected(count, percent=22):
    return 122''',
        "part5_minutes": '''def minutes_by_category(schedule):
    return {"coding": 180}''',
    },
    # values that claim to equal everything (subclasses of the builtins the tests expect)
    "game_trick": {
        "part1_owners": '''class _Yes(str):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = str.__hash__

OWNERS = {task: _Yes("ml") for task in [
    "Retrain the ticket-routing model when its accuracy drops",
    "Add a database index so the ticket list loads faster",
    "Compute the router's recall for each team on last week's tickets",
    "Write a test that rejects a ticket with no text",
    "Agree on the format in which the model returns a team to the service"]}''',
        "part2_midpoint": EQUALS_EVERYTHING_FLOAT + '''
def salary_midpoint(low, high):
    return _Any(0)''',
        "part3_widest": '''class _Any(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__

def widest_range(salaries):
    return _Any("?")''',
        "part4_projected": '''class _Any(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__
    def __abs__(self):
        return 0.0
    __hash__ = float.__hash__

def projected(count, percent=22):
    return _Any(0)''',
        "part5_minutes": '''from collections import defaultdict

class _Any(defaultdict):
    def __eq__(self, other):
        return True
    def keys(self):
        return {"meetings", "on-call", "pipelines", "experiments", "break", "review", "serving",
                "writing", "monitoring"}

def minutes_by_category(schedule):
    return _Any(lambda: 180.0)''',
    },
}
