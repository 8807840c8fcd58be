"""Figures of a search over treatment sequences (:mod:`markov.decision.sequences` tables in).

- :func:`plot_sequence_frontier`: every sequence and usual-care strategy on the
  cost-effectiveness plane (mean QALYs, mean cost), coloured by first line, with the
  efficient frontier through the non-dominated ones, each named;
- :func:`plot_optimal_sequence`: the probability that each of the top sequences is the
  best (others summed) by willingness to pay, with the optimal sequence's band (CEAF).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validate import InputError
from .checks import check_table
from .cost_effectiveness import _DASHES, _padded, _singular, plot_acceptability
from .style import STYLE, WIDTH, arrange, footnote_text, money, set_title, strategy_colours, thousands

#: Marker of each role of a strategy in a search.
MARKERS = {"sequence": "o", "usual care": "D"}


def plot_sequence_frontier(table: pd.DataFrame, *, currency: str = "USD", effect_unit: str = "QALYs",
                           wtp: Sequence[float] = (), title: str = "", note: str = "") -> Figure:
    """Cost-effectiveness plane of a search's strategies.

    Parameters
    ----------
    table : DataFrame
        One row per strategy with ``label``, ``role`` (``sequence`` or ``usual care``),
        ``first_line`` (label of its first line, which sets the colour), ``cost``,
        ``qalys``, ``status`` (from the incremental analysis: ``reference`` and
        ``frontier`` rows form the frontier) and ``icer``.
    wtp : sequence of float
        Willingness-to-pay thresholds: a line of each slope through the first strategy of
        the frontier (a strategy below it is cost-effective against that one at it).

    The frontier's strategies are numbered on the plane and named, with their ICERs, in
    a key under it, so that the axes span the strategies and no more.
    """
    check_table(table, "table", ("label", "role", "first_line", "cost", "qalys", "status", "icer"))
    if table.empty:
        raise InputError("table: no strategies to plot")
    palette = strategy_colours(list(dict.fromkeys(table["first_line"])))
    on = table[table["status"].isin(["reference", "frontier"])].sort_values("qalys")
    unit = _singular(effect_unit)
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 5.2))
        axis.plot(on["qalys"], on["cost"], color="0.25", linewidth=1.2, zorder=2)
        for row in table.itertuples():
            frontier = row.status in ("reference", "frontier")
            axis.scatter(row.qalys, row.cost, s=60 if frontier else 30, marker=MARKERS.get(row.role, "o"),
                         color=palette[row.first_line], edgecolor="0.1" if frontier else "none", zorder=3)
        key = []
        for number, row in enumerate(on.itertuples(), start=1):
            axis.annotate(str(number), (row.qalys, row.cost), xytext=(5, -11), textcoords="offset points",
                          fontsize=8, fontweight="bold", zorder=4)
            icer = "reference" if pd.isna(row.icer) else f"ICER {money(row.icer, currency)}/{unit}"
            key.append(f"{number}. {row.label} ({icer})")
        xlim, ylim = _padded(table["qalys"]), _padded(table["cost"])
        handles = [Line2D([], [], linestyle="", marker="o", color=colour, label=f"First line {name}")
                   for name, colour in palette.items()]
        handles += [Line2D([], [], linestyle="", marker=marker, color="0.5", label=role.capitalize())
                    for role, marker in MARKERS.items() if role in set(table["role"])]
        handles.append(Line2D([], [], color="0.25", marker="o", markeredgecolor="0.1", label="Efficient frontier"))
        if len(on):
            start = on.iloc[0]
            for value, dashes in zip(sorted(wtp), _DASHES * len(wtp)):
                axis.plot(xlim, [start["cost"] + value * (x - start["qalys"]) for x in xlim], color="0.45",
                          linestyle=dashes, linewidth=1.0, zorder=1)
                handles.append(Line2D([], [], color="0.45", linestyle=dashes, linewidth=1.0,
                                      label=f"{money(value, currency)}/{unit} from 1"))
        axis.set(xlim=xlim, ylim=ylim, xlabel=f"Mean {effect_unit} per patient (discounted)",
                 ylabel=f"Mean cost per patient ({currency}, discounted)")
        thousands(axis.yaxis)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3, footnote=footnote_text(*key, note))
    return figure


def plot_optimal_sequence(probabilities: pd.DataFrame, optimal: pd.DataFrame, *, currency: str = "USD",
                          thresholds: Mapping[str, float] | None = None, title: str = "") -> Figure:
    """Which sequence is best at each willingness to pay.

    Parameters
    ----------
    probabilities : DataFrame
        Index: willingness to pay; one column per sequence (named by its label) and
        possibly one for the others: the probability each is the best.
    optimal : DataFrame
        ``wtp``, ``strategy`` (a column of ``probabilities``: the sequence with the
        largest expected net benefit) and ``probability_cost_effective``.
    """
    return plot_acceptability(probabilities, optimal, currency=currency, thresholds=thresholds, title=title)
