"""Network meta-analysis of log hazard ratios (markov.survival.synthesis.network, .gls),
validated numerically. Closed forms hold to 1e-12 (relative or absolute, as stated); metafor's
printed results (4 decimals) to 5e-5.

- two trials of one comparison: the inverse-variance pooled estimate;
- a star network: Bucher's adjusted indirect comparison;
- random effects at τ² = 0: the fixed-effect model;
- REML: two trials (closed form), equal variances (closed form), its estimating equation,
  and metafor's BCG example (with DerSimonian–Laird there too);
- multi-arm trials: their own contrasts back, whichever arm is their control;
- design-by-treatment inconsistency: a triangle of single trials is Bucher's test of
  direct against indirect, and Q decomposes into heterogeneity and inconsistency.
"""
import numpy as np
import pytest

from markov import InputError
from markov.survival.synthesis import TrialContrasts, fit_network
from markov.survival.synthesis.gls import Contrasts, tau2_reml
from markov.survival.synthesis.network import _stack

# metafor's dat.bcg (Colditz et al. 1994): BCG-vaccinated positive, negative; control positive, negative
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
       (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def two_arm(name: str, treatment: str, control: str, log_hr: float, variance: float) -> TrialContrasts:
    return TrialContrasts(name, control, (treatment,), [log_hr], [[variance]])


def pairwise(values, variances):
    return [two_arm(f"t{i}", "b", "a", y, v) for i, (y, v) in enumerate(zip(values, variances, strict=True))]


@pytest.mark.verification(
    kind="closed form",
    against="the inverse-variance pooled estimate and Cochran's Q of two trials",
    tolerance="rel 1e-12")
def test_two_trials_give_the_inverse_variance_pooled_estimate():
    (y1, v1), (y2, v2) = (-0.3, 0.04), (-0.1, 0.09)
    network = fit_network(pairwise([y1, y2], [v1, v2]), reference="a")
    w1, w2 = 1 / v1, 1 / v2
    assert network.fixed.log_hazard_ratios[0] == pytest.approx((w1 * y1 + w2 * y2) / (w1 + w2), rel=1e-12)
    assert network.fixed.covariance[0, 0] == pytest.approx(1 / (w1 + w2), rel=1e-12)
    q = w1 * w2 / (w1 + w2) * (y1 - y2) ** 2
    assert network.heterogeneity.q == pytest.approx(q, rel=1e-12) and network.heterogeneity.df == 1
    assert network.heterogeneity.i2 == 0.0  # Q below its df


@pytest.mark.verification(kind="closed form", against="Bucher's adjusted indirect comparison", tolerance="1e-12")
def test_a_star_network_gives_buchers_indirect_comparison():
    network = fit_network([two_arm("ab", "b", "a", -0.4, 0.02), two_arm("ac", "c", "a", -0.1, 0.05)], reference="a")
    for estimates in (network.fixed, network.random):
        log_hr, se = estimates.contrast("b", "c")
        assert log_hr == pytest.approx(-0.4 - (-0.1), abs=1e-12)
        assert se == pytest.approx(np.sqrt(0.02 + 0.05), rel=1e-12)
    assert network.heterogeneity.df == 0 and network.heterogeneity.tau2 == 0.0
    assert "say nothing about between-trial variance" in network.heterogeneity.note
    assert network.inconsistency.df == 0 and "no loops" in network.inconsistency.note


@pytest.mark.parametrize("method", ["reml", "dl"])
def test_random_effects_at_zero_tau2_are_the_fixed_effect_model(method):
    # three trials closer together than their variances: τ² = 0 by either estimator
    network = fit_network(pairwise([-0.20, -0.25, -0.22], [0.04, 0.05, 0.03]), reference="a", tau2_method=method)
    assert network.heterogeneity.tau2 == 0.0 and network.heterogeneity.q < network.heterogeneity.df
    np.testing.assert_array_equal(network.random.log_hazard_ratios, network.fixed.log_hazard_ratios)
    np.testing.assert_array_equal(network.random.covariance, network.fixed.covariance)


def test_reml_of_two_trials_solved_by_hand():
    # with two trials the restricted likelihood is that of y1 − y2 ~ N(0, v1 + v2 + 2τ²)
    (y1, v1), (y2, v2) = (-0.9, 0.02), (0.1, 0.05)
    network = fit_network(pairwise([y1, y2], [v1, v2]), reference="a")
    assert network.heterogeneity.tau2 == pytest.approx(((y1 - y2) ** 2 - v1 - v2) / 2, rel=1e-12)


def test_reml_with_equal_variances_solved_by_hand():
    # equal within-trial variances v: τ² = sample variance − v, the pooled mean unweighted
    y, v = np.array([-0.8, -0.1, 0.3, -0.5, -0.2]), 0.01
    network = fit_network(pairwise(y, [v] * 5), reference="a")
    assert network.heterogeneity.tau2 == pytest.approx(y.var(ddof=1) - v, rel=1e-12)
    assert network.random.log_hazard_ratios[0] == pytest.approx(y.mean(), rel=1e-12)
    assert network.random.covariance[0, 0] == pytest.approx(y.var(ddof=1) / 5, rel=1e-12)


def test_reml_solves_its_estimating_equation():
    # τ² = Σw²((y − μ)² − v)/Σw² + 1/Σw with w = 1/(v + τ²) (pairwise REML)
    y, v = np.array([-0.6, 0.2, -0.3, 0.4, -1.0]), np.array([0.02, 0.08, 0.05, 0.2, 0.1])
    network = fit_network(pairwise(y, v), reference="a")
    tau2, mu = network.heterogeneity.tau2, network.random.log_hazard_ratios[0]
    w = 1 / (v + tau2)
    assert tau2 == pytest.approx((w ** 2 * ((y - mu) ** 2 - v)).sum() / (w ** 2).sum() + 1 / w.sum(), rel=1e-10)


@pytest.mark.verification(
    kind="other software",
    against="R metafor rma on the BCG data: fixed effect, DerSimonian–Laird and REML",
    tolerance="atol 5e-5 (half the last printed decimal)")
def test_metafor_bcg_example():
    # metafor rma(yi, vi, data = escalc("RR", ...dat.bcg)): EE −0.4303, Q(df = 12) 152.2330; DL
    # −0.7141 (−1.0644 to −0.3638), τ² 0.3088; REML −0.7145 (SE 0.1798), τ² 0.3132
    y = [np.log(a / (a + b) / (c / (c + d))) for a, b, c, d in BCG]
    v = [1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) for a, b, c, d in BCG]
    reml = fit_network(pairwise(y, v), reference="a")
    dl = fit_network(pairwise(y, v), reference="a", tau2_method="dl")
    assert reml.fixed.log_hazard_ratios[0] == pytest.approx(-0.4303, abs=5e-5)
    assert reml.heterogeneity.q == pytest.approx(152.2330, abs=5e-5) and reml.heterogeneity.df == 12
    assert dl.heterogeneity.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert dl.random.log_hazard_ratios[0] == pytest.approx(-0.7141, abs=5e-5)
    row = dl.random.hazard_ratios().iloc[0]
    assert np.log(row["lower"]) == pytest.approx(-1.0644, abs=5e-5)
    assert np.log(row["upper"]) == pytest.approx(-0.3638, abs=5e-5)
    assert reml.heterogeneity.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert reml.random.log_hazard_ratios[0] == pytest.approx(-0.7145, abs=5e-5)
    assert reml.random.standard_errors[0] == pytest.approx(0.1798, abs=5e-5)
    assert reml.heterogeneity.i2 == pytest.approx((152.2330 - 12) / 152.2330, abs=1e-6)


def three_arm(control: str) -> TrialContrasts:
    """One three-arm trial of a, b, c (log hazards −0.3 for b and −0.5 for c against a;
    arm variances 0.02, 0.03, 0.04), with ``control`` as the arm its contrasts are against."""
    log_hazard, variance = {"a": 0.0, "b": -0.3, "c": -0.5}, {"a": 0.02, "b": 0.03, "c": 0.04}
    others = tuple(t for t in "abc" if t != control)
    covariance = np.full((2, 2), variance[control]) + np.diag([variance[t] for t in others])
    return TrialContrasts("three", control, others, [log_hazard[t] - log_hazard[control] for t in others],
                          covariance)


@pytest.mark.parametrize("control", ["a", "b", "c"])
def test_a_multi_arm_trial_gives_its_own_contrasts_whatever_its_control(control):
    trials = [three_arm(control), two_arm("ab", "b", "a", -0.1, 0.05), two_arm("ac2", "c", "a", -0.6, 0.08)]
    network = fit_network(trials, reference="a")
    alone = fit_network([three_arm(control)], reference="a").fixed
    assert [alone.contrast(t)[0] for t in "bc"] == pytest.approx([-0.3, -0.5], abs=1e-12)
    assert [alone.contrast(t)[1] ** 2 for t in "bc"] == pytest.approx([0.05, 0.06], rel=1e-12)
    assert alone.contrast("c", "b")[1] ** 2 == pytest.approx(0.03 + 0.04, rel=1e-12)
    reference = fit_network([three_arm("a"), *trials[1:]], reference="a")
    for model in ("fixed", "random"):
        for pair in (("b", "a"), ("c", "a"), ("c", "b")):
            assert network.estimates(model).contrast(*pair) == pytest.approx(
                reference.estimates(model).contrast(*pair), rel=1e-10, abs=1e-12)
    assert network.heterogeneity.q == pytest.approx(reference.heterogeneity.q, rel=1e-10)


def test_reported_multi_arm_hazard_ratios_share_the_control_variance():
    trial = TrialContrasts.reported("himalaya", "sorafenib", {"stride": (0.78, 0.66, 0.92), "durva": (0.86, 0.73, 1.03)},
                                    control_variance=1 / 300)
    se = (np.log(0.92) - np.log(0.66)) / (2 * 1.959963984540054)
    assert trial.covariance[0, 0] == pytest.approx(se ** 2, rel=1e-12)
    assert trial.covariance[0, 1] == trial.covariance[1, 0] == pytest.approx(1 / 300, rel=1e-15)
    with pytest.raises(InputError, match="share the control arm"):
        TrialContrasts.reported("himalaya", "sorafenib", {"stride": (0.78, 0.66, 0.92), "durva": (0.86, 0.73, 1.03)})


def test_a_triangle_of_single_trials_tests_direct_against_indirect():
    # Bucher's test of inconsistency: (y_ab − (y_ac − y_bc))² / (v_ab + v_ac + v_bc) on 1 df
    trials = [two_arm("ab", "b", "a", -0.5, 0.02), two_arm("ac", "c", "a", -0.1, 0.03),
              two_arm("bc", "c", "b", 0.1, 0.04)]
    network = fit_network(trials, reference="a")
    expected = (-0.5 - (-0.1 - 0.1)) ** 2 / (0.02 + 0.03 + 0.04)
    assert network.inconsistency.df == 1 and network.inconsistency.n_designs == 3
    assert network.inconsistency.q_fixed == pytest.approx(expected, rel=1e-12)
    assert network.heterogeneity.q == pytest.approx(expected, rel=1e-12)  # all of Q is inconsistency


def test_q_decomposes_into_heterogeneity_within_designs_and_inconsistency():
    trials = [two_arm("ab1", "b", "a", -0.5, 0.02), two_arm("ab2", "b", "a", -0.2, 0.03),
              two_arm("ac", "c", "a", -0.1, 0.03), two_arm("bc1", "c", "b", 0.1, 0.04),
              two_arm("bc2", "c", "b", 0.4, 0.05), three_arm("a")]
    network = fit_network(trials, reference="a")
    w = {name: 1 / v for name, v in (("ab1", 0.02), ("ab2", 0.03), ("bc1", 0.04), ("bc2", 0.05))}
    within = (w["ab1"] * w["ab2"] / (w["ab1"] + w["ab2"]) * 0.3 ** 2 + w["bc1"] * w["bc2"] / (w["bc1"] + w["bc2"])
              * 0.3 ** 2)
    assert network.heterogeneity.df == 7 - 2  # 7 contrasts, 2 basic parameters
    assert network.inconsistency.df == 5 - 2  # designs ab, ac, bc (1 parameter each) and abc (2)
    assert network.heterogeneity.q == pytest.approx(within + network.inconsistency.q_fixed, rel=1e-12)
    assert network.inconsistency.q_random <= network.inconsistency.q_fixed
    statistics = network.statistics().set_index(["test", "model"])
    assert statistics.loc[("inconsistency", "fixed"), "df"] == network.inconsistency.df


def test_pairwise_and_league_table_agree():
    trials = [two_arm("ab", "b", "a", -0.4, 0.02), two_arm("ac", "c", "a", -0.1, 0.05), three_arm("a")]
    estimates = fit_network(trials, reference="a").random
    pairs = estimates.pairwise().set_index(["treatment", "versus"])
    assert list(pairs.index) == [("b", "a"), ("c", "a"), ("c", "b")]
    log_hr, _ = estimates.contrast("c", "b")
    assert pairs.loc[("c", "b"), "log_hr"] == pytest.approx(log_hr, abs=1e-15)
    league = estimates.league_table()
    assert league.loc["b", "b"] == "b" and league.loc["c", "b"].startswith(f"{np.exp(log_hr):.2f} (")
    assert league.loc["b", "c"].startswith(f"{np.exp(-log_hr):.2f} (")


def test_reml_of_a_network_matches_its_score_equation():
    # the REML τ² of a network with a multi-arm trial zeroes the restricted score ½[y'RPRy − tr(RP)]
    trials = [two_arm("ab1", "b", "a", -0.9, 0.02), two_arm("ab2", "b", "a", 0.1, 0.03),
              two_arm("bc", "c", "b", 0.3, 0.04), three_arm("a")]
    data: Contrasts = _stack(trials)
    X = data.design({"b": 0, "c": 1}, lambda row, t: t)
    tau2 = tau2_reml(data, X)
    V = data.S + tau2 * data.P
    Vi = np.linalg.inv(V)
    R = Vi - Vi @ X @ np.linalg.solve(X.T @ Vi @ X, X.T @ Vi)
    assert tau2 > 0.05
    assert 0.5 * (data.y @ R @ data.P @ R @ data.y - np.trace(R @ data.P)) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("trials, reference, rule", [
    ([two_arm("ab", "b", "a", 0.1, 0.1), two_arm("cd", "d", "c", 0.1, 0.1)], "a", "not connected: c, d"),
    ([two_arm("ab", "b", "a", 0.1, 0.1)], "z", "reference 'z' is in no trial"),
    ([two_arm("ab", "b", "a", 0.1, 0.1), two_arm("ab", "b", "a", 0.2, 0.1)], "a", "each trial may appear once"),
])
def test_networks_that_cannot_be_fitted_are_refused(trials, reference, rule):
    with pytest.raises(InputError, match=rule):
        fit_network(trials, reference)
