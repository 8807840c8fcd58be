"""Figures of a search over treatment sequences (:mod:`markov.decision.sequences` tables in).

- :func:`plot_sequence_frontier`: every sequence and usual-care strategy on the
  cost-effectiveness plane (mean QALYs, mean cost), coloured by first line, with the
  efficient frontier through the non-dominated ones, each named;
- :func:`plot_optimal_sequence`: the probability that each of the top sequences is the
  best (others summed) by willingness to pay, with the optimal sequence's band (CEAF).
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validate import InputError
from .checks import check_table
from .cost_effectiveness import plot_acceptability
from .style import STYLE, WIDTH, arrange, fit_texts, money, set_title, strategy_colours, thousands

#: Marker of each role of a strategy in a search.
MARKERS = {"sequence": "o", "usual care": "D"}


def plot_sequence_frontier(table: pd.DataFrame, *, currency: str = "USD", effect_unit: str = "QALYs",
                           title: str = "", note: str = "") -> Figure:
    """Cost-effectiveness plane of a search's strategies.

    Parameters
    ----------
    table : DataFrame
        One row per strategy with ``label``, ``role`` (``sequence`` or ``usual care``),
        ``first_line`` (label of its first line, which sets the colour), ``cost``,
        ``qalys``, ``status`` (from the incremental analysis: ``reference`` and
        ``frontier`` rows form the frontier) and ``icer``.
    """
    check_table(table, "table", ("label", "role", "first_line", "cost", "qalys", "status", "icer"))
    if table.empty:
        raise InputError("table: no strategies to plot")
    palette = strategy_colours(list(dict.fromkeys(table["first_line"])))
    on = table[table["status"].isin(["reference", "frontier"])].sort_values("qalys")
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 5.2))
        axis.plot(on["qalys"], on["cost"], color="0.25", linewidth=1.2, zorder=2)
        for row in table.itertuples():
            frontier = row.status in ("reference", "frontier")
            axis.scatter(row.qalys, row.cost, s=60 if frontier else 30, marker=MARKERS.get(row.role, "o"),
                         color=palette[row.first_line], edgecolor="0.1" if frontier else "none", zorder=3)
        texts = []
        for number, row in enumerate(on.itertuples(), start=1):
            icer = "" if pd.isna(row.icer) else f" (ICER {money(row.icer, currency)}/QALY)"
            texts.append(axis.annotate(f"{number}. {row.label}{icer}", (row.qalys, row.cost), xytext=(6, -10),
                                       textcoords="offset points", fontsize=7.5, zorder=4))
        axis.set(xlabel=f"Mean {effect_unit} per patient (discounted)",
                 ylabel=f"Mean cost per patient ({currency}, discounted)")
        thousands(axis.yaxis)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        fit_texts(figure, axis, texts)
        handles = [Line2D([], [], linestyle="", marker="o", color=colour, label=f"First line {name}")
                   for name, colour in palette.items()]
        handles += [Line2D([], [], linestyle="", marker=marker, color="0.5", label=role.capitalize())
                    for role, marker in MARKERS.items() if role in set(table["role"])]
        handles.append(Line2D([], [], color="0.25", marker="o", markeredgecolor="0.1", label="Efficient frontier"))
        arrange(figure, handles=handles, ncol=3, footnote=note)
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
