"""Draw a working day as a timeline: one row per role, one bar per activity.

Modules 1 to 3 each show "a day" of a role; this is the one function that draws it.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt

from .style import ROLE_LABELS, category_colors

__all__ = ["to_hours", "plot_day"]

Activity = Sequence[str]  # (activity, start "HH:MM", end "HH:MM", category)


def to_hours(clock: str) -> float:
    """``"09:30"`` -> ``9.5``, with a clear error for anything that is not HH:MM."""
    try:
        hours, minutes = clock.split(":")
        value = int(hours) + int(minutes) / 60
    except (AttributeError, ValueError):
        raise ValueError(f"Times look like '09:30'; got {clock!r}.") from None
    if not 0 <= value <= 24:
        raise ValueError(f"{clock!r} is not a time of day.")
    return value


def plot_day(days: Mapping[str, Iterable[Activity]], title: str = "A day in each role", ax=None):
    """Plot each role's day as a row of coloured bars, coloured by activity category.

    ``days`` maps a role key (``"ml"``, ``"se"`` or any label) to its activities. Returns the
    axes, so a lesson can add to the picture.
    """
    days = {role: list(rows) for role, rows in days.items()}
    categories = sorted({row[3] for rows in days.values() for row in rows})
    colours = category_colors(categories)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.4 + 0.9 * len(days)), layout="constrained")
    for y, (role, rows) in enumerate(reversed(list(days.items()))):
        for activity, start, end, category in rows:
            left, right = to_hours(start), to_hours(end)
            ax.barh(y, right - left, left=left, color=colours[category], edgecolor="white", height=0.6)
    ax.set_yticks(range(len(days)), [ROLE_LABELS.get(r, r) for r in reversed(list(days))])
    ax.set_xlabel("time of day (hours)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[c]) for c in categories]
    ax.legend(handles, categories, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    ax.set_xticks(range(int(ax.get_xlim()[0]), int(ax.get_xlim()[1]) + 1))
    return ax
