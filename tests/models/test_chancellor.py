"""The Chancellor et al. (1997) HIV model reproduces Briggs, Claxton & Sculpher (2006)."""
import numpy as np
import pytest

from markov import InputError
from markov.models import chancellor


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
