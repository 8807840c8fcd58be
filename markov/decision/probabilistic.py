"""Decision analysis of a probabilistic analysis, one population at a time.

Each function takes the stored or in-memory results of a PSA
(:class:`~markov.probabilistic.psa.PSAResults`) and a population, and returns a tidy table:
one row per strategy (and willingness to pay, or sample), keyed by the strategy's key with
its label beside it. The arithmetic is in :mod:`markov.decision.cea`,
:mod:`markov.decision.acceptability` and :mod:`markov.decision.voi`, on plain arrays.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from ..inputs import ModelInputs
from ..probabilistic.psa import PSAResults
from . import voi
from .acceptability import acceptability_curve, acceptability_frontier
from .gsa import groups_by_source


def acceptability(psa: PSAResults, population: str, wtp) -> pd.DataFrame:
    """Cost-effectiveness acceptability curves: the share of samples in which each
    strategy has the highest net monetary benefit at each ``wtp`` (per QALY).

    Returns columns ``population``, ``wtp``, ``strategy``, ``label``,
    ``probability_cost_effective``; at each ``wtp`` the probabilities sum to 1.
    """
    costs, effects, strategies = psa.costs_and_effects(population)
    wide = acceptability_curve(costs, effects, wtp, strategies)
    long = wide.reset_index().melt(id_vars="wtp", var_name="strategy", value_name="probability_cost_effective")
    return _with_labels(long, psa, population)


def frontier(psa: PSAResults, population: str, wtp, ceac: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier: at each ``wtp`` the strategy with the
    highest expected net benefit, the probability that it is the best, and that benefit.
    ``ceac``: the :func:`acceptability` table at the same ``wtp``, if already computed
    (its probabilities are used instead of being counted again).

    Returns columns ``population``, ``wtp``, ``strategy``, ``label``,
    ``probability_cost_effective``, ``expected_net_benefit``.
    """
    costs, effects, strategies = psa.costs_and_effects(population)
    curve = None if ceac is None else ceac.pivot(index="wtp", columns="strategy", values="probability_cost_effective"
                                                 ).reindex(index=np.atleast_1d(wtp), columns=strategies)
    return _with_labels(acceptability_frontier(costs, effects, wtp, strategies, curve=curve), psa, population)


def evpi(psa: PSAResults, population: str, wtp) -> pd.DataFrame:
    """Expected value of perfect information per patient at each ``wtp``: columns
    ``population``, ``wtp``, ``evpi``."""
    costs, effects, _ = psa.costs_and_effects(population)
    table = voi.evpi_curve(costs, effects, np.atleast_1d(np.asarray(wtp, dtype=float)))
    table.insert(0, "population", population)
    return table


def evppi(psa: PSAResults, population: str, wtp: float, groups: dict[str, list[str]] | None = None,
          method: str = "auto", samples: int | None = None) -> pd.DataFrame:
    """Expected value of partial perfect information per patient of each uncertain input
    (and of each group of inputs) at ``wtp``, by regression (Strong, Oakley & Brennan 2014)
    on the first ``samples`` samples whose inputs are held (default: all of them, which
    are all unless read with ``parameter_samples``).

    Returns the :func:`markov.decision.voi.evppi_table` columns after ``population``,
    ``wtp`` and ``samples``.
    """
    used = len(psa.parameters) if samples is None else min(samples, len(psa.parameters))
    table = voi.evppi_table(psa.net_benefit(population, wtp)[:used], psa.parameters[:used], groups,
                            method=method)
    table.insert(0, "population", population)
    table.insert(1, "wtp", wtp)
    table.insert(2, "samples", used)
    return table


def evppi_sample_size(inputs: ModelInputs, n_draws: int, budget: float = voi.EVPPI_TIME_BUDGET) -> int:
    """Draws the EVPPI of ``inputs``' PSA uses by default: all ``n_draws`` while the
    estimated time of every population's EVPPI table (each uncertain input, and each
    source's inputs together) is within ``budget`` seconds, else as many as fit
    (:func:`markov.decision.voi.evppi_sample_size`)."""
    sizes = [1] * len(inputs.uncertain) + [len(m) for m in groups_by_source(inputs).values() if len(m) > 1]
    regressions = sum(len(population.strategies) - 1 for population in inputs.populations.values())
    return voi.evppi_sample_size(n_draws, sizes, regressions, budget)


def convergence(psa: PSAResults, population: str, wtp: float, points: int = 60) -> pd.DataFrame:
    """Running mean of each strategy's incremental net benefit at ``wtp`` against the
    population's comparator, with a 95% Monte-Carlo interval, at about ``points`` sample
    sizes: columns ``population``, ``n``, ``strategy``, ``label``, ``mean``, ``lower``,
    ``upper`` (the comparator itself is left out)."""
    _, comparator = psa.comparisons[population]
    strategies = psa.strategies(population)
    nmb = psa.net_benefit(population, wtp)
    incremental = nmb - nmb[:, [strategies.index(comparator)]]
    table = running_mean(incremental, strategies, points, skip=[strategies.index(comparator)])
    return _with_labels(table.rename(columns={"comparison": "strategy"}), psa, population)


def ce_plane(psa: PSAResults, population: str, comparator: str | None = None) -> pd.DataFrame:
    """Incremental costs and QALYs of each strategy against ``comparator`` (by default the
    population's) in every sample: columns ``population``, ``sample``, ``strategy``,
    ``label``, ``comparator``, ``incremental_cost``, ``incremental_qalys``."""
    costs, effects, strategies = psa.costs_and_effects(population)
    comparator = psa.comparisons[population][1] if comparator is None else comparator
    if comparator not in strategies:
        raise InputError(f"comparator {comparator!r}: not a strategy of population {population!r} "
                         f"(strategies: {', '.join(strategies)})")
    c = strategies.index(comparator)
    frames = [pd.DataFrame({"sample": psa.outcomes.index, "strategy": strategy, "comparator": comparator,
                            "incremental_cost": costs[:, j] - costs[:, c],
                            "incremental_qalys": effects[:, j] - effects[:, c]})
              for j, strategy in enumerate(strategies) if j != c]
    return _with_labels(pd.concat(frames, ignore_index=True), psa, population)


def running_mean(values: np.ndarray, names: Sequence[str], points: int = 60, skip=()) -> pd.DataFrame:
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


def _with_labels(table: pd.DataFrame, psa: PSAResults, population: str) -> pd.DataFrame:
    """``table`` with ``population`` first and each strategy's ``label`` after its key."""
    labels = dict(zip(psa.strategies(population), psa.strategy_labels(population), strict=True))
    table = table.copy()
    table.insert(table.columns.get_loc("strategy") + 1, "label", table["strategy"].map(labels))
    if "population" not in table:
        table.insert(0, "population", population)
    return table
