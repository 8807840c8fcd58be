"""Model figures: the calibration check and state occupancy, one panel per strategy."""
from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from .style import STYLE

#: States with a colour of their own; every other state takes its line's colour family.
STATE_COLOURS = {"best_supportive_care": "#d98c3f", "dead": "#d9d9d9"}
#: Colour families of lines in order of appearance (first line greens, second purples …).
LINE_COLOUR_MAPS = ("Greens", "Purples", "Blues", "Reds", "YlOrBr", "Greys")
_LINE = re.compile(r"^(?P<line>[a-z]+_line|line_\d+)(?:_(?P<rest>.*))?$")
_TREATMENT = re.compile(r"^(?P<rest>.*?)_?(?P<phase>on_treatment|off_treatment)$")


def _line_of(name: str) -> str:
    """The line a state belongs to (``second_line`` for ``second_line_lenvatinib``), or the
    state itself when it is not a line's (a Markov state, ``progressed``)."""
    match = _LINE.match(name)
    return match.group("line") if match else name


def state_colours(names: Sequence[str]) -> dict[str, str]:
    """A colour per state: the states of one line in shades of one family, so that options
    and on/off treatment read as parts of their line; other states from a qualitative
    palette; best supportive care orange and dead grey in every figure."""
    palette: dict[str, str] = {}
    families: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        if name not in STATE_COLOURS:
            families.setdefault(_line_of(name), []).append(name)
    lines = [family for family in families if _LINE.match(family)]
    others = iter(plt.get_cmap("Set2").colors)
    for family, members in families.items():
        if family in lines:
            cmap = plt.get_cmap(LINE_COLOUR_MAPS[lines.index(family) % len(LINE_COLOUR_MAPS)])
            shades = np.linspace(0.75, 0.4, len(members)) if len(members) > 1 else [0.6]
            palette.update({name: to_hex(cmap(shade)) for name, shade in zip(members, shades, strict=True)})
        else:
            palette.update({name: to_hex(next(others)) for name in members})
    return {name: STATE_COLOURS.get(name) or palette[name] for name in dict.fromkeys(names)}


def _title(figure: plt.Figure, text: str) -> None:
    figure.suptitle("\n".join(textwrap.wrap(text, 70)))


def _state_label(name: str) -> str:
    """``second_line_lenvatinib_on_treatment`` -> "Second line: lenvatinib, on treatment"."""
    phase = _TREATMENT.match(name)
    base, suffix = (phase.group("rest"), f", {phase.group('phase').replace('_', ' ')}") if phase else (name, "")
    line = _LINE.match(base)
    if line is None:
        return base.replace("_", " ").capitalize() + suffix
    text = line.group("line").replace("_", " ").capitalize()
    return text + (f": {line.group('rest').replace('_', ' ')}" if line.group("rest") else "") + suffix


def _horizon(times_months: np.ndarray, dead: Sequence[np.ndarray]) -> float:
    """Months to show: until 99% of every cohort has died (rounded up to a year), or all."""
    reached = [times_months[np.argmax(d >= 0.99)] if (d >= 0.99).any() else times_months[-1] for d in dead]
    return float(min(times_months[-1], 12.0 * np.ceil(max(reached) / 12.0)))


def _panels(n: int, width: float = 6.3) -> tuple[plt.Figure, np.ndarray]:
    columns = min(n, 2)
    rows = math.ceil(n / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width, 2.6 * rows + 0.6), squeeze=False,
                                sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat[n:], start=n):
        ax.set_visible(False)
        above = axes.flat[i - columns]  # now the bottom of its column: give it the x axis
        above.xaxis.set_tick_params(labelbottom=True)
    return figure, axes


def _label_x(axes: np.ndarray, n: int, text: str) -> None:
    for ax in axes.flat[max(0, n - axes.shape[1]):n]:
        ax.set_xlabel(text)


def plot_calibration(times_months: np.ndarray, curves: Mapping[str, Mapping[str, np.ndarray]],
                     targets: pd.DataFrame, *, title: str = "", horizon_months: float | None = None) -> plt.Figure:
    """Model-implied OS and PFS of each strategy beside what the sources reported.

    Parameters
    ----------
    times_months : array (n_times,)
    curves : mapping
        Strategy label -> {"OS": survival, "PFS": survival} on ``times_months``.
    targets : DataFrame
        Columns ``label``, ``outcome`` ("OS"/"PFS"), ``time_months``, ``survival``,
        ``reported_low``/``reported_high`` (median interval in months, may be NaN),
        ``source``. A median is the point (median, 0.5). May be empty.
    horizon_months : float, optional
        Default: until overall survival has fallen below 1% in every strategy.
    """
    if horizon_months is None:
        horizon_months = _horizon(times_months, [1.0 - by_outcome["OS"] for by_outcome in curves.values()])
    with plt.rc_context(STYLE):
        figure, axes = _panels(len(curves))
        colours = {"OS": "#1b6ca8", "PFS": "#c0392b"}
        keep = times_months <= horizon_months
        for ax, (label, by_outcome) in zip(axes.flat, curves.items(), strict=False):  # spare panels hidden
            for outcome, survival in by_outcome.items():
                ax.plot(times_months[keep], survival[keep], color=colours[outcome], lw=1.6, label=f"Model {outcome}")
            rows = targets[targets["label"] == label] if len(targets) else targets
            for row in rows.itertuples():
                colour = colours[row.outcome]
                xerr = None
                if np.isfinite(row.reported_low) and np.isfinite(row.reported_high):
                    xerr = [[row.time_months - row.reported_low], [row.reported_high - row.time_months]]
                ax.errorbar(row.time_months, row.survival, xerr=xerr, fmt="o", mfc="white", mec=colour,
                            ecolor=colour, ms=6, mew=1.5, capsize=3,
                            label=f"Reported {row.outcome}")
            ax.set_title(label)
            ax.set_ylim(0, 1.02)
            ax.set_xlim(0, horizon_months)
            ax.grid(alpha=0.3)
        _label_x(axes, len(curves), "Time since the start (months)")
        for ax in axes[:, 0]:
            ax.set_ylabel("Survival probability")
        handles, labels = {}, []
        for ax in axes.flat:
            for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(text, handle)
        labels = list(handles)
        figure.legend([handles[t] for t in labels], labels, loc="lower center", ncol=len(labels), frameon=False,
                      bbox_to_anchor=(0.5, -0.01))
        _title(figure, title or "Calibration: model-implied survival vs reported medians and landmarks")
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def plot_state_occupancy(times_months: np.ndarray, occupancy: Mapping[str, np.ndarray],
                         state_labels: Mapping[str, Sequence[str]], *, title: str = "",
                         horizon_months: float | None = None) -> plt.Figure:
    """Stacked state occupancy of each strategy over time.

    Parameters
    ----------
    occupancy : mapping
        Strategy label -> array (n_times, n_states) (one sample, e.g. the base case).
    state_labels : mapping
        Strategy label -> the state names of its columns (the last one dead).
    horizon_months : float, optional
        Default: until 99% of every cohort has died.
    """
    if horizon_months is None:
        horizon_months = _horizon(times_months, [values[:, -1] for values in occupancy.values()])
    with plt.rc_context(STYLE):
        figure, axes = _panels(len(occupancy))
        keep = times_months <= horizon_months
        legend = {}
        palette = state_colours([name for names in state_labels.values() for name in names])
        for ax, (label, values) in zip(axes.flat, occupancy.items(), strict=False):  # spare panels hidden
            names = list(state_labels[label])
            colours = [palette[name] for name in names]
            texts = [_state_label(name) for name in names]
            polys = ax.stackplot(times_months[keep], values[keep].T, colors=colours, labels=texts, lw=0)
            for poly, text in zip(polys, texts, strict=True):
                legend.setdefault(text, poly)
            ax.set_title(label)
            ax.set_xlim(0, horizon_months)
            ax.set_ylim(0, 1)
        _label_x(axes, len(occupancy), "Time since the start (months)")
        for ax in axes[:, 0]:
            ax.set_ylabel("Proportion of cohort")
        figure.legend(list(legend.values()), list(legend), loc="lower center", ncol=3, frameon=False)
        _title(figure, title or "State occupancy (base case)")
        rows = math.ceil(len(legend) / 3)
        figure.tight_layout(rect=(0, 0.06 * rows / axes.shape[0] + 0.02, 1, 1))
    return figure
