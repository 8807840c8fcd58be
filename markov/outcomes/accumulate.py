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
from functools import cached_property, lru_cache
from typing import Literal, NamedTuple

import numpy as np

from .._validate import InputError, as_float_array
from ..engine import CohortTrace, capped_level_totals, cycle_weighted_totals
from ..grid import TimeGrid

CycleCorrection = Literal["trapezoid", "life_table", "start", "end"]
CYCLE_CORRECTIONS = ("trapezoid", "life_table", "start", "end")


def check_discount_rate(discount_rate) -> float:
    """``discount_rate`` as a float: a number per year above -1 and at most 1 (a rate
    above 1 is a percentage typed as a rate)."""
    if isinstance(discount_rate, bool) or not isinstance(discount_rate, (int, float, np.integer, np.floating)):
        raise InputError(f"discount_rate is {discount_rate!r}: must be a number (0.035 for 3.5% a year), not "
                         f"{type(discount_rate).__name__}")
    if not (math.isfinite(discount_rate) and discount_rate > -1.0):
        raise InputError(f"discount_rate is {discount_rate!r}: must be a number above -1 (0.035 for 3.5% a year)")
    if discount_rate > 1.0:
        raise InputError(f"discount_rate is {discount_rate!r}: a percentage? A rate is at most 1: give "
                         f"{discount_rate / 100:g} for {discount_rate:g}% a year")
    return float(discount_rate)


def _checked_method(method) -> CycleCorrection:
    if method not in CYCLE_CORRECTIONS:
        raise InputError(f"cycle correction is {method!r}: must be one of {', '.join(CYCLE_CORRECTIONS)}")
    return method


def discount_factors(times_years: np.ndarray, discount_rate: float) -> np.ndarray:
    """``1 / (1 + discount_rate) ** t`` for times in years."""
    rate = check_discount_rate(discount_rate)
    return (1.0 + rate) ** -np.asarray(times_years, dtype=np.float64)


def cycle_weights(grid: TimeGrid, discount_rate: float, method: CycleCorrection) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the occupancy at the start and at the end of each cycle.

    Returns ``(at_start, at_end)``, each ``(n_cycles,)``, in years (discount
    included), so that time in a state in cycle c is
    ``at_start[c] * m(t_c) + at_end[c] * m(t_c+1)``.
    """
    method = _checked_method(method)
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
    mid = 0.5 * step * discount_factors(times[:-1] + 0.5 * step, discount_rate)  # life_table
    return mid, mid.copy()


class _GridWeights(NamedTuple):
    """Everything an :class:`Accumulator` weighs a trace by, for one grid, discount rate
    and cycle correction (read-only arrays)."""

    cycle: tuple[np.ndarray, np.ndarray]  # cycle_weights
    factors: np.ndarray  # discount_factors at the time points
    years_and_leaving: np.ndarray  # _years_and_leaving_weights


@lru_cache(maxsize=64)
def _grid_weights(grid: TimeGrid, discount_rate: float, method: CycleCorrection) -> _GridWeights:
    """:class:`_GridWeights`, made once for each grid, rate and method of a process: every
    strategy, course and block of a PSA weighs by the same few."""
    cycle = cycle_weights(grid, discount_rate, method)
    factors = discount_factors(grid.times_years, discount_rate)
    found = _GridWeights(cycle, factors, _years_and_leaving_weights(*cycle, factors))
    for array in (*cycle, factors, found.years_and_leaving):
        array.flags.writeable = False
    return found


def state_weights(grid: TimeGrid, discount_rate: float, method: CycleCorrection) -> tuple[np.ndarray, np.ndarray]:
    """Weights over the time points whose sums over a state's occupancy and entries give
    what :class:`Accumulator` values it by (the weights of a
    :class:`~markov.engine.StateSums`, whose sums it then takes instead of passing over the
    trace).

    Returns ``(on_occupancy, on_entries)``, read-only: ``(2, n_time_points)``, the
    discounted years in the state and the occupancy's part of its discounted exits; ``(1,
    n_time_points)``, its discounted entries.
    """
    weights = _grid_weights(grid, check_discount_rate(discount_rate), _checked_method(method))
    return weights.years_and_leaving, weights.factors[None, :]


def _years_and_leaving_weights(at_start: np.ndarray, at_end: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """The occupancy's weights, ``(2, n_time_points)``, of :func:`_discounted_years_and_leaving`.

    Time point t closes cycle t - 1 and opens cycle t, so its weight in years is the sum of
    the two. The exits of the cycle ending at t are those entering at t plus those in the
    state at the cycle's start, less those in it at t, counted at t (discount ``factors[t]``):
    by linearity, the entries after t = 0 and the occupancy at t weighted by
    factors[t + 1] - factors[t] (the first and last time points by one term only), without
    a trace of exits.
    """
    years = np.append(at_start, 0.0) + np.insert(at_end, 0, 0.0)
    later = factors[1:]
    leaving = np.append(later, 0.0) - np.insert(later, 0, 0.0)
    return np.stack([years, leaving])


def _discounted_years_and_leaving(weights: np.ndarray, trace: CohortTrace) -> tuple[np.ndarray, np.ndarray]:
    """Discounted years in each state and the part of the discounted exits the occupancy
    makes (:func:`_discounted_exits`), in one pass over the occupancy, by the weights of
    :func:`_years_and_leaving_weights`.
    """
    sums = np.matmul(weights, trace.occupancy)
    return sums[:, 0], sums[:, 1]


def _discounted_exits(factors: np.ndarray, trace: CohortTrace, entered: np.ndarray, leaving: np.ndarray) -> np.ndarray:
    """Discounted exits from each state: the discounted ``entered`` after t = 0 and the
    occupancy's part, ``leaving`` (:func:`_discounted_years_and_leaving`)."""
    return entered - factors[0] * trace.entries[:, 0] + leaving


def _entries_over_time(trace: CohortTrace) -> np.ndarray:
    """The trace's entries at every time point, which it must keep (:attr:`CohortTrace.keeps_entries`)."""
    if not trace.keeps_entries:
        raise InputError("this trace keeps its entries at t = 0 only: values on entry need its entries at every "
                         "time point, or the sums of them made as it was built (state_sums)")
    return trace.entries


def _values(values, name: str, trace: CohortTrace, per_time_points: int) -> np.ndarray:
    """Values as ``(1 or n_samples, 1 or per_time_points, n_states)``."""
    given = as_float_array(values, name, ndim=(1, 2, 3))
    array = given.reshape((1,) * (3 - given.ndim) + given.shape)
    expected = ((1, trace.n_samples), (1, per_time_points), (trace.n_states,))
    if any(size not in allowed for size, allowed in zip(array.shape, expected, strict=True)):
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
    return Accumulator(trace, grid, discount_rate=discount_rate, method=method).total(per_year, on_entry)


class Accumulator:
    """:func:`accumulate` for many values over one trace and discount rate.

    Values constant over time need only the discounted years in each state and the
    discounted entries into it, per sample: each is summed over the trace once, on first
    use, and reused by every such value (a model's cost categories), where a call of
    :func:`accumulate` per value would pass over the trace each time.

    ``state_sums``, ``(on_occupancy, on_entries)``, ``(n_samples, n_states, 2)`` and
    ``(n_samples, n_states, 1)``, are those sums already made, with the weights of
    :func:`state_weights` for this grid, rate and method (the ``occupancy`` and
    ``entries`` of a :class:`~markov.engine.StateSums` written as the trace was built):
    then the values constant over time need no pass over the trace at all.
    """

    def __init__(self, trace: CohortTrace, grid: TimeGrid, *, discount_rate: float = 0.0,
                 method: CycleCorrection = "trapezoid",
                 state_sums: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if grid.n_cycles != trace.n_cycles:
            raise InputError(f"the grid has {grid.n_cycles} cycles but the trace has {trace.n_cycles}")
        self.trace, self.grid, self.method = trace, grid, _checked_method(method)
        self.discount_rate = check_discount_rate(discount_rate)
        if state_sums is not None:
            for name, sums, width in zip(("on_occupancy", "on_entries"), state_sums, (2, 1), strict=True):
                if sums.shape != (trace.n_samples, trace.n_states, width):
                    raise InputError(f"state_sums' {name} has shape {sums.shape}; expected "
                                     f"({trace.n_samples}, {trace.n_states}, {width})")
        self._state_sums = state_sums

    @cached_property
    def _weights(self) -> _GridWeights:
        return _grid_weights(self.grid, self.discount_rate, self.method)

    # The arithmetic of the cached properties is in functions of the module, which mutation
    # testing (tools/mutation.py) reaches: it leaves decorated functions alone.
    @cached_property
    def _years_and_leaving(self) -> tuple[np.ndarray, np.ndarray]:
        if self._state_sums is not None:
            on_occupancy = self._state_sums[0]
            return on_occupancy[:, :, 0], on_occupancy[:, :, 1]
        return _discounted_years_and_leaving(self._weights.years_and_leaving, self.trace)

    @property
    def years(self) -> np.ndarray:
        """Discounted years in each state, ``(n_samples, n_states)``."""
        return self._years_and_leaving[0]

    @cached_property
    def entered(self) -> np.ndarray:
        """Discounted entries into each state, ``(n_samples, n_states)``."""
        if self._state_sums is not None:
            return self._state_sums[1][:, :, 0]
        return np.matmul(self._weights.factors, _entries_over_time(self.trace))

    @cached_property
    def exits(self) -> np.ndarray:
        """Discounted exits from each state, ``(n_samples, n_states)``."""
        return _discounted_exits(self._weights.factors, self.trace, self.entered, self._years_and_leaving[1])

    def capped_total(self, per_year, factor, cap) -> np.ndarray:
        """Discounted total per sample and state of a value per year by state, scaled and
        capped by cycle: min(per_year[s, j]·factor[s, c], cap[s, c]) in cycle c (a utility
        adjusted for age and capped at the general population's), in one compiled pass
        without values of the trace's size. Where the factor is 1 in every cycle, a value's
        total is the value times :attr:`years`, less what the cap takes from the first
        cycle it is below the value on (the same to rounding as summing every cycle): the
        cycles before are not read.

        ``per_year`` is ``(1 or n_samples, n_states)``; ``factor`` and ``cap`` are ``(1 or
        n_samples, n_cycles)`` (a factor of 1 and an infinite cap leave a value unchanged).
        """
        trace, n_cycles = self.trace, self.grid.n_cycles
        arrays = {"per_year": (per_year, trace.n_states), "factor": (factor, n_cycles), "cap": (cap, n_cycles)}
        checked = []
        for name, (values, columns) in arrays.items():
            # a cap may be +inf (none: utilities adjusted for age, not capped); nothing may be NaN
            array = as_float_array(values, name, ndim=(2,), finite=name != "cap")
            if not (array > -np.inf).all():  # one pass: false for NaN and -inf alone
                raise InputError(f"{name} has a NaN or -inf: every value must be a number (a cap may be +inf)")
            if array.shape[0] not in (1, trace.n_samples) or array.shape[1] != columns:
                raise InputError(f"{name} has shape {array.shape}; expected (1 or {trace.n_samples}, {columns})")
            checked.append(array)
        level, factor, cap = checked
        if not (factor == 1.0).all():
            return cycle_weighted_totals(level, *self._weights.cycle, trace.occupancy, factor, cap)
        # not scaled by cycle (a utility not adjusted for age): a value is itself until the
        # cap first falls below it, so only the cycles from there on are read
        return capped_level_totals(level, cap, *self._weights.cycle, trace.occupancy, self.years)

    def level_totals(self, per_year: np.ndarray, on_entry: np.ndarray) -> np.ndarray:
        """Discounted totals of many values constant over time at once: ``per_year ·
        years + on_entry · entered`` for arrays ``(..., 1 or n_samples, n_states)`` (a
        model's cost categories stacked), each what :meth:`total` gives for it."""
        trace = self.trace
        for name, values in (("per_year", per_year), ("on_entry", on_entry)):
            if values.ndim < 2 or values.shape[-2] not in (1, trace.n_samples) or values.shape[-1] != trace.n_states:
                raise InputError(f"{name} has shape {values.shape}; expected (..., 1 or {trace.n_samples}, "
                                 f"{trace.n_states})")
        return per_year * self.years + on_entry * self.entered

    def total(self, per_year=None, on_entry=None) -> np.ndarray:
        """Discounted total per sample and state (see :func:`accumulate`)."""
        trace = self.trace
        total = np.zeros((trace.n_samples, trace.n_states))
        if per_year is not None:
            rates = _values(per_year, "per_year", trace, self.grid.n_cycles)
            if rates.shape[1] == 1:
                total += rates[:, 0, :] * self.years
            else:  # by cycle: one compiled pass, without temporaries of the trace's size
                total += cycle_weighted_totals(rates, *self._weights.cycle, trace.occupancy)
        if on_entry is not None:
            amounts = _values(on_entry, "on_entry", trace, self.grid.n_cycles + 1)
            if amounts.shape[1] == 1:
                total += amounts[:, 0, :] * self.entered
            else:  # by time point (and by sample, or the same for every sample)
                total += np.einsum("stj,stj->sj", amounts * self._weights.factors[None, :, None],
                                   _entries_over_time(trace), optimize=True)
        return total
