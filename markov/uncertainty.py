"""Distributions of uncertain inputs, written as transforms of independent U(0, 1) draws.

A PSA draws the uniforms at random; a global sensitivity analysis (SALib) supplies
them from its own design. Either way an input's values are ``distribution.ppf(u)``
(or ``transform(u)`` for a correlated block), so one description serves both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._validate import InputError, as_float_array

#: Standard-normal quantile used to turn a two-sided 95% interval into a standard error.
Z_95 = float(special.ndtri(0.975))


def _generator(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def open_uniforms(seed, shape) -> np.ndarray:
    """Uniform draws strictly inside (0, 1), so every quantile function stays finite."""
    return (_generator(seed).integers(0, 2**53, size=shape) + 0.5) / 2.0**53


def _check_uniforms(u: np.ndarray, name: str) -> None:
    bad = ~((u > 0) & (u < 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{name} {list(index)} is {float(u[index])!r}: uniform draws must lie strictly between 0 and 1")


@dataclass(frozen=True)
class LogNormal:
    """Log-normal input, e.g. a hazard ratio: log X ~ Normal(meanlog, sdlog)."""

    meanlog: float
    sdlog: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.meanlog):
            raise InputError(f"meanlog is {float(self.meanlog)!r}: must be a finite number")
        if not (np.isfinite(self.sdlog) and self.sdlog >= 0):
            raise InputError(f"sdlog is {float(self.sdlog)!r}: must be a non-negative finite number")

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
        if not lower < estimate < upper:
            raise InputError(
                f"{name} interval ({float(lower)!r}, {float(upper)!r}) around {float(estimate)!r}: need lower < estimate < upper"
            )
        if not 0 < level < 1:
            raise InputError(f"level is {float(level)!r}: a confidence level must lie in (0, 1)")
        z = float(special.ndtri(0.5 + level / 2))
        return cls(float(np.log(estimate)), float((np.log(upper) - np.log(lower)) / (2 * z)))

    def ppf(self, u) -> np.ndarray:
        """Quantile function: the inputs for uniform draws ``u``."""
        u = as_float_array(u, "u")
        _check_uniforms(u, "u")
        return np.exp(self.meanlog + self.sdlog * special.ndtri(u))

    def sample(self, n: int, seed=None) -> np.ndarray:
        """``n`` draws from ``seed`` (an int, a SeedSequence or a Generator)."""
        return self.ppf(open_uniforms(seed, n))


@dataclass(frozen=True)
class MultivariateNormal:
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
                f"covariance: smallest eigenvalue {float(eigenvalues.min())!r}; a covariance matrix must be positive semi-definite"
            )
        try:
            factor = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", covariance)
        object.__setattr__(self, "_factor", factor)

    def transform(self, u) -> np.ndarray:
        """Draws for uniforms ``u`` of shape ``(n, k)``; returns ``(n, k)``."""
        u = as_float_array(u, "u", ndim=(2,))
        if u.shape[1] != self.mean.size:
            raise InputError(f"u: has {u.shape[1]} columns, expected {self.mean.size}")
        _check_uniforms(u, "u")
        return self.mean + special.ndtri(u) @ self._factor.T

    def sample(self, n: int, seed=None) -> np.ndarray:
        """``n`` draws from ``seed`` (an int, a SeedSequence or a Generator), shape ``(n, k)``."""
        return self.transform(open_uniforms(seed, (n, self.mean.size)))
