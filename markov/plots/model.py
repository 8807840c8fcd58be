"""Model figures: the calibration check and state occupancy, one panel per strategy."""
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import STYLE

STATE_COLOURS = {
    "progression_free_on_treatment": "#1b6ca8", "progression_free_off_treatment": "#8fbce6",
    "best_supportive_care": "#d98c3f", "dead": "#d9d9d9",
}
SECOND_LINE_COLOURS = ("#2f6b34", "#7fbf7b", "#8c6bb1", "#c2a5cf", "#4d9a53", "#b8e186")


def _title(figure: plt.Figure, text: str) -> None:
    figure.suptitle("\n".join(textwrap.wrap(text, 70)))


def _state_label(name: str) -> str:
    if name.startswith("second_line_"):
        return "Second line: " + name.removeprefix("second_line_").replace("_", " ")
    return name.replace("_", " ").capitalize()


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
                     targets: pd.DataFrame, *, title: str = "", horizon_months: float = 60.0) -> plt.Figure:
    """Model-implied OS and PFS of each strategy beside what the sources reported.

    Parameters
    ----------
    times_months : array (n_times,)
    curves : mapping
        Strategy label -> {"OS": survival, "PFS": survival} on ``times_months``.
    targets : DataFrame
        Columns ``label``, ``outcome`` ("OS"/"PFS"), ``time_months``, ``survival``,
        ``reported_low``/``reported_high`` (median interval in months, may be NaN),
        ``source``. A median is the point (median, 0.5).
    """
    with plt.rc_context(STYLE):
        figure, axes = _panels(len(curves))
        colours = {"OS": "#1b6ca8", "PFS": "#c0392b"}
        keep = times_months <= horizon_months
        for ax, (label, by_outcome) in zip(axes.flat, curves.items()):
            for outcome, survival in by_outcome.items():
                ax.plot(times_months[keep], survival[keep], color=colours[outcome], lw=1.6, label=f"Model {outcome}")
            rows = targets[targets["label"] == label]
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
        _label_x(axes, len(curves), "Time since start of first line (months)")
        for ax in axes[:, 0]:
            ax.set_ylabel("Survival probability")
        handles, labels = {}, []
        for ax in axes.flat:
            for handle, text in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(text, handle)
        labels = list(handles)
        figure.legend([handles[t] for t in labels], labels, loc="lower center", ncol=len(labels), frameon=False,
                      bbox_to_anchor=(0.5, -0.01))
        _title(figure, title or "Calibration: model-implied survival vs reported medians and landmarks")
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def plot_state_occupancy(times_months: np.ndarray, occupancy: Mapping[str, np.ndarray],
                         state_labels: Mapping[str, Sequence[str]], *, title: str = "",
                         horizon_months: float = 60.0) -> plt.Figure:
    """Stacked state occupancy of each strategy over time.

    Parameters
    ----------
    occupancy : mapping
        Strategy label -> array (n_times, n_states) (one sample, e.g. the base case).
    state_labels : mapping
        Strategy label -> the state names of its columns.
    """
    with plt.rc_context(STYLE):
        figure, axes = _panels(len(occupancy))
        keep = times_months <= horizon_months
        legend = {}
        second_lines = sorted({name for names in state_labels.values() for name in names if name not in STATE_COLOURS})
        palette = dict(STATE_COLOURS)
        palette.update({name: SECOND_LINE_COLOURS[i % len(SECOND_LINE_COLOURS)] for i, name in enumerate(second_lines)})
        for ax, (label, values) in zip(axes.flat, occupancy.items()):
            names = list(state_labels[label])
            colours = [palette[name] for name in names]
            texts = [_state_label(name) for name in names]
            polys = ax.stackplot(times_months[keep], values[keep].T, colors=colours, labels=texts, lw=0)
            for poly, text in zip(polys, texts):
                legend.setdefault(text, poly)
            ax.set_title(label)
            ax.set_xlim(0, horizon_months)
            ax.set_ylim(0, 1)
        _label_x(axes, len(occupancy), "Time since start of first line (months)")
        for ax in axes[:, 0]:
            ax.set_ylabel("Proportion of cohort")
        figure.legend(list(legend.values()), list(legend), loc="lower center", ncol=3, frameon=False)
        _title(figure, title or "State occupancy (base case)")
        rows = math.ceil(len(legend) / 3)
        figure.tight_layout(rect=(0, 0.06 * rows / axes.shape[0] + 0.02, 1, 1))
    return figure
