"""The partitioned-survival structure (markov/models/partitioned.py) against independent
calculations.

Minimal analyses are built from the shipped HCC model files, with curves and values from
a test evidence file: exponential PFS (median 6 months), OS (15 months), time on
treatment (3 months) and a subsequent treatment's duration (4 months); start age 20 (the
general-population floor binds nowhere) and no discounting, unless a test says otherwise.

Closed forms (λ = ln 2 / median, per year; horizon H): the restricted mean of an
exponential curve is (1 − e^{−λH}) / λ. The model integrates occupancy over a grid of
step Δ by the trapezoid rule, whose error on a smooth curve f is (Δ²/12)(f′(H) − f′(0)) +
O(Δ⁴): for e^{−λt}, λΔ²(1 − e^{−λH}) / 12 (3e-7 years for OS on a one-day grid), the
next term below 1e-12 years. Each test states what it compares and to what tolerance.
"""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import yaml

from markov import InputError
from markov.cli import main
from markov.engine import CurveCrossingWarning, floor_survival, run_markov, run_partitioned_survival
from markov.inputs import load_analysis
from markov.inputs.merge import deep_merge
from markov.models import build_model
from markov.models.base import CurvesOnGrid
from markov.models.curves import build_curves
from markov.outcomes import Accumulator
from markov.survival.adjust import floor_at_general_population

ANALYSIS = Path(__file__).resolve().parents[2] / "analyses" / "hcc_partitioned_survival.yaml"
DAY = 1.0 / 365.25
PFS, OS, TOT, DURATION = 6.0, 15.0, 3.0, 4.0  # medians, months
D, S = 0.3, 0.4  # first-state death share; share starting the subsequent treatment
L_PFS, L_OS, L_TOT, L_DURATION = (math.log(2) / (m / 12) for m in (PFS, OS, TOT, DURATION))
# independent prices (US payer files): sorafenib 400 mg twice a day from 200 mg tablets at $174;
# regorafenib 160 mg from 40 mg tablets (84 for $9,350) on 21 days of 28; every grade 3-4 adverse
# event at $15,709 (sorafenib 0.122 + 0.051 + 0.083 + 0.064; regorafenib 0.15 + 0.13 per patient)
SORAFENIB_PER_YEAR = 4 * 174.0 * 365.25
REGORAFENIB_PER_YEAR = 4 * 9350 / 84 * 21 / 28 * 365.25
SORAFENIB_AE_RATE, REGORAFENIB_AE_RATE, AE_COST = 0.32, 0.28, 15709.0
AE_QALY_LOSS = 0.16 / 12  # per event: disutility 0.16 for one month (su_2021, assumptions)
# the 3-state Markov chain PF -> PD (λ1), PF -> D (μ), PD -> D (λ2), per year; μ > λ2, so that its OS,
# (1 − c)e^{−(λ1+μ)t} + c·e^{−λ2·t} with c = λ1 / (λ1 + μ − λ2), is a mixture with positive weights
LAMBDA1, MU, LAMBDA2 = 0.9, 0.5, 0.3


#: The test evidence file ``t``: name -> (value, unit).
VALUES = {"pfs": (PFS, "months"), "os": (OS, "months"), "tot": (TOT, "months"), "duration": (DURATION, "months"),
          "tot_long": (9.0, "months"), "max_duration": (12.0, "months"), "os_very_long": (12_000.0, "months"),
          "d": (D, "proportion"), "s": (S, "proportion"), "age": (20, "age_years"), "age_60": (60, "age_years"),
          "zero": (0.0, "rate_per_year"), "leave_pf": (LAMBDA1 + MU, "coefficient"),  # flexsurv exp rate, per year
          "hr_pd": (LAMBDA2 / (LAMBDA1 + MU), "hazard_ratio"),
          "share_pd": (LAMBDA1 / (LAMBDA1 + MU - LAMBDA2), "proportion")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("psm")
    (root / "ev").mkdir()
    source = {"citation": "test values", "url": "https://example.org/test", "kind": "trial"}
    values = {name: {"value": v, "unit": unit, "status": "verified", "where": "test"}
              for name, (v, unit) in VALUES.items()}
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump({"source": source, "values": values}))
    return root


CURVES = {name: {"family": "exp", "median": f"t.{name}"} for name in ("pfs", "os", "tot", "tot_long", "duration",
                                                                    "os_very_long")}
CURVES.update({"chain_pfs": {"family": "exp", "time_unit": "years", "parameters": {"rate": "t.leave_pf"}},
               "chain_os": {"reference": "chain_pfs", "hazard_ratio": "t.hr_pd", "applies_to_share": "t.share_pd"}})


def minimal(workdir: Path, partitions: list[dict], *, days=1.0, horizon=20.0, age="t.age"):
    """The model and the result of strategy ``partitions`` (beside a one-state comparator)."""
    overrides = {
        "populations": {"imbrave150": {"start_age": age, "curves": CURVES}},
        "perspectives": {"us_payer": {  # no oral-drug wastage here (test_dosing.py)
            "discount_rate_costs": "t.zero", "discount_rate_effects": "t.zero", "oral_wastage": {"method": "none"},
            "state_costs": {"progressed": [{"label": "Other care", "cost": "chiang_2021.cost_other_care"}]}}},
        "utilities": {"by_state": {"progressed": "su_2021.utility_progressed"}},
    }
    strategies = {"sorafenib": {"label": "Tested", "partitions": partitions},
                  "atezo_bev": {"label": "Comparator", "partitions": [{"state": "first_line", "survival": "os"}]}}
    settings = {"name": "minimal", "structure": "partitioned_survival", "populations": ["imbrave150"],
                "cycle_length_days": days, "horizon_years": horizon, "evidence_directories": ["ev"],
                "overrides": overrides, "strategies": {"imbrave150": strategies}, "scenarios": {}}
    path = workdir / "minimal.yaml"
    path.write_text(yaml.safe_dump(settings))
    inputs = load_analysis(path)
    model = build_model(inputs)
    return model, {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]


def restricted_mean(rate: float, horizon: float, step: float) -> tuple[float, float]:
    """∫₀^H e^{−λt} dt, and the trapezoid rule's first-order error on a grid of step Δ."""
    return -math.expm1(-rate * horizon) / rate, rate * step**2 * -math.expm1(-rate * horizon) / 12


def by_state(result, values) -> dict[str, float]:
    return dict(zip(result.state_names, values[0], strict=True))


PF_PD = [{"state": "first_line", "survival": "pfs"}, {"state": "progressed", "survival": "os"}]


# ---------------------------------------------------------------------------------
# life-years, drug costs, crossings and the floor
# ---------------------------------------------------------------------------------

@pytest.mark.verification(
    kind="closed form",
    against="restricted means of exponential PFS and OS plus the trapezoid error",
    tolerance="1e-10 years")
def test_life_years_are_restricted_means_of_pfs_and_os(workdir):
    model, result = minimal(workdir, PF_PD)
    step, horizon = model.grid.cycle_length_years, model.grid.horizon_years
    assert (step, horizon) == (pytest.approx(DAY), pytest.approx(20.0))
    assert result.state_names == ("first_line", "progressed", "dead")
    assert result.progression_free == ("first_line",)
    assert (result.floored_cycles, result.crossing_time_points) == (0, 0)
    life_years = by_state(result, result.life_years)
    pfs, pfs_error = restricted_mean(L_PFS, horizon, step)
    os_, os_error = restricted_mean(L_OS, horizon, step)
    assert os_ == pytest.approx(1.80334, abs=1e-5)  # years; beyond 20 years lies 1.5e-5 of the unrestricted mean
    # the trapezoid error (2.6e-7 and 3.4e-7 years) is matched to 1e-10 years: what is left is rounding
    assert life_years["first_line"] == pytest.approx(pfs + pfs_error, abs=1e-10)
    assert result.life_years[0].sum() == pytest.approx(os_ + os_error, abs=1e-10)
    assert life_years["progressed"] == pytest.approx(os_ + os_error - pfs - pfs_error, abs=1e-10)
    assert life_years["dead"] == 0.0


def test_drug_cost_is_yearly_cost_times_mean_time_on_treatment(workdir):
    first = {"state": "first_line", "survival": "pfs", "treatment": "sorafenib", "time_on_treatment": {"curve": "tot"}}
    model, result = minimal(workdir, [first, PF_PD[1]])
    step, horizon = model.grid.cycle_length_years, model.grid.horizon_years
    assert result.state_names == ("first_line_on_treatment", "first_line_off_treatment", "progressed", "dead")
    assert result.progression_free == ("first_line_on_treatment", "first_line_off_treatment")
    drugs = by_state(result, result.costs["first_line_drugs"])
    # time on treatment (median 3 months) lies below PFS (6 months) throughout: it is the curve itself
    on_treatment, error = restricted_mean(L_TOT, horizon, step)
    assert drugs["first_line_on_treatment"] == pytest.approx(SORAFENIB_PER_YEAR * (on_treatment + error), rel=1e-10)
    assert SORAFENIB_PER_YEAR * on_treatment == pytest.approx(91_688.32, abs=0.01)  # $696 a day for 0.3607 years
    assert result.costs["first_line_drugs"].sum() == drugs["first_line_on_treatment"]
    pfs, pfs_error = restricted_mean(L_PFS, horizon, step)
    assert by_state(result, result.life_years)["first_line_off_treatment"] == pytest.approx(
        pfs + pfs_error - on_treatment - error, abs=1e-10)
    # adverse events: once, for the whole cohort starting at t = 0
    events = by_state(result, result.costs["adverse_events"])
    assert events["first_line_on_treatment"] == pytest.approx(SORAFENIB_AE_RATE * AE_COST, rel=1e-12)
    assert result.costs["adverse_events"].sum() == events["first_line_on_treatment"]


def test_pfs_above_os_is_clipped_and_counted(workdir):
    crossing = [{"state": "first_line", "survival": "os"}, {"state": "progressed", "survival": "pfs"}]
    with pytest.warns(CurveCrossingWarning, match="1 of 1 samples"):
        model, result = minimal(workdir, crossing, days=30.4375, horizon=5.0)
    # the inner curve (median 15 months) lies above the outer (6 months) at every time point after 0
    assert result.crossing_time_points == model.grid.n_cycles == 60
    trace = result.trace
    np.testing.assert_allclose(trace.state("first_line"), 1.0 - trace.state("dead"), rtol=0, atol=1e-15)
    assert not trace.state("progressed").any()


def test_general_population_floor_binds_and_is_counted(workdir):
    implausible = [PF_PD[0], {"state": "progressed", "survival": "os_very_long"}]  # OS median 1,000 years
    model, result = minimal(workdir, implausible, days=30.4375, age="t.age_60")
    inputs = model.inputs
    population = inputs.populations["imbrave150"]
    general = model.general_population(population, inputs.base_case())
    raw = np.exp(-math.log(2) / 1000.0 * model.grid.times_years)[None, :]
    # the floor as the survival layer writes it (numpy): per interval, the smaller conditional survival
    floored, binding = floor_at_general_population(raw, general)
    model_os = 1.0 - result.trace.state("dead")
    np.testing.assert_allclose(model_os, floored, rtol=1e-12, atol=0)
    assert result.floored_cycles == int(binding.sum()) == model.grid.n_cycles  # life-table deaths exceed 0.07% a year
    assert np.all(model_os <= general + 1e-15)


# ---------------------------------------------------------------------------------
# one-off costs on entry: treatments of a later state and subsequent treatments
# ---------------------------------------------------------------------------------

def test_costs_on_entry_count_only_those_entering_alive(workdir):
    subsequent = {"treatment": "regorafenib", "share": "t.s", "duration": "duration"}
    first = {"state": "first_line", "survival": "pfs", "death_share": "t.d"}
    progressed = {"state": "progressed", "survival": "os", "treatment": "sorafenib", "subsequent_treatments": [subsequent]}
    model, result = minimal(workdir, [first, progressed])
    horizon = model.grid.horizon_years
    # everyone leaving the first state over the horizon, less the share who die: its falls add up to
    # PFS(0) − PFS(H), which the model reads exactly off the curve
    entering_alive = (1 - D) * -math.expm1(-L_PFS * horizon)
    entries = result.trace.entries[0, :, result.state_names.index("progressed")]
    assert entries.sum() == pytest.approx(entering_alive, rel=1e-12)

    # the later state's treatment: per year while in it, its adverse events on entry
    assert result.costs["progressed_drugs"][0].sum() == pytest.approx(
        SORAFENIB_PER_YEAR * by_state(result, result.life_years)["progressed"], rel=1e-12)
    events = by_state(result, result.costs["adverse_events"])
    assert events["progressed"] == pytest.approx(entering_alive * SORAFENIB_AE_RATE * AE_COST, rel=1e-12)
    assert events["first_line"] == 0.0

    # subsequent treatment: share × (cost per year × mean years on it + its adverse events), per entry
    # alive; its mean years are the restricted mean of its duration curve over the horizon (0.481 years)
    years, _ = restricted_mean(L_DURATION, horizon, 0.0)
    per_entry = S * (REGORAFENIB_PER_YEAR * years + REGORAFENIB_AE_RATE * AE_COST)
    assert per_entry == pytest.approx(0.4 * (121_967.41 * 0.480898 + 4_398.52), abs=0.1)  # $25,221
    subsequent_cost = by_state(result, result.costs["subsequent_treatment"])
    assert subsequent_cost["progressed"] == pytest.approx(entering_alive * per_entry, rel=1e-12)
    assert result.costs["subsequent_treatment"].sum() == subsequent_cost["progressed"]

    # its adverse events' QALY loss, against the same model without the subsequent treatment
    _, without = minimal(workdir, [first, {**progressed, "subsequent_treatments": []}])
    lost = by_state(without, without.qalys)["progressed"] - by_state(result, result.qalys)["progressed"]
    assert lost == pytest.approx(entering_alive * S * REGORAFENIB_AE_RATE * AE_QALY_LOSS, rel=1e-10)
    np.testing.assert_array_equal(without.life_years, result.life_years)


def test_subsequent_shares_above_one_in_a_sample_are_refused(workdir):
    treatments = [{"treatment": "regorafenib", "share": "t.s", "duration": "duration"},
                  {"treatment": "cabozantinib", "share": "t.d", "duration": "duration"}]
    model, _ = minimal(workdir, [{**PF_PD[0], "death_share": "t.d"}, {**PF_PD[1], "subsequent_treatments": treatments}])
    params = model.inputs.with_values({"t.s": np.array([0.4, 0.8])}, 2)  # 0.4 + 0.3, then 0.8 + 0.3
    with pytest.raises(InputError, match=r"sorafenib\.partitions\[1\]\.subsequent_treatments: shares sum to 1\.1.* "
                                         r"sample 1"):
        model.evaluate(params)


# ---------------------------------------------------------------------------------
# occupancy: the engine's, and a Markov chain's where theory says so
# ---------------------------------------------------------------------------------

def test_occupancy_is_the_engines_on_the_same_curves(workdir):
    first = {"state": "first_line", "survival": "pfs", "treatment": "sorafenib", "death_share": "t.d",
             "time_on_treatment": {"curve": "tot_long", "max_duration": "t.max_duration"}}
    model, result = minimal(workdir, [first, {**PF_PD[1], "treatment": "regorafenib"}], days=7.0)
    times = model.grid.times_years
    pfs, os_ = np.exp(-L_PFS * times), np.exp(-L_OS * times)
    engine = run_partitioned_survival([pfs, os_])
    # time on treatment (median 9 months) is above PFS: on treatment is PFS, until 12 months
    on = np.where(times < 1.0, pfs, 0.0)
    expected = np.column_stack([on, pfs - on, engine.occupancy[0, :, 1], engine.occupancy[0, :, 2]])
    np.testing.assert_allclose(result.trace.occupancy[0], expected, rtol=0, atol=1e-14)
    entries = result.trace.entries[0]
    np.testing.assert_allclose(entries[:, 2], (1 - D) * engine.entries[0, :, 1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(entries[:, 3], engine.entries[0, :, 2], rtol=0, atol=1e-15)
    assert entries[0, 0] == 1.0 and not entries[1:, :2].any()


def test_occupancy_of_the_hcc_analysis_is_the_engines_in_every_sample():
    inputs = load_analysis(ANALYSIS)
    model = build_model(inputs)
    params = inputs.sample(6, seed=11)
    population = inputs.populations["imbrave150"]
    # on the grid as the model puts them (an exponential curve by blocks of products)
    curves = CurvesOnGrid(build_curves(population.curves, params), model.grid)
    general = model.general_population(population, params)
    for result in model.evaluate(params):
        strategy = population.strategies[result.strategy]
        pfs, os_ = (np.array(curves[p.survival]) for p in strategy.partitions)
        os_, _, floored = floor_survival(os_, np.ones(params.n_samples), general)
        engine = run_partitioned_survival([pfs, os_])
        occupancy = result.trace.occupancy
        np.testing.assert_allclose(occupancy[:, :, 0] + occupancy[:, :, 1], engine.occupancy[:, :, 0], atol=1e-15)
        np.testing.assert_array_equal(occupancy[:, :, 2:], engine.occupancy[:, :, 1:])
        tot = strategy.partitions[0].time_on_treatment  # on treatment: on any drug, each on its own curve
        names = [own.curve for own in tot.by_drug.values()] or [tot.curve]
        on_any = np.maximum.reduce([curves[name] for name in names])
        np.testing.assert_array_equal(occupancy[:, :, 0], np.minimum(on_any, engine.occupancy[:, :, 0]))
        assert (result.floored_cycles, result.crossing_time_points) == (floored, 0)


@pytest.mark.verification(
    kind="another engine",
    against="the Markov chain (matrix exponential) whose exact PFS and OS the partitioned-survival model "
            "reads",
    tolerance="atol 1e-12")
def test_partitioned_survival_equals_the_markov_chain_its_curves_come_from(workdir):
    # PFS exponential(λ1 + μ) and OS the chain's exact OS (a mixture of exponentials built from
    # published curve kinds): at every grid point both are the chain's exact occupancy
    chain = [{"state": "first_line", "survival": "chain_pfs"}, {"state": "progressed", "survival": "chain_os"}]
    model, result = minimal(workdir, chain, days=7.0)
    assert result.floored_cycles == 0
    generator = np.array([[-(LAMBDA1 + MU), LAMBDA1, MU], [0.0, -LAMBDA2, LAMBDA2], [0.0, 0.0, 0.0]])
    matrix = scipy.linalg.expm(generator * model.grid.cycle_length_years)
    matrix /= matrix.sum(axis=1, keepdims=True)  # rows sum to 1 to rounding, as validation requires
    markov = run_markov(matrix, [1.0, 0.0, 0.0], n_cycles=model.grid.n_cycles)
    np.testing.assert_allclose(result.trace.occupancy, markov.occupancy, rtol=0, atol=1e-12)
    # the same at the engine level, on the chain's own PFS and OS on the grid
    times = model.grid.times_years
    c = LAMBDA1 / (LAMBDA1 + MU - LAMBDA2)
    pfs = np.exp(-(LAMBDA1 + MU) * times)
    engine = run_partitioned_survival([pfs, (1 - c) * pfs + c * np.exp(-LAMBDA2 * times)])
    np.testing.assert_allclose(engine.occupancy, markov.occupancy, rtol=0, atol=1e-12)
    # and so the life-years by state
    accumulated = Accumulator(markov, model.grid, method="trapezoid").total(np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose(result.life_years, accumulated, rtol=1e-12)


# ---------------------------------------------------------------------------------
# the shipped analysis, end to end
# ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_analysis_runs_end_to_end_with_a_small_psa(tmp_path, capsys):
    assert main(["run", str(ANALYSIS), "--out", str(tmp_path / "run")]) == 0
    assert main(["psa", str(ANALYSIS), "-n", "20", "--out", str(tmp_path / "psa")]) == 0
    assert "markov: error" not in capsys.readouterr().err
    results = pd.read_csv(tmp_path / "run" / "results_imbrave150.csv").set_index("strategy")
    assert list(results.index) == ["atezo_bev", "sorafenib", "lenvatinib"]
    categories = ["first_line_drugs", "subsequent_treatment", "administration", "procedures", "monitoring_and_care",
                  "adverse_events", "terminal_care"]
    np.testing.assert_allclose(results[[f"cost_{c}" for c in categories]].sum(axis=1), results["cost"], rtol=1e-12)
    # a log-normal's hazard starts at 0, below general-population mortality: the floor binds in the first week only
    assert (results["general_population_floor_cycles"] == 1).all()
    assert (results["curve_crossing_time_points"] == 0).all()
    assert results.loc["atezo_bev", "life_years"] > results.loc["lenvatinib", "life_years"] > \
        results.loc["sorafenib", "life_years"]
    # OS is a log-normal fitted to each IMbrave150 arm's patients: the model's median lies within
    # a cycle of the fit's, e^meanlog, and within the updated analysis's 95% CI (data the fit did not see)
    calibration = pd.read_csv(tmp_path / "run" / "calibration.csv")
    medians = calibration[(calibration["outcome"] == "OS") & (calibration["measure"] == "median (months)")]
    medians = medians.set_index("strategy")
    inputs = pd.read_csv(tmp_path / "run" / "inputs.csv").set_index("reference")["value"]
    for strategy in ("atezo_bev", "sorafenib"):
        fitted = math.exp(inputs[f"fit_{strategy}_os.meanlog"])
        assert abs(medians.loc[strategy, "model"] - fitted) < 7 / 30.4375
        low, model, high = medians.loc[strategy, ["reported_low", "model", "reported_high"]]
        assert low < model < high
    fits = pd.read_csv(tmp_path / "run" / "survival_fits.csv")
    chosen = fits[fits["chosen"]].set_index("curve").loc[["atezo_bev_os", "sorafenib_os"]]  # the analysis's own
    assert (chosen["model"] == "lnorm").all()
    assert (chosen["delta_aic"] == 0).all() and (chosen["delta_bic"] == 0).all()
    assert chosen["reason"].str.len().min() > 200  # the analysis file says why
    validation = pd.read_csv(tmp_path / "run" / "survival_fits_validation.csv")
    assert set(validation.query("curve == 'sorafenib_os'")["measure"]) == {
        "median (months)", "survival at 36 months", "survival at 48 months", "survival at 60 months"}
    for figure in ("calibration", "occupancy", "fit_extrapolation_sorafenib_os"):
        assert (tmp_path / "run" / f"{figure}_imbrave150.png").stat().st_size > 1000
    summary = pd.read_csv(tmp_path / "psa" / "psa_summary.csv")
    assert list(summary["strategy"]) == ["atezo_bev", "sorafenib", "lenvatinib"]
    assert (summary["cost_2.5%"] < summary["cost_mean"]).all() and (summary["qalys_mean"] > 0).all()
    assert (tmp_path / "psa" / "ce_plane_imbrave150.png").is_file()
    # its own scenarios run (not the sequencing ones shipped with the model files); the OS one changes Atezo-Bev only
    assert main(["dsa", str(ANALYSIS), "--out", str(tmp_path / "dsa")]) == 0
    scenarios = pd.read_csv(tmp_path / "dsa" / "scenarios.csv").set_index(["scenario", "strategy"])["qalys"]
    assert set(scenarios.index.levels[0]) == {"base_case", "imbrave150_primary_analysis_pfs",
                                              "atezo_bev_os_hazard_ratio"}
    changed = scenarios["atezo_bev_os_hazard_ratio"] != scenarios["base_case"]
    assert changed.to_dict() == {"atezo_bev": True, "sorafenib": False, "lenvatinib": False}
    assert scenarios["imbrave150_primary_analysis_pfs"]["atezo_bev"] != scenarios["base_case"]["atezo_bev"]


# ---------------------------------------------------------------------------------
# load-time checks
# ---------------------------------------------------------------------------------

def _variant(tmp_path: Path, change: dict) -> Path:
    """The shipped analysis with ``change`` to the Atezo-Bev strategy's partitions."""
    settings = yaml.safe_load(ANALYSIS.read_text())
    settings = deep_merge(settings, {"strategies": {"imbrave150": {"atezo_bev": {"partitions": change}}}})
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.mark.parametrize("change, message", [
    ({1: {"survival": "nope_os"}}, r"partitions\[1\]\.survival = 'nope_os': no curve of that name"),
    ({1: {"subsequent_treatments": {0: {"duration": "nope"}}}},
     r"subsequent_treatments\[0\]\.duration = 'nope': no curve of that name"),
    ({1: {"subsequent_treatments": {0: {"treatment": "nivolumab"}}}}, r"treatment 'nivolumab' is unknown"),
    ({1: {"state": "progressing"}}, r"by_state has no entry for state 'progressing'.*give one under 'progressing'"),
    ({1: {"subsequent_treatments": {0: {"share": "persano_2024.second_line_after_progression"},
                                    1: {"share": "persano_2024.second_line_after_progression"}}}},
     r"strategies\.atezo_bev: shares sum to 1\.03.*cannot exceed 1"),
    ({1: {"time_on_treatment": {"curve": "atezolizumab_tot"}}}, r"partitions\[1\]\.time_on_treatment: only the first"),
    ({0: {"treatment": None}}, r"partitions\[0\]\.time_on_treatment: needs the state's treatment"),
    ({0: {"death_share": None}}, r"partitions\[0\]: needs death_share, to count who enters 'progressed' alive"),
    ({1: {"death_share": "assumptions.pre_progression_death_share_first_line"}},
     r"partitions\[1\]\.death_share: the last state's exits are all deaths"),
    ({1: {"state": "dead"}}, r"must be distinct and not 'dead'"),
])
def test_bad_strategies_are_refused_with_the_place_and_the_rule(tmp_path, change, message):
    with pytest.raises(InputError, match=message) as error:
        load_analysis(_variant(tmp_path, change))
    text = str(error.value)
    assert "atezo_bev" in text and ("variant.yaml" in text or "shares sum" in text)
