"""Distributions of uncertain inputs, written as transforms of independent U(0, 1) draws.

A PSA draws the uniforms at random; a global sensitivity analysis (SALib) supplies
them from its own design. Either way an input's values are ``distribution.ppf(u)``
(or ``transform(u)`` for a block of inputs drawn together), so one description serves
both. ``n_uniforms`` says how many columns of the design a distribution consumes.

Univariate: `Fixed`, `Beta`, `Gamma`, `LogNormal`, `Normal`, `TruncatedNormal`, `Uniform`,
`Triangular`.
Blocks: `Dirichlet` (shares that sum to 1), `MultivariateNormal` (correlated coefficients).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._validate import InputError, as_float_array

#: Standard-normal quantile used to turn a two-sided 95% interval into a standard error.
Z_95 = float(special.ndtri(0.975))

Seed = int | np.random.SeedSequence | np.random.Generator | None

_FINITE = "must be a finite number"
_POSITIVE = "must be a positive finite number"
_NON_NEGATIVE = "must be a non-negative finite number"


def _generator(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


#: The largest float below 1: above 2**52, k + 0.5 rounds to a whole number, and for the
#: last k (odd) up to 2**53, which would make a draw of exactly 1.
_BELOW_ONE = np.nextafter(1.0, 0.0)


def open_uniforms(seed, shape) -> np.ndarray:
    """Uniform draws strictly inside (0, 1), so every quantile function stays finite."""
    return np.minimum((_generator(seed).integers(0, 2**53, size=shape) + 0.5) / 2.0**53, _BELOW_ONE)



#: Draws per block of the PSA's random stream. Block ``b`` has its own child seed
#: ``SeedSequence(seed, spawn_key=(b,))``, so draw ``i`` is the same whatever the
#: chunks or workers that compute it.
DRAWS_PER_SEED_BLOCK = 1024


def uniform_rows(seed: int, start: int, stop: int, n_columns: int) -> np.ndarray:
    """Rows ``start`` to ``stop`` (exclusive) of the seeded uniform design of a PSA.

    Row ``i`` depends only on ``seed``, ``i`` and ``n_columns``: a run split into any
    chunks, in any order, on any number of workers, draws the same inputs.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed is {seed!r}: must be a whole number of at least 0")
    if not (0 <= start <= stop):
        raise InputError(f"rows {start} to {stop}: need 0 <= start <= stop")
    first, last = start // DRAWS_PER_SEED_BLOCK, -(-stop // DRAWS_PER_SEED_BLOCK)
    blocks = [open_uniforms(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,))),
                            (DRAWS_PER_SEED_BLOCK, n_columns)) for b in range(first, last)]
    if not blocks:
        return np.empty((0, n_columns))
    offset = first * DRAWS_PER_SEED_BLOCK
    return np.concatenate(blocks)[start - offset:stop - offset]


def _check_uniforms(u: np.ndarray, name: str) -> None:
    bad = ~((u > 0) & (u < 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" {list(index)}" if index else ""
        raise InputError(f"{name}{where} is {float(u[index])!r}: uniform draws must lie strictly between 0 and 1")


def _number(name: str, value, rule: str = _FINITE, ok: Callable[[float], bool] | None = None) -> float:
    """``value`` as a float, raising an InputError naming ``name`` unless it is finite and ``ok``."""
    x = float(as_float_array(value, name, ndim=(0,), finite=False))
    if not (np.isfinite(x) and (ok is None or ok(x))):
        raise InputError(f"{name} is {x!r}: {rule}")
    return x


def _interval_z(name: str, estimate: float, lower: float, upper: float, level: float) -> float:
    """The standard-normal quantile for a two-sided ``level`` interval, once the interval is in order."""
    if not lower < estimate < upper:
        raise InputError(
            f"{name} interval ({float(lower)!r}, {float(upper)!r}) around {float(estimate)!r}: "
            "need lower < estimate < upper"
        )
    if not 0 < level < 1:
        raise InputError(f"level is {float(level)!r}: a confidence level must lie in (0, 1)")
    return float(special.ndtri(0.5 + level / 2))


class _Univariate:
    """One input from one uniform: subclasses (frozen dataclasses) define ``_quantile``,
    ``mean`` and ``sd``."""

    #: columns of a sensitivity-analysis design this input consumes
    n_uniforms = 1

    def _set(self, field: str, rule: str = _FINITE, ok: Callable[[float], bool] | None = None) -> float:
        # validate a dataclass field and store it as a plain float (readable reprs, no 0-d arrays)
        value = _number(f"{type(self).__name__} {field}", getattr(self, field), rule, ok)
        object.__setattr__(self, field, value)
        return value

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def ppf(self, u: ArrayLike) -> np.ndarray:
        """Quantile function: the inputs for uniform draws ``u`` (any shape, strictly inside (0, 1))."""
        u = as_float_array(u, "u")
        _check_uniforms(u, "u")
        return self._quantile(u)

    def sample(self, n: int, seed: Seed = None) -> np.ndarray:
        """``n`` draws from ``seed`` (an int, a SeedSequence or a Generator)."""
        return self.ppf(open_uniforms(seed, n))

    def __str__(self) -> str:
        values = ", ".join(f"{getattr(self, f.name):.6g}" for f in fields(self))
        return f"{type(self).__name__}({values})"


@dataclass(frozen=True)
class Fixed(_Univariate):
    """An input held at one value: every draw is ``value``, whatever the uniform."""

    value: float

    def __post_init__(self) -> None:
        self._set("value")

    @property
    def mean(self) -> float:
        return self.value

    @property
    def sd(self) -> float:
        return 0.0

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, self.value)


@dataclass(frozen=True)
class Beta(_Univariate):
    """Beta input on (0, 1), e.g. a probability or a utility: density ∝ x^(alpha−1)·(1 − x)^(beta−1)."""

    alpha: float
    beta: float

    def __post_init__(self) -> None:
        self._set("alpha", _POSITIVE, lambda x: x > 0)
        self._set("beta", _POSITIVE, lambda x: x > 0)

    @classmethod
    def from_mean_se(cls, mean: float, se: float, *, name: str = "Beta") -> Beta:
        """The beta with a reported mean and standard error, by the method of moments.

        alpha = m·k and beta = (1 − m)·k with k = m(1 − m)/se² − 1, which needs
        se² < m(1 − m): no beta on (0, 1) is more spread than that.
        """
        m = _number(f"{name} mean", mean, "must lie strictly between 0 and 1", lambda x: 0 < x < 1)
        s = _number(f"{name} se", se, _POSITIVE, lambda x: x > 0)
        if s**2 >= m * (1 - m):
            raise InputError(
                f"{name} se is {s!r}: a beta with mean {m!r} needs se below sqrt(mean·(1 − mean)) = "
                f"{float(np.sqrt(m * (1 - m))):.6g}"
            )
        k = m * (1 - m) / s**2 - 1
        return cls(m * k, (1 - m) * k)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        total = self.alpha + self.beta
        return float(np.sqrt(self.alpha * self.beta / (total + 1))) / total

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return special.betaincinv(self.alpha, self.beta, u)


@dataclass(frozen=True)
class Gamma(_Univariate):
    """Gamma input on (0, ∞), e.g. a cost: density ∝ x^(shape−1)·exp(−x/scale)."""

    shape: float
    scale: float

    def __post_init__(self) -> None:
        self._set("shape", _POSITIVE, lambda x: x > 0)
        self._set("scale", _POSITIVE, lambda x: x > 0)

    @classmethod
    def from_mean_se(cls, mean: float, se: float, *, name: str = "Gamma") -> Gamma:
        """The gamma with a reported mean and standard error: shape = m²/se², scale = se²/m."""
        m = _number(f"{name} mean", mean, _POSITIVE, lambda x: x > 0)
        s = _number(f"{name} se", se, _POSITIVE, lambda x: x > 0)
        return cls(m**2 / s**2, s**2 / m)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def sd(self) -> float:
        return float(np.sqrt(self.shape)) * self.scale

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return special.gammaincinv(self.shape, u) * self.scale


@dataclass(frozen=True)
class LogNormal(_Univariate):
    """Log-normal input, e.g. a hazard ratio: log X ~ Normal(meanlog, sdlog)."""

    meanlog: float
    sdlog: float

    def __post_init__(self) -> None:
        self._set("meanlog")
        self._set("sdlog", _NON_NEGATIVE, lambda x: x >= 0)

    @classmethod
    def from_ci(cls, estimate: float, lower: float, upper: float, *, level: float = 0.95,
                name: str = "hazard ratio") -> LogNormal:
        """The log-normal centred on a reported ratio with its confidence interval.

        meanlog = log(estimate) and sdlog = (log upper − log lower) / (2·z), with z the
        standard-normal quantile of (1 + level)/2 (1.959964 for 95%). The draws' median
        is the estimate; their mean is estimate·exp(sdlog²/2), as the usual method implies.
        """
        values = {"estimate": estimate, "lower": lower, "upper": upper}
        for key, value in values.items():
            if not (np.isfinite(value) and value > 0):
                raise InputError(f"{name} {key} is {float(value)!r}: a ratio and its interval must be positive numbers")
        z = _interval_z(name, estimate, lower, upper, level)
        return cls(float(np.log(estimate)), float((np.log(upper) - np.log(lower)) / (2 * z)))

    @classmethod
    def from_mean_se(cls, mean: float, se: float, *, name: str = "LogNormal") -> LogNormal:
        """The log-normal with a reported mean and standard error (of X, not of log X).

        sdlog² = log(1 + se²/m²) and meanlog = log m − sdlog²/2.
        """
        m = _number(f"{name} mean", mean, _POSITIVE, lambda x: x > 0)
        s = _number(f"{name} se", se, _NON_NEGATIVE, lambda x: x >= 0)
        variance_log = float(np.log1p((s / m) ** 2))  # log1p keeps small relative SEs exact
        return cls(float(np.log(m)) - variance_log / 2, float(np.sqrt(variance_log)))

    @property
    def mean(self) -> float:
        return float(np.exp(self.meanlog + self.sdlog**2 / 2))

    @property
    def sd(self) -> float:
        return self.mean * float(np.sqrt(np.expm1(self.sdlog**2)))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.meanlog + self.sdlog * special.ndtri(u))


@dataclass(frozen=True)
class Normal(_Univariate):
    """Normal input, e.g. a regression coefficient or a utility decrement."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        self._set("mean")
        self._set("sd", _NON_NEGATIVE, lambda x: x >= 0)

    @classmethod
    def from_ci(cls, estimate: float, lower: float, upper: float, *, level: float = 0.95,
                name: str = "Normal") -> Normal:
        """The normal centred on a reported estimate with its confidence interval.

        sd = (upper − lower) / (2·z), with z the standard-normal quantile of
        (1 + level)/2 (1.959964 for 95%); the interval's width sets the spread and the
        estimate the centre, so a rounded, slightly lopsided interval is accepted.
        """
        for key, value in {"estimate": estimate, "lower": lower, "upper": upper}.items():
            _number(f"{name} {key}", value)
        z = _interval_z(name, estimate, lower, upper, level)
        return cls(float(estimate), float((upper - lower) / (2 * z)))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return self.mean + self.sd * special.ndtri(u)


@dataclass(frozen=True)
class TruncatedNormal(_Univariate):
    """Normal(``mu``, ``sigma``) restricted to [``low``, ``high``] (a bound may be infinite):
    its quantile at u is the normal's at Φ(α) + u·(Φ(β) − Φ(α)), α and β the standardised
    bounds, so each draw is still a transform of one uniform. ``mean`` and ``sd`` are the
    truncated distribution's own (closed forms)."""

    mu: float
    sigma: float
    low: float
    high: float

    #: The least share of the normal's probability the bounds must keep.
    MIN_MASS = 1e-3

    def __post_init__(self) -> None:
        self._set("mu")
        self._set("sigma", _POSITIVE, lambda x: x > 0)
        for bound in ("low", "high"):  # a bound may be infinite
            object.__setattr__(self, bound, float(as_float_array(getattr(self, bound), f"TruncatedNormal {bound}",
                                                                 ndim=(0,), finite=False)))
        if not self.low < self.high:
            raise InputError(f"TruncatedNormal bounds [{self.low!r}, {self.high!r}]: need low < high")
        if self._mass < self.MIN_MASS:
            raise InputError(f"TruncatedNormal: [{self.low!r}, {self.high!r}] keeps {self._mass:.3g} of the "
                             f"probability of Normal({self.mu!r}, {self.sigma!r}), less than {self.MIN_MASS:g}; its "
                             f"mean lies far outside the bounds")

    @property
    def _standardised(self) -> tuple[float, float]:
        return (self.low - self.mu) / self.sigma, (self.high - self.mu) / self.sigma

    @property
    def _mass(self) -> float:
        a, b = self._standardised
        # both bounds above the mean: the upper tail's difference loses no digits
        return float(special.ndtr(-a) - special.ndtr(-b)) if a > 0 else float(special.ndtr(b) - special.ndtr(a))

    @property
    def mean(self) -> float:
        a, b = self._standardised
        return self.mu + self.sigma * (_phi(a)[0] - _phi(b)[0]) / self._mass

    @property
    def sd(self) -> float:
        (pa, xpa), (pb, xpb) = (_phi(x) for x in self._standardised)
        shift = (pa - pb) / self._mass
        return self.sigma * float(np.sqrt(max(1.0 + (xpa - xpb) / self._mass - shift**2, 0.0)))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        a, _ = self._standardised
        if a > 0:  # the upper tail, mirrored, keeps its precision
            return self.mu - self.sigma * special.ndtri(special.ndtr(-a) - u * self._mass)
        return self.mu + self.sigma * special.ndtri(special.ndtr(a) + u * self._mass)


def _phi(x: float) -> tuple[float, float]:
    """φ(x) and x·φ(x) of the standard normal (both 0 at ±∞)."""
    density = float(np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi))
    return density, (x * density if np.isfinite(x) else 0.0)


@dataclass(frozen=True)
class Uniform(_Univariate):
    """Uniform input on [low, high], for a plausible range with no preferred value."""

    low: float
    high: float

    def __post_init__(self) -> None:
        high = self._set("high")
        self._set("low", f"must be a finite number below high ({high!r})", lambda x: x < high)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def sd(self) -> float:
        return (self.high - self.low) / float(np.sqrt(12.0))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u


@dataclass(frozen=True)
class Triangular(_Univariate):
    """Triangular input on [low, high] peaking at ``mode``, for an elicited range and best guess."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        high = self._set("high")
        low = self._set("low", f"must be a finite number below high ({high!r})", lambda x: x < high)
        self._set("mode", f"must lie in [low, high] = [{low!r}, {high!r}]", lambda x: low <= x <= high)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def sd(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return float(np.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        # inverse of the two quadratic pieces of the CDF, split at F(mode) = (mode − low)/(high − low)
        width = self.high - self.low
        rising = self.low + np.sqrt(u * width * (self.mode - self.low))
        falling = self.high - np.sqrt((1 - u) * width * (self.high - self.mode))
        return np.where(u * width < self.mode - self.low, rising, falling)


class _Block:
    """Several inputs drawn together from one row of ``n_uniforms`` uniforms: subclasses
    define ``n_uniforms`` and ``transform``."""

    n_uniforms: int

    def _uniforms(self, u: ArrayLike) -> np.ndarray:
        u = as_float_array(u, "u", ndim=(2,))
        if u.shape[1] != self.n_uniforms:
            raise InputError(f"u: has {u.shape[1]} columns, expected {self.n_uniforms}")
        _check_uniforms(u, "u")
        return u

    def transform(self, u: ArrayLike) -> np.ndarray:
        raise NotImplementedError

    def sample(self, n: int, seed: Seed = None) -> np.ndarray:
        """``n`` draws from ``seed`` (an int, a SeedSequence or a Generator), shape ``(n, k)``."""
        return self.transform(open_uniforms(seed, (n, self.n_uniforms)))


def _format_vector(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


@dataclass(frozen=True)
class Dirichlet(_Block):
    """Shares that sum to 1, e.g. the probabilities of leaving one state for each of k others.

    ``transform(u)`` maps uniforms of shape ``(n, k)`` to shares ``(n, k)``: each
    component is a gamma(alpha_j) quantile of its own uniform, and each row is divided
    by its sum. Components with alpha 0 (transitions that cannot happen) stay exactly 0.
    Each share's marginal is Beta(alpha_j, sum(alpha) − alpha_j).
    """

    alpha: np.ndarray

    def __post_init__(self) -> None:
        # a private read-only copy, so the caller's array cannot change a frozen distribution
        alpha = as_float_array(self.alpha, "Dirichlet alpha", ndim=(1,)).copy()
        negative = alpha < 0
        if negative.any():
            i = int(np.argmax(negative))
            raise InputError(f"Dirichlet alpha [{i}] is {float(alpha[i])!r}: every entry must be non-negative")
        if not (alpha > 0).any():
            raise InputError(f"Dirichlet alpha: all {alpha.size} entries are 0; at least one must be positive")
        alpha.flags.writeable = False
        object.__setattr__(self, "alpha", alpha)

    @classmethod
    def from_counts(cls, counts: ArrayLike, *, prior: float = 0.0) -> Dirichlet:
        """The Dirichlet for observed counts of each outcome, alpha = counts + prior.

        ``prior`` 0 (the default) keeps never-observed outcomes impossible; 1 is the
        uniform prior, which gives every outcome some probability.
        """
        counts = as_float_array(counts, "Dirichlet counts", ndim=(1,))
        negative = counts < 0
        if negative.any():
            i = int(np.argmax(negative))
            raise InputError(f"Dirichlet counts [{i}] is {float(counts[i])!r}: counts must be non-negative")
        prior = _number("Dirichlet prior", prior, _NON_NEGATIVE, lambda x: x >= 0)
        return cls(counts + prior)

    @property
    def n_uniforms(self) -> int:
        return self.alpha.size

    @property
    def mean(self) -> np.ndarray:
        return self.alpha / self.alpha.sum()

    @property
    def sd(self) -> np.ndarray:
        total = self.alpha.sum()
        return np.sqrt(self.alpha * (total - self.alpha) / (total + 1)) / total

    def transform(self, u: ArrayLike) -> np.ndarray:
        """Shares for uniforms ``u`` of shape ``(n, k)``; returns ``(n, k)``, each row summing to 1."""
        u = self._uniforms(u)
        positive = self.alpha > 0
        alpha, u_positive = self.alpha[positive], u[:, positive]
        gamma = special.gammaincinv(alpha, u_positive)
        # A small alpha's quantile underflows (alpha 0.001, u 0.3 gives e^−1204), which would
        # make a row 0/0. Below the smallest normal float P(a, x) = x^a/Γ(a + 1) to machine
        # precision, so those rows are rebuilt from log x = (log u + log Γ(a + 1))/a, rescaled.
        underflow = gamma < np.finfo(np.float64).tiny
        if underflow.any():
            rows = underflow.any(axis=1)
            with np.errstate(divide="ignore"):
                log_gamma = np.log(gamma[rows])
            small = (np.log(u_positive[rows]) + special.gammaln(alpha + 1)) / alpha
            log_gamma = np.where(underflow[rows], small, log_gamma)
            gamma[rows] = np.exp(log_gamma - log_gamma.max(axis=1, keepdims=True))
        shares = np.zeros(u.shape)
        shares[:, positive] = gamma / gamma.sum(axis=1, keepdims=True)
        return shares

    def __str__(self) -> str:
        return f"Dirichlet({_format_vector(self.alpha)})"


@dataclass(frozen=True)
class MultivariateNormal(_Block):
    """Correlated coefficients, e.g. a survival fit's estimates and covariance matrix.

    ``transform(u)`` maps uniforms of shape ``(n, k)`` to draws ``mean + L·Φ⁻¹(u)``
    with ``L`` the Cholesky factor of the covariance (eigen-decomposition where the
    covariance is only positive semi-definite).
    """

    mean: np.ndarray
    covariance: np.ndarray

    def __post_init__(self) -> None:
        mean = np.atleast_1d(as_float_array(self.mean, "mean", ndim=(0, 1)))
        covariance = np.atleast_2d(as_float_array(self.covariance, "covariance", ndim=(0, 2)))
        if covariance.shape != (mean.size, mean.size):
            raise InputError(f"covariance: shape {covariance.shape} does not match {mean.size} means")
        if not np.allclose(covariance, covariance.T, rtol=1e-8, atol=1e-14):
            raise InputError("covariance: must be symmetric")
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        if eigenvalues.min() < -1e-10 * max(1.0, eigenvalues.max()):
            raise InputError(
                f"covariance: smallest eigenvalue {float(eigenvalues.min())!r}; "
                "a covariance matrix must be positive semi-definite"
            )
        try:
            factor = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", covariance)
        object.__setattr__(self, "_factor", factor)

    @property
    def n_uniforms(self) -> int:
        return self.mean.size

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def transform(self, u: ArrayLike) -> np.ndarray:
        """Draws for uniforms ``u`` of shape ``(n, k)``; returns ``(n, k)``."""
        u = self._uniforms(u)
        return self.mean + special.ndtri(u) @ self._factor.T

    def __str__(self) -> str:
        return f"MultivariateNormal(mean={_format_vector(self.mean)}, sd={_format_vector(self.sd)})"
