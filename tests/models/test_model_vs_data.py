"""The model's overall survival against patient-level data (markov/models/validation.py and
the reading of ``targets.os_data`` in markov/inputs/patient_data.py): the Kaplan–Meier
estimate and its log-log interval against a hand-worked three-patient example and an
independent product-limit calculation, the inside/outside flags, the summary on
constructed cases whose answers are known, a sanity check on data simulated from an
exponential, and one clear error for a bad data reference. The data are written here.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from markov import InputError
from markov.cli import main
from markov.inputs import load_analysis
from markov.inputs.load import shipped_models
from markov.models import build_model, model_vs_data
from markov.models.validation import (
    SUMMARY_COLUMNS,
    TABLE_COLUMNS,
    compare_with_kaplan_meier,
    summarise_comparison,
    time_points,
)
from markov.survival import KaplanMeier

Z = stats.norm.ppf(0.975)
WEEKS_A_MONTH = 365.25 / 12 / 7


def simulated(seed: int, n: int = 300, rate: float = 0.06) -> pd.DataFrame:
    """Exponential death times (months, ``rate`` per month) censored uniformly over 6 to 36 months."""
    rng = np.random.default_rng(seed)
    death, censoring = rng.exponential(1 / rate, n), rng.uniform(6, 36, n)
    return pd.DataFrame({"time": np.round(np.minimum(death, censoring), 6), "event": (death <= censoring).astype(int)})


def product_limit(time: np.ndarray, event: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, ...]:
    """Kaplan–Meier, Greenwood log-log 95% limits and numbers at risk at times ``at``,
    written out patient by patient (an independent check of markov.survival.KaplanMeier)."""
    survival, greenwood, steps = 1.0, 0.0, []
    for t in np.unique(time[event == 1]):
        n, d = np.sum(time >= t), np.sum((time == t) & (event == 1))
        survival *= 1 - d / n
        greenwood += d / (n * (n - d)) if n > d else np.inf
        steps.append((t, survival, greenwood))
    km, low, high = np.ones(len(at)), np.ones(len(at)), np.ones(len(at))
    for i, t in enumerate(at):
        for step, s, g in steps:
            if step <= t:
                km[i] = s
                if s > 0:
                    power = np.exp(Z * np.sqrt(g) / np.log(s))
                    low[i], high[i] = s ** (1 / power), s ** power
                else:
                    low[i] = high[i] = 0.0
    return km, low, high, np.array([np.sum(time >= t) for t in at])


# ---------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------

@pytest.mark.verification(
    kind="closed form",
    against="the Kaplan–Meier estimate, log-log limits and summary of three patients worked by hand",
    tolerance="5e-5 on printed limits, 1e-12 otherwise")
def test_three_patients_by_hand():
    # deaths at 1 and 3 months, one patient censored at 2: S = 2/3 on [1, 3), 0 from 3;
    # Greenwood at 1: var(log S) = 1 / (3 · 2), so the log-log limits are
    # (2/3) ** exp(±1.96 · sqrt(1/6) / log(2/3)) = 0.0541 and 0.9452
    km = KaplanMeier.fit([1, 2, 3], [1, 0, 1], time_unit="months")
    model_times, model = np.array([0.0, 1, 2, 3, 4]), np.array([1.0, 0.95, 0.5, 0.2, 0.1])
    points = compare_with_kaplan_meier(km, model_times, model, follow_up_months=3.0)
    assert list(points["time_months"]) == [0, 1, 2, 3]
    assert list(points["n_at_risk"]) == [3, 3, 2, 1]
    np.testing.assert_allclose(points["km_os"], [1, 2 / 3, 2 / 3, 0], rtol=1e-12)
    np.testing.assert_allclose(points["km_ci_low"], [1, 0.0541, 0.0541, 0], atol=5e-5)
    np.testing.assert_allclose(points["km_ci_high"], [1, 0.9452, 0.9452, 0], atol=5e-5)
    assert list(points["inside_ci"]) == [True, False, True, False]  # 0.95 is above 0.9452; nothing lies in [0, 0]
    np.testing.assert_allclose(points["outside_by"], [0, 0.95 - 0.945206, 0, 0.2], atol=1e-6)
    summary = summarise_comparison(points, km, model_times, model)
    assert summary["share_inside_ci"] == pytest.approx(1 / 3, rel=1e-12)  # inside over (1, 2] of the 3 months
    assert (summary["largest_gap_outside"], summary["largest_gap_time_months"]) == pytest.approx((0.2, 3.0))
    # trapezoids of the model: (1 + .95)/2 + (.95 + .5)/2 + (.5 + .2)/2; steps of the data: 1 + 2 · 2/3
    assert summary["rmst_model_months"] == pytest.approx(2.05, rel=1e-12)
    assert summary["rmst_km_months"] == pytest.approx(1 + 4 / 3, rel=1e-12)
    assert summary["median_model_months"] == pytest.approx(2.0, rel=1e-12)  # 0.5 exactly at 2 months
    assert summary["median_km_months"] == 3.0
    # the band first holds 0.5 at 1 month (lower limit 0.054) and last at 3 (S = 0)
    assert (summary["median_km_ci_low"], summary["median_km_ci_high"]) == (1.0, 3.0)


@pytest.mark.verification(
    kind="closed form",
    against="an independent product-limit calculation written in the test",
    tolerance="rtol 1e-12")
def test_kaplan_meier_interval_and_numbers_at_risk_match_an_independent_calculation():
    data = simulated(4)
    time, event = data["time"].to_numpy(), data["event"].to_numpy()
    km = KaplanMeier.fit(time, event, time_unit="months")
    grid = np.linspace(0, 240, 2401)
    points = compare_with_kaplan_meier(km, grid, np.exp(-0.05 * grid), follow_up_months=30.0)
    expected = product_limit(time, event, points["time_months"].to_numpy())
    for column, values in zip(("km_os", "km_ci_low", "km_ci_high"), expected[:3], strict=True):
        np.testing.assert_allclose(points[column], values, rtol=1e-12, err_msg=column)
    np.testing.assert_array_equal(points["n_at_risk"], expected[3])
    np.testing.assert_allclose(points["model_os"], np.exp(-0.05 * points["time_months"]), rtol=1e-5)  # linear on 0.1
    assert list(points["time_months"]) == list(range(31))


def test_a_model_on_a_limit_lies_inside_and_beside_it_outside_by_the_distance():
    km = KaplanMeier.fit(*simulated(5)[["time", "event"]].T.to_numpy(), time_unit="months")
    months = np.arange(0.0, 25.0)
    at = compare_with_kaplan_meier(km, months, np.ones_like(months), 24.0)  # for the limits at the months
    low, high = at["km_ci_low"].to_numpy(), at["km_ci_high"].to_numpy()
    for model, inside, by in ((at["km_os"].to_numpy(), True, 0.0), (high, True, 0.0), (low, True, 0.0),
                              (high + 0.01, False, 0.01), (low - 0.02, False, -0.02)):
        points = compare_with_kaplan_meier(km, months, model, 24.0)
        assert (points["inside_ci"] == inside).all()
        np.testing.assert_allclose(points["outside_by"], by, atol=1e-12)
        np.testing.assert_allclose(points["model_minus_km"], model - at["km_os"], atol=1e-12)


@pytest.mark.parametrize("follow_up, share, gap", [(10.0, 5 / 10, 0.10), (10.5, 5 / 10.5, 0.105)])
def test_summary_of_a_model_inside_for_five_months_then_drifting_above(follow_up, share, gap):
    data = simulated(6)
    km = KaplanMeier.fit(data["time"], data["event"], time_unit="months")
    months = time_points(follow_up)  # the model is given at the comparison's own time points
    at = compare_with_kaplan_meier(km, months, np.ones_like(months), follow_up)
    # the Kaplan–Meier estimate up to 5 months, then 0.01 a month above the upper limit
    model = np.where(months <= 5, at["km_os"], at["km_ci_high"] + 0.01 * months)
    points = compare_with_kaplan_meier(km, months, model, follow_up)
    summary = summarise_comparison(points, km, months, model)
    assert summary["share_inside_ci"] == pytest.approx(share, rel=1e-12)
    assert summary["largest_gap_outside"] == pytest.approx(gap, rel=1e-9)
    assert summary["largest_gap_time_months"] == follow_up
    assert summary["time_points"] == len(points) - 1


def test_restricted_means_and_medians_against_closed_forms():
    data = simulated(7)
    time, event = data["time"].to_numpy(), data["event"].to_numpy()
    km = KaplanMeier.fit(time, event, time_unit="months")
    grid, rate = np.linspace(0, 240, 24001), 0.05
    points = compare_with_kaplan_meier(km, grid, np.exp(-rate * grid), 30.0)
    summary = summarise_comparison(points, km, grid, np.exp(-rate * grid))
    # trapezoids on a 0.01-month grid: error below F h² rate² / 12 ≈ 1e-7 months
    assert summary["rmst_model_months"] == pytest.approx((1 - np.exp(-rate * 30)) / rate, abs=1e-6)
    assert summary["median_model_months"] == pytest.approx(np.log(2) / rate, abs=1e-6)
    knots = np.concatenate(([0.0], np.unique(time[(event == 1) & (time < 30)]), [30.0]))
    steps = product_limit(time, event, knots[:-1])[0]
    assert summary["rmst_km_months"] == pytest.approx(np.sum(steps * np.diff(knots)), rel=1e-12)
    assert summary["median_km_months"] == km.median()
    assert summary["rmst_difference_months"] == pytest.approx(summary["rmst_model_months"] - summary["rmst_km_months"])


@pytest.mark.verification(
    kind="simulation",
    against="40 simulated exponential data sets against the exponential fitted to each",
    tolerance="mean share inside at least 0.95, none below 0.75")
def test_the_exponential_fitted_to_exponential_data_lies_inside_the_interval_over_most_of_follow_up():
    """Data simulated from an exponential (0.06 a month), compared with the exponential fitted
    to them by maximum likelihood (deaths / time at risk). Pointwise 95% limits around a
    curve estimated from the same data hold it nearly everywhere: over 200 data sets the
    share of follow-up inside was 0.994 on average (1st percentile 0.90). Stated: a mean
    of at least 0.95 over 40 data sets, and no data set below 0.75; a rate 50% too high
    lies inside much less (below half of follow-up on average)."""
    grid = np.linspace(0, 600, 60001)
    fitted, wrong = [], []
    for seed in range(40):
        data = simulated(100 + seed)
        time, event = data["time"].to_numpy(), data["event"].to_numpy()
        km = KaplanMeier.fit(time, event, time_unit="months")
        rate = event.sum() / time.sum()
        follow_up = float(time[event == 1].max())
        for shares, model in ((fitted, np.exp(-rate * grid)), (wrong, np.exp(-1.5 * rate * grid))):
            points = compare_with_kaplan_meier(km, grid, model, follow_up)
            shares.append(summarise_comparison(points, km, grid, model)["share_inside_ci"])
    assert np.mean(fitted) >= 0.95 and min(fitted) >= 0.75, (np.mean(fitted), min(fitted))
    assert np.mean(wrong) < 0.5, np.mean(wrong)


def test_time_points_need_a_positive_follow_up_and_step():
    km = KaplanMeier.fit([1, 2, 3], [1, 0, 1], time_unit="months")
    with pytest.raises(InputError, match=r"step_months is 0: must be a positive number of months"):
        compare_with_kaplan_meier(km, np.array([0.0, 3]), np.array([1.0, 0.5]), 3.0, step_months=0)
    with pytest.raises(InputError, match=r"follow_up_months is -1.0: must be a positive"):
        compare_with_kaplan_meier(km, np.array([0.0, 3]), np.array([1.0, 0.5]), -1.0)


# ---------------------------------------------------------------------------------
# Data named by an analysis
# ---------------------------------------------------------------------------------

def write_analysis(directory: Path, os_data: dict, name: str = "mvd") -> Path:
    """An analysis of the shipped imbrave150 population whose sorafenib strategy names
    ``os_data`` (test evidence ``t``: a follow-up of 12 months and a proportion)."""
    evidence = {"source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"},
                "values": {"twelve_months": {"value": 12.0, "unit": "months", "status": "verified", "where": "t"},
                           "forty_years": {"value": 40.0, "unit": "years", "status": "verified", "where": "t"},
                           "share": {"value": 0.5, "unit": "proportion", "status": "verified", "where": "t"}}}
    (directory / "ev").mkdir(parents=True, exist_ok=True)
    (directory / "ev" / "t.yaml").write_text(yaml.safe_dump(evidence))
    overrides = {"populations": {"imbrave150": {"strategies": {"sorafenib": {"targets": {"os_data": os_data}}}}}}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "populations": ["imbrave150"], "evidence_directories": ["ev"],
                                    "overrides": overrides}))
    return path


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    """An analysis whose sorafenib strategy names simulated data in weeks (arm 'control')."""
    root = tmp_path_factory.mktemp("model_vs_data")
    data = pd.concat([simulated(1).assign(arm="control"), simulated(2, rate=0.03).assign(arm="other")])
    data["time"] *= WEEKS_A_MONTH
    (root / "data").mkdir()
    data.to_csv(root / "data" / "os.csv", index=False)
    path = write_analysis(root, {"file": "data/os.csv", "arm": "control", "time_unit": "weeks",
                                 "citation": "simulated"})
    # back in months as the units define them: a week is 7 / 365.25 of a year
    return root, path, data[data["arm"] == "control"].assign(time=lambda d: d["time"] * (7 / 365.25 * 12))


def test_named_data_are_read_in_their_unit_and_compared_over_the_last_death(named):
    _, path, control = named
    inputs = load_analysis(path)
    model = build_model(inputs)
    comparison = model_vs_data(model, model.evaluate(inputs.base_case()))
    summary = comparison.summary.set_index("strategy")
    assert list(comparison.summary.columns) == list(SUMMARY_COLUMNS)
    assert list(comparison.table.columns) == list(TABLE_COLUMNS)
    assert "sorafenib" in summary.index
    row = summary.loc["sorafenib"]
    assert (row["data_file"], row["arm"], row["data_citation"]) == ("data/os.csv", "control", "simulated")
    assert (row["patients"], row["events"]) == (len(control), control["event"].sum())
    # weeks read as months: the follow-up is the last death
    assert row["follow_up_months"] == control["time"][control["event"] == 1].max()
    km = KaplanMeier.fit(control["time"], control["event"], time_unit="months")
    assert row["median_km_months"] == km.median()
    rows = comparison.table[comparison.table["strategy"] == "sorafenib"]
    np.testing.assert_allclose(rows["km_os"], km.survival_at(rows["time_months"].to_numpy()), rtol=1e-12)
    assert comparison.kaplan_meier["imbrave150", "sorafenib"].time_unit == "months"


def test_a_follow_up_named_by_the_analysis_is_used_and_checked(named):
    root, _, _ = named
    follow = write_analysis(root, {"file": "data/os.csv", "arm": "control", "time_unit": "weeks",
                                   "follow_up": "t.twelve_months"}, name="follow")
    inputs = load_analysis(follow)
    model = build_model(inputs)
    summary = model_vs_data(model, model.evaluate(inputs.base_case())).summary.set_index("strategy")
    assert summary.loc["sorafenib", "follow_up_months"] == pytest.approx(12.0)
    assert summary.loc["sorafenib", "time_points"] == 12
    too_long = write_analysis(root, {"file": "data/os.csv", "arm": "control", "time_unit": "weeks",
                                     "follow_up": "t.forty_years"}, name="too_long")
    with pytest.raises(InputError, match=r"strategies\.sorafenib\.targets\.os_data\.follow_up = 't\.forty_years' "
                                         r"\(480 months\): must be positive and at most the last time observed in arm "
                                         r"'control' of .*os\.csv"):
        load_analysis(too_long)
    not_a_duration = write_analysis(root, {"file": "data/os.csv", "arm": "control", "time_unit": "weeks",
                                           "follow_up": "t.share"}, name="not_a_duration")
    with pytest.raises(InputError, match=r"targets\.os_data\.follow_up = 't\.share': has unit 'proportion'"):
        load_analysis(not_a_duration)


def test_a_bad_data_reference_is_one_error_naming_the_file_and_the_field(named):
    root, _, _ = named
    missing = write_analysis(root, {"file": "data/none.csv", "arm": "control", "time_unit": "months"}, "missing")
    with pytest.raises(InputError) as error:
        load_analysis(missing)
    message = str(error.value)
    assert "populations.yaml" in message and "\n" not in message
    assert "populations.imbrave150.strategies.sorafenib.targets.os_data.file = 'data/none.csv': no such file" in message
    # looked for beside the analysis, in the model directory, then among the data shipped with markov
    assert str(root / "data" / "none.csv") in message
    shipped = shipped_models()  # params/ in a source checkout, markov/data/ once installed
    assert str(shipped / "hcc" / "data" / "none.csv") in message and str(shipped / "data" / "none.csv") in message
    unknown = write_analysis(root, {"file": "data/os.csv", "arm": "nobody", "time_unit": "months"}, "unknown")
    with pytest.raises(InputError, match=r"os\.csv: arm 'nobody' \(named by .*populations\.imbrave150\.strategies\."
                                         r"sorafenib\.targets\.os_data\.arm\) is not in column 'arm' "
                                         r"\(arms: control, other\)$"):
        load_analysis(unknown)
    with pytest.raises(InputError, match=r"targets\.os_data\.time_unit = 'fortnights': Input should be 'days'"):
        load_analysis(write_analysis(root, {"file": "data/os.csv", "arm": "control", "time_unit": "fortnights"},
                                     "unit"))


def test_an_analysis_without_data_gives_tables_with_no_rows():
    inputs = load_analysis(Path(__file__).resolve().parents[2] / "analyses" / "chancellor.yaml")
    model = build_model(inputs)
    comparison = model_vs_data(model, model.evaluate(inputs.base_case()))
    assert comparison.table.empty and list(comparison.table.columns) == list(TABLE_COLUMNS)
    assert comparison.summary.empty and list(comparison.summary.columns) == list(SUMMARY_COLUMNS)
    assert comparison.kaplan_meier == {}


@pytest.mark.slow
def test_markov_run_writes_the_tables_and_a_figure_per_population_with_data(named, tmp_path, capsys):
    _, path, _ = named
    assert main(["run", str(path), "--out", str(tmp_path)]) == 0
    table, summary = pd.read_csv(tmp_path / "model_vs_data.csv"), pd.read_csv(tmp_path / "model_vs_data_summary.csv")
    assert list(table.columns) == list(TABLE_COLUMNS) and list(summary.columns) == list(SUMMARY_COLUMNS)
    assert "sorafenib" in set(summary["strategy"])
    assert len(table) == (summary["time_points"] + 1).sum()
    assert all((tmp_path / f"model_vs_data_imbrave150{suffix}").is_file() for suffix in (".png", ".svg"))
