"""The Python API (markov/api): one entry point, validated in-memory changes that reach
every analysis, tidy tables keyed by strategy with labels beside, and figures.

Results are checked against the layers below the API, computed separately here."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import markov
from markov import InputError
from markov.decision import cea
from markov.inputs import load_analysis
from markov.models import build_model, model_vs_data, results_table
from markov.probabilistic.psa import run_psa

UTILITY = "su_2021.utility_progressed"


@pytest.fixture(scope="module")
def small_path(tmp_path_factory):
    """The shipped model on a coarse grid (monthly cycles, 10 years) to keep runs short."""
    path = tmp_path_factory.mktemp("api") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    return path


@pytest.fixture(scope="module")
def small(small_path):
    return markov.load(small_path)


def test_load_without_a_path_is_the_shipped_base_case():
    analysis = markov.load()
    assert analysis.name == "hcc_base_case" and analysis.populations == ["imbrave150", "mvi"]
    strategies = analysis.strategies()
    assert list(strategies.columns) == ["population", "strategy", "label", "role"]
    assert set(strategies.loc[strategies["role"] != "", "strategy"]) == {"atezo_bev", "sorafenib", "tace_rt"}


def test_base_case_table_is_the_results_and_the_incremental_analysis(small, small_path):
    table = small.base_case().table
    expected = results_table(build_model(load_analysis(small_path)).evaluate(load_analysis(small_path).base_case()))
    for column in ("cost", "life_years", "qalys"):
        np.testing.assert_array_equal(table[column], expected[column])
    assert list(table[["population", "strategy", "label"]].itertuples(index=False)) == \
        list(expected[["population", "strategy", "label"]].itertuples(index=False))
    for _, rows in table.groupby("population", sort=False):
        analysis = cea.incremental_analysis(rows["cost"].to_numpy(), rows["qalys"].to_numpy(), list(rows["strategy"]))
        assert list(rows["status"]) == list(analysis.set_index("strategy").loc[rows["strategy"], "status"])
        for name, wtp in small.thresholds.items():
            np.testing.assert_allclose(rows[f"nmb_at_{name}"], wtp * rows["qalys"] - rows["cost"], rtol=1e-12)


def test_set_changes_a_value_everywhere_and_refuses_what_the_files_refuse(small_path):
    analysis = markov.load(small_path)
    before = analysis.base_case().table
    assert analysis.set({UTILITY: 0.70}) is analysis
    after = analysis.base_case().table
    assert (after["qalys"] > before["qalys"]).all() and (after["cost"] == before["cost"]).all()
    # the PSA draws it around the new value, with the spread it had: it is the progression-free
    # utility minus a decrement, whose beta is re-fitted to the new difference with its SD kept
    draws = analysis.psa(400, seed=3).psa.parameters
    drawn, source = analysis.inputs.distributions[UTILITY], analysis.inputs.distributions[drawn_from(UTILITY)]
    sd = np.hypot(source.sd, drawn.decrement.sd)
    assert drawn.decrement.mean == pytest.approx(0.76 - 0.70, rel=1e-12)
    assert draws[UTILITY].mean() == pytest.approx(source.mean - drawn.decrement.mean, abs=4 * sd / np.sqrt(400))
    assert (draws[UTILITY] <= draws[drawn_from(UTILITY)]).all()
    original = load_analysis(small_path).distributions[UTILITY]
    assert drawn.decrement.sd == pytest.approx(original.decrement.sd, rel=1e-12)
    # a setting is a change too, and carries into the model
    assert analysis.set({"horizon_years": 5}).model.grid.horizon_years == pytest.approx(5, abs=0.02)
    for bad, rule in (({UTILITY: 1.7}, "cannot exceed 1"),
                      ({"su_2021.price_sorafenib_200mg": -5}, "must not be negative"),
                      ({UTILITY: True}, "valid number"),
                      ({"nowhere.value": 1}, "not an input"),
                      ({"horizon_years": -1}, "greater than 0")):
        with pytest.raises(InputError, match=rule):
            analysis.set(bad)
    assert analysis.inputs.analysis.horizon_years == 5  # a refused change changes nothing


def drawn_from(reference: str) -> str:
    return load_analysis().evidence[reference].value.decrement_from


def test_a_distribution_can_be_given_with_a_value(small_path):
    free = drawn_from(UTILITY)
    analysis = markov.load(small_path).set({free: {"value": 0.8, "distribution": {"type": "beta", "alpha": 80,
                                                                                    "beta": 20}}})
    assert str(analysis.inputs.distributions[free]) == "Beta(80, 20)"
    # the progressed utility follows, 0.68 + (0.8 - 0.76): it is drawn as a decrement from it
    assert analysis.base_case().table["qalys"].notna().all()
    assert analysis.inputs.evidence[UTILITY].value.value == pytest.approx(0.72, rel=1e-12)
    # its own uncertainty is the decrement's: given as such, not as a distribution of its own
    analysis.set({UTILITY: {"value": 0.6, "decrement": {"type": "beta", "alpha": 20, "beta": 80}}})
    assert str(analysis.inputs.distributions[UTILITY]) == f"{free} - Beta(20, 80)"
    draws = analysis.psa(5, seed=1).psa.parameters
    assert draws[free].between(0, 1).all() and (draws[UTILITY] <= draws[free]).all()
    with pytest.raises(InputError, match="takes no distribution of its own"):
        analysis.set({UTILITY: {"value": 0.6, "distribution": {"type": "beta", "alpha": 60, "beta": 40}}})
    with pytest.raises(InputError, match="beta"):
        analysis.set({free: {"distribution": {"type": "beta", "alpha": 60}}})


def test_psa_tables_are_keyed_by_strategy_with_labels(small, small_path):
    psa = small.psa(60, seed=2)
    direct = run_psa(load_analysis(small_path), 60, seed=2)
    pd.testing.assert_frame_equal(psa.psa.outcomes, direct.outcomes)
    labels = {(p, s): label for p, s, label in small.strategies()[["population", "strategy", "label"]].itertuples(
        index=False)}
    for table in (psa.ceac(), psa.ceaf(), psa.ce_plane(), psa.convergence(), psa.outcomes()):
        assert {"population", "strategy", "label"} <= set(table.columns)
        assert all(labels[(p, s)] == label for p, s, label in table[["population", "strategy", "label"]].itertuples(
            index=False))
    ceac = psa.ceac([0.0, 100_000.0])
    totals = ceac.groupby(["population", "wtp"])["probability_cost_effective"].sum()
    np.testing.assert_allclose(totals, 1.0, atol=1e-12)
    costs, effects, strategies = direct.costs_and_effects("imbrave150")
    frontier = psa.ceaf([100_000.0], "imbrave150")
    assert frontier["strategy"].iloc[0] == strategies[cea.optimal_strategy(costs, effects, [100_000.0])[0]]
    evpi = psa.evpi([100_000.0], "imbrave150")["evpi"].iloc[0]
    nmb = 100_000.0 * effects - costs
    assert evpi == pytest.approx(np.mean(nmb.max(axis=1)) - nmb.mean(axis=0).max(), rel=1e-12)
    summary = psa.summary()
    assert set(summary["population"]) == set(small.populations)


def test_psa_with_a_results_directory_is_resumable_and_rendered_by_markov_report(small, tmp_path):
    first = small.psa(30, seed=4, out=tmp_path / "out", chunk_size=10)
    again = small.psa(30, seed=4, out=tmp_path / "out", chunk_size=10)
    pd.testing.assert_frame_equal(first.psa.outcomes, again.psa.outcomes)
    assert len(list((tmp_path / "out" / "psa_store" / "chunks").glob("*.parquet"))) == 3
    with pytest.raises(InputError, match="another"):
        small.psa(30, seed=5, out=tmp_path / "out", chunk_size=10)


def test_figures_of_every_result(small):
    base = small.base_case()
    psa = small.psa(60, seed=2)
    figures = [base.plot_occupancy(), base.plot_survival("mvi"), psa.plot_ce_plane(), psa.plot_ceac("mvi"),
               psa.plot_evpi(), psa.plot_convergence()]
    for figure in figures:  # every figure has labelled axes and a title naming what it shows
        assert any(ax.get_xlabel() for ax in figure.axes) and any(ax.get_ylabel() for ax in figure.axes)
        assert figure.get_suptitle() or any(ax.get_title() for ax in figure.axes)
    with pytest.raises(InputError, match="not in the small analysis"):
        psa.plot_ce_plane("nowhere")


def test_model_vs_data_tables_and_figure(small, small_path):
    base = small.base_case()
    comparison = base.model_vs_data()
    inputs = load_analysis(small_path)
    model = build_model(inputs)
    expected = model_vs_data(model, model.evaluate(inputs.base_case()))
    pd.testing.assert_frame_equal(comparison.summary, expected.summary)
    pd.testing.assert_frame_equal(comparison.table, expected.table)
    assert list(comparison.summary["strategy"]) == ["atezo_bev", "sorafenib", "lenvatinib"]
    figure = base.plot_model_vs_data()  # the first population whose strategies name data
    assert figure is not None and "Model overall survival against trial data" in figure.get_suptitle()
    assert {ax.get_title() for ax in figure.axes} >= {"Atezo-Bev", "Sorafenib", "Lenvatinib"}
    assert any(ax.get_xlabel() == "Months since randomisation" for ax in figure.axes)
    assert any(ax.get_ylabel() == "Overall survival" for ax in figure.axes)
    assert base.plot_model_vs_data("imbrave150").axes
    with pytest.raises(InputError, match=r"population 'mvi': no strategy's targets name patient-level data "
                                         r"\(targets.os_data\); those of imbrave150 do"):
        base.plot_model_vs_data("mvi")
    with pytest.raises(InputError, match="not in the small analysis"):
        base.plot_model_vs_data("nowhere")
    chancellor = markov.load(Path(__file__).resolve().parents[2] / "analyses" / "chancellor.yaml").base_case()
    assert chancellor.model_vs_data().summary.empty
    with pytest.raises(InputError, match=r"no strategy's targets name patient-level data \(targets.os_data\)$"):
        chancellor.plot_model_vs_data()


def test_dsa_and_gsa(small):
    dsa = small.dsa()
    tornado = dsa.tornado("imbrave150")
    assert tornado["swing"].is_monotonic_decreasing or np.isinf(tornado["swing"]).any()
    assert dsa.plot_tornado().axes
    gsa = small.gsa("morris", n=4, seed=1)
    assert set(gsa.table["population"]) == set(small.populations)
    assert gsa.plot("mvi").axes
    with pytest.raises(InputError, match="method"):
        small.gsa("anova")


def test_scenario_is_a_new_analysis(small):
    scenario = small.scenario("vial_sharing")
    assert scenario.inputs.perspective.vial_sharing and not small.inputs.perspective.vial_sharing
    assert "vial_sharing" in small.scenarios


@pytest.mark.slow
def test_report_writes_the_results_directory_and_both_reports(small, tmp_path):
    files = small.report(tmp_path / "report", psa=20, dsa=False)
    assert (tmp_path / "report" / "report.xlsx") in files and (tmp_path / "report" / "report.html") in files
    assert (tmp_path / "report" / "results_imbrave150.csv").is_file()
