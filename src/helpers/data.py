"""Load the course's data files, which ship inside this package.

Notebooks call these functions instead of opening paths, so a lesson works from any folder and
never downloads anything: the data is installed with the course.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["data_path", "load_json", "load_roles", "load_day", "load_tickets", "load_next_month"]


def data_path(name: str):
    """The path of a data file shipped with the course, with a clear error if it is missing."""
    path = resources.files("helpers") / "data" / name
    if not path.is_file():
        available = sorted(p.name for p in (resources.files("helpers") / "data").iterdir() if p.is_file())
        raise FileNotFoundError(
            f"The course data file {name!r} is missing. Files available: {', '.join(available)}. "
            "If you moved or deleted it, restore it with `git checkout -- src/helpers/data`."
        )
    return path


@lru_cache(maxsize=None)
def _load_json_text(name: str) -> str:
    return data_path(name).read_text(encoding="utf-8")


def load_json(name: str) -> Any:
    """A fresh copy of a JSON data file (callers may change it without affecting others)."""
    return json.loads(_load_json_text(name))


def load_roles() -> dict[str, Any]:
    """Facts about the two roles from the source article, with the article's attribution."""
    return load_json("roles.json")


def load_day() -> dict[str, list[tuple[str, str, str, str]]]:
    """An illustrative working day for each role: (activity, start, end, category) rows."""
    raw = load_json("a_day.json")
    return {role: [tuple(row) for row in raw[role]] for role in ("ml", "se")}


def _load_ticket_table(name: str):
    """A ticket CSV as a DataFrame of strings, checked against the columns the course expects."""
    import pandas as pd  # imported here so the JSON loaders above work without pandas

    from .tickets import COLUMNS

    try:
        table = pd.read_csv(data_path(name), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise ValueError(f"The course data file {name!r} is not valid CSV ({exc}). Restore it with "
                         "`git checkout -- src/helpers/data` or rebuild it: `python -m helpers.tickets`.") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"The course data file {name!r} lacks the column(s) {missing}; it has "
                         f"{list(table.columns)}. Restore it with `git checkout -- src/helpers/data` "
                         "or rebuild it: `python -m helpers.tickets`.")
    return table[COLUMNS]


def load_tickets():
    """This month's support tickets (a fresh pandas DataFrame): see ``data/tickets_card.md``."""
    return _load_ticket_table("tickets.csv")


def load_next_month():
    """Next month's tickets, with drift (a new product, another mix): see ``data/tickets_card.md``."""
    return _load_ticket_table("tickets_next_month.csv")
