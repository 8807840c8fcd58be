"""Sensitivity-analysis figures: deterministic (one- and two-way) and global.

- :func:`plot_tornado`: one-way sensitivity analysis, inputs at their low and high values;
- :func:`plot_two_way`: an outcome (or the optimal strategy) over a grid of two inputs;
- :func:`plot_sensitivity_indices`: Sobol first- and total-order indices;
- :func:`plot_morris`: Morris screening, μ* against σ;
- :func:`plot_moment_independent`: Borgonovo δ or PAWN indices.

The functions take plain data (DataFrames, arrays) and return a matplotlib Figure;
write it with :func:`markov.plots.save_figure`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations, pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, CenteredNorm, ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from mpl_toolkits.axes_grid1 import make_axes_locatable
from numpy.typing import ArrayLike

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
    number,
    set_title,
    strategy_colours,
    thousands,
    wrapped,
)

LOW_COLOUR, HIGH_COLOUR = PALETTE[0], PALETTE[3]  # blue / orange: distinct in colour and in grey
MI_MEASURES = {
    "delta": "Borgonovo δ (moment-independent importance)",
    "pawn": "PAWN index (Kolmogorov–Smirnov distance)",
}


def _text(value) -> str:
    """Cell as display text: '' for missing, numbers without trailing zeros."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value).strip()


def _row_labels(labels: Sequence[str], minimum: float) -> tuple[list[str], float]:
    """Wrapped bar labels and the height (inches) each row needs, at least ``minimum``."""
    texts = [wrapped(label, LABEL_WIDTH) for label in labels]
    lines = [text.count("\n") + 1 for text in texts]
    neighbours = max((a + b for a, b in pairwise(lines)), default=2 * max(lines, default=1))
    return texts, max(minimum, 0.075 * neighbours + 0.06)  # neighbouring labels just clear each other


def _row_height(n: int, per_row: float, extra: float = 1.9) -> float:
    return extra + per_row * max(n, 3)


def _hidden_note(hidden: int, what: str) -> str:
    return f"{hidden} further {what}{'s' if hidden > 1 else ''}" if hidden else ""


def _edge(note: str, other: float, base: float, note_edges: Mapping[str, str] | None) -> int:
    """Which plot edge (−1 left, +1 right) a missing outcome with ``note`` runs to."""
    lowered = note.lower()
    for key, side in (note_edges or {}).items():
        if side not in ("left", "right"):
            raise InputError(f"note_edges[{key!r}] is {side!r}: must be 'left' or 'right'")
        if key.lower() in lowered:
            return -1 if side == "left" else 1
    if "dominated" in lowered:  # worse than any ICER: the high end of an ICER axis
        return 1
    if "dominant" in lowered:
        return -1
    if np.isfinite(other) and other != base:
        return -1 if other > base else 1  # away from the other end
    return 1


def plot_tornado(
    table: pd.DataFrame,
    *,
    base: float,
    outcome_label: str,
    title: str = "",
    max_bars: int = 15,
    note_edges: Mapping[str, str] | None = None,
) -> Figure:
    """Tornado diagram of a one-way sensitivity analysis.

    Parameters
    ----------
    table : DataFrame
        One row per input; columns

        - ``parameter``: display label (long labels are wrapped);
        - ``low_input``, ``high_input``: the input's low and high values as text (e.g.
          "0.58"), printed at the bar ends;
        - ``outcome_low``, ``outcome_high``: the outcome with the input at its low / high
          value; NaN where it is not meaningful (e.g. an ICER when the intervention is
          dominated), which then needs a note;
        - ``note_low``, ``note_high``: text (may be empty), e.g. "dominated", "dominant",
          "SW quadrant", printed at the bar end. A NaN outcome is drawn as a hatched bar
          running to the plot edge: the right edge for notes containing "dominated", the
          left for "dominant" (ICER axis), otherwise away from the other end's value.
    base : float
        Base-case outcome; the bars start from it.
    outcome_label : str
        The x axis label, with units, e.g. "ICER (USD per QALY)".
    max_bars : int
        Most rows shown; the rest (smallest swing) are counted in a footnote.
    note_edges : mapping of text → "left" / "right", optional
        Overrides the edge a NaN outcome runs to when its note contains the text
        (case-insensitive), e.g. ``{"SW quadrant": "right"}``.

    Rows are sorted by swing ``|outcome_high − outcome_low|`` (a NaN counts as the
    largest), largest at the top.
    """
    columns = ("parameter", "low_input", "high_input", "outcome_low", "outcome_high", "note_low", "note_high")
    check_table(table, "table", columns)
    max_bars = check_count("max_bars", max_bars, 1)
    base = float(as_float_array(base, "base", ndim=(0,)))
    labels = text_labels(table, "table")
    outcomes = {"low": numeric_column(table, "table", "outcome_low", allow_nan=True),
                "high": numeric_column(table, "table", "outcome_high", allow_nan=True)}
    inputs = {side: [_text(v) for v in table[f"{side}_input"]] for side in ("low", "high")}
    notes = {side: [_text(v) for v in table[f"note_{side}"]] for side in ("low", "high")}
    for side in ("low", "high"):
        for i in np.flatnonzero(np.isnan(outcomes[side])):
            if not notes[side][i]:
                raise InputError(f"table['outcome_{side}'] is NaN in row {i} ({labels[i]}) and note_{side} is "
                                 "empty: a missing outcome needs a note saying why (e.g. 'dominated')")
    low, high = outcomes["low"], outcomes["high"]
    swing = np.where(np.isnan(low) | np.isnan(high), np.inf, np.abs(high - low))
    reach = np.nan_to_num(np.fmax(np.abs(low - base), np.abs(high - base)), nan=0.0)
    order = np.lexsort((-reach, -swing))  # swing first, then the furthest reach
    hidden = max(0, len(order) - max_bars)
    order = order[:max_bars]

    finite = np.concatenate([low[order], high[order], [base]])
    finite = finite[np.isfinite(finite)]
    span = float(finite.max() - finite.min()) or max(abs(base) * 0.1, 1.0)
    edges = {-1: float(finite.min()) - 0.05 * span, 1: float(finite.max()) + 0.05 * span}
    sides = {}  # (row, side) → +1/-1 for missing outcomes
    for i in order:
        for side, other in (("low", "high"), ("high", "low")):
            if np.isnan(outcomes[side][i]):
                direction = _edge(notes[side][i], outcomes[other][i], base, note_edges)
                sides[i, side] = direction
                edges[direction] += direction * 0.2 * span  # room for the hatched bar beyond every finite one

    with plt.rc_context(STYLE):
        row_labels, per_row = _row_labels([labels[i] for i in order], 0.36)
        figure, axis = plt.subplots(figsize=(WIDTH, _row_height(len(order), per_row, 2.0)))
        axis.set_xlim(edges[-1], edges[1])
        colours = {"low": LOW_COLOUR, "high": HIGH_COLOUR}
        hatched, texts = [], []
        for row, i in enumerate(order):
            ends = {side: outcomes[side][i] if (i, side) not in sides else edges[sides[i, side]]
                    for side in ("low", "high")}
            directions = {side: np.sign(ends[side] - base) for side in ends}
            same_side = directions["low"] == directions["high"] != 0
            for side, offset in (("low", -0.19), ("high", 0.19)):
                y, height = (row + offset, 0.38) if same_side else (row, 0.72)
                direction = directions[side] or (-1 if side == "low" else 1)
                colour = colours[side]
                label = inputs[side][i]
                if (i, side) in sides:
                    bar = Rectangle((base, y - height / 2), ends[side] - base, height, facecolor=to_rgba(colour, 0.3),
                                    edgecolor=colour, hatch="////", linewidth=0.8, zorder=2)
                    axis.add_patch(bar)
                    # inside the bar, at the edge, so it follows the edge when the limits change
                    note = axis.text(0.995 if direction > 0 else 0.005, y, f"{label}: {notes[side][i]}".strip(": "),
                              transform=axis.get_yaxis_transform(), ha="right" if direction > 0 else "left",
                              va="center", fontsize=7.5,
                              bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.6}, zorder=4)
                    hatched.append((bar, sides[i, side], note))
                else:
                    axis.add_patch(Rectangle((base, y - height / 2), ends[side] - base, height, facecolor=colour,
                                             edgecolor="none", zorder=2))
                    text = label + (f" ({notes[side][i]})" if notes[side][i] else "")
                    texts.append(axis.annotate(text, (ends[side], y), xytext=(3 * direction, 0),
                                               textcoords="offset points", va="center",
                                               ha="left" if direction > 0 else "right", fontsize=7.5, zorder=4))
        axis.axvline(base, color="0.1", linewidth=1.2, zorder=3)
        axis.set(yticks=range(len(order)), yticklabels=row_labels,
                 ylim=(len(order) - 0.5, -0.5), xlabel=outcome_label)
        axis.tick_params(axis="y", length=0)
        thousands(axis.xaxis)
        axis.grid(axis="x", alpha=0.3, zorder=0)
        set_title(axis, title)
        top = axis.secondary_xaxis("top")
        top.set_xticks([base], labels=[f"Base case: {number(base)}"])
        top.tick_params(length=3, labelsize=8.5)
        handles = [Patch(facecolor=LOW_COLOUR, label="Input at low value"),
                   Patch(facecolor=HIGH_COLOUR, label="Input at high value")]
        if hatched:
            handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="////",
                                 label="Not a finite value (see note): bar runs to the plot edge"))
        note = _hidden_note(hidden, "input") + (" with smaller swing not shown." if hidden else "")
        arrange(figure, handles=handles, ncol=3 if hatched else 2,
                 footnote=footnote_text("Bar-end labels: the input's low / high value.", note))
        fit_texts(figure, axis, texts)
        _fit_hatched(figure, axis, base, hatched)
        _separate(figure, texts)
        left, right = axis.get_xlim()
        for bar, direction, _ in hatched:
            bar.set_width((right if direction > 0 else left) - base)
    return figure


def _separate(figure: Figure, texts: Sequence, gap: float = 1.0) -> None:
    """Move bar-end labels that overlap (two bars of one row ending close together) apart
    vertically, so that "48" and "15,709" never print as "48,15,709"."""
    renderer = figure.canvas.get_renderer()
    for _ in range(4):
        boxes = [text.get_window_extent(renderer) for text in texts]
        moved = False
        for (i, a), (j, b) in combinations(enumerate(boxes), 2):
            if a.overlaps(b):
                points = (min(a.y1, b.y1) - max(a.y0, b.y0) + gap) * 72 / figure.dpi / 2
                upper, lower = (texts[i], texts[j]) if a.y0 >= b.y0 else (texts[j], texts[i])
                upper.xyann = (upper.xyann[0], upper.xyann[1] + points)
                lower.xyann = (lower.xyann[0], lower.xyann[1] - points)
                moved = True
        if not moved:
            return


def _fit_hatched(figure: Figure, axis, base: float, hatched: Sequence, gap: float = 18.0) -> None:
    """Widen the x limits until each hatched bar's note fits between the base line and its edge."""
    renderer = figure.canvas.get_renderer()
    for _ in range(6):
        left, right = axis.get_xlim()
        box = axis.get_window_extent(renderer)
        per_pixel = (right - left) / box.width
        base_px = box.x0 + (base - left) / per_pixel
        grow = {-1: 0.0, 1: 0.0}
        for _, direction, note in hatched:
            room = box.x1 - base_px if direction > 0 else base_px - box.x0
            grow[direction] = max(grow[direction], note.get_window_extent(renderer).width + gap - room)
        if max(grow.values()) <= 0:
            return
        axis.set_xlim(left - max(grow[-1], 0) * per_pixel * 1.2, right + max(grow[1], 0) * per_pixel * 1.2)


def _cell_edges(values: np.ndarray) -> np.ndarray:
    middle = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - middle[0]], middle, [2 * values[-1] - middle[-1]]])


def _grid_axis(values, name: str) -> np.ndarray:
    array = as_float_array(values, name, ndim=(1,))
    if array.size < 2 or not (np.diff(array) > 0).all():
        raise InputError(f"{name}: has {array.size} values {array[:5].tolist()}...; need at least 2, "
                         "strictly increasing")
    return array


def plot_two_way(
    x_values: ArrayLike,
    y_values: ArrayLike,
    z: ArrayLike,
    *,
    x_label: str,
    y_label: str,
    z_label: str,
    categories: Sequence[str] | None = None,
    base_point: tuple[float, float] | None = None,
    title: str = "",
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Two-way sensitivity analysis as a heat map over a grid of two inputs.

    Parameters
    ----------
    x_values, y_values : array (n_x,), array (n_y,)
        The grid of the two inputs, each strictly increasing.
    z : array (n_y, n_x)
        ``z[j, i]`` is the result at ``(x_values[i], y_values[j])``. Without
        ``categories``: a continuous outcome (e.g. incremental NMB; NaN cells are left
        blank), drawn on a diverging scale centred at 0 with the zero contour (the
        break-even line). With ``categories``: integer indices into it (e.g. the optimal
        strategy), drawn in discrete colours with a legend.
    x_label, y_label, z_label : str
        Axis and colour-bar labels, with units.
    categories : sequence of str, optional
        Labels of the categories ``z`` indexes.
    base_point : (x, y), optional
        The base case, marked with a star.
    colours : mapping of category → colour, optional
        Default: Okabe–Ito in category order.
    """
    x = _grid_axis(x_values, "x_values")
    y = _grid_axis(y_values, "y_values")
    values = as_float_array(z, "z", ndim=(2,), finite=False)
    if values.shape != (y.size, x.size):
        raise InputError(f"z: has shape {values.shape}, expected (len(y_values), len(x_values)) = "
                         f"({y.size}, {x.size})")
    if categories is not None:
        categories = [str(c) for c in categories]
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values >= len(categories))
        if not categories:
            raise InputError("categories: is empty; give the label of each value z can take")
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(f"z{list(where)} is {float(values[where])!r}: with categories, z must hold whole "
                             f"numbers in [0, {len(categories) - 1}] indexing {categories}")
    elif np.isinf(values).any() or np.isnan(values).all():
        raise InputError("z: must be finite numbers (NaN marks cells left blank, but not all of them)")
    if base_point is not None:
        base_point = tuple(float(v) for v in as_float_array(base_point, "base_point", ndim=(1,)))
        if len(base_point) != 2:
            raise InputError(f"base_point is {base_point!r}: must be (x, y)")
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 5.0))
        handles = []
        if categories is None:
            mesh = axis.pcolormesh(_cell_edges(x), _cell_edges(y), values, cmap="RdBu", norm=CenteredNorm(0.0),
                                   shading="flat", rasterized=True)
            colour_axis = make_axes_locatable(axis).append_axes("right", size="4%", pad=0.12)
            bar = figure.colorbar(mesh, cax=colour_axis)
            bar.set_label(z_label)
            thousands(bar.ax.yaxis)
            finite = values[np.isfinite(values)]
            if finite.min() < 0 < finite.max():
                axis.contour(x, y, values, levels=[0.0], colors="black", linewidths=1.6)
                handles.append(Line2D([], [], color="black", linewidth=1.6, label="Break-even (zero contour)"))
        else:
            palette = strategy_colours(categories, colours)
            fill = [palette[c] for c in categories]
            axis.pcolormesh(_cell_edges(x), _cell_edges(y), values, cmap=ListedColormap(fill),
                            norm=BoundaryNorm(np.arange(len(categories) + 1) - 0.5, len(categories)),
                            shading="flat", rasterized=True)
            present = sorted({int(v) for v in values.ravel()})
            handles += [Patch(facecolor=fill[k], label=categories[k]) for k in present]
        if base_point is not None:
            axis.plot(*base_point, marker="*", markersize=15, markerfacecolor="white", markeredgecolor="black",
                      markeredgewidth=1.2, linestyle="", zorder=5)
            handles.append(Line2D([], [], marker="*", markersize=13, markerfacecolor="white", markeredgecolor="black",
                                  linestyle="", label="Base case"))
        axis.set(xlabel=x_label, ylabel=y_label)
        thousands(axis.xaxis, axis.yaxis)
        set_title(axis, title)
        arrange(figure, handles=handles, ncol=3, legend_title=z_label if categories is not None else None)
    return figure


def plot_sensitivity_indices(table: pd.DataFrame, *, title: str = "", max_bars: int = 20) -> Figure:
    """Sobol first-order (S1) and total-order (ST) indices with their 95% intervals.

    Parameters
    ----------
    table : DataFrame
        One row per parameter (group); columns ``parameter`` (display label), ``S1``,
        ``S1_conf``, ``ST``, ``ST_conf`` (``*_conf``: half-width of the 95% confidence
        interval, non-negative), e.g. from ``SALib.analyze.sobol``.
    max_bars : int
        Most parameters shown (largest ST first); the rest are counted in a footnote.
    """
    check_table(table, "table", ("parameter", "S1", "S1_conf", "ST", "ST_conf"))
    max_bars = check_count("max_bars", max_bars, 1)
    labels = text_labels(table, "table")
    s1, st = numeric_column(table, "table", "S1"), numeric_column(table, "table", "ST")
    s1_conf = numeric_column(table, "table", "S1_conf", low=0.0)
    st_conf = numeric_column(table, "table", "ST_conf", low=0.0)
    order = np.argsort(-st, kind="stable")
    hidden = max(0, len(order) - max_bars)
    order = order[:max_bars]
    with plt.rc_context(STYLE):
        row_labels, per_row = _row_labels([labels[i] for i in order], 0.34)
        figure, axis = plt.subplots(figsize=(WIDTH, _row_height(len(order), per_row, 1.8)))
        y = np.arange(len(order))
        error = {"ecolor": "0.15", "elinewidth": 0.9, "capsize": 2.5}
        axis.barh(y - 0.19, st[order], height=0.38, xerr=st_conf[order], color=PALETTE[0], error_kw=error, zorder=2)
        axis.barh(y + 0.19, s1[order], height=0.38, xerr=s1_conf[order], color=PALETTE[3], error_kw=error, zorder=2)
        axis.axvline(0, color="0.3", linewidth=0.8)
        left = min(0.0, float(np.min(s1[order] - s1_conf[order])), float(np.min(st[order] - st_conf[order])))
        right = float(np.max(np.concatenate([s1[order] + s1_conf[order], st[order] + st_conf[order]])))
        axis.set(yticks=y, yticklabels=row_labels,
                 ylim=(len(order) - 0.5, -0.5), xlim=(left - 0.02 * (right - left), right * 1.05 or 1.0),
                 xlabel="Sobol index (share of output variance)")
        axis.tick_params(axis="y", length=0)
        axis.grid(axis="x", alpha=0.3, zorder=0)
        set_title(axis, title)
        handles = [Patch(facecolor=PALETTE[0], label="Total-order (ST)"),
                   Patch(facecolor=PALETTE[3], label="First-order (S1)"),
                   Line2D([], [], color="0.15", marker="|", markersize=8, linewidth=0.9, label="95% CI")]
        total = s1.sum()
        why = ("1 minus it is the share of variance from interactions" if total <= 1
               else "above 1 only through estimation error: consider more samples")
        notes = [f"Sum of first-order indices over all {len(st)} parameters: {total:.2f} ({why}).",
                 _hidden_note(hidden, "parameter") + (" with smaller ST not shown." if hidden else "")]
        arrange(figure, handles=handles, ncol=3, footnote=footnote_text(*notes))
    return figure


def _overlap(a, b) -> float:
    """Area shared by two display-space bounding boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


#: Candidate label positions around a point: offset (points), alignment, leader line.
_PLACES = [((5, 3), "left", "bottom"), ((5, -3), "left", "top"), ((-5, 3), "right", "bottom"),
           ((-5, -3), "right", "top"), ((0, 7), "center", "bottom"), ((0, -7), "center", "top")]
_PLACES += [((dx * r, dy * r), "left" if dx > 0 else "right" if dx < 0 else "center",
             "bottom" if dy > 0 else "top" if dy < 0 else "center")
            for r in (14, 24, 36) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))]


def _place_labels(figure: Figure, axis, x: np.ndarray, y: np.ndarray, labels: Sequence[str],
                  points: np.ndarray, marker_radius: float = 3.0) -> None:
    """Label points (in order of priority) at the first nearby place free of other labels,
    markers and the axes edge; farther places get a leader line."""
    renderer = figure.canvas.get_renderer()
    frame = axis.get_window_extent(renderer)
    markers = axis.transData.transform(points)  # every marker, labelled or not
    clear = marker_radius * figure.dpi / 72 + 2  # pixels between a label and a marker centre
    taken = []
    for xi, yi, label in zip(x, y, labels, strict=True):
        best = None
        for offset, ha, va in _PLACES:
            far = max(abs(offset[0]), abs(offset[1])) > 10
            text = axis.annotate(label, (xi, yi), xytext=offset, textcoords="offset points", ha=ha, va=va,
                                 fontsize=8, zorder=5,
                                 arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6,
                                             "shrinkA": 0, "shrinkB": 3} if far else None)
            box = text.get_window_extent(renderer).expanded(1.06, 1.15)
            outside = box.width * box.height - _overlap(box, frame)
            near = np.sum((markers[:, 0] > box.x0 - clear) & (markers[:, 0] < box.x1 + clear)
                          & (markers[:, 1] > box.y0 - clear) & (markers[:, 1] < box.y1 + clear))
            cost = sum(_overlap(box, other) for other in taken) + 10 * outside + 50 * near + (5 if far else 0)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, text, box)
            else:
                text.remove()
            if cost == 0:
                break
        taken.append(best[2])


def plot_morris(table: pd.DataFrame, *, outcome_label: str, title: str = "", n_labels: int = 10) -> Figure:
    """Morris elementary-effects screening: μ* against σ per parameter.

    Parameters
    ----------
    table : DataFrame
        One row per parameter; columns ``parameter`` (display label), ``mu_star`` (mean
        absolute elementary effect), ``mu_star_conf`` (half-width of its 95% interval)
        and ``sigma`` (standard deviation of the elementary effects), all non-negative
        and in the units of ``outcome_label`` (e.g. ``SALib.analyze.morris``).
    outcome_label : str
        The outcome screened, with units, e.g. "incremental NMB, USD".
    n_labels : int
        How many parameters (largest μ*) are named beside their points.

    Parameters far right matter most; high σ relative to μ* means a non-linear effect
    or interactions (the dotted line is σ = μ*).
    """
    check_table(table, "table", ("parameter", "mu_star", "mu_star_conf", "sigma"))
    n_labels = check_count("n_labels", n_labels, 1)
    labels = text_labels(table, "table")
    mu = numeric_column(table, "table", "mu_star", low=0.0)
    conf = numeric_column(table, "table", "mu_star_conf", low=0.0)
    sigma = numeric_column(table, "table", "sigma", low=0.0)
    order = np.argsort(-mu, kind="stable")[:n_labels]
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 4.8))
        axis.scatter(mu, sigma, s=28, color=PALETTE[0], edgecolors="white", linewidths=0.5, zorder=3)
        axis.errorbar(mu, sigma, xerr=conf, fmt="none", ecolor=PALETTE[0], alpha=0.5, elinewidth=0.8, zorder=2)
        top = max(float(np.max(mu + conf)), float(np.max(sigma))) * 1.08 or 1.0
        axis.plot([0, top], [0, top], color="0.5", linestyle=":", linewidth=1, zorder=1)
        axis.set(xlim=(0, float(np.max(mu + conf)) * 1.12 or 1.0), ylim=(0, float(np.max(sigma)) * 1.12 or 1.0),
                 xlabel=f"μ* (mean absolute elementary effect, {outcome_label})",
                 ylabel=f"σ (SD of elementary effects, {outcome_label})")
        thousands(axis.xaxis, axis.yaxis)
        axis.grid(alpha=0.3)
        set_title(axis, title)
        handles = [Line2D([], [], marker="o", linestyle="", color=PALETTE[0], label="Parameter"),
                   Line2D([], [], color=PALETTE[0], alpha=0.5, linewidth=0.8, label="95% CI of μ*"),
                   Line2D([], [], color="0.5", linestyle=":", label="σ = μ*")]
        named = f"The {len(order)} parameters with the largest μ* are named." if len(mu) > len(order) else ""
        arrange(figure, handles=handles, ncol=3, footnote=footnote_text(named))
        _place_labels(figure, axis, mu[order], sigma[order], [wrapped(labels[i], 26) for i in order],
                      np.column_stack([mu, sigma]))
    return figure


def plot_moment_independent(
    table: pd.DataFrame, *, measure: str, title: str = "", max_bars: int = 20,
) -> Figure:
    """Moment-independent importance (Borgonovo δ or PAWN), one bar per parameter.

    Parameters
    ----------
    table : DataFrame
        Columns ``parameter`` (display label), ``value`` (the index) and optionally
        ``conf`` (half-width of its 95% interval; NaN for none), e.g. from
        ``SALib.analyze.delta`` or ``SALib.analyze.pawn``.
    measure : str
        "delta" or "pawn" (named on the x axis), or the axis label itself.
    max_bars : int
        Most bars shown (largest first); the rest are counted in a footnote.
    """
    check_table(table, "table", ("parameter", "value"))
    max_bars = check_count("max_bars", max_bars, 1)
    if not isinstance(measure, str) or not measure.strip():
        raise InputError(f"measure is {measure!r}: must name the index, e.g. 'delta' or 'pawn'")
    labels = text_labels(table, "table")
    values = numeric_column(table, "table", "value")
    conf = numeric_column(table, "table", "conf", allow_nan=True, low=0.0) if "conf" in table.columns else None
    order = np.argsort(-values, kind="stable")
    hidden = max(0, len(order) - max_bars)
    order = order[:max_bars]
    with plt.rc_context(STYLE):
        row_labels, per_row = _row_labels([labels[i] for i in order], 0.32)
        figure, axis = plt.subplots(figsize=(WIDTH, _row_height(len(order), per_row, 1.8)))
        y = np.arange(len(order))
        xerr = None if conf is None else np.nan_to_num(conf[order])
        axis.barh(y, values[order], height=0.65, xerr=xerr, color=PALETTE[0], zorder=2,
                  error_kw={"ecolor": "0.15", "elinewidth": 0.9, "capsize": 2.5})
        axis.axvline(0, color="0.3", linewidth=0.8)
        reach = values[order] + (0 if xerr is None else xerr)
        axis.set(yticks=y, yticklabels=row_labels,
                 ylim=(len(order) - 0.5, -0.5), xlim=(min(0.0, float(values.min())), float(reach.max()) * 1.08 or 1.0),
                 xlabel=MI_MEASURES.get(measure.strip().lower(), measure))
        axis.tick_params(axis="y", length=0)
        axis.grid(axis="x", alpha=0.3, zorder=0)
        set_title(axis, title)
        notes = ["Error bars: 95% CI." if conf is not None else "",
                 _hidden_note(hidden, "parameter") + (" with smaller values not shown." if hidden else "")]
        arrange(figure, footnote=footnote_text(*notes))
    return figure
