"""Curves through published summaries when no patient data are available.

A two-parameter family is fixed by two summaries — a median and a landmark survival,
or two landmarks — and the exponential by one. Families whose survival is linear in
log time after a transform are solved in closed form, vectorised over samples (so a
PSA can redraw the summaries):

=============  ===========================  ==================================
family         transform g(S)               g(S) is linear in log t with
=============  ===========================  ==================================
weibull        log(−log S)                  slope k, intercept −k·log(scale)
weibullPH      log(−log S)                  slope k, intercept log(scale)
llogis         log(1/S − 1)                 slope k, intercept −k·log(scale)
lnorm          Φ⁻¹(1 − S)                   slope 1/σ, intercept −μ/σ
=============  ===========================  ==================================

Two points (t₁, S₁), (t₂, S₂) give the slope [g(S₂) − g(S₁)]/[log t₂ − log t₁] and the
intercept g(S₁) − slope·log t₁. The exponential through (t, S) has rate −log S / t.
Other flexsurv families (gompertz, gamma; gengamma with three targets) are solved numerically
(:func:`scipy.optimize.least_squares` on flexsurv's unconstrained scale) and checked to
pass through the targets.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .._validate import InputError, as_float_array
from ._base import check_time_unit
from .fitting.likelihood import ParametricModel
from .parametric import (
    Exponential,
    LogLogistic,
    LogNormal,
    ParametricSurvival,
    Weibull,
    WeibullPH,
)

_CALIBRATION_TOLERANCE = 1e-9


def _targets(median, landmarks) -> list[tuple[np.ndarray, np.ndarray]]:
    points = []
    if median is not None:
        points.append((np.atleast_1d(as_float_array(median, "median", ndim=(0, 1))), np.array([0.5])))
    for i, landmark in enumerate(landmarks):
        try:
            time, survival = landmark
        except (TypeError, ValueError):
            raise InputError(f"landmarks [{i}] is {landmark!r}: give (time, survival) pairs") from None
        points.append((np.atleast_1d(as_float_array(time, f"landmarks [{i}] time", ndim=(0, 1))),
                       np.atleast_1d(as_float_array(survival, f"landmarks [{i}] survival", ndim=(0, 1)))))
    for i, (time, survival) in enumerate(points):
        if not (time > 0).all():
            raise InputError(f"calibration target {i}: time {float(time[time <= 0][0])!r} must be positive")
        if not ((survival > 0) & (survival < 1)).all():
            bad = survival[~((survival > 0) & (survival < 1))][0]
            raise InputError(f"calibration target {i}: survival {float(bad)!r} must lie strictly between 0 and 1")
    return points


def calibrate(family: str, *, time_unit: str, median=None, landmarks=()) -> ParametricSurvival:
    """The curve of ``family`` that passes through a median and/or landmark survivals.

    Parameters
    ----------
    family : str
        flexsurv name: ``"exp"`` (one target), a two-parameter family (two targets) or
        ``"gengamma"`` (three targets).
    time_unit : str
        Unit of the target times and of the returned curve.
    median : float or array (n_samples,), optional
        Median survival time.
    landmarks : sequence of (time, survival)
        E.g. ``[(12, 0.672)]`` for 67.2% alive at 12 months; each entry may hold arrays
        of one value per sample.

    Returns
    -------
    ParametricSurvival
        One curve per sample of the targets.

    Examples
    --------
    A Weibull through a median OS of 19.2 months and 67.2% alive at 12 months:
    ``calibrate("weibull", time_unit="months", median=19.2, landmarks=[(12, 0.672)])``.
    """
    check_time_unit(time_unit)
    points = _targets(median, landmarks)
    model = ParametricModel(family)
    needed = len(model.coefficient_names)
    if len(points) != needed:
        raise InputError(f"{family}: has {needed} parameter(s), so it needs exactly {needed} targets; got {len(points)}")
    if family == "exp":
        (time, survival), = points
        return Exponential(-np.log(survival) / time, time_unit=time_unit)
    times = np.broadcast_arrays(*(t for t, _ in points))
    for i in range(len(times)):
        for j in range(i):
            if np.any(times[i] == times[j]):
                raise InputError(f"{family}: targets {j} and {i} are at the same time; give different times")
    if family in ("weibull", "weibullPH", "llogis", "lnorm"):
        (t1, s1), (t2, s2) = points
        transform = {"weibull": lambda s: np.log(-np.log(s)), "weibullPH": lambda s: np.log(-np.log(s)),
                     "llogis": lambda s: np.log(1.0 / s - 1.0), "lnorm": lambda s: special.ndtri(1.0 - s)}[family]
        slope = (transform(s2) - transform(s1)) / (np.log(t2) - np.log(t1))
        intercept = transform(s1) - slope * np.log(t1)
        if not (slope > 0).all():
            raise InputError(f"{family}: the targets imply survival rising with time; later times need lower survival")
        if family == "weibull":
            return Weibull(slope, np.exp(-intercept / slope), time_unit=time_unit)
        if family == "weibullPH":
            return WeibullPH(slope, np.exp(intercept), time_unit=time_unit)
        if family == "llogis":
            return LogLogistic(slope, np.exp(-intercept / slope), time_unit=time_unit)
        return LogNormal(-intercept / slope, 1.0 / slope, time_unit=time_unit)
    return _calibrate_numerically(model, points, time_unit)


def _calibrate_numerically(model: ParametricModel, points, time_unit: str) -> ParametricSurvival:
    n = max(max(t.size, s.size) for t, s in points)
    times = np.stack([np.broadcast_to(t, n) for t, _ in points], axis=1)
    survivals = np.stack([np.broadcast_to(s, n) for _, s in points], axis=1)
    rows = []
    for time, survival in zip(times, survivals):
        def residuals(coefficients):
            with np.errstate(all="ignore"):
                curve = model.curve(coefficients[None, :], time_unit)
                return np.log(curve._survival(time[None, :])[0]) - np.log(survival)
        start = model.coefficients_near_exponential(np.log(2.0) / np.median(time))
        solution = optimize.least_squares(residuals, start, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if np.max(np.abs(residuals(solution.x))) > _CALIBRATION_TOLERANCE:
            raise InputError(
                f"{model.name}: no curve of this family passes through the targets "
                f"(times {time.tolist()}, survival {survival.tolist()})"
            )
        rows.append(solution.x)
    return model.curve(np.array(rows), time_unit)
