"""Cox fits by the Breslow partial likelihood and the Grambsch–Therneau test
(markov.survival.synthesis.cox): against closed forms solved by hand (to 1e-12), against
statsmodels and lifelines on the same data (values printed by them, copied here), and
against the published hazard ratio of a reconstructed trial."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from markov import InputError
from markov.survival.synthesis import TrialContrasts, fit_arms, fit_cox

IPD = Path(__file__).resolve().parents[2] / "params" / "ipd"


def ipd_file(name: str) -> Path:
    """A reconstructed trial, as shipped in params/ipd/."""
    return IPD / name


def three_arms(n: int = 240):
    """Deterministic data without ties: arms a, b (exponential, HR 0.7) and c (Weibull
    shape 0.7, so not proportional to a), censored uniformly over 2 to 30."""
    i = np.arange(1, n + 1)
    u, v = (i * 0.6180339887498949) % 1.0, (i * 0.4142135623730951) % 1.0
    arm = np.array(["a", "b", "c"])[i % 3]
    time = np.where(arm == "c", 8.0 * (-np.log(u)) ** (1 / 0.7), -np.log(u) / np.where(arm == "a", 0.10, 0.07))
    censor = 2.0 + 28.0 * v
    return np.round(np.minimum(time, censor), 6), (time <= censor).astype(float), arm


@pytest.mark.verification(
    kind="closed form",
    against="the Cox partial likelihood of four patients solved by hand",
    tolerance="1e-12")
def test_four_patients_solved_by_hand():
    # risk sets {1,2,3,4}, {2,3,4}, {3,4}, {4}; x = 1, 0, 1, 0: the score 2/(r+1) − r/(r+2) = 0
    # gives r = e^β = (1 + √17)/2, and the information is 2r/(r+1)² + 2r/(r+2)²
    result = fit_cox([1, 2, 3, 4], [1, 1, 1, 1], [[1], [0], [1], [0]], ["x"])
    r = (1 + np.sqrt(17)) / 2
    assert result.coefficients[0] == pytest.approx(np.log(r), abs=1e-12)
    assert result.covariance[0, 0] == pytest.approx(1 / (2 * r / (r + 1) ** 2 + 2 * r / (r + 2) ** 2), rel=1e-12)
    assert result.null_log_likelihood == pytest.approx(-np.log(4) - np.log(3) - np.log(2), abs=1e-12)


def test_tied_deaths_follow_breslow():
    # two deaths at t = 1 share the whole risk set: log L = 2β − 2 log 2 − 3 log(e^β + 1),
    # maximal at e^β = 2 with information 3r/(r+1)² = 2/3 and log L = −3 log 3
    result = fit_cox([1, 1, 2, 3], [1, 1, 1, 0], [[1], [0], [1], [0]], ["x"])
    assert result.coefficients[0] == pytest.approx(np.log(2), abs=1e-12)
    assert result.covariance[0, 0] == pytest.approx(1.5, rel=1e-12)
    assert result.log_likelihood == pytest.approx(-3 * np.log(3), abs=1e-12)


@pytest.mark.verification(
    kind="other software",
    against="lifelines 0.30.3 (CoxPHFitter, proportional_hazard_test) on the same data",
    tolerance="coefficients atol 1e-5; SEs rtol 1e-5; test statistics rtol 1e-4")
def test_a_three_arm_trial_agrees_with_lifelines():
    # lifelines 0.30.3, CoxPHFitter().fit (Efron ties, none here) and proportional_hazard_test:
    # the same coefficients to its convergence tolerance, and the same Grambsch–Therneau statistics
    time, event, arm = three_arms()
    result = fit_arms(time, event, arm, control="a")
    assert result.names == ("b", "c")
    np.testing.assert_allclose(result.coefficients, [-0.4460963570131236, 0.024602161283671875], atol=1e-5)
    np.testing.assert_allclose(result.standard_errors, [0.1917900488551217, 0.1838039391798197], rtol=1e-5)
    assert result.log_likelihood == pytest.approx(-793.151682812321, abs=1e-8)
    lifelines = {"rank": [0.002841210130159177, 5.836442357940522],
                 "identity": [0.0056415513884123586, 5.06996881605591],
                 "log": [0.0099578579740215, 5.999246982197871]}
    for transform, statistics in lifelines.items():
        test = result.proportional_hazards(transform)
        np.testing.assert_allclose(test.statistics, statistics, rtol=1e-4, atol=1e-6)
    # arm c breaks proportional hazards, arm b does not
    test = result.proportional_hazards()
    assert test.transform == "km" and test.p_values[1] < 0.05 < test.p_values[0]
    assert test.global_df == 2 and test.table()["term"].tolist() == ["b", "c", "GLOBAL"]


def test_the_km_transform_is_one_minus_the_left_continuous_kaplan_meier():
    # R's cox.zph: g(t) = 1 − S(t−). At the first death S(t−) = 1, so g = 0 there; with one
    # covariate the global and the covariate's statistic are one number
    time, event, arm = three_arms(90)
    keep = arm != "c"
    result = fit_arms(time[keep], event[keep], arm[keep], control="a")
    test = result.proportional_hazards("km")
    assert test.global_statistic == pytest.approx(test.statistics[0], rel=1e-12)
    times, residuals = result.schoenfeld_residuals()
    assert residuals.shape == (result.n_events, 1) and times[0] == time[keep][event[keep] == 1].min()


@pytest.mark.verification(
    kind="other software",
    against="statsmodels PHReg (Breslow) on the reconstructed SHARP data, and SHARP's published HR 0.69 "
            "(0.55–0.87)",
    tolerance="statsmodels 1e-10; log HR and limits within 0.05 of the published")
def test_the_reconstructed_sharp_trial():
    # statsmodels 0.15 PHReg(ties="breslow") on the same file: -0.34531769868649790, SE
    # 0.11218851277164370, log-likelihood -1870.7865555430421; published (Llovet 2008) HR
    # 0.69 (0.55-0.87), which a reconstruction reproduces to its digitising error
    data = pd.read_csv(ipd_file("sharp_llovet2008_fig2a.csv"))
    result = fit_arms(data["time"], data["event"], data["arm"], control="placebo")
    assert result.coefficients[0] == pytest.approx(-0.34531769868649790, abs=1e-10)
    assert result.standard_errors[0] == pytest.approx(0.11218851277164370, rel=1e-10)
    assert result.log_likelihood == pytest.approx(-1870.7865555430421, abs=1e-8)
    summary = result.summary().loc["sorafenib"]
    assert abs(np.log(summary["hr"] / 0.69)) < 0.05
    assert abs(np.log(summary["lower"] / 0.55)) < 0.05 and abs(np.log(summary["upper"] / 0.87)) < 0.05
    contrasts = TrialContrasts.from_cox("SHARP", "placebo", result)
    assert contrasts.treatments == ("sorafenib",) and contrasts.proportional_hazards.global_p_value > 0.05


@pytest.mark.parametrize("time, event, arm, rule", [
    ([1, 2, 3], [0, 0, 0], ["a", "b", "a"], "no events"),
    ([1, 2, 3, 4], [1, 1, 1, 1], ["a", "a", "a", "a"], "only the control arm"),
    ([1, 2, 3, 4], [1, 0, 1, 0], ["a", "b", "a", "b"], "no finite maximum"),
    ([1, 2, 3], [1, 1, 1], ["a", "b", "a"], "control arm 'z'"),
])
def test_data_without_a_hazard_ratio_are_refused(time, event, arm, rule):
    with pytest.raises(InputError, match=rule):
        fit_arms(time, event, arm, control="z" if "'z'" in rule else "a")
