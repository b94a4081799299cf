"""Compare what a model sees now with what it learned from: category shares, side by side.

Drift monitoring starts with a simple picture: for one column (product, channel, predicted team),
the share of each category last month and this month. A category that appears from nowhere (a
new product) or a share that doubles is a reason to look closer, and maybe to retrain.

Module 2 computes a drift *score* from these shares in the lesson itself, so the idea stays in
front of the learner; this module only prepares the shares and draws them.
"""

from __future__ import annotations

from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import PALETTE

__all__ = ["category_shares", "plot_shares"]


def category_shares(reference: Iterable, current: Iterable) -> pd.DataFrame:
    """The share of each category in ``reference`` and in ``current``, one row per category.

    Categories seen in only one of the two get a share of 0 in the other, so the rows always line
    up. Rows are sorted by the reference share (largest first), then new categories by name.
    Raises ``ValueError`` if either side is empty: a share of nothing means nothing.
    """
    ref = pd.Series(list(reference), dtype=object)
    cur = pd.Series(list(current), dtype=object)
    for name, values in (("reference", ref), ("current", cur)):
        if values.empty:
            raise ValueError(f"The {name} values are empty: there is nothing to compare.")
    table = pd.DataFrame({
        "reference": ref.value_counts(normalize=True),
        "current": cur.value_counts(normalize=True),
    }).fillna(0.0)
    table.index = table.index.map(str)
    table = table.sort_values(["reference", "current"], ascending=False, kind="stable")
    table.index.name = "category"
    return table


def plot_shares(shares: pd.DataFrame, title: str = "Shares before and after",
                labels: tuple[str, str] = ("reference", "current"), ax=None):
    """Grouped bars of a :func:`category_shares` table: the drift histogram. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots()
    x = np.arange(len(shares))
    width = 0.4
    ax.bar(x - width / 2, shares["reference"], width, label=labels[0], color=PALETTE[0])
    ax.bar(x + width / 2, shares["current"], width, label=labels[1], color=PALETTE[1])
    ax.set_xticks(x, list(shares.index))
    ax.set_ylabel("share of tickets")
    ax.set_title(title)
    ax.legend()
    return ax
