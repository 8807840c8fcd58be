"""Model figures: the calibration check, the model's overall survival against trial data,
and state occupancy, one panel per strategy."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from matplotlib.ticker import FixedLocator, MaxNLocator

from ..survival import KaplanMeier
from .style import PALETTE, STYLE, WIDTH, arrange, footnote_text, wrapped
from .survival import OBSERVED_COLOUR, _step

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
    figure.suptitle(wrapped(text, 70))


def _state_label(name: str) -> str:
    """``second_line_lenvatinib_on_treatment`` -> "Second line: lenvatinib, on treatment"."""
    phase = _TREATMENT.match(name)
    base, suffix = (phase.group("rest"), f", {phase.group('phase').replace('_', ' ')}") if phase else (name, "")
    line = _LINE.match(base)
    if line is None:
        return base.replace("_", " ").capitalize() + suffix
    text = line.group("line").replace("_", " ").capitalize()
    return text + (f": {line.group('rest').replace('_', ' ')}" if line.group("rest") else "") + suffix


#: Figures over time stop once this share of every cohort has died (else at the horizon).
DIED = 0.999
#: The occupancy figure's time axis is linear until this share of every cohort has died
#: (rounded up to a year), then compressed into :data:`TAIL_WIDTH` of the axis.
MOSTLY_DIED = 0.95
TAIL_WIDTH = 0.25


def _horizon(times_months: np.ndarray, dead: Sequence[np.ndarray], share: float = DIED) -> float:
    """Months to show: until ``share`` of every cohort has died (rounded up to a year), or all."""
    reached = [times_months[np.argmax(d >= share)] if (d >= share).any() else times_months[-1] for d in dead]
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
    """Stacked state occupancy of each strategy over time, in years.

    Parameters
    ----------
    occupancy : mapping
        Strategy label -> array (n_times, n_states) (one sample, e.g. the base case).
    state_labels : mapping
        Strategy label -> the state names of its columns (the last one dead).
    horizon_months : float, optional
        Default: until 99.9% of every cohort has died, else the model's horizon.

    States of one line share a colour family; off-treatment states are hatched, so that
    on and off treatment can be told apart in any print. The time axis is linear until
    95% of every cohort has died and compressed after that, marked and said in a note, so
    that the years in which the cohorts move between states fill most of the width while
    the axis still reaches the end.
    """
    dead = [values[:, -1] for values in occupancy.values()]
    if horizon_months is None:
        horizon_months = _horizon(times_months, dead)
    end = horizon_months / 12.0
    shown_end = round(end, 1) if abs(end - round(end)) > 0.05 else round(end)  # a grid's last point: 20.008 years
    mostly = _horizon(times_months, dead, MOSTLY_DIED) / 12.0
    split = mostly if mostly <= 0.5 * end else None  # compress a long tail only
    with plt.rc_context({**STYLE, "legend.fontsize": 8}):  # a state each: two columns fit at 8 pt
        figure, axes = _panels(len(occupancy))
        keep = times_months <= horizon_months
        legend = {}
        palette = state_colours([name for names in state_labels.values() for name in names])
        # room for the legend (two columns) and the note below the panels, which keep their height
        figure.set_figheight(figure.get_figheight() + 0.18 * math.ceil(len(palette) / 2) + 0.4)
        shown = _drawn_times(times_months / 12.0, keep, split)
        for ax, (label, values) in zip(axes.flat, occupancy.items(), strict=False):  # spare panels hidden
            names = list(state_labels[label])
            held = [j for j in range(len(names)) if values[:, j].any()]  # a state no one enters is not drawn
            names = [names[j] for j in held]
            colours = [palette[name] for name in names]
            texts = [_state_label(name) for name in names]
            polys = ax.stackplot(times_months[shown] / 12.0, values[np.ix_(shown, held)].T, colors=colours,
                                 labels=texts, lw=0)
            for poly, name, text in zip(polys, names, texts, strict=True):
                if name.endswith("off_treatment"):
                    poly.set_hatch("////")
                    poly.set_edgecolor("white")
                legend.setdefault(name, poly)
            ax.set_title(label)
            ax.set_ylim(0, 1)
            if split is not None:
                ax.axvline(split, color="0.2", linestyle=(0, (3, 2)), linewidth=0.9)
        note = ""
        if split is not None:
            _compress_after(axes.flat[0], split, end, shown_end)
            reached = "the time horizon" if end >= times_months[-1] / 12.0 - 1e-9 else \
                f"when {DIED:.1%} of every cohort has died"
            note = (f"The time axis is compressed after {split:g} years (dashed line), when {MOSTLY_DIED:.0%} of "
                    f"every cohort has died; it runs on to {shown_end:g} years, {reached}.")
        for ax in axes.flat:
            ax.set_xlim(0, end)
        _label_x(axes, len(occupancy), "Time since the start (years)")
        for ax in axes[:, 0]:
            ax.set_ylabel("Proportion of cohort")
        _title(figure, title or "State occupancy (base case)")
        order = [name for name in palette if name not in STATE_COLOURS] + list(STATE_COLOURS)  # BSC, dead last
        arrange(figure, handles=[legend[name] for name in order if name in legend], ncol=2,
                footnote=footnote_text(note))
    return figure


def _drawn_times(years: np.ndarray, keep: np.ndarray, split: float | None) -> np.ndarray:
    """Indices of the time points drawn: each one kept up to ``split``, and after it as
    many as fill the compressed axis as densely (the last one always), so that a weekly
    trace over decades does not make its vector files large for nothing."""
    indices = np.flatnonzero(keep)
    if split is None:
        return indices
    before, after = indices[years[indices] <= split], indices[years[indices] > split]
    wanted = len(before) * TAIL_WIDTH / (1 - TAIL_WIDTH)  # the tail's width, as densely as before the split
    step = max(1, math.ceil(len(after) / max(wanted, 1.0)))
    return np.unique(np.concatenate([before, after[::step], after[-1:]]))


def _compress_after(axis: plt.Axes, split: float, end: float, end_label: float) -> None:
    """A time axis (shared by the panels) linear to ``split`` and compressed after it, so
    that ``split`` to ``end`` takes :data:`TAIL_WIDTH` of the width; yearly ticks before
    the split, and after it the end (labelled ``end_label``) and a round year between."""
    factor = TAIL_WIDTH / (1 - TAIL_WIDTH) * split / (end - split)

    def forward(x):
        x = np.asarray(x, dtype=float)
        return np.where(x <= split, x, split + (x - split) * factor)

    def inverse(x):
        x = np.asarray(x, dtype=float)
        return np.where(x <= split, x, split + (x - split) / factor)

    axis.set_xscale("function", functions=(forward, inverse))
    ticks = [t for t in MaxNLocator(nbins=6, integer=True, steps=[1, 2, 5, 10]).tick_values(0, split) if t <= split]
    if split - ticks[-1] > 1e-9:  # the split is a tick: the last one before it, if close, gives way
        ticks = ticks[:-1] if split - ticks[-1] <= 0.5 * (ticks[1] - ticks[0]) else ticks
        ticks.append(split)
    middle = 5 * np.ceil((split + 0.2 * (end - split)) / 5)  # a round year a third or so into the tail
    between = [middle] if split + 0.25 * (end - split) <= middle <= split + 0.6 * (end - split) else []
    ticks = [*ticks, *between, end]
    axis.set_xticks(ticks, labels=[f"{t:g}" for t in ticks[:-1]] + [f"{end_label:g}"])
    axis.xaxis.set_minor_locator(FixedLocator([]))


def _reported_points(ax: plt.Axes, rows: pd.DataFrame, colour: str) -> None:
    """Reported medians (with their interval in time) and landmarks (with their interval in survival)."""
    for row in rows.itertuples():
        xerr = yerr = None
        if np.isfinite(row.reported_low) and np.isfinite(row.reported_high):
            xerr = [[row.time_months - row.reported_low], [row.reported_high - row.time_months]]
        low, high = getattr(row, "reported_ci_low", np.nan), getattr(row, "reported_ci_high", np.nan)
        if np.isfinite(low) and np.isfinite(high):
            yerr = [[row.survival - low], [high - row.survival]]
        ax.errorbar(row.time_months, row.survival, xerr=xerr, yerr=yerr, fmt="D", mfc="white", mec=colour,
                    ecolor=colour, ms=5, mew=1.4, capsize=3, zorder=4, label="Reported OS (median, landmark)")


def _agreement(row: pd.Series) -> str:
    """The summary of one comparison, as a panel prints it."""
    text = f"Model inside the 95% CI: {row['share_inside_ci']:.0%} of follow-up"
    gap = row["largest_gap_outside"]
    if gap == 0:
        return text
    return (f"{text}\nLargest gap: {abs(gap):.2g} {'above' if gap > 0 else 'below'}, "
            f"month {row['largest_gap_time_months']:g}")


def plot_model_vs_data(times_months: np.ndarray, model_os: Mapping[str, np.ndarray],
                       kaplan_meier: Mapping[str, KaplanMeier], summary: pd.DataFrame, targets: pd.DataFrame, *,
                       title: str = "") -> plt.Figure:
    """Each strategy's model-implied overall survival over the Kaplan–Meier estimate of the
    trial arm it should reproduce, with the estimate's 95% CI (log-log), the numbers at
    risk and the reported medians and landmarks.

    Parameters
    ----------
    times_months : array (n_times,)
    model_os : mapping
        Strategy label -> overall survival on ``times_months``.
    kaplan_meier : mapping
        Strategy label -> the Kaplan–Meier estimate of its data, in months: a panel each,
        in this order.
    summary : DataFrame
        A row per label (``label``, ``data_file``, ``arm``, ``follow_up_months``,
        ``share_inside_ci``, ``largest_gap_outside``, ``largest_gap_time_months``), as
        :func:`markov.models.model_vs_data` gives it.
    targets : DataFrame
        Reported OS medians and landmarks (``label``, ``outcome``, ``time_months``,
        ``survival``, ``reported_low``/``reported_high``: a median's interval in months,
        ``reported_ci_low``/``reported_ci_high``: a landmark's), as the calibration table
        gives them; may be empty.
    """
    rows = summary.set_index("label")
    n = len(kaplan_meier)
    columns = min(n, 2)
    with plt.rc_context(STYLE):
        figure = plt.figure(figsize=(WIDTH, 3.9 * math.ceil(n / columns) + 0.9))
        grid = figure.add_gridspec(math.ceil(n / columns), columns, hspace=0.55, wspace=0.25)
        model_colour = PALETTE[0]
        for i, (label, km) in enumerate(kaplan_meier.items()):
            row = rows.loc[label]
            panel = grid[i // columns, i % columns].subgridspec(2, 1, height_ratios=[5, 1], hspace=0.12)
            ax = figure.add_subplot(panel[0])
            risk = figure.add_subplot(panel[1], sharex=ax)
            reported = targets[(targets["label"] == label) & (targets["outcome"] == "OS")] if len(targets) else targets
            ends = [row["follow_up_months"], *reported["time_months"], *reported.get("reported_high", [])]
            ticks = MaxNLocator(nbins=6, steps=[1, 2, 3, 5, 6, 10]).tick_values(0, max(e for e in ends
                                                                                      if np.isfinite(e)))
            lower, upper = km.confidence_band()
            x, y = _step(km, km.survival)
            ax.fill_between(x, _step(km, lower)[1], _step(km, upper)[1], step="post", color=OBSERVED_COLOUR,
                            alpha=0.15, linewidth=0, label="95% CI (log-log)")
            ax.step(x, y, where="post", color=OBSERVED_COLOUR, linewidth=1.4, label="Kaplan–Meier (trial data)")
            censored = km.n_censored > 0
            ax.plot(km.times[censored], km.survival[censored], "|", color=OBSERVED_COLOUR, markersize=4,
                    label="Censored")
            keep = times_months <= ticks[-1]
            ax.plot(times_months[keep], model_os[label][keep], color=model_colour, linewidth=1.8,
                    label="Model OS (base case)")
            _reported_points(ax, reported, model_colour)
            ax.axvline(row["follow_up_months"], color="0.5", linestyle=":", linewidth=1,
                       label="End of follow-up compared")
            data = row["data_file"].rsplit("/", 1)[-1].removesuffix(".csv")
            ax.set_title(label, fontsize=9.5, pad=33)
            ax.text(0.5, 1.02, "\n".join([wrapped(f"{data} ({row['arm']})", 48), _agreement(row)]),
                    transform=ax.transAxes, fontsize=7.5, ha="center", va="bottom", color="0.25")
            ax.set(ylim=(0, 1.02), xlim=(0, ticks[-1]), xticks=ticks)
            ax.tick_params(labelbottom=False)
            ax.grid(alpha=0.3)
            shown = [t for t in ticks if t <= km.times[-1]]
            for t, at_risk in zip(shown, km.n_at_risk_at(shown), strict=True):
                risk.text(t, 0.5, f"{int(at_risk)}", ha="center", va="center", fontsize=7.5)
            risk.set(yticks=[], ylim=(0, 1))
            risk.set_title("Number at risk", loc="left", fontsize=7.5, pad=2)
            for side in ("top", "right", "left"):
                risk.spines[side].set_visible(False)
            if i % columns == 0:
                ax.set_ylabel("Overall survival")
            if i >= n - columns:
                risk.set_xlabel("Months since randomisation")
        handles = {}
        for ax in figure.axes:
            for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(text, handle)
        figure.legend(list(handles.values()), list(handles), loc="lower center", ncol=3, frameon=False,
                      fontsize=8)
        _title(figure, title or "Model overall survival against trial data")
        height = figure.get_figheight()  # inches: room for the titles above and the legend below
        figure.subplots_adjust(left=0.11, right=0.97, top=1 - 1.2 / height, bottom=1.0 / height)
    return figure
