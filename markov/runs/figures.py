"""The figures of an analysis, each built in one place: the writers save them under a
results directory and the Python API returns them (``markov.api``).

Figures take the tidy tables of the decision analysis (keyed by strategy, with labels)
and name strategies by their labels; a strategy keeps its colour in every figure of its
population (its place among all the population's strategies).
"""
from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._validate import InputError
from ..decision import voi
from ..inputs import ModelInputs
from ..inputs.networks import FittedNetwork
from ..models import Model, ModelVsData, StrategyResult
from ..plots import (
    DEFAULT_FIGURE_FORMATS,
    figure_formats,
    plot_acceptability,
    plot_calibration,
    plot_ce_plane,
    plot_convergence,
    plot_evpi,
    plot_evppi,
    plot_extrapolation,
    plot_forest,
    plot_hazards,
    plot_log_cumulative_hazard,
    plot_model_vs_data,
    plot_moment_independent,
    plot_morris,
    plot_sensitivity_indices,
    plot_state_occupancy,
    plot_tornado,
    plot_two_way,
    save_figure,
    strategy_colours,
)
from ..plots.style import footnote_text, money
from ..probabilistic.psa import Progress, PSAResults
from ..results import FIT_FIGURES
from ..survival import KaplanMeier, ModelComparison, model_label
from .tables import thresholds_labels, thresholds_of

#: Inputs whose EVPPI per patient is below this (in the analysis's currency) are left out of its figure.
EVPPI_SHOWN_FROM = 0.5
#: The CE plane shows at most this many samples (more only hide each other).
CE_PLANE_MAX_POINTS = 20_000


#: Progress of the phases of a run: ``phases(label, unit)`` gives the ``progress(done, total)``
#: of one phase (the command line draws a bar per phase; None shows nothing).
Phases = Callable[[str, str], Progress]


def save(figure: Figure, path: Path, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
    """Write ``figure`` in each format under ``path`` (its stem) and free its memory; returns the files."""
    try:
        return save_figure(figure, path, formats)
    finally:
        plt.close(figure)


class FigureWriter:
    """The figures of one phase of a run, written when :meth:`write` is called: each built,
    saved in ``formats`` and freed in turn (one figure in memory at a time), with a
    progress bar ("Writing figures 12/24") when ``phases`` is given.

    With ``workers`` above 1 (where processes can be forked: not on Windows or macOS),
    up to ``workers - 1`` figures are drawn in forked copies of this process while it
    goes on, from the moment they are added: drawing overlaps the analysis that follows
    (the EVPPI) and the other figures. A figure is the same whichever process draws it.
    An error in drawing one is raised by :meth:`write` once every other figure is written
    (the first added of any that failed), whenever its process ended.
    """

    def __init__(self, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS, phases: Phases | None = None,
                 workers: int = 1) -> None:
        self.formats, self.phases = figure_formats(formats), phases
        self._jobs: list[tuple[int, Path, Callable[[], Figure | None]]] = []  # (order added, stem, build)
        forking = workers > 1 and sys.platform.startswith("linux")
        self._helpers = workers - 1 if forking else 0
        self._drawing: dict[int, _Drawing] = {}  # figures being drawn by forked processes
        self._written: dict[int, list[Path]] = {}  # each figure's files, by the order it was added in
        self._failed: dict[int, Exception] = {}  # each forked figure's error, by the order it was added in
        self._added = 0

    def add(self, path: Path, build: Callable[..., Figure | None], *args, **kwargs) -> None:
        """Write ``build(*args, **kwargs)`` (a figure, or None for none) under the stem ``path``."""
        self._jobs.append((self._added, path, partial(build, *args, **kwargs)))
        self._added += 1
        self._hand_out()

    def _hand_out(self) -> None:
        """Start waiting figures in forked processes, as many as are free."""
        self._collect(wait=False)
        while self._jobs and len(self._drawing) < self._helpers:
            order, path, build = self._jobs.pop(0)
            self._drawing[order] = _Drawing(path, build, self.formats)

    def _collect(self, wait: bool) -> None:
        """Take the files, or the error, of the forked processes that have finished (all
        of them, with ``wait``)."""
        finished = [order for order, drawing in self._drawing.items() if wait or drawing.done()]
        for order in finished:
            drawing = self._drawing.pop(order)
            try:
                self._written[order] = drawing.files()
            except Exception as error:  # noqa: BLE001 - kept for write(), which raises it once the others are done
                self._failed[order] = error
            finally:
                drawing.join()

    def write(self) -> list[Path]:
        """Build and write every figure added since the last call; returns the files."""
        total = len(self._jobs) + len(self._drawing)
        progress = self.phases("Writing figures", "figures") if self.phases and total else None
        if progress:  # the phase says when it starts, before forked processes report any figure done
            progress(0, total)
        try:
            while self._jobs:
                order, path, build = self._jobs.pop(0)
                figure = build()
                self._written[order] = [] if figure is None else save(figure, path, self.formats)
                self._hand_out()
                if progress and self._jobs:
                    progress(total - len(self._jobs) - len(self._drawing), total)
        finally:  # after an error too, every process is waited for and nothing is left for the next call
            try:
                self._collect(wait=True)
            finally:
                written, failed = self._written, self._failed
                self._written, self._failed, self._jobs = {}, {}, []
        if failed:
            raise failed[min(failed)]
        if progress:
            progress(total, total)
        return [file for order in sorted(written) for file in written[order]]


class _Drawing:
    """One figure drawn and saved by a forked copy of this process."""

    def __init__(self, path: Path, build: Callable[[], Figure | None], formats: tuple[str, ...]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_draw, args=(send, path, build, formats), daemon=True)
        self._process.start()
        send.close()

    def done(self) -> bool:
        return self._receive.poll()

    def files(self) -> list[Path]:
        """The files written (waiting for them), or the error raised in drawing them."""
        try:
            files, error = self._receive.recv()
        except EOFError:  # the process died without a word
            self._process.join()
            files, error = None, OSError(f"a figure's process ended with exit code {self._process.exitcode}")
        if error is not None:
            raise error
        return files

    def join(self) -> None:
        self._process.join()
        self._receive.close()


def _draw(send, path: Path, build: Callable[[], Figure | None], formats: tuple[str, ...]) -> None:
    try:
        figure = build()
        send.send(([] if figure is None else save(figure, path, formats), None))
    except BaseException as error:  # noqa: BLE001 - whatever it is, the parent raises it
        try:
            send.send((None, error))
        except Exception:  # noqa: BLE001 - an error that cannot be pickled is sent as text
            send.send((None, RuntimeError(f"{type(error).__name__}: {error}")))


def _title(inputs: ModelInputs, population: str, what: str) -> str:
    return f"{what}: {inputs.populations[population].label}"


def _money(inputs: ModelInputs, wtp: float) -> str:
    """A willingness to pay as figures print it: ``$150,000``, ``£20,000``."""
    return money(wtp, inputs.perspective.currency)


# ---------------------------------------------------------------------------------
# base case
# ---------------------------------------------------------------------------------

def calibration_figure(model: Model, results: list[StrategyResult], calibration: pd.DataFrame, population: str
                       ) -> Figure:
    """Model-implied OS and PFS of each strategy beside the reported medians and landmarks."""
    chosen = [r for r in results if r.population == population]
    return plot_calibration(model.grid.times_years * 12.0, {r.label: r.survival() for r in chosen},
                            calibration[calibration["population"] == population],
                            title=_title(model.inputs, population, "Calibration"))


def model_vs_data_figure(model: Model, results: list[StrategyResult], comparison: ModelVsData,
                         calibration: pd.DataFrame, population: str) -> Figure:
    """Model-implied OS of each strategy of ``population`` whose targets name data, over the
    data's Kaplan–Meier curve with its CI and numbers at risk, and the reported OS points."""
    rows = comparison.summary[comparison.summary["population"] == population]
    chosen = {r.strategy: r for r in results if r.population == population}
    return plot_model_vs_data(
        model.grid.times_years * 12.0, {chosen[s].label: chosen[s].survival()["OS"] for s in rows["strategy"]},
        {chosen[s].label: comparison.kaplan_meier[population, s] for s in rows["strategy"]}, rows,
        calibration[calibration["population"] == population],
        title=_title(model.inputs, population, "Model overall survival against trial data"))


def occupancy_figure(model: Model, results: list[StrategyResult], population: str) -> Figure:
    """State occupancy of each strategy over time in the base case."""
    chosen = [r for r in results if r.population == population]
    return plot_state_occupancy(model.grid.times_years * 12.0, {r.label: r.trace.occupancy[0] for r in chosen},
                                {r.label: r.state_names for r in chosen},
                                title=_title(model.inputs, population, "State occupancy, base case"))


# ---------------------------------------------------------------------------------
# curves fitted to patient-level data (NICE DSU TSD 14)
# ---------------------------------------------------------------------------------

def _fitted_curves(comparison: ModelComparison, chosen: str) -> tuple[dict, dict]:
    """Every usable candidate's curve by label, and its line style: the chosen model thick,
    splines dashed. Weibull's PH form is the same curve as its AFT form: it is drawn once."""
    fits = comparison.usable()
    both = "weibull" in fits and "weibullPH" in fits
    if both:
        fits.pop("weibull" if chosen == "weibullPH" else "weibullPH")
    curves, styles = {}, {}
    for i, (name, result) in enumerate(fits.items()):
        label = "Weibull (AFT and PH)" if both and name.startswith("weibull") else model_label(name)
        label += " (chosen)" if name == chosen else ""
        curves[label] = result.curve
        styles[label] = {"color": f"C{i % 10}", "linestyle": "--" if name.startswith("spline") else "-",
                         **({"linewidth": 2.6, "zorder": 4} if name == chosen else {})}
    return curves, styles


def fitted_curve_figure(kind: str, comparison: ModelComparison, *, chosen: str, title: str, horizon: float,
                        arms: Mapping[str, KaplanMeier], reported: pd.DataFrame | None = None) -> Figure:
    """A figure of a curve fitted to patient-level data (``kind``, one of :data:`FIT_FIGURES`).

    ``fit_observed``: the Kaplan–Meier estimate with its 95% CI and numbers at risk, with
    every usable candidate, within follow-up; ``fit_extrapolation``: the same to
    ``horizon`` (in the data's time unit), with survival reported from data the fits did
    not see (``reported``, as :func:`markov.plots.plot_extrapolation` takes it);
    ``fit_hazards``: the kernel-smoothed hazard
    beside the candidates' hazards, to three times the follow-up (at most ``horizon``);
    ``fit_log_cumulative_hazard``: log(−log S) against log time of every arm of the data
    file (``arms``, Kaplan–Meier estimates by label), for the proportional-hazards and shape
    checks. ``chosen`` names the model the analysis uses.
    """
    if kind not in FIT_FIGURES:
        raise InputError(f"kind is {kind!r}: a figure of a fitted curve is one of {', '.join(FIT_FIGURES)}")
    if kind == "fit_log_cumulative_hazard":
        return plot_log_cumulative_hazard(arms, title=f"{title}\nLog cumulative hazard by arm")
    data = comparison.data
    unit, follow_up = data.time_unit, float(data.time.max())
    curves, styles = _fitted_curves(comparison, chosen)
    if kind == "fit_hazards":
        return plot_hazards(data.time, data.event, curves, time_unit=unit, horizon=min(horizon, 3 * follow_up),
                            styles=styles, title=f"{title}\nObserved and fitted hazards")
    km = KaplanMeier.fit(data.time, data.event, time_unit=unit)
    if kind == "fit_observed":
        end = float(MaxNLocator(steps=[1, 2, 3, 5, 6, 10]).tick_values(0, follow_up)[-1])
        return plot_extrapolation(km, curves, horizon=end, styles=styles,
                                  title=f"{title}\nCandidate fits within follow-up")
    return plot_extrapolation(km, curves, horizon=horizon, styles=styles, reported=reported,
                              title=f"{title}\nCandidate fits extrapolated to {horizon:g} {unit}")


# ---------------------------------------------------------------------------------
# probabilistic analysis
# ---------------------------------------------------------------------------------

def analysis_colours(inputs: ModelInputs) -> dict[str, str]:
    """One colour per strategy label, fixed by the analysis (its strategies in the order of
    its populations), so that a strategy has the same colour in every figure of every
    population, and in the reports that show them side by side."""
    labels = [strategy.label for population in inputs.populations.values()
              for strategy in population.strategies.values()]
    return strategy_colours(list(dict.fromkeys(labels)))


def ce_plane_figure(psa: PSAResults, inputs: ModelInputs, population: str,
                    wtp: float | Sequence[float] | None = None, max_points: int = CE_PLANE_MAX_POINTS) -> Figure:
    """Incremental costs and QALYs of each strategy against the population's comparator
    (as :func:`markov.decision.probabilistic.ce_plane` tabulates them), the first
    ``max_points`` samples drawn and the mean of all marked, with a line at each ``wtp``
    (default: the analysis's thresholds)."""
    costs, effects, strategies = psa.costs_and_effects(population)
    labels = dict(zip(strategies, psa.strategy_labels(population), strict=True))
    c = strategies.index(psa.comparisons[population][1])
    shown = min(psa.n_samples, max_points)
    samples = f"{psa.n_samples:,} PSA samples" if shown == psa.n_samples else \
        f"first {shown:,} of {psa.n_samples:,} PSA samples"
    # every sample's increments for the means, without a table of them all (a large PSA's would be large)
    increments = {labels[s]: (costs[:, j] - costs[:, c], effects[:, j] - effects[:, c])
                  for j, s in enumerate(strategies) if j != c}
    return plot_ce_plane({label: cost[:shown] for label, (cost, _) in increments.items()},
                         {label: effect[:shown] for label, (_, effect) in increments.items()},
                         comparator=labels[strategies[c]],
                         wtp=sorted(thresholds_of(inputs).values()) if wtp is None else wtp,
                         currency=inputs.perspective.currency,
                         means={label: (effect.mean(), cost.mean()) for label, (cost, effect) in increments.items()},
                         colours=analysis_colours(inputs),
                         title=_title(inputs, population, f"Cost-effectiveness plane ({samples})"))


def acceptability_wide(ceac: pd.DataFrame) -> pd.DataFrame:
    """The acceptability curves as written and drawn: index ``wtp``, a column per strategy label."""
    order = list(dict.fromkeys(ceac["label"]))
    return ceac.pivot(index="wtp", columns="label", values="probability_cost_effective")[order].rename_axis(
        "strategy", axis=1)


def frontier_by_label(frontier: pd.DataFrame) -> pd.DataFrame:
    """The frontier as written and drawn: ``strategy`` holds the label."""
    return frontier.drop(columns=["population", "strategy"]).rename(columns={"label": "strategy"})


def acceptability_figure(psa: PSAResults, inputs: ModelInputs, population: str, ceac: pd.DataFrame,
                         frontier: pd.DataFrame) -> Figure:
    """CEACs with the frontier (tables from :mod:`markov.decision.probabilistic`)."""
    return plot_acceptability(acceptability_wide(ceac), frontier_by_label(frontier),
                              currency=inputs.perspective.currency,
                              thresholds=thresholds_labels(thresholds_of(inputs)), colours=analysis_colours(inputs),
                              title=_title(inputs, population, "Cost-effectiveness acceptability"))


def evpi_figure(inputs: ModelInputs, population: str, evpi: pd.DataFrame, *, annual_patients: float | None = None,
                decision_years: float | None = None) -> Figure:
    """EVPI per patient by willingness to pay, or for the population when ``evpi`` has a
    ``population_evpi`` column and the patient numbers are given."""
    thresholds = thresholds_labels(thresholds_of(inputs))
    currency = inputs.perspective.currency
    if annual_patients is None:
        return plot_evpi(evpi, currency=currency, thresholds=thresholds,
                         title=_title(inputs, population, "Expected value of perfect information per patient"))
    rate = inputs.evidence[inputs.perspective.discount_rate_costs].value.value
    return plot_evpi(evpi.assign(evpi=evpi["population_evpi"]), currency=currency, population=True,
                     thresholds=thresholds,
                     title=_title(inputs, population, f"Population EVPI ({annual_patients:,.0f} patients a year for "
                                                      f"{decision_years:g} years, discounted at {rate:.1%})"))


def evppi_figure(inputs: ModelInputs, population: str, evppi: pd.DataFrame, evpi_at_wtp: float) -> Figure:
    """EVPPI per patient of the single inputs with any (largest first, at most 15), beside
    the EVPI. Groups of inputs (all of one source) are not ranked among them, since their
    values overlap those of their members: the largest are named in a footnote. When no
    single input has any, the figure says so in place of the bars."""
    wtp = float(evppi["wtp"].iloc[0])
    at = f"{_money(inputs, wtp)}/QALY"
    currency = inputs.perspective.currency
    single = evppi["parameter"].isin(list(inputs.uses))
    some = evppi["evppi"] >= EVPPI_SHOWN_FROM
    shown = evppi[single & some].assign(parameter=lambda t: [inputs.label(p) for p in t["parameter"]])
    groups = evppi[~single & some].sort_values("evppi", ascending=False)
    zero = int((single & ~some).sum())
    below = f"below {money(EVPPI_SHOWN_FROM, currency)} per patient"
    notes = [f"{zero} input{'s' if zero != 1 else ''} with no EVPPI ({below}) not shown."
             if zero and not shown.empty else ""]
    if len(groups):
        notes.append("The inputs of one source together: " + "; ".join(
            f"{inputs.source_label(row.parameter)}, {money(row.evppi, currency)}" for row in groups.head(4).itertuples())
            + ("." if len(groups) <= 4 else f", and {len(groups) - 4} more sources."))
    return plot_evppi(shown, evpi=evpi_at_wtp, currency=currency, wtp_label=at, max_bars=15,
                      footnote=" ".join(n for n in notes if n),
                      if_none=f"EVPPI is zero for every single input at {at}\n(each of the {zero} inputs {below})",
                      title=_title(inputs, population, f"EVPPI per patient at {at}"))


def convergence_by_label(convergence: pd.DataFrame) -> pd.DataFrame:
    """The running means as written and drawn: ``comparison`` holds the label."""
    return convergence.drop(columns=["population", "strategy"]).rename(columns={"label": "comparison"})[
        ["n", "comparison", "mean", "lower", "upper"]]


def convergence_figure(psa: PSAResults, inputs: ModelInputs, population: str, convergence: pd.DataFrame,
                       wtp: float) -> Figure:
    """Running mean of each strategy's incremental NMB against the comparator."""
    comparator = dict(zip(psa.strategies(population), psa.strategy_labels(population), strict=True))[
        psa.comparisons[population][1]]
    return plot_convergence(convergence_by_label(convergence),
                            ylabel=f"Incremental NMB vs {comparator} ({inputs.perspective.currency})",
                            colours=analysis_colours(inputs),
                            title=_title(inputs, population, f"PSA convergence, NMB at {_money(inputs, wtp)}/QALY"))


def evpi_at(psa: PSAResults, population: str, wtp: float) -> float:
    """EVPI per patient at one ``wtp``, over the samples whose inputs are held (as the EVPPI)."""
    return voi.evpi(psa.net_benefit(population, wtp)[:len(psa.parameters)])


# ---------------------------------------------------------------------------------
# sensitivity analyses
# ---------------------------------------------------------------------------------

def _versus(inputs: ModelInputs, population: str) -> str:
    spec = inputs.populations[population]
    intervention, comparator = (spec.strategies[s].label for s in (spec.comparison.intervention,
                                                                    spec.comparison.comparator))
    return f"{intervention} vs {comparator}"


def tornado_figure(inputs: ModelInputs, population: str, table: pd.DataFrame) -> Figure | None:
    """The tornado of a :func:`markov.decision.dsa.tornado_table`; None for an ICER tornado
    whose base case is outside the north-east quadrant (the NMB tornado then says it all)."""
    measure, wtp, base = table.attrs["measure"], table.attrs["wtp"], table.attrs["base"]
    currency = inputs.perspective.currency
    if measure == "nmb":
        axis = f"Incremental NMB at {_money(inputs, wtp)}/QALY ({currency})"
    elif np.isfinite(base):
        axis = f"ICER ({currency} per QALY gained)"
    else:
        return None
    return plot_tornado(table, base=base, outcome_label=axis,
                        title=_title(inputs, population, f"One-way sensitivity, {_versus(inputs, population)}"))


def two_way_figure(inputs: ModelInputs, population: str, grid: pd.DataFrame, xs, ys, incremental, best, labels,
                   wtp: float, *, optimal: bool = False) -> Figure:
    """A heat map of a two-way analysis (:func:`markov.decision.dsa.two_way_grid`): the
    intervention's incremental NMB, or (``optimal``) the strategy with the highest NMB."""
    x, y, money = grid.attrs["x"], grid.attrs["y"], _money(inputs, wtp)
    common = {"x_label": inputs.label(x), "y_label": inputs.label(y),
              "base_point": (grid.attrs["x_base"], grid.attrs["y_base"])}
    if optimal:
        return plot_two_way(xs, ys, best, **common, z_label="Strategy with the highest NMB", categories=labels,
                            title=_title(inputs, population, f"Optimal strategy at {money}/QALY"))
    return plot_two_way(xs, ys, incremental, **common,
                        z_label=f"Incremental NMB, {_versus(inputs, population)} ({inputs.perspective.currency})",
                        title=_title(inputs, population, f"Two-way sensitivity at {money}/QALY"))


def global_sensitivity_figure(inputs: ModelInputs, population: str, method: str, table: pd.DataFrame, wtp: float,
                              size: str) -> Figure:
    """The indices of one population from :mod:`markov.decision.gsa` (``size``: the design
    or PSA it came from, for the title)."""
    outcome = f"incremental NMB at {_money(inputs, wtp)}/QALY"
    versus = _versus(inputs, population)
    if method == "sobol":
        return plot_sensitivity_indices(table.assign(parameter=table["label"]),
                                        title=_title(inputs, population, f"Sobol indices of the {outcome}, {versus} "
                                                                         f"({size})"))
    if method == "morris":
        return plot_morris(table.assign(parameter=table["label"]),
                           outcome_label=f"incremental NMB, {inputs.perspective.currency}", n_labels=6,
                           title=_title(inputs, population, f"Morris screening of the {outcome}, {versus} ({size})"))
    shown = table.assign(parameter=table["label"], value=table["delta"], conf=table["delta_conf"]) \
        if method == "delta" else table.assign(parameter=table["label"], value=table["median"])
    name = "PAWN" if method == "pawn" else "Delta"
    return plot_moment_independent(shown, measure=method,
                                   title=_title(inputs, population, f"{name} indices of the {outcome} ({size})"))


# ---------------------------------------------------------------------------------
# network meta-analysis
# ---------------------------------------------------------------------------------

def forest_figure(network: FittedNetwork) -> Figure:
    """Each treatment of a network against its reference: the trials that compare them
    directly and both models' estimates, with heterogeneity and inconsistency underneath."""
    analysis, file = network.analysis, network.file
    heterogeneity, inconsistency = analysis.heterogeneity, analysis.inconsistency
    method = "REML" if heterogeneity.tau2_method == "reml" else "DerSimonian-Laird"
    spread = (heterogeneity.note.capitalize() + "." if heterogeneity.note else
              f"Heterogeneity: Q = {heterogeneity.q:.2f} on {heterogeneity.df} df (p = {heterogeneity.p_value:.2g}), "
              f"I² = {heterogeneity.i2:.0%}; τ² ({method}) = {heterogeneity.tau2:.3g}.")
    loops = (inconsistency.note.capitalize() + "." if inconsistency.note else
             f"Inconsistency (design-by-treatment): Q = {inconsistency.q_fixed:.2f} on {inconsistency.df} df "
             f"(p = {inconsistency.p_fixed:.2g}).")
    return plot_forest(analysis.forest_table(), reference=file.treatments[file.reference], labels=file.treatments,
                       title=f"{file.outcome.capitalize()}: network meta-analysis ({network.name})",
                       footnote=footnote_text(spread, loops, f"The analysis uses the {file.model}-effects model."))
