"""The results of a probabilistic sensitivity analysis, with its decision analysis and figures."""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..decision import probabilistic as decide
from ..decision.gsa import groups_by_source
from ..inputs import ModelInputs
from ..probabilistic.psa import PSAResults
from ..runs import figures
from ..runs.tables import default_wtp, icer_summaries, psa_summary, thresholds_of, wtp_grid
from .base_case import _population


class ProbabilisticResults:
    """A PSA's draws and what a decision maker reads from them.

    Tables cover every population unless one is named, and are keyed by ``population``
    and ``strategy`` with each strategy's ``label`` beside it. Without ``wtp``, curves use
    0 up to twice the highest threshold (or beyond the highest ICER on the frontier) and
    single-threshold outputs the highest threshold. Figures are of one population (by
    default the analysis's first) and name strategies by their labels.

    Attributes
    ----------
    psa : PSAResults
        The draws: sampled inputs (``psa.parameters``) and per-sample results
        (``psa.outcomes``).
    """

    def __init__(self, inputs: ModelInputs, psa: PSAResults) -> None:
        self.inputs, self.psa = inputs, psa

    def __repr__(self) -> str:
        return f"ProbabilisticResults({self.inputs.analysis.name!r}, n={self.psa.n_samples:,}, seed={self.psa.seed})"

    @property
    def n_samples(self) -> int:
        return self.psa.n_samples

    def _populations(self, population: str | None) -> list[str]:
        return self.psa.populations if population is None else [_population(self.inputs, population)]

    def _grid(self, wtp) -> np.ndarray:
        return wtp_grid(self.psa, thresholds_of(self.inputs)) if wtp is None else np.atleast_1d(
            np.asarray(wtp, dtype=float))

    def _wtp(self, wtp) -> float:
        return default_wtp(self.inputs) if wtp is None else float(wtp)

    def _each(self, population: str | None, table) -> pd.DataFrame:
        return pd.concat([table(p) for p in self._populations(population)], ignore_index=True)

    # --- tables -------------------------------------------------------------------------
    def outcomes(self, population: str | None = None) -> pd.DataFrame:
        """Per-sample discounted cost (total and by category), life-years and QALYs:
        ``population``, ``strategy``, ``label``, ``sample`` and one column per measure."""
        long = self.psa.long_outcomes()
        if population is not None:
            long = long[long["population"] == _population(self.inputs, population)]
        labels = pd.Series(self.psa.labels)
        long.insert(2, "label", [labels[key] for key in zip(long["population"], long["strategy"], strict=True)])
        return long.reset_index(drop=True)

    @cached_property
    def _summary(self) -> pd.DataFrame:
        return psa_summary(self.psa, thresholds_of(self.inputs))

    def summary(self) -> pd.DataFrame:
        """Mean and 95% interval of cost, life-years and QALYs, and the probability that
        each strategy is cost-effective at each threshold."""
        return self._summary

    def ce_plane(self, population: str | None = None) -> pd.DataFrame:
        """Incremental cost and QALYs of each strategy against its population's comparator,
        in every sample."""
        return self._each(population, lambda p: decide.ce_plane(self.psa, p))

    def ceac(self, wtp=None, population: str | None = None) -> pd.DataFrame:
        """Cost-effectiveness acceptability curves: ``wtp``, ``strategy``, ``label``,
        ``probability_cost_effective`` (summing to 1 at each ``wtp``)."""
        grid = self._grid(wtp)
        return self._each(population, lambda p: decide.acceptability(self.psa, p, grid))

    def ceaf(self, wtp=None, population: str | None = None) -> pd.DataFrame:
        """Cost-effectiveness acceptability frontier: the strategy with the highest expected
        net benefit at each ``wtp``, its probability of being the best and that benefit."""
        grid = self._grid(wtp)
        return self._each(population, lambda p: decide.frontier(self.psa, p, grid))

    def icer_summary(self, population: str | None = None) -> pd.DataFrame:
        """Each strategy against its population's comparator: mean incremental cost and
        QALYs, ICER with its interval where defined, quadrant shares, probability
        cost-effective at each threshold."""
        return self._each(population, lambda p: icer_summaries(self.psa, p, thresholds_of(self.inputs)))

    def evpi(self, wtp=None, population: str | None = None) -> pd.DataFrame:
        """Expected value of perfect information per patient: ``population``, ``wtp``, ``evpi``."""
        grid = self._grid(wtp)
        return self._each(population, lambda p: decide.evpi(self.psa, p, grid))

    def evppi(self, wtp: float | None = None, population: str | None = None,
              groups: dict[str, list[str]] | None = None, *, by_source: bool = True,
              samples: int | None = None) -> pd.DataFrame:
        """Expected value of partial perfect information per patient of each uncertain
        input at ``wtp`` and, with ``by_source``, of each evidence source's inputs together
        (and of any ``groups``), by regression (Strong, Oakley & Brennan 2014), with its
        standard error, on the first ``samples`` draws (default: every draw while the
        regressions are estimated to take at most
        :data:`~markov.decision.voi.EVPPI_TIME_BUDGET` seconds, else as many as fit)."""
        groups = dict(groups or {})
        if by_source:
            groups.update({source: members for source, members in groups_by_source(self.inputs).items()
                           if len(members) > 1})
        wtp = self._wtp(wtp)
        if samples is None:
            samples = decide.evppi_sample_size(self.inputs, len(self.psa.parameters))
        return self._each(population, lambda p: decide.evppi(self.psa, p, wtp, groups or None, samples=samples))

    def convergence(self, wtp: float | None = None, population: str | None = None) -> pd.DataFrame:
        """Running mean of each strategy's incremental net benefit against the comparator,
        with its 95% Monte-Carlo interval, by number of samples."""
        wtp = self._wtp(wtp)
        return self._each(population, lambda p: decide.convergence(self.psa, p, wtp))

    # --- figures ------------------------------------------------------------------------
    def plot_ce_plane(self, population: str | None = None, wtp=None) -> Figure:
        """The cost-effectiveness plane against the comparator, with a line at each ``wtp``
        (a number or several; default: every threshold of the analysis)."""
        population = _population(self.inputs, population)
        return figures.ce_plane_figure(self.psa, self.inputs, population, wtp)

    def plot_ceac(self, population: str | None = None, wtp=None) -> Figure:
        """Acceptability curves and frontier, with the thresholds marked."""
        population = _population(self.inputs, population)
        return figures.acceptability_figure(self.psa, self.inputs, population, self.ceac(wtp, population),
                                            self.ceaf(wtp, population))

    def plot_evpi(self, population: str | None = None, wtp=None) -> Figure:
        """EVPI per patient by willingness to pay."""
        population = _population(self.inputs, population)
        return figures.evpi_figure(self.inputs, population, self.evpi(wtp, population))

    def plot_evppi(self, population: str | None = None, wtp: float | None = None) -> Figure:
        """EVPPI per patient of the inputs and sources with the most, beside the EVPI."""
        population, wtp = _population(self.inputs, population), self._wtp(wtp)
        return figures.evppi_figure(self.inputs, population, self.evppi(wtp, population),
                                    figures.evpi_at(self.psa, population, wtp))

    def plot_convergence(self, population: str | None = None, wtp: float | None = None) -> Figure:
        """Running mean of the incremental net benefit with its Monte-Carlo interval."""
        population, wtp = _population(self.inputs, population), self._wtp(wtp)
        return figures.convergence_figure(self.psa, self.inputs, population, self.convergence(wtp, population), wtp)
