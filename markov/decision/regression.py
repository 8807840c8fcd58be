"""Non-parametric regressions of a net benefit on sampled parameters, for EVPPI.

:func:`markov.decision.voi.evppi` needs ``E[INB_d | θ]`` at every PSA sample; these
regressions estimate it from the sample alone, as in Strong, Oakley & Brennan (2014),
*Estimating multiparameter partial expected value of perfect information from a
probabilistic sensitivity analysis sample: a nonparametric regression approach*,
Medical Decision Making 34(3):311-326. Each takes the parameters once, (n_samples, p),
and then fits several standardised responses (one column per strategy) together,
returning a :class:`Fit`: the fitted values and, for the standard error of the EVPPI,
the posterior variance of any weighted sum of them.

Both are penalised linear regressions ``min ||y - Xβ||² + β'Pβ`` whose Bayesian
posterior is ``β ~ N(β̂, σ² (X'X + P)⁻¹)`` with ``σ² = RSS / (n - edf)`` (the posterior
mgcv reports as ``Vp``, and the GP's own under a subset-of-regressors approximation).

:class:`TensorSpline` (``method="gam"``: one to four parameters)
    A penalised regression spline, the analogue of mgcv's ``s()``/``te()`` used by
    Strong et al. Each parameter gets a cubic B-spline basis with knots at quantiles
    of its distinct sampled values (:data:`GAM_BASIS_SIZE` basis functions: 30, i.e. 26
    interior knots, for a single parameter; 8, 6 or 5 per parameter in a tensor
    product of 2, 3 or 4; fewer, down to a plain cubic, when ``(n/2)^(1/p)`` is
    smaller) and the penalty ``∫ f''(x)² dx`` over the sampled range, computed
    exactly. A group uses the tensor product of its members' bases and the sum of its
    members' penalties (each marginal penalty Kronecker multiplied by identities, as in
    ``te()``, scaled to the size of X'X). One smoothing parameter per response
    minimises the generalised cross-validation score ``n·RSS / (n - edf)²``. With
    ``B = X'X`` (plus a jitter of 1e-7 of its mean diagonal, for basis functions that
    see almost no data) and penalty ``S``, one Cholesky factor ``B = LL'`` and one
    symmetric eigendecomposition ``L⁻¹SL⁻ᵀ = UDU'`` (Demmler & Reinsch 1975) give, with
    ``W = L⁻ᵀU``, the coefficients ``β(λ) = W (I + λD)⁻¹ W'X'y`` and
    ``edf(λ) = Σ_i M_ii / (1 + λd_i)`` (``M = W'X'XW``) for every λ at O(k²) each, so
    the score is evaluated on a grid of λ (steps of 0.25 in log λ, refined to 0.02
    about the best) for all responses at once. X'X is accumulated from the design's
    nonzero blocks: the samples that share a knot interval in every member share the
    4^p columns where their basis functions are nonzero. The unpenalised part of the
    basis is linear in each member, so with heavy smoothing the fit falls back to a
    (multi)linear regression.
:class:`GaussianProcess` (``method="gp"``: any number of parameters; the default above four)
    Gaussian-process regression as in Strong et al., made linear in the sample size by
    inducing points (the subset-of-regressors approximation: Quiñonero-Candela &
    Rasmussen 2005). Inputs standardised; squared-exponential covariance
    ``σ² exp(-Σ_k (x_k - x'_k)² / δ_k²)`` with one length-scale per parameter, noise
    variance ``τσ²`` and a linear mean with a flat prior on its coefficients. ``δ`` and
    ``τ`` maximise the exact marginal likelihood (the mean coefficients integrated out,
    ``σ²`` profiled out) on a seeded random subset of ``hyper_samples`` samples, by
    L-BFGS-B with an analytic gradient from the best point of a grid of common
    length-scales (in units of √p, so the grid suits any number of parameters) and
    noise ratios. The posterior mean then uses every sample: with the ``inducing``
    points ``Z`` (a seeded random subset holding the hyperparameter subset), it is the
    penalised regression on ``[1, x, k(x, Z) V Λ^-½]`` (``k(Z, Z) = VΛV'``, directions
    with eigenvalues below 1e-10 of the largest dropped) with penalty ``τ`` on the
    kernel features' coefficients.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from scipy.interpolate import BSpline
from scipy.linalg import lapack

#: B-spline basis functions per parameter, by the number of parameters fitted together.
GAM_BASIS_SIZE = {1: 30, 2: 8, 3: 6, 4: 5}

#: Largest group the GAM fits (a tensor basis grows as the power of the group size).
GAM_MAX_PARAMETERS = max(GAM_BASIS_SIZE)

_CITATION = "Strong, Oakley & Brennan 2014"

# log smoothing parameter (penalties scaled to the size of X'X): beyond these the fit
# no longer changes; narrower for tensor products, whose larger bases make X'X plus a
# small penalty worse conditioned
_LOG_LAMBDA_RANGE = (np.log(1e-9), np.log(1e9))
_LOG_LAMBDA_RANGE_TENSOR = (np.log(1e-7), np.log(1e6))
_GRID_STEP = 0.25
_REFINE = np.linspace(-_GRID_STEP, _GRID_STEP, 26)
# jitter on X'X (relative to its mean diagonal) for basis functions with little data
_RIDGE = 1e-7
# bounds on the GP's standardised length-scales and noise-to-signal variance ratio
_GP_LOG_DELTA = (np.log(0.05), np.log(100.0))
_GP_LOG_TAU = (np.log(1e-6), np.log(1e3))
# starting grid: common length-scale (times √p) and noise ratio
_GP_START_DELTA = (0.5, 1.0, 2.0, 4.0, 8.0)
_GP_START_TAU = (0.01, 0.1, 1.0)
_GP_SEARCH = {"maxiter": 10}
# eigenvalues of k(Z, Z) below this fraction of the largest carry only rounding
_KERNEL_RANK = 1e-10
# design rows are built in blocks of about this many values, and a spline's blocks are
# kept up to this many in all (64 MiB), so memory does not grow with n
_BLOCK_VALUES = 1 << 20
_STORED_VALUES = 1 << 23


@dataclass(frozen=True, eq=False)
class Fit:
    """Fitted values of standardised responses (one column each), with their posterior.

    Attributes
    ----------
    fitted : ndarray, shape (n_samples, n_responses)
    edf : ndarray, shape (n_responses,)
        Effective degrees of freedom ``tr(X (X'X + P)⁻¹ X')``, intercept included.
    details : list of dict
        Per response: ``log10_lambda`` (GAM) or ``length_scales`` and ``noise_ratio`` (GP).
    """

    fitted: np.ndarray
    edf: np.ndarray
    details: list[dict]
    _variance: Callable[[np.ndarray], np.ndarray]

    def variance(self, weights: np.ndarray) -> np.ndarray:
        """Posterior variance of ``Σ_i weights[i, j] · fitted[i, j]`` for each response ``j``.

        Parameters
        ----------
        weights : ndarray, shape (n_samples, n_responses)

        Returns
        -------
        ndarray, shape (n_responses,)
        """
        return self._variance(weights)


# --- penalised regression splines -----------------------------------------------------

def _spline_margin(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cubic B-splines on knots at quantiles of the distinct values of ``x``: for each
    sample the first of its 4 nonzero basis functions and their values, (n,) and (n, 4),
    and the penalty matrix ``S_ij = ∫ B_i''(x) B_j''(x) dx`` over the sampled range."""
    distinct = np.unique(x)
    lo, hi = distinct[0], distinct[-1]
    # knots on sampled values, evenly spaced in rank, so a discrete parameter gets
    # no knot between its values (and a binary one a plain cubic)
    ranks = np.round(np.linspace(0, distinct.size - 1, size - 2)[1:-1]).astype(int)
    interior = np.unique(distinct[ranks])
    interior = interior[(interior > lo) & (interior < hi)]
    knots = np.concatenate([[lo] * 4, interior, [hi] * 4])
    k = knots.size - 4
    first, values = _cubic_basis(x, knots)
    # B'' is linear between knots, so two Gauss-Legendre points per interval are exact
    breaks = np.unique(knots)
    middle, half = (breaks[1:] + breaks[:-1]) / 2, (breaks[1:] - breaks[:-1]) / 2
    nodes = np.concatenate([middle - half / np.sqrt(3), middle + half / np.sqrt(3)])
    weights = np.concatenate([half, half])
    second = BSpline(knots, np.eye(k), 3).derivative(2)(nodes)
    return first, values, second.T @ (weights[:, None] * second)


def _cubic_basis(x: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ``x`` (within the knots), the first of its 4 nonzero cubic B-splines and
    their values, by the Cox-de Boor recursion (Piegl & Tiller, *The NURBS Book*, A2.2)."""
    span = np.clip(np.searchsorted(knots, x, side="right") - 1, 3, knots.size - 5)
    values = np.zeros((x.size, 4))
    values[:, 0] = 1.0
    left, right = np.empty((x.size, 4)), np.empty((x.size, 4))
    for j in range(1, 4):
        left[:, j] = x - knots[span + 1 - j]
        right[:, j] = knots[span + j] - x
        saved = np.zeros(x.size)
        for r in range(j):
            term = values[:, r] / (right[:, r + 1] + left[:, j - r])
            values[:, r] = saved + right[:, r + 1] * term
            saved = left[:, j - r] * term
        values[:, j] = saved
    return span - 3, values


class _TensorDesign:
    """The tensor-product B-spline design matrix, held as its nonzero blocks.

    A sample's basis functions are nonzero in 4 consecutive columns per margin, so in
    the tensor product in ``4^p`` columns that depend only on the knot intervals the
    sample falls in: the samples of one cell (the same interval in every margin) form
    a dense block on those columns. Samples are sorted by cell once, and products with
    the design run block by block (blocks are kept when they fit in
    :data:`_STORED_VALUES` values, else rebuilt for each product).
    """

    def __init__(self, firsts: list[np.ndarray], values: list[np.ndarray], sizes: list[int]):
        n, width = firsts[0].size, 4 ** len(sizes)
        self.k = int(np.prod(sizes))
        key = np.zeros(n, dtype=np.intp)
        for first, size in zip(firsts, sizes, strict=True):
            key = key * size + first
        self.order = np.argsort(key, kind="stable")
        self.values = [v[self.order] for v in values]
        bounds = np.flatnonzero(np.diff(key[self.order])) + 1
        rows_per_block = max(1, _BLOCK_VALUES // width)
        self.blocks: list[tuple[slice, np.ndarray]] = []
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
            columns = np.zeros(1, dtype=np.intp)
            for first, size in zip(firsts, sizes, strict=True):
                columns = (columns[:, None] * size + first[self.order[lo]] + np.arange(4)).ravel()
            self.blocks += [(slice(i, min(i + rows_per_block, hi)), columns) for i in range(lo, hi, rows_per_block)]
        self._stored = list(self._build()) if n * width <= _STORED_VALUES else None

    def _build(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        for rows, columns in self.blocks:
            block = self.values[0][rows]
            for margin in self.values[1:]:
                block = (block[:, :, None] * margin[rows][:, None, :]).reshape(block.shape[0], -1)
            yield rows, columns, block

    def _each(self):
        return self._stored if self._stored is not None else self._build()

    def gram(self) -> np.ndarray:
        """``X'X``."""
        out = np.zeros((self.k, self.k))
        for _, columns, block in self._each():
            out[np.ix_(columns, columns)] += block.T @ block
        return out

    def t_dot(self, a: np.ndarray) -> np.ndarray:
        """``X'a`` for ``a`` of shape (n, m)."""
        a = a[self.order]
        out = np.zeros((self.k, a.shape[1]))
        for rows, columns, block in self._each():
            out[columns] += block.T @ a[rows]
        return out

    def dot(self, coefficients: np.ndarray) -> np.ndarray:
        """``Xβ`` for ``β`` of shape (k, m)."""
        out = np.empty((self.order.size, coefficients.shape[1]))
        for rows, columns, block in self._each():
            out[self.order[rows]] = block @ coefficients[columns]
        return out


class TensorSpline:
    """Penalised (tensor-product) cubic regression spline on the columns of ``x``, with
    one smoothing parameter per response by GCV on one eigendecomposition.

    Parameters
    ----------
    x : ndarray, shape (n_samples, p)
        The parameters, ``1 <= p <=`` :data:`GAM_MAX_PARAMETERS`, each varying.

    Attributes
    ----------
    sizes : tuple of int
        Basis functions per parameter.
    """

    def __init__(self, x: np.ndarray):
        n, p = x.shape
        size = GAM_BASIS_SIZE[p]
        # keep the basis well below the sample size (each margin at least a cubic)
        size = max(4, min(size, int((n / 2) ** (1 / p))))
        firsts, values, margins = zip(*(_spline_margin(x[:, j], size) for j in range(p)), strict=True)
        sizes = [m.shape[0] for m in margins]
        self.design = _TensorDesign(list(firsts), list(values), sizes)
        xtx = self.design.gram()
        scale = np.linalg.norm(xtx)
        penalty = np.zeros_like(xtx)
        for j, margin in enumerate(margins):
            full = np.kron(np.kron(np.eye(int(np.prod(sizes[:j]))), margin), np.eye(int(np.prod(sizes[j + 1:]))))
            penalty += full * (scale / np.linalg.norm(full))
        self.sizes = tuple(sizes)
        self._bounds = _LOG_LAMBDA_RANGE if p == 1 else _LOG_LAMBDA_RANGE_TENSOR
        # B + λS = W⁻ᵀ(I + λD)W⁻¹: the generalised eigenvectors W of (S, B), W'BW = I, W'SW = D
        ridge = _RIDGE * np.mean(np.diag(xtx))
        d, self._w = _generalised_eigh(penalty, xtx + ridge * np.eye(xtx.shape[0]))
        self._d = np.clip(d, 0.0, None)
        self._m = np.eye(d.size) - ridge * (self._w.T @ self._w)  # W'X'XW

    @property
    def description(self) -> str:
        """The regression in words, with its citation."""
        if len(self.sizes) == 1:
            return (f"GAM: penalised cubic regression spline ({self.sizes[0]} B-spline basis functions, knots at "
                    f"quantiles, penalty ∫f''²), smoothing parameter by GCV ({_CITATION})")
        return (f"GAM: tensor product of penalised cubic regression splines ({' × '.join(map(str, self.sizes))} "
                f"B-spline basis functions, knots at quantiles, penalty the sum of each parameter's ∫f''²), "
                f"smoothing parameter by GCV ({_CITATION})")

    def fit(self, y: np.ndarray) -> Fit:
        """Fit each column of ``y``, shape (n_samples, n_responses), standardised (mean 0,
        standard deviation 1), with its own smoothing parameter."""
        n, m = y.shape
        z = self._w.T @ self.design.t_dot(y)
        # RSS(c) = RSS(z) - 2 g'(c - z) + (c - z)'M(c - z) with g = W'X'(y - XWz): exact, and
        # free of the cancellation in ||y||² - 2c'z + c'Mc when the fit is nearly perfect
        residual = y - self.design.dot(self._w @ z)
        rss_z = np.einsum("ij,ij->j", residual, residual)
        g = z - self._m @ z
        diag_m = np.diag(self._m)
        k = z.shape[0]

        def gcv(rho: np.ndarray) -> np.ndarray:  # rho (trials, m) -> scores (trials, m)
            shrink = 1.0 / (1.0 + np.exp(rho)[None] * self._d[:, None, None])
            delta = z[:, None, :] * (shrink - 1.0)
            m_delta = (self._m @ delta.reshape(k, -1)).reshape(delta.shape)
            rss = rss_z - 2 * np.einsum("km,ktm->tm", g, delta) + np.einsum("ktm,ktm->tm", delta, m_delta)
            slack = n - np.einsum("k,ktm->tm", diag_m, shrink)
            return np.where(slack >= 1.0, n * np.maximum(rss, 0.0) / np.maximum(slack, 1.0) ** 2, np.inf)

        lo, hi = self._bounds
        grid = np.arange(lo, hi + _GRID_STEP / 2, _GRID_STEP)
        coarse = grid[np.argmin(gcv(np.repeat(grid[:, None], m, axis=1)), axis=0)]
        trials = np.clip(coarse[None, :] + _REFINE[:, None], lo, hi)
        rho = trials[np.argmin(gcv(trials), axis=0), np.arange(m)]
        shrink = 1.0 / (1.0 + np.exp(rho)[None, :] * self._d[:, None])
        fitted = self.design.dot(self._w @ (z * shrink))
        edf = diag_m @ shrink
        sigma2 = np.einsum("ij,ij->j", y - fitted, y - fitted) / np.maximum(n - edf, 1.0)

        def variance(weights: np.ndarray) -> np.ndarray:
            # (B + λS)⁻¹ = W (I + λD)⁻¹ W'
            projected = self._w.T @ self.design.t_dot(weights)
            return sigma2 * np.einsum("kj,kj->j", projected ** 2, shrink)

        details = [{"log10_lambda": float(r / np.log(10))} for r in rho]
        return Fit(fitted, edf, details, variance)


def _generalised_eigh(penalty: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and vectors of ``Sw = dBw`` with ``W'BW = I``, with growing jitter on
    ``B`` if rounding leaves it indefinite."""
    jitter = 0.0
    scale = np.mean(np.diag(base))
    for _ in range(6):
        try:
            return linalg.eigh(penalty, base + jitter * np.eye(base.shape[0]), driver="gvd")
        except linalg.LinAlgError:
            jitter = scale * 1e-8 if jitter == 0 else jitter * 100
    raise linalg.LinAlgError("could not factor the penalised normal equations")


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, with growing jitter if rounding leaves the matrix indefinite."""
    jitter = 0.0
    scale = np.mean(np.diag(matrix))
    for _ in range(6):
        try:
            return np.linalg.cholesky(matrix + jitter * np.eye(matrix.shape[0]))
        except np.linalg.LinAlgError:
            jitter = scale * 1e-8 if jitter == 0 else jitter * 100
    raise np.linalg.LinAlgError("could not factor the penalised normal equations")


# --- Gaussian-process regression ------------------------------------------------------

class GaussianProcess:
    """Gaussian-process regression (Strong, Oakley & Brennan 2014) on standardised inputs,
    with inducing points.

    Parameters
    ----------
    x : ndarray, shape (n_samples, p)
        The parameters, each varying.
    inducing : int
        At most this many samples (a seeded random subset) are the inducing points.
    hyper_samples : int
        At most this many of those estimate the hyperparameters.
    seed : int
        Seed of the subsets.

    Attributes
    ----------
    inducing, hyper : ndarray of int
        Positions of the inducing points and of the samples that estimate the
        hyperparameters.
    """

    def __init__(self, x: np.ndarray, inducing: int, hyper_samples: int, seed: int):
        n, p = x.shape
        self.sd = x.std(axis=0)
        self.x = (x - x.mean(axis=0)) / self.sd
        order = np.random.default_rng(seed).permutation(n)
        self.inducing = np.sort(order[:min(n, inducing)])
        self.hyper = np.sort(order[:min(n, hyper_samples, inducing)])
        hx = self.x[self.hyper]
        # squared differences per input, one row per pair: (m², p)
        self.differences = ((hx[:, None, :] - hx[None, :, :]) ** 2).reshape(-1, p)
        self.h_hyper = np.column_stack([np.ones(hx.shape[0]), hx])

    @property
    def description(self) -> str:
        """The regression in words, with its citation."""
        return ("GP: Gaussian-process regression, squared-exponential covariance with one length-scale per "
                f"parameter, linear mean, hyperparameters by maximum marginal likelihood on {self.hyper.size} "
                f"samples, posterior mean on all {self.x.shape[0]} with {self.inducing.size} inducing points "
                f"({_CITATION})")

    def fit(self, y: np.ndarray) -> Fit:
        """Fit each column of ``y``, shape (n_samples, n_responses), standardised (mean 0,
        standard deviation 1), with its own hyperparameters."""
        columns = [self._fit_one(y[:, j]) for j in range(y.shape[1])]
        fitted = np.column_stack([c[0] for c in columns])
        edf = np.array([c[1] for c in columns])

        def variance(weights: np.ndarray) -> np.ndarray:
            return np.array([c[3](weights[:, j]) for j, c in enumerate(columns)])

        return Fit(fitted, edf, [c[2] for c in columns], variance)

    def _hyperparameters(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        p = self.x.shape[1]
        y_hyper = y[self.hyper]
        # the likelihood has local optima (e.g. all noise, linear mean only) and is flat
        # where every pair of samples is uncorrelated, so start the search from the best
        # of a grid of common length-scales, scaled to the typical distance √(2p)
        starts = [np.concatenate([np.full(p, np.log(delta * np.sqrt(p))), [np.log(tau)]])
                  for delta in _GP_START_DELTA for tau in _GP_START_TAU]
        start = min(starts, key=lambda phi: self._objective(phi, y_hyper, gradient=False))
        start = np.clip(start, *np.transpose([_GP_LOG_DELTA] * p + [_GP_LOG_TAU]))
        found = optimize.minimize(self._objective, start, args=(y_hyper,), jac=True, method="L-BFGS-B",
                                  bounds=[_GP_LOG_DELTA] * p + [_GP_LOG_TAU], options=_GP_SEARCH)
        return np.exp(found.x[:p]), float(np.exp(found.x[p]))

    def _design(self, rows: slice, delta: np.ndarray, z: np.ndarray, features: np.ndarray) -> np.ndarray:
        x = self.x[rows]
        return np.column_stack([np.ones(x.shape[0]), x, _squared_exponential(x / delta, z) @ features])

    def _fit_one(self, y: np.ndarray) -> tuple[np.ndarray, float, dict, Callable[[np.ndarray], float]]:
        n, p = self.x.shape
        delta, tau = self._hyperparameters(y)
        z = self.x[self.inducing] / delta
        # f(x) = k(x, Z) k(Z, Z)⁻¹ u with u ~ N(0, σ² k(Z, Z)) is f = φ(x)'w, w ~ N(0, σ² I), for the
        # features φ(x) = k(x, Z) V Λ^-½ (k(Z, Z) = VΛV'); directions of k(Z, Z) below rounding are
        # dropped, and the normal equations are not squared in its condition number
        eigenvalues, vectors = np.linalg.eigh(_squared_exponential(z, z))
        keep = eigenvalues > _KERNEL_RANK * eigenvalues[-1]
        features = vectors[:, keep] / np.sqrt(eigenvalues[keep])
        width = 1 + p + features.shape[1]
        step = max(1, _BLOCK_VALUES // width)
        # the design [1, x, φ(x)] by blocks of rows, kept while it fits in _STORED_VALUES
        stored = ([(rows, self._design(rows, delta, z, features)) for rows in _row_blocks(n, step)]
                  if n * width <= _STORED_VALUES else None)

        def blocks() -> Iterator[tuple[slice, np.ndarray]]:
            return iter(stored) if stored is not None else (
                (rows, self._design(rows, delta, z, features)) for rows in _row_blocks(n, step))

        # penalised regression on the design, penalty τ on the feature weights (the prior, noise σ²τ)
        gram, xty = np.zeros((width, width)), np.zeros(width)
        for rows, design in blocks():
            gram += design.T @ design
            xty += design.T @ y[rows]
        penalised = gram.copy()
        penalised[np.arange(1 + p, width), np.arange(1 + p, width)] += tau
        factor = _cholesky(penalised + _RIDGE * np.mean(np.diag(gram)) * np.eye(width))
        beta = linalg.cho_solve((factor, True), xty)
        fitted = np.concatenate([design @ beta for _, design in blocks()])
        edf = float(np.trace(linalg.cho_solve((factor, True), gram)))
        sigma2 = float(np.sum((y - fitted) ** 2)) / max(n - edf, 1.0)

        def variance(weights: np.ndarray) -> float:
            v = sum(design.T @ weights[rows] for rows, design in blocks())
            half = linalg.solve_triangular(factor, v, lower=True)
            return sigma2 * float(half @ half)

        details = {"length_scales": tuple(float(v) for v in delta * self.sd), "noise_ratio": tau}
        return fitted, edf, details, variance

    def _objective(self, phi: np.ndarray, y: np.ndarray, gradient: bool = True):
        """Minus the log marginal likelihood per sample, σ² profiled out and the mean's
        coefficients integrated out under a flat prior, and its gradient in (log δ, log τ)."""
        p = self.x.shape[1]
        inverse_delta2, tau = np.exp(-2 * phi[:p]), np.exp(phi[p])
        m, q = y.size, self.h_hyper.shape[1]
        correlation = np.exp(-(self.differences @ inverse_delta2)).reshape(m, m)
        sigma = correlation + tau * np.eye(m)
        failed = (np.inf, np.zeros_like(phi)) if gradient else np.inf
        try:
            factor = linalg.cho_factor(sigma, lower=True)
        except linalg.LinAlgError:
            return failed
        inv_h = linalg.cho_solve(factor, self.h_hyper)
        gram_factor = linalg.cho_factor(self.h_hyper.T @ inv_h, lower=True)
        inv_y = linalg.cho_solve(factor, y)
        # a = Qy with Q = Σ⁻¹ - Σ⁻¹H (H'Σ⁻¹H)⁻¹ H'Σ⁻¹, which annihilates the mean; y'Qy / (m - q) is σ²'s estimate
        a = inv_y - inv_h @ linalg.cho_solve(gram_factor, self.h_hyper.T @ inv_y)
        yqy = float(y @ a)
        if yqy <= 0:
            return failed
        log_det = 2 * np.log(np.diag(factor[0])).sum() + 2 * np.log(np.diag(gram_factor[0])).sum()
        value = (0.5 * (m - q) * np.log(yqy) + 0.5 * log_det) / m
        if not gradient:
            return value
        # d/dφ = -½ tr((aa'/s - Q) dΣ/dφ), s = y'Qy / (m - q); dΣ/dlog δ_k = Σ ⊙ 2 D_k / δ_k²
        inverse, info = lapack.dpotri(factor[0], lower=1)
        if info != 0:
            return failed
        inverse = np.tril(inverse) + np.tril(inverse, -1).T
        q_matrix = inverse - inv_h @ linalg.cho_solve(gram_factor, inv_h.T)
        r = np.outer(a, a) * ((m - q) / yqy) - q_matrix
        grad = np.empty_like(phi)
        grad[:p] = -((r * correlation).reshape(-1) @ self.differences) * inverse_delta2
        grad[p] = -0.5 * tau * np.trace(r)
        return value, grad / m


def _row_blocks(n: int, step: int) -> list[slice]:
    return [slice(i, i + step) for i in range(0, n, step)]


def _squared_exponential(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``exp(-||a_i - b_j||²)`` for rows already divided by their length-scales."""
    distance = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(distance, 0.0))
