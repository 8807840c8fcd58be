"""Curves fitted to patient-level data when an analysis is loaded (markov/inputs/patient_data.py):
the coefficients are markov.survival.fit's on the same data, they enter the analysis as
derived evidence drawn jointly from the fit's multivariate normal, the builder makes the
curve from the drawn coefficients, a sequencing model runs on a fitted first line from the
command line, and bad data files give one error naming the file, the column or arm and the
rule. The data are simulated here (Weibull event times, uniform censoring).
"""
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from curve_analyses import VALUES, analysis, drawn_as_if_followed

from markov import InputError
from markov.cli import main
from markov.decision.dsa import input_ranges
from markov.inputs import load_analysis
from markov.inputs import patient_data as patient_data_module
from markov.inputs.load import shipped_models
from markov.models import build_model
from markov.models.shared import SharedWork
from markov.runs import inputs_table
from markov.runs.survival_fits import compare_fitted_curves, find, survival_fits_table
from markov.survival import (
    GeneralPopulationSurvival,
    KaplanMeier,
    KaplanMeierWithTail,
    LifeTable,
    MixtureCureModel,
    PatientData,
    PiecewiseExponentialModel,
    SplineModel,
    fit,
    fit_tail,
)


def simulated(seed: int, n: int, shape: float, scale: float, cured: float = 0.0) -> pd.DataFrame:
    """Weibull event times (months) censored uniformly over 3 to 40 months; a share
    ``cured`` never has the event."""
    rng = np.random.default_rng(seed)
    true = np.where(rng.uniform(size=n) < cured, np.inf, scale * rng.weibull(shape, n))
    censoring = rng.uniform(3, 40, n)
    return pd.DataFrame({"time": np.round(np.minimum(true, censoring), 6), "event": (true <= censoring).astype(int)})


def write_data(path: Path) -> dict[str, PatientData]:
    """Three arms as a CSV, interleaved as files come; returns each arm's data in the file's order."""
    arms = {"control": simulated(1, 300, 1.3, 11.0), "treated": simulated(2, 250, 1.1, 17.0),
            "plateau": simulated(3, 400, 1.4, 8.0, cured=0.3)}
    frame = pd.concat([rows.assign(arm=arm) for arm, rows in arms.items()]).sample(frac=1.0, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return {arm: PatientData(rows["time"].to_numpy(float), rows["event"].to_numpy(float), "months")
            for arm, rows in frame.groupby("arm", sort=False)}


def fitted(family: str, **options) -> dict:
    return {"kind": "fit", "file": "data/os.csv", "arm": "control", "time_unit": "months", "family": family,
            **options}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("fits")
    return root, write_data(root / "data" / "os.csv")


def load(root: Path, curves: dict, name: str = "fits", values: dict | None = None):
    return load_analysis(analysis(root, curves, values, name=name))


def coefficients(inputs, curve: str) -> list[str]:
    return list(inputs.populations["imbrave150"].curves[curve].estimates.coefficients)


def cohort_curve(inputs, params=None):
    model = build_model(inputs)
    return model, model.curves(inputs.populations["imbrave150"], inputs.base_case() if params is None else params)


def test_a_weibull_fit_enters_as_derived_evidence_drawn_jointly(data):
    root, arms = data
    inputs = load(root, {"os": fitted("weibull")})
    expected = fit("weibull", arms["control"])
    refs = coefficients(inputs, "os")
    assert refs == ["fit_os.log_shape", "fit_os.log_scale"]
    # the coefficients are the fit's, to the last digit, with its covariance as their joint distribution
    np.testing.assert_array_equal([inputs.evidence[ref].value.value for ref in refs], expected.coefficients)
    joint = inputs.distributions[refs[0]]
    assert joint.references == tuple(refs) and inputs.distributions[refs[1]].name == joint.name
    np.testing.assert_allclose(joint.distribution.covariance, expected.covariance, rtol=1e-15, atol=1e-300)
    item = inputs.evidence[refs[0]].value
    assert (item.unit, item.status) == ("coefficient", "calculated")
    for text in ("maximum-likelihood fit of weibull", "data/os.csv", "arm 'control'", "n = 300",
                 f"{arms['control'].n_events} events"):
        assert text in item.calculation
    # the base case uses the estimates: the curve is the fit's
    model, curves = cohort_curve(inputs)
    np.testing.assert_allclose(curves["os"].survival_on_grid(model.grid), expected.curve.survival_on_grid(model.grid),
                               rtol=1e-12, atol=1e-14)
    # a probabilistic analysis draws them with the fit's covariance (in worker processes too), and the
    # curve follows the draws (no strategy follows the test curve: drawn as if one did)
    inputs = pickle.loads(pickle.dumps(drawn_as_if_followed(inputs)))
    params = inputs.sample(4000, seed=11)
    draws = np.column_stack([params[ref] for ref in refs])
    assert (np.abs(draws.mean(axis=0) - expected.coefficients) < 4 * expected.standard_errors / np.sqrt(4000)).all()
    sample_covariance, covariance = np.cov(draws.T), expected.covariance
    scale = np.sqrt((np.outer(np.diag(covariance), np.diag(covariance)) + covariance ** 2) / 4000)
    assert (np.abs(sample_covariance - covariance) < 4 * scale).all()
    _, sampled = cohort_curve(inputs, params)
    np.testing.assert_allclose(sampled["os"].survival_on_grid(model.grid),
                               expected.model.curve(draws, "months").survival_on_grid(model.grid), rtol=1e-12)
    # they are uncertain inputs, listed with their source in the inputs table; a one-way
    # analysis varies each over its own (marginal) 95% interval
    assert set(refs) <= set(inputs.uncertain)
    ranges = input_ranges(inputs, refs).set_index("reference")
    np.testing.assert_allclose(ranges[["low", "high"]].to_numpy(),
                               expected.coefficients[:, None] + np.outer(expected.standard_errors, [-1, 1]) * 1.959964,
                               rtol=1e-6)
    table = inputs_table(inputs).set_index("reference")
    assert table.loc[refs[0], "source"] == "patient-level data data/os.csv"
    assert table.loc[refs[0], "used_by"] == "populations.imbrave150.curves.os"


def test_one_fit_that_populations_share_is_one_uncertain_input(data):
    # both shipped populations take "os" from the same arm and model, and each its own "own"
    root, _ = data
    path = analysis(root, {"os": fitted("weibull"), "own": fitted("weibull", arm="treated")}, name="shared")
    settings = yaml.safe_load(path.read_text())
    settings["populations"] = ["imbrave150", "mvi"]
    settings["overrides"]["populations"]["mvi"] = {"curves": {"os": fitted("weibull"),
                                                              "own": fitted("weibull", arm="plateau")},
                                                   "start_age": "t.age", "share_female": "t.female"}
    path.write_text(yaml.safe_dump(settings))
    inputs = drawn_as_if_followed(load_analysis(path))
    shared = ["fit_os.log_shape", "fit_os.log_scale"]
    assert [list(inputs.populations[p].curves["os"].estimates.coefficients) for p in ("imbrave150", "mvi")] == \
        [shared, shared]
    assert inputs.uses[shared[0]] == ["populations.imbrave150.curves.os", "populations.mvi.curves.os"]
    assert [inputs.populations[p].curves["own"].estimates.coefficients[0] for p in ("imbrave150", "mvi")] == \
        ["fit_imbrave150_own.log_shape", "fit_mvi_own.log_shape"]  # one name, two fits: by population
    assert sum(ref.startswith("fit_os.") for ref in inputs.uncertain) == 2  # drawn once, not per population
    assert inputs.source_label("fit_os") == "fit to patient-level data: OS"
    assert inputs.source_label("fit_mvi_own") == "fit to patient-level data: own, MVI"
    # in a PSA both populations follow one curve, made once: the same draws, the same values
    model, params = build_model(inputs), inputs.sample(50, seed=3)
    work = SharedWork()
    curves = [model.curves(inputs.populations[p], params, work) for p in ("imbrave150", "mvi")]
    assert curves[0]["os"] is curves[1]["os"] and curves[0]["own"] is not curves[1]["own"]
    # its candidate models are compared once; its figures name no population, a population's own fit names it
    compared = [item for item in compare_fitted_curves(inputs) if item.curve in ("os", "own")]  # not the shipped
    assert [(item.curve, item.populations, item.file_population) for item in compared] == \
        [("os", ["imbrave150", "mvi"], None), ("own", ["imbrave150"], "imbrave150"), ("own", ["mvi"], "mvi")]
    table = survival_fits_table(inputs, compared)
    assert list(table.drop_duplicates(["population", "curve"])["population"]) == ["imbrave150, mvi", "imbrave150",
                                                                                  "mvi"]
    assert find(compared, "os", "mvi") is compared[0]


def test_a_fitted_coefficient_cannot_be_changed_in_memory(data):
    root, _ = data
    inputs = load(root, {"os": fitted("weibull")})
    with pytest.raises(InputError, match="estimated when the analysis is loaded.*change the data or the curve"):
        inputs.with_changes({"fit_os.log_shape": 0.1})


def test_every_model_family_is_fitted_as_markov_survival_fits_it(data):
    root, arms = data
    control = arms["control"]
    background = GeneralPopulationSurvival(LifeTable.load("us_2023"), np.array([62.0]), np.array([0.3]))
    curves = {"exp": fitted("exp"), "spline": fitted("spline", internal_knots=2, scale="odds"),
              "piecewise": fitted("piecewise_exponential", cut_points=["t.cut_6_months", "t.one_year"]),
              "cure": {**fitted("mixture_cure", uncured="weibull"), "arm": "plateau"},
              "tail": {"kind": "kaplan_meier_with_tail", "file": "data/os.csv", "arm": "treated",
                       "time_unit": "months", "cut_point": "t.one_year", "tail": "weibull"}}
    inputs = load(root, curves, name="families")
    _, tail = fit_tail("weibull", arms["treated"], 12.0)
    expected = {"exp": fit("exp", control), "spline": fit(SplineModel(2, "odds"), control),
                "piecewise": fit(PiecewiseExponentialModel([6.0, 12.0]), control),
                "cure": fit(MixtureCureModel("weibull", background), arms["plateau"]), "tail": tail}
    model, built = cohort_curve(inputs)
    for name, result in expected.items():
        refs = coefficients(inputs, name)
        np.testing.assert_array_equal([inputs.evidence[ref].value.value for ref in refs], result.coefficients)
        curve = result.curve
        if name == "tail":
            km = KaplanMeier.fit(arms["treated"].time, arms["treated"].event, time_unit="months")
            curve = KaplanMeierWithTail(km, result.curve, 12.0)
        np.testing.assert_allclose(built[name].survival_on_grid(model.grid), curve.survival_on_grid(model.grid),
                                   rtol=1e-12, atol=1e-14)
    # one coefficient: its own normal distribution, no joint block
    assert str(inputs.distributions[coefficients(inputs, "exp")[0]]).startswith("Normal(")
    # the spline's knots, placed from the data, are derived (fixed) values beside its coefficients
    knots = inputs.populations["imbrave150"].curves["spline"].estimates.knots
    np.testing.assert_array_equal([inputs.evidence[ref].value.value for ref in knots], expected["spline"].model.knots)
    assert not set(knots) & set(inputs.uncertain)


def test_each_data_file_and_fit_is_made_once_per_load(data, monkeypatch):
    root, _ = data
    calls = []
    monkeypatch.setattr(patient_data_module, "fit", lambda *args: calls.append(args) or fit(*args))
    load_analysis()
    shipped = len(calls)  # the fits the shipped model makes itself
    inputs = load(root, {"os": fitted("weibull"), "os_again": fitted("weibull"), "os_exp": fitted("exp")},
                  name="cached")
    assert len(calls) - 2 * shipped == 2
    first, again = (np.array([inputs.evidence[ref].value.value for ref in coefficients(inputs, name)])
                    for name in ("os", "os_again"))
    np.testing.assert_array_equal(first, again)


def test_a_data_file_is_found_beside_the_analysis_then_in_the_model_directory(tmp_path):
    models, analyses = tmp_path / "model", tmp_path / "analyses"
    shutil.copytree(shipped_models() / "hcc", models)
    in_models = write_data(models / "ipd" / "os.csv")["control"]
    path = analysis(analyses, {"os": {**fitted("weibull"), "file": "ipd/os.csv"}})
    settings = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**settings, "model": "../model"}))

    def estimates() -> np.ndarray:
        inputs = load_analysis(path)
        return np.array([inputs.evidence[ref].value.value for ref in coefficients(inputs, "os")])

    np.testing.assert_array_equal(estimates(), fit("weibull", in_models).coefficients)
    # a file of the same name beside the analysis comes first
    beside = simulated(9, 200, 0.9, 20.0).assign(arm="control")
    (analyses / "ipd").mkdir()
    beside.to_csv(analyses / "ipd" / "os.csv", index=False)
    beside_data = PatientData(beside["time"].to_numpy(float), beside["event"].to_numpy(float), "months")
    np.testing.assert_array_equal(estimates(), fit("weibull", beside_data).coefficients)
    # an absolute path is taken as it is
    settings["overrides"]["populations"]["imbrave150"]["curves"]["os"]["file"] = str(models / "ipd" / "os.csv")
    path.write_text(yaml.safe_dump({**settings, "model": "../model"}))
    np.testing.assert_array_equal(estimates(), fit("weibull", in_models).coefficients)


def test_the_data_source_is_the_source_of_the_fit(data):
    root, _ = data
    source = {"citation": "IMbrave150 OS, reconstructed (Guyot)", "doi": "10.1056/NEJMoa1915745"}
    inputs = load(root, {"os": fitted("weibull", source=source)}, name="sourced")
    ref = coefficients(inputs, "os")[0]
    assert inputs.evidence[ref].source.citation == source["citation"]
    assert inputs.evidence[ref].source.doi == source["doi"]
    with pytest.raises(InputError, match=r"curves\.os\.source.*a source needs a doi or a url"):
        load(root, {"os": fitted("weibull", source={"citation": "somewhere"})}, name="unsourced")


def test_shipped_patient_data_are_found_and_cited_as_their_sidecar_says(tmp_path):
    curve = {"kind": "fit", "file": "ipd/imbrave150_finn2020_fig1a.csv", "arm": "sorafenib", "time_unit": "months",
             "family": "lnorm"}
    inputs = load_analysis(analysis(tmp_path, {"os": curve}, name="shipped_data"))
    shipped = shipped_models() / "ipd" / "imbrave150_finn2020_fig1a.csv"
    rows = pd.read_csv(shipped).query("arm == 'sorafenib'")
    patients = PatientData(rows["time"].to_numpy(float), rows["event"].to_numpy(float), "months")
    expected = fit("lnorm", patients)
    estimates = inputs.populations["imbrave150"].curves["os"].estimates
    np.testing.assert_array_equal([inputs.evidence[ref].value.value for ref in estimates.coefficients],
                                  expected.coefficients)
    # the load keeps the data and the fit, for the comparison of candidate models
    assert estimates.data_file == shipped.resolve()
    np.testing.assert_array_equal(estimates.patients.time, patients.time)
    np.testing.assert_array_equal(estimates.fit.coefficients, expected.coefficients)
    # with no source of its own, the fit cites the three works the sidecar names
    source = inputs.evidence[estimates.coefficients[0]].source
    for work in ("Finn RS", "Wei Y, Royston P", "Bomze D"):
        assert work in source.citation
    assert (source.doi, source.url) == ("10.1056/NEJMoa1915745", "https://github.com/davidbomze/SIFI")


def test_a_reason_and_external_targets_leave_the_fit_as_it_was(data, monkeypatch):
    root, _ = data
    calls = []
    monkeypatch.setattr(patient_data_module, "fit", lambda *args: calls.append(args) or fit(*args))
    external = {"median": "t.scale", "landmarks": [{"time": "t.one_year", "survival": "t.cure"}], "note": "later"}
    load_analysis()
    shipped = len(calls)  # the fits the shipped model makes itself
    inputs = load(root, {"os": fitted("weibull"), "os_argued": fitted("weibull", reason="best AIC", external=external)},
                  name="argued")
    plain, argued = (inputs.populations["imbrave150"].curves[name] for name in ("os", "os_argued"))
    assert len(calls) - 2 * shipped == 1  # the same fit: reason and external are not part of it
    assert argued.reason == "best AIC" and argued.external.landmarks[0].survival == "t.cure"
    assert argued.model_dump() == plain.model_dump()
    assert inputs.uses["t.cure"] == ["populations.imbrave150.curves.os_argued.external.landmarks[0].survival"]
    with pytest.raises(InputError, match=r"curves\.os\.external\.median = 't\.cure': has unit 'proportion'"):
        load(root, {"os": fitted("weibull", external={"median": "t.cure"})}, name="bad_external")
    with pytest.raises(InputError, match=r"external targets need a median, landmarks, or both"):
        load(root, {"os": fitted("weibull", external={"note": "nothing"})}, name="empty_external")


@pytest.mark.slow
def test_a_fitted_first_line_runs_a_sequencing_model_from_the_command_line(data, tmp_path):
    root, arms = data
    strategies = {"sorafenib": {"lines": [{"treatment": "sorafenib", "progression_free": "fitted_pfs",
                                           "pre_progression_death_share": "t.cure"}],
                                "post_progression": {"calibrated_to": None}}}
    path = analysis(root, {"fitted_pfs": fitted("weibull")}, name="sequenced")
    settings = yaml.safe_load(path.read_text())
    settings["overrides"]["populations"]["imbrave150"]["strategies"] = strategies
    settings["overrides"]["populations"]["imbrave150"]["comparison"] = {"intervention": "sorafenib",
                                                                        "comparator": "lenvatinib"}
    path.write_text(yaml.safe_dump(settings))
    inputs = load_analysis(path)
    model = build_model(inputs)
    results = {r.strategy: r for r in model.evaluate(inputs.base_case())}
    first_line = results["sorafenib"].trace.state("first_line")[0]
    expected = fit("weibull", arms["control"]).curve.survival_on_grid(model.grid)[0]
    np.testing.assert_allclose(first_line[:200], expected[:200], rtol=1e-12)  # before the population floor binds
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--psa", "20"]) == 0
    written = pd.read_csv(next(out.rglob("inputs.csv")))
    assert written["reference"].str.startswith("fit_fitted_pfs.").sum() == 2


BAD_DATA = [
    ("missing", None,
     r"curves\.os\.file = 'data/missing\.csv': no such file \(looked for .*/data/missing\.csv, .*/hcc/data/"),
    ("no_event_column", "time,status,arm\n1,1,control\n",
     r"no_event_column\.csv: has no column 'event' \(columns: time, status, arm\); patient-level data need the"),
    ("zero_time", "time,event,arm\n1,1,control\n0,1,control\n",
     r"zero_time\.csv: column 'time', line 3, is 0: times must be positive numbers"),
    ("text_time", "time,event,arm\nsoon,1,control\n",
     r"text_time\.csv: column 'time', line 2, is 'soon': times must be positive numbers"),
    ("event_two", "time,event,arm\n1,2,control\n",
     r"event_two\.csv: column 'event', line 2, is 2: events must be 1 \(event\) or 0 \(censored\)"),
    ("other_arm", "time,event,arm\n1,1,treated\n",
     r"other_arm\.csv: arm 'control' \(named by .*curves\.os\.arm\) is not in column 'arm' \(arms: treated\)"),
]


@pytest.mark.parametrize("name, content, message", BAD_DATA, ids=[case[0] for case in BAD_DATA])
def test_a_bad_data_file_is_one_clear_error(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / f"{name}.csv").write_text(content)
    with pytest.raises(InputError, match=message) as error:
        load_analysis(analysis(tmp_path, {"os": {**fitted("weibull"), "file": f"data/{name}.csv"}}))
    assert len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize("curve, changed, message", [
    (fitted("weibull", internal_knots=2), {}, r"curves\.os\.fit.*internal_knots is for family spline, not weibull"),
    (fitted("piecewise_exponential"), {}, r"family piecewise_exponential needs cut_points"),
    (fitted("piecewise_exponential", cut_points=["t.one_year", "t.cut_6_months"]), {},
     r"curves\.os\.cut_points\[1\] = 't\.cut_6_months' \(0\.5 years\): not above cut_points\[0\]"),
    ({"kind": "kaplan_meier_with_tail", "file": "data/os.csv", "arm": "control", "time_unit": "months",
      "cut_point": "t.cut_6_months", "tail": "weibull"}, {"cut_6_months": (600.0, "months")},
     r"curves\.os\.cut_point = 't\.cut_6_months': cut_time is 600\.0: no events after it to fit a tail to \(data: "),
    ({"kind": "kaplan_meier_with_tail", "file": "data/os.csv", "arm": "control", "time_unit": "months",
      "cut_point": "t.hr", "tail": "weibull"}, {}, r"curves\.os\.cut_point = 't\.hr': has unit 'hazard_ratio'"),
    # past a year the treated arm's log-logistic tail is a power law whatever its scale: not
    # identified. Where the optimiser stops along that flat direction depends on rounding: on one
    # machine at a finite, huge standard error; on another at log(scale) near -87, where the
    # Hessian is not positive definite, so that the fit has not converged
    ({"kind": "kaplan_meier_with_tail", "file": "data/os.csv", "arm": "treated", "time_unit": "months",
      "cut_point": "t.one_year", "tail": "llogis"}, {},
     (r"curves\.os: the llogis fit .* cannot be used: (the data do not determine log\(scale\) \(standard error 1\."
      r"|it did not converge \(the optimiser stopped)")),
])
def test_bad_fit_settings_are_one_clear_error(data, curve, changed, message):
    root, _ = data
    with pytest.raises(InputError, match=message) as error:
        load(root, {"os": curve}, name="bad_fit", values=dict(VALUES, **changed))
    assert len(str(error.value).splitlines()) == 1 and "populations.yaml" in str(error.value)
