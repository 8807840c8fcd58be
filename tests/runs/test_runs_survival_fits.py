"""What markov/runs/survival_fits.py writes for curves fitted to patient-level data: the
comparison of candidate models (each the fit markov.survival.fit makes, the model file's
choice flagged with its reason), their predictions beside data they did not see, and the
TSD 14 figures, in every format with labelled axes; the Python API gives the same."""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

import markov
from markov.cli import main
from markov.inputs import load_analysis
from markov.models import build_model
from markov.results import (
    FIT_FIGURES,
    SURVIVAL_FITS,
    SURVIVAL_FITS_VALIDATION,
    ResultsDirectory,
    fit_figure,
    read_table,
)
from markov.runs.figures import FigureWriter
from markov.runs.survival_fits import NO_REASON, survival_fits_table, validation_table, write_survival_fits
from markov.survival import PatientData, SplineModel, candidate_models, fit

IPD = "ipd/imbrave150_finn2020_fig1a.csv"
#: Test evidence (value, unit, extra fields): a later median with its CI and a landmark.
VALUES = {"median_later": (13.4, "months", {"ci95": [11.4, 16.9]}), "three_years": (3.0, "years", {}),
          "alive_at_three_years": (0.198, "proportion", {})}
EXTERNAL = {"median": "t.median_later", "landmarks": [{"time": "t.three_years", "survival": "t.alive_at_three_years"}],
            "note": "a later data cut"}
CURVES = {
    "sorafenib_os": {"kind": "fit", "file": IPD, "arm": "sorafenib", "time_unit": "months", "family": "lnorm",
                     "reason": "lowest AIC and BIC", "external": EXTERNAL},
    # a model outside the standard candidates, and no reason
    "atezo_bev_os": {"kind": "fit", "file": IPD, "arm": "atezobeva", "time_unit": "months", "family": "spline",
                     "internal_knots": 2, "scale": "odds"},
}
TABLE_COLUMNS = ["population", "curve", "data_file", "arm", "n", "events", "model", "label", "n_parameters",
                 "log_likelihood", "aic", "bic", "delta_aic", "delta_bic", "median_months", "restricted_mean_years",
                 "survival_1y", "survival_2y", "survival_5y", "converged", "problem", "chosen", "reason"]


def arm(name: str) -> PatientData:
    rows = pd.read_csv(Path(markov.inputs.evidence.shipped_evidence_directory().parent, IPD)).query(f"arm == '{name}'")
    return PatientData(rows["time"].to_numpy(float), rows["event"].to_numpy(float), "months")


@pytest.fixture(scope="module")
def analysis_path(tmp_path_factory) -> Path:
    """The shipped model (imbrave150 only, monthly cycles) with the two fitted curves added."""
    root = tmp_path_factory.mktemp("fits")
    (root / "ev").mkdir()
    values = {name: {"value": v, "unit": unit, "status": "unverified", "where": "test", **extra}
              for name, (v, unit, extra) in VALUES.items()}
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump(
        {"source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"}, "values": values}))
    path = root / "fits.yaml"
    path.write_text(yaml.safe_dump({
        "name": "fits", "populations": ["imbrave150"], "evidence_directories": ["ev"], "horizon_years": 15,
        "cycle_length_days": 30.4375, "overrides": {"populations": {"imbrave150": {"curves": CURVES}}}},
        sort_keys=False))
    return path


@pytest.fixture(scope="module")
def base(analysis_path):
    return markov.load(analysis_path).base_case()


def test_every_candidate_of_every_fitted_curve_is_the_fit_markov_survival_makes(base):
    table = base.survival_fits()
    assert list(table.columns) == TABLE_COLUMNS
    standard = [model.name for model in candidate_models()]
    sorafenib, atezo_bev = (table[table["curve"] == curve].set_index("model") for curve in CURVES)
    assert list(sorafenib.index) == standard
    assert list(atezo_bev.index) == [*standard, "spline_odds_2knot"]  # the chosen model is compared too
    for rows, data in ((sorafenib, arm("sorafenib")), (atezo_bev, arm("atezobeva"))):
        assert (rows["n"] == len(data.time)).all() and (rows["events"] == data.n_events).all()
        assert (rows["data_file"] == IPD).all()
        for name in ("weibull", "lnorm", "gengamma", "spline_hazard_3knot"):
            model = SplineModel(3) if name == "spline_hazard_3knot" else name
            result = fit(model, data)
            assert rows.loc[name, "log_likelihood"] == pytest.approx(result.log_likelihood, rel=1e-12)
            assert rows.loc[name, "aic"] == pytest.approx(result.aic, rel=1e-12)
            assert rows.loc[name, "bic"] == pytest.approx(result.bic, rel=1e-12)
        assert rows["delta_aic"].min() == 0 and rows["delta_bic"].min() == 0
    # the chosen flag follows the model file, with its reason or a note that it gives none
    chosen = table[table["chosen"] & table["curve"].isin(CURVES)]  # the shipped model's own fits aside
    assert list(zip(chosen["curve"], chosen["model"], chosen["reason"])) == [
        ("sorafenib_os", "lnorm", "lowest AIC and BIC"), ("atezo_bev_os", "spline_odds_2knot", NO_REASON)]
    assert (table.loc[~table["chosen"], "reason"] == "").all()


def test_the_chosen_rows_extrapolation_is_the_models_own_curve(base, analysis_path):
    inputs = load_analysis(analysis_path)
    model = build_model(inputs)
    curves = model.curves(inputs.populations["imbrave150"], inputs.base_case())
    table = base.survival_fits()
    for curve in CURVES:
        row = table[(table["curve"] == curve) & table["chosen"]].iloc[0]
        own = curves[curve]
        np.testing.assert_allclose(row[["survival_1y", "survival_2y", "survival_5y"]].to_numpy(float),
                                   own.survival_at_years([1.0, 2.0, 5.0])[0], rtol=1e-12)
        assert row["median_months"] == pytest.approx(own.median()[0], rel=1e-9)
        assert row["restricted_mean_years"] == pytest.approx(own.restricted_mean(15 * 12)[0] / 12, rel=1e-9)


def test_predictions_stand_beside_the_data_the_fit_did_not_see(base):
    validation = base.survival_fits_validation()
    validation = validation[validation["curve"].isin(CURVES)]  # the shipped model's own fits aside
    assert set(validation["curve"]) == {"sorafenib_os"}  # the other names no external targets
    usable = base.survival_fits().query("curve == 'sorafenib_os' and problem == ''")["model"]
    assert list(validation["model"].unique()) == list(usable)
    lnorm = validation[validation["model"] == "lnorm"].set_index("measure")
    assert list(lnorm.index) == ["median (months)", "survival at 3 years"]
    curve = fit("lnorm", arm("sorafenib")).curve
    assert lnorm.loc["median (months)", "predicted"] == pytest.approx(curve.median()[0], rel=1e-9)
    assert lnorm.loc["survival at 3 years", "predicted"] == pytest.approx(curve.survival([36.0])[0, 0], rel=1e-12)
    median = lnorm.loc["median (months)"]
    assert (median["reported"], median["ci95_low"], median["ci95_high"], median["status"]) == \
        (13.4, 11.4, 16.9, "unverified")
    assert median["within_ci"] == (11.4 <= median["predicted"] <= 16.9)
    assert pd.isna(lnorm.loc["survival at 3 years", "within_ci"])  # no CI given
    np.testing.assert_allclose(lnorm["difference"], lnorm["predicted"] - lnorm["reported"], rtol=1e-14)
    assert lnorm["chosen"].all() and (lnorm["note"] == "a later data cut").all()


@pytest.mark.parametrize("kind, x_label, y_label", [
    ("observed", "Time (months)", "Proportion surviving"), ("extrapolation", "Time (months)", "Proportion surviving"),
    ("hazards", "Time (months)", "Hazard (events per patient-month)"),
    ("log_cumulative_hazard", "Time (months, log scale)", "log(−log S(t))")])
def test_each_figure_has_labelled_axes_and_names_the_models(base, kind, x_label, y_label):
    figure = base.plot_fits("sorafenib_os", kind=kind)
    main, bottom = figure.axes[0], figure.axes[-1]
    assert (bottom.get_xlabel(), main.get_ylabel()) == (x_label, y_label)
    labels = [text.get_text() for text in main.get_legend().get_texts()]
    if kind == "log_cumulative_hazard":
        assert labels == ["Atezolizumab + bevacizumab", "Sorafenib (fitted)"]  # the sidecar's labels, file order
    else:
        assert "Log-normal (chosen)" in labels and "Spline (hazard, 3 knots)" in labels
        assert "Weibull (AFT and PH)" in labels  # one curve, drawn once
    if kind == "extrapolation":
        assert "Reported (T)" in labels  # the source by its label
    plt.close(figure)


def test_an_analysis_without_fitted_curves_writes_nothing_of_this(tmp_path):
    inputs = load_analysis(Path(__file__).parents[2] / "analyses" / "chancellor.yaml")
    assert write_survival_fits(inputs, tmp_path, FigureWriter()) == [] and not any(tmp_path.iterdir())
    assert survival_fits_table(inputs, []).empty and validation_table(inputs, []).empty


def test_plot_fits_names_the_fitted_curves_when_asked_for_another(base):
    with pytest.raises(markov.InputError, match=r"curve 'pfs' of population 'imbrave150': not fitted to "
                                                r"patient-level data .*fitted curves: .*sorafenib_os \(imbrave150\)"):
        base.plot_fits("pfs")


@pytest.mark.slow
def test_markov_run_writes_the_tables_and_figures_the_api_gives(analysis_path, base, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(analysis_path), "--out", str(out)]) == 0
    directory = ResultsDirectory(out)
    written = read_table(directory.table(SURVIVAL_FITS))
    for column in ("problem", "reason"):  # an empty text is read back as missing
        written[column] = ["" if pd.isna(text) else text for text in written[column]]
    pd.testing.assert_frame_equal(written, base.survival_fits(), check_dtype=False)
    validation = read_table(directory.table(SURVIVAL_FITS_VALIDATION))
    assert len(validation) == len(base.survival_fits_validation())
    for curve in CURVES:
        for kind in FIT_FIGURES:
            stem = directory.figure(fit_figure(kind, curve), "imbrave150")
            for suffix in (".png", ".svg"):
                assert stem.with_name(stem.name + suffix).stat().st_size > 5000, (kind, suffix)
