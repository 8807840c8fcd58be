"""The EVPPI regressions on their own: what they recover, how large they are, how they describe themselves."""
import numpy as np

from markov.decision.regression import GAM_BASIS_SIZE, GAM_MAX_PARAMETERS, GaussianProcess, TensorSpline


def _standard(y):
    return (y - y.mean()) / y.std()


def test_spline_reproduces_a_linear_response_exactly():
    # the penalty leaves straight lines alone, so a linear response is fitted whatever the smoothing
    x = np.random.default_rng(1).uniform(0, 3, (300, 1))
    y = _standard(2.0 * x[:, 0] - 1.0)
    fitted, edf, log10_lambda = TensorSpline(x).fit(y)
    np.testing.assert_allclose(fitted, y, atol=1e-6)
    assert len(log10_lambda) == 1 and edf >= 2 - 1e-6


def test_spline_recovers_a_smooth_curve_under_noise():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, (1000, 1))
    truth = np.sin(2 * x[:, 0])
    fitted, edf, _ = TensorSpline(x).fit(truth + rng.normal(0, 0.3, 1000))
    # residual noise sd 0.3 over 1,000 samples: the fit is within a few percent of the truth
    assert np.sqrt(np.mean((fitted - truth) ** 2)) < 0.06
    assert 3 < edf < GAM_BASIS_SIZE[1]


def test_spline_basis_shrinks_with_few_samples_and_grows_as_a_tensor_product():
    rng = np.random.default_rng(3)
    assert TensorSpline(rng.normal(size=(50, 1))).sizes == (25,)  # (n / 2)^(1/p) below 30
    assert TensorSpline(rng.normal(size=(2000, 2))).sizes == (GAM_BASIS_SIZE[2],) * 2
    spline = TensorSpline(rng.normal(size=(2000, GAM_MAX_PARAMETERS)))
    assert spline.sizes == (GAM_BASIS_SIZE[GAM_MAX_PARAMETERS],) * GAM_MAX_PARAMETERS
    assert "tensor product" in spline.description and "Strong, Oakley & Brennan 2014" in spline.description


def test_gaussian_process_recovers_a_smooth_surface_on_its_subsets():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(600, 2))
    truth = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2
    y = truth + rng.normal(0, 0.2, 600)
    gp = GaussianProcess(x, max_samples=400, hyper_samples=200, seed=0)
    assert (gp.train.size, gp.hyper.size) == (400, 200)
    assert set(gp.hyper) <= set(gp.train)  # the hyperparameters are estimated on part of the training set
    fitted, length_scales, noise_ratio = gp.fit(_standard(y))
    fitted = fitted * y.std() + y.mean()
    assert np.sqrt(np.mean((fitted - truth) ** 2)) < 0.1
    assert len(length_scales) == 2 and noise_ratio > 0
    assert "on 200 samples" in gp.description and "conditioned on 400 and evaluated at all 600" in gp.description
