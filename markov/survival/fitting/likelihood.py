"""Maximum-likelihood fits of survival curves to right-censored patient data.

Coefficients are estimated on flexsurv's unconstrained scale (log of every positive
parameter, the others as they are), so the covariance matrix, confidence intervals and
the multivariate-normal PSA draws of :meth:`FitResult.sample` are on the same scale as
flexsurv's ``res.t`` and ``normboot.flexsurvreg``.

The log-likelihood of observation i with time tᵢ, event indicator dᵢ and optional
entry time eᵢ (left truncation) is ``dᵢ·log h(tᵢ) − H(tᵢ) + H(eᵢ)``, the same quantity
flexsurv maximises, so log-likelihoods, AIC and BIC are comparable with it.
AIC = −2·logL + 2p; BIC = −2·logL + p·log(n) with n the number of observations
(flexsurv's default, ``cens = TRUE``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..._validate import InputError, as_float_array
from ...uncertainty import MultivariateNormal
from .._base import SurvivalCurve, check_time_unit
from ..composite import KaplanMeierWithTail, MixtureCure
from ..nonparametric import KaplanMeier
from ..parametric import FAMILIES, POSITIVE, ParametricSurvival
from ..piecewise import PiecewiseExponential
from ..spline import RoystonParmar, default_knots

_HESSIAN_STEP = 1e-4
_CONVERGED_GAIN = 1e-6  # log-likelihood units


@dataclass(frozen=True)
class PatientData:
    """Right-censored, optionally left-truncated, individual patient data.

    Parameters
    ----------
    time : array (n,)
        Time of the event or of censoring, in ``time_unit``; positive.
    event : array (n,)
        1 where the event was observed, 0 where the patient was censored.
    time_unit : str
        ``"days"``, ``"weeks"``, ``"months"`` or ``"years"``.
    entry : array (n,), optional
        Delayed-entry (left-truncation) times, below ``time``; e.g. a parametric tail
        fitted to the patients still at risk at a cut point.
    """

    time: np.ndarray
    event: np.ndarray
    time_unit: str
    entry: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_time_unit(self.time_unit)
        time = np.atleast_1d(as_float_array(self.time, "time", ndim=(0, 1)))
        event = np.atleast_1d(as_float_array(self.event, "event", ndim=(0, 1)))
        if time.size == 0:
            raise InputError("time: no observations")
        if event.shape != time.shape:
            raise InputError(f"event: has {event.size} values but time has {time.size}")
        if not (time > 0).all():
            i = int(np.argmin(time > 0))
            raise InputError(f"time [{i}] is {float(time[i])!r}: event and censoring times must be positive")
        if not np.isin(event, (0.0, 1.0)).all():
            i = int(np.argmin(np.isin(event, (0.0, 1.0))))
            raise InputError(f"event [{i}] is {float(event[i])!r}: must be 1 (event) or 0 (censored)")
        if self.entry is not None:
            entry = np.atleast_1d(as_float_array(self.entry, "entry", ndim=(0, 1)))
            if entry.shape != time.shape:
                raise InputError(f"entry: has {entry.size} values but time has {time.size}")
            if not ((entry >= 0) & (entry < time)).all():
                i = int(np.argmin((entry >= 0) & (entry < time)))
                raise InputError(f"entry [{i}] is {float(entry[i])!r}: must be non-negative and below time {float(time[i])!r}")
            object.__setattr__(self, "entry", entry)
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "event", event)

    @property
    def n_events(self) -> int:
        return int(self.event.sum())


class CurveModel(ABC):
    """A family of curves indexed by unconstrained coefficients, as the fitter needs it."""

    #: Name shown in fit tables.
    name: str

    @property
    @abstractmethod
    def coefficient_names(self) -> tuple[str, ...]:
        """Names of the unconstrained coefficients, e.g. ``("log(shape)", "log(scale)")``."""

    @abstractmethod
    def curve(self, coefficients: np.ndarray, time_unit: str) -> SurvivalCurve:
        """The curves for coefficient rows ``(n_samples, n_coefficients)``."""

    @abstractmethod
    def initial_coefficients(self, data: PatientData) -> np.ndarray:
        """A starting point for the optimiser, from simple summaries of the data."""

    def _search_curve(self, coefficients: np.ndarray, time_unit: str) -> SurvivalCurve:
        """The curve the optimiser evaluates (may skip checks the final curve makes)."""
        return self.curve(coefficients, time_unit)

    def prepared(self, data: PatientData) -> CurveModel:
        """The model ready for ``data`` (e.g. with knots placed); itself by default."""
        return self

    def parameters(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        """Coefficients as the family's natural parameters (identity by default)."""
        return {name: coefficients[..., i] for i, name in enumerate(self.coefficient_names)}


def _crude_rate(data: PatientData) -> float:
    exposure = float((data.time - (0.0 if data.entry is None else data.entry)).sum())
    return max(data.n_events, 0.5) / exposure


class ParametricModel(CurveModel):
    """One of the flexsurv families in :mod:`markov.survival.parametric`."""

    def __init__(self, family: str | type[ParametricSurvival]) -> None:
        if isinstance(family, str):
            if family not in FAMILIES:
                raise InputError(f"family is {family!r}: unknown; use one of {', '.join(FAMILIES)}")
            family = FAMILIES[family]
        self.family = family
        self.name = family.family
        self._positive = np.array([rule == POSITIVE for rule in family.parameters.values()])

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        return tuple(f"log({name})" if positive else name
                     for name, positive in zip(self.family.parameters, self._positive))

    def parameters(self, coefficients):
        values = np.where(self._positive, np.exp(coefficients), coefficients)
        return {name: values[..., i] for i, name in enumerate(self.family.parameters)}

    def curve(self, coefficients, time_unit):
        return self.family(**self.parameters(np.atleast_2d(coefficients)), time_unit=time_unit)

    def initial_coefficients(self, data):
        return self.coefficients_near_exponential(_crude_rate(data))

    def coefficients_near_exponential(self, rate: float) -> np.ndarray:
        """Coefficients of a curve of this family close to the exponential with ``rate``."""
        median = np.log(2.0) / rate
        natural = {
            "exp": [rate],
            "weibull": [1.0, 1.0 / rate],
            "weibullPH": [1.0, rate],
            "gompertz": [0.0, rate],
            "llogis": [1.0, median],
            "lnorm": [np.log(median), 1.0],
            "gamma": [1.0, rate],
            "gengamma": [np.log(1.0 / rate), 1.0, 1.0],  # the exponential: Q = σ = 1
        }[self.name]
        return np.where(self._positive, np.log(np.maximum(natural, 1e-300)), natural)


class PiecewiseExponentialModel(CurveModel):
    """Piecewise-constant hazards with fixed ``cut_points``; coefficients log(rate_j).
    The maximum-likelihood rates are events / exposure per interval (the start)."""

    name = "piecewise_exponential"

    def __init__(self, cut_points) -> None:
        self.cut_points = np.atleast_1d(np.asarray(cut_points, dtype=float))
        PiecewiseExponential(np.ones(self.cut_points.size + 1), self.cut_points, time_unit="years")  # validates

    @property
    def coefficient_names(self):
        edges = np.concatenate([[0.0], self.cut_points, [np.inf]])
        return tuple(f"log(rate[{lo:g}, {hi:g}))" for lo, hi in zip(edges[:-1], edges[1:]))

    def parameters(self, coefficients):
        return {name[4:-1]: np.exp(coefficients[..., i]) for i, name in enumerate(self.coefficient_names)}

    def curve(self, coefficients, time_unit):
        return PiecewiseExponential(np.exp(np.atleast_2d(coefficients)), self.cut_points, time_unit=time_unit)

    def initial_coefficients(self, data):
        edges = np.concatenate([[0.0], self.cut_points, [np.inf]])
        entry = np.zeros_like(data.time) if data.entry is None else data.entry
        exposure = np.clip(np.minimum(data.time[:, None], edges[None, 1:]) - np.maximum(entry[:, None], edges[None, :-1]),
                           0.0, None).sum(axis=0)
        interval = np.searchsorted(self.cut_points, data.time, side="right")
        events = np.bincount(interval, weights=data.event, minlength=edges.size - 1)
        return np.log(np.maximum(events, 0.5) / np.maximum(exposure, 1e-12))


class MixtureCureModel(CurveModel):
    """Mixture cure over an optional fixed background curve; coefficients logit(π)
    followed by the uncured family's (flexsurvcure's parametrisation)."""

    def __init__(self, family: str | CurveModel | type[ParametricSurvival],
                 background: SurvivalCurve | None = None) -> None:
        self.uncured = as_model(family)
        self.background = background
        self.name = f"cure_{self.uncured.name}"

    @property
    def coefficient_names(self):
        return ("logit(cure_fraction)",) + self.uncured.coefficient_names

    def parameters(self, coefficients):
        return {"cure_fraction": special.expit(coefficients[..., 0]), **self.uncured.parameters(coefficients[..., 1:])}

    def curve(self, coefficients, time_unit):
        coefficients = np.atleast_2d(coefficients)
        return MixtureCure(special.expit(coefficients[:, 0]), self.uncured.curve(coefficients[:, 1:], time_unit),
                           self.background)

    def initial_coefficients(self, data):
        return np.concatenate([[special.logit(0.2)], self.uncured.initial_coefficients(data)])


class SplineModel(CurveModel):
    """Royston–Parmar spline (flexsurv ``flexsurvspline``) with ``n_internal`` knots at
    flexsurv's default places (or given ``knots`` on log time); coefficients γ₀ … γ_K.

    Starting values regress the link of the Kaplan–Meier estimate, g(S), on the spline
    basis at the event times (hazard: log(−log S), odds: log(1/S − 1), normal: Φ⁻¹(1 − S)).
    """

    def __init__(self, n_internal: int = 1, scale: str = "hazard", knots=None) -> None:
        self.n_internal, self.scale, self.knots = n_internal, scale, knots
        self.name = f"spline_{scale}_{n_internal if knots is None else len(knots) - 2}knot"

    @property
    def coefficient_names(self):
        count = (self.n_internal if self.knots is None else len(self.knots) - 2) + 2
        return tuple(f"gamma{i}" for i in range(count))

    def prepared(self, data):
        if self.knots is not None:
            return self
        knots = default_knots(data.time, data.event, self.n_internal, time_unit=data.time_unit)
        return SplineModel(self.n_internal, self.scale, knots)

    def curve(self, coefficients, time_unit):
        return RoystonParmar(np.atleast_2d(coefficients), self.knots, scale=self.scale, time_unit=time_unit)

    def _search_curve(self, coefficients, time_unit):
        return RoystonParmar(np.atleast_2d(coefficients), self.knots, scale=self.scale, time_unit=time_unit,
                             check_monotone=False)

    def initial_coefficients(self, data):
        km = KaplanMeier.fit(data.time, data.event, time_unit=data.time_unit)
        keep = (km.n_events > 0) & (km.survival > 0) & (km.survival < 1)
        survival, times = km.survival[keep], km.times[keep]
        link = {"hazard": np.log(-np.log(survival)), "odds": np.log(1.0 / survival - 1.0),
                "normal": special.ndtri(1.0 - survival)}[self.scale]
        basis, _ = RoystonParmar.basis(np.log(times), self.knots)
        start = np.linalg.lstsq(basis, link, rcond=None)[0]
        if RoystonParmar.slope_minimum(start, self.knots)[0][0] <= 0:  # fall back to the straight line
            slope, intercept = np.polyfit(np.log(times), link, 1)
            start = np.zeros(basis.shape[1])
            start[:2] = intercept, max(slope, 0.1)
        return start


def as_model(family: str | CurveModel | type[ParametricSurvival]) -> CurveModel:
    """A flexsurv family name or class, or a ready :class:`CurveModel`."""
    return family if isinstance(family, CurveModel) else ParametricModel(family)


@dataclass(frozen=True)
class FitResult:
    """A maximum-likelihood fit: estimates, covariance, information criteria.

    ``coefficients`` and ``covariance`` are on the unconstrained scale named by
    ``coefficient_names``; :meth:`estimates` reports the natural parameters.
    """

    model: CurveModel
    time_unit: str
    coefficients: np.ndarray
    covariance: np.ndarray
    log_likelihood: float
    n_observations: int
    n_events: int
    converged: bool
    message: str = ""
    curve: SurvivalCurve = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "curve", self.model.curve(self.coefficients[None, :], self.time_unit))

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        return self.model.coefficient_names

    @property
    def n_parameters(self) -> int:
        return self.coefficients.size

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2.0 * self.log_likelihood + self.n_parameters * np.log(self.n_observations)

    @property
    def standard_errors(self) -> np.ndarray:
        """Standard errors of the unconstrained coefficients."""
        return np.sqrt(np.diag(self.covariance))

    def estimates(self, level: float = 0.95) -> pd.DataFrame:
        """Natural-scale estimates with Wald intervals formed on the unconstrained scale
        (as flexsurv prints ``res``); ``se`` is the delta-method standard error."""
        z = float(special.ndtri(0.5 + level / 2))
        se = self.standard_errors
        estimate = self.model.parameters(self.coefficients)
        lower = self.model.parameters(self.coefficients - z * se)
        upper = self.model.parameters(self.coefficients + z * se)
        step = 1e-6 * np.maximum(1.0, np.abs(self.coefficients))
        rows = []
        for i, name in enumerate(estimate):
            nudged = self.coefficients.copy()
            nudged[i] += step[i]
            slope = (self.model.parameters(nudged)[name] - estimate[name]) / step[i]
            rows.append({"parameter": name, "estimate": float(estimate[name]),
                         f"lower_{level:.0%}": float(min(lower[name], upper[name])),
                         f"upper_{level:.0%}": float(max(lower[name], upper[name])),
                         "se": float(abs(slope) * se[i])})
        return pd.DataFrame(rows).set_index("parameter")

    def sample(self, n: int, seed=None) -> SurvivalCurve:
        """``n`` curves with coefficients drawn from their asymptotic multivariate normal
        (for a PSA); ``seed`` is an int, a SeedSequence or a Generator."""
        if not np.isfinite(self.covariance).all():
            raise InputError(f"{self.name} fit: covariance matrix is not finite; cannot draw coefficients")
        draws = MultivariateNormal(self.coefficients, self.covariance).sample(n, seed)
        return self.model.curve(draws, self.time_unit)

    def summary(self) -> dict[str, float]:
        """One row of a model-comparison table."""
        return {"family": self.name, "n_parameters": self.n_parameters, "log_likelihood": self.log_likelihood,
                "aic": self.aic, "bic": self.bic, "median": float(self.curve.median()[0]), "converged": self.converged}


def _negative_log_likelihood(model: CurveModel, data: PatientData):
    def objective(coefficients: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = -float(model._search_curve(coefficients[None, :], data.time_unit)
                           .log_likelihood_terms(data.time, data.event, data.entry).sum())
        return value if np.isfinite(value) else np.inf
    return objective


def _steps(x: np.ndarray, hessian: np.ndarray | None = None) -> np.ndarray:
    """Finite-difference steps: relative to each coefficient, and no larger than 1% of its
    standard error once the curvature is known (stiff spline coefficients need that)."""
    steps = _HESSIAN_STEP * np.maximum(1.0, np.abs(x))
    if hessian is not None:
        curvature = np.diag(hessian)
        with np.errstate(divide="ignore"):  # a flat direction keeps its relative step
            steps = np.where(curvature > 0, np.minimum(steps, 1e-2 / np.sqrt(np.abs(curvature))), steps)
    return steps


def _gradient(objective, x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    return np.array([(objective(x + step) - objective(x - step)) / (2 * step[i])
                     for i, step in enumerate(np.diag(steps))])


def _newton_polish(objective, x: np.ndarray, iterations: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few Newton steps from the quasi-Newton optimum, kept only while they improve it;
    they fix the last digits where the coefficients are badly scaled (spline bases)."""
    steps = _steps(x, _hessian(objective, x, _steps(x)))
    hessian = _hessian(objective, x, steps)
    for _ in range(iterations):
        try:
            step = np.linalg.solve(hessian, _gradient(objective, x, steps))
        except np.linalg.LinAlgError:
            break
        if not objective(x - step) < objective(x):
            break
        x = x - step
        hessian = _hessian(objective, x, steps)
    return x, hessian, steps


def _hessian(objective, x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central-difference Hessian."""
    k = x.size
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            def at(di, dj):
                point = x.copy()
                point[i] += di * steps[i]
                point[j] += dj * steps[j]
                return objective(point)
            value = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def fit(family: str | CurveModel | type[ParametricSurvival], data: PatientData,
        initial: np.ndarray | None = None) -> FitResult:
    """Maximum-likelihood fit of ``family`` to ``data``.

    Parameters
    ----------
    family : str, CurveModel or family class
        A flexsurv name (``"weibull"``, ``"gengamma"`` …) or a model such as a spline.
    data : PatientData
        Times, event indicators and (optionally) entry times.
    initial : array, optional
        Starting coefficients on the unconstrained scale; default from the data.

    Returns
    -------
    FitResult
        With ``converged`` False (and the optimiser's message) if the optimiser
        stopped without meeting its tolerance; the covariance is NaN where the
        Hessian is not positive definite.
    """
    model = as_model(family).prepared(data)
    objective = _negative_log_likelihood(model, data)
    start = model.initial_coefficients(data) if initial is None else np.asarray(initial, dtype=float)
    if not np.isfinite(objective(start)):
        raise InputError(f"{model.name} fit: the log-likelihood is not finite at the starting values {start.tolist()}")
    scale = max(len(data.time), 1)
    scaled = lambda x: objective(x) / scale  # noqa: E731 - per-observation scale keeps BFGS tolerances meaningful
    result = optimize.minimize(scaled, start, method="Nelder-Mead",
                               options={"xatol": 1e-6, "fatol": 1e-12, "maxiter": 4000 * start.size})
    result = optimize.minimize(scaled, result.x, method="BFGS", options={"gtol": 1e-9, "maxiter": 1000})
    x, hessian, steps = _newton_polish(objective, result.x)
    try:
        np.linalg.cholesky(hessian)
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        covariance = np.full_like(hessian, np.nan)
    # scale-free convergence test: the log-likelihood a Newton step could still gain
    gradient = _gradient(objective, x, steps)
    gain = 0.5 * gradient @ covariance @ gradient if np.isfinite(covariance).all() else np.inf
    return FitResult(
        model=model, time_unit=data.time_unit, coefficients=x, covariance=covariance,
        log_likelihood=-objective(x), n_observations=len(data.time), n_events=data.n_events,
        converged=bool(gain < _CONVERGED_GAIN), message=str(result.message),
    )


def compare_fits(fits: list[FitResult] | dict[str, FitResult]) -> pd.DataFrame:
    """AIC/BIC table across fits, best AIC first, with differences from the best."""
    rows = [f.summary() for f in (fits.values() if isinstance(fits, dict) else fits)]
    table = pd.DataFrame(rows).set_index("family").sort_values("aic")
    table.insert(table.columns.get_loc("aic") + 1, "delta_aic", table["aic"] - table["aic"].min())
    table.insert(table.columns.get_loc("bic") + 1, "delta_bic", table["bic"] - table["bic"].min())
    return table


def fit_families(data: PatientData, families=tuple(FAMILIES)) -> dict[str, FitResult]:
    """Fit each family to the same data (the usual TSD 14 candidate set by default)."""
    return {as_model(f).name: fit(f, data) for f in families}


def fit_tail(family: str | CurveModel | type[ParametricSurvival], data: PatientData,
             cut_time: float) -> tuple[KaplanMeierWithTail, FitResult]:
    """Kaplan–Meier up to ``cut_time`` followed by ``family`` fitted to the patients
    still at risk there (their follow-up entered at the cut, i.e. left-truncated)."""
    at_risk = data.time > cut_time
    if data.event[at_risk].sum() < 1:
        raise InputError(f"cut_time is {float(cut_time)!r}: no events after it to fit a tail to")
    tail_data = PatientData(data.time[at_risk], data.event[at_risk], data.time_unit,
                            entry=np.full(int(at_risk.sum()), float(cut_time)))
    tail = fit(family, tail_data)
    km = KaplanMeier.fit(data.time, data.event, time_unit=data.time_unit)
    return KaplanMeierWithTail(km, tail.curve, cut_time), tail
