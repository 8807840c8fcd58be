"""Treatment effects and constraints applied to a reference curve.

Curve-level adjustments (exact in continuous time, usable wherever a curve is):

- :class:`ProportionalHazards`: h(t) = HR·h₀(t), so S = S₀^HR;
- :class:`AcceleratedFailureTime`: S(t) = S₀(t/AF) — an acceleration factor (time
  ratio) above 1 stretches survival;
- :class:`WaningHazardRatio`: the hazard ratio returns to 1 between two times.

Grid-level constraints, applied to curves already on the model's cycle grid (the
form an HTA reviewer checks cycle by cycle):

- :func:`floor_at_general_population`: the hazard of death never below general
  population mortality;
- :func:`constrain_pfs_to_os`: progression-free survival never above overall survival.
"""
from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_survival_curves
from ._base import SurvivalCurve

_WANING_NODES, _WANING_WEIGHTS = np.polynomial.legendre.leggauss(16)
_WANING_CHUNK_VALUES = 4_000_000  # bounds the (samples × times × nodes) work array to ~32 MB


def _ratio(value, name: str) -> np.ndarray:
    ratio = np.atleast_1d(as_float_array(value, name, ndim=(0, 1)))
    if not (ratio > 0).all():
        i = int(np.argmin(ratio > 0))
        raise InputError(f"{name} [sample {i}] is {float(ratio[i])!r}: must be a positive number")
    return ratio


def _sample_count(base: SurvivalCurve, ratio: np.ndarray, name: str) -> int:
    sizes = {base.n_samples, ratio.size} - {1}
    if len(sizes) > 1:
        raise InputError(f"{name}: has {ratio.size} samples but the reference curve has {base.n_samples}")
    return sizes.pop() if sizes else 1


class ProportionalHazards(SurvivalCurve):
    """The reference curve with every hazard multiplied by ``hazard_ratio``.

    H(t) = HR·H₀(t), h(t) = HR·h₀(t), S(t) = S₀(t)^HR; ``hazard_ratio`` is a scalar or
    one value per sample (e.g. log-normal draws from the reported 95% CI).
    """

    def __init__(self, reference: SurvivalCurve, hazard_ratio) -> None:
        self.reference = reference
        self.hazard_ratio = _ratio(hazard_ratio, "hazard_ratio")
        self.n_samples = _sample_count(reference, self.hazard_ratio, "hazard_ratio")
        self.time_unit = reference.time_unit

    def _cumulative_hazard(self, t):
        return self.hazard_ratio[:, None] * self.reference._cumulative_hazard(t)

    def _log_hazard(self, t):
        return np.log(self.hazard_ratio)[:, None] + self.reference._log_hazard(t)

    def _breakpoints(self):
        return self.reference._breakpoints()


class AcceleratedFailureTime(SurvivalCurve):
    """The reference curve with time stretched by ``acceleration_factor`` (a time ratio).

    S(t) = S₀(t/AF), h(t) = h₀(t/AF)/AF; quantiles are AF times the reference's, and
    RMST(τ) = AF·RMST₀(τ/AF).
    """

    def __init__(self, reference: SurvivalCurve, acceleration_factor) -> None:
        self.reference = reference
        self.acceleration_factor = _ratio(acceleration_factor, "acceleration_factor")
        self.n_samples = _sample_count(reference, self.acceleration_factor, "acceleration_factor")
        self.time_unit = reference.time_unit

    def _factor(self):
        return self.acceleration_factor[:, None]

    def _cumulative_hazard(self, t):
        return self.reference._cumulative_hazard(t / self._factor())

    def _log_hazard(self, t):
        return self.reference._log_hazard(t / self._factor()) - np.log(self._factor())

    def _breakpoints(self):
        return np.unique(np.outer(self.acceleration_factor, self.reference._breakpoints()))

    def _quantile(self, p):
        return self._factor() * self.reference._quantile(p)

    def _restricted_mean(self, tau):
        if self.acceleration_factor.size == 1:
            return self.acceleration_factor * self.reference._restricted_mean(tau / self.acceleration_factor[0])
        return super()._restricted_mean(tau)


class WaningHazardRatio(SurvivalCurve):
    """A hazard ratio that wanes to 1 between ``start`` and ``end`` (in the reference's unit).

    HR(t) = HR for t ≤ start; for ``profile="linear"`` it moves linearly to 1 at
    ``end``; for ``profile="step"`` it is 1 from ``start`` on (``end`` must equal
    ``start`` or be omitted). h(t) = HR(t)·h₀(t) and H(t) = ∫₀ᵗ HR(u) dH₀(u), which on
    the linear stretch, by parts, is

        HR·[H₀(c) − H₀(a)] + (1 − HR)/(b − a)·[(c − a)·H₀(c) − ∫ₐᶜ H₀(u) du],

    the integral by 16-point Gauss–Legendre in v with u = a + (c − a)·v² (which keeps
    the rule accurate where H₀ is not smooth at a = 0).
    """

    def __init__(self, reference: SurvivalCurve, hazard_ratio, start: float, end: float | None = None,
                 profile: str = "linear") -> None:
        self.reference = reference
        self.hazard_ratio = _ratio(hazard_ratio, "hazard_ratio")
        self.n_samples = _sample_count(reference, self.hazard_ratio, "hazard_ratio")
        self.time_unit = reference.time_unit
        if profile not in ("linear", "step"):
            raise InputError(f"profile is {profile!r}: waning is 'linear' or 'step'")
        end = start if end is None else end
        if not (np.isfinite(start) and start >= 0):
            raise InputError(f"start is {float(start)!r}: waning must start at a non-negative time")
        if profile == "linear" and not end > start:
            raise InputError(f"end is {float(end)!r}: linear waning must end after it starts ({float(start)!r})")
        if profile == "step" and end != start:
            raise InputError(f"end is {float(end)!r}: a step in the hazard ratio happens at one time; give start only")
        self.start, self.end, self.profile = float(start), float(end), profile

    def ratio_at(self, t) -> np.ndarray:
        """HR(t), shape ``(n_samples, n_times)``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
        return self._broadcast(self._ratio(t))

    def _ratio(self, t):
        hr = self.hazard_ratio[:, None]
        if self.profile == "step":
            return np.where(t < self.start, hr, 1.0)
        progress = np.clip((t - self.start) / (self.end - self.start), 0.0, 1.0)
        return hr + (1.0 - hr) * progress

    def _log_hazard(self, t):
        return np.log(self._ratio(t)) + self.reference._log_hazard(t)

    def _breakpoints(self):
        return np.unique(np.concatenate([self.reference._breakpoints(), [self.start, self.end]]))

    def _cumulative_hazard(self, t):
        hr = self.hazard_ratio[:, None]
        a, b = self.start, self.end
        h_a = self.reference._cumulative_hazard(np.array([[a]]))
        before = hr * self.reference._cumulative_hazard(np.minimum(t, a))
        if self.profile == "step":
            return np.where(t <= a, before, hr * h_a + self.reference._cumulative_hazard(t) - h_a)
        c = np.clip(t, a, b)
        h_c = self.reference._cumulative_hazard(c)
        waning = hr * (h_c - h_a) + (1.0 - hr) / (b - a) * ((c - a) * h_c - self._integral_of_reference(c))
        h_b = self.reference._cumulative_hazard(np.array([[b]]))
        after = np.where(t > b, self.reference._cumulative_hazard(np.maximum(t, b)) - h_b, 0.0)
        return before + waning + after

    def _integral_of_reference(self, c: np.ndarray) -> np.ndarray:
        """∫ₐᶜ H₀(u) du for c ≥ a, shape broadcast with ``(n_samples, 1)``.

        Where all samples share the time points (a grid), the integral is accumulated
        over the intervals between consecutive distinct times.
        """
        if c.shape[0] == 1:
            times = np.unique(c)
            pieces = self._gauss_legendre(np.concatenate([[self.start], times[:-1]])[None, :], times[None, :])
            return np.cumsum(pieces, axis=1)[:, np.searchsorted(times, c[0])]
        return self._gauss_legendre(np.array([[self.start]]), c)

    def _gauss_legendre(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """∫ H₀ over [lower, upper] elementwise, a block of columns at a time so the
        work array stays small."""
        v = 0.5 * (_WANING_NODES + 1.0)
        weights = _WANING_WEIGHTS * v  # from du = 2(c − a)·v dv and the ½ of the [−1, 1] map
        shape = np.broadcast_shapes(lower.shape, upper.shape, (self.reference.n_samples, 1))
        lower, upper = np.broadcast_to(lower, shape), np.broadcast_to(upper, shape)
        out = np.empty(shape)
        columns = max(1, _WANING_CHUNK_VALUES // (shape[0] * v.size))
        for first in range(0, shape[1], columns):
            block = slice(first, first + columns)
            width = upper[:, block] - lower[:, block]
            u = lower[:, block, None] + width[..., None] * v**2
            values = self.reference._cumulative_hazard(u.reshape(shape[0], -1)).reshape(u.shape)
            out[:, block] = width * (values @ weights)
        return out


def floor_at_general_population(survival, general_population) -> tuple[np.ndarray, np.ndarray]:
    """Keep each cycle's probability of death at or above general-population mortality.

    Over every grid interval the conditional survival is the smaller of the curve's,
    S(t₊)/S(t), and the general population's; the adjusted curve is their running product.
    This is the per-cycle rule of most HTA models; on a weekly grid it differs from the
    continuous-time max(h, h_gp) by far less than the models' other approximations.

    Parameters
    ----------
    survival : array (n_samples, n_times)
        Overall survival on the model grid.
    general_population : array (n_times,) or (1 | n_samples, n_times)
        General-population survival of the same cohort on the same grid.

    Returns
    -------
    adjusted : array (n_samples, n_times)
    floored_intervals : array (n_samples,)
        Number of grid intervals in which general-population mortality was binding.
    """
    curves = np.atleast_2d(as_float_array(survival, "survival", ndim=(1, 2)))
    population = np.atleast_2d(as_float_array(general_population, "general_population", ndim=(1, 2)))
    check_survival_curves(curves, "survival")
    check_survival_curves(population, "general_population")
    if population.shape[1] != curves.shape[1] or population.shape[0] not in (1, curves.shape[0]):
        raise InputError(
            f"general_population: shape {population.shape} does not match survival {curves.shape}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        model_step = np.where(curves[:, :-1] > 0, curves[:, 1:] / curves[:, :-1], 0.0)
        population_step = np.where(population[:, :-1] > 0, population[:, 1:] / population[:, :-1], 0.0)
    binding = population_step < model_step
    step = np.where(binding, population_step, model_step)
    adjusted = np.empty_like(curves)
    adjusted[:, 0] = curves[:, 0]
    np.cumprod(step, axis=1, out=adjusted[:, 1:])
    adjusted[:, 1:] *= curves[:, :1]
    return adjusted, binding.sum(axis=1)


def constrain_pfs_to_os(progression_free, overall) -> tuple[np.ndarray, np.ndarray]:
    """Progression-free survival clipped to overall survival, point by point.

    Returns the clipped PFS and, per sample, the number of time points that were
    corrected, so the correction is reported rather than silent.
    """
    pfs = np.atleast_2d(as_float_array(progression_free, "progression_free", ndim=(1, 2)))
    os_ = np.atleast_2d(as_float_array(overall, "overall", ndim=(1, 2)))
    try:
        pfs, os_ = np.broadcast_arrays(pfs, os_)
    except ValueError:
        raise InputError(f"progression_free shape {pfs.shape} does not match overall {os_.shape}") from None
    above = pfs > os_
    return np.where(above, os_, pfs), above.sum(axis=1)
