"""The forest plot of a network meta-analysis of hazard ratios: for each treatment against
the reference, the trials that compare them directly and the network's fixed- and
random-effects estimates, on a log scale with the estimates and intervals printed beside."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from .._validate import InputError
from .checks import check_table, numeric_column, text_labels
from .style import PALETTE, STYLE, WIDTH, arrange, set_title, wrapped

#: Marker and colour of each kind of row.
_KINDS = {"trial": ("s", "0.35", "Trial (direct)"), "fixed": ("D", PALETTE[1], "Network, fixed effect"),
          "random": ("D", PALETTE[0], "Network, random effects")}


def plot_forest(table: pd.DataFrame, *, reference: str, labels: Mapping[str, str] | None = None, title: str = "",
                footnote: str = "") -> plt.Figure:
    """Hazard ratios against ``reference``, grouped by treatment.

    Parameters
    ----------
    table : DataFrame
        Columns ``treatment``, ``label``, ``kind`` (``trial``, ``fixed`` or ``random``),
        ``hr``, ``lower``, ``upper``, rows in the order drawn (top to bottom), as
        :meth:`markov.survival.synthesis.NetworkMetaAnalysis.forest_table` gives them.
    reference : str
        The reference treatment's label, for the axis.
    labels : mapping of treatment to label, optional
        How to name each treatment (its name by default).
    title, footnote : str
        Printed above the axes and under them.
    """
    table = check_table(table, "table", ["treatment", "label", "kind", "hr", "lower", "upper"])
    values = {column: numeric_column(table, "table", column, low=0.0) for column in ("hr", "lower", "upper")}
    rows = text_labels(table, "table", "label")
    unknown = sorted(set(table["kind"]) - set(_KINDS))
    if unknown:
        raise InputError(f"table['kind']: {unknown[0]!r} is not one of {', '.join(_KINDS)}")
    labels = dict(labels or {})
    lines, y = [], 0.0
    positions = []
    for treatment, group in table.groupby("treatment", sort=False):
        header = wrapped(labels.get(treatment, treatment), 36)
        extra = 0.5 * header.count("\n")  # a header on two lines needs half a row more on each side
        lines.append((y - extra, header, True))
        y -= 1 + 2 * extra
        for index in group.index:
            positions.append((index, y))
            lines.append((y, rows[table.index.get_loc(index)], False))
            y -= 1
        y -= 0.4
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 0.3 * len(lines) + 1.6))
        for index, position in positions:
            i = table.index.get_loc(index)
            marker, colour, _ = _KINDS[table["kind"].iloc[i]]
            hr, lower, upper = (values[c][i] for c in ("hr", "lower", "upper"))
            axis.plot([lower, upper], [position, position], color=colour, linewidth=1.3)
            axis.plot([hr], [position], marker=marker, color=colour, markersize=6 if marker == "D" else 5,
                      linestyle="none")
            axis.annotate(f"{hr:.2f} ({lower:.2f} to {upper:.2f})", (1.0, position), xycoords=("axes fraction", "data"),
                          xytext=(6, 0), textcoords="offset points", va="center", fontsize=8.5)
        axis.axvline(1.0, color="0.5", linewidth=0.8, linestyle=(0, (3, 2)))
        axis.set_xscale("log")
        low = min(values["lower"].min(), 0.9) / 1.1
        high = max(values["upper"].max(), 1.1) * 1.1
        axis.set_xlim(low, high)
        ticks = [t for t in (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0) if low <= t <= high]
        axis.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        axis.minorticks_off()
        axis.set_yticks([line[0] for line in lines], labels=[line[1] for line in lines])
        for tick, (_, _, header) in zip(axis.get_yticklabels(), lines, strict=True):
            tick.set_fontweight("bold" if header else "normal")
        axis.tick_params(axis="y", length=0)
        axis.set_ylim(y + 0.6, 0.6)
        for side in ("top", "right", "left"):
            axis.spines[side].set_visible(False)
        axis.grid(axis="x", alpha=0.3)
        set_title(axis, title)
        xlabel = f"Hazard ratio against {reference} (log scale)"
        axis.set_xlabel(xlabel)  # before the layout, which keeps room for it
        kinds = [kind for kind in _KINDS if kind in set(table["kind"])]
        handles = [Line2D([], [], marker=_KINDS[k][0], color=_KINDS[k][1], label=_KINDS[k][2]) for k in kinds]
        arrange(figure, handles=handles, footnote=footnote)
        # the labels and the printed intervals have room of their own; the axes keep the middle
        figure.subplots_adjust(left=0.36, right=0.74)
        axis.set_xlabel(xlabel)  # unwrapped: the axes are wider than the layout thought
    return figure

