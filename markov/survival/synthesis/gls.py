"""The linear model of a contrast-based network meta-analysis and its estimators.

Contrasts y (every trial's log hazard ratios against its control, stacked) follow

    y = X·d + δ + ε,   ε ~ N(0, S),   δ ~ N(0, τ²·P),

with d the basic parameters (each treatment against the reference), X the design (+1 for a
contrast's treatment, −1 for its control, the reference's column dropped), S block-diagonal
with each trial's covariance, and P the structure of random effects within a trial: 1 on
the diagonal and ½ between two contrasts of one multi-arm trial (a common τ² for every
comparison, so every contrast's random effect has variance τ² and their difference too).
At a given τ², generalised least squares gives d̂ = (X'V⁻¹X)⁻¹X'V⁻¹y with covariance
(X'V⁻¹X)⁻¹, V = S + τ²P; τ² = 0 is the fixed-effect model.

τ² is estimated by

- REML (the default): the maximum over τ² ≥ 0 of the restricted log-likelihood
  −½[log|V| + log|X'V⁻¹X| + y'Ry], R = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹, by Fisher scoring (score
  ½[y'RPRy − tr(RP)], expected information ½·tr(RPRP)) with step halving, from the DL value;
- DL: DerSimonian and Laird's (1986) method of moments, generalised to networks and
  multi-arm trials (Jackson, White and Riley 2012): with the fixed-effect R₀ (V = S),
  E[Q] = df + τ²·tr(R₀P), so τ² = max(0, (Q − df)/tr(R₀P)); in a pairwise meta-analysis
  tr(R₀P) = Σw − Σw²/Σw, DerSimonian and Laird's own denominator.

With no residual degrees of freedom (one trial per comparison, no loop) the data say
nothing about τ²: both give 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validate import InputError

#: Estimators of the between-trial variance τ².
TAU2_METHODS = ("reml", "dl")
_MAX_ITERATIONS = 200


@dataclass(frozen=True)
class Contrasts:
    """Every contrast of a network, stacked: ``y``, within-trial covariance ``S``, random-effects
    structure ``P``, and for each row its trial, treatment and control."""

    y: np.ndarray
    S: np.ndarray
    P: np.ndarray
    trial: tuple[str, ...]
    treatment: tuple[str, ...]
    control: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.y)

    def design(self, columns: dict[tuple, int], key) -> np.ndarray:
        """The design matrix whose column ``columns[key(row, treatment)]`` is +1 for a
        contrast's treatment and −1 for its control (a key not in ``columns`` is a
        baseline: no column)."""
        X = np.zeros((self.n, len(columns)))
        for row in range(self.n):
            for treatment, sign in ((self.treatment[row], 1.0), (self.control[row], -1.0)):
                column = columns.get(key(row, treatment))
                if column is not None:
                    X[row, column] += sign
        return X


@dataclass(frozen=True)
class GLSFit:
    """Generalised least squares at one τ²: estimates, their covariance, and the residual
    statistic Q = (y − Xd̂)'V⁻¹(y − Xd̂) with its degrees of freedom (rows − rank X)."""

    estimates: np.ndarray
    covariance: np.ndarray
    q: float
    df: int
    tau2: float


def gls(data: Contrasts, X: np.ndarray, tau2: float = 0.0) -> GLSFit:
    """The GLS fit of ``data`` on design ``X`` at between-trial variance ``tau2``."""
    V = data.S + tau2 * data.P
    ViX = np.linalg.solve(V, X)
    information = X.T @ ViX
    covariance = np.linalg.inv(information)
    estimates = covariance @ (ViX.T @ data.y)
    residual = data.y - X @ estimates
    q = float(residual @ np.linalg.solve(V, residual))
    df = data.n - int(np.linalg.matrix_rank(X))
    return GLSFit(estimates, 0.5 * (covariance + covariance.T), max(q, 0.0), df, tau2)


def _restricted(data: Contrasts, X: np.ndarray, tau2: float) -> tuple[float, float, float]:
    """Restricted log-likelihood (without its constant), score and expected information at ``tau2``."""
    V = data.S + tau2 * data.P
    Vi = np.linalg.inv(V)
    ViX = Vi @ X
    A = X.T @ ViX
    R = Vi - ViX @ np.linalg.solve(A, ViX.T)
    Ry = R @ data.y
    RP = R @ data.P
    log_likelihood = -0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(A)[1] + data.y @ Ry)
    score = 0.5 * (Ry @ data.P @ Ry - np.trace(RP))
    information = 0.5 * np.trace(RP @ RP)
    return float(log_likelihood), float(score), float(information)


def tau2_dl(data: Contrasts, X: np.ndarray) -> float:
    """DerSimonian–Laird's moment estimate of τ², generalised (module docstring)."""
    fixed = gls(data, X)
    if fixed.df == 0:
        return 0.0
    W = np.linalg.inv(data.S)
    WX = W @ X
    R = W - WX @ np.linalg.solve(X.T @ WX, WX.T)
    return max(0.0, (fixed.q - fixed.df) / float(np.trace(R @ data.P)))


def tau2_reml(data: Contrasts, X: np.ndarray) -> float:
    """The REML estimate of τ² ≥ 0 by Fisher scoring with step halving (module docstring);
    converged when a step moves τ² by less than 1e-12 + 1e-10·τ²."""
    if gls(data, X).df == 0:
        return 0.0
    tau2 = tau2_dl(data, X)
    log_likelihood, score, information = _restricted(data, X, tau2)
    for _ in range(_MAX_ITERATIONS):
        step = score / information
        while True:
            candidate = max(0.0, tau2 + step)
            new = _restricted(data, X, candidate)
            if new[0] >= log_likelihood - 1e-13 * abs(log_likelihood) or abs(step) < 1e-15:
                break
            step /= 2
        moved = abs(candidate - tau2)
        tau2, (log_likelihood, score, information) = candidate, new
        if moved < 1e-12 + 1e-10 * tau2:
            return tau2
    raise InputError(f"REML estimation of the between-trial variance did not converge in {_MAX_ITERATIONS} "
                     "iterations; use the DerSimonian–Laird estimate (tau2: dl)")


def estimate_tau2(data: Contrasts, X: np.ndarray, method: str) -> float:
    """τ² by ``method`` (one of :data:`TAU2_METHODS`)."""
    if method not in TAU2_METHODS:
        raise InputError(f"tau2 method {method!r}: must be one of {', '.join(TAU2_METHODS)}")
    return tau2_reml(data, X) if method == "reml" else tau2_dl(data, X)
