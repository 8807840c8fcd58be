"""The model's time grid: cycle length and number of cycles, time in years."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import InputError

DAYS_PER_YEAR = 365.25
WEEK_YEARS = 7.0 / DAYS_PER_YEAR
MONTH_YEARS = 1.0 / 12.0


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
        if not (math.isfinite(self.cycle_length_years) and self.cycle_length_years > 0):
            raise InputError(f"cycle_length_years is {self.cycle_length_years!r}: must be a positive number")
        if int(self.n_cycles) != self.n_cycles or self.n_cycles < 1:
            raise InputError(f"n_cycles is {self.n_cycles!r}: must be a whole number of at least 1")

    @classmethod
    def from_horizon(cls, horizon_years: float, cycle_length_years: float) -> TimeGrid:
        """The shortest grid whose last time point reaches ``horizon_years``."""
        if not (math.isfinite(horizon_years) and horizon_years > 0):
            raise InputError(f"horizon_years is {horizon_years!r}: must be a positive number")
        n_cycles = math.ceil(horizon_years / cycle_length_years - 1e-9)
        return cls(cycle_length_years, n_cycles)

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
