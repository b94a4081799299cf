"""Load the course's data files, which ship inside this package.

Notebooks call these functions instead of opening paths, so a lesson works from any folder and
never downloads anything: the data is installed with the course.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["data_path", "load_json", "load_roles", "load_day"]


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
