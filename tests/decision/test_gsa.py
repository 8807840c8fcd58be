"""Global sensitivity analysis (markov/gsa.py): Sobol indices of the Ishigami function
against their analytic values, grouped indices, Morris screening of a linear function,
and the model-level wrappers."""
import numpy as np
import pytest
import yaml

from markov.decision import gsa
from markov._validate import InputError
from markov.inputs import load_analysis
from markov.probabilistic.psa import run_psa

A, B = 7.0, 0.1


def ishigami(uniforms: np.ndarray) -> dict[str, np.ndarray]:
    x = -np.pi + 2 * np.pi * uniforms
    return {"y": np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])}


def ishigami_indices():
    """Analytic variances of the Ishigami function (Ishigami & Homma 1990)."""
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    first = np.array([v1, v2, 0.0]) / total
    total_order = np.array([v1 + v13, v2, v13]) / total
    return first, total_order


@pytest.mark.verification(
    kind="closed form",
    against="the analytic Sobol indices of the Ishigami function",
    tolerance="within SALib's bootstrap interval plus 0.01")
def test_sobol_indices_of_ishigami_match_the_analytic_values():
    """Within SALib's 95% bootstrap intervals (plus 0.01 for their own Monte-Carlo error)."""
    table = gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 2048, seed=3)
    first, total = ishigami_indices()
    assert first == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)  # the published values
    assert total == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    assert (np.abs(table["S1"] - first) <= table["S1_conf"] + 0.01).all()
    assert (np.abs(table["ST"] - total) <= table["ST_conf"] + 0.01).all()
    assert table.attrs["evaluations"] == 2048 * (3 + 2)


def test_grouped_sobol_indices_of_ishigami():
    """Group {x1, x2}: first order S1 + S2 (x1 and x2 do not interact); total order
    1 − S1(x3) = 1, since x3 has no first-order effect. Group {x3}: its own total index."""
    table = gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 2048, seed=4,
                              groups={"x1 and x2": ["x1", "x2"], "x3": ["x3"]}).set_index("parameter")
    first, total = ishigami_indices()
    assert table.attrs["evaluations"] == 2048 * (2 + 2)
    assert abs(table.at["x1 and x2", "S1"] - (first[0] + first[1])) <= table.at["x1 and x2", "S1_conf"] + 0.01
    assert abs(table.at["x1 and x2", "ST"] - 1.0) <= table.at["x1 and x2", "ST_conf"] + 0.01
    assert abs(table.at["x3", "ST"] - total[2]) <= table.at["x3", "ST_conf"] + 0.01
    with pytest.raises(InputError, match="belong to no group"):
        gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 64, groups={"a": ["x1"]})
    with pytest.raises(InputError, match="already in group"):
        gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 64, groups={"a": ["x1", "x2"], "b": ["x2", "x3"]})


def test_morris_screens_a_linear_function():
    """y = 3·u1 + 1·u2 + 0·u3: every elementary effect of input i is its coefficient
    (SALib reports effects per unit of the input's range), so μ* = |c_i| and σ = 0."""
    coefficients = np.array([3.0, 1.0, 0.0])
    table = gsa.morris_indices(lambda u: {"y": u @ coefficients}, ["a", "b", "c"], 20, seed=2)
    width = gsa.HIGH_QUANTILE - gsa.LOW_QUANTILE
    np.testing.assert_allclose(table["mu_star"], coefficients * width, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-9)


def test_model_sobol_runs_grouped_by_source(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10,
                                    "populations": ["mvi"]}))
    inputs = load_analysis(path)
    groups = gsa.groups_by_source(inputs)
    table = gsa.sobol(inputs, 8, wtp=150_000, groups=groups)
    assert table.attrs["evaluations"] == 8 * (len(groups) + 2)
    assert list(table["parameter"]) == list(groups)
    assert (table["population"] == "mvi").all()
    # cabozantinib follows sorafenib only, which is not in the comparison (Atezo-Bev vs TACE ± RT)
    unused = table.set_index("parameter").at["li_2021_cabozantinib_price", "ST"]
    assert unused == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(InputError, match="wtp is None"):
        gsa.sobol(inputs, 8)


def test_moment_independent_indices_on_a_psa_sample(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10,
                                    "populations": ["mvi"]}))
    psa = run_psa(load_analysis(path), 1000, seed=1)
    pawn = gsa.pawn(psa, "mvi", 150_000.0).set_index("parameter")
    delta = gsa.delta(psa, "mvi", 150_000.0, resamples=5).set_index("parameter")
    # the MVI comparison turns on Kim 2025's hazard ratio, on who starts Atezo-Bev after TACE ± RT
    # (assumed shares, drawn jointly) and on the dose intensity that prices the costliest arm;
    # cabozantinib (after sorafenib) is not in it
    top = "kim_2025.pfs_hazard_ratio_atezo_bev_vs_locoregional"
    unused = "li_2021_cabozantinib_price.price_cabozantinib_60mg"
    assert top in pawn.index[:6] and top in delta.index[:6]
    assert pawn["median"].iloc[0] > 2 * pawn.at[unused, "median"] and pawn.at[top, "median"] > pawn.at[unused, "median"]
    assert delta["delta"].iloc[0] > 2 * delta.at[unused, "delta"] and delta.at[top, "delta"] > delta.at[unused, "delta"]


def test_seed_zero_is_reproducible():
    """SALib's analyzers take a seed of 0 as none; ours passes them seed + 1."""
    first = gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 256, seed=0)
    second = gsa.sobol_indices(ishigami, ["x1", "x2", "x3"], 256, seed=0)
    assert first.equals(second)


def test_morris_refuses_groups_and_empty_designs():
    with pytest.raises(InputError, match="Morris with groups"):
        gsa.morris_indices(ishigami, ["x1", "x2", "x3"], 4, groups={"a": ["x1", "x2"], "b": ["x3"]})
    with pytest.raises(InputError, match="no uncertain inputs"):
        gsa.sobol_indices(ishigami, [], 8)
