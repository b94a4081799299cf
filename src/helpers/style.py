"""One plotting style for the whole course, so every figure looks like it belongs.

Both roles keep the same colour in every lesson: the ML engineer is blue, the software engineer
orange. Lessons call :func:`use_course_style` once at the top.
"""

from __future__ import annotations

import matplotlib as mpl

__all__ = ["ROLE_COLORS", "ROLE_LABELS", "PALETTE", "category_colors", "use_course_style"]

ROLE_COLORS = {"ml": "#1f77b4", "se": "#ff7f0e", "both": "#2ca02c"}
ROLE_LABELS = {"ml": "ML engineer", "se": "Software engineer", "both": "Both"}
#: Colour-blind-friendly palette (Okabe and Ito) for categories that are not roles.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]


def category_colors(categories) -> dict:
    """A distinct colour for each category (a break is always light grey).

    The palette above serves up to eight categories; more get matplotlib's twelve-colour Set3,
    whose pastels do not clash with the two roles' colours.
    """
    categories = [c for c in categories if c != "break"]
    if len(categories) <= len(PALETTE) - 1:
        colours = {cat: PALETTE[i] for i, cat in enumerate(categories)}
    else:
        set3 = [mpl.colors.to_hex(c) for c in mpl.colormaps["Set3"].colors]
        set3.remove("#d9d9d9")  # its grey would look like a break
        colours = {cat: set3[i % len(set3)] for i, cat in enumerate(categories)}
    colours["break"] = "#dddddd"
    return colours


def use_course_style() -> None:
    """Apply the course's matplotlib settings: readable sizes, no chart junk, fixed output size.

    A fixed figure size and DPI keep the pictures the same on every machine, which keeps the
    stored lesson outputs stable for nbval.
    """
    mpl.rcParams.update({
        "figure.figsize": (8, 4),
        "figure.dpi": 80,
        "savefig.dpi": 80,
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "legend.frameon": False,
        "svg.hashsalt": "mlse-course",
    })
