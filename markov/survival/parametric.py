"""Parametric survival families, parametrised exactly as the R package flexsurv.

A published model can be entered as printed by flexsurv, e.g.
``LogLogistic(shape=1.5145, scale=18.5865, time_unit="months")``. Every parameter may
be a scalar or an array of shape ``(n_samples,)`` (one value per PSA draw); scalars
are broadcast.

========================  ====================  ==============================================
class (flexsurv name)     parameters            survival S(t) / hazard h(t)
========================  ====================  ==============================================
Exponential (exp)         rate λ > 0            S = exp(−λt)
Weibull (weibull, AFT)    shape k, scale s > 0  S = exp(−(t/s)^k)
WeibullPH (weibullPH)     shape k, scale b > 0  S = exp(−b·t^k)
Gompertz (gompertz)       shape a ∈ ℝ, rate b>0  h = b·e^{at}; S = exp(−(b/a)(e^{at} − 1))
LogLogistic (llogis)      shape k, scale s > 0  S = 1 / (1 + (t/s)^k)
LogNormal (lnorm)         meanlog μ, sdlog σ>0  S = Φ(−(log t − μ)/σ)
Gamma (gamma)             shape a, rate r > 0   S = Q(a, r·t) (upper regularised gamma)
GeneralizedGamma          mu μ, sigma σ > 0,    Prentice (1974); see the class docstring
(gengamma)                Q ∈ ℝ
========================  ====================  ==============================================
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import special

from .._validate import InputError, as_float_array
from ._base import SurvivalCurve, check_time_unit, survival_of_scaled

POSITIVE = "positive"
REAL = "real"


class ParametricSurvival(SurvivalCurve):
    """A flexsurv family with one array of values per parameter.

    Parameters are given in :attr:`parameters` order, positionally or by name, and
    ``time_unit`` (``"days"``, ``"weeks"``, ``"months"`` or ``"years"``) is required:
    the scale and rate parameters only mean something in a time unit.
    """

    #: flexsurv's name of the distribution (its ``dist`` argument)
    family: ClassVar[str]
    #: parameter names in flexsurv's order, each with its constraint
    parameters: ClassVar[dict[str, str]]

    def __init__(self, *values, time_unit: str, **named) -> None:
        names = list(self.parameters)
        if len(values) > len(names):
            raise InputError(f"{type(self).__name__}: takes {len(names)} parameters ({', '.join(names)}), got {len(values)}")
        given = dict(zip(names, values))
        for name, value in named.items():
            if name not in self.parameters:
                raise InputError(
                    f"{type(self).__name__}: unknown parameter {name!r}; its parameters are {', '.join(names)}"
                )
            if name in given:
                raise InputError(f"{type(self).__name__}: parameter {name!r} given twice")
            given[name] = value
        missing = [name for name in names if name not in given]
        if missing:
            raise InputError(f"{type(self).__name__}: missing parameter(s) {', '.join(missing)}")
        self.time_unit = check_time_unit(time_unit)
        arrays = {name: np.atleast_1d(as_float_array(given[name], f"{type(self).__name__} {name}", ndim=(0, 1)))
                  for name in names}
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
        except ValueError:
            sizes = ", ".join(f"{name} has {a.size}" for name, a in arrays.items())
            raise InputError(f"{type(self).__name__}: parameters must have one value or one per sample ({sizes})") from None
        for name, array in arrays.items():
            if self.parameters[name] == POSITIVE and not (array > 0).all():
                i = int(np.argmin(array > 0))
                raise InputError(
                    f"{type(self).__name__} {name} [sample {i}] is {float(array[i])!r}: must be a positive number"
                )
            setattr(self, name, np.ascontiguousarray(np.broadcast_to(array, shape)))
        self.n_samples = shape[0]

    def _column(self, name: str) -> np.ndarray:
        return getattr(self, name)[:, None]

    @property
    def parameter_values(self) -> dict[str, np.ndarray]:
        """Each parameter's values, shape ``(n_samples,)``, in flexsurv's order."""
        return {name: getattr(self, name) for name in self.parameters}

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={values[0]:.6g}" if values.size == 1 else f"{name}=<{values.size} samples>"
            for name, values in self.parameter_values.items()
        )
        return f"{type(self).__name__}({shown}, time_unit={self.time_unit!r})"


def _log_regularised_gamma(a, x, upper) -> np.ndarray:
    """log Q(a, x) where ``upper`` (bool or boolean array) holds, else log P(a, x);
    accurate also where the value is near 1."""
    lower_value, upper_value = special.gammainc(a, x), special.gammaincc(a, x)
    value = np.where(upper, upper_value, lower_value)
    complement = np.where(upper, lower_value, upper_value)
    with np.errstate(divide="ignore"):
        return np.where(complement < 0.5, np.log1p(-complement), np.log(value))


_SMALLEST_EXACT_LOG = 1e-300  # above the subnormals, where a double keeps its 53 bits


def _log(t: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(t)


class Exponential(ParametricSurvival):
    """Exponential (flexsurv ``exp``): constant hazard ``rate`` per time unit.

    S(t) = exp(−λt), h(t) = λ, median = log 2 / λ, RMST(τ) = (1 − e^{−λτ}) / λ.
    """

    family = "exp"
    parameters = {"rate": POSITIVE}

    def _cumulative_hazard(self, t):
        return self._column("rate") * t

    def constant_hazard(self) -> np.ndarray:
        return self.rate

    def _survival(self, t):
        return self._broadcast(survival_of_scaled(self._column("rate"), t))

    def _log_hazard(self, t):
        return np.log(self._column("rate")) + 0.0 * t

    def _quantile(self, p):
        return -np.log1p(-p[None, :]) / self._column("rate")

    def _restricted_mean(self, tau):
        return -np.expm1(-self.rate * tau) / self.rate


class Weibull(ParametricSurvival):
    """Weibull, accelerated-failure-time form (flexsurv ``weibull``, as R's ``dweibull``).

    S(t) = exp(−(t/s)^k), h(t) = (k/s)(t/s)^{k−1}, quantile s·(−log(1−p))^{1/k},
    RMST(τ) = s·Γ(1 + 1/k)·P(1/k, (τ/s)^k) with P the lower regularised gamma.
    """

    family = "weibull"
    parameters = {"shape": POSITIVE, "scale": POSITIVE}

    def _cumulative_hazard(self, t):
        with np.errstate(over="ignore"):  # H = inf far in the tail is right: S = 0
            return (t / self._column("scale")) ** self._column("shape")

    def _log_hazard(self, t):
        k, s = self._column("shape"), self._column("scale")
        return np.log(k / s) + (k - 1.0) * (_log(t) - np.log(s))

    def _quantile(self, p):
        return self._column("scale") * (-np.log1p(-p[None, :])) ** (1.0 / self._column("shape"))

    def _restricted_mean(self, tau):
        inverse_shape = 1.0 / self.shape
        return (self.scale * special.gamma(1.0 + inverse_shape)
                * special.gammainc(inverse_shape, (tau / self.scale) ** self.shape))


class WeibullPH(ParametricSurvival):
    """Weibull, proportional-hazards form (flexsurv ``weibullPH``).

    S(t) = exp(−b·t^k), h(t) = b·k·t^{k−1}; the same curve as :class:`Weibull` with
    scale s = b^{−1/k}.
    """

    family = "weibullPH"
    parameters = {"shape": POSITIVE, "scale": POSITIVE}

    def as_weibull(self) -> Weibull:
        """The same curves in the accelerated-failure-time parametrisation."""
        return Weibull(self.shape, self.scale ** (-1.0 / self.shape), time_unit=self.time_unit)

    def _cumulative_hazard(self, t):
        return self._column("scale") * t ** self._column("shape")

    def _log_hazard(self, t):
        k, b = self._column("shape"), self._column("scale")
        return np.log(b * k) + (k - 1.0) * _log(t)

    def _quantile(self, p):
        return self.as_weibull()._quantile(p)

    def _restricted_mean(self, tau):
        return self.as_weibull()._restricted_mean(tau)


class Gompertz(ParametricSurvival):
    """Gompertz (flexsurv ``gompertz``): h(t) = b·e^{a t}.

    H(t) = (b/a)(e^{at} − 1) (= b·t when a = 0). With a < 0 the hazard falls to 0 and a
    share exp(b/a) never has the event, so quantiles beyond 1 − exp(b/a) are ``inf``.
    Quantile: log(1 + a·(−log(1−p))/b) / a.
    """

    family = "gompertz"
    parameters = {"shape": REAL, "rate": POSITIVE}

    def _cumulative_hazard(self, t):
        a, b = self._column("shape"), self._column("rate")
        safe = np.where(a == 0.0, 1.0, a)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.where(a == 0.0, b * t, b * np.expm1(a * t) / safe)

    def _log_hazard(self, t):
        return np.log(self._column("rate")) + self._column("shape") * t

    def _quantile(self, p):
        a, b = self._column("shape"), self._column("rate")
        target = -np.log1p(-p[None, :])
        safe = np.where(a == 0.0, 1.0, a)
        inside = 1.0 + a * target / b
        with np.errstate(divide="ignore", invalid="ignore"):
            times = np.where(inside > 0, np.log1p(a * target / b) / safe, np.inf)
        return np.where(a == 0.0, target / b, times)


class LogLogistic(ParametricSurvival):
    """Log-logistic (flexsurv ``llogis``).

    S(t) = 1 / (1 + (t/s)^k), h(t) = (k/s)(t/s)^{k−1} / (1 + (t/s)^k),
    quantile s·(p / (1 − p))^{1/k}; the median is the scale.
    """

    family = "llogis"
    parameters = {"shape": POSITIVE, "scale": POSITIVE}

    def _cumulative_hazard(self, t):
        with np.errstate(over="ignore"):
            return np.log1p((t / self._column("scale")) ** self._column("shape"))

    def _log_hazard(self, t):
        k, s = self._column("shape"), self._column("scale")
        log_ratio = _log(t) - np.log(s)
        return np.log(k / s) + (k - 1.0) * log_ratio - np.logaddexp(0.0, k * log_ratio)

    def _quantile(self, p):
        p = p[None, :]
        with np.errstate(divide="ignore"):
            return self._column("scale") * (p / (1.0 - p)) ** (1.0 / self._column("shape"))


class LogNormal(ParametricSurvival):
    """Log-normal (flexsurv ``lnorm``): log T ~ Normal(meanlog, sdlog).

    S(t) = Φ(−z), z = (log t − μ)/σ; f(t) = φ(z)/(σt); quantile exp(μ + σΦ⁻¹(p));
    RMST(τ) = e^{μ+σ²/2}·Φ((log τ − μ − σ²)/σ) + τ·S(τ).
    """

    family = "lnorm"
    parameters = {"meanlog": REAL, "sdlog": POSITIVE}

    def _z(self, t):
        z = _log(t) - self._column("meanlog")  # a new array: divided in place
        z /= self._column("sdlog")
        return z

    def _minus_z(self, t):
        z = self._z(t)
        return np.negative(z, out=z)

    def _cumulative_hazard(self, t):
        log_survival = special.log_ndtr(self._minus_z(t))
        return np.negative(log_survival, out=log_survival)

    def _survival(self, t):
        return self._kept_survival(t).copy()

    def _kept_survival(self, t):
        """Φ(−z) itself, not exp(−H) (the same to about 1e-14 relative far in the tail),
        read-only, kept for the last times asked: the curve's own survival and the H of
        curves relative to it (:meth:`_cumulative_hazard_to_keep`) come from one
        evaluation of Φ."""
        return self._kept("_kept_survival_values", t, self._lower_tail)

    def _lower_tail(self, t):
        minus_z = self._minus_z(t)
        return self._broadcast(special.ndtr(minus_z, out=minus_z))

    def _cumulative_hazard_to_keep(self, t):
        # −log S from the kept survival where that is as exact as log Φ(−z) (S within
        # [1e-300, 1/2]: |log S| ≥ log 2, so an ulp of S is at most 1.6e-16 of H); the
        # rest, near the start (S near 1) and deep in the tail, by log Φ(−z) itself
        survival = self._kept_survival(t)
        with np.errstate(divide="ignore"):
            hazard = np.log(survival)
        np.negative(hazard, out=hazard)
        elsewhere = (survival > 0.5) | (survival < _SMALLEST_EXACT_LOG)
        if elsewhere.any():
            hazard[elsewhere] = -special.log_ndtr(np.broadcast_to(self._minus_z(t), hazard.shape)[elsewhere])
        return hazard

    def _log_density(self, t):
        z = self._z(t)
        return -0.5 * z * z - 0.5 * np.log(2.0 * np.pi) - np.log(self._column("sdlog")) - _log(t)

    def _log_hazard(self, t):
        return self._log_density(t) - special.log_ndtr(self._minus_z(t))

    def _density(self, t):
        return np.exp(self._log_density(t))

    def _quantile(self, p):
        return np.exp(self._column("meanlog") + self._column("sdlog") * special.ndtri(p[None, :]))

    def _restricted_mean(self, tau):
        mu, sigma = self.meanlog, self.sdlog
        z = (np.log(tau) - mu) / sigma
        return np.exp(mu + 0.5 * sigma**2) * special.ndtr(z - sigma) + tau * special.ndtr(-z)


class Gamma(ParametricSurvival):
    """Gamma (flexsurv ``gamma``, as R's ``dgamma`` with shape and rate).

    S(t) = Q(a, r·t), f(t) = r^a t^{a−1} e^{−rt} / Γ(a); quantile P⁻¹(a, p)/r;
    RMST(τ) = (a/r)·P(a + 1, r·τ) + τ·S(τ).
    """

    family = "gamma"
    parameters = {"shape": POSITIVE, "rate": POSITIVE}

    def _log_density(self, t):
        a, r = self._column("shape"), self._column("rate")
        return special.xlogy(a, r) + special.xlogy(a - 1.0, t) - r * t - special.gammaln(a)

    def _log_survival(self, t):
        return _log_regularised_gamma(self._column("shape"), self._column("rate") * t, upper=True)

    def _cumulative_hazard(self, t):
        return -self._log_survival(t)

    def _log_hazard(self, t):
        return self._log_density(t) - self._log_survival(t)

    def _survival(self, t):
        return self._broadcast(special.gammaincc(self._column("shape"), self._column("rate") * t))

    def _density(self, t):
        return np.exp(self._log_density(t))

    def _quantile(self, p):
        return special.gammaincinv(self._column("shape"), p[None, :]) / self._column("rate")

    def _restricted_mean(self, tau):
        a, r = self.shape, self.rate
        return a / r * special.gammainc(a + 1.0, r * tau) + tau * special.gammaincc(a, r * tau)


class GeneralizedGamma(ParametricSurvival):
    """Generalized gamma in Prentice's (1974) parametrisation (flexsurv ``gengamma``).

    With w = (log t − μ)/σ, γ = Q⁻² and u = γ·e^{Q·w}:

    - Q > 0: S(t) = Q(γ, u) (upper regularised gamma); Q < 0: S(t) = P(γ, u);
    - log f(t) = log|Q| + γ·log γ + γ·(Q·w − e^{Q·w}) − log Γ(γ) − log(σt);
    - Q = 0 is the log-normal (μ, σ); Q = 1 the Weibull (shape 1/σ, scale e^μ);
      Q = σ the gamma (shape σ⁻², rate e^{−μ}σ⁻²);
    - quantile: exp(μ + σ·log(Q²·P⁻¹(γ, p′))/Q) with p′ = p for Q > 0, 1 − p for Q < 0.

    It is scipy's ``gengamma`` with a = γ, c = Q/σ, scale = e^μ·γ^{−σ/Q}.
    """

    family = "gengamma"
    parameters = {"mu": REAL, "sigma": POSITIVE, "Q": REAL}

    def _as_lognormal(self) -> LogNormal:
        return LogNormal(self.mu, self.sigma, time_unit=self.time_unit)

    def _parts(self, t):
        mu, sigma, q = self._column("mu"), self._column("sigma"), self._column("Q")
        safe_q = np.where(q == 0.0, 1.0, q)
        w = (_log(t) - mu) / sigma
        with np.errstate(over="ignore"):
            return q, safe_q, w, safe_q**-2.0, safe_q**-2.0 * np.exp(safe_q * w)

    def _log_survival(self, t):
        q, _, _, g, u = self._parts(t)
        lognormal = special.log_ndtr(-self._as_lognormal()._z(t))
        return np.where(q == 0.0, lognormal, _log_regularised_gamma(g, u, upper=q > 0))

    def _log_density(self, t):
        q, safe_q, w, g, _ = self._parts(t)
        with np.errstate(over="ignore", invalid="ignore"):
            prentice = (np.log(np.abs(safe_q)) + g * np.log(g) + g * (safe_q * w - np.exp(safe_q * w))
                        - special.gammaln(g) - np.log(self._column("sigma")) - _log(t))
        return np.where(q == 0.0, self._as_lognormal()._log_density(t), prentice)

    def _cumulative_hazard(self, t):
        return -self._log_survival(t)

    def _log_hazard(self, t):
        return self._log_density(t) - self._log_survival(t)

    def _survival(self, t):
        q, _, _, g, u = self._parts(t)
        u = np.broadcast_to(u, np.broadcast_shapes(u.shape, q.shape))
        survival = np.empty(u.shape)
        q, g = q[:, 0], g[:, 0]
        for rows, function in ((q > 0, special.gammaincc), (q < 0, special.gammainc)):  # each sample once
            if rows.any():
                survival[rows] = function(g[rows, None], u[rows])
        if (q == 0.0).any():  # the log-normal limit
            survival[q == 0.0] = special.ndtr(-self._as_lognormal()._z(t))[q == 0.0]
        return self._broadcast(survival)

    def _density(self, t):
        return np.exp(self._log_density(t))

    def _quantile(self, p):
        mu, sigma, q = self._column("mu"), self._column("sigma"), self._column("Q")
        safe_q = np.where(q == 0.0, 1.0, q)
        g = safe_q**-2.0
        p = p[None, :]
        with np.errstate(divide="ignore"):
            prentice = np.exp(mu + sigma * np.log(safe_q**2 * special.gammaincinv(g, np.where(q > 0, p, 1.0 - p))) / safe_q)
        return np.where(q == 0.0, np.exp(mu + sigma * special.ndtri(p)), prentice)


#: The parametric families by flexsurv name.
FAMILIES: dict[str, type[ParametricSurvival]] = {
    cls.family: cls
    for cls in (Exponential, Weibull, WeibullPH, Gompertz, LogLogistic, LogNormal, Gamma, GeneralizedGamma)
}
