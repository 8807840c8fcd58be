"""Maximum-likelihood fitting, calibration to published summaries and PSA draws."""
import numpy as np
import pytest
from scipy import stats

from markov import InputError
from markov.survival import (
    FAMILIES,
    Gompertz,
    MixtureCureModel,
    PatientData,
    PiecewiseExponentialModel,
    Weibull,
    calibrate,
    compare_fits,
    fit,
    fit_families,
    fit_tail,
)
from markov.survival.fitting.likelihood import SplineModel
from markov.uncertainty import LogNormal, MultivariateNormal

# true curves to simulate from, with censoring uniform on (0, 60) months
TRUTH = {
    "exp": {"rate": 0.06},
    "weibull": {"shape": 1.4, "scale": 15.0},
    "weibullPH": {"shape": 0.8, "scale": 0.1},
    "gompertz": {"shape": 0.03, "rate": 0.04},
    "llogis": {"shape": 1.5145, "scale": 18.5865},
    "lnorm": {"meanlog": 1.9445, "sdlog": 1.1894},
    "gamma": {"shape": 1.7, "rate": 0.12},
    "gengamma": {"mu": 2.5, "sigma": 0.8, "Q": 0.6},
}


def simulate(curve, n, seed, censor_max=60.0):
    rng = np.random.default_rng(seed)
    event_times = curve.quantile(rng.uniform(size=n))[0]
    censoring = rng.uniform(0, censor_max, n)
    return PatientData(np.minimum(event_times, censoring), (event_times <= censoring).astype(float), "months")


@pytest.mark.parametrize("family", list(TRUTH))
def test_fit_recovers_known_parameters_within_three_standard_errors(family):
    truth = FAMILIES[family](**TRUTH[family], time_unit="months")
    data = simulate(truth, 4000, seed=11)
    result = fit(family, data)
    assert result.converged
    true_coefficients = np.array([np.log(v) if name.startswith("log(") else v
                                  for name, v in zip(result.coefficient_names, TRUTH[family].values())])
    z = (result.coefficients - true_coefficients) / result.standard_errors
    assert np.all(np.abs(z) < 3), (family, z)
    # the true parameters are inside the reported 95% intervals' neighbourhood: estimates table is consistent
    table = result.estimates()
    assert list(table.index) == list(TRUTH[family])
    assert (table["lower_95%"] < table["estimate"]).all() and (table["estimate"] < table["upper_95%"]).all()


SCIPY_FAMILIES = {
    "exp": (stats.expon, lambda p: {"scale": 1 / p["rate"]}),
    "weibull": (stats.weibull_min, lambda p: {"c": p["shape"], "scale": p["scale"]}),
    "lnorm": (stats.lognorm, lambda p: {"s": p["sdlog"], "scale": np.exp(p["meanlog"])}),
    "llogis": (stats.fisk, lambda p: {"c": p["shape"], "scale": p["scale"]}),
    "gamma": (stats.gamma, lambda p: {"a": p["shape"], "scale": 1 / p["rate"]}),
}


@pytest.mark.verification(
    kind="other software",
    against="scipy.stats maximum likelihood on the same right-censored data",
    tolerance="parameters rel 2e-4; log-likelihood at least scipy's")
@pytest.mark.parametrize("family", list(SCIPY_FAMILIES))
def test_fit_agrees_with_scipy_censored_fit(family):
    data = simulate(FAMILIES[family](**TRUTH[family], time_unit="months"), 1500, seed=3)
    ours = fit(family, data)
    censored = stats.CensoredData(uncensored=data.time[data.event == 1], right=data.time[data.event == 0])
    distribution, to_scipy = SCIPY_FAMILIES[family]
    theirs = distribution.fit(censored, floc=0)
    frozen = distribution(*theirs)
    expected = {key: value for key, value in to_scipy({k: v[0] for k, v in ours.model.parameters(ours.coefficients[None, :]).items()}).items()}
    scipy_values = dict(zip([*(["a"] if family == "gamma" else []), *(["c"] if family in ("weibull", "llogis") else []),
                             *(["s"] if family == "lnorm" else []), "loc", "scale"], theirs))
    for key, value in expected.items():
        assert value == pytest.approx(scipy_values[key], rel=2e-4), key
    # our optimum is at least as good as scipy's
    scipy_log_likelihood = (frozen.logpdf(censored._uncensored).sum() + frozen.logsf(censored._right).sum())
    assert ours.log_likelihood >= scipy_log_likelihood - 1e-8


def test_comparison_table_ranks_by_aic_and_counts_parameters():
    data = simulate(Weibull(1.4, 15.0, time_unit="months"), 800, seed=5)
    fits = fit_families(data)
    table = compare_fits(fits)
    assert table.index[0] in ("weibull", "weibullPH", "gengamma")
    assert table["delta_aic"].iloc[0] == 0 and (np.diff(table["aic"]) >= 0).all()
    assert table.loc["gengamma", "n_parameters"] == 3 and table.loc["exp", "n_parameters"] == 1
    w = fits["weibull"]
    assert w.aic == pytest.approx(-2 * w.log_likelihood + 4)
    assert w.bic == pytest.approx(-2 * w.log_likelihood + 2 * np.log(800))
    # weibull and weibullPH are the same model: same likelihood, same curve
    assert fits["weibullPH"].log_likelihood == pytest.approx(w.log_likelihood, abs=1e-6)
    np.testing.assert_allclose(fits["weibullPH"].curve.median(), w.curve.median(), rtol=1e-5)


@pytest.mark.verification(
    kind="closed form",
    against="the exponential's MLE (events / exposure) and var(log λ) = 1/d",
    tolerance="rel 1e-8 and 1e-5")
def test_covariance_matches_the_exponential_closed_form():
    """For the exponential, var(log λ̂) = 1/d exactly (d events)."""
    data = simulate(Weibull(1.0, 16.0, time_unit="months"), 1000, seed=2)
    result = fit("exp", data)
    assert result.coefficients[0] == pytest.approx(np.log(data.n_events / data.time.sum()), rel=1e-8)
    assert result.covariance[0, 0] == pytest.approx(1 / data.n_events, rel=1e-5)


def test_spline_fit_recovers_a_weibull_and_beats_it_on_a_bathtub_hazard():
    data = simulate(Weibull(1.4, 15.0, time_unit="months"), 3000, seed=8)
    spline = fit(SplineModel(n_internal=1, scale="hazard"), data)
    weibull = fit("weibull", data)
    assert spline.converged and spline.log_likelihood >= weibull.log_likelihood - 1e-6
    np.testing.assert_allclose(spline.curve.survival([6.0, 12.0, 24.0]), weibull.curve.survival([6.0, 12.0, 24.0]),
                               atol=0.02)
    for scale in ("odds", "normal"):
        assert fit(SplineModel(n_internal=2, scale=scale), data).converged


def test_piecewise_exponential_mle_is_events_over_exposure():
    data = simulate(Weibull(1.4, 15.0, time_unit="months"), 1000, seed=9)
    result = fit(PiecewiseExponentialModel([6.0, 12.0]), data)
    edges = [0.0, 6.0, 12.0, np.inf]
    for j in range(3):
        exposure = np.clip(np.minimum(data.time, edges[j + 1]) - edges[j], 0, None).sum()
        events = ((data.time >= edges[j]) & (data.time < edges[j + 1]) & (data.event == 1)).sum()
        assert np.exp(result.coefficients[j]) == pytest.approx(events / exposure, rel=1e-6)


def test_mixture_cure_fit_recovers_the_cure_fraction():
    from markov.survival import MixtureCure
    truth = MixtureCure(0.3, Weibull(1.5, 8.0, time_unit="months"))
    data = simulate(truth, 4000, seed=4, censor_max=80.0)
    result = fit(MixtureCureModel("weibull"), data)
    pi = result.estimates().loc["cure_fraction"]
    assert abs(pi["estimate"] - 0.3) < 3 * pi["se"]


def test_kaplan_meier_with_fitted_tail_uses_left_truncated_data():
    data = simulate(Weibull(1.4, 15.0, time_unit="months"), 3000, seed=6)
    curve, tail = fit_tail("weibull", data, cut_time=12.0)
    assert tail.n_observations == int((data.time > 12).sum())
    # the tail fitted from 12 months on is the same Weibull: estimates within 3 SE
    z = (tail.coefficients - np.log([1.4, 15.0])) / tail.standard_errors
    assert np.all(np.abs(z) < 3)
    assert curve.survival([24.0])[0, 0] == pytest.approx(Weibull(1.4, 15.0, time_unit="months").survival([24.0])[0, 0],
                                                         abs=0.03)


def test_psa_draws_follow_the_fitted_covariance():
    data = simulate(Weibull(1.4, 15.0, time_unit="months"), 1000, seed=7)
    result = fit("weibull", data)
    curves = result.sample(20000, seed=1)
    assert curves.n_samples == 20000
    draws = np.log(np.column_stack([curves.shape, curves.scale]))
    assert np.all(np.abs(draws.mean(axis=0) - result.coefficients) < 4 * result.standard_errors / np.sqrt(20000))
    np.testing.assert_allclose(np.cov(draws.T), result.covariance, rtol=0.05)
    np.testing.assert_array_equal(result.sample(5, seed=1).scale, result.sample(5, seed=1).scale)  # same seed, same draws


def test_hazard_ratio_draws_from_a_reported_confidence_interval():
    # IMbrave150 primary analysis OS HR 0.58 (95% CI 0.42–0.79), Finn et al. NEJM 2020
    hr = LogNormal.from_ci(0.58, 0.42, 0.79)
    assert hr.sdlog == pytest.approx((np.log(0.79) - np.log(0.42)) / (2 * 1.959963984540054), rel=1e-12)
    draws = hr.sample(200_000, seed=3)
    assert np.median(draws) == pytest.approx(0.58, rel=0.01)
    assert np.quantile(draws, [0.025, 0.975]) == pytest.approx([0.58 * np.exp(-1.96 * hr.sdlog),
                                                                0.58 * np.exp(1.96 * hr.sdlog)], rel=0.02)
    for bad, message in (((0.0, 0.42, 0.79), "estimate is 0.0"), ((0.58, 0.62, 0.79), "need lower < estimate"),
                         ((0.58, -0.1, 0.79), "lower is -0.1")):
        with pytest.raises(InputError, match=message):
            LogNormal.from_ci(*bad)


def test_multivariate_normal_transform_of_uniforms():
    mvn = MultivariateNormal([1.0, -2.0], [[0.04, 0.01], [0.01, 0.09]])
    draws = mvn.sample(100_000, seed=2)
    np.testing.assert_allclose(np.cov(draws.T), mvn.covariance, rtol=0.03)
    np.testing.assert_allclose(mvn.transform([[0.5, 0.5]]), [[1.0, -2.0]], atol=1e-15)
    with pytest.raises(InputError, match="positive semi-definite"):
        MultivariateNormal([0, 0], [[1, 2], [2, 1]])


def test_calibration_through_median_and_landmark():
    # a Weibull through median m and S(12) = p, in closed form: k = log(log 2 / −log p) / log(m / 12)
    m, p = 19.2, 0.672
    curve = calibrate("weibull", time_unit="months", median=m, landmarks=[(12, p)])
    k = np.log(np.log(2) / -np.log(p)) / np.log(m / 12)
    assert curve.shape[0] == pytest.approx(k, rel=1e-12)
    assert curve.scale[0] == pytest.approx(m / np.log(2) ** (1 / k), rel=1e-12)
    for family in ("weibullPH", "llogis", "lnorm", "gompertz", "gamma"):
        c = calibrate(family, time_unit="months", median=m, landmarks=[(12, p)])
        np.testing.assert_allclose([c.median()[0], c.survival([12.0])[0, 0]], [m, p], rtol=1e-9)
    exp = calibrate("exp", time_unit="months", median=13.2)
    assert exp.rate[0] == pytest.approx(np.log(2) / 13.2, rel=1e-14)
    # vectorised over PSA draws of the summaries
    many = calibrate("llogis", time_unit="months", median=[10.0, 12.0], landmarks=[(6.0, [0.7, 0.75])])
    np.testing.assert_allclose(many.median(), [10.0, 12.0], rtol=1e-12)
    with pytest.raises(InputError, match="needs exactly 2 targets"):
        calibrate("weibull", time_unit="months", median=m)
    with pytest.raises(InputError, match="survival 1.2 must lie strictly between 0 and 1"):
        calibrate("weibull", time_unit="months", median=m, landmarks=[(12, 1.2)])
    with pytest.raises(InputError, match="survival rising with time"):
        calibrate("weibull", time_unit="months", median=m, landmarks=[(30, 0.8)])


def test_bad_patient_data_is_named():
    with pytest.raises(InputError, match=r"time \[1\] is -2.0: event and censoring times must be positive"):
        PatientData([1.0, -2.0], [1, 0], "months")
    with pytest.raises(InputError, match=r"event \[0\] is 2.0: must be 1 \(event\) or 0 \(censored\)"):
        PatientData([1.0, 2.0], [2, 0], "months")
    with pytest.raises(InputError, match="unknown time unit"):
        PatientData([1.0], [1], "moons")
    with pytest.raises(InputError, match="family is 'weibul': unknown"):
        fit("weibul", PatientData([1.0, 2.0], [1, 0], "months"))


def test_gompertz_fit_handles_a_falling_hazard():
    truth = Gompertz(-0.05, 0.08, time_unit="months")
    data = simulate(truth, 3000, seed=12)
    result = fit("gompertz", data)
    assert result.estimates().loc["shape", "estimate"] < 0


def test_generalized_gamma_through_three_published_points():
    curve = calibrate("gengamma", time_unit="months", median=19.2, landmarks=[(12, 0.672), (36, 0.25)])
    np.testing.assert_allclose([curve.median()[0], *curve.survival([12.0, 36.0])[0]], [19.2, 0.672, 0.25], rtol=1e-9)
    with pytest.raises(InputError, match="targets 0 and 1 are at the same time"):
        calibrate("weibull", time_unit="months", median=12.0, landmarks=[(12.0, 0.4)])
