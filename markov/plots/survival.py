"""Survival-analysis figures that NICE DSU TSD 14 and 21 ask for.

- :func:`plot_extrapolation`: Kaplan–Meier with its confidence band, censoring marks
  and numbers at risk, under fitted curves extrapolated to the model horizon, with
  survival reported later (external validation) as points;
- :func:`plot_hazards`: kernel-smoothed observed hazard beside the fitted hazards;
- :func:`plot_log_cumulative_hazard`: log(−log S) against log time per arm — parallel
  lines support proportional hazards, crossing lines contradict it.

Each returns the matplotlib Figure; :func:`markov.plots.save_figure` writes PNG plus vector formats.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import cycle

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..survival import KaplanMeier, SurvivalCurve, smoothed_hazard
from .style import STYLE

OBSERVED_COLOUR = "0.15"
#: With more legend entries than this, the legend goes beside the axes, where it hides no data.
LEGEND_INSIDE_MAX = 8


def _style(styles: Mapping[str, Mapping] | None, label: str, i: int) -> dict:
    """Line properties of curve ``label`` (the ``i``-th): its entry in ``styles`` over the default."""
    return {"color": f"C{i}", "linewidth": 1.4, **((styles or {}).get(label, {}))}


def _legend(figure: plt.Figure, axis: plt.Axes, loc: str) -> None:
    """The legend at ``loc`` inside the axes, or beside them when it is long."""
    if len(axis.get_legend_handles_labels()[1]) <= LEGEND_INSIDE_MAX:
        axis.legend(loc=loc, frameon=False)
        return
    figure.subplots_adjust(right=0.68)
    axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)


def _interval(value: pd.Series, low: pd.Series, high: pd.Series) -> np.ndarray:
    """Error-bar lengths below and above each value (0 where no interval is given)."""
    return np.nan_to_num(np.vstack([value - low, high - value]).astype(float))


def _step(km: KaplanMeier, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step-function coordinates starting at (0, 1)."""
    return np.concatenate([[0.0], km.times]), np.concatenate([[1.0], values])


#: Steps between the ticks of a time axis in months: parts and multiples of a year.
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600)


def _time_ticks(end: float, unit: str, most: int = 8) -> list[float]:
    """Ticks of a time axis from 0 to ``end``, at most ``most`` steps apart: months by
    parts or multiples of a year (3, 6, 12, 24, 60 …), other units by 1, 2, 5, 10 …"""
    if unit == "months" and end <= MONTH_STEPS[-1] * most:
        step = next(s for s in MONTH_STEPS if s * most >= end)
        return [float(t) for t in np.arange(0.0, end * (1 + 1e-9), step)]
    return [float(t) for t in MaxNLocator(nbins=most).tick_values(0, end) if 0 <= t <= end * (1 + 1e-9)]


def plot_extrapolation(
    kaplan_meier: KaplanMeier,
    curves: Mapping[str, SurvivalCurve],
    *,
    horizon: float,
    title: str = "",
    level: float = 0.95,
    risk_times: Sequence[float] | None = None,
    observed_label: str = "Kaplan–Meier",
    styles: Mapping[str, Mapping] | None = None,
    reported: pd.DataFrame | None = None,
) -> plt.Figure:
    """Fitted curves over the Kaplan–Meier estimate, extrapolated to ``horizon``.

    Parameters
    ----------
    kaplan_meier : KaplanMeier
        The observed data (or a reconstruction from a published curve).
    curves : mapping of label → SurvivalCurve
        Fitted or calibrated curves in the Kaplan–Meier's time unit; a curve with
        several samples is drawn as its first sample with the 95% range of the others
        shaded (e.g. PSA draws from :meth:`FitResult.sample`).
    horizon : float
        End of the time axis, in the Kaplan–Meier's time unit.
    level : float
        Level of the Kaplan–Meier confidence band (log-log).
    risk_times : sequence of float, optional
        Where to print numbers at risk; default: the major ticks within follow-up.
    styles : mapping of label → line properties, optional
        Colour, line style, width … of some curves (default: the colour cycle, width 1.4).
    reported : DataFrame, optional
        Survival reported from data the curves did not see (external validation), as points
        with their 95% CIs: columns ``label``, ``time``, ``survival``, ``time_low`` and
        ``time_high`` (the interval of a median, at S = 0.5), ``survival_low`` and
        ``survival_high`` (that of a landmark); NaN where there is none.
    """
    unit = kaplan_meier.time_unit
    with plt.rc_context(STYLE):
        ticks = _time_ticks(horizon, unit)
        if risk_times is None:  # under the ticks, so that each number reads against its time
            risk_times = [tick for tick in ticks if 0 <= tick <= kaplan_meier.times[-1]]
        if len(risk_times) > 1:
            figure, (axis, table) = plt.subplots(2, 1, figsize=(6.3, 4.8), sharex=True,
                                                 gridspec_kw={"height_ratios": [5, 1], "hspace": 0.08})
        else:  # a row of one number (follow-up short beside the axis) says nothing: no row
            figure, axis = plt.subplots(figsize=(6.3, 4.2))
            table = None
        lower, upper = kaplan_meier.confidence_band(level)
        x, y = _step(kaplan_meier, kaplan_meier.survival)
        axis.step(x, y, where="post", color=OBSERVED_COLOUR, linewidth=1.6, label=observed_label, zorder=3)
        axis.fill_between(x, _step(kaplan_meier, lower)[1], _step(kaplan_meier, upper)[1], step="post",
                          color=OBSERVED_COLOUR, alpha=0.15, linewidth=0, label=f"{level:.0%} CI (log-log)")
        censored = kaplan_meier.n_censored > 0
        axis.plot(kaplan_meier.times[censored], kaplan_meier.survival[censored], "|", color=OBSERVED_COLOUR,
                  markersize=5, label="Censored")
        grid = np.linspace(0.0, horizon, 400)
        for i, (label, curve) in enumerate(curves.items()):
            values = curve.survival(grid)
            style = _style(styles, label, i)
            axis.plot(grid, values[0], label=label, **style)
            if curve.n_samples > 1:
                low, high = np.quantile(values, [0.025, 0.975], axis=0)
                axis.fill_between(grid, low, high, color=style["color"], alpha=0.15, linewidth=0)
        groups = reported.groupby("label", sort=False) if reported is not None else []
        for marker, (label, points) in zip(cycle("DsPX^v"), groups):
            axis.errorbar(points["time"], points["survival"], color="black", marker=marker, markersize=5,
                          markerfacecolor="white", linestyle="none", capsize=3, zorder=5, label=label,
                          xerr=_interval(points["time"], points["time_low"], points["time_high"]),
                          yerr=_interval(points["survival"], points["survival_low"], points["survival_high"]))
        axis.axvline(kaplan_meier.times[-1], color="0.6", linestyle=":", linewidth=1)
        axis.set(ylim=(0, 1.02), xlim=(0, horizon), ylabel="Proportion surviving", title=title)
        _legend(figure, axis, "upper right")
        axis.grid(alpha=0.3)
        bottom = axis if table is None else table
        bottom.set_xticks(ticks, labels=[f"{tick:g}" for tick in ticks])
        bottom.set(xlim=(0, horizon), xlabel=f"Time ({unit})")
        if table is not None:
            for t, n in zip(risk_times, kaplan_meier.n_at_risk_at(risk_times)):
                table.text(t, 0.3, f"{int(n)}", ha="center", va="center", fontsize=9)
            # above the numbers, so that it never runs into the first of them
            table.text(0.0, 0.95, "Number at risk", transform=table.transAxes, ha="left", va="top", fontsize=9)
            table.set(yticks=[], ylim=(0, 1))
            for side in ("top", "right", "left"):
                table.spines[side].set_visible(False)
    return figure


def plot_hazards(
    time, event, curves: Mapping[str, SurvivalCurve], *, time_unit: str, horizon: float,
    bandwidth: float | None = None, title: str = "", styles: Mapping[str, Mapping] | None = None,
) -> plt.Figure:
    """Kernel-smoothed observed hazard (Epanechnikov, boundary-corrected) with fitted hazards.

    ``bandwidth`` defaults to a fifth of the follow-up, a common starting point; the
    hazard is per unit of ``time_unit``. ``styles`` as in :func:`plot_extrapolation`.
    """
    time = np.asarray(time, dtype=float)
    follow_up = float(time.max())
    bandwidth = follow_up / 5 if bandwidth is None else bandwidth
    observed_grid = np.linspace(0.0, follow_up, 300)
    observed = smoothed_hazard(time, event, observed_grid, bandwidth)
    grid = np.linspace(horizon / 400, horizon, 400)
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(6.3, 4.0))
        axis.plot(observed_grid, observed, color=OBSERVED_COLOUR, linewidth=1.6,
                  label=f"Observed (smoothed, bandwidth {bandwidth:.3g} {time_unit})")
        for i, (label, curve) in enumerate(curves.items()):
            axis.plot(grid, curve.hazard(grid)[0], label=label, **_style(styles, label, i))
        axis.axvline(follow_up, color="0.6", linestyle=":", linewidth=1)
        top = np.nanmax(observed) * 2.5 if np.isfinite(np.nanmax(observed)) else None
        axis.set(xlim=(0, horizon), ylim=(0, top), xlabel=f"Time ({time_unit})",
                 ylabel=f"Hazard (events per patient-{time_unit[:-1]})", title=title)
        _legend(figure, axis, "best")
        axis.grid(alpha=0.3)
    return figure


def plot_log_cumulative_hazard(arms: Mapping[str, KaplanMeier], *, title: str = "") -> plt.Figure:
    """log(−log S(t)) against log t for each arm's Kaplan–Meier estimate.

    Under proportional hazards the lines are parallel (vertical distance log HR); a
    straight line indicates a Weibull, with slope the Weibull shape.
    """
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(6.3, 4.0))
        units = set()
        for i, (label, km) in enumerate(arms.items()):
            keep = (km.survival > 0) & (km.survival < 1)
            axis.step(km.times[keep], np.log(-np.log(km.survival[keep])), where="post", color=f"C{i}",
                      linewidth=1.4, label=label)
            units.add(km.time_unit)
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1 and 10, not 1.0 and 10.0
        axis.set(xlabel=f"Time ({', '.join(sorted(units))}, log scale)", ylabel="log(−log S(t))", title=title)
        axis.legend(frameon=False)
        axis.grid(alpha=0.3, which="both")
    return figure
