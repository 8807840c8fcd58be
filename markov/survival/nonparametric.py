"""Non-parametric survival estimates from patient-level data.

Kaplan–Meier (product-limit) survival with Greenwood variance, the Nelson–Aalen
cumulative hazard, and a kernel-smoothed hazard for hazard plots.

Conventions, shared with R's ``survival`` package:

* at a time where events and censorings coincide, the censored patients are
  counted at risk for those events (censoring just after the events);
* a patient is at risk at time t if ``t <= time``; with delayed entry (left
  truncation) if ``entry < t <= time``, R's counting-process ``(start, stop]``;
* the estimates are tabulated at every distinct observed time, events or
  censorings, as ``summary(survfit(...), censored = TRUE)`` does.

Times are in the unit the caller gives (``time_unit``, one of :data:`~markov.survival.TIME_UNIT_YEARS`);
hazards are per that unit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri  # not scipy.stats: half a second to import

from .._validate import InputError, _first, _number, as_float_array
from ._base import check_time_unit

BandMethod = Literal["log-log", "log", "plain"]
BAND_METHODS = ("log-log", "log", "plain")

# Survival within this of 1 - p counts as reaching it, so that a product such as
# 9/10 * 8/9 * ... * 5/6 lands on 0.5 despite rounding.
QUANTILE_TOLERANCE = 1e-12


def _patient_data(time, event, entry) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validated ``(time, event, entry)`` of one row per patient."""
    time = as_float_array(time, "time", ndim=(1,))
    if time.size == 0:
        raise InputError("time is empty: at least one patient is needed")
    bad = time < 0
    if bad.any():
        i = _first(bad)[0]
        raise InputError(f"time [patient {i}] is {_number(time[i])}: survival times must not be negative")
    event = as_float_array(event, "event", ndim=(1,))
    if event.size != time.size:
        raise InputError(f"event has {event.size} values but time has {time.size}: one of each per patient")
    bad = (event != 0) & (event != 1)
    if bad.any():
        i = _first(bad)[0]
        raise InputError(f"event [patient {i}] is {_number(event[i])}: must be 1 (event) or 0 (censored)")
    if entry is None:
        return time, event, None
    entry = as_float_array(entry, "entry", ndim=(1,))
    if entry.size != time.size:
        raise InputError(f"entry has {entry.size} values but time has {time.size}: one of each per patient")
    bad = (entry < 0) | (entry >= time)
    if bad.any():
        i = _first(bad)[0]
        raise InputError(
            f"entry [patient {i}] is {_number(entry[i])} with time {_number(time[i])}: "
            "entry must be at least 0 and before the patient's time (entry < time)"
        )
    return time, event, np.sort(entry)


def _risk_table(time: np.ndarray, event: np.ndarray, entry: np.ndarray | None):
    """Distinct times with numbers at risk, events and censorings at each.

    ``entry`` must be sorted; ``None`` means everyone is observed from time 0.
    """
    times, index = np.unique(time, return_inverse=True)
    n_events = np.bincount(index, weights=event, minlength=times.size).astype(np.int64)
    n_exits = np.bincount(index, minlength=times.size)
    n_at_risk = n_exits[::-1].cumsum()[::-1]
    if entry is not None:
        # Patients entering at or after t_j have not yet joined the risk set at t_j.
        n_at_risk = n_at_risk - (entry.size - np.searchsorted(entry, times, side="left"))
    return times, n_at_risk, n_events, n_exits - n_events


def _query_times(t, name: str) -> np.ndarray:
    """Times at which to evaluate an estimate: finite and not negative."""
    t = as_float_array(t, name)
    bad = t < 0
    if bad.any():
        index = _first(bad)
        raise InputError(f"{name}{list(index) if index else ''} is {_number(t[index])}: times must not be negative")
    return t


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """Kaplan–Meier (product-limit) survival estimate.

    Build with :meth:`fit`. Arrays are aligned on ``times``, the distinct observed
    times (events or censorings) in increasing order.

    Attributes
    ----------
    times : numpy.ndarray
        Distinct observed times, in ``time_unit``.
    n_at_risk : numpy.ndarray
        Patients at risk just before each time (those whose time is at least it).
    n_events, n_censored : numpy.ndarray
        Events and censorings at each time.
    survival : numpy.ndarray
        S(t) just after each time: the product of ``1 - n_events / n_at_risk``.
    variance : numpy.ndarray
        Greenwood variance of ``survival``,
        ``S(t)² Σ_{t_j ≤ t} d_j / (n_j (n_j - d_j))``; NaN where S(t) = 0 (the sum
        is infinite once everyone at risk has died).
    time_unit : str
        Unit of ``times``: one of :data:`~markov.survival.TIME_UNIT_YEARS`.
    entry_times : numpy.ndarray or None
        Sorted delayed-entry times, or None when every patient is followed from 0.
    """

    times: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    survival: np.ndarray
    variance: np.ndarray
    time_unit: str
    entry_times: np.ndarray | None = None

    @classmethod
    def fit(cls, time: ArrayLike, event: ArrayLike, *, time_unit: str, entry: ArrayLike | None = None) -> KaplanMeier:
        """Estimate survival from one row per patient.

        Parameters
        ----------
        time : array_like, shape (n,)
            Time of event or censoring, finite and at least 0, in ``time_unit``.
        event : array_like, shape (n,)
            1 for an event, 0 for censoring.
        time_unit : str
            One of "days", "weeks", "months", "years".
        entry : array_like, shape (n,), optional
            Delayed-entry (left-truncation) time of each patient, with
            ``0 <= entry < time``; the patient is at risk on ``(entry, time]``.
        """
        time_unit = check_time_unit(time_unit)
        time, event, entry = _patient_data(time, event, entry)
        times, n_at_risk, n_events, n_censored = _risk_table(time, event, entry)
        survival = np.cumprod(1.0 - n_events / n_at_risk)
        with np.errstate(divide="ignore"):
            # d / (n (n - d)) is infinite where everyone at risk dies; S is 0 from there on.
            greenwood = np.cumsum(n_events / (n_at_risk * (n_at_risk - n_events).astype(np.float64)))
        with np.errstate(invalid="ignore"):
            variance = np.where(survival > 0, survival**2 * greenwood, np.nan)
        return cls(times, n_at_risk, n_events, n_censored, survival, variance, time_unit, entry)

    @property
    def std_error(self) -> np.ndarray:
        """Greenwood standard error of ``survival`` (NaN where S = 0)."""
        return np.sqrt(self.variance)

    def survival_at(self, t: ArrayLike) -> np.ndarray:
        """S(t) of the right-continuous step function, for times ``t`` ≥ 0 of any shape.

        S is 1 before the first event; beyond the last observed time it is NaN
        (unknown) unless the curve has already reached 0.
        """
        t = _query_times(t, "t")
        index = np.searchsorted(self.times, t, side="right") - 1
        values = np.where(index >= 0, self.survival[np.maximum(index, 0)], 1.0)
        if self.survival[-1] > 0:
            values = np.where(t > self.times[-1], np.nan, values)
        return values

    def confidence_band(self, level: float = 0.95, method: BandMethod = "log-log") -> tuple[np.ndarray, np.ndarray]:
        """Pointwise confidence limits for ``survival`` at ``times``.

        With σ = SE(S) / S (the Greenwood standard error of log S) and z the
        normal quantile for ``level``, the methods match R ``survfit``'s
        ``conf.type`` of the same name:

        * ``"log-log"`` (default here; SAS's and Stata's default): symmetric
          on log(-log S): ``S ** exp(±z σ / log S)``; never leaves [0, 1];
        * ``"log"`` (R's default): ``S exp(±z σ)``, upper limit capped at 1;
        * ``"plain"``: ``S ± z S σ``, clipped to [0, 1].

        Before the first event (S = 1, σ = 0) both limits are 1 (R gives NA for
        "log-log" there); where S = 0 both are NaN (R gives NA for "log" and
        "log-log").

        Returns
        -------
        lower, upper : numpy.ndarray
            Limits aligned on ``times``.
        """
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise InputError(f"level is {level!r}: a confidence level must lie strictly between 0 and 1 (0.95 for 95%)")
        if method not in BAND_METHODS:
            raise InputError(f"method is {method!r}: unknown confidence band; use one of {', '.join(BAND_METHODS)}")
        z = ndtri(0.5 + level / 2.0)
        s = self.survival
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.sqrt(self.variance) / s
            if method == "plain":
                lower, upper = np.clip(s - z * s * sigma, 0.0, 1.0), np.clip(s + z * s * sigma, 0.0, 1.0)
            elif method == "log":
                lower, upper = s * np.exp(-z * sigma), np.minimum(s * np.exp(z * sigma), 1.0)
            else:
                log_s = np.log(s)
                lower, upper = s ** np.exp(-z * sigma / log_s), s ** np.exp(z * sigma / log_s)
        no_events_yet = sigma == 0
        return np.where(no_events_yet, s, lower), np.where(no_events_yet, s, upper)

    def n_at_risk_at(self, t: ArrayLike) -> np.ndarray:
        """Numbers at risk at times ``t``, as printed under a Kaplan–Meier plot.

        Patients whose time is at least t (and, with delayed entry, who entered
        before t).
        """
        t = _query_times(t, "t")
        exits_from = np.append((self.n_events + self.n_censored)[::-1].cumsum()[::-1], 0)
        at_risk = exits_from[np.searchsorted(self.times, t, side="left")]
        if self.entry_times is not None:
            at_risk = at_risk - (self.entry_times.size - np.searchsorted(self.entry_times, t, side="left"))
        return at_risk

    def quantile(self, p: ArrayLike) -> np.ndarray:
        """Time by which a proportion ``p`` (0 < p < 1) has had the event.

        The smallest time with S(t) ≤ 1 - p, NaN where the curve never falls that
        far. Where S equals 1 - p exactly over a flat segment this returns the
        segment's start; R's ``quantile.survfit`` (and SAS) return the midpoint
        of the segment instead, so results can differ in that case only.
        """
        p = as_float_array(p, "p")
        bad = (p <= 0) | (p >= 1)
        if bad.any():
            index = _first(bad)
            raise InputError(f"p{list(index) if index else ''} is {_number(p[index])}: must lie strictly between 0 and 1")
        # -survival is non-decreasing, so a binary search finds the first time at or below 1 - p.
        index = np.searchsorted(-self.survival, -(1.0 - p) - QUANTILE_TOLERANCE, side="left")
        return np.where(index < self.times.size, self.times[np.minimum(index, self.times.size - 1)], np.nan)

    def median(self) -> float:
        """Median survival time: :meth:`quantile` at 0.5 (NaN if S never reaches 0.5)."""
        return float(self.quantile(0.5))

    def median_interval(self, level: float = 0.95, method: BandMethod = "log-log") -> tuple[float, float]:
        """Confidence interval of the median (Brookmeyer & Crowley 1982), as R's
        ``survfit`` gives it: the times at which the pointwise band (:meth:`confidence_band`)
        first holds 0.5 (its lower limit reaches 0.5) and last holds it (its upper limit
        reaches 0.5). An end is NaN where its limit never falls that far; flat segments are
        read as in :meth:`quantile`.

        Returns
        -------
        low, high : float
            In ``time_unit``.
        """
        lower, upper = self.confidence_band(level, method)
        return self._first_time_at_or_below(lower, 0.5), self._first_time_at_or_below(upper, 0.5)

    def _first_time_at_or_below(self, values: np.ndarray, level: float) -> float:
        """The first of ``times`` at which ``values`` (aligned on them; NaN where S = 0, so
        taken as 0) are at most ``level``, else NaN."""
        reached = np.nonzero(np.nan_to_num(values, nan=0.0) <= level + QUANTILE_TOLERANCE)[0]
        return float(self.times[reached[0]]) if reached.size else float("nan")

    def restricted_mean(self, tau: float) -> float:
        """Restricted mean survival time: the area under the step curve from 0 to ``tau``.

        In ``time_unit``. ``tau`` may exceed the last observed time only if the
        curve has reached 0 there (otherwise the curve beyond is unknown).
        """
        if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau >= 0):
            raise InputError(f"tau is {tau!r}: must be a finite time of at least 0")
        if tau > self.times[-1] and self.survival[-1] > 0:
            raise InputError(
                f"tau is {_number(tau)} {self.time_unit}: after the last observed time "
                f"{_number(self.times[-1])} {self.time_unit}, where survival is still "
                f"{_number(self.survival[-1])}; the curve beyond is unknown"
            )
        knots = np.concatenate(([0.0], self.times[(self.times > 0) & (self.times < tau)], [tau]))
        return float(np.sum(self.survival_at(knots[:-1]) * np.diff(knots)))

    def to_frame(self) -> pd.DataFrame:
        """The estimate as a table, one row per distinct time; ``attrs["time_unit"]`` holds the unit."""
        frame = pd.DataFrame(
            {
                "time": self.times,
                "n_at_risk": self.n_at_risk,
                "n_events": self.n_events,
                "n_censored": self.n_censored,
                "survival": self.survival,
                "std_error": self.std_error,
            }
        )
        frame.attrs["time_unit"] = self.time_unit
        return frame


@dataclass(frozen=True, eq=False)
class NelsonAalen:
    """Nelson–Aalen cumulative hazard at each distinct observed time.

    Attributes
    ----------
    times, n_at_risk, n_events : numpy.ndarray
        As in :class:`KaplanMeier`.
    cumulative_hazard : numpy.ndarray
        H(t) = Σ_{t_j ≤ t} d_j / n_j (dimensionless).
    variance : numpy.ndarray
        Σ_{t_j ≤ t} d_j / n_j² (Aalen's estimator, the one R ``survfit`` reports
        for the Nelson–Aalen hazard).
    """

    times: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    cumulative_hazard: np.ndarray
    variance: np.ndarray


def nelson_aalen(time: ArrayLike, event: ArrayLike, *, entry: ArrayLike | None = None) -> NelsonAalen:
    """Nelson–Aalen cumulative hazard with its variance.

    Parameters
    ----------
    time, event, entry : array_like, shape (n,)
        As in :meth:`KaplanMeier.fit`.
    """
    time, event, entry = _patient_data(time, event, entry)
    times, n_at_risk, n_events, _ = _risk_table(time, event, entry)
    return NelsonAalen(
        times, n_at_risk, n_events, np.cumsum(n_events / n_at_risk), np.cumsum(n_events / n_at_risk.astype(np.float64) ** 2)
    )


def _epanechnikov(u: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Epanechnikov kernel, with Müller–Wang boundary kernels where the support is cut.

    ``u`` is (t - t_j) / b; ``q`` ∈ [0, 1] is how far, in bandwidths, the data
    extend below t (t / b near 0). For q = 1 this is the usual 3/4 (1 - u²) on
    [-1, 1]; for q < 1 it lives on [-1, q] and still integrates to 1 with mean 0,
    which removes the downward bias a truncated kernel has near the boundary.
    """
    weights = 12.0 / (1.0 + q) ** 4 * (u + 1.0) * (u * (1.0 - 2.0 * q) + (3.0 * q**2 - 2.0 * q + 1.0) / 2.0)
    return np.where((u >= -1.0) & (u <= q), weights, 0.0)


def smoothed_hazard(
    time: ArrayLike, event: ArrayLike, times: ArrayLike, bandwidth: float, *, entry: ArrayLike | None = None
) -> np.ndarray:
    """Kernel-smoothed hazard rate, for hazard plots.

    h(t) = (1/b) Σ_j K((t - t_j) / b) ΔH_j, the Nelson–Aalen increments ΔH_j
    smoothed with an Epanechnikov kernel K of half-width b = ``bandwidth``.

    Near the ends of follow-up (t < b, or t within b of the last observed time)
    the symmetric kernel would reach outside the data and bias the estimate
    down by up to half; there the Müller & Wang (1994, Biometrics 50:61–76)
    boundary kernels are used instead, as in R's ``muhaz``. Boundary kernels can
    go negative, so the estimate is truncated at 0.

    Parameters
    ----------
    time, event, entry : array_like, shape (n,)
        As in :meth:`KaplanMeier.fit`.
    times : array_like
        Times at which to estimate the hazard, at least 0; NaN is returned
        beyond the last observed time.
    bandwidth : float
        Kernel half-width b, in the unit of ``time``; at most half the last
        observed time, so that the two boundary regions do not overlap.

    Returns
    -------
    numpy.ndarray
        Hazard per unit of ``time`` at each of ``times``.
    """
    time, event, entry = _patient_data(time, event, entry)
    at = _query_times(times, "times")
    end = time.max()
    if not (isinstance(bandwidth, (int, float)) and math.isfinite(bandwidth) and 0 < bandwidth <= end / 2):
        raise InputError(
            f"bandwidth is {bandwidth!r}: must be positive and at most half the last observed time "
            f"({_number(end)} / 2)"
        )
    event_times, n_at_risk, n_events, _ = _risk_table(time, event, entry)
    increments = n_events / n_at_risk
    flat = at.reshape(-1, 1)
    left, right = np.minimum(flat / bandwidth, 1.0), np.minimum((end - flat) / bandwidth, 1.0)
    u = (flat - event_times) / bandwidth
    # Mirror the kernel at the right boundary: data run out above t, not below.
    kernel = np.where(flat < end - bandwidth, _epanechnikov(u, left), _epanechnikov(-u, np.clip(right, 0.0, 1.0)))
    hazard = np.maximum(kernel @ increments / bandwidth, 0.0)
    return np.where(at.ravel() > end, np.nan, hazard).reshape(at.shape)
