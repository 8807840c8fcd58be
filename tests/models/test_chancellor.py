"""The Chancellor et al. (1997) HIV model reproduces Briggs, Claxton & Sculpher (2006):
through its original API (markov.models.chancellor) and as data for the markov structure
(analyses/chancellor.yaml, params/chancellor/), each against the printed results and an
independent hand calculation."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from markov import InputError
from markov.cli import main
from markov.inputs import load_analysis
from markov.models import build_model, chancellor, results_table

ANALYSIS = Path(__file__).resolve().parents[2] / "analyses" / "chancellor.yaml"


@pytest.fixture(scope="module")
def inputs():
    return chancellor.load_inputs()


def _hand_calculation(inputs):
    """Independent plain-Python cohort: lists and loops, counted at the end of each cycle."""
    counts = {"A": [1251, 350, 116, 17], "B": [0, 731, 512, 15], "C": [0, 0, 1312, 437], "D": [0, 0, 0, 1]}
    mono = [[c / sum(row) for c in row] for row in counts.values()]
    rr = 0.509
    comb = [[p * rr if i != j else 0.0 for j, p in enumerate(row)] for i, row in enumerate(mono)]
    for i, row in enumerate(comb):
        row[i] = 1.0 - sum(row)
    state_costs = [1701 + 1055, 1774 + 1278, 6948 + 2059, 0]
    results = {}
    for strategy in ("monotherapy", "combination"):
        m = [1.0, 0.0, 0.0, 0.0]
        cost = life_years = 0.0
        for year in range(1, 21):
            on_combination = strategy == "combination" and year <= 2
            matrix = comb if on_combination else mono
            m = [sum(m[i] * matrix[i][j] for i in range(4)) for j in range(4)]
            drug = 2278.0 + (2086.5 if on_combination else 0.0)
            cost += sum(m[j] * (state_costs[j] + drug) for j in range(3)) / 1.06**year
            life_years += sum(m[:3])
        results[strategy] = (cost, life_years)
    return results


@pytest.mark.verification(
    kind="textbook",
    against="Briggs, Claxton & Sculpher (2006), exercise 2.5 (Chancellor et al. 1997): costs, life-years and "
            "ICER",
    tolerance="every printed digit; rel 1e-6")
def test_reproduces_the_printed_results(inputs):
    summary = chancellor.summarise(chancellor.evaluate(chancellor.base_case(inputs), inputs))
    mono, comb = summary.loc["monotherapy"], summary.loc["combination"]
    # Briggs et al. 2006 ex. 2.5, as printed: every printed digit reproduces
    assert round(mono["cost"], 2) == 44663.45
    assert round(mono["life_years"], 4) == 7.9912
    assert round(comb["cost"], 2) == 50601.65
    assert round(comb["life_years"], 4) == 8.9374
    assert round(comb["icer_per_life_year"], 2) == 6275.96
    # and to 1e-6 relative wherever the print carries enough digits
    assert mono["cost"] == pytest.approx(44663.45, rel=1e-6)
    assert comb["cost"] == pytest.approx(50601.65, rel=1e-6)
    assert comb["icer_per_life_year"] == pytest.approx(6275.96, rel=1e-6)


@pytest.mark.verification(
    kind="closed form",
    against="a hand calculation of the Chancellor model's costs and life-years",
    tolerance="rel 1e-12")
def test_matches_an_independent_hand_calculation(inputs):
    summary = chancellor.summarise(chancellor.evaluate(chancellor.base_case(inputs), inputs))
    for strategy, (cost, life_years) in _hand_calculation(inputs).items():
        assert summary.loc[strategy, "cost"] == pytest.approx(cost, rel=1e-12)
        assert summary.loc[strategy, "life_years"] == pytest.approx(life_years, rel=1e-12)


def test_psa_draws_reproduce_their_distributions(inputs):
    n = 20_000
    draws = chancellor.sample(inputs, n, seed=7)
    base = chancellor.base_case(inputs)
    # Dirichlet rows: mean equals the observed proportions; SE of a mean is sd / sqrt(n)
    mean = draws.transition.mean(axis=0)
    sd = draws.transition.std(axis=0)
    assert np.all(np.abs(mean - base.transition[0]) <= 4 * sd / np.sqrt(n) + 1e-15)
    np.testing.assert_allclose(draws.transition.sum(axis=2), 1.0, rtol=1e-12)
    # log-normal RR: median 0.509, log-scale SE from the 95% CI
    log_se = (np.log(0.710) - np.log(0.365)) / 3.919927969
    assert abs(np.log(draws.relative_risk).mean() - np.log(0.509)) < 4 * log_se / np.sqrt(n)
    assert np.log(draws.relative_risk).std() == pytest.approx(log_se, rel=0.03)
    # gamma costs with SE equal to the mean: a sum of two, mean and variance add
    means = np.array([[1701, 1774, 6948, 0], [1055, 1278, 2059, 0]])
    expected_sd = np.sqrt((means**2).sum(axis=0))
    assert np.all(np.abs(draws.state_costs.mean(axis=0) - means.sum(axis=0)) <= 4 * expected_sd / np.sqrt(n))


def test_psa_is_reproducible_and_vectorised(inputs):
    first = chancellor.evaluate(chancellor.sample(inputs, 500, seed=3), inputs)
    second = chancellor.evaluate(chancellor.sample(inputs, 500, seed=3), inputs)
    assert first.equals(second)
    assert len(first) == 1000
    summary = chancellor.summarise(first)
    assert 4000 < summary.loc["combination", "icer_per_life_year"] < 9000


def test_bad_inputs_file_names_the_field(tmp_path, inputs):
    data = inputs.model_dump()
    data["annual_drug_costs"]["lamivudine"]["value"] = -5
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"bad\.yaml: annual_drug_costs\.lamivudine\.value = -5: Input should be greater than or equal to 0"):
        chancellor.load_inputs(path)


def test_bad_state_in_inputs_is_named(tmp_path, inputs):
    import yaml

    data = inputs.model_dump()
    data["transition_counts"]["rows"]["A"]["E"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"transition_counts\.rows\.A\.E\.\[key\] = 'E': Input should be 'A', 'B', 'C' or 'D'"):
        chancellor.load_inputs(path)


# ---------------------------------------------------------------------------------
# the same model as data: analyses/chancellor.yaml on the markov structure
# ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def as_data():
    inputs = load_analysis(ANALYSIS)
    return inputs, results_table(build_model(inputs).evaluate(inputs.base_case())).set_index("strategy")


@pytest.mark.verification(
    kind="textbook",
    against="the same printed results from the model as data (markov structure), and the hand calculation",
    tolerance="every printed digit; rel 1e-12 against the hand calculation")
def test_the_markov_structure_reproduces_the_printed_results(as_data, inputs):
    _, table = as_data
    mono, comb = table.loc["monotherapy"], table.loc["combination"]
    assert round(mono["cost"], 2) == 44663.45 and round(mono["life_years"], 4) == 7.9912
    assert round(comb["cost"], 2) == 50601.65 and round(comb["life_years"], 4) == 8.9374
    icer = (comb["cost"] - mono["cost"]) / (comb["life_years"] - mono["life_years"])
    assert round(icer, 2) == 6275.96
    assert (table["qalys"] == table["life_years"]).all()  # utility 1 in every living state
    # against the hand calculation and the original implementation (to rounding)
    legacy = chancellor.summarise(chancellor.evaluate(chancellor.base_case(inputs), inputs))
    for strategy, (cost, life_years) in _hand_calculation(inputs).items():
        assert table.loc[strategy, "cost"] == pytest.approx(cost, rel=1e-12)
        assert table.loc[strategy, "life_years"] == pytest.approx(life_years, rel=1e-12)
        assert table.loc[strategy, "cost"] == pytest.approx(legacy.loc[strategy, "cost"], rel=1e-12)
    # lamivudine in the first two cycles only; zidovudine throughout
    assert 0 < comb["cost_lamivudine_drugs"] < 2 * 2086.5
    assert mono["cost_lamivudine_drugs"] == 0


def test_the_original_api_reads_the_same_evidence(as_data, inputs):
    data_inputs, _ = as_data
    evidence = data_inputs.evidence
    assert inputs.transition_counts.rows["A"] == {"A": 1251, "B": 350, "C": 116, "D": 17}
    assert inputs.annual_drug_costs["lamivudine"].value == evidence["chancellor_1997.cost_lamivudine_per_year"].value.value
    assert inputs.relative_risk.ci95 == (0.365, 0.710)
    assert inputs.settings.combination_years == 2 and inputs.settings.counting == "end"


def test_settings_restated_outside_the_evidence_agree_with_it(as_data):
    """The matrix's cycle length and the analysis's grid are settings, not references
    (tests/inputs/test_params.py: the only numbers of the model files): they must say what
    the evidence file says."""
    inputs, _ = as_data
    value = {name: inputs.evidence[f"chancellor_1997.{name}"].value.value
             for name in ("cycle_length_years", "horizon_years")}
    assert inputs.analysis.cycle_length_days / 365.25 == value["cycle_length_years"]
    assert inputs.analysis.horizon_years == value["horizon_years"]
    assert inputs.populations["hiv"].transitions["observed"].cycle_length_years == value["cycle_length_years"]


def test_an_old_format_file_given_as_a_path_still_loads(tmp_path, inputs):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(inputs.model_dump()))
    assert chancellor.load_inputs(path) == inputs


@pytest.mark.slow
def test_command_line_run_psa_and_dsa(tmp_path, capsys):
    assert main(["run", str(ANALYSIS), "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    for figure in ("44,663", "7.991", "50,602", "8.937", "6,276"):  # money printed in whole pounds
        assert figure in printed
    written = pd.read_csv(tmp_path / "run" / "incremental_hiv.csv").set_index("strategy")
    assert round(written.loc["combination", "icer_per_qaly"], 2) == 6275.96
    assert main(["psa", str(ANALYSIS), "-n", "200", "--out", str(tmp_path / "psa")]) == 0
    summary = pd.read_csv(tmp_path / "psa" / "psa_summary.csv").set_index("strategy")
    assert 40_000 < summary.loc["monotherapy", "cost_mean"] < 50_000
    assert main(["dsa", str(ANALYSIS), "--out", str(tmp_path / "dsa")]) == 0
    ranges = pd.read_csv(tmp_path / "dsa" / "dsa_ranges.csv").set_index("reference")
    assert "chancellor_1997.count_a_to_b" in ranges.index  # transition counts vary one at a time
    tornado = pd.read_csv(tmp_path / "dsa" / "tornado_icer_hiv.csv").set_index("reference")
    # the relative risk at its 95% CI bounds: GBP 5,336 to 9,074, beside the ICER interval that
    # Chancellor et al. report (GBP 5,337 to 9,075)
    low, high = tornado.loc["chancellor_1997.relative_risk_combination", ["outcome_low", "outcome_high"]]
    assert round(low) == 5336 and round(high) == 9074
    prices = pd.read_csv(tmp_path / "dsa" / "threshold_prices.csv")
    assert set(prices["price"]) == {"chancellor_1997.cost_lamivudine_per_year"}
