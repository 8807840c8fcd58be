"""Costs, life-years and QALYs from a cohort trace: cycle correction and discounting.

Two kinds of value are accumulated, both returned per sample and per state:

* **per year of state membership** (annual costs, utilities): a rate per year,
  constant within a cycle, multiplied by time spent in the state;
* **on entry** into a state (a procedure, terminal care at death): an amount per
  entry, counted at the time point where the entry is recorded.

Discounting uses ``1 / (1 + r) ** t`` with ``t`` in years at the point where the
value is counted. Where that point is, per cycle ``[t_c, t_c+1]`` of length Δ:

==============  =====================================================================
method          value counted for cycle c (occupancy m, rate v, discount D)
==============  =====================================================================
``start``       v · m(t_c) · Δ · D(t_c)
``end``         v · m(t_c+1) · Δ · D(t_c+1)
``trapezoid``   v · Δ/2 · [m(t_c) · D(t_c) + m(t_c+1) · D(t_c+1)]
``life_table``  v · Δ/2 · [m(t_c) + m(t_c+1)] · D(t_c + Δ/2)
==============  =====================================================================

``trapezoid`` (the default) is the trapezoidal rule applied to the discounted
integrand; ``life_table`` averages occupancy over the cycle and discounts at
mid-cycle. Without discounting the two agree. One-off values on entry are counted
at the time point of entry, discounted with D(t).
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np

from ._validate import InputError, as_float_array
from .engine import CohortTrace
from .grid import TimeGrid

CycleCorrection = Literal["trapezoid", "life_table", "start", "end"]
CYCLE_CORRECTIONS = ("trapezoid", "life_table", "start", "end")


def discount_factors(times_years: np.ndarray, discount_rate: float) -> np.ndarray:
    """``1 / (1 + discount_rate) ** t`` for times in years."""
    if not (math.isfinite(discount_rate) and discount_rate > -1.0):
        raise InputError(f"discount_rate is {discount_rate!r}: must be a number above -1 (0.035 for 3.5% a year)")
    return (1.0 + discount_rate) ** -np.asarray(times_years, dtype=np.float64)


def cycle_weights(grid: TimeGrid, discount_rate: float, method: CycleCorrection) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the occupancy at the start and at the end of each cycle.

    Returns ``(at_start, at_end)``, each ``(n_cycles,)``, in years (discount
    included), so that time in a state in cycle c is
    ``at_start[c] * m(t_c) + at_end[c] * m(t_c+1)``.
    """
    times = grid.times_years
    step = grid.cycle_length_years
    factors = discount_factors(times, discount_rate)
    zeros = np.zeros(grid.n_cycles)
    if method == "start":
        return step * factors[:-1], zeros
    if method == "end":
        return zeros, step * factors[1:]
    if method == "trapezoid":
        return 0.5 * step * factors[:-1], 0.5 * step * factors[1:]
    if method == "life_table":
        mid = 0.5 * step * discount_factors(times[:-1] + 0.5 * step, discount_rate)
        return mid, mid.copy()
    raise InputError(f"cycle correction is {method!r}: must be one of {', '.join(CYCLE_CORRECTIONS)}")


def _values(values, name: str, trace: CohortTrace, per_time_points: int) -> np.ndarray:
    """Values as ``(1 or n_samples, 1 or per_time_points, n_states)``."""
    given = as_float_array(values, name, ndim=(1, 2, 3))
    array = given.reshape((1,) * (3 - given.ndim) + given.shape)
    expected = ((1, trace.n_samples), (1, per_time_points), (trace.n_states,))
    if any(size not in allowed for size, allowed in zip(array.shape, expected)):
        raise InputError(
            f"{name} has shape {given.shape}; expected (n_states,) = ({trace.n_states},), "
            f"(n_cycles, n_states) with n_cycles = {per_time_points}, or (n_samples, n_cycles or 1, n_states) "
            f"with n_samples = {trace.n_samples}"
        )
    return array


def accumulate(
    trace: CohortTrace,
    grid: TimeGrid,
    *,
    per_year=None,
    on_entry=None,
    discount_rate: float = 0.0,
    method: CycleCorrection = "trapezoid",
) -> np.ndarray:
    """Discounted total of a value over the time horizon, per sample and state.

    Parameters
    ----------
    trace : CohortTrace
    grid : TimeGrid
        Must have ``trace.n_cycles`` cycles.
    per_year : array_like, optional
        Value per year in each state (e.g. cost per year, utility), constant within a
        cycle: ``(n_states,)``, ``(n_cycles, n_states)`` or ``(n_samples, n_cycles or
        1, n_states)``.
    on_entry : array_like, optional
        Value per entry into each state, counted at the time point of entry:
        ``(n_states,)``, ``(n_cycles + 1, n_states)`` or ``(n_samples, n_cycles + 1
        or 1, n_states)``. Entries at t = 0 are the initial occupancy.
    discount_rate : float
        Per year, e.g. 0.035.
    method : {"trapezoid", "life_table", "start", "end"}
        Cycle correction (module docstring).

    Returns
    -------
    ndarray, shape (n_samples, n_states)
        Sum over states for the total per sample.
    """
    if grid.n_cycles != trace.n_cycles:
        raise InputError(f"the grid has {grid.n_cycles} cycles but the trace has {trace.n_cycles}")
    total = np.zeros((trace.n_samples, trace.n_states))
    if per_year is not None:
        rates = _values(per_year, "per_year", trace, grid.n_cycles)
        at_start, at_end = cycle_weights(grid, discount_rate, method)
        if rates.shape[1] == 1:  # constant over time: one weight per time point
            point_weights = np.append(at_start, 0.0) + np.insert(at_end, 0, 0.0)
            total += _weighted_sum(rates, point_weights, trace.occupancy)
        else:  # time point t closes cycle t - 1 and opens cycle t
            point_values = np.zeros(rates.shape[:1] + (grid.n_cycles + 1,) + rates.shape[2:])
            point_values[:, :-1] += rates * at_start[:, None]
            point_values[:, 1:] += rates * at_end[:, None]
            total += _weighted_sum(point_values, np.ones(grid.n_cycles + 1), trace.occupancy)
    if on_entry is not None:
        amounts = _values(on_entry, "on_entry", trace, grid.n_cycles + 1)
        total += _weighted_sum(amounts, discount_factors(grid.times_years, discount_rate), trace.entries)
    return total


def _weighted_sum(values: np.ndarray, weights: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """``sum_t values[s, t, j] * weights[t] * occupancy[s, t, j]`` in one pass over the
    occupancy, without temporaries of its size where the values do not vary by both
    sample and time."""
    if values.shape[1] == 1:
        return values[:, 0, :] * np.matmul(weights, occupancy)
    if values.shape[0] == 1:
        return np.einsum("tj,stj->sj", values[0] * weights[:, None], occupancy, optimize=True)
    return np.einsum("stj,stj->sj", values * weights[None, :, None], occupancy, optimize=True)
