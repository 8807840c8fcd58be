"""Every analysis shipped in analyses/ runs from the command line as a user would run it:
``markov run FILE --out DIR`` and ``markov psa FILE -n 200 --out DIR``, each structure
from data alone."""
from pathlib import Path

import pandas as pd
import pytest

from markov.cli import main
from markov.inputs import load_analysis
from markov.models import build_model, model_vs_data

ANALYSES = Path(__file__).resolve().parents[2] / "analyses"
FILES = sorted(ANALYSES.glob("*.yaml"))


def test_the_shipped_analyses_are_there():
    assert {path.name for path in FILES} >= {"hcc_base_case.yaml", "chancellor.yaml", "hcc_three_lines.yaml",
                                             "hcc_partitioned_survival.yaml"}


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_run_and_psa_from_the_command_line(path, tmp_path, capsys):
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 0
    assert main(["psa", str(path), "-n", "200", "--out", str(tmp_path / "psa")]) == 0
    assert "markov: error" not in capsys.readouterr().err
    results = pd.concat([pd.read_csv(p) for p in sorted((tmp_path / "run").glob("results_*.csv"))])
    summary = pd.read_csv(tmp_path / "psa" / "psa_summary.csv")
    assert len(summary) == len(results) > 0
    assert (results["cost"] > 0).all() and (results["qalys"] > 0).all()
    # the PSA means lie near the base case (within the 95% intervals of the draws)
    merged = summary.merge(results, on=["population", "strategy"])
    assert ((merged["cost_2.5%"] <= merged["cost"]) & (merged["cost"] <= merged["cost_97.5%"])).all()


def test_the_three_line_analysis_has_a_third_line_in_every_strategy(tmp_path, capsys):
    assert main(["run", str(ANALYSES / "hcc_three_lines.yaml"), "--out", str(tmp_path)]) == 0
    results = pd.read_csv(tmp_path / "results_imbrave150.csv")
    third_line = results.filter(regex=r"^life_years_third_line").sum(axis=1)  # on and off treatment
    assert (third_line > 0).all() and (results["cost_third_line_drugs"] > 0).all()


def test_chancellor_from_data_gives_the_textbook_numbers(tmp_path, capsys):
    assert main(["run", str(ANALYSES / "chancellor.yaml"), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for figure in ("44,663", "7.991", "50,602", "8.937", "6,276"):  # money printed in whole pounds
        assert figure in printed, figure
    # Briggs et al. 2006, exercise 2.5, to the published 2 decimals (costs, ICER) and 4 (life-years)
    incremental = pd.read_csv(tmp_path / "incremental_hiv.csv").set_index("strategy")
    assert incremental.loc["monotherapy", "cost"] == pytest.approx(44_663.45, abs=0.005)
    assert incremental.loc["combination", "cost"] == pytest.approx(50_601.65, abs=0.005)
    assert incremental.loc["monotherapy", "qalys"] == pytest.approx(7.9912, abs=5e-5)
    assert incremental.loc["combination", "qalys"] == pytest.approx(8.9374, abs=5e-5)
    assert incremental.loc["combination", "icer_per_qaly"] == pytest.approx(6_275.96, abs=0.005)


@pytest.mark.parametrize("name", ["hcc_base_case", "hcc_three_lines", "hcc_partitioned_survival"])
def test_the_imbrave150_strategies_are_compared_with_their_trials_data(name):
    """Atezo-Bev and sorafenib with IMbrave150's arms (Finn 2020), lenvatinib with REFLECT's:
    the shipped reconstructed data (their patients, deaths and KM medians as the evidence's
    README lists them). Nothing is calibrated to them: the model's OS is earned from its
    parts, and for Atezo-Bev and sorafenib it lies inside the Kaplan-Meier 95% CI for most of
    follow-up (the misses, and why, are in docs/validation.md)."""
    inputs = load_analysis(ANALYSES / f"{name}.yaml")
    model = build_model(inputs)
    results = model.evaluate(inputs.base_case())
    summary = model_vs_data(model, results).summary.set_index("strategy")
    assert list(summary.index) == ["atezo_bev", "sorafenib", "lenvatinib"]
    assert (summary["population"] == "imbrave150").all()
    assert list(summary["data_file"]) == ["ipd/imbrave150_finn2020_fig1a.csv"] * 2 + ["ipd/reflect_kudo2018_fig2.csv"]
    assert list(summary["arm"]) == ["atezobeva", "sorafenib", "lenvatinib"]
    assert list(summary["patients"]) == [336, 165, 478] and list(summary["events"]) == [95, 64, 350]
    assert pd.isna(summary.loc["atezo_bev", "median_km_months"])  # not reached in the primary analysis
    assert list(summary["median_km_months"].iloc[1:]) == [13.2, 13.5]
    for strategy in ("atezo_bev", "sorafenib"):
        assert summary.loc[strategy, "share_inside_ci"] >= 0.75, strategy
        assert abs(summary.loc[strategy, "largest_gap_outside"]) < 0.03, strategy
    if name != "hcc_partitioned_survival":
        strategies = inputs.populations["imbrave150"].strategies.values()
        assert all(strategy.post_progression.calibrated_to is None for strategy in strategies)
