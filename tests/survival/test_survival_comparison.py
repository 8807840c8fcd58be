"""The TSD 14 comparison of candidate models (markov/survival/fitting/comparison.py), checked
against calculations made here: log-likelihoods, AIC and BIC from scipy's distributions at
the fitted parameters, restricted means by quadrature, and a candidate that cannot be fitted
or used reported as a row that says why."""
import numpy as np
import pytest
from scipy import integrate, stats

from markov import InputError
from markov.survival import (
    LogNormal,
    ParametricModel,
    PatientData,
    PiecewiseExponentialModel,
    candidate_models,
    compare_models,
    fit,
    model_label,
)

HORIZON_YEARS = 20.0


@pytest.fixture(scope="module")
def data():
    """Log-normal event times (months), censored uniformly over 3 to 30 months."""
    rng = np.random.default_rng(3)
    true = LogNormal(meanlog=2.6, sdlog=1.1, time_unit="months").quantile(rng.uniform(size=400))[0]
    censoring = rng.uniform(3, 30, 400)
    return PatientData(np.minimum(true, censoring), (true <= censoring).astype(float), "months")


@pytest.fixture(scope="module")
def comparison(data):
    return compare_models(data)


def test_the_candidates_are_every_flexsurv_family_and_hazard_splines_with_one_to_three_knots(comparison):
    assert [c.name for c in comparison.candidates] == [
        "exp", "weibull", "weibullPH", "gompertz", "llogis", "lnorm", "gamma", "gengamma",
        "spline_hazard_1knot", "spline_hazard_2knot", "spline_hazard_3knot"]
    assert [m.name for m in candidate_models()] == [c.name for c in comparison.candidates]
    assert [model_label(c.name) for c in comparison.candidates][-3:] == [
        "Spline (hazard, 1 knot)", "Spline (hazard, 2 knots)", "Spline (hazard, 3 knots)"]
    assert model_label("cure_weibull") == "Mixture cure (Weibull (AFT))" and model_label("lnorm") == "Log-normal"


def test_information_criteria_are_those_of_the_log_likelihood_scipy_gives(data, comparison):
    table = comparison.table(HORIZON_YEARS).set_index("model")
    n, k = len(data.time), table["n_parameters"]
    # every candidate: the same numbers as markov.survival.fit on the same data
    for name in ("exp", "lnorm", "gengamma", "spline_hazard_2knot"):
        result = fit(comparison[name].model, data)
        assert table.loc[name, "log_likelihood"] == pytest.approx(result.log_likelihood, rel=1e-12)
        assert table.loc[name, "aic"] == pytest.approx(result.aic, rel=1e-12)
        assert table.loc[name, "bic"] == pytest.approx(result.bic, rel=1e-12)
    # and the log-normal's log-likelihood is scipy's at the fitted parameters (to 1e-10)
    estimates = comparison["lnorm"].fit.estimates()["estimate"]
    scipy = stats.lognorm(s=estimates["sdlog"], scale=np.exp(estimates["meanlog"]))
    log_likelihood = np.sum(np.where(data.event == 1, scipy.logpdf(data.time), scipy.logsf(data.time)))
    assert table.loc["lnorm", "log_likelihood"] == pytest.approx(log_likelihood, rel=1e-10)
    np.testing.assert_allclose(table["aic"], -2 * table["log_likelihood"] + 2 * k, rtol=1e-14)
    np.testing.assert_allclose(table["bic"], -2 * table["log_likelihood"] + k * np.log(n), rtol=1e-14)
    np.testing.assert_allclose(table["delta_aic"], table["aic"] - table["aic"].min(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(table["delta_bic"], table["bic"] - table["bic"].min(), rtol=0, atol=1e-9)
    # the data are log-normal: it is among the best by AIC, and the exponential is not
    assert table.loc["lnorm", "delta_aic"] < 4 < table.loc["exp", "delta_aic"]


def test_extrapolated_summaries_are_the_curves_own(comparison):
    table = comparison.table(HORIZON_YEARS, landmark_years=(1, 2, 5)).set_index("model")
    estimates = comparison["lnorm"].fit.estimates()["estimate"]
    scipy = stats.lognorm(s=estimates["sdlog"], scale=np.exp(estimates["meanlog"]))  # in months
    row = table.loc["lnorm"]
    np.testing.assert_allclose(row[["survival_1y", "survival_2y", "survival_5y"]].to_numpy(float),
                               scipy.sf([12, 24, 60]), rtol=1e-10)
    assert row["median_months"] == pytest.approx(scipy.median(), rel=1e-10)
    rmst_months = integrate.quad(scipy.sf, 0, 12 * HORIZON_YEARS, limit=200, epsabs=1e-12)[0]
    assert row["restricted_mean_years"] == pytest.approx(rmst_months / 12, rel=1e-8)
    for name, candidate in zip(table.index, comparison.candidates, strict=True):
        curve = candidate.fit.curve
        assert table.loc[name, "survival_5y"] == pytest.approx(curve.survival([60.0])[0, 0], rel=1e-12)
    assert (table["converged"]).all() and (table["problem"] == "").all()


class _Unfittable(ParametricModel):
    """A Weibull whose optimiser cannot start: the log-likelihood is not finite there."""

    def __init__(self) -> None:
        super().__init__("weibull")
        self.name = "unfittable"

    def initial_coefficients(self, data):
        return np.array([np.inf, 0.0])


def test_a_candidate_that_cannot_be_fitted_or_used_is_a_row_that_says_why(data):
    late_cut = PiecewiseExponentialModel([100.0])  # no one is followed beyond 100 months
    comparison = compare_models(data, ["weibull", _Unfittable(), late_cut])
    table = comparison.table(HORIZON_YEARS).set_index("model")
    assert list(table.index) == ["weibull", "unfittable", "piecewise_exponential"]
    assert comparison["unfittable"].fit is None
    assert table.loc["unfittable", "problem"] == \
        "it could not be fitted (Weibull shape[0] is inf: every value must be a finite number)"
    assert np.isnan(table.loc["unfittable", ["log_likelihood", "aic", "bic", "delta_aic"]].to_numpy(float)).all()
    assert table.loc["unfittable", "n_parameters"] == 2
    # fitted, but nothing determines its rate after 100 months (a flat direction, so no
    # covariance and no convergence): shown, not compared
    assert table.loc["piecewise_exponential", "problem"].startswith("it did not converge")
    assert np.isfinite(table.loc["piecewise_exponential", "aic"])
    assert np.isnan(table.loc["piecewise_exponential", "delta_aic"])
    assert table.loc["weibull", ["delta_aic", "delta_bic"]].tolist() == [0.0, 0.0]
    assert list(comparison.usable()) == ["weibull"]


def test_each_candidate_is_named_once(data):
    with pytest.raises(InputError, match="'weibull' is named more than once"):
        compare_models(data, ["weibull", "exp", "weibull"])
    with pytest.raises(InputError, match="model 'nope': not a candidate of this comparison"):
        compare_models(data, ["exp"])["nope"]
