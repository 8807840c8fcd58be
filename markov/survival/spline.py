"""Royston–Parmar flexible parametric survival (flexsurv ``flexsurvspline``/``dsurvspline``).

A transformation of survival is a natural cubic spline in log time, with the knots and
coefficients ``gamma`` exactly as flexsurv prints them (``timescale="log"``,
``spline="rp"``). A published model is entered as
``RoystonParmar(gamma=[γ0, γ1, γ2], knots=[k_min, k_1, k_max], scale="hazard", time_unit="months")``
where ``knots`` is flexsurv's ``fit$knots`` (log time, boundary knots included) and
``gamma`` its coefficients ``gamma0, gamma1, …``.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .._validate import InputError, as_float_array
from ._base import SurvivalCurve, check_time_unit

SCALES = ("hazard", "odds", "normal")

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_MONOTONE_TOLERANCE = 1e-12  # relative to the size of the slope's terms
_MAX_BISECTIONS = 200


def _check_knots(knots, name: str = "knots") -> np.ndarray:
    """Knots as a 1-D finite, strictly increasing array of at least 2 values."""
    knots = as_float_array(knots, name, ndim=(1,))
    if knots.size < 2:
        raise InputError(
            f"{name} has {knots.size} value(s): need at least the 2 boundary knots (log times, in increasing order)"
        )
    steps = np.diff(knots)
    if not (steps > 0).all():
        i = int(np.argmin(steps > 0)) + 1
        raise InputError(
            f"{name} [{i}] is {float(knots[i])!r}, not greater than the knot before it ({float(knots[i - 1])!r}): "
            "knots must be strictly increasing"
        )
    return knots


def spline_basis(x, knots, derivative: int = 0) -> np.ndarray:
    """Royston–Parmar natural cubic spline basis at ``x`` (log time), as flexsurv's
    ``basis``/``dbasis`` (``spline="rp"``), or its second derivative.

    Returns shape ``x.shape + (len(knots),)``: columns 1, x, v_1(x), …, v_m(x) with
    v_j(x) = (x − k_j)₊³ − λ_j(x − k_min)₊³ − (1 − λ_j)(x − k_max)₊³ and
    λ_j = (k_max − k_j)/(k_max − k_min), k_j the internal knots. ``derivative`` 1 or 2
    gives d/dx or d²/dx² of each column. The formula is evaluated as written, so ``x``
    should be finite.
    """
    if derivative not in (0, 1, 2):
        raise InputError(f"derivative is {derivative!r}: must be 0, 1 or 2")
    knots = _check_knots(knots)
    x = np.asarray(x, dtype=np.float64)
    k_min, k_max = knots[0], knots[-1]
    out = np.empty(x.shape + (knots.size,))
    out[..., 0] = 0.0 if derivative else 1.0
    out[..., 1] = x if derivative == 0 else (1.0 if derivative == 1 else 0.0)
    factor, power = {0: (1.0, 3), 1: (3.0, 2), 2: (6.0, 1)}[derivative]

    def cube(u):  # derivative-th derivative of (u)₊³
        return factor * np.maximum(u, 0.0) ** power

    lower, upper = cube(x - k_min), cube(x - k_max)
    for j, knot in enumerate(knots[1:-1], start=2):
        lam = (k_max - knot) / (k_max - k_min)
        out[..., j] = cube(x - knot) - lam * lower - (1.0 - lam) * upper
    return out


class RoystonParmar(SurvivalCurve):
    """Royston & Parmar (2002) spline model, parametrised exactly as flexsurv
    (``dsurvspline``/``flexsurvspline`` with ``timescale="log"``, ``spline="rp"``).

    With x = log t (t in :attr:`time_unit`) and knots k_min < k_1 < … < k_m < k_max
    (log time, the two boundary knots included, as flexsurv's ``knots``), the spline is

        s(x) = γ0 + γ1·x + Σ_j γ_{j+1}·v_j(x),
        v_j(x) = (x − k_j)₊³ − λ_j(x − k_min)₊³ − (1 − λ_j)(x − k_max)₊³,
        λ_j = (k_max − k_j)/(k_max − k_min),

    which is linear (slope γ1) below k_min and linear above k_max. The ``scale`` says
    what s models:

    ==========  =====================  =================  ==================================
    scale       s(x) is                S(t)               h(t) = (ds/dx / t) ·
    ==========  =====================  =================  ==================================
    hazard      log H(t)               exp(−e^s)          e^s
    odds        log((1 − S)/S)         1 / (1 + e^s)      e^s / (1 + e^s)
    normal      −Φ⁻¹(S(t))             Φ(−s)              φ(s) / Φ(−s)
    ==========  =====================  =================  ==================================

    and f = h·S. With only the two boundary knots these are the Weibull
    (γ0 = −k·log s, γ1 = k, flexsurv ``weibull`` shape k, scale s), log-logistic (the
    same mapping, ``llogis``) and log-normal (γ0 = −μ/σ, γ1 = 1/σ, ``lnorm``).
    Evaluation uses stable forms (``log_ndtr``, ``logaddexp``), and beyond the
    boundary knots s is evaluated by its exact linear extension.

    ``gamma`` has shape ``(len(knots),)`` or ``(n_samples, len(knots))`` (γ0, γ1, then
    one per internal knot); ``knots`` are shared by all samples.

    **t = 0.** S(0) = 1 and H(0) = 0 (the model's grid starts at 0). The hazard and
    density at 0 are their limits as t → 0 (s is linear there, so the curve is
    Weibull/log-logistic/log-normal near 0): for the hazard and odds scales 0 if γ1 > 1,
    e^{γ0} if γ1 = 1, ∞ if γ1 < 1; 0 for the normal scale. (flexsurv returns 0 at t = 0.)

    **Non-monotone splines.** If ds/dx < 0 somewhere, S(t) rises there and the curve is
    not a survival function; flexsurv then returns hazard and density 0 but a survival
    that still rises, which is inconsistent. Because ds/dx is a continuous piecewise
    quadratic in x (constant γ1 below k_min and constant above k_max), its minimum over
    all x is found exactly (:meth:`slope_minimum`), and by default the constructor
    raises :class:`InputError` naming the sample when γ1 ≤ 0 or ds/dx < 0 anywhere
    (up to rounding, ~1e-12 of the slope's terms). A silent repair would make the
    model run on a curve nobody fitted or reported; for PSA, drop or redraw the
    offending parameter draws (:meth:`slope_minimum` finds them). A slope of exactly 0
    above k_max is allowed: S then levels off at exp(−e^{s(k_max)}) (etc.) and
    quantiles beyond it are ``inf``.
    ``check_monotone=False`` skips this check and evaluates exactly as flexsurv
    (S from the spline even where it rises, hazard and density 0 where ds/dx ≤ 0) —
    meant for likelihood evaluation while fitting, not for feeding a model; quantiles
    then use the generic bisection on S.

    **Quantiles** solve s(log t) = g(p) with g(p) = log(−log(1 − p)) (hazard),
    log(p/(1 − p)) (odds), Φ⁻¹(p) (normal): exactly on the linear tails, by bisection
    in log time to full double precision between the boundary knots. Restricted means
    use the generic adaptive quadrature in log time.
    """

    def __init__(self, gamma, knots, *, scale: str, time_unit: str, check_monotone: bool = True) -> None:
        name = type(self).__name__
        if scale not in SCALES:
            raise InputError(f"{name} scale is {scale!r}: unknown scale; use one of {', '.join(SCALES)}")
        self.scale = scale
        self.time_unit = check_time_unit(time_unit)
        self.knots = _check_knots(knots, f"{name} knots")
        gamma = as_float_array(gamma, f"{name} gamma", ndim=(1, 2))
        gamma = np.ascontiguousarray(np.atleast_2d(gamma))
        if gamma.shape[1] != self.knots.size:
            raise InputError(
                f"{name} gamma: has {gamma.shape[1]} coefficient(s) per sample but knots has {self.knots.size} "
                f"values; give one per knot (γ0, γ1 and one per internal knot)"
            )
        if gamma.shape[0] == 0:
            raise InputError(f"{name} gamma: has no samples")
        self.gamma = gamma
        self.n_samples = gamma.shape[0]
        self.check_monotone = bool(check_monotone)
        if self.check_monotone:
            self._require_monotone()

    # --- helpers for fitting and checking ---------------------------------------------
    @staticmethod
    def basis(x, knots) -> tuple[np.ndarray, np.ndarray]:
        """The basis matrix and its derivative in x at log times ``x``, each of shape
        ``x.shape + (len(knots),)``, as flexsurv's ``basis`` and ``dbasis``; s(x) is
        ``basis @ gamma`` and ds/dx is ``derivative @ gamma``."""
        return spline_basis(x, knots, 0), spline_basis(x, knots, 1)

    @staticmethod
    def slope_minimum(gamma, knots) -> tuple[np.ndarray, np.ndarray]:
        """Exact minimum over all x of ds/dx for each row of ``gamma``, and the log time
        where it is reached, each of shape ``(n_samples,)``.

        ds/dx is continuous and piecewise quadratic with pieces between knots (constant
        outside them), and its derivative d²s/dx² is piecewise linear, so the minimum is
        at a knot or where d²s/dx² crosses 0 upwards inside a piece.
        """
        knots = _check_knots(knots)
        gamma = np.atleast_2d(as_float_array(gamma, "gamma", ndim=(1, 2)))
        if gamma.shape[1] != knots.size:
            raise InputError(f"gamma: has {gamma.shape[1]} coefficient(s) per sample but knots has {knots.size} values")
        curvature = gamma @ spline_basis(knots, knots, 2).T  # d²s/dx² at each knot, (n, K)
        left, right = knots[:-1], knots[1:]
        c_left, c_right = curvature[:, :-1], curvature[:, 1:]
        turning = (c_left < 0) & (c_right > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.where(turning, left + (right - left) * (-c_left) / (c_right - c_left), left)
        candidates = np.concatenate([np.broadcast_to(knots, gamma.shape), vertex], axis=1)
        slopes = np.einsum("nck,nk->nc", spline_basis(candidates, knots, 1), gamma)
        best = np.argmin(slopes, axis=1)
        rows = np.arange(gamma.shape[0])
        return slopes[rows, best], candidates[rows, best]

    def _require_monotone(self) -> None:
        name = type(self).__name__
        gamma1 = self.gamma[:, 1]
        if not (gamma1 > 0).all():
            i = int(np.argmin(gamma1 > 0))
            raise InputError(
                f"{name} gamma [sample {i}, γ1] is {float(gamma1[i])!r}: must be positive (γ1 is the slope of s(log t) "
                "below the first knot; otherwise S(t) does not start at 1)"
            )
        minimum, where = self.slope_minimum(self.gamma, self.knots)
        size = np.abs(self.gamma[:, 1]) + 3.0 * (self.knots[-1] - self.knots[0]) ** 2 * np.abs(self.gamma[:, 2:]).sum(axis=1)
        bad = minimum < -_MONOTONE_TOLERANCE * size
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"{name} gamma [sample {i}]: the spline s(log t) decreases (ds/dx is {minimum[i]:.6g} at log t = "
                f"{where[i]:.6g}, t = {np.exp(where[i]):.6g} {self.time_unit}), so S(t) would rise; ds/dx must be "
                "non-negative everywhere (find such samples with RoystonParmar.slope_minimum, or pass "
                "check_monotone=False to evaluate as flexsurv does)"
            )

    # --- the spline on the samples ---------------------------------------------------
    def _spline(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x = log t, s(x) and ds/dx, the last two of shape ``(n_samples, n_times)``."""
        with np.errstate(divide="ignore"):
            x = np.log(t)
        inside = np.clip(x, self.knots[0], self.knots[-1])
        gamma = self.gamma[:, None, :]
        s_inside = (spline_basis(inside, self.knots, 0) * gamma).sum(axis=-1)
        slope = (spline_basis(inside, self.knots, 1) * gamma).sum(axis=-1)
        if self.check_monotone:
            slope = np.maximum(slope, 0.0)  # rounding only: the constructor checked
        outside = (x != inside) & (slope != 0.0)
        with np.errstate(invalid="ignore"):
            s = np.where(outside, s_inside + slope * (x - inside), s_inside)
        return x, s, slope

    def _cumulative_hazard(self, t):
        _, s, _ = self._spline(t)
        if self.scale == "hazard":
            H = np.exp(s)
        elif self.scale == "odds":
            H = np.logaddexp(0.0, s)
        else:
            H = -special.log_ndtr(-s)
        return np.where(t == 0, 0.0, H)

    def _survival(self, t):
        _, s, _ = self._spline(t)
        if self.scale == "hazard":
            S = np.exp(-np.exp(s))
        elif self.scale == "odds":
            S = special.expit(-s)
        else:
            S = special.ndtr(-s)
        return self._broadcast(np.where(t == 0, 1.0, S))

    def _log_hazard(self, t):
        x, s, slope = self._spline(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_slope = np.where(slope > 0, np.log(np.where(slope > 0, slope, 1.0)), -np.inf)
            if self.scale == "hazard":
                log_link = s
            elif self.scale == "odds":
                log_link = -np.logaddexp(0.0, -s)
            else:
                log_link = -0.5 * s * s - _LOG_SQRT_2PI - special.log_ndtr(-s)
            log_h = log_slope - x + log_link
        gamma0, gamma1 = self.gamma[:, :1], self.gamma[:, 1:2]
        if self.scale == "normal":
            at_zero = np.full(gamma1.shape, -np.inf)
        else:
            at_zero = np.where(gamma1 > 1, -np.inf, np.where(gamma1 == 1, gamma0, np.inf))
        at_zero = np.where(gamma1 > 0, at_zero, -np.inf)
        log_h = np.where(t == 0, at_zero, log_h)
        if self.scale != "hazard":  # the odds and normal hazards fall to 0 as t → ∞
            return np.where(t == np.inf, -np.inf, log_h)
        # hazard scale beyond k_max: h = c·e^{s(k_max) − c·k_max}·t^{c − 1}, c the tail slope
        _, s_end, tail = self._spline(np.exp(self.knots[-1:])[None, :])
        with np.errstate(divide="ignore"):
            at_inf = np.where(tail > 1, np.inf,
                              np.where(tail == 1, s_end - self.knots[-1], -np.inf))
        return np.where(t == np.inf, at_inf, log_h)

    def _density(self, t):
        with np.errstate(invalid="ignore"):
            density = np.exp(self._log_hazard(t) - self._cumulative_hazard(t))
        return np.where(t == np.inf, 0.0, density)

    def _target(self, p: np.ndarray) -> np.ndarray:
        """g(p): the value of s at the p-quantile."""
        with np.errstate(divide="ignore"):
            if self.scale == "hazard":
                return np.log(-np.log1p(-p))
            if self.scale == "odds":
                return np.log(p) - np.log1p(-p)
            return special.ndtri(p)

    def _quantile(self, p):
        if not self.check_monotone:
            return super()._quantile(p)
        target = np.broadcast_to(self._target(p)[None, :], (self.n_samples, p.size))
        k_min, k_max = self.knots[0], self.knots[-1]
        _, s_ends, slope_ends = self._spline(np.exp(np.array([[k_min, k_max]])))
        s_low, s_high = s_ends[:, :1], s_ends[:, 1:]
        gamma1, tail = self.gamma[:, 1:2], slope_ends[:, 1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            below = k_min + (target - s_low) / gamma1
            above = np.where(tail > 0, k_max + (target - s_high) / np.where(tail > 0, tail, 1.0), np.inf)
        low = np.full(target.shape, k_min)
        high = np.full(target.shape, k_max)
        for _ in range(_MAX_BISECTIONS):
            middle = 0.5 * (low + high)
            if not ((middle > low) & (middle < high)).any():
                break
            _, s_middle, _ = self._spline(np.exp(middle))
            under = s_middle < target
            low = np.where(under, middle, low)
            high = np.where(under, high, middle)
        x = np.where(target <= s_low, below, np.where(target > s_high, above, 0.5 * (low + high)))
        return np.exp(x)

    def __repr__(self) -> str:
        gamma = (", ".join(f"{g:.6g}" for g in self.gamma[0]) if self.n_samples == 1
                 else f"<{self.n_samples} samples>")
        knots = ", ".join(f"{k:.6g}" for k in self.knots)
        return (f"{type(self).__name__}(gamma=[{gamma}], knots=[{knots}], scale={self.scale!r}, "
                f"time_unit={self.time_unit!r})")


def default_knots(time, event, n_internal: int, *, time_unit: str) -> np.ndarray:
    """flexsurv's default knots for ``flexsurvspline(k=n_internal)`` with right-censored
    data and no weights, on the log of ``time`` (in ``time_unit``, which the curve
    built with these knots must use).

    As in ``flexsurvspline`` (``R/spline.R``): the internal knots are the quantiles at
    probabilities j/(n_internal + 1), j = 1 … n_internal, of the log event times, by R's
    default ``quantile`` (type 7, linear interpolation; numpy's default); the boundary
    knots are the minimum and maximum log event time, or, when no observation has the
    event, of all the (censoring) times. Returns
    ``[k_min, k_1, …, k_{n_internal}, k_max]``, ready for :class:`RoystonParmar`.
    """
    check_time_unit(time_unit)
    time = as_float_array(time, "time", ndim=(1,))
    event = as_float_array(event, "event", ndim=(1,))
    if time.size != event.size:
        raise InputError(f"time has {time.size} values but event has {event.size}: give one event flag per time")
    if time.size == 0:
        raise InputError("time: has no values")
    if not (time > 0).all():
        i = int(np.argmin(time > 0))
        raise InputError(f"time [{i}] is {float(time[i])!r}: times must be positive (their logs place the knots)")
    flags = (event == 0) | (event == 1)
    if not flags.all():
        i = int(np.argmin(flags))
        raise InputError(f"event [{i}] is {float(event[i])!r}: must be 1 (event) or 0 (censored)")
    if isinstance(n_internal, bool) or not isinstance(n_internal, (int, np.integer)) or n_internal < 0:
        raise InputError(f"n_internal is {n_internal!r}: must be a non-negative whole number")
    log_events = np.log(time[event == 1])
    if n_internal > 0 and log_events.size == 0:
        raise InputError("event: no observation has the event, so internal knots cannot be placed at event-time quantiles")
    internal = np.quantile(log_events, np.arange(1, n_internal + 1) / (n_internal + 1)) if n_internal else np.empty(0)
    ends = log_events if log_events.size else np.log(time)
    knots = np.concatenate([[ends.min()], internal, [ends.max()]])
    if not (np.diff(knots) > 0).all():
        raise InputError(
            f"default knots {np.round(knots, 6).tolist()} are not strictly increasing (tied or too few distinct "
            f"event times for {n_internal} internal knot(s)); use fewer knots or give them explicitly"
        )
    return knots
