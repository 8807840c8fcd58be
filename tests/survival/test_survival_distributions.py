"""Each flexsurv family against scipy.stats or its closed form; restricted means against
numerical integration; parameters entered as flexsurv prints them."""
import numpy as np
import pytest
from scipy import integrate, stats

from markov import InputError, TimeGrid
from markov.survival import (
    Exponential,
    Gamma,
    GeneralizedGamma,
    Gompertz,
    LogLogistic,
    LogNormal,
    PiecewiseExponential,
    Weibull,
    WeibullPH,
)
from markov.survival._base import SurvivalCurve

TIMES = np.array([0.05, 0.5, 1.0, 3.0, 6.0, 12.0, 18.5, 24.0, 36.0, 60.0])
PROBABILITIES = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
RTOL = 1e-10

# each family with the scipy.stats distribution of the same curve (flexsurv → scipy mapping)
CASES = {
    "exp": (Exponential(0.08, time_unit="months"), stats.expon(scale=1 / 0.08)),
    "weibull": (Weibull(1.3, 14.0, time_unit="months"), stats.weibull_min(1.3, scale=14.0)),
    "weibull shape<1": (Weibull(0.7, 20.0, time_unit="months"), stats.weibull_min(0.7, scale=20.0)),
    "weibullPH": (WeibullPH(0.9, 0.05, time_unit="months"), stats.weibull_min(0.9, scale=0.05 ** (-1 / 0.9))),
    "gompertz": (Gompertz(0.04, 0.03, time_unit="months"), stats.gompertz(0.03 / 0.04, scale=1 / 0.04)),
    "llogis": (LogLogistic(1.5145, 18.5865, time_unit="months"), stats.fisk(1.5145, scale=18.5865)),
    "lnorm": (LogNormal(1.9445, 1.1894, time_unit="months"), stats.lognorm(1.1894, scale=np.exp(1.9445))),
    "gamma": (Gamma(1.7, 0.12, time_unit="months"), stats.gamma(1.7, scale=1 / 0.12)),
    "gengamma Q>0": (GeneralizedGamma(2.5, 0.8, 0.6, time_unit="months"),
                     stats.gengamma(0.6**-2, 0.6 / 0.8, scale=np.exp(2.5) * (0.6**-2) ** (-0.8 / 0.6))),
    "gengamma Q<0": (GeneralizedGamma(2.5, 0.8, -0.6, time_unit="months"),
                     stats.gengamma(0.6**-2, -0.6 / 0.8, scale=np.exp(2.5) * (0.6**-2) ** (0.8 / 0.6))),
    "gengamma Q=0": (GeneralizedGamma(2.5, 0.8, 0.0, time_unit="months"), stats.lognorm(0.8, scale=np.exp(2.5))),
}


@pytest.mark.verification(
    kind="other software",
    against="scipy.stats: survival, density, hazard, cumulative hazard, quantiles and median of each flexsurv "
            "family",
    tolerance="rtol 1e-10")
@pytest.mark.parametrize("name", CASES)
def test_family_matches_scipy(name):
    curve, reference = CASES[name]
    np.testing.assert_allclose(curve.survival(TIMES)[0], reference.sf(TIMES), rtol=RTOL)
    np.testing.assert_allclose(curve.density(TIMES)[0], reference.pdf(TIMES), rtol=RTOL)
    np.testing.assert_allclose(curve.hazard(TIMES)[0], reference.pdf(TIMES) / reference.sf(TIMES), rtol=RTOL)
    np.testing.assert_allclose(curve.cumulative_hazard(TIMES)[0], -reference.logsf(TIMES), rtol=RTOL)
    np.testing.assert_allclose(curve.quantile(PROBABILITIES)[0], reference.ppf(PROBABILITIES), rtol=RTOL)
    np.testing.assert_allclose(curve.median(), reference.median(), rtol=RTOL)


@pytest.mark.verification(
    kind="other software",
    against="scipy.integrate.quad of the scipy.stats survival function",
    tolerance="rtol 1e-8")
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("tau", [6.0, 36.0, 240.0])
def test_restricted_mean_matches_quadrature(name, tau):
    curve, reference = CASES[name]
    expected, _ = integrate.quad(reference.sf, 0, tau, epsabs=1e-13, epsrel=1e-13, limit=500)
    np.testing.assert_allclose(curve.restricted_mean(tau), expected, rtol=1e-8)
    # the generic numerical routines agree with each family's closed forms
    np.testing.assert_allclose(SurvivalCurve._restricted_mean(curve, tau), expected, rtol=1e-8)
    np.testing.assert_allclose(SurvivalCurve._quantile(curve, PROBABILITIES)[0], reference.ppf(PROBABILITIES), rtol=RTOL)


@pytest.mark.verification(
    kind="closed form",
    against="flexsurv's identities: generalised gamma with Q = 1 is the Weibull, with Q = σ the gamma",
    tolerance="rtol 1e-10")
def test_gengamma_special_cases_match_flexsurv_identities():
    """Prentice's gengamma: Q = 1 is the Weibull (shape 1/σ, scale e^μ), Q = σ the gamma
    (shape σ⁻², rate e^{−μ}σ⁻²) — as flexsurv documents."""
    mu, sigma = 2.2, 0.7
    np.testing.assert_allclose(GeneralizedGamma(mu, sigma, 1.0, time_unit="months").survival(TIMES),
                               Weibull(1 / sigma, np.exp(mu), time_unit="months").survival(TIMES), rtol=RTOL)
    np.testing.assert_allclose(GeneralizedGamma(mu, sigma, sigma, time_unit="months").survival(TIMES),
                               Gamma(sigma**-2, np.exp(-mu) * sigma**-2, time_unit="months").survival(TIMES), rtol=RTOL)


def test_gompertz_with_negative_shape_has_a_plateau():
    curve = Gompertz(-0.1, 0.05, time_unit="months")
    plateau = np.exp(0.05 / -0.1)
    np.testing.assert_allclose(curve.survival([1e4])[0, 0], plateau, rtol=1e-12)
    quantiles = curve.quantile([0.2, 0.5])[0]
    assert np.isfinite(quantiles[0]) and quantiles[1] == np.inf  # 1 − plateau = 0.39 < 0.5
    np.testing.assert_allclose(curve.survival([quantiles[0]])[0, 0], 0.8, rtol=1e-12)


@pytest.mark.verification(
    kind="closed form",
    against="medians of log-logistic and log-normal parameters as flexsurv prints them (Su 2021, Table 1)",
    tolerance="rel 1e-12")
def test_published_parameters_entered_as_printed():
    """flexsurv prints llogis (shape, scale) and lnorm (meanlog, sdlog); the medians follow."""
    llogis = LogLogistic(shape=1.5145, scale=18.5865, time_unit="months")
    lnorm = LogNormal(meanlog=1.9445, sdlog=1.1894, time_unit="months")
    assert llogis.median()[0] == pytest.approx(18.5865, rel=1e-12)  # the scale is the median
    assert lnorm.median()[0] == pytest.approx(np.exp(1.9445), rel=1e-12)  # 6.990 months
    assert llogis.survival([18.5865])[0, 0] == pytest.approx(0.5, rel=1e-12)


def test_piecewise_exponential_closed_forms():
    rates = np.array([[0.10, 0.05, 0.20], [0.20, 0.0, 0.30]])
    cuts = [6.0, 12.0]
    curve = PiecewiseExponential(rates, cuts, time_unit="months")
    t = np.array([0, 3, 6, 9, 12, 20])
    expected_h = np.array([[0, 0.3, 0.6, 0.75, 0.9, 2.5], [0, 0.6, 1.2, 1.2, 1.2, 3.6]])
    np.testing.assert_allclose(curve.cumulative_hazard(t), expected_h, rtol=1e-14)
    np.testing.assert_allclose(curve.hazard([1, 7, 13]), rates, rtol=1e-14)
    # median of sample 0: H = log 2 = 0.6931 in the third interval: 12 + (0.6931 − 0.9)/… no —
    # H(12) = 0.9 > log 2 and H(6) = 0.6 < log 2, so 6 + (log 2 − 0.6)/0.05
    assert curve.median()[0] == pytest.approx(6 + (np.log(2) - 0.6) / 0.05, rel=1e-14)
    for i in range(2):
        expected, _ = integrate.quad(lambda x: curve.survival([x])[i, 0], 0, 30, points=cuts, epsabs=1e-13)
        assert curve.restricted_mean(30)[i] == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(curve.quantile(PROBABILITIES), SurvivalCurve._quantile(curve, PROBABILITIES), rtol=1e-10)


def test_vectorised_samples_equal_single_samples():
    shapes, scales = np.array([0.8, 1.2, 2.0]), np.array([5.0, 10.0, 30.0])
    many = Weibull(shapes, scales, time_unit="months")
    for i in range(3):
        one = Weibull(shapes[i], scales[i], time_unit="months")
        np.testing.assert_array_equal(many.survival(TIMES)[i], one.survival(TIMES)[0])
        assert many.restricted_mean(24)[i] == one.restricted_mean(24)[0]
    assert many.survival(TIMES).shape == (3, TIMES.size)
    assert many.quantile(PROBABILITIES).shape == (3, PROBABILITIES.size)


def test_grid_evaluation_converts_years_to_the_curve_unit():
    grid = TimeGrid(7 / 365.25, 1044)
    months = Weibull(1.3, 14.0, time_unit="months")
    weeks = Weibull(1.3, 14.0 * (365.25 / 12) / 7, time_unit="weeks")
    on_grid = months.survival_on_grid(grid)
    assert on_grid.shape == (1, 1045) and on_grid.flags.c_contiguous and on_grid[0, 0] == 1.0
    np.testing.assert_allclose(on_grid, weeks.survival_on_grid(grid), rtol=1e-12)
    np.testing.assert_allclose(on_grid[0], months.survival(grid.times_years * 12)[0], rtol=1e-13)


@pytest.mark.parametrize("make, message", [
    (lambda: Weibull(1.2, -3.0, time_unit="months"), r"Weibull scale \[sample 0\] is -3.0: must be a positive number"),
    (lambda: LogNormal(1.9, [1.0, 0.0], time_unit="months"), r"LogNormal sdlog \[sample 1\] is 0.0: must be a positive"),
    (lambda: Gamma(1.0, 1.0, time_unit="fortnights"), r"time_unit is 'fortnights': unknown time unit"),
    (lambda: Weibull(1.2, time_unit="months"), r"missing parameter\(s\) scale"),
    (lambda: Weibull(1.2, 3, rate=2, time_unit="months"), r"unknown parameter 'rate'"),
    (lambda: Weibull([1.2, 1.3], [3, 4, 5], time_unit="months"), r"one value or one per sample"),
    (lambda: Exponential(np.nan, time_unit="months"), r"Exponential rate is nan: every value must be a finite number"),
    (lambda: PiecewiseExponential([0.1, 0.2], [0.0], time_unit="months"), r"cut_points \[0\] is 0.0"),
    (lambda: PiecewiseExponential([0.1, 0.2, 0.3], [5.0, 4.0], time_unit="months"), r"strictly increasing"),
    (lambda: Weibull(1, 1, time_unit="months").survival([-1.0]), r"t \[0\] is -1.0: times must be non-negative"),
    (lambda: Weibull(1, 1, time_unit="months").quantile([1.5]), r"p \[0\] is 1.5: must lie in \[0, 1\]"),
    (lambda: Weibull(1, 1, time_unit="months").restricted_mean(0), r"tau is 0.0"),
])
def test_bad_parameters_are_named(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_gengamma_samples_with_both_signs_of_q():
    """Per-sample Q of either sign (PSA draws around Q ≈ 0) in one call."""
    mixed = GeneralizedGamma([2.5, 2.5, 2.5], [0.8, 0.8, 0.8], [0.6, -0.6, 0.0], time_unit="months")
    for i, name in enumerate(("gengamma Q>0", "gengamma Q<0", "gengamma Q=0")):
        curve, reference = CASES[name]
        np.testing.assert_allclose(mixed.survival(TIMES)[i], reference.sf(TIMES), rtol=RTOL)
        np.testing.assert_allclose(mixed.density(TIMES)[i], reference.pdf(TIMES), rtol=RTOL)
        np.testing.assert_allclose(mixed.quantile(PROBABILITIES)[i], reference.ppf(PROBABILITIES), rtol=RTOL)
