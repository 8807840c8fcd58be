"""The results of a search over treatment sequences (:meth:`markov.Analysis.sequences`)."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._validate import InputError
from ..decision import sequences as ranking
from ..inputs import ModelInputs
from ..models.sequence_search import SequenceRun
from ..plots.sequences import plot_optimal_sequence, plot_sequence_frontier
from ..plots.style import DEFAULT_FIGURE_FORMATS, save_figure
from ..results import (
    SEQUENCE_CEAC,
    SEQUENCE_EVPI,
    SEQUENCE_FRONTIER,
    SEQUENCE_OPTIMAL,
    SEQUENCE_VALUE,
    SEQUENCES,
    ResultsDirectory,
    claim_output,
    record_finished,
    write_table,
)
from ..runs import thresholds_labels, thresholds_of

#: Files written by :meth:`SequenceResults.write` (tables .csv; figures .png and .svg by default).
TABLES = ("sequences", "sequence_frontier", "sequence_optimal", "sequence_ceac", "sequence_evpi",
          "sequence_value_over_usual_care")
FIGURES = ("sequence_frontier", "sequence_optimal")


class SequenceResults:
    """Every sequence of an analysis's rules and the population's own strategies (usual
    care), evaluated on the same base case and PSA draws, and ranked.

    ``table`` ranks them; :meth:`frontier`, :meth:`optimal`, :meth:`ceac`,
    :meth:`ceaf`, :meth:`evpi` and :meth:`value_over_usual_care` are the decision
    analyses, on PSA means (on the base case without draws); :meth:`plot_frontier` and
    :meth:`plot_optimal` the figures; :meth:`write` puts them all in a directory.
    """

    def __init__(self, inputs: ModelInputs, run: SequenceRun) -> None:
        self.inputs, self.run = inputs, run
        search = run.search
        self.keys, self.labels, self.roles = search.keys, search.labels, search.roles
        probabilistic = run.n_samples > 0
        self.cost = run.cost if probabilistic else run.base_cost
        self.qalys = run.qalys if probabilistic else run.base_qalys
        self.life_years = run.life_years if probabilistic else run.base_life_years

    def __repr__(self) -> str:
        return (f"SequenceResults({self.run.search.population!r}, {self.n_sequences} sequences + "
                f"{len(self.keys) - self.n_sequences} usual care, {self.run.n_samples} draws)")

    @property
    def n_sequences(self) -> int:
        return self.run.search.n_sequences

    @property
    def currency(self) -> str:
        return self.inputs.perspective.currency

    @property
    def thresholds(self) -> dict[str, float]:
        return thresholds_of(self.inputs)

    def wtp_grid(self) -> np.ndarray:
        """0 to twice the highest threshold in 50 steps, with every threshold."""
        top = max(self.thresholds.values())
        return np.unique(np.r_[np.linspace(0.0, 2 * top, 51), list(self.thresholds.values())])

    def _wtp(self, wtp) -> np.ndarray:
        return self.wtp_grid() if wtp is None else np.atleast_1d(np.asarray(wtp, dtype=float))

    def _draws(self, what: str) -> None:
        if self.run.n_samples == 0:
            raise InputError(f"{what} needs PSA draws: run the search with n > 0")

    # --- tables -------------------------------------------------------------------------
    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per strategy, best first by expected NMB at the highest threshold:
        ``rank``, ``strategy``, ``label``, ``role`` (sequence or usual care),
        ``first_line``, mean ``cost``, ``qalys``, ``life_years``, frontier ``status`` and
        ``icer``, ``nmb_at_<threshold>`` and ``probability_best_at_<threshold>``, and the
        ``assumptions`` a sequence's positions rest on."""
        search = self.run.search
        table = ranking.ranking_table(self.cost, self.qalys, self.life_years, self.keys, self.labels, self.roles,
                                      search.assumptions, self.thresholds)
        first = {key: search.agent_labels.get(agents[0], agents[0]) if agents else label
                 for key, label, agents in zip(self.keys, self.labels, search.treatments, strict=True)}
        table.insert(4, "first_line", table["strategy"].map(first))
        return table

    def frontier(self) -> pd.DataFrame:
        """Incremental analysis over every sequence and usual-care strategy (strong and
        extended dominance; ICERs along the frontier)."""
        return ranking.frontier(self.cost, self.qalys, self.keys, self.labels)

    def optimal(self, wtp=None) -> pd.DataFrame:
        """The strategy with the largest expected NMB at each willingness to pay (default:
        :meth:`wtp_grid`), with the probability it is the best when there are draws."""
        return ranking.optimal_by_wtp(self.cost, self.qalys, self.keys, self.labels, self._wtp(wtp))

    def ceaf(self, wtp=None) -> pd.DataFrame:
        """The acceptability frontier over sequences: :meth:`optimal` with draws."""
        self._draws("the acceptability frontier")
        return self.optimal(wtp)

    def ceac(self, wtp=None, top: int = 6) -> pd.DataFrame:
        """Probability each of the top strategies is the best, the rest summed in ``others``."""
        self._draws("acceptability")
        return ranking.top_acceptability(self.cost, self.qalys, self.keys, self._wtp(wtp), top)

    def evpi(self, wtp=None) -> pd.DataFrame:
        """Per-patient EVPI over the choice between every strategy."""
        self._draws("EVPI")
        return ranking.sequence_evpi(self.cost, self.qalys, self._wtp(wtp))

    def value_over_usual_care(self, wtp=None) -> pd.DataFrame:
        """The best sequence against the best usual-care strategy, by willingness to pay."""
        return ranking.value_over_usual_care(self.cost, self.qalys, self.keys, self.labels, self.roles,
                                             self._wtp(wtp))

    # --- figures ------------------------------------------------------------------------
    def plot_frontier(self):
        kind = f"means of {self.run.n_samples:,} PSA draws" if self.run.n_samples else "base case"
        n_usual = len(self.keys) - self.n_sequences
        note = (f"{self.n_sequences} sequences and {n_usual} usual-care strategies ({kind}); each ICER is against "
                f"the previous strategy on the frontier.")
        return plot_sequence_frontier(self.table, currency=self.currency, note=note,
                                      wtp=sorted(self.thresholds.values()),
                                      title=f"Treatment sequences: cost-effectiveness frontier ({self._population_label})")

    @property
    def population(self) -> str:
        return self.run.search.population

    @property
    def _population_label(self) -> str:
        return self.inputs.populations[self.population].label

    def plot_optimal(self, wtp=None, top: int = 6):
        names = dict(zip(self.keys, self.labels, strict=True)) | {ranking.OTHERS: "Other sequences"}
        probabilities = self.ceac(wtp, top).rename(columns=names)
        optimal = self.ceaf(wtp).assign(strategy=lambda t: t["strategy"].map(names))
        return plot_optimal_sequence(probabilities, optimal, currency=self.currency,
                                     thresholds=thresholds_labels(self.thresholds),
                                     title=f"Optimal treatment sequence by willingness to pay ({self._population_label})")

    def write(self, out: str | Path, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
        """Every table (CSV) and figure of the search in the results directory ``out``
        (refused if it holds another analysis's results or another command is writing
        there), figures in ``formats`` (PNG and SVG unless asked for others, e.g.
        ``"png,svg,pdf"``), recorded in its ``run.json``."""
        with claim_output(out, self.inputs) as path:
            files = self._write(ResultsDirectory(path), formats)
            record_finished(path, "sequences", population=self.population, sequences=self.n_sequences,
                            psa_samples=self.run.n_samples or None, seed=self.run.seed)
        return files

    def _write(self, directory: ResultsDirectory, formats: str | Sequence[str]) -> list[Path]:
        tables = {SEQUENCES: self.table, SEQUENCE_FRONTIER: self.frontier(), SEQUENCE_OPTIMAL: self.optimal(),
                  SEQUENCE_VALUE: self.value_over_usual_care()}
        if self.run.n_samples:
            tables |= {SEQUENCE_CEAC: self.ceac().reset_index(), SEQUENCE_EVPI: self.evpi()}
        files = [write_table(table, directory.table(stem)) for stem, table in tables.items()]
        figures = {SEQUENCE_FRONTIER: self.plot_frontier}
        if self.run.n_samples:
            figures[SEQUENCE_OPTIMAL] = self.plot_optimal
        for stem, draw in figures.items():
            figure = draw()
            files += save_figure(figure, directory.figure(stem), formats)
            plt.close(figure)
        return files
