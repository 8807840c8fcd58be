"""Piecewise-constant hazards between fixed cut points."""
from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array
from ._base import SurvivalCurve, check_time_unit


def check_cut_points(cut_points, name: str) -> np.ndarray:
    """Times that split the time axis into periods, as a 1-D array: positive and strictly
    increasing, else an error naming the first that is not."""
    cuts = np.atleast_1d(as_float_array(cut_points, name, ndim=(0, 1)))
    if cuts.size and not (cuts[0] > 0 and (np.diff(cuts) > 0).all()):
        i = int(np.argmin(np.diff(np.concatenate([[0.0], cuts])) > 0))
        raise InputError(f"{name} [{i}] is {float(cuts[i])!r}: cut points must be positive and strictly increasing")
    return cuts


class PiecewiseExponential(SurvivalCurve):
    """Constant hazard ``rates[j]`` on [c_{j−1}, c_j), with c₀ = 0 and the last rate
    applying beyond the last cut point.

    H(t) = Σ_j λ_j·|[c_{j−1}, c_j) ∩ [0, t)|; the quantile and the restricted mean are
    exact (the interval holding the target, then a linear solve or sum).

    Parameters
    ----------
    rates : array (n_intervals,) or (n_samples, n_intervals)
        Hazard per time unit in each interval; non-negative, the last one positive.
    cut_points : array (n_intervals − 1,)
        Interval boundaries in ``time_unit``, strictly increasing and positive.
    time_unit : str
    """

    def __init__(self, rates, cut_points, *, time_unit: str) -> None:
        self.time_unit = check_time_unit(time_unit)
        rates = np.atleast_2d(as_float_array(rates, "rates", ndim=(1, 2)))
        cuts = check_cut_points(cut_points, "cut_points")
        if cuts.size != rates.shape[1] - 1:
            raise InputError(
                f"cut_points: {cuts.size} given for {rates.shape[1]} rates; need one fewer cut point than rates"
            )
        if (rates < 0).any():
            sample, interval = (int(i) for i in np.argwhere(rates < 0)[0])
            raise InputError(
                f"rates [sample {sample}, interval {interval}] is {float(rates[sample, interval])!r}: hazards must be non-negative"
            )
        if not (rates[:, -1] > 0).all():
            raise InputError("rates: the hazard of the last interval must be positive, or the curve never reaches 0")
        self.rates = rates
        self.cut_points = cuts
        self.n_samples = rates.shape[0]
        self._starts = np.concatenate([[0.0], cuts])
        widths = np.diff(self._starts)
        # H at each interval start, per sample
        self._start_hazard = np.concatenate([np.zeros((self.n_samples, 1)), np.cumsum(rates[:, :-1] * widths, axis=1)],
                                            axis=1)

    def _interval(self, t):
        return np.searchsorted(self.cut_points, t, side="right")

    def _cumulative_hazard(self, t):
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, (self.n_samples, 1)))
        j = self._interval(t)
        rows = np.arange(self.n_samples)[:, None]
        with np.errstate(invalid="ignore"):
            return self._start_hazard[rows, j] + self.rates[rows, j] * (t - self._starts[j])

    def _log_hazard(self, t):
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, (self.n_samples, 1)))
        with np.errstate(divide="ignore"):
            return np.log(self.rates[np.arange(self.n_samples)[:, None], self._interval(t)])

    def _breakpoints(self):
        return self.cut_points

    def _quantile(self, p):
        target = -np.log1p(-p)[None, :]  # H(t) at the quantile
        rows = np.arange(self.n_samples)[:, None]
        # last interval whose starting H is below the target
        j = (self._start_hazard[:, None, :] < target[..., None]).sum(axis=2) - 1
        j = np.maximum(j, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            times = self._starts[j] + (target - self._start_hazard[rows, j]) / self.rates[rows, j]
        return np.where(target == 0.0, 0.0, times)

    def _restricted_mean(self, tau):
        ends = np.minimum(np.append(self.cut_points, np.inf), tau)
        starts = np.minimum(self._starts, tau)
        widths = ends - starts
        survival_at_start = np.exp(-self._start_hazard)
        with np.errstate(divide="ignore", invalid="ignore"):
            pieces = np.where(self.rates > 0, -np.expm1(-self.rates * widths) / self.rates, widths)
        return (survival_at_start * pieces).sum(axis=1)
