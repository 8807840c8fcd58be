"""Probabilistic sensitivity analysis: seeded draws, model runs in chunks, per-sample results.

Draw ``i`` of a PSA seeded ``s`` is ``inputs.transform(uniform_rows(s, i, i + 1, k))``
(:func:`markov.uncertainty.uniform_rows`), and the model computes every sample on its
own, so a PSA split into chunks of any size, run in any order, gives exactly the same
numbers as one run in a single call. Chunks keep memory bounded: a chunk's traces are
reduced to totals before the next chunk starts.

:class:`PSAResults` holds the sampled inputs and the per-sample results; its methods
hand them, one population at a time, to the decision analysis (:mod:`markov.cea`,
:mod:`markov.voi`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import cea, voi
from ._validate import InputError
from .models.hcc import HCCModel, per_sample_table
from .params.load import ModelInputs, ParameterSet
from .uncertainty import uniform_rows

#: Samples evaluated together: about 40 MB of traces per strategy on the weekly grid.
DEFAULT_CHUNK_SIZE = 500

Progress = Callable[[int, int], None]


@dataclass
class PSAResults:
    """Sampled inputs and per-sample results of a probabilistic analysis.

    Attributes
    ----------
    analysis : str
        Name of the analysis.
    seed : int or None
        None for a PSA read back from its tables (:func:`read_psa`).
    parameters : DataFrame
        One row per sample (index ``sample``), one column per uncertain input (its
        evidence reference): the values drawn.
    outcomes : DataFrame
        One row per population, strategy and sample: ``cost``, ``cost_<category>``,
        ``life_years``, ``qalys`` (discounted).
    calibration_unreachable : DataFrame
        Per population and strategy, the samples whose OS median could not be reached.
    labels : dict
        ``(population, strategy)`` -> strategy label.
    comparisons : dict
        Population -> ``(intervention, comparator)``.
    currency : str
    input_labels : dict
        Uncertain input -> readable name with unit and source.
    """

    analysis: str
    seed: int | None
    parameters: pd.DataFrame
    outcomes: pd.DataFrame
    calibration_unreachable: pd.DataFrame
    labels: dict[tuple[str, str], str]
    comparisons: dict[str, tuple[str, str]]
    currency: str
    input_labels: dict[str, str]

    @property
    def n_samples(self) -> int:
        return len(self.parameters)

    @property
    def populations(self) -> list[str]:
        return list(dict.fromkeys(self.outcomes["population"]))

    def strategies(self, population: str) -> list[str]:
        """Strategy names of ``population``, in the order of the model files."""
        rows = self.outcomes[self.outcomes["population"] == population]
        if rows.empty:
            raise InputError(f"population {population!r}: not in these results (populations: "
                             f"{', '.join(self.populations)})")
        return list(dict.fromkeys(rows["strategy"]))

    def wide(self, population: str, column: str = "cost") -> pd.DataFrame:
        """``column`` as a (sample × strategy) table for ``population``."""
        rows = self.outcomes[self.outcomes["population"] == population]
        if column not in rows.columns:
            raise InputError(f"column {column!r}: not a result (known: {', '.join(rows.columns[3:])})")
        return rows.pivot(index="sample", columns="strategy", values=column)[self.strategies(population)]

    def costs_and_effects(self, population: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Costs and QALYs, each (n_samples, n_strategies), and the strategy names."""
        return (self.wide(population, "cost").to_numpy(), self.wide(population, "qalys").to_numpy(),
                self.strategies(population))

    def net_benefit(self, population: str, wtp: float) -> np.ndarray:
        """Net monetary benefit (n_samples, n_strategies) at ``wtp`` per QALY."""
        costs, effects, _ = self.costs_and_effects(population)
        return cea.net_benefit(costs, effects, wtp)

    def incremental_net_benefit(self, population: str, wtp: float) -> np.ndarray:
        """Per sample, the intervention's NMB minus the comparator's (the population's
        comparison) at ``wtp``."""
        intervention, comparator = self.comparisons[population]
        strategies = self.strategies(population)
        nmb = self.net_benefit(population, wtp)
        return nmb[:, strategies.index(intervention)] - nmb[:, strategies.index(comparator)]

    def strategy_labels(self, population: str) -> list[str]:
        return [self.labels[(population, s)] for s in self.strategies(population)]

    # --- decision analysis ----------------------------------------------------------
    def acceptability(self, population: str, wtp) -> pd.DataFrame:
        """CEAC: probability each strategy has the highest NMB (index wtp, columns labels)."""
        costs, effects, _ = self.costs_and_effects(population)
        return cea.acceptability_curve(costs, effects, wtp, self.strategy_labels(population))

    def frontier(self, population: str, wtp) -> pd.DataFrame:
        """CEAF: the strategy with the highest expected NMB and its probability, by wtp."""
        costs, effects, _ = self.costs_and_effects(population)
        return cea.acceptability_frontier(costs, effects, wtp, self.strategy_labels(population))

    def evpi(self, population: str, wtp) -> pd.DataFrame:
        """Per-patient EVPI by wtp (columns ``wtp``, ``evpi``)."""
        costs, effects, _ = self.costs_and_effects(population)
        return voi.evpi_curve(costs, effects, np.atleast_1d(np.asarray(wtp, dtype=float)))

    def evppi(self, population: str, wtp: float, groups: dict[str, list[str]] | None = None,
              method: str = "auto") -> pd.DataFrame:
        """EVPPI of each uncertain input (and of each group) at ``wtp``, by regression."""
        return voi.evppi_table(self.net_benefit(population, wtp), self.parameters, groups, method=method)

    def convergence(self, population: str, wtp: float, points: int = 60) -> pd.DataFrame:
        """Running mean of each strategy's incremental NMB against the comparison's
        comparator, with a 95% Monte-Carlo interval, at about ``points`` sample sizes."""
        _, comparator = self.comparisons[population]
        strategies = self.strategies(population)
        nmb = self.net_benefit(population, wtp)
        incremental = nmb - nmb[:, [strategies.index(comparator)]]
        return running_mean(incremental, [self.labels[(population, s)] for s in strategies], points,
                            skip=[strategies.index(comparator)])


def running_mean(values: np.ndarray, names: list[str], points: int = 60, skip=()) -> pd.DataFrame:
    """Running mean of each column of ``values`` (n_samples, k) after the first n samples,
    with mean ± 1.96 × (running SD)/√n, at about ``points`` log-spaced n (columns ``n``,
    ``comparison``, ``mean``, ``lower``, ``upper``)."""
    n = values.shape[0]
    counts = np.unique(np.geomspace(min(10, n), n, points).round().astype(int))
    total, squares = np.cumsum(values, axis=0), np.cumsum(values**2, axis=0)
    rows = []
    for j, name in enumerate(names):
        if j in skip:
            continue
        mean = total[counts - 1, j] / counts
        variance = np.maximum(squares[counts - 1, j] / counts - mean**2, 0.0) * counts / np.maximum(counts - 1, 1)
        half = 1.96 * np.sqrt(variance / counts)
        rows.append(pd.DataFrame({"n": counts, "comparison": name, "mean": mean,
                                  "lower": mean - half, "upper": mean + half}))
    return pd.concat(rows, ignore_index=True)


def evaluate_parameters(model: HCCModel, params: ParameterSet, first_sample: int = 0
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-sample results of ``params`` (samples numbered from ``first_sample``), and the
    count of samples per strategy whose OS median could not be reached."""
    results = model.evaluate(params)
    table = per_sample_table(results)
    table["sample"] += first_sample
    unreachable = pd.DataFrame([{"population": r.population, "strategy": r.strategy,
                                 "samples": r.os_calibration_unreachable} for r in results])
    return table, unreachable


def evaluate_chunk(inputs: ModelInputs, seed: int, start: int, stop: int,
                   model: HCCModel | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draws ``start`` to ``stop`` of the PSA seeded ``seed``: their input values (index
    ``sample``), per-sample results and unreachable-calibration counts."""
    model = model or HCCModel(inputs)
    uniforms = uniform_rows(seed, start, stop, len(inputs.uncertain))
    params = inputs.transform(uniforms)
    drawn = pd.DataFrame({ref: params[ref] for ref in inputs.uncertain},
                         index=pd.RangeIndex(start, stop, name="sample"))
    table, unreachable = evaluate_parameters(model, params, start)
    return drawn, table, unreachable


def run_psa(inputs: ModelInputs, n: int, seed: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
            progress: Progress | None = None) -> PSAResults:
    """Run ``n`` probabilistic samples of an analysis, ``chunk_size`` at a time.

    Parameters
    ----------
    inputs : ModelInputs
        The analysis (:func:`markov.params.load_analysis`).
    n : int
        Number of samples, at least 1.
    seed : int
        Seed of the draws (0 or more). The results do not depend on ``chunk_size``.
    chunk_size : int
        Samples evaluated together (bounds memory).
    progress : callable, optional
        Called as ``progress(done, n)`` after each chunk.
    """
    for name, value, least in (("n", n, 1), ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or int(value) != value or value < least:
            raise InputError(f"{name} is {value!r}: must be a whole number of at least {least}")
    n, chunk_size = int(n), int(chunk_size)
    model = HCCModel(inputs)
    drawn, tables, unreachable = [], [], []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        parameters, table, counts = evaluate_chunk(inputs, seed, start, stop, model)
        drawn.append(parameters)
        tables.append(table)
        unreachable.append(counts)
        if progress is not None:
            progress(stop, n)
    return assemble(inputs, seed, drawn, tables, unreachable)


def read_psa(directory, inputs: ModelInputs) -> PSAResults:
    """The PSA written by ``markov psa`` (or ``markov run --psa``) in ``directory``, for
    analyses that work on an existing sample (delta, PAWN, EVPPI)."""
    directory = Path(directory)
    paths = {name: directory / f"psa_{name}.csv" for name in ("parameters", "samples", "summary")}
    for path in paths.values():
        if not path.is_file():
            raise InputError(f"{path}: not found; run `markov psa --out {directory}` first")
    parameters = pd.read_csv(paths["parameters"], index_col="sample")
    if list(parameters.columns) != inputs.uncertain:
        raise InputError(f"{paths['parameters']}: its inputs are not the uncertain inputs of the "
                         f"{inputs.analysis.name} analysis (a PSA of another analysis or version)")
    outcomes = pd.read_csv(paths["samples"])
    unreachable = pd.read_csv(paths["summary"])[["population", "strategy", "os_calibration_unreachable_samples"]]
    unreachable = unreachable.rename(columns={"os_calibration_unreachable_samples": "samples"})
    return assemble(inputs, None, [parameters], [outcomes], [unreachable])


def assemble(inputs: ModelInputs, seed: int | None, drawn: list[pd.DataFrame], tables: list[pd.DataFrame],
             unreachable: list[pd.DataFrame]) -> PSAResults:
    """One :class:`PSAResults` from the pieces of its chunks (in any order)."""
    parameters = pd.concat(drawn).sort_index()
    outcomes = pd.concat(tables)
    order = {(p, s): i for i, (p, s) in enumerate(
        (p, s) for p, population in inputs.populations.items() for s in population.strategies)}
    keys = zip(outcomes["population"], outcomes["strategy"], strict=True)
    outcomes = outcomes.assign(_order=[order[key] for key in keys])
    outcomes = outcomes.sort_values(["_order", "sample"], kind="stable").drop(columns="_order").reset_index(drop=True)
    counts = pd.concat(unreachable).groupby(["population", "strategy"], sort=False, as_index=False)["samples"].sum()
    labels = {(p, s): strategy.label for p, population in inputs.populations.items()
              for s, strategy in population.strategies.items()}
    comparisons = {p: (population.comparison.intervention, population.comparison.comparator)
                   for p, population in inputs.populations.items()}
    return PSAResults(inputs.analysis.name, seed, parameters, outcomes, counts, labels, comparisons,
                      inputs.perspective.currency, {ref: inputs.label(ref) for ref in inputs.uncertain})
