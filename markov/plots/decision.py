"""Decision-uncertainty figures from a probabilistic sensitivity analysis (PSA).

- :func:`plot_ce_plane`: PSA samples of incremental cost and effect against a comparator,
  with their means and a willingness-to-pay (WTP) line;
- :func:`plot_acceptability`: cost-effectiveness acceptability curves (CEAC), optionally
  with the acceptability frontier (CEAF);
- :func:`plot_evpi`: expected value of perfect information against WTP;
- :func:`plot_evppi`: expected value of partial perfect information by parameter (group);
- :func:`plot_convergence`: running means of a PSA outcome with their Monte Carlo band.

The functions take plain data (mappings, arrays, DataFrames) and return a matplotlib
Figure; write it with :func:`markov.plots.save_figure`.
"""
from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, MaxNLocator
from numpy.typing import ArrayLike

from .._validate import InputError, as_float_array
from .survival import STYLE

#: Okabe & Ito (2008) colour-blind-safe palette, darkest-contrast colours first.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
WIDTH = 6.3  # inches: a 16 cm dossier column
NOTE_STYLE = {"fontsize": 8, "color": "0.3"}
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CAD": "C$", "AUD": "A$"}
EVPPI_METHODS = {
    "gam": "GAM regression (Strong, Oakley & Brennan 2014)",
    "gp": "Gaussian-process regression (Strong, Oakley & Brennan 2014)",
    "inla": "INLA–SPDE regression (Heath, Manolopoulou & Baio 2016)",
    "nested": "two-level (nested) Monte Carlo",
    "two-level": "two-level (nested) Monte Carlo",
    "constant": "none needed (the parameter does not vary: EVPPI 0)",
}
TOLERANCE = 1e-9
LABEL_WIDTH = 32  # characters per line of a parameter label


# --- shared helpers (also used by sensitivity.py) -------------------------------------------

def _number(value: float) -> str:
    """Thousands separators for large numbers, up to 3 significant digits for small ones."""
    if not np.isfinite(value):
        return str(value)
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return text.replace("-", "−")  # a true minus sign, as on the tick labels


def _money(value: float, currency: str) -> str:
    """``$150,000`` for USD, ``£20,000`` for GBP, ``CHF 50,000`` for currencies without a symbol.

    A dollar sign is escaped (``\\$``) so two amounts in one text are not read as mathtext.
    """
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ").replace("$", r"\$")
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{_number(abs(value))}"


def _tick(value: float, decimals: int | None = None) -> str:
    """Number with thousands separators and a true minus sign (no ``-0`` or rounding noise)."""
    value = round(float(value), 10)
    if decimals is None:
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"
    else:
        text = f"{value:,.{decimals}f}"
    return "0" if value == 0 and not decimals else text.replace("-", "−")


class _Grouped(Formatter):
    """Tick labels with thousands separators and the same number of decimals on every tick."""

    def __call__(self, value, position=None) -> str:
        return _tick(value)

    def format_ticks(self, values) -> list[str]:
        decimals = max((len(f"{round(abs(v), 6):.6f}".rstrip("0").split(".")[1]) for v in values), default=0)
        return [_tick(v, decimals) for v in values]


def _thousands(*axes) -> None:
    """Thousands separators on each given matplotlib axis (``ax.xaxis``, ``ax.yaxis``)."""
    for axis in axes:
        axis.set_major_formatter(_Grouped())


def _singular(unit: str) -> str:
    """``QALYs`` → ``QALY`` for "per QALY" phrases."""
    return unit[:-1] if unit.endswith("s") and len(unit) > 1 else unit


def _wrap(text: str, width: int = 70) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) if text else ""


def _colours(labels: Sequence[str], colours: Mapping[str, str] | None) -> dict[str, str]:
    """Colour of each label: ``colours`` where given, else the palette in order."""
    chosen = dict(colours or {})
    spare = iter(c for c in PALETTE if c not in chosen.values())
    return {label: chosen.get(label) or next(spare, "0.5") for label in labels}


def _table(table, name: str, columns: Iterable[str]) -> pd.DataFrame:
    """Check ``table`` is a non-empty DataFrame with ``columns``."""
    columns = list(columns)
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{name}: is a {type(table).__name__}, expected a pandas DataFrame with columns {columns}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {missing}; expected columns {columns}, "
                         f"got {list(table.columns)}")
    if table.empty:
        raise InputError(f"{name}: has no rows; expected at least one")
    return table


def _column(table: pd.DataFrame, name: str, column: str, *, allow_nan: bool = False,
            low: float = -np.inf, high: float = np.inf) -> np.ndarray:
    """Column as floats, checking each is finite (or NaN if ``allow_nan``) and within [low, high]."""
    try:
        values = pd.to_numeric(table[column]).to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name}[{column!r}]: could not be read as numbers ({error})") from None
    bad = np.isinf(values) | (np.isnan(values) & (not allow_nan))
    rule = "must be a finite number" + (" or NaN" if allow_nan else "")
    bad_range = ~np.isnan(values) & ((values < low - TOLERANCE) | (values > high + TOLERANCE))
    for mask, why in ((bad, rule), (bad_range, f"must lie in [{low}, {high}]")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            where = table["parameter"].iloc[i] if "parameter" in table.columns else f"index {table.index[i]!r}"
            raise InputError(f"{name}[{column!r}] is {float(values[i])!r} in row {i} ({where}): {why}")
    return values


def _count(value, name: str) -> int:
    """A whole number of at least 1 (e.g. ``max_bars``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} is {value!r}: must be a whole number of at least 1")
    return int(value)


def _labels(table: pd.DataFrame, name: str, column: str = "parameter") -> list[str]:
    """Display labels from a text column (no empty or missing ones)."""
    labels = ["" if pd.isna(v) else str(v) for v in table[column]]
    if "" in labels:
        raise InputError(f"{name}[{column!r}] is empty in row {labels.index('')}: every row needs a label")
    return labels


def _arrange(figure: Figure, *, handles: Sequence | None = None, ncol: int = 3, footnote: str = "",
             legend_title: str | None = None) -> None:
    """Tight layout with a legend (if ``handles``) and a footnote stacked under the axes;
    x labels wider than their axes are wrapped and crowded x tick labels thinned."""
    renderer = figure.canvas.get_renderer()
    height = figure.get_figheight() * figure.dpi
    pad = 4 / height
    bottom = pad
    if footnote:
        text = figure.text(0.01, bottom, footnote, ha="left", va="bottom", **NOTE_STYLE)
        bottom += text.get_window_extent(renderer).height / height + pad
    if handles:
        for columns in range(min(ncol, len(handles)), 0, -1):  # as many columns as fit the width
            legend = figure.legend(handles=list(handles), loc="lower center", bbox_to_anchor=(0.5, bottom),
                                   ncol=columns, frameon=False, title=legend_title)
            if legend.get_window_extent(renderer).width <= 0.98 * figure.get_figwidth() * figure.dpi or columns == 1:
                break
            legend.remove()
        bottom += legend.get_window_extent(renderer).height / height
    rect = (0, bottom, 1, 1)
    figure.tight_layout(rect=rect)
    changed = False
    for axis in figure.axes:
        label = axis.xaxis.label
        width, room = label.get_window_extent(renderer).width, axis.get_window_extent(renderer).width * 1.1
        if label.get_text() and width > room:
            text = label.get_text().replace("\n", " ")
            head, _, units = text.rpartition(" (")
            label.set_text(f"{head}\n({units}")  # units on a line of their own, if that is enough
            if not head or label.get_window_extent(renderer).width > room:
                label.set_text(textwrap.fill(text, max(20, int(len(text) * room / width))))
            changed = True
        if isinstance(axis.xaxis.get_major_formatter(), _Grouped):
            for bins in range(8, 2, -1):  # fewer ticks until their labels no longer touch
                if not _crowded(axis, renderer):
                    break
                axis.xaxis.set_major_locator(MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]))
                changed = True
    if changed:
        figure.tight_layout(rect=rect)


def _crowded(axis, renderer, gap: float = 6.0) -> bool:
    """Whether neighbouring x tick labels (within the limits) are closer than ``gap`` pixels."""
    axis.xaxis.get_tightbbox(renderer)  # brings the ticks up to date
    low, high = sorted(axis.get_xlim())
    labels = [tick.label1 for tick in axis.xaxis.get_major_ticks()
              if low <= tick.get_loc() <= high and tick.label1.get_visible() and tick.label1.get_text()]
    extents = sorted((label.get_window_extent(renderer) for label in labels), key=lambda e: e.x0)
    return any(b.x0 < a.x1 + gap for a, b in zip(extents, extents[1:], strict=False))


def _footnote(*parts: str) -> str:
    """Join non-empty footnote sentences, wrapped to the figure width."""
    return "\n".join(textwrap.fill(p, 105) for p in parts if p)


def _thresholds(axis, thresholds: Mapping[str, float] | None, currency: str) -> None:
    """Dashed vertical lines at named WTP thresholds, named along the top of the axes.

    Call once the x limits are set; labels that would overlap alternate between two rows.
    """
    if not thresholds:
        return
    values = {name: float(as_float_array(value, f"thresholds[{name!r}]", ndim=(0,)))
              for name, value in thresholds.items()}
    ordered = sorted(values.items(), key=lambda item: item[1])
    for _, value in ordered:
        axis.axvline(value, color="0.35", linestyle=(0, (4, 2)), linewidth=1, zorder=1)
    top = axis.secondary_xaxis("top")
    labels = [f"{name}\n{_money(value, currency)}" for name, value in ordered]
    top.set_xticks([value for _, value in ordered], labels=labels)
    top.tick_params(length=3, labelsize=8, colors="0.25")
    figure = axis.figure
    figure.tight_layout()  # provisional, to measure the labels at about their final width
    renderer = figure.canvas.get_renderer()
    texts = top.xaxis.get_ticklabels()
    previous, raised = None, False
    for i, text in enumerate(texts):
        extent = text.get_window_extent(renderer)
        raised = not raised and previous is not None and extent.x0 < previous.x1 + 6
        if raised:
            labels[i] += "\n\n"
        previous = extent
    top.set_xticks([value for _, value in ordered], labels=labels)


def _fit_texts(figure: Figure, axis, texts: Sequence, margin: float = 4.0) -> None:
    """Widen the x limits until each text (anchored in data coordinates) fits inside the axes."""
    renderer = figure.canvas.get_renderer()
    for _ in range(5):
        left, right = axis.get_xlim()
        box = axis.get_window_extent(renderer)
        per_pixel = (right - left) / box.width
        new_left, new_right = left, right
        for text in texts:
            extent = text.get_window_extent(renderer)
            if extent.x1 > box.x1 - margin:
                new_right = max(new_right, right + (extent.x1 - box.x1 + margin) * per_pixel * 1.1)
            if extent.x0 < box.x0 + margin:
                new_left = min(new_left, left - (box.x0 + margin - extent.x0) * per_pixel * 1.1)
        if (new_left, new_right) == (left, right):
            return
        axis.set_xlim(new_left, new_right)


def _title(axis, title: str) -> None:
    if title:
        axis.set_title(_wrap(title))


# --- figures ---------------------------------------------------------------------------------

def plot_ce_plane(
    incremental_costs: Mapping[str, ArrayLike],
    incremental_effects: Mapping[str, ArrayLike],
    *,
    comparator: str,
    wtp: float | None = None,
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
    wtp : float, optional
        Willingness to pay per unit of effect; draws the line ΔC = wtp · ΔE.
    currency, effect_unit : str
        Used in axis labels, e.g. "Incremental cost (USD)", "Incremental QALYs vs BSC".
    colours : mapping of strategy label → colour, optional
        To keep a strategy's colour the same across figures; default: Okabe–Ito in order.
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
    if wtp is not None:
        wtp = float(as_float_array(wtp, "wtp", ndim=(0,)))
    palette = _colours(list(incremental_costs), colours)  # a comparator key keeps its colour, as in the CEAC
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
        if wtp is not None:
            axis.plot(xlim, [wtp * xlim[0], wtp * xlim[1]], color="0.15", linestyle="--", linewidth=1.3, zorder=3)
            handles.append(Line2D([], [], color="0.15", linestyle="--", linewidth=1.3,
                                  label=f"WTP {_money(wtp, currency)} per {unit}"))
        axis.set(xlim=xlim, ylim=ylim, xlabel=f"Incremental {effect_unit} vs {comparator}",
                 ylabel=f"Incremental cost ({currency})")
        _thousands(axis.xaxis, axis.yaxis)
        axis.grid(alpha=0.3)
        _title(axis, title)
        _arrange(figure, handles=handles, ncol=3)
    return figure


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
        Default: Okabe–Ito in column order.
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
    curves = {s: _column(ceac, "ceac", c, low=0.0, high=1.0) for s, c in zip(strategies, ceac.columns, strict=True)}
    runs = []
    if frontier is not None:
        _table(frontier, "frontier", ("wtp", "strategy", "probability_cost_effective"))
        frontier = frontier.sort_values("wtp")
        f_wtp = _column(frontier, "frontier", "wtp")
        f_prob = _column(frontier, "frontier", "probability_cost_effective", low=0.0, high=1.0)
        f_strategy = [str(s) for s in frontier["strategy"]]
        unknown = sorted(set(f_strategy) - set(strategies))
        if unknown:
            raise InputError(f"frontier['strategy']: {unknown} are not columns of ceac {strategies}")
        start = 0
        for i in range(1, len(f_strategy) + 1):  # contiguous runs of the same optimal strategy
            if i == len(f_strategy) or f_strategy[i] != f_strategy[start]:
                runs.append((f_strategy[start], f_wtp[start:i], f_prob[start:i]))
                start = i
    palette = _colours(strategies, colours)
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
            for (_, before, _), (_, after, _) in zip(runs, runs[1:], strict=False):
                axis.axvline((before[-1] + after[0]) / 2, color="0.2", linestyle=":", linewidth=1.2, zorder=1)
            if len(runs) > 1:
                handles.append(Line2D([], [], color="0.2", linestyle=":", linewidth=1.2,
                                      label="Change of optimal strategy"))
        axis.set(xlim=(wtp[0], wtp[-1]) if len(wtp) > 1 else None, ylim=(-0.02, 1.02),
                 xlabel=f"Willingness to pay ({currency} per {effect_unit})", ylabel="Probability cost-effective")
        _thousands(axis.xaxis)
        _thresholds(axis, thresholds, currency)
        axis.grid(alpha=0.3)
        _title(axis, title)
        _arrange(figure, handles=handles, ncol=3)
    return figure


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
    _table(evpi, "evpi", ("wtp", "evpi"))
    evpi = evpi.sort_values("wtp")
    wtp = _column(evpi, "evpi", "wtp")
    value = _column(evpi, "evpi", "evpi", low=0.0)
    peak = int(np.argmax(value))
    ylabel = f"Population EVPI ({currency})" if population else f"EVPI per patient ({currency})"
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH, 4.0))
        axis.plot(wtp, value, color=PALETTE[0], linewidth=1.8)
        axis.plot(wtp[peak], value[peak], "o", color=PALETTE[0], markersize=6, markeredgecolor="black")
        handles = [Line2D([], [], color=PALETTE[0], linewidth=1.8, label="Population EVPI" if population else "EVPI"),
                   Line2D([], [], marker="o", linestyle="", color=PALETTE[0], markeredgecolor="black",
                          label=f"Maximum {_money(value[peak], currency)} at "
                                f"{_money(wtp[peak], currency)} per {effect_unit}")]
        top = value.max() * 1.08 if value.max() > 0 else 1.0
        axis.set(xlim=(wtp[0], wtp[-1]) if len(wtp) > 1 else None, ylim=(0, top),
                 xlabel=f"Willingness to pay ({currency} per {effect_unit})", ylabel=ylabel)
        _thousands(axis.xaxis, axis.yaxis)
        _thresholds(axis, thresholds, currency)
        axis.grid(alpha=0.3)
        _title(axis, title)
        _arrange(figure, handles=handles, ncol=3)
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
    """
    _table(table, "table", ("parameter", "evppi"))
    max_bars = _count(max_bars, "max_bars")
    labels = _labels(table, "table")
    values = _column(table, "table", "evppi", low=0.0)
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
    shown_labels = [textwrap.fill(labels[i], LABEL_WIDTH) for i in order]
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
    with plt.rc_context(STYLE):
        lines = max(text.count("\n") + 1 for text in shown_labels)
        height = 1.8 + max(0.32, 0.15 * lines + 0.06) * max(len(order), 3)
        figure, axis = plt.subplots(figsize=(WIDTH, height))
        y = np.arange(len(order))
        axis.barh(y, shown, color=PALETTE[0], height=0.65, zorder=2)
        right = max(shown.max(), evpi or 0.0) or 1.0
        texts = [axis.annotate(_money(v, currency) + (f" ({v / evpi:.0%} of EVPI)" if evpi else ""), (v, yi),
                               xytext=(3, 0), textcoords="offset points", va="center", ha="left", fontsize=8)
                 for yi, v in zip(y, shown, strict=True)]
        handles = []
        if evpi is not None:
            axis.axvline(evpi, color=PALETTE[1], linestyle="--", linewidth=1.5, zorder=3)
            handles.append(Line2D([], [], color=PALETTE[1], linestyle="--", linewidth=1.5,
                                  label=f"EVPI (all parameters): {_money(evpi, currency)}"))
        axis.set(yticks=y, yticklabels=shown_labels, ylim=(len(order) - 0.5, -0.5), xlim=(0, right * 1.05),
                 xlabel=xlabel)
        _thousands(axis.xaxis)
        axis.grid(axis="x", alpha=0.3, zorder=0)
        _title(axis, title)
        _arrange(figure, handles=handles, footnote=_footnote(*notes))
        _fit_texts(figure, axis, texts)
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
    """
    _table(table, "table", ("n", "comparison", "mean", "lower", "upper"))
    n = _column(table, "table", "n", low=1)
    mean, lower, upper = (_column(table, "table", c) for c in ("mean", "lower", "upper"))
    outside = (lower > mean + TOLERANCE * np.abs(mean)) | (mean > upper + TOLERANCE * np.abs(mean))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(f"table row {i}: lower {lower[i]!r}, mean {mean[i]!r}, upper {upper[i]!r}: "
                         "need lower <= mean <= upper")
    comparisons = [str(c) for c in dict.fromkeys(table["comparison"])]
    palette = _colours(comparisons, colours)
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
        _thousands(axis.xaxis, axis.yaxis)
        axis.grid(alpha=0.3)
        _title(axis, title)
        _arrange(figure, handles=handles, ncol=3)
    return figure
