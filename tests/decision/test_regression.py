"""The EVPPI regressions on their own: what they recover, how they choose their smoothness,
how large they are, how they describe themselves."""
import numpy as np
import pytest
from scipy.interpolate import BSpline, make_smoothing_spline

from markov.decision.regression import GAM_BASIS_SIZE, GAM_MAX_PARAMETERS, GaussianProcess, TensorSpline


def _standard(y):
    return (y - y.mean(axis=0)) / y.std(axis=0)


def test_spline_reproduces_a_linear_response_exactly():
    # the penalty leaves straight lines alone, so a linear response is fitted whatever the smoothing
    x = np.random.default_rng(1).uniform(0, 3, (300, 1))
    y = _standard(2.0 * x[:, :1] - 1.0)
    fit = TensorSpline(x).fit(y)
    np.testing.assert_allclose(fit.fitted, y, atol=1e-6)
    assert len(fit.details) == 1 and fit.edf[0] >= 2 - 1e-6


def test_spline_recovers_a_smooth_curve_under_noise():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, (1000, 1))
    truth = np.sin(2 * x[:, 0])
    fit = TensorSpline(x).fit((truth + rng.normal(0, 0.3, 1000))[:, None])
    # residual noise sd 0.3 over 1,000 samples: the fit is within a few percent of the truth
    assert np.sqrt(np.mean((fit.fitted[:, 0] - truth) ** 2)) < 0.06
    assert 3 < fit.edf[0] < GAM_BASIS_SIZE[1]


def test_spline_design_blocks_reproduce_the_b_spline_design_matrix():
    """The design is held as dense blocks per knot cell; X'X, X'a and Xβ must be those of
    the full tensor-product design built from scipy's B-spline design matrices."""
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(size=700), rng.integers(0, 4, 700).astype(float), rng.gamma(2.0, size=700)])
    spline = TensorSpline(x)
    full = None
    for j, size in enumerate(spline.sizes):
        distinct = np.unique(x[:, j])
        ranks = np.round(np.linspace(0, distinct.size - 1, size - 2)[1:-1]).astype(int)
        interior = np.unique(distinct[ranks])
        knots = np.r_[[distinct[0]] * 4, interior[(interior > distinct[0]) & (interior < distinct[-1])],
                      [distinct[-1]] * 4]
        margin = BSpline.design_matrix(x[:, j], knots, 3).toarray()
        full = margin if full is None else (full[:, :, None] * margin[:, None, :]).reshape(len(x), -1)
    assert full.shape[1] == spline.design.k
    np.testing.assert_allclose(spline.design.gram(), full.T @ full, atol=1e-12)
    a, beta = rng.normal(size=(700, 2)), rng.normal(size=(spline.design.k, 2))
    np.testing.assert_allclose(spline.design.t_dot(a), full.T @ a, atol=1e-12)
    np.testing.assert_allclose(spline.design.dot(beta), full @ beta, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gcv_chooses_the_smoothness_of_a_known_function(seed):
    """Against scipy's cubic smoothing spline (knots at every sample): its smoothing
    parameter chosen by an oracle that knows the function sets the least error a
    smoother reaches on this sample. GCV (ours: one eigendecomposition and a grid, on a
    30-function basis) must come within 50% of that error (1.00-1.28 times it over eight
    seeds), with an edf that follows the curve and its bump, far from a line and from
    interpolation."""
    rng = np.random.default_rng(seed)
    n = 2000
    x = np.sort(rng.uniform(0, 1, n))
    truth = np.sin(2 * np.pi * x) + 0.5 * np.exp(-((x - 0.7) / 0.05) ** 2)
    y = truth + rng.normal(0, 0.3, n)
    oracle = np.inf
    for lam in np.geomspace(1e-8, 1e-3, 41):
        try:
            oracle = min(oracle, np.mean((make_smoothing_spline(x, y, lam=lam)(x) - truth) ** 2))
        except ValueError:  # scipy refuses the smallest λ on some samples (ill-posed)
            continue
    scale = y.std()
    fit = TensorSpline(x[:, None]).fit(((y - y.mean()) / scale)[:, None])
    ours = np.mean((fit.fitted[:, 0] * scale + y.mean() - truth) ** 2)
    assert ours < 1.5 * oracle
    assert 12 < fit.edf[0] < 25


def test_gcv_keeps_a_line_for_a_line_and_follows_a_curve_without_noise():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (3000, 1))
    noise = rng.normal(size=3000)
    straight = TensorSpline(x).fit(_standard(x + 3 * noise[:, None]))
    # heavy smoothing: (nearly) a line; GCV leaves a little curvature on some samples (edf 2-4.9 over 8 seeds)
    assert straight.edf[0] < 5 and straight.details[0]["log10_lambda"] > 0
    curve = TensorSpline(x).fit(_standard(np.sin(4 * x)))
    assert curve.edf[0] > 8 and curve.details[0]["log10_lambda"] < -3  # light smoothing: the curve


def test_each_response_gets_its_own_smoothing_parameter():
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (2000, 1))
    y = np.column_stack([np.sin(4 * x[:, 0]), x[:, 0]]) + rng.normal(0, 0.5, (2000, 2))
    together = TensorSpline(x).fit(_standard(y))
    for j in range(2):
        alone = TensorSpline(x).fit(_standard(y[:, [j]]))
        np.testing.assert_allclose(together.fitted[:, j], alone.fitted[:, 0], atol=1e-10)
        assert together.details[j] == alone.details[0]
    assert together.edf[0] > together.edf[1] + 3


def test_posterior_variance_of_a_weighted_sum_matches_the_coefficients_posterior():
    """``Fit.variance(w)`` is w'X (X'X + λS)⁻¹ X'w σ² with σ² = RSS / (n - edf): checked
    against that formula in dense linear algebra at the chosen λ (a line, λ → ∞ leaves
    the least-squares line whose variance is textbook)."""
    rng = np.random.default_rng(6)
    n = 500
    x = rng.uniform(0, 1, (n, 1))
    y = _standard(2 * x + rng.normal(0, 1, (n, 1)))
    fit = TensorSpline(x).fit(y)
    assert fit.edf[0] == pytest.approx(2, abs=0.05)
    weights = rng.normal(size=(n, 1))
    design = np.column_stack([np.ones(n), x[:, 0]])
    residual = y[:, 0] - design @ np.linalg.lstsq(design, y[:, 0], rcond=None)[0]
    sigma2 = residual @ residual / (n - 2)
    v = design.T @ weights[:, 0]
    expected = sigma2 * v @ np.linalg.solve(design.T @ design, v)
    assert fit.variance(weights)[0] == pytest.approx(expected, rel=0.05)


def test_spline_basis_shrinks_with_few_samples_and_grows_as_a_tensor_product():
    rng = np.random.default_rng(3)
    assert TensorSpline(rng.normal(size=(50, 1))).sizes == (25,)  # (n / 2)^(1/p) below 30
    assert TensorSpline(rng.normal(size=(2000, 2))).sizes == (GAM_BASIS_SIZE[2],) * 2
    spline = TensorSpline(rng.normal(size=(2000, GAM_MAX_PARAMETERS)))
    assert spline.sizes == (GAM_BASIS_SIZE[GAM_MAX_PARAMETERS],) * GAM_MAX_PARAMETERS
    assert "tensor product" in spline.description and "Strong, Oakley & Brennan 2014" in spline.description


def test_gaussian_process_recovers_a_smooth_surface_through_its_inducing_points():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3000, 2))
    truth = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2
    y = truth + rng.normal(0, 0.2, 3000)
    gp = GaussianProcess(x, inducing=200, hyper_samples=150, seed=0)
    assert (gp.inducing.size, gp.hyper.size) == (200, 150)
    assert set(gp.hyper) <= set(gp.inducing)  # the hyperparameters are estimated on part of the inducing points
    fit = gp.fit(_standard(y)[:, None])
    fitted = fit.fitted[:, 0] * y.std() + y.mean()
    # every sample informs the mean: the error is well below the noise (0.2)
    assert np.sqrt(np.mean((fitted - truth) ** 2)) < 0.05
    assert len(fit.details[0]["length_scales"]) == 2 and fit.details[0]["noise_ratio"] > 0
    assert 5 < fit.edf[0] < 200
    assert "on 150 samples" in gp.description and "on all 3000 with 200 inducing points" in gp.description


def test_gaussian_process_is_reproducible_and_seeded():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(800, 3))
    y = _standard(np.column_stack([x[:, 0] * x[:, 1], np.cos(x[:, 2])]) + rng.normal(0, 0.3, (800, 2)))
    first = GaussianProcess(x, 150, 100, seed=3).fit(y)
    again = GaussianProcess(x, 150, 100, seed=3).fit(y)
    np.testing.assert_array_equal(first.fitted, again.fitted)
    other = GaussianProcess(x, 150, 100, seed=4)
    assert not np.array_equal(other.inducing, GaussianProcess(x, 150, 100, seed=3).inducing)
