"""What every model is to the rest of the package, whatever its structure.

A model (:class:`Model`) is built from validated inputs and evaluates a parameter set to
one :class:`StrategyResult` per population and strategy: discounted costs by category,
life-years and QALYs per sample and state, and its trace. Probabilistic, deterministic
and global sensitivity analyses, value of information, batch runs, reports and the
command line use only this protocol and the tables below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from ..engine import CohortTrace
from ..grid import TimeGrid
from ..inputs import ModelInputs, ParameterSet
from ..survival import TIME_UNIT_YEARS

TIME_UNIT_MONTHS = {unit: years * 12.0 for unit, years in TIME_UNIT_YEARS.items()}


@dataclass
class StrategyResult:
    """Discounted totals per sample for one strategy of one population, with its trace
    (None when evaluated with ``keep_traces=False``).

    Attributes
    ----------
    costs : dict
        Category -> ``(n_samples, n_states)``.
    life_years, qalys : ndarray, shape (n_samples, n_states)
    progression_free : tuple of str
        The states whose occupancy is progression-free survival (none in a Markov model
        that has no such state).
    floored_cycles : int
        (Sample, cycle) pairs in which general-population mortality was binding.
    calibration_unreachable : ndarray of bool, shape (n_samples,), or None
        Per sample, whether the OS median could not be reached by calibration (None when
        the strategy is not calibrated); :attr:`os_calibration_unreachable` counts them.
    crossing_time_points : int
        Time points at which an inner curve lay above an outer one and was clipped.
    """

    population: str
    strategy: str
    label: str
    trace: CohortTrace | None
    costs: dict[str, np.ndarray]
    life_years: np.ndarray
    qalys: np.ndarray
    state_names: tuple[str, ...]
    progression_free: tuple[str, ...] = ()
    floored_cycles: int = 0
    calibration_unreachable: np.ndarray | None = None
    crossing_time_points: int = 0

    @property
    def os_calibration_unreachable(self) -> int:
        """Samples whose OS median could not be reached by calibration."""
        return 0 if self.calibration_unreachable is None else int(np.count_nonzero(self.calibration_unreachable))

    @property
    def total_cost(self) -> np.ndarray:
        return sum(values.sum(axis=1) for values in self.costs.values())

    def survival(self, sample: int = 0) -> dict[str, np.ndarray]:
        """Model-implied overall survival and, where the model has progression-free
        states, progression-free survival of one sample, on the grid."""
        occupancy, states = self.trace.occupancy[sample], self.state_names
        curves = {"OS": 1.0 - occupancy[:, states.index("dead")]}
        if self.progression_free:
            curves["PFS"] = sum(occupancy[:, states.index(name)] for name in self.progression_free)
        return curves


class Model(Protocol):
    """A model of an analysis: its inputs, its grid, and evaluation of parameter sets.

    ``evaluate`` returns one result per population and strategy, in the order of the
    inputs; without ``keep_traces`` each trace is dropped once its totals are known, so
    a chunk of a probabilistic analysis holds one strategy's trace at a time.
    """

    inputs: ModelInputs
    grid: TimeGrid
    #: The cost categories of every result (the keys of :attr:`StrategyResult.costs`).
    categories: tuple[str, ...]

    def evaluate(self, params: ParameterSet, keep_traces: bool = True) -> list[StrategyResult]:
        ...


# ---------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------

def results_table(results: list[StrategyResult], sample: int | None = None) -> pd.DataFrame:
    """One row per population and strategy: cost by category, LYs, QALYs, and the
    totals by state. ``sample=None`` averages over samples (the PSA means)."""
    rows = []
    for result in results:
        def pick(values: np.ndarray) -> np.ndarray:  # (n_samples, n_states) -> (n_states,)
            return values.mean(axis=0) if sample is None else values[sample]

        costs = {category: pick(values) for category, values in result.costs.items()}
        life_years, qalys = pick(result.life_years), pick(result.qalys)
        row = {"population": result.population, "strategy": result.strategy, "label": result.label,
               "cost": float(sum(values.sum() for values in costs.values())),
               "life_years": float(life_years.sum()), "qalys": float(qalys.sum())}
        row.update({f"cost_{category}": float(values.sum()) for category, values in costs.items()})
        for j, state in enumerate(result.state_names):
            if state != "dead":
                row[f"life_years_{state}"] = float(life_years[j])
                row[f"qalys_{state}"] = float(qalys[j])
        for j, state in enumerate(result.state_names):
            row[f"cost_{state}"] = float(sum(values[j] for values in costs.values()))
        row["general_population_floor_cycles"] = result.floored_cycles
        row["os_calibration_unreachable_samples"] = result.os_calibration_unreachable
        row["curve_crossing_time_points"] = result.crossing_time_points
        rows.append(row)
    return pd.DataFrame(rows)


def per_sample_table(results: list[StrategyResult]) -> pd.DataFrame:
    """Long table: population, strategy, sample, cost (total and by category), LYs, QALYs."""
    frames = []
    for result in results:
        n = result.life_years.shape[0]
        frame = pd.DataFrame({"population": result.population, "strategy": result.strategy,
                              "sample": np.arange(n), "cost": result.total_cost,
                              "life_years": result.life_years.sum(axis=1), "qalys": result.qalys.sum(axis=1)})
        for category, values in result.costs.items():
            frame[f"cost_{category}"] = values.sum(axis=1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _time_at(survival: np.ndarray, times: np.ndarray, level: float) -> float:
    """First time the (non-increasing) curve reaches ``level``, by linear interpolation."""
    below = np.nonzero(survival <= level)[0]
    if below.size == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(times[0])
    return float(np.interp(level, [survival[i], survival[i - 1]], [times[i], times[i - 1]]))


#: The columns of :func:`calibration_table`, also when no strategy has targets.
CALIBRATION_COLUMNS = ("population", "strategy", "label", "outcome", "source", "measure", "reference", "time_months",
                       "survival", "reported", "reported_low", "reported_high", "model", "reported_ci_low",
                       "reported_ci_high")


def calibration_table(model: Model, results: list[StrategyResult]) -> pd.DataFrame:
    """Reported medians and landmarks beside the model's (base case, sample 0), for every
    strategy with ``targets`` (a table with no rows when none has: a textbook Markov model)."""
    inputs, months = model.inputs, model.grid.times_years * 12.0
    rows = []
    for result in results:
        targets = inputs.populations[result.population].strategies[result.strategy].targets
        if targets is None:
            continue
        curves = result.survival()
        for outcome, median, landmarks in (("OS", targets.os_median, targets.os_landmarks),
                                           ("PFS", targets.pfs_median, targets.pfs_landmarks)):
            if outcome not in curves:
                continue
            base = {"population": result.population, "strategy": result.strategy, "label": result.label,
                    "outcome": outcome, "source": targets.source}
            if median is not None:
                item = inputs.evidence[median].value
                to_months = TIME_UNIT_MONTHS[item.unit]
                low, high = item.ci95 if item.ci95 else (float("nan"), float("nan"))
                rows.append({**base, "measure": "median (months)", "reference": median,
                             "time_months": item.value * to_months, "survival": 0.5,
                             "reported": item.value * to_months, "reported_low": low * to_months,
                             "reported_high": high * to_months,
                             "model": _time_at(curves[outcome], months, 0.5)})
            for mark in landmarks:
                time = inputs.evidence[mark.time].value
                survival = inputs.evidence[mark.survival].value
                t = time.value * TIME_UNIT_MONTHS[time.unit]
                low, high = survival.ci95 if survival.ci95 else (float("nan"), float("nan"))
                rows.append({**base, "measure": f"survival at {t:g} months", "reference": mark.survival,
                             "time_months": t, "survival": survival.value, "reported": survival.value,
                             "reported_low": float("nan"), "reported_high": float("nan"),
                             "reported_ci_low": low, "reported_ci_high": high,
                             "model": float(np.interp(t, months, curves[outcome]))})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(CALIBRATION_COLUMNS))


def model_survival(result: StrategyResult, sample: int = 0) -> dict[str, np.ndarray]:
    """Model-implied overall and progression-free survival of one sample
    (:meth:`StrategyResult.survival`)."""
    return result.survival(sample)
