"""Compiled steps on inputs their callers built valid (not checked here): for model
builders, and for the decision analysis' passes over PSA samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import _engine
from .._validate import InputError
from ..grid import TimeGrid

#: Time points per block of :func:`exponential_survival`: near the square root of a grid's
#: (1,045 weekly points in 20 years), so that it takes few exponentials.
EXPONENTIAL_BLOCK = 32


def floor_survival(survival: np.ndarray, death_share, population_survival: np.ndarray,
                   population_death: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """A state's survival since entry and the share of its events that are deaths, with
    general-population mortality as a floor on each cycle's probability of death.

    Parameters
    ----------
    survival : ndarray, shape (1 or n_samples, n_times)
        Survival since entry, ending in death or another event (progression).
    death_share : float or ndarray, shape (1 or n_samples,)
    population_survival : ndarray, shape (1 or n_samples, n_times)
        The general population's survival on the same grid.
    population_death : ndarray, shape (1 or n_samples, n_cycles), optional
        Its probability of death in each cycle (:func:`death_probabilities` of
        ``population_survival``), when already computed: shared by every curve floored
        against one population.

    Returns
    -------
    curve : ndarray, shape (n_samples, n_times)
        In each cycle the event probability 1 − S(t+1)/S(t) raised to the general
        population's probability of death q where lower. Until the first cycle the floor
        changes, a sample's curve is the given one; after it, each value is the one before
        times one minus the cycle's event probability (so a value not floored may differ
        from the given one by rounding: about 1e-15 relative). The given array itself
        where the floor changes no cycle of any sample.
    death_share : ndarray, shape (n_samples, n_cycles), (1 or n_samples, 1) or (1, 1)
        Raised to q / events where lower, so that deaths alone reach q, and clipped to
        [0, 1]; one value per sample where the floor changes no cycle of any sample; one 1
        where every share given is 1 (every event a death, which no floor changes).
    floored : int
        (Sample, cycle) pairs in which the floor binds: the event probability or the
        death share was raised (a death share of 1 cannot be raised, so a curve that
        ends only in death counts its raised event probabilities).
    """
    if population_death is None:
        population_death = death_probabilities(population_survival)
    shares = np.atleast_1d(np.ascontiguousarray(death_share, dtype=np.float64))
    found = _engine.floor_survival(survival, shares, population_death)
    if found is not None:
        return found
    n = max(survival.shape[0], shares.shape[0], population_death.shape[0])
    curve = survival if survival.shape[0] == n else np.repeat(survival, n, axis=0)
    share = np.ones((1, 1)) if (shares == 1.0).all() else np.clip(shares, 0.0, 1.0)[:, None]
    return curve, share, 0


def exponential_survival(rate_per_year: np.ndarray, grid: TimeGrid) -> np.ndarray:
    """exp(−rate·t) on the grid, ``(n_samples, n_cycles + 1)`` and C-contiguous, for rates
    per year ``(n_samples,)``.

    Since exp(−λ(t_b + jΔ)) = exp(−λ·t_b)·exp(−λ·jΔ), the exponential is taken at the
    first time point of each block of :data:`EXPONENTIAL_BLOCK` and for each step within
    a block, and every point is one product of the two: 16 times fewer exponentials on the
    weekly 20-year grid, and one pass that writes the result. Each value is within a few
    units in the last place of exp(−λ·t) (it differs by the rounding of the product and of
    λ·t: about 1e-15 relative where λ·t is near 1, 1e-14 where it is near 30).
    """
    rate = np.negative(np.asarray(rate_per_year, dtype=np.float64).reshape(-1, 1))
    times = grid.times_years
    starts = np.exp(rate * times[::EXPONENTIAL_BLOCK])
    within = np.exp(rate * (grid.cycle_length_years * np.arange(EXPONENTIAL_BLOCK)))
    out = np.empty((rate.shape[0], times.size))
    _engine.blockwise_products(starts, within, out)
    return out


def add_scaled_rows(out: np.ndarray, scale: np.ndarray, rows: np.ndarray, unwritten: bool = False) -> None:
    """``out += scale[:, None] * rows`` in place and in one compiled pass, rounded as
    numpy rounds it (the product, then the sum), without a temporary of the rows' size;
    with ``unwritten`` (``out`` holds nothing yet, np.empty), ``out[...] = scale[:, None]
    * rows``: the same bits in half numpy's time, which buffers the broadcast column.

    ``out`` and ``rows`` are C-contiguous ``(m, n_times)``, ``scale`` ``(m,)``; not checked.
    """
    _engine.add_scaled_rows(out, np.ascontiguousarray(scale, dtype=np.float64), rows, unwritten)


def death_probabilities(survival: np.ndarray) -> np.ndarray:
    """1 − S(t+1)/S(t) in each cycle: ``(n, n_times)`` → ``(n, n_cycles)``."""
    return 1.0 - survival[:, 1:] / survival[:, :-1]


def general_population_survival(start_age: np.ndarray, share_female: np.ndarray, times_years: np.ndarray,
                                force_female: np.ndarray, force_male: np.ndarray) -> np.ndarray:
    """Survival of general-population cohorts at many times, from a life table: the
    survival of :class:`~markov.survival.GeneralPopulationSurvival` in years, to about
    1e-14 relative, in one compiled pass instead of numpy's passes over every (sample,
    time) and an exponential of each.

    Parameters
    ----------
    start_age, share_female : ndarray, shape (n_samples,)
        Age at the start, within the table's ages, and share of women, in [0, 1].
    times_years : ndarray, shape (n_times,)
        Finite, non-negative.
    force_female, force_male : ndarray, shape (n_ages,)
        Force of mortality per year by single year of age
        (:meth:`~markov.survival.LifeTable.force_of_mortality`).

    Returns
    -------
    ndarray, shape (n_samples, n_times)
        f·S_F(t) + (1 − f)·S_M(t) (a new array). On an evenly spaced grid, t_k = k·Δ
        (:attr:`~markov.TimeGrid.times_years`), each sex's survival falls by exp(−μΔ)
        from a point to the next within a year of age, so the pass takes one exponential
        per year of age and an exact exp(−H) at least every 32 points, which bounds the
        rounding the products gather; elsewhere, an exponential per point.
    """
    times = np.ascontiguousarray(times_years, dtype=np.float64)
    step = float(times[1]) if times.size > 1 else 0.0
    evenly_spaced = step > 0 and np.array_equal(times, np.arange(times.size) * step)
    force = np.stack([force_female, force_male])
    cumulative = np.concatenate([np.zeros((2, 1)), np.cumsum(force, axis=1)], axis=1)
    return _engine.general_population_survival(np.ascontiguousarray(start_age, dtype=np.float64),
                                               np.ascontiguousarray(share_female, dtype=np.float64),
                                               times, step if evenly_spaced else 0.0, force, cumulative)


def exit_rate_for_median(entries: np.ndarray, outside: np.ndarray, times_years: np.ndarray, median_years: np.ndarray,
                         bounds_per_year: tuple[float, float] = (1e-6, 1e4), iterations: int = 80
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the constant exit rate (per year) from a clock-reset state that puts the
    cohort's survival median at ``median_years``, and whether no rate in
    ``bounds_per_year`` can (boolean; there the rate is left at the nearer bound).

    Parameters
    ----------
    entries : ndarray, shape (n_samples, n_times)
        Entries into the state (which do not depend on its survival).
    outside : ndarray, shape (n_samples, n_times, n_other_states)
        Occupancy of the states alive outside this one.
    times_years : ndarray, shape (n_times,)
        The (uniform) grid.
    median_years : ndarray, shape (n_samples,)

    Notes
    -----
    Survival is OS(t) = outside(t) + Σ_u e(u)·exp(−λ(t − u)); its median is read by
    linear interpolation between grid points, which is monotone in λ: Newton's method
    on log λ inside a shrinking bracket (bisection where a step would leave it, at most
    ``iterations`` steps), compiled, one sample at a time (so a sample's result does not
    depend on the other samples computed with it).
    """
    step = float(times_years[1] - times_years[0])
    k = np.floor(median_years / step).astype(np.intp)
    if (k + 1 >= times_years.size).any():
        raise InputError(f"an OS median target of {float(median_years.max())!r} years lies beyond the time horizon "
                         f"({float(times_years[-1]):g} years); lengthen horizon_years")
    rows = np.arange(k.size)
    around = np.column_stack([outside[rows, point].sum(axis=1) for point in (k, k + 1)])
    weight = (times_years[k + 1] - median_years) / step
    low, high = np.log(bounds_per_year[0]), np.log(bounds_per_year[1])
    rate, unreachable = _engine.median_exit_rate(entries, np.ascontiguousarray(around), k, weight, step, low, high,
                                                 iterations)
    return rate, unreachable.astype(bool)


def cycle_weighted_totals(values: np.ndarray, at_start: np.ndarray, at_end: np.ndarray, occupancy: np.ndarray,
                          factor: np.ndarray | None = None, cap: np.ndarray | None = None) -> np.ndarray:
    """Σ_c v[s, c, j]·(at_start[c]·m[s, c, j] + at_end[c]·m[s, c + 1, j]), per sample and
    state, in one compiled pass without temporaries of the trace's size.

    v is ``values``, ``(1 or n_samples, n_cycles, n_states)``; or, given ``factor`` and
    ``cap`` ``(1 or n_samples, n_cycles)``, min(values[s, j]·factor[s, c], cap[s, c]) with
    ``values`` ``(1 or n_samples, n_states)`` (bit for bit as if v were built).
    ``occupancy`` is ``(n_samples, n_cycles + 1, n_states)``. Any strides; not checked.
    """
    if factor is None:
        return _engine.cycle_weighted_totals(values, at_start, at_end, occupancy)
    return _engine.capped_cycle_weighted_totals(values, factor, cap, at_start, at_end, occupancy)


def capped_level_totals(level: np.ndarray, cap: np.ndarray, at_start: np.ndarray, at_end: np.ndarray,
                        occupancy: np.ndarray, years: np.ndarray) -> np.ndarray:
    """:func:`cycle_weighted_totals` of min(level[s, j], cap[s, c]) (a factor of 1: a
    utility capped at the general population's, not adjusted for age) from the
    discounted years in each state ``years`` ``(n_samples, n_states)``: level·years, less
    what the cap takes from the first cycle it is below the level on, so that the cycles
    before are not read. ``level`` ``(1 or n_samples, n_states)``, ``cap`` ``(1 or
    n_samples, n_cycles)``, ``occupancy`` as in :func:`cycle_weighted_totals`. The same
    as that function's to rounding; any strides; not checked.
    """
    lowest = np.ascontiguousarray(cap.min(axis=1))  # a value at or below its row's lowest cap is never capped
    return _engine.capped_level_totals(level, cap, lowest, at_start, at_end, occupancy, years)


def best_strategy_counts(cost: np.ndarray, effect: np.ndarray, wtp: np.ndarray) -> np.ndarray:
    """Samples in which each strategy has the largest net benefit ``wtp · effect − cost``,
    ``(n_wtp, n_strategies)`` int64, from ``cost`` and ``effect`` ``(n_samples,
    n_strategies)`` and ``wtp`` ``(n_wtp,)``. Exact ties go to the cheaper strategy, then
    the more effective, then the first. One compiled pass over the samples, without net
    benefits of size wtp × samples."""
    return _engine.best_strategy_counts(*(np.ascontiguousarray(a, dtype=np.float64) for a in (cost, effect, wtp)))


def mean_regret(cost: np.ndarray, effect: np.ndarray, wtp: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Mean over samples of the largest net benefit ``wtp · effect − cost`` less that of
    strategy ``chosen`` (one position per wtp), ``(n_wtp,)``: the EVPI when ``chosen`` is
    the strategy of largest expected net benefit. One compiled pass over the samples."""
    arrays = (np.ascontiguousarray(a, dtype=np.float64) for a in (cost, effect, wtp))
    return _engine.mean_regret(*arrays, np.ascontiguousarray(chosen, dtype=np.intp))


def compiled_core_files() -> list[Path]:
    """The files of the compiled core, whose bytes decide results as much as the source."""
    return sorted(file for file in Path(_engine.__file__).parent.glob(f"{_engine.__name__.rsplit('.', 1)[-1]}.*")
                  if file.suffix in (".so", ".pyd"))
