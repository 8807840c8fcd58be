"""Curves built from other curves: Kaplan–Meier with a parametric tail, mixture cure."""
from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array
from ._base import TIME_UNIT_YEARS, SurvivalCurve
from .nonparametric import KaplanMeier


class KaplanMeierWithTail(SurvivalCurve):
    """The Kaplan–Meier estimate up to ``cut_time``, then a parametric tail.

    S(t) = S_KM(t) for t ≤ t*; S(t) = S_KM(t*)·S_tail(t)/S_tail(t*) beyond, so the tail
    carries the hazard of the parametric curve from the cut point (NICE DSU TSD 14/21).
    The Kaplan–Meier part is a step function: its probability sits in point masses at
    the event times, where hazard and density are not defined, and between them the
    hazard is 0. Survival, cumulative hazard, quantiles and restricted means are exact;
    RMST(τ) = RMST_KM(min(τ, t*)) + S_KM(t*)/S_tail(t*)·[RMST_tail(τ) − RMST_tail(t*)].

    Parameters
    ----------
    kaplan_meier : KaplanMeier
    tail : SurvivalCurve
        The parametric curve (one or ``n_samples`` parameter sets), in the same time unit.
    cut_time : float
        Where the tail takes over, within the Kaplan–Meier follow-up, in that unit.
    """

    def __init__(self, kaplan_meier: KaplanMeier, tail: SurvivalCurve, cut_time: float) -> None:
        if kaplan_meier.time_unit != tail.time_unit:
            raise InputError(
                f"tail: in {tail.time_unit} but the Kaplan–Meier estimate is in {kaplan_meier.time_unit}; use one unit"
            )
        last = float(kaplan_meier.times[-1])
        if not (np.isfinite(cut_time) and 0 < cut_time <= last):
            raise InputError(f"cut_time is {float(cut_time)!r}: must lie within the Kaplan–Meier follow-up (0, {last}]")
        at_cut = float(kaplan_meier.survival_at([cut_time])[0])
        if at_cut <= 0:
            raise InputError(f"cut_time is {float(cut_time)!r}: the Kaplan–Meier estimate is already 0 there")
        self.kaplan_meier, self.tail, self.cut_time = kaplan_meier, tail, float(cut_time)
        self.time_unit, self.n_samples = tail.time_unit, tail.n_samples
        self._survival_at_cut = at_cut
        self._tail_hazard_at_cut = tail._cumulative_hazard(np.array([[cut_time]]))

    def _cumulative_hazard(self, t):
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, (1, 1)))
        with np.errstate(divide="ignore"):
            observed = -np.log(self.kaplan_meier.survival_at(np.minimum(t, self.cut_time).ravel()).reshape(t.shape))
        tail = self.tail._cumulative_hazard(np.maximum(t, self.cut_time)) - self._tail_hazard_at_cut
        return observed + np.where(t > self.cut_time, tail, 0.0)

    def _log_hazard(self, t):
        with np.errstate(divide="ignore"):
            return np.where(t > self.cut_time, self.tail._log_hazard(np.maximum(t, self.cut_time)), -np.inf)

    def _breakpoints(self):
        return np.append(self.kaplan_meier.times[self.kaplan_meier.times < self.cut_time], self.cut_time)

    def _restricted_mean(self, tau):
        observed = self.kaplan_meier.restricted_mean(min(tau, self.cut_time))
        if tau <= self.cut_time:
            return np.full(self.n_samples, observed)
        tail_area = self.tail._restricted_mean(tau) - self.tail._restricted_mean(self.cut_time)
        return observed + self._survival_at_cut * np.exp(self._tail_hazard_at_cut[:, 0]) * tail_area


class MixtureCure(SurvivalCurve):
    """Mixture cure: a cured share ``cure_fraction`` who face only background mortality.

    S(t) = S_bg(t)·[π + (1 − π)·S_u(t)], so
    H(t) = H_bg(t) − log[π + (1 − π)·S_u(t)] and
    h(t) = h_bg(t) + (1 − π)·f_u(t) / [π + (1 − π)·S_u(t)]
    — the relative-survival form that flexsurvcure fits with a background hazard.
    Without ``background`` the cured never die (S → π).

    Parameters
    ----------
    cure_fraction : float or array (n_samples,)
        π, in [0, 1).
    uncured : SurvivalCurve
        Survival of the uncured, relative to background mortality.
    background : SurvivalCurve, optional
        General-population survival of the cohort (e.g.
        :class:`~markov.survival.general_population.GeneralPopulationSurvival`), in any
        time unit; it is evaluated in the uncured curve's unit.
    """

    def __init__(self, cure_fraction, uncured: SurvivalCurve, background: SurvivalCurve | None = None) -> None:
        pi = np.atleast_1d(as_float_array(cure_fraction, "cure_fraction", ndim=(0, 1)))
        if not ((pi >= 0) & (pi < 1)).all():
            i = int(np.argmin((pi >= 0) & (pi < 1)))
            raise InputError(f"cure_fraction [sample {i}] is {float(pi[i])!r}: must lie in [0, 1)")
        sizes = {pi.size, uncured.n_samples, 1 if background is None else background.n_samples} - {1}
        if len(sizes) > 1:
            raise InputError(f"cure_fraction, uncured and background disagree on the number of samples ({sorted(sizes)})")
        self.cure_fraction, self.uncured, self.background = pi, uncured, background
        self.time_unit = uncured.time_unit
        self.n_samples = sizes.pop() if sizes else 1
        self._background_scale = (
            1.0 if background is None else TIME_UNIT_YEARS[self.time_unit] / TIME_UNIT_YEARS[background.time_unit]
        )

    def _mixture_log_survival(self, t):
        pi = self.cure_fraction[:, None]
        return np.log(pi + (1.0 - pi) * np.exp(-self.uncured._cumulative_hazard(t)))

    def _cumulative_hazard(self, t):
        own = -self._mixture_log_survival(t)
        if self.background is None:
            return own
        return own + self.background._cumulative_hazard(t * self._background_scale)

    def _log_hazard(self, t):
        pi = self.cure_fraction[:, None]
        with np.errstate(divide="ignore"):
            log_own = np.log1p(-pi) + self.uncured._log_hazard(t) - self.uncured._cumulative_hazard(t) \
                - self._mixture_log_survival(t)
        if self.background is None:
            return log_own
        log_background = self.background._log_hazard(t * self._background_scale) + np.log(self._background_scale)
        return np.logaddexp(log_own, log_background)

    def _breakpoints(self):
        own = self.uncured._breakpoints()
        if self.background is None:
            return own
        return np.union1d(own, self.background._breakpoints() / self._background_scale)


class Mixture(SurvivalCurve):
    """Population mixture of curves: a share ``weights[i]`` of patients follows
    ``curves[i]``, so S(t) = Σ wᵢ Sᵢ(t) and h(t) = Σ wᵢ fᵢ(t) / S(t).

    Used for an add-on that only some patients receive (e.g. a hazard ratio applied to
    a share of the cohort). All curves must share one time unit.

    Parameters
    ----------
    curves : sequence of SurvivalCurve
    weights : sequence of float or array (n_samples,)
        Non-negative, summing to 1 in every sample.
    """

    def __init__(self, curves, weights) -> None:
        if len(curves) != len(weights) or not curves:
            raise InputError(f"Mixture: {len(curves)} curves but {len(weights)} weights; give one weight per curve")
        units = {curve.time_unit for curve in curves}
        if len(units) > 1:
            raise InputError(f"Mixture: curves in different time units {sorted(units)}; convert them to one unit")
        rows = [np.atleast_1d(as_float_array(w, f"weights [{i}]", ndim=(0, 1))) for i, w in enumerate(weights)]
        sizes = {row.size for row in rows} | {curve.n_samples for curve in curves}
        sizes.discard(1)
        if len(sizes) > 1:
            raise InputError(f"Mixture: curves and weights disagree on the number of samples ({sorted(sizes)})")
        self.n_samples = sizes.pop() if sizes else 1
        self.weights = np.stack([np.broadcast_to(row, (self.n_samples,)) for row in rows])
        if (self.weights < 0).any() or not np.allclose(self.weights.sum(axis=0), 1.0, atol=1e-12):
            raise InputError("Mixture: weights must be non-negative and sum to 1 in every sample")
        self.curves, self.time_unit = list(curves), units.pop()

    def _survival(self, t):
        return self._broadcast(sum(w[:, None] * c._survival(t) for w, c in zip(self.weights, self.curves)))

    def _cumulative_hazard(self, t):
        return -np.log(self._survival(t))

    def _log_hazard(self, t):
        density = sum(w[:, None] * c._density(t) for w, c in zip(self.weights, self.curves))
        return np.log(density) - np.log(self._survival(t))

    def _breakpoints(self):
        return np.unique(np.concatenate([c._breakpoints() for c in self.curves]))
