"""Treatment effects and constraints applied to a reference curve.

Curve-level adjustments (exact in continuous time, usable wherever a curve is):

- :class:`ProportionalHazards`: h(t) = HR·h₀(t), so S = S₀^HR;
- :class:`AcceleratedFailureTime`: S(t) = S₀(t/AF) — an acceleration factor (time
  ratio) above 1 stretches survival;
- :class:`WaningHazardRatio`: the hazard ratio returns to 1 between two times;
- :class:`PiecewiseHazardRatio`: a hazard ratio constant within periods (time-varying);
- :class:`GeneralPopulationFloor`: general-population mortality as a floor on the
  hazard, interval by interval (on the model's grid, :func:`floor_at_general_population`).

Grid-level constraints, applied to curves already on the model's cycle grid (the
form an HTA reviewer checks cycle by cycle):

- :func:`floor_at_general_population`: the hazard of death never below general
  population mortality;
- :func:`constrain_pfs_to_os`: progression-free survival never above overall survival.
"""
from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_survival_curves
from ._base import TIME_UNIT_YEARS, SurvivalCurve, survival_of_scaled
from .piecewise import check_cut_points

_WANING_NODES, _WANING_WEIGHTS = np.polynomial.legendre.leggauss(16)
_WANING_CHUNK_VALUES = 4_000_000  # bounds the (samples × times × nodes) work array to ~32 MB
_NODE_BLOCK, _NODE_BLOCK_VALUES = 4096, 1_000_000  # floor intervals are summed a block at a time
_NODE_TOLERANCE = 1e-9  # a time this close (relatively) to an interval boundary is on it: grids in other units
_UNDERFLOW = 746.0  # exp(−H) is exactly 0 in double precision from here on


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
        return self.hazard_ratio[:, None] * self.reference._reference_cumulative_hazard(t)

    def _survival(self, t):
        reference = self.reference._reference_cumulative_hazard(t)
        return self._broadcast(survival_of_scaled(self.hazard_ratio[:, None], reference))

    def _log_hazard(self, t):
        return np.log(self.hazard_ratio)[:, None] + self.reference._log_hazard(t)

    def constant_hazard(self) -> np.ndarray | None:
        hazard = self.reference.constant_hazard()
        return None if hazard is None else self.hazard_ratio * hazard

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

    def constant_hazard(self) -> np.ndarray | None:
        hazard = self.reference.constant_hazard()
        return None if hazard is None else hazard / self.acceleration_factor

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


class PiecewiseHazardRatio(SurvivalCurve):
    """A hazard ratio constant within periods: ``hazard_ratios[j]`` on [u_{j−1}, u_j),
    with u₀ = 0 and the last ratio applying from the last ``until`` on (times in the
    reference's unit).

    h(t) = HR_j·h₀(t) and H(t) = Σ_j HR_j·[H₀(min(t, u_j)) − H₀(u_{j−1})]₊, exact
    wherever the reference's H₀ is.

    Parameters
    ----------
    reference : SurvivalCurve
    hazard_ratios : array (n_periods,) or (n_samples, n_periods)
        Positive.
    until : array (n_periods − 1,)
        Ends of every period but the last; positive and strictly increasing.
    """

    def __init__(self, reference: SurvivalCurve, hazard_ratios, until) -> None:
        ratios = np.atleast_2d(as_float_array(hazard_ratios, "hazard_ratios", ndim=(1, 2)))
        if not (ratios > 0).all():
            sample, period = (int(i) for i in np.argwhere(~(ratios > 0))[0])
            raise InputError(f"hazard_ratios [sample {sample}, period {period}] is {float(ratios[sample, period])!r}: "
                             "must be a positive number")
        self.until = check_cut_points(until, "until")
        if self.until.size != ratios.shape[1] - 1:
            raise InputError(f"until: {self.until.size} given for {ratios.shape[1]} hazard ratios; every period but "
                             "the last ends at an until")
        self.reference, self.hazard_ratios = reference, ratios
        self.n_samples = _sample_count(reference, ratios[:, 0], "hazard_ratios")
        self.time_unit = reference.time_unit
        self._bounds = np.concatenate([[0.0], self.until, [np.inf]])

    def _cumulative_hazard(self, t):
        total = 0.0
        for j, (low, high) in enumerate(zip(self._bounds[:-1], self._bounds[1:])):
            inside = self.reference._cumulative_hazard(np.clip(t, low, high)) \
                - self.reference._cumulative_hazard(np.array([[low]]))
            total = total + self.hazard_ratios[:, j:j + 1] * inside
        return total

    def _log_hazard(self, t):
        t = np.broadcast_to(t, np.broadcast_shapes(t.shape, (self.n_samples, 1)))
        period = np.searchsorted(self.until, t, side="right")
        rows = np.arange(self.hazard_ratios.shape[0])[:, None] if self.hazard_ratios.shape[0] > 1 else 0
        return np.log(self.hazard_ratios[rows, period]) + self.reference._log_hazard(t)

    def _breakpoints(self):
        return np.union1d(self.reference._breakpoints(), self.until)


class GeneralPopulationFloor(SurvivalCurve):
    """The reference curve with general-population mortality as a floor on its hazard,
    interval by interval: the form in which models apply the floor, cycle by cycle.

    The time axis is cut into intervals of length Δ = ``interval`` (t_k = kΔ). Within
    each, the conditional survival is the smaller of the curve's and the population's:

        S(t) = S(t_k)·min(S₀(t)/S₀(t_k), S_gp(t)/S_gp(t_k)),   t_k ≤ t < t_{k+1},

    i.e. H(t) = Σ_{j<k} max(ΔH₀_j, ΔH_gp_j) + max(H₀(t) − H₀(t_k), H_gp(t) − H_gp(t_k)).
    On a grid whose points are multiples of Δ — the model's grid when Δ is its cycle
    length — this is exactly :func:`floor_at_general_population`; between them S is
    still continuous and non-increasing, and as Δ → 0 it tends to the continuous floor
    h = max(h₀, h_gp). The hazard is the binding one's (at t_k, the larger of the two).

    Evaluating at time t sums the intervals before it (cached per curve, so memory grows
    with the latest time evaluated: n_samples × t/Δ values). Once every sample's H passes
    746, S is 0 in double precision and H is reported as ∞.

    Parameters
    ----------
    reference : SurvivalCurve
    general_population : SurvivalCurve
        General-population survival of the cohort (e.g.
        :class:`~markov.survival.general_population.GeneralPopulationSurvival`), in any unit.
    interval : float
        Δ, in the reference's time unit.
    """

    def __init__(self, reference: SurvivalCurve, general_population: SurvivalCurve, interval: float) -> None:
        if not (np.isfinite(interval) and interval > 0):
            raise InputError(f"interval is {float(interval)!r}: the floor's interval must be a positive time")
        sizes = {reference.n_samples, general_population.n_samples} - {1}
        if len(sizes) > 1:
            raise InputError(f"general_population has {general_population.n_samples} samples but the reference "
                             f"curve has {reference.n_samples}")
        self.reference, self.general_population, self.interval = reference, general_population, float(interval)
        self.time_unit = reference.time_unit
        self.n_samples = sizes.pop() if sizes else 1
        self._population_scale = TIME_UNIT_YEARS[self.time_unit] / TIME_UNIT_YEARS[general_population.time_unit]
        self._node_hazard = np.zeros((self.n_samples, 1))  # H at t_0, t_1, … as far as evaluated

    def _hazards(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """H₀ and H_gp at ``t`` (this curve's unit), broadcast to ``(n_samples, …)``."""
        shape = np.broadcast_shapes(t.shape, (self.n_samples, 1))
        own = self.reference._cumulative_hazard(t)
        with np.errstate(divide="ignore", invalid="ignore"):  # past the life table's reach S_gp is 0
            population = self.general_population._cumulative_hazard(t * self._population_scale)
        return np.broadcast_to(own, shape), np.broadcast_to(population, shape)

    def _since_node(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The interval index k of ``t`` and the rises of H₀ and H_gp since t_k."""
        x = t / self.interval
        nearest = np.round(x)
        with np.errstate(invalid="ignore"):
            k = np.where(np.abs(x - nearest) <= _NODE_TOLERANCE * np.maximum(nearest, 1.0), nearest, np.floor(x))
        at_t, at_node = self._hazards(t), self._hazards(np.where(np.isfinite(k), k * self.interval, 0.0))
        with np.errstate(invalid="ignore"):
            rises = [np.where(node == np.inf, np.inf, now - node) for now, node in zip(at_t, at_node)]
        return k, rises[0], rises[1]

    def _extend_nodes(self, last: int) -> None:
        """Sum the intervals up to node ``last`` (or until every sample's H underflows S)."""
        block = min(_NODE_BLOCK, max(16, _NODE_BLOCK_VALUES // self.n_samples))
        while self._node_hazard.shape[1] <= last and (self._node_hazard[:, -1] < _UNDERFLOW).any():
            first = self._node_hazard.shape[1] - 1
            nodes = np.arange(first, min(first + block, last) + 1)[None, :] * self.interval
            with np.errstate(invalid="ignore"):
                own, population = (np.diff(h, axis=1) for h in self._hazards(nodes))
                # ∞ − ∞ where a curve has already reached 0: it stays there
                steps = np.nan_to_num(np.maximum(own, population), nan=np.inf)
            sums = self._node_hazard[:, -1:] + np.cumsum(steps, axis=1)
            self._node_hazard = np.concatenate([self._node_hazard, sums], axis=1)

    def _cumulative_hazard(self, t):
        k, own, population = self._since_node(t)
        finite = np.isfinite(k)
        self._extend_nodes(int(k[finite].max()) if finite.any() else 0)
        known = finite & (k < self._node_hazard.shape[1])
        index = np.where(known, k, 0).astype(np.intp)
        rows = np.arange(self.n_samples)[:, None]
        with np.errstate(invalid="ignore"):
            return np.where(known, self._node_hazard[rows, index] + np.maximum(own, population), np.inf)

    def _log_hazard(self, t):
        _, own, population = self._since_node(t)
        log_own = self.reference._log_hazard(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_population = self.general_population._log_hazard(t * self._population_scale) \
                + np.log(self._population_scale)
        return np.where(own > population, log_own,
                        np.where(population > own, log_population, np.maximum(log_own, log_population)))

    def _breakpoints(self):
        return np.union1d(self.reference._breakpoints(),
                          self.general_population._breakpoints() / self._population_scale)

    def _breakpoints_before(self, tau):
        nodes = np.arange(1, np.ceil(tau / self.interval)) * self.interval
        breaks = np.union1d(self._breakpoints(), nodes)
        return breaks[(breaks > 0) & (breaks < tau)]


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
