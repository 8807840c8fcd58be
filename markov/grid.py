"""The model's time grid: cycle length and number of cycles, time in years."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import InputError

DAYS_PER_YEAR = 365.25
WEEK_YEARS = 7.0 / DAYS_PER_YEAR
MONTH_YEARS = 1.0 / 12.0
#: The most cycles a grid may have (daily cycles for 27 years, weekly for 190): every
#: trace holds samples x time points x states, so more would exhaust memory, not refine results.
MAX_CYCLES = 10_000


def _positive(name: str, value) -> float:
    """``value`` as a float if it is a positive finite number (not a boolean or text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} is {value!r}: must be a positive number")
    return float(value)


@dataclass(frozen=True)
class TimeGrid:
    """Cycle grid of a cohort model.

    Parameters
    ----------
    cycle_length_years : float
        Length of one cycle in years (e.g. ``WEEK_YEARS`` = 7 / 365.25).
    n_cycles : int
        Number of cycles; the grid has ``n_cycles + 1`` time points 0, Δ, …, n_cycles·Δ.
    """

    cycle_length_years: float
    n_cycles: int

    def __post_init__(self) -> None:
        _positive("cycle_length_years", self.cycle_length_years)
        n = self.n_cycles
        if isinstance(n, bool) or not isinstance(n, (int, float, np.integer, np.floating)) or not math.isfinite(n) \
                or int(n) != n or n < 1:
            raise InputError(f"n_cycles is {n!r}: must be a whole number of at least 1")
        if n > MAX_CYCLES:
            raise InputError(f"n_cycles is {int(n):,}: at most {MAX_CYCLES:,} cycles (lengthen the cycle or shorten "
                             f"the horizon)")

    @classmethod
    def from_horizon(cls, horizon_years: float, cycle_length_years: float) -> TimeGrid:
        """The shortest grid whose last time point reaches ``horizon_years``."""
        horizon, cycle = _positive("horizon_years", horizon_years), _positive("cycle_length_years", cycle_length_years)
        cycles = horizon / cycle
        if cycles > MAX_CYCLES:
            raise InputError(f"horizon_years {horizon_years!r} in cycles of {cycle_length_years!r} years: "
                             f"{math.ceil(cycles - 1e-9):,} cycles, more than {MAX_CYCLES:,}; lengthen the cycle "
                             f"(cycle_length_days) or shorten the horizon (horizon_years)")
        return cls(cycle_length_years, math.ceil(cycles - 1e-9))

    @property
    def times_years(self) -> np.ndarray:
        """Time points in years, shape ``(n_cycles + 1,)``."""
        return np.arange(self.n_cycles + 1) * self.cycle_length_years

    @property
    def horizon_years(self) -> float:
        return self.n_cycles * self.cycle_length_years

    def cycles_before(self, until_years) -> np.ndarray:
        """Which cycles start before ``until_years`` (one value per sample): ``(n_samples,
        n_cycles)`` booleans. A time window of two years on a yearly grid covers cycles 0
        and 1; a bound within a millionth of a cycle of a time point counts as on it, so
        that rounding in ``t = c·Δ`` never adds or drops a cycle."""
        until = np.asarray(until_years, dtype=np.float64).reshape(-1, 1)
        starts = self.times_years[None, :-1]
        return starts < until - 1e-6 * self.cycle_length_years
