"""Value-of-information figures from a probabilistic sensitivity analysis (PSA).

- :func:`plot_evpi`: expected value of perfect information against willingness to pay;
- :func:`plot_evppi`: expected value of partial perfect information by parameter (group).

The functions take plain DataFrames and return a matplotlib Figure; write it with
:func:`markov.plots.save_figure`.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .._validate import InputError, as_float_array, check_count
from .checks import check_table, numeric_column, text_labels
from .style import (
    LABEL_WIDTH,
    PALETTE,
    STYLE,
    WIDTH,
    arrange,
    fit_texts,
    footnote_text,
    mark_thresholds,
    money,
    set_title,
    thousands,
    wrapped,
)

EVPPI_METHODS = {
    "gam": "GAM regression (Strong, Oakley & Brennan 2014)",
    "gp": "Gaussian-process regression (Strong, Oakley & Brennan 2014)",
    "inla": "INLA–SPDE regression (Heath, Manolopoulou & Baio 2016)",
    "nested": "two-level (nested) Monte Carlo",
    "two-level": "two-level (nested) Monte Carlo",
    "constant": "none needed (the parameter does not vary: EVPPI 0)",
}


def plot_evpi(
    evpi: pd.DataFrame,
    *,
    currency: str = "USD",
    effect_unit: str = "QALY",
    population: bool = False,
    thresholds: Mapping[str, float] | None = None,
    title: str = "",
) -> Figure:
    """Expected value of perfect information against willingness to pay.

    Parameters
    ----------
    evpi : DataFrame
        Columns ``wtp`` (``currency`` per ``effect_unit``) and ``evpi`` (``currency``,
        per patient, or for the population if ``population``; non-negative).
    thresholds : mapping of name → WTP, optional
        Vertical dashed lines at named thresholds.
    """
    check_table(evpi, "evpi", ("wtp", "evpi"))
    evpi = evpi.sort_values("wtp")
    wtp = numeric_column(evpi, "evpi", "wtp")
    value = numeric_column(evpi, "evpi", "evpi", low=0.0)
    peak = int(np.argmax(value))
    ylabel = f"Population EVPI ({currency})" if population else f"EVPI per patient ({currency})"
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 4.0))
        axis.plot(wtp, value, color=PALETTE[0], linewidth=1.8)
        axis.plot(wtp[peak], value[peak], "o", color=PALETTE[0], markersize=6, markeredgecolor="black")
        handles = [Line2D([], [], color=PALETTE[0], linewidth=1.8, label="Population EVPI" if population else "EVPI"),
                   Line2D([], [], marker="o", linestyle="", color=PALETTE[0], markeredgecolor="black",
                          label=f"Maximum {money(value[peak], currency)} at "
                                f"{money(wtp[peak], currency)} per {effect_unit}")]
        top = value.max() * 1.08 if value.max() > 0 else 1.0
        axis.set(xlim=(wtp[0], wtp[-1]) if len(wtp) > 1 else None, ylim=(0, top),
                 xlabel=f"Willingness to pay ({currency} per {effect_unit})", ylabel=ylabel)
        thousands(axis.xaxis, axis.yaxis)
        mark_thresholds(axis, thresholds, currency, effect_unit)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3)
    return figure


def _method(name: str) -> str:
    return EVPPI_METHODS.get(str(name).strip().lower(), str(name))


def plot_evppi(
    table: pd.DataFrame,
    *,
    evpi: float | None = None,
    currency: str = "USD",
    wtp_label: str = "",
    population: bool = False,
    title: str = "",
    max_bars: int = 20,
    footnote: str = "",
    if_none: str = "",
) -> Figure:
    """Expected value of partial perfect information, one bar per parameter (group).

    Parameters
    ----------
    table : DataFrame
        Columns ``parameter`` (display label), ``evppi`` (``currency``, non-negative) and
        optionally ``method`` (e.g. "gam", "gp", "inla", "nested" or free text), named
        in a footnote.
    evpi : float, optional
        Overall EVPI at the same WTP: drawn as a reference line; bars are also labelled
        with their share of it.
    wtp_label : str
        The WTP the values are at, e.g. "WTP $150,000 per QALY" (added to the x label).
    population : bool
        Whether the values are for the population rather than per patient.
    max_bars : int
        Most bars shown (largest first); the rest are counted in the footnote.
    footnote : str
        Added to the footnote (e.g. what was left out).
    if_none : str
        What the figure says in place of bars when ``table`` has no rows (e.g. that every
        input's EVPPI is zero); without it, a table without rows is an error.
    """
    if if_none and isinstance(table, pd.DataFrame) and table.empty:
        return _no_bars(if_none, evpi, currency, wtp_label, population, title, footnote)
    check_table(table, "table", ("parameter", "evppi"))
    max_bars = check_count("max_bars", max_bars, 1)
    labels = text_labels(table, "table")
    values = numeric_column(table, "table", "evppi", low=0.0)
    if evpi is not None:
        evpi = float(as_float_array(evpi, "evpi", ndim=(0,)))
        if evpi < 0:
            raise InputError(f"evpi is {evpi!r}: must be non-negative")
    methods = []
    if "method" in table.columns:
        methods = [str(m) for m in dict.fromkeys(table["method"].dropna())]
    order = np.argsort(-values, kind="stable")
    hidden = max(0, len(order) - max_bars)
    order = order[:max_bars]
    shown_labels = [wrapped(labels[i], LABEL_WIDTH) for i in order]
    if len(methods) > 1:  # say which bar used which method
        shown_labels = [f"{text}\n[{table['method'].iloc[i]}]" for text, i in zip(shown_labels, order, strict=True)]
    shown = values[order]
    what = "Population EVPPI" if population else "EVPPI per patient"
    xlabel = f"{what} ({currency})" + (f", {wtp_label}" if wtp_label else "")
    notes = []
    if methods:
        notes.append("EVPPI by " + "; ".join(f"{m}: {_method(m)}" if len(methods) > 1 else _method(m)
                                            for m in methods) + ".")
    if hidden:
        notes.append(f"{hidden} further parameter{'s' if hidden > 1 else ''} with smaller EVPPI not shown.")
    notes.append(footnote)
    with plt.rc_context(STYLE):
        lines = max(text.count("\n") + 1 for text in shown_labels)
        height = 1.8 + max(0.32, 0.15 * lines + 0.06) * max(len(order), 3)
        figure, axis = plt.subplots(figsize=(WIDTH, height))
        y = np.arange(len(order))
        axis.barh(y, shown, color=PALETTE[0], height=0.65, zorder=2)
        right = max(shown.max(), evpi or 0.0) or 1.0
        texts = [axis.annotate(money(v, currency) + (f" ({v / evpi:.0%} of EVPI)" if evpi else ""), (v, yi),
                               xytext=(3, 0), textcoords="offset points", va="center", ha="left", fontsize=8)
                 for yi, v in zip(y, shown, strict=True)]
        handles = []
        if evpi is not None:
            axis.axvline(evpi, color=PALETTE[1], linestyle="--", linewidth=1.5, zorder=3)
            handles.append(Line2D([], [], color=PALETTE[1], linestyle="--", linewidth=1.5,
                                  label=f"EVPI (all parameters): {money(evpi, currency)}"))
        axis.set(yticks=y, yticklabels=shown_labels, ylim=(len(order) - 0.5, -0.5), xlim=(0, right * 1.05),
                 xlabel=xlabel)
        thousands(axis.xaxis)
        axis.grid(axis="x", alpha=0.3, zorder=0)
        set_title(axis, title)
        arrange(figure, handles=handles, footnote=footnote_text(*notes))
        fit_texts(figure, axis, texts)
    return figure


def _no_bars(text: str, evpi: float | None, currency: str, wtp_label: str, population: bool, title: str,
             footnote: str) -> Figure:
    """The EVPPI figure without bars: ``text`` where they would be, beside the EVPI."""
    what = "Population EVPPI" if population else "EVPPI per patient"
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 2.8))
        handles = []
        if evpi is not None:
            evpi = float(as_float_array(evpi, "evpi", ndim=(0,)))
            axis.axvline(evpi, color=PALETTE[1], linestyle="--", linewidth=1.5)
            handles.append(Line2D([], [], color=PALETTE[1], linestyle="--", linewidth=1.5,
                                  label=f"EVPI (all parameters): {money(evpi, currency)}"))
        axis.text(0.5, 0.5, text, transform=axis.transAxes, ha="center", va="center", fontsize=10,
                  bbox={"boxstyle": "round,pad=0.6", "facecolor": "white", "edgecolor": "0.6"})
        axis.set(yticks=[], xlim=(0, 1.1 * evpi if evpi else 1.0),
                 xlabel=f"{what} ({currency})" + (f", {wtp_label}" if wtp_label else ""))
        thousands(axis.xaxis)
        axis.grid(axis="x", alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, footnote=footnote_text(footnote))
    return figure
