"""Cost-effectiveness figures from a probabilistic sensitivity analysis (PSA).

- :func:`plot_ce_plane`: PSA samples of incremental cost and effect against a comparator,
  with their means and a willingness-to-pay (WTP) line;
- :func:`plot_acceptability`: cost-effectiveness acceptability curves (CEAC), optionally
  with the acceptability frontier (CEAF);
- :func:`plot_convergence`: running means of a PSA outcome with their Monte Carlo band.

Each takes an optional ``colours`` mapping; give every figure of a population the same
one (:func:`markov.plots.style.strategy_colours` of all its strategies) so that a
strategy has one colour throughout. The functions take plain data (mappings, arrays,
DataFrames) and return a matplotlib Figure; write it with :func:`markov.plots.save_figure`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from .._validate import InputError, as_float_array
from .checks import TOLERANCE, check_table, numeric_column
from .style import STYLE, WIDTH, arrange, mark_thresholds, money, set_title, strategy_colours, thousands


def plot_ce_plane(
    incremental_costs: Mapping[str, ArrayLike],
    incremental_effects: Mapping[str, ArrayLike],
    *,
    comparator: str,
    wtp: float | Sequence[float] | None = None,
    currency: str = "USD",
    effect_unit: str = "QALYs",
    title: str = "",
    colours: Mapping[str, str] | None = None,
    means: Mapping[str, tuple[float, float]] | None = None,
) -> Figure:
    """Cost-effectiveness plane: PSA samples of each strategy against ``comparator``.

    Parameters
    ----------
    incremental_costs, incremental_effects : mapping of strategy label → array (n_samples,)
        Per PSA sample, the strategy's cost and effect minus the comparator's (same
        keys in both; the two arrays of a strategy have the same length). A key equal to
        ``comparator`` is skipped (it is the origin).
    comparator : str
        Label of the comparator, named in the x axis label.
    wtp : float or sequence of float, optional
        Willingness to pay per unit of effect (each of the analysis's thresholds); draws
        the line ΔC = wtp · ΔE of each, in its own dash pattern.
    currency, effect_unit : str
        Used in axis labels, e.g. "Incremental cost (USD)", "Incremental QALYs vs BSC".
    colours : mapping of strategy label → colour, optional
        E.g. :func:`~markov.plots.style.strategy_colours` of all the population's
        strategies, comparator included, passed to its CEAC too so that each strategy
        has one colour in both; default: Okabe–Ito in the order of the keys (the
        comparator's key, if present, keeps its colour unused).
    means : mapping of strategy label → (incremental effect, incremental cost), optional
        The mean of every sample when only some are drawn (a large PSA); default: the
        mean of the samples given.

    The samples are small semi-transparent points, rasterized so that SVG and PDF stay
    small with 10,000 samples per strategy; each strategy's mean is a large marker.
    """
    if not isinstance(incremental_costs, Mapping) or not isinstance(incremental_effects, Mapping):
        raise InputError("incremental_costs, incremental_effects: must be mappings of strategy label → samples")
    if set(incremental_costs) != set(incremental_effects):
        differ = sorted(set(incremental_costs) ^ set(incremental_effects), key=str)
        raise InputError(f"incremental_costs and incremental_effects: strategies {differ} are in only one "
                         "of them; both must have the same keys")
    labels = [label for label in incremental_costs if label != comparator]
    if not labels:
        raise InputError(f"incremental_costs: has no strategy other than the comparator {comparator!r}")
    data = {}
    for label in labels:
        cost = as_float_array(incremental_costs[label], f"incremental_costs[{label!r}]", ndim=(1,))
        effect = as_float_array(incremental_effects[label], f"incremental_effects[{label!r}]", ndim=(1,))
        if cost.shape != effect.shape or cost.size == 0:
            raise InputError(f"incremental_costs[{label!r}] has {cost.size} samples and incremental_effects"
                             f"[{label!r}] {effect.size}: need the same number, at least one")
        data[label] = (effect, cost)
    lines = [] if wtp is None else sorted(float(v) for v in as_float_array(wtp, "wtp", ndim=(0, 1)).ravel())
    palette = strategy_colours(list(incremental_costs), colours)  # a comparator key keeps its colour, as in the CEAC
    n = max(effect.size for effect, _ in data.values())
    alpha = float(np.clip(20 / np.sqrt(n), 0.1, 0.6))  # 0.2 at 10,000 samples
    size = 3 if n > 5000 else 6
    unit = _singular(effect_unit)
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 5.0))
        handles = []
        # one scatter in a fixed shuffled order, so no strategy's cloud hides another's
        points = np.concatenate([np.column_stack(pair) for pair in data.values()])
        colour = np.concatenate([np.tile(to_rgba(palette[label], alpha), (effect.size, 1))
                                 for label, (effect, _) in data.items()])
        shuffle = np.random.default_rng(0).permutation(len(points))
        axis.scatter(points[shuffle, 0], points[shuffle, 1], s=size, c=colour[shuffle], linewidths=0,
                     rasterized=True, zorder=2)
        for label in data:
            handles.append(Line2D([], [], marker="o", linestyle="", color=palette[label], markersize=6,
                                  label=label))
        for label, (effect, cost) in data.items():
            mean_effect, mean_cost = (effect.mean(), cost.mean()) if means is None else means[label]
            axis.scatter(mean_effect, mean_cost, s=70, marker="D", color=palette[label], edgecolors="black",
                         linewidths=1.2, zorder=4)
        mean_label = "Mean of PSA samples" if means is None else "Mean of all PSA samples"
        handles.append(Line2D([], [], marker="D", linestyle="", markerfacecolor="white", markeredgecolor="black",
                              markersize=7, label=mean_label))
        # limits from the data (and the origin), so the WTP line never rescales the plot
        effects = np.concatenate([e for e, _ in data.values()] + [[0.0]])
        costs = np.concatenate([c for _, c in data.values()] + [[0.0]])
        xlim, ylim = (_padded(effects), _padded(costs))
        axis.axhline(0, color="0.4", linewidth=0.8, zorder=1)
        axis.axvline(0, color="0.4", linewidth=0.8, zorder=1)
        for value, dashes in zip(lines, _DASHES * len(lines)):
            axis.plot(xlim, [value * xlim[0], value * xlim[1]], color="0.15", linestyle=dashes, linewidth=1.3,
                      zorder=3)
            handles.append(Line2D([], [], color="0.15", linestyle=dashes, linewidth=1.3,
                                  label=f"WTP {money(value, currency)} per {unit}"))
        axis.set(xlim=xlim, ylim=ylim, xlabel=f"Incremental {effect_unit} vs {comparator}",
                 ylabel=f"Incremental cost ({currency})")
        thousands(axis.xaxis, axis.yaxis)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3)
    return figure


#: Dash patterns of the WTP lines, lowest threshold first.
_DASHES = ("--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)))


def _singular(unit: str) -> str:
    """``QALYs`` → ``QALY`` for "per QALY" phrases."""
    return unit[:-1] if unit.endswith("s") and len(unit) > 1 else unit


def _padded(values: np.ndarray, fraction: float = 0.05) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    span = high - low or max(abs(high), 1.0)
    return low - fraction * span, high + fraction * span


def _wtp_index(ceac: pd.DataFrame) -> np.ndarray:
    try:
        wtp = np.asarray(pd.to_numeric(ceac.index), dtype=float)
    except (TypeError, ValueError) as error:
        raise InputError(f"ceac.index: must hold the willingness-to-pay values as numbers ({error})") from None
    if not np.isfinite(wtp).all() or len(np.unique(wtp)) != len(wtp):
        raise InputError("ceac.index: willingness-to-pay values must be finite and distinct")
    return wtp


def plot_acceptability(
    ceac: pd.DataFrame,
    frontier: pd.DataFrame | None = None,
    *,
    currency: str = "USD",
    effect_unit: str = "QALY",
    thresholds: Mapping[str, float] | None = None,
    title: str = "",
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Cost-effectiveness acceptability curves, with the frontier when given.

    Parameters
    ----------
    ceac : DataFrame
        Index: willingness-to-pay values (``currency`` per ``effect_unit``); one column
        per strategy (the column name is its label); values: probability that the
        strategy has the highest net benefit, in [0, 1].
    frontier : DataFrame, optional
        The acceptability frontier (CEAF): columns ``wtp``, ``strategy`` (a column label
        of ``ceac``: the strategy with the highest expected net benefit) and
        ``probability_cost_effective``. Drawn as a wide band in the optimal strategy's
        colour under the curves, with dotted lines where the optimal strategy changes.
    thresholds : mapping of name → WTP, optional
        Vertical dashed lines, e.g. ``{"NICE upper": 30_000}``.
    colours : mapping of strategy label → colour, optional
        The mapping given to the population's other figures; default: Okabe–Ito in
        column order.
    """
    if not isinstance(ceac, pd.DataFrame):
        raise InputError(f"ceac: is a {type(ceac).__name__}, expected a DataFrame (index WTP, a column per strategy)")
    if ceac.empty or ceac.shape[1] == 0:
        raise InputError(f"ceac: has shape {ceac.shape}; expected at least one WTP row and one strategy column")
    wtp = _wtp_index(ceac)
    order = np.argsort(wtp)
    wtp = wtp[order]
    ceac = ceac.iloc[order]
    strategies = [str(c) for c in ceac.columns]
    curves = {s: numeric_column(ceac, "ceac", c, low=0.0, high=1.0)
              for s, c in zip(strategies, ceac.columns, strict=True)}
    runs = []
    if frontier is not None:
        check_table(frontier, "frontier", ("wtp", "strategy", "probability_cost_effective"))
        frontier = frontier.sort_values("wtp")
        f_wtp = numeric_column(frontier, "frontier", "wtp")
        f_prob = numeric_column(frontier, "frontier", "probability_cost_effective", low=0.0, high=1.0)
        f_strategy = [str(s) for s in frontier["strategy"]]
        unknown = sorted(set(f_strategy) - set(strategies))
        if unknown:
            raise InputError(f"frontier['strategy']: {unknown} are not columns of ceac {strategies}")
        start = 0
        for i in range(1, len(f_strategy) + 1):  # contiguous runs of the same optimal strategy
            if i == len(f_strategy) or f_strategy[i] != f_strategy[start]:
                runs.append((f_strategy[start], f_wtp[start:i], f_prob[start:i]))
                start = i
    palette = strategy_colours(strategies, colours)
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 4.6))
        handles = []
        for strategy in strategies:
            axis.plot(wtp, curves[strategy], color=palette[strategy], linewidth=1.6, zorder=3)
            handles.append(Line2D([], [], color=palette[strategy], linewidth=1.6, label=strategy))
        if runs:
            for strategy, x, y in runs:
                axis.plot(x, y, color=palette[strategy], linewidth=8, alpha=0.35, solid_capstyle="butt",
                          marker="o" if len(x) == 1 else None, markersize=8, zorder=2)
            handles.append(Line2D([], [], color="0.45", linewidth=8, alpha=0.35,
                                  label="Frontier (CEAF), in the optimal strategy's colour"))
            for (_, before, _), (_, after, _) in pairwise(runs):
                axis.axvline((before[-1] + after[0]) / 2, color="0.2", linestyle=":", linewidth=1.2, zorder=1)
            if len(runs) > 1:
                handles.append(Line2D([], [], color="0.2", linestyle=":", linewidth=1.2,
                                      label="Change of optimal strategy"))
        axis.set(xlim=(wtp[0], wtp[-1]) if len(wtp) > 1 else None, ylim=(-0.02, 1.02),
                 xlabel=f"Willingness to pay ({currency} per {effect_unit})", ylabel="Probability cost-effective")
        thousands(axis.xaxis)
        mark_thresholds(axis, thresholds, currency, effect_unit)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3)
    return figure


def plot_convergence(
    table: pd.DataFrame,
    *,
    ylabel: str,
    title: str = "",
    band_label: str = "95% Monte Carlo interval",
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Running mean of a PSA outcome against the number of samples, with its band.

    Parameters
    ----------
    table : DataFrame
        Long format, columns ``n`` (number of PSA samples so far, positive),
        ``comparison`` (label, e.g. "Drug A vs BSC"), ``mean``, ``lower`` and ``upper``
        (the band around the running mean, e.g. its 95% Monte Carlo interval);
        lower ≤ mean ≤ upper.
    ylabel : str
        What ``mean`` is, with units, e.g. "Incremental NMB (USD)".
    band_label : str
        Legend text for the shaded band.
    colours : mapping of comparison label → colour, optional
        The mapping given to the population's other figures when comparisons are
        labelled by strategy; default: Okabe–Ito in order of appearance.
    """
    check_table(table, "table", ("n", "comparison", "mean", "lower", "upper"))
    n = numeric_column(table, "table", "n", low=1)
    mean, lower, upper = (numeric_column(table, "table", c) for c in ("mean", "lower", "upper"))
    outside = (lower > mean + TOLERANCE * np.abs(mean)) | (mean > upper + TOLERANCE * np.abs(mean))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(f"table row {i}: lower {lower[i]!r}, mean {mean[i]!r}, upper {upper[i]!r}: "
                         "need lower <= mean <= upper")
    comparisons = [str(c) for c in dict.fromkeys(table["comparison"])]
    palette = strategy_colours(comparisons, colours)
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 4.0))
        handles = []
        labels = table["comparison"].astype(str).to_numpy()
        for comparison in comparisons:
            keep = labels == comparison
            order = np.argsort(n[keep])
            x = n[keep][order]
            colour = palette[comparison]
            axis.fill_between(x, lower[keep][order], upper[keep][order], color=colour, alpha=0.2, linewidth=0)
            axis.plot(x, mean[keep][order], color=colour, linewidth=1.5)
            handles.append(Line2D([], [], color=colour, linewidth=1.5, label=comparison))
        if lower.min() < 0 < upper.max():
            axis.axhline(0, color="0.4", linewidth=0.8)
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="0.5", alpha=0.3, label=f"Shaded: {band_label}"))
        axis.set(xlim=(0, n.max()), xlabel="Number of PSA samples",
                 ylabel=ylabel)
        thousands(axis.xaxis, axis.yaxis)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3)
    return figure
