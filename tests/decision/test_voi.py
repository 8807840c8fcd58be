"""Value of information against hand-worked values, closed forms and the properties EVPI and EVPPI must have.

Tolerances are stated at each assertion. Where an estimate carries Monte-Carlo error
the tolerance is a multiple of its standard error (worked out in the test, or measured
over several seeds and quoted), and every sample is seeded, so the tests are deterministic.
"""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from markov import InputError
from markov.decision.cea import net_benefit
from markov.decision.voi import (
    EVPPI_TIME_BUDGET,
    MIN_EVPPI_SAMPLES,
    EVPPIResult,
    evpi,
    evpi_curve,
    evppi,
    evppi_sample_size,
    evppi_seconds,
    evppi_table,
    population_evpi,
)


def normal_loss(mean: float, sd: float) -> float:
    """E[max(0, V)] - max(0, E[V]) for V ~ Normal(mean, sd): the unit normal loss integral."""
    return sd * norm.pdf(mean / sd) - abs(mean) * norm.cdf(-abs(mean) / sd)


def plug_in(g: np.ndarray) -> float:
    """EVPPI of two strategies from conditional INB values g (the other strategy's INB is 0)."""
    return float(np.mean(np.maximum(g, 0.0)) - max(np.mean(g), 0.0))


def least_squares(columns, y):
    design = np.column_stack(columns)
    return design @ np.linalg.lstsq(design, y, rcond=None)[0]


def two_strategies(incremental):
    return np.column_stack([np.zeros_like(incremental), incremental])


# --- EVPI -----------------------------------------------------------------------------

@pytest.mark.verification(
    kind="closed form",
    against="EVPI is zero when one strategy wins in every sample",
    tolerance="exact")
def test_evpi_is_zero_when_one_strategy_wins_every_sample():
    rng = np.random.default_rng(1)
    nb = rng.normal(1e5, 2e4, size=(1000, 3))
    nb[:, 1] = nb.max(axis=1) + rng.uniform(0.0, 10.0, size=1000)
    # exactly 0: the regret of the strategy best on average is 0 in every sample
    assert evpi(nb) == 0.0
    stacked = np.stack([nb, nb + 7.0])
    np.testing.assert_array_equal(evpi(stacked), [0.0, 0.0])


def test_evpi_by_hand():
    nb = np.array([
        [10.0, 12.0, 9.0],
        [14.0, 11.0, 13.0],
        [8.0, 10.0, 12.0],
        [12.0, 9.0, 8.0],
    ])
    # means 44/4 = 11, 42/4 = 10.5, 42/4 = 10.5: strategy 0 is chosen without information;
    # best per sample 12, 14, 12, 12, mean 50/4 = 12.5; EVPI = 12.5 - 11 = 1.5
    # (regrets against strategy 0: 2, 0, 4, 0, mean 1.5). All exact in binary.
    assert evpi(nb) == 1.5
    assert evpi(nb, wtp=20_000.0) == 1.5  # a wtp is only checked
    # a 3-D input gives one value per slice; doubling net benefit doubles EVPI
    np.testing.assert_array_equal(evpi(np.stack([nb, 2 * nb]), wtp=[0.0, 1.0]), [1.5, 3.0])


@pytest.mark.verification(
    kind="closed form",
    against="the normal loss integral of a normal incremental net benefit",
    tolerance="4 Monte-Carlo standard errors")
@pytest.mark.parametrize("mean, sd", [(0.5, 2.0), (-1.0, 1.0), (3.0, 2.5)])
def test_evpi_matches_the_normal_loss_integral(mean, sd):
    rng = np.random.default_rng(7)
    n = 200_000
    incremental = rng.normal(mean, sd, size=n)
    nb = two_strategies(incremental)
    # the estimate is the mean of per-sample regrets; 4 of their standard errors
    regret = np.maximum(incremental, 0.0) - (incremental if incremental.mean() > 0 else 0.0)
    se = regret.std() / np.sqrt(n)
    assert abs(evpi(nb) - normal_loss(mean, sd)) < 4 * se


def test_evpi_curve_is_evpi_of_net_monetary_benefit_at_each_wtp():
    rng = np.random.default_rng(3)
    costs = rng.normal([1000.0, 3000.0, 4000.0], 300.0, size=(500, 3))
    effects = rng.normal([1.0, 1.1, 1.15], 0.05, size=(500, 3))
    wtp = np.array([0.0, 10_000.0, 20_000.0, 30_000.0, 100_000.0])
    table = evpi_curve(costs, effects, wtp)
    assert list(table.columns) == ["wtp", "evpi"]
    np.testing.assert_array_equal(table["wtp"], wtp)
    # the same numbers as EVPI of the NMB slices (same arithmetic, so to rounding)
    expected = evpi(net_benefit(costs, effects, wtp))
    np.testing.assert_allclose(table["evpi"], expected, rtol=1e-12, atol=0.0)
    assert (table["evpi"] >= 0).all()


def test_evpi_curve_equals_evpi_of_the_net_benefits_over_many_samples_and_at_ties():
    # more samples than one block of the compiled sum, and two strategies equal in every
    # sample (a tie in expected net benefit: either choice gives the same EVPI)
    rng = np.random.default_rng(8)
    costs = rng.normal([1000.0, 3000.0, 3000.0, 4000.0], 300.0, size=(5000, 4))
    effects = rng.normal([1.0, 1.1, 1.1, 1.15], 0.05, size=(5000, 4))
    costs[:, 2], effects[:, 2] = costs[:, 1], effects[:, 1]
    wtp = np.linspace(0.0, 60_000.0, 25)
    expected = evpi(net_benefit(costs, effects, wtp))
    # rounding: a few units in the last place of the largest net benefit, relative to it
    scale = np.abs(net_benefit(costs, effects, wtp)).max()
    np.testing.assert_allclose(evpi_curve(costs, effects, wtp)["evpi"], expected, rtol=1e-12, atol=1e-13 * scale)
    # a strategy best in every sample: EVPI exactly 0
    dominant = evpi_curve(costs - np.array([0.0, 0.0, 0.0, 1e6]), effects + np.array([0.0, 0.0, 0.0, 10.0]), wtp)
    np.testing.assert_array_equal(dominant["evpi"], 0.0)


def test_population_evpi_discounts_each_year_and_counts_a_part_year_pro_rata():
    per_patient, population, rate = 10.0, 1000.0, 0.035
    # whole years: cohorts of years 0, 1, 2 discounted by 1, 1/1.035, 1/1.035²
    years3 = 1 + 1 / 1.035 + 1 / 1.035 ** 2
    assert population_evpi(per_patient, population, 3, rate) == pytest.approx(10_000 * years3, rel=1e-14)
    # 2.5 years: two whole years and half of year 2's cohort, discounted as year 2
    years25 = 1 + 1 / 1.035 + 0.5 / 1.035 ** 2
    assert population_evpi(per_patient, population, 2.5, rate) == pytest.approx(10_000 * years25, rel=1e-14)
    # undiscounted: per patient × patients a year × years
    assert population_evpi(per_patient, population, 7.25, 0.0) == pytest.approx(10 * 1000 * 7.25, rel=1e-14)
    # per-wtp arrays scale element by element
    np.testing.assert_allclose(population_evpi(np.array([0.0, 1.0, 2.5]), 100.0, 1.0, rate), [0.0, 100.0, 250.0])


# --- EVPPI ----------------------------------------------------------------------------

def test_evppi_of_an_irrelevant_parameter_is_near_zero():
    rng = np.random.default_rng(5)
    n = 20_000
    incremental = rng.normal(0.0, 1.0, size=n)  # mean 0: the decision is closest to a toss-up
    irrelevant = rng.gamma(3.0, size=n)
    nb = two_strategies(incremental)
    result = evppi(nb, irrelevant)
    # The GAM fits noise: with GCV shrinking towards a line, the fitted slope has SE
    # sd(INB)/√n and the spurious EVPPI is about |slope error|·E|Z - Z̄|, i.e. about
    # 2/√n ≈ 1.4% of EVPI (0.4·sd) per standard error of the slope; 3% is 2 such SEs
    # (over 30 seeds the ratio had median 0.3% and maximum 2.2%).
    assert 0.0 <= result.evppi <= 0.03 * evpi(nb)


def test_evppi_of_the_only_uncertain_parameter_is_evpi():
    rng = np.random.default_rng(11)
    n = 5000
    x = rng.normal(size=n)
    nb = np.column_stack([np.zeros(n), np.sin(2 * x) + 0.2 * x - 0.5, 0.3 - 0.1 * x ** 2 + 0.2 * x])
    result = evppi(nb, x)
    assert result.method == "gam"
    # no noise, so only the spline's approximation and smoothing error remains
    # (0.15-0.5% below EVPI over five seeds): 2%
    assert result.evppi == pytest.approx(evpi(nb), rel=0.02)
    assert min(r for r in result.r_squared if not np.isnan(r)) > 0.999


def test_evppi_of_groups():
    rng = np.random.default_rng(2)
    n = 3000
    x = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    incremental = x.a + 0.8 * x.b + 0.5 * x.a * x.b + 0.3 * np.sin(x.c) - 0.6
    nb = np.column_stack([np.zeros(n), incremental, 0.5 * incremental + 0.3 * x.c])
    total = evpi(nb)
    table = evppi_table(nb, x, {"ab": ["a", "b"], "all": ["a", "b", "c"]}).set_index("parameter")
    # every uncertain input together: the tensor-product GAM reproduces the (noise-free)
    # net benefit, so EVPPI equals EVPI up to fitting error (within 4e-5 over five seeds): 0.1%
    assert table.loc["all", "evppi"] == pytest.approx(total, rel=1e-3)
    # no regression estimate exceeds EVPI by more than that fitting error
    assert (table["evppi"] <= total * (1 + 1e-3)).all()
    # learning more is worth at least as much: a group is worth no less than a member
    # (allowing 1% of EVPI for estimation error; here the margins are 20% and more)
    assert table.loc["ab", "evppi"] >= max(table.loc["a", "evppi"], table.loc["b", "evppi"]) - 0.01 * total
    assert table.loc["all", "evppi"] >= table.loc["ab", "evppi"] - 0.01 * total
    assert (table["method"] == "gam").all()
    assert table.loc["ab", "members"] == "a, b"


def test_evppi_of_four_parameters_together_by_tensor_product():
    rng = np.random.default_rng(13)
    n = 1200  # (n/2)^(1/4) < 5, so 4 basis functions (a cubic) per parameter: 256 in all
    x = rng.normal(size=(n, 4))
    incremental = x[:, 0] + 0.8 * x[:, 1] + 0.5 * x[:, 0] * x[:, 1] + 0.1 * x[:, 2] ** 3 + 0.4 * x[:, 3] ** 2 - 0.7
    nb = np.column_stack([np.zeros(n), incremental, 0.5 * incremental + 0.3 * x[:, 2]])
    result = evppi(nb, x)
    assert result.method == "gam" and "4 × 4 × 4 × 4" in result.description
    # every input, and the net benefit lies in the span of the basis: EVPPI = EVPI up to
    # the smoothing (within 3e-7 over six seeds): 0.1%
    assert result.evppi == pytest.approx(evpi(nb), rel=1e-3)


@pytest.mark.verification(
    kind="closed form",
    against="the normal loss integral of E(INB given X) in a linear model",
    tolerance="4 Monte-Carlo standard errors; 0.01 of least squares on the true form")
def test_evppi_of_a_linear_model_matches_the_normal_loss_integral():
    # INB = a + bX + cY, X and Y independent: E[INB | X] = a + bX ~ Normal(a, |b|·sd(X))
    a, b, c, sd_x = 0.3, 1.0, 1.5, 1.0
    rng = np.random.default_rng(4)
    n = 20_000
    x, y = rng.normal(0.0, sd_x, size=n), rng.normal(size=n)
    nb = two_strategies(a + b * x + c * y)
    exact = normal_loss(a, abs(b) * sd_x)
    result = evppi(nb, x, method="gam")
    # Monte-Carlo error, conservatively as a sum of standard errors: sampling X
    # (sd of the true regrets / √n), the fitted slope (SE c/√n, times ∂EVPPI/∂sd = φ ≤ 0.4)
    # and the fitted intercept (SE c/√n, times ∂EVPPI/∂a = Φ(-a/sd) ≤ 1); 4 of them
    true_regret = np.maximum(-(a + b * x), 0.0)
    se = true_regret.std() / np.sqrt(n) + 0.4 * c / np.sqrt(n) + c / np.sqrt(n)
    assert abs(result.evppi - exact) < 4 * se
    # against least squares on the true (linear) form on the same sample, which shares
    # that Monte-Carlo error: within 0.01 (max 0.005 over 30 seeds; GCV sometimes keeps a
    # little curvature)
    assert abs(result.evppi - plug_in(least_squares([np.ones(n), x], nb[:, 1]))) < 0.01


def test_gp_evppi_of_a_linear_model_matches_the_normal_loss_integral():
    a, b, c = 0.3, 1.0, 0.2
    rng = np.random.default_rng(8)
    n, inducing = 2500, 100  # small GP subsets keep the test fast; every sample informs the mean
    x, y = rng.normal(size=n), rng.normal(size=n)
    nb = two_strategies(a + b * x + c * y)
    result = evppi(nb, pd.Series(x, name="x"), method="gp", gp_inducing_points=inducing, gp_hyper_samples=100)
    assert result.method == "gp" and result.parameters == ("x",)
    assert "Strong, Oakley & Brennan 2014" in result.description
    # as in the GAM test: sampling X, and the fitted line's slope and intercept (SE c/√n)
    true_regret = np.maximum(-(a + b * x), 0.0)
    se = true_regret.std() / np.sqrt(n) + 1.4 * c / np.sqrt(n)
    assert abs(result.evppi - normal_loss(a, b)) < 4 * se
    # the GP's linear mean with long length-scales is nearly least squares on all samples:
    # within 0.01 (the error against the closed form is 0.3 se here)
    assert abs(result.evppi - plug_in(least_squares([np.ones(n), x], nb[:, 1]))) < 0.01


def test_gam_captures_a_nonlinear_conditional_expectation():
    # INB = X² - k + Y with X, Y standard normal: E[INB | X] = X² - k, so
    # EVPPI(X) = E[(X² - k)⁺] - max(0, 1 - k) = 2[√k φ(√k) + (1 - k)(1 - Φ(√k))] for k ≥ 1
    k = 1.5
    exact = 2 * (np.sqrt(k) * norm.pdf(np.sqrt(k)) + (1 - k) * norm.sf(np.sqrt(k)))
    rng = np.random.default_rng(6)
    n = 10_000
    x, y = rng.normal(size=n), rng.normal(size=n)
    nb = two_strategies(x ** 2 - k + y)
    result = evppi(nb, x)
    # the estimate's sd over 30 seeds was 0.0069 (largest error 0.015): 4 sd
    assert abs(result.evppi - exact) < 4 * 0.0069
    # least squares on the true form (1, X, X²) on the same sample: within 0.01 (max 0.003 seen)
    assert abs(result.evppi - plug_in(least_squares([np.ones(n), x, x ** 2], nb[:, 1]))) < 0.01
    # a straight line would miss it entirely (X and X² are uncorrelated)
    assert plug_in(least_squares([np.ones(n), x], nb[:, 1])) < 0.1 * exact
    assert result.r_squared[1] == pytest.approx(2 / 3, abs=0.02)  # var(X²) = 2 of var(INB) = 3


def test_result_fields_and_invariances():
    rng = np.random.default_rng(9)
    n = 400
    x = rng.normal(size=(n, 2))
    nb = pd.DataFrame({"old": np.zeros(n), "new": x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=n) - 0.2,
                       "other": 0.5 * x[:, 0] - 0.4})
    result = evppi(nb, x)
    assert isinstance(result, EVPPIResult)
    assert result.method == "gam" and result.parameters == ("x0", "x1") and result.constant == ()
    assert result.strategies == ("old", "new", "other") and result.reference == 0
    assert result.n_samples == n and result.fitted.shape == (n, 3)
    np.testing.assert_array_equal(result.fitted[:, 0], 0.0)
    assert np.isnan(result.r_squared[0]) and np.isnan(result.edf[0])
    assert list(result.diagnostics["strategy"]) == ["new", "other"]
    # the smoothing parameters are the same whatever order the strategies come in, and
    # adding a constant to every net benefit changes nothing (to rounding: 1e-9 relative)
    shuffled = evppi(nb[["other", "new", "old"]] + 1e4, x)
    assert shuffled.evppi == pytest.approx(result.evppi, rel=1e-9)
    assert 0 <= result.evppi <= evpi(nb.to_numpy()) * (1 + 1e-3)


def test_auto_uses_the_gp_for_more_than_four_parameters():
    rng = np.random.default_rng(10)
    n = 300
    x = rng.normal(size=(n, 5))
    nb = two_strategies(x @ np.array([1.0, 0.5, 0.0, 0.0, 0.2]) + 0.3 * rng.normal(size=n))
    result = evppi(nb, x, gp_inducing_points=300, gp_hyper_samples=100)
    assert result.method == "gp" and len(result.diagnostics["length_scales"][0]) == 5
    # nearly every uncertain input: close to EVPI (noise 0.3 of 1.15 in sd; 0.957-1.000 of
    # EVPI over 12 seeds), never above it by more than fitting error
    assert 0.8 * evpi(nb) < result.evppi < evpi(nb) * 1.02


def test_values_fixed_by_the_others_are_learnt_without_them():
    """Counts drawn from a Dirichlet keep their total: any one is known from the others.
    A group holding all of them is regressed on an independent subset (with all of them
    the design is singular); the net benefit depends on the counts alone, so the EVPPI
    of the group is EVPI up to fitting error (GAM: 0.1%; GP, five independent counts: 2%)."""
    rng = np.random.default_rng(14)
    for k, n, tolerance in ((3, 600, 1e-3), (6, 300, 2e-2)):
        counts = pd.DataFrame(rng.dirichlet(np.arange(10.0, 10.0 * (k + 1), 10.0), size=n) * 100,
                              columns=[f"c{j}" for j in range(k)])
        nb = two_strategies(counts["c0"] - 0.5 * counts["c1"] - 5.0)
        table = evppi_table(nb, counts, {"row": list(counts.columns)}).set_index("parameter")
        assert table.loc["row", "method"] == ("gam" if k == 3 else "gp")
        assert table.loc["row", "evppi"] == pytest.approx(evpi(nb), rel=tolerance)


def test_constant_parameters_are_worth_nothing():
    rng = np.random.default_rng(12)
    n = 200
    x = pd.DataFrame({"fixed": np.full(n, 3.0), "varies": rng.normal(size=n)})
    nb = two_strategies(x.varies + 0.2 * rng.normal(size=n))
    alone = evppi(nb, x[["fixed"]])
    assert alone.evppi == 0.0 and alone.method == "constant" and alone.constant == ("fixed",)
    together = evppi(nb, x)
    assert together.method == "gam" and together.constant == ("fixed",)
    assert together.evppi == pytest.approx(evppi(nb, x.varies).evppi, rel=1e-12)
    table = evppi_table(nb, x, {"both": ["fixed", "varies"]}, wtp_label=20_000)
    assert list(table.columns) == ["parameter", "members", "evppi", "standard_error", "method", "description",
                                   "n_samples", "wtp"]
    assert list(table["parameter"]) == ["varies", "both", "fixed"]  # descending; ties keep input order
    assert table.set_index("parameter").loc["fixed", "method"] == "constant"
    assert (table["n_samples"] == n).all() and (table["wtp"] == 20_000).all()


# EVPPI of a linear-Gaussian model with six inputs (and of groups of them) as the
# implementation before the fast regressions gave it (commit 7c16b9f: the same GAM for
# single inputs, a tensor GAM with one smoothing parameter per member refined in turn,
# the GP conditioned on 3,000 samples), on the samples of _linear_gaussian()
PREVIOUS = {"x0": 0.16600, "x1": 0.04716, "x2": 0.01068, "x3": 0.00224, "x4": 0.00016, "x5": 0.00003,
            "x0x1": 0.22442, "x0x1x2": 0.24814, "x1x2x3x4": 0.10533, "first5": 0.26927}
GROUPS = {"x0x1": ["x0", "x1"], "x0x1x2": ["x0", "x1", "x2"], "x1x2x3x4": ["x1", "x2", "x3", "x4"],
          "first5": ["x0", "x1", "x2", "x3", "x4"]}
SLOPES = np.array([1.0, 0.6, 0.4, 0.3, 0.2, 0.0])


def _linear_gaussian():
    """INB = a + b'X + cε with X ~ N(0, I₆): E[INB | X_G] = a + b_G'X_G ~ N(a, ||b_G||), so the
    EVPPI of any group G is the normal loss integral L(a, ||b_G||)."""
    rng = np.random.default_rng(20)
    n = 5000
    x = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{j}" for j in range(6)])
    return two_strategies(-0.6 + x.to_numpy() @ SLOPES + 0.5 * rng.normal(size=n)), x


@pytest.mark.verification(
    kind="closed form",
    against="the normal loss integral of E(INB given a group) in a linear-Gaussian model, and the "
            "implementation before the fast regressions on the same samples",
    tolerance="3 reported standard errors; 0.05 of the previous value or 0.01 of EVPI")
def test_evppi_of_inputs_and_groups_matches_the_closed_form_and_the_previous_implementation():
    nb, x = _linear_gaussian()
    table = evppi_table(nb, x, GROUPS).set_index("parameter")
    assert list(table.loc[["x0", "x0x1", "x0x1x2", "x1x2x3x4", "first5"], "method"]) == ["gam"] * 4 + ["gp"]
    total = evpi(nb)
    for label, row in table.iterrows():
        members = [int(m[1:]) for m in row["members"].split(", ")]
        exact = normal_loss(-0.6, np.linalg.norm(SLOPES[members])) if SLOPES[members].any() else 0.0
        # the reported standard error covers the estimate's error (z within ±0.6 here)
        assert abs(row["evppi"] - exact) < 3 * row["standard_error"] + 1e-4, label
        # the previous implementation on the same samples: within 1.1% where it is above
        # 1% of EVPI, the tiny ones within 1e-5
        assert abs(row["evppi"] - PREVIOUS[label]) <= max(0.05 * PREVIOUS[label], 0.01 * total), label


def test_standard_error_covers_the_error_over_repeated_psa_samples():
    """Repeated PSA samples of a linear-Gaussian model (EVPPI L(-0.5, 1) = 0.198): the
    standard error should be the spread of the estimates, and the estimate should be
    within two of them of the truth about 95% of the time. Loose bounds: the GAM's was
    1.25 times the spread with all 40 within 2 SE; the GP's (five inputs, small
    subsets) 0.82 times, 19 of 20."""
    exact = normal_loss(-0.5, 1.0)
    for method, n, inputs, repeats in (("gam", 2000, 1, 40), ("gp", 1000, 5, 20)):
        estimates, errors = [], []
        for seed in range(repeats):
            rng = np.random.default_rng(100 + seed)
            x = rng.normal(size=(n, inputs))
            nb = two_strategies(-0.5 + x[:, 0] + rng.normal(size=n))
            result = evppi(nb, x, method=method, gp_inducing_points=100, gp_hyper_samples=100)
            estimates.append(result.evppi)
            errors.append(result.standard_error)
        estimates, errors = np.array(estimates), np.array(errors)
        assert 0.6 < errors.mean() / estimates.std(ddof=1) < 1.6, method
        assert np.mean(np.abs(estimates - exact) <= 2 * errors) >= 0.8, method


def test_standard_error_is_zero_only_when_no_sample_changes_the_decision():
    rng = np.random.default_rng(15)
    n = 3000
    x = rng.normal(size=n)
    certain = evppi(two_strategies(-10.0 + x + 0.1 * rng.normal(size=n)), x)  # the reference wins everywhere
    assert certain.evppi == 0.0 and certain.standard_error == 0.0
    uncertain = evppi(two_strategies(-0.5 + x + rng.normal(size=n)), x)
    assert 0 < uncertain.standard_error < uncertain.evppi


def test_results_are_reproducible():
    nb, x = _linear_gaussian()
    first, again = evppi_table(nb, x, GROUPS), evppi_table(nb, x, GROUPS)
    pd.testing.assert_frame_equal(first, again)
    alone = evppi(nb, x[GROUPS["first5"]])
    row = first.set_index("parameter").loc["first5"]
    assert (alone.evppi, alone.standard_error) == (row["evppi"], row["standard_error"])
    # the GP's subsets follow its seed
    other = evppi(nb, x[GROUPS["first5"]], seed=1)
    assert other.evppi != alone.evppi and abs(other.evppi - alone.evppi) < 2 * alone.standard_error


def test_sample_size_uses_every_draw_within_the_time_budget():
    sizes, regressions = [1] * 40 + [2, 3, 4, 14], 4
    assert evppi_sample_size(10_000, sizes, regressions) == 10_000
    # beyond the budget: as many as fit, i.e. the estimate of that many is the budget
    capped = evppi_sample_size(10_000_000, sizes, regressions)
    assert 10_000 < capped < 10_000_000
    assert evppi_seconds(capped, sizes, regressions) <= EVPPI_TIME_BUDGET < evppi_seconds(capped + 1, sizes, regressions)
    assert evppi_sample_size(10_000_000, sizes, regressions, budget=2 * EVPPI_TIME_BUDGET) > 2 * capped - 10
    # the estimate grows linearly with the samples, the rows and the strategies
    one = evppi_seconds(10_000, sizes, 1)
    assert evppi_seconds(10_000, sizes, 3) == pytest.approx(3 * one)
    assert evppi_seconds(10_000, sizes + sizes, 1) == pytest.approx(2 * one)
    assert evppi_seconds(20_000, sizes, 1) - one == pytest.approx(one - evppi_seconds(0, sizes, 1))
    # never fewer than the regressions need, nor more than there are
    assert evppi_sample_size(10_000_000, sizes, regressions, budget=1e-9) == MIN_EVPPI_SAMPLES
    assert evppi_sample_size(20, sizes, regressions, budget=1e-9) == 20


# --- bad input ------------------------------------------------------------------------

GOOD_NB = two_strategies(np.random.default_rng(0).normal(size=100))
GOOD_X = np.random.default_rng(1).normal(size=100)


@pytest.mark.parametrize("call, words", [
    (lambda: evpi(np.ones(5)), ["net_benefit", "1 dimensions", "expected 2 or 3"]),
    (lambda: evpi(np.array([[1.0, np.nan]])), ["net_benefit[0, 1]", "nan", "finite"]),
    (lambda: evpi(np.ones((0, 2))), ["net_benefit", "(0, 2)", "at least one sample"]),
    (lambda: evpi(np.ones((3, 4, 2)), wtp=[1.0, 2.0]), ["wtp has 2 values", "3 along its first"]),
    (lambda: evpi(np.ones((4, 2)), wtp=[1.0]), ["wtp", "1 dimensions", "expected 0"]),
    (lambda: evpi(np.ones((1, 4, 2)), wtp=[-1.0]), ["wtp[0] is -1.0", "0 or more"]),
    (lambda: evpi_curve(np.ones(3), np.ones(3), [1.0]), ["costs has shape (3,)", "n_samples, n_strategies"]),
    (lambda: evpi_curve(np.ones((3, 2)), np.ones((3, 2)), [-5.0]), ["wtp[0] is -5.0", "0 or more"]),
    (lambda: population_evpi(-1.0, 10, 1, 0), ["per_patient is -1.0", "0 or more"]),
    (lambda: population_evpi(1.0, -10, 1, 0), ["annual_population is -10.0", "0 or more"]),
    (lambda: population_evpi(1.0, 10, 0, 0), ["horizon_years is 0.0", "above 0"]),
    (lambda: population_evpi(1.0, 10, 5, -0.01), ["discount_rate is -0.01", "0 or more"]),
    (lambda: population_evpi(1.0, 10, [5, 6], 0.0), ["horizon_years", "1 dimensions"]),
    (lambda: evppi(GOOD_NB[:49], GOOD_X[:49]), ["net_benefit has 49 samples", f"at least {MIN_EVPPI_SAMPLES}"]),
    (lambda: evppi(GOOD_NB, GOOD_X[:99]), ["parameters has 99 rows", "net_benefit has 100 samples"]),
    (lambda: evppi(GOOD_NB, np.ones((100, 0))), ["parameters has shape (100, 0)", "at least one parameter"]),
    (lambda: evppi(GOOD_NB, pd.DataFrame({"p": np.r_[GOOD_X[:-1], np.inf]})),
     ["parameters [sample 99, parameter 'p'] is inf", "finite"]),
    (lambda: evppi(np.r_[GOOD_NB[:-1], [[0.0, np.nan]]], GOOD_X), ["net_benefit[99, 1] is nan", "finite"]),
    (lambda: evppi(GOOD_NB, GOOD_X, method="loess"), ["method is 'loess'", "'gam' or 'gp'"]),
    (lambda: evppi(GOOD_NB, np.random.default_rng(2).normal(size=(100, 5)), method="gam"),
     ["method is 'gam' but 5 parameters vary", "at most 4", "gp"]),
    (lambda: evppi(GOOD_NB, GOOD_X, gp_inducing_points=2.5), ["gp_inducing_points is 2.5", "whole number"]),
    (lambda: evppi_table(GOOD_NB, GOOD_X), ["parameters is a ndarray", "DataFrame"]),
    (lambda: evppi_table(GOOD_NB, pd.DataFrame({"p": GOOD_X}), {"g": ["p", "q"]}),
     ["groups['g'] names ['q']", "not columns of parameters"]),
    (lambda: evppi_table(GOOD_NB, pd.DataFrame({"p": GOOD_X}), {"g": "p"}), ["groups['g'] is the string 'p'"]),
])
def test_bad_input_names_the_field_value_and_rule(call, words):
    with pytest.raises(InputError) as error:
        call()
    for word in words:
        assert word in str(error.value)
