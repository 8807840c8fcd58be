"""What every survival curve provides, whatever its family or adjustment.

A curve holds ``n_samples`` parameter sets (one per PSA draw; 1 for a base case) and is
evaluated at a 1-D array of times, giving arrays of shape ``(n_samples, n_times)``.
Times are in the curve's own ``time_unit`` (as the source printed them);
:meth:`SurvivalCurve.survival_on_grid` converts the model's grid, which is in years.

A subclass defines the cumulative hazard ``H`` and the log hazard ``log h``; survival,
density, quantiles and restricted means follow from them (``S = exp(-H)``,
``f = h·S``), and a family with closed forms overrides the generic numerical ones.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy import integrate

from .._validate import InputError, as_float_array
from ..grid import DAYS_PER_YEAR, MONTH_YEARS, WEEK_YEARS, TimeGrid

#: Length of one unit of each supported time unit, in years (a month is 1/12 year).
TIME_UNIT_YEARS = {"days": 1.0 / DAYS_PER_YEAR, "weeks": WEEK_YEARS, "months": MONTH_YEARS, "years": 1.0}

_QUANTILE_BISECTIONS = 80
_LOG_TIME_LIMIT = 700.0  # e^±700 is the edge of double precision: beyond it a quantile is 0 or inf
_LOG_TIME_SPAN = 36.0  # ∫ S over (0, τ·e^-36) is below 3e-16·τ, so integration in log time starts there


def check_time_unit(time_unit: str, name: str = "time_unit") -> str:
    """Return ``time_unit`` if it is one of :data:`TIME_UNIT_YEARS`, else raise."""
    if time_unit not in TIME_UNIT_YEARS:
        raise InputError(
            f"{name} is {time_unit!r}: unknown time unit; use one of {', '.join(TIME_UNIT_YEARS)}"
        )
    return time_unit


def convert_time(t, from_unit: str, to_unit: str) -> np.ndarray:
    """Express times ``t`` given in ``from_unit`` in ``to_unit``."""
    check_time_unit(from_unit, "from_unit")
    check_time_unit(to_unit, "to_unit")
    return np.asarray(t, dtype=np.float64) * (TIME_UNIT_YEARS[from_unit] / TIME_UNIT_YEARS[to_unit])


def as_times(t, name: str = "t") -> np.ndarray:
    """Times as a 1-D float array of non-negative values (``inf`` allowed)."""
    times = np.atleast_1d(as_float_array(t, name, ndim=(0, 1), finite=False))
    bad = np.isnan(times) | (times < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name} [{i}] is {float(times[i])!r}: times must be non-negative numbers")
    return times


def survival_of_scaled(scale: np.ndarray, cumulative_hazard: np.ndarray) -> np.ndarray:
    """exp(−scale·H) as a new array, for a cumulative hazard ``scale · H`` (a rate times
    time, a hazard ratio times a reference's H): the values of ``np.exp(-(scale * H))``,
    the sign taken on ``scale`` (exactly: rounding is symmetric), the smaller array, and
    the exponential written over the product, so that no array of the result's size is
    made but the result (on the model's grid, making and filling them costs more than the
    arithmetic)."""
    product = np.multiply(np.negative(scale), cumulative_hazard)
    return np.exp(product, out=product)


def as_probabilities(p, name: str = "p") -> np.ndarray:
    probabilities = np.atleast_1d(as_float_array(p, name, ndim=(0, 1)))
    bad = (probabilities < 0) | (probabilities > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name} [{i}] is {float(probabilities[i])!r}: must lie in [0, 1]")
    return probabilities


class SurvivalCurve(ABC):
    """A survival curve for ``n_samples`` parameter sets, in a stated time unit.

    Every public method takes times in :attr:`time_unit` and returns one row per
    sample. Subclasses implement :meth:`_cumulative_hazard` and :meth:`_log_hazard`
    for times broadcastable against ``(n_samples, 1)``.
    """

    time_unit: str
    n_samples: int

    # --- what a subclass defines -------------------------------------------------
    @abstractmethod
    def _cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        """H(t) for ``t`` broadcastable against ``(n_samples, 1)``."""

    @abstractmethod
    def _log_hazard(self, t: np.ndarray) -> np.ndarray:
        """log h(t) for ``t`` broadcastable against ``(n_samples, 1)``."""

    def constant_hazard(self) -> np.ndarray | None:
        """The hazard per :attr:`time_unit`, ``(n_samples,)``, where it is the same at every
        time (an exponential curve, or one made from it by a hazard ratio or a time
        ratio); else None. Such a curve is exp(−hazard·t), which the model's grid takes
        with few exponentials (:func:`markov.engine.exponential_survival`)."""
        return None

    def _breakpoints(self) -> np.ndarray:
        """Times (in :attr:`time_unit`) where the hazard may jump; integration splits there."""
        return np.empty(0)

    def _breakpoints_before(self, tau: float) -> np.ndarray:
        """The breakpoints in (0, τ): where integration up to τ splits."""
        breaks = self._breakpoints()
        return breaks[(breaks > 0) & (breaks < tau)]

    def _reference_cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        """:meth:`_cumulative_hazard` for the curves derived from this one (a hazard ratio
        applied to it), read-only and kept for the last times asked: curves that share a
        reference (the treatments of a network) compute its H once between them."""
        return self._kept("_kept_cumulative_hazard", t, self._cumulative_hazard_to_keep)

    def _kept(self, name: str, t: np.ndarray, compute) -> np.ndarray:
        """``compute(t)`` (a new array), read-only, kept in attribute ``name`` for the
        last times asked."""
        kept = self.__dict__.get(name)
        if kept is not None and kept[0].shape == t.shape and np.array_equal(kept[0], t):
            return kept[1]
        found = compute(t)
        found.flags.writeable = False
        self.__dict__[name] = (np.array(t), found)
        return found

    def _cumulative_hazard_to_keep(self, t: np.ndarray) -> np.ndarray:
        """H(t) for :meth:`_reference_cumulative_hazard` (a new array): a family whose
        survival is cheaper than its H may derive it from the survival it keeps."""
        return self._cumulative_hazard(t)

    # --- public evaluation ---------------------------------------------------------
    def survival(self, t) -> np.ndarray:
        """S(t), shape ``(n_samples, n_times)``."""
        return self._survival(as_times(t)[None, :])

    def cumulative_hazard(self, t) -> np.ndarray:
        """H(t) = -log S(t), shape ``(n_samples, n_times)``."""
        return self._broadcast(self._cumulative_hazard(as_times(t)[None, :]))

    def hazard(self, t) -> np.ndarray:
        """h(t) per unit of :attr:`time_unit`, shape ``(n_samples, n_times)``."""
        return self._broadcast(np.exp(self._log_hazard(as_times(t)[None, :])))

    def density(self, t) -> np.ndarray:
        """f(t) = h(t)·S(t) per unit of :attr:`time_unit`, shape ``(n_samples, n_times)``."""
        times = as_times(t)[None, :]
        return self._broadcast(self._density(times))

    def log_likelihood_terms(self, time: np.ndarray, event: np.ndarray, entry: np.ndarray | None = None) -> np.ndarray:
        """Per-observation log-likelihood of right-censored (optionally left-truncated)
        data: ``event·log h(t) − H(t) + H(entry)``, shape ``(n_samples, n_obs)``."""
        t = time[None, :]
        terms = -self._cumulative_hazard(t)
        events = event.astype(bool)
        if events.any():
            terms = self._broadcast(terms)
            terms[:, events] += self._broadcast(self._log_hazard(t[:, events]))
        if entry is not None:
            terms = terms + self._cumulative_hazard(entry[None, :])
        return self._broadcast(terms)

    def quantile(self, p) -> np.ndarray:
        """Time by which a share ``p`` has had the event: the t solving S(t) = 1 − p.

        ``inf`` where the curve never falls that far (e.g. a cured fraction).
        Shape ``(n_samples, n_probabilities)``.
        """
        return self._quantile(as_probabilities(p))

    def median(self) -> np.ndarray:
        """Median survival time in :attr:`time_unit`, shape ``(n_samples,)``."""
        return self._quantile(np.array([0.5]))[:, 0]

    def restricted_mean(self, tau: float) -> np.ndarray:
        """Restricted mean survival time ∫₀^τ S(t) dt in :attr:`time_unit`, shape ``(n_samples,)``."""
        tau = float(as_float_array(tau, "tau", ndim=(0,)))
        if tau <= 0:
            raise InputError(f"tau is {float(tau)!r}: the restriction time must be positive")
        return self._restricted_mean(tau)

    def survival_on_grid(self, grid: TimeGrid) -> np.ndarray:
        """S on the model's cycle grid (years), shape ``(n_samples, n_cycles + 1)``,
        float64 and C-contiguous as the engine expects."""
        return self.survival_at_years(grid.times_years)

    def survival_at_years(self, times_years) -> np.ndarray:
        """S at times given in years, whatever this curve's own unit."""
        years = as_times(times_years, "times_years")
        return self.survival(years / TIME_UNIT_YEARS[self.time_unit])

    # --- generic implementations ---------------------------------------------------
    def _broadcast(self, values: np.ndarray) -> np.ndarray:
        """A writable C-contiguous ``(n_samples, n_times)`` array."""
        shape = (self.n_samples, values.shape[-1])
        if values.shape != shape:
            values = np.broadcast_to(values, shape).copy()
        return np.ascontiguousarray(values)

    def _survival(self, t: np.ndarray) -> np.ndarray:
        return self._broadcast(np.exp(-self._cumulative_hazard(t)))

    def _density(self, t: np.ndarray) -> np.ndarray:
        return np.exp(self._log_hazard(t) - self._cumulative_hazard(t))

    def _quantile(self, p: np.ndarray) -> np.ndarray:
        """Bisection on log time, per sample and probability, to double precision."""
        target = np.broadcast_to(1.0 - p[None, :], (self.n_samples, p.size))
        log_high = np.zeros(target.shape)
        while True:  # raise the upper bracket until S falls to the target
            low = (self._survival(np.exp(log_high)) > target) & (log_high < _LOG_TIME_LIMIT)
            if not low.any():
                break
            log_high = np.where(low, log_high + 1.0, log_high)
        never = self._survival(np.exp(log_high)) > target
        log_low = log_high - 1.0
        while True:  # lower the lower bracket until S is above the target
            high = (self._survival(np.exp(log_low)) <= target) & (target < 1.0) & (log_low > -_LOG_TIME_LIMIT)
            if not high.any():
                break
            log_low = np.where(high, log_low - 1.0, log_low)
        for _ in range(_QUANTILE_BISECTIONS):
            middle = 0.5 * (log_low + log_high)
            above = self._survival(np.exp(middle)) > target
            log_low = np.where(above, middle, log_low)
            log_high = np.where(above, log_high, middle)
        quantiles = np.exp(0.5 * (log_low + log_high))
        quantiles[never] = np.inf
        quantiles[target >= 1.0] = 0.0
        return quantiles

    def _restricted_mean(self, tau: float) -> np.ndarray:
        """∫₀^τ S dt by adaptive Gauss–Kronrod in log time (t = eˣ), which keeps the
        integrand smooth where hazards are singular at 0; splits at hazard jumps."""
        points = np.log(self._breakpoints_before(tau))
        lower = np.log(tau) - _LOG_TIME_SPAN
        points = points[points > lower]

        def integrand(x: float) -> np.ndarray:
            t = np.array([[np.exp(x)]])
            return self._survival(t)[:, 0] * t[0, 0]

        area, _ = integrate.quad_vec(
            integrand, lower, np.log(tau), epsabs=1e-14 * tau, epsrel=1e-12, norm="max",
            points=points if points.size else None, limit=4000,
        )
        return area
