"""Draw a working day as a timeline: one row per role, one bar per activity.

Modules 1 to 3 each show "a day" of a role; this is the one function that draws it.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt

from .style import ROLE_LABELS

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
    """Plot each role's day as a timeline with one labelled row per activity.

    ``days`` maps a role key (``"ml"``, ``"se"`` or any label) to its activities. Each role gets a
    block of rows under a bold heading; each row names its activity on the left, and its bar, in
    the role's colour (a break in grey), is placed at its time of day, with its kind of activity
    (its category) written after it. Returns the axes, so a lesson can add to the picture.
    """
    from .style import ROLE_COLORS

    days = {role: list(rows) for role, rows in days.items()}
    n_rows = sum(len(rows) + 1 for rows in days.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.9 + 0.27 * n_rows), layout="constrained")
    labels, positions = [], []
    y = n_rows - 1
    fallback = iter(["#009E73", "#CC79A7", "#56B4E9"])
    for role, rows in days.items():
        colour = ROLE_COLORS.get(role) or next(fallback, "#0072B2")
        labels.append(ROLE_LABELS.get(role, role).upper())
        positions.append(y)
        y -= 1
        for activity, start, end, category in rows:
            left, right = to_hours(start), to_hours(end)
            bar_colour = "#cccccc" if category == "break" else colour
            ax.barh(y, right - left, left=left, color=bar_colour, edgecolor="white", height=0.7)
            ax.text(right + 0.05, y, category, va="center", ha="left", fontsize=8, color="#555555")
            labels.append(f"{start}-{end}  {activity}")
            positions.append(y)
            y -= 1
    ax.set_yticks(positions, labels, fontsize=9)
    for tick, label in zip(ax.get_yticklabels(), labels):
        if label.isupper():
            tick.set_fontweight("bold")
    ax.set_ylim(-0.6, n_rows - 0.4)
    lo = min(to_hours(r[1]) for rows in days.values() for r in rows)
    hi = max(to_hours(r[2]) for rows in days.values() for r in rows)
    ax.set_xlim(int(lo), int(hi) + 1.5)
    ax.set_xticks(range(int(lo), int(hi) + 2))
    ax.set_xlabel("time of day (hours); after each bar, its kind of activity")
    ax.set_ylabel("activity, by role (start-end)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return ax
