"""The house style every figure shares, and how figures are written.

- :data:`STYLE` (matplotlib rc settings), :data:`WIDTH` and :data:`PALETTE`;
- :func:`strategy_colours`: one colour per strategy, the same in every figure that is
  given the same mapping;
- numbers and money as printed (:func:`number`, :func:`money`, :func:`thousands` for
  tick labels);
- layout: :func:`arrange` (legend and footnote under the axes, wrapped x labels,
  thinned ticks), :func:`footnote_text`, :func:`mark_thresholds` (named
  willingness-to-pay lines), :func:`fit_texts` and :func:`set_title`;
- :func:`save_figure`: PNG (300 dpi) and SVG by default, PDF on request (:data:`FIGURE_FORMATS`).
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # figures are written to files; no display is needed
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from .._files import write_atomically
from .._validate import InputError, as_float_array
from ..inputs.money import CURRENCY_SYMBOLS

#: Sizes readable at dossier width (a 16 cm figure).
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.dpi": 100, "savefig.dpi": 300}
#: Okabe & Ito (2008) colour-blind-safe palette, darkest-contrast colours first.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
WIDTH = 6.3  # inches: a 16 cm dossier column
LABEL_WIDTH = 32  # characters per line of a parameter label
NOTE_STYLE = {"fontsize": 8, "color": "0.3"}
#: Formats a figure can be written in, and those written unless others are asked for
#: (PNG for documents, SVG for the HTML report and editing; PDF on request).
FIGURE_FORMATS = ("png", "svg", "pdf")
DEFAULT_FIGURE_FORMATS = ("png", "svg")


def figure_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """The figure formats asked for (``"png,svg,pdf"`` or a sequence), checked against
    :data:`FIGURE_FORMATS`, in the order given and each once."""
    asked = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = tuple(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in asked if str(f).strip()))
    wrong = [f for f in chosen if f not in FIGURE_FORMATS]
    if wrong or not chosen:
        raise InputError(f"figure formats {formats!r}: give one or more of {', '.join(FIGURE_FORMATS)}, separated by "
                         f"commas (e.g. png,svg,pdf)")
    return chosen


def save_figure(figure: Figure, path: str | Path, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
    """Write ``figure`` as ``path`` with each suffix in ``formats`` (:func:`figure_formats`),
    each file whole or not at all (:func:`markov._files.write_atomically`); returns the paths."""
    formats = figure_formats(formats)
    stem = Path(path).with_suffix("")
    written = []
    for suffix in formats:
        target = stem.with_suffix(f".{suffix}")
        written.append(write_atomically(target, lambda partial, suffix=suffix: figure.savefig(
            partial, format=suffix, bbox_inches="tight", dpi=STYLE["savefig.dpi"])))
    return written


def strategy_colours(labels: Sequence[str], colours: Mapping[str, str] | None = None) -> dict[str, str]:
    """Colour of each label: ``colours`` where it names one, else the next palette colour not already taken.

    Called with a population's full list of strategies and no ``colours``, it gives each
    strategy the palette colour of its position in that list; pass that mapping as
    ``colours`` to every figure of the population (CE plane, CEAC, convergence) and a
    strategy keeps its colour even in a figure that leaves some strategies out.

    Parameters
    ----------
    labels : sequence of str
        The labels to colour, in order.
    colours : mapping of label → colour, optional
        Colours already chosen; labels it does not name take the palette in order
        (grey once the palette runs out).
    """
    chosen = dict(colours or {})
    spare = iter(c for c in PALETTE if c not in chosen.values())
    return {label: chosen.get(label) or next(spare, "0.5") for label in labels}


def number(value: float) -> str:
    """Thousands separators for large numbers, up to 3 significant digits for small ones."""
    if not np.isfinite(value):
        return str(value)
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return text.replace("-", "−")  # a true minus sign, as on the tick labels


def money(value: float, currency: str) -> str:
    """``$150,000`` for USD, ``£20,000`` for GBP, ``CHF 50,000`` for currencies without a symbol.

    A dollar sign is escaped (``\\$``) so two amounts in one text are not read as mathtext.
    """
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ").replace("$", r"\$")
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{number(abs(value))}"


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


def thousands(*axes) -> None:
    """Thousands separators on each given matplotlib axis (``ax.xaxis``, ``ax.yaxis``)."""
    for axis in axes:
        axis.set_major_formatter(_Grouped())


def wrapped(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken between words only (never
    inside "Child-Pugh" or a long name)."""
    return "\n".join(textwrap.wrap(str(text), width, break_on_hyphens=False, break_long_words=False))


def set_title(axis, title: str) -> None:
    """The axes title, wrapped to the figure width; none if ``title`` is empty."""
    if title:
        axis.set_title(wrapped(title, 70))


def footnote_text(*parts: str) -> str:
    """Join non-empty footnote sentences, wrapped to the figure width."""
    return "\n".join(wrapped(p, 105) for p in parts if p)


def arrange(figure: Figure, *, handles: Sequence | None = None, ncol: int = 3, footnote: str = "",
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
                label.set_text(wrapped(text, max(20, int(len(text) * room / width))))
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
    return any(b.x0 < a.x1 + gap for a, b in pairwise(extents))


def mark_thresholds(axis, thresholds: Mapping[str, float] | None, currency: str, unit: str = "QALY") -> None:
    """Dashed vertical lines at named WTP thresholds, named along the top of the axes with
    their amount per ``unit`` (``Upper threshold``, ``$150,000/QALY``).

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
    labels = [f"{name}\n{money(value, currency)}/{unit}" for name, value in ordered]
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


def fit_texts(figure: Figure, axis, texts: Sequence, margin: float = 4.0) -> None:
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
