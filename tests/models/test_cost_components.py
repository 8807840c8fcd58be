"""Cost and QALY components of a model against hand calculations from the inputs, at values
where a plausible slip in their assembly would show (issue 20).

Six bugs that survived the rest of the suite when planted, and the test that catches each:

1. relative dose intensity not applied to drug acquisition:
   ``test_relative_dose_intensity_scales_drug_acquisition`` (RDI 0.8);
2. first-line adverse-event cost charged per year instead of once on starting the treatment:
   ``test_adverse_event_costs_are_charged_once_per_patient_starting_a_line``;
3. adverse-event QALY loss ignoring its duration:
   ``test_adverse_event_qaly_loss_lasts_its_duration`` (two weeks, on a weekly grid);
4. mg/kg doses costed at the mean body weight instead of over the weight distribution:
   ``test_mg_per_kg_doses_are_costed_over_the_body_weight_distribution`` (bevacizumab 15 mg/kg
   from 100 mg vials at 75 kg: 1,125 mg, 12 vials at the mean weight, 11.75 expected at sd 10 kg);
5. vial sharing priced per pack instead of per unit:
   ``test_vial_sharing_prices_milligrams_per_unit_of_a_multi_unit_pack`` (lenvatinib, 30 capsules
   of 12 mg a pack);
6. one-off values on entry at a time point not discounted:
   ``test_one_off_costs_on_entry_after_time_zero_are_discounted`` (a model's terminal care and
   second-line adverse events at 3%: the constant-value path a model uses) and
   ``test_values_on_entry_by_time_point_are_discounted_at_their_time_point`` (values given per
   time point, the path of ``accumulate`` a model does not reach: constant, by time point, and
   by sample and time point).

A small analysis is built from the shipped HCC model files by overrides pointing at a test
evidence file, as in ``test_dosing.py``: one strategy (the IMbrave150-like population's
"sorafenib", its lines replaced), first-line PFS exponential with median 6 months, best
supportive care median 9 months, start age 20 (neither the general-population floor nor the
utility cap binds), no discounting and no oral wastage unless a test says otherwise, a weekly
grid. Components are compared with the model's own years in a state where they are a rate
per year (the state's occupancy is tested elsewhere; what is tested here is the amount put on
it). Tolerances: rel 1e-9 where the hand value is the model's arithmetic in another order;
rel 1e-3 where a 200-node quadrature of the weight distribution is compared with the exact
expectation (it is within 5e-4 here: 11.755 vials against 11.750; the planted bug is 2% away).
"""
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from curve_analyses import write_evidence
from scipy import special

from markov import TimeGrid, accumulate
from markov.engine import CohortTrace
from markov.inputs import load_analysis
from markov.models import build_model

SORAFENIB_PER_DAY = 4 * 174.0  # 400 mg twice a day from 200 mg tablets at $174
ATEZOLIZUMAB_PER_ADMINISTRATION = 9419.16  # one 1,200 mg vial every 21 days
BEVACIZUMAB_VIAL = 841.0  # 100 mg
LENVATINIB_PACK = 15970.0  # 30 capsules of 12 mg
SEVERE_AE = 15709.0  # wong_2018.cost_severe_adverse_event_low, every event type of the US files
SORAFENIB_AE_RATE = 0.122 + 0.051 + 0.083 + 0.064  # grade 3-4 events per patient (chiang_2021)
REGORAFENIB_AE_RATE = 0.15 + 0.13  # resorce_bruix_2017
TERMINAL_CARE = 7360.16
AE_DISUTILITY = 0.16
UTILITY_PROGRESSION_FREE = 0.76

#: The test evidence file ``t``: name -> (value, unit).
VALUES = {"pfs": (6.0, "months"), "bsc": (9.0, "months"), "regorafenib_pfs": (3.0, "months"),
          "d1": (0.3, "proportion"), "d2": (0.25, "proportion"), "s": (0.4, "proportion"),
          "age": (20, "age_years"), "zero": (0.0, "rate_per_year"), "three_percent": (0.03, "rate_per_year"),
          "sd_tiny": (0.001, "kg"), "sd_10": (10.0, "kg"), "kg_75": (75.0, "kg"), "kg_50": (50.0, "kg"),
          "kg_70": (70.0, "kg"), "rdi": (0.8, "proportion"), "two_weeks": (14.0, "days"),
          "three_months": (3.0, "months")}
CURVES = {name: {"family": "exp", "median": f"t.{name}"} for name in ("pfs", "bsc", "regorafenib_pfs")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("components")
    write_evidence(root / "ev", VALUES)
    return root


def first(treatment: str) -> dict:
    return {"treatment": treatment, "progression_free": "pfs", "pre_progression_death_share": "t.d1"}


REGORAFENIB = {"options": [{"treatment": "regorafenib", "share": "t.s", "pre_progression_death_share": "t.d2",
                            "progression_free": "regorafenib_pfs"}]}


def run(workdir: Path, lines: list[dict], *, weight=("t.kg_70", "t.sd_tiny"), discount="t.zero",
        perspective: dict | None = None, overrides: dict | None = None, name="components"):
    population = {"start_age": "t.age", "body_weight_kg": {"mean": weight[0], "sd": weight[1]}, "curves": CURVES,
                  "post_progression_survival": "bsc", "strategies": {"sorafenib": {"lines": lines}}}
    us_payer = {"discount_rate_costs": discount, "discount_rate_effects": discount,
                "oral_wastage": {"method": "none"}, **(perspective or {})}
    analysis = {"name": name, "populations": ["imbrave150"], "cycle_length_days": 7.0, "horizon_years": 20.0,
                "cycle_correction": "trapezoid", "evidence_directories": ["ev"], "scenarios": {},
                "overrides": {"populations": {"imbrave150": population}, "perspectives": {"us_payer": us_payer},
                              **(overrides or {})}}
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(analysis))
    inputs = load_analysis(path)
    model = build_model(inputs)
    result = {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]
    assert result.floored_cycles == 0
    return model, result


def column(result, state: str) -> int:
    return result.state_names.index(state)


# ---------------------------------------------------------------------------------
# 1. relative dose intensity
# ---------------------------------------------------------------------------------

def test_relative_dose_intensity_scales_drug_acquisition(workdir):
    # sorafenib at RDI 0.8: $696 × 0.8 a day while in the first line
    treatments = {"treatments": {"sorafenib": {"relative_dose_intensity": "t.rdi"}}}
    _, result = run(workdir, [first("sorafenib")], overrides=treatments, name="rdi")
    j = column(result, "first_line")
    years = result.life_years[0, j]
    drugs = result.costs["first_line_drugs"][0]
    assert drugs[j] == pytest.approx(0.8 * SORAFENIB_PER_DAY * 365.25 * years, rel=1e-9), \
        "first-line drug acquisition is not $696 a day × RDI 0.8 × years in the first line"
    assert drugs.sum() == drugs[j]


# ---------------------------------------------------------------------------------
# 2. adverse-event costs: once per patient starting a line
# ---------------------------------------------------------------------------------

def test_adverse_event_costs_are_charged_once_per_patient_starting_a_line(workdir):
    # everyone starts sorafenib at t = 0 (0.32 events each); 0.4 × 0.7 = 0.28 start regorafenib
    # (0.28 events each); every event $15,709. Per year instead, the first line's would be
    # × 0.71 years in it (rmst of a 6-month median), the second line's × 0.32 years.
    _, result = run(workdir, [first("sorafenib"), REGORAFENIB], name="ae_cost")
    events = result.costs["adverse_events"][0]
    one, two = column(result, "first_line"), column(result, "second_line")
    started = result.trace.entries[0, :, two].sum()
    assert started == pytest.approx(0.4 * 0.7, rel=1e-9)
    assert events[one] == pytest.approx(SORAFENIB_AE_RATE * SEVERE_AE, rel=1e-9), \
        "first-line adverse-event cost is not 0.32 events × $15,709 once per patient"
    assert events[two] == pytest.approx(started * REGORAFENIB_AE_RATE * SEVERE_AE, rel=1e-9), \
        "second-line adverse-event cost is not 0.28 events × $15,709 per patient starting it"
    assert events.sum() == pytest.approx(events[one] + events[two], rel=1e-12)


# ---------------------------------------------------------------------------------
# 3. adverse-event QALY loss: disutility × duration × events
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("duration", "years"), [("t.two_weeks", 14 / 365.25), ("t.three_months", 0.25)])
def test_adverse_event_qaly_loss_lasts_its_duration(workdir, duration, years):
    # first line: utility 0.76 a year in it, less 0.16 × duration × 0.32 events per patient
    # starting sorafenib (two weeks is two cycles here; three months neither a cycle nor a year)
    utilities = {"utilities": {"adverse_events": {"duration": duration}}}
    _, result = run(workdir, [first("sorafenib")], overrides=utilities, name=f"ae_qaly_{duration[2:]}")
    j = column(result, "first_line")
    loss = UTILITY_PROGRESSION_FREE * result.life_years[0, j] - result.qalys[0, j]
    assert loss == pytest.approx(AE_DISUTILITY * years * SORAFENIB_AE_RATE, rel=1e-9), \
        f"first-line QALY loss from adverse events is not 0.16 × {years:.4f} years × 0.32 events"


# ---------------------------------------------------------------------------------
# 4. mg/kg doses over the body-weight distribution
# ---------------------------------------------------------------------------------

def expected_vials(mean_kg: float, sd_kg: float, mg_per_kg: float = 15.0, vial_mg: float = 100.0) -> float:
    """E[ceil(dose / vial)] for a normal weight: Σ_k P(dose > k vials), exactly."""
    k = np.arange(0, 200)
    return float(np.sum(special.ndtr(-(k * vial_mg / mg_per_kg - mean_kg) / sd_kg)))


def test_mg_per_kg_doses_are_costed_over_the_body_weight_distribution(workdir):
    # atezolizumab 1,200 mg + bevacizumab 15 mg/kg, both every 21 days, throughout the first line
    def bevacizumab_per_administration(weight, name):
        _, result = run(workdir, [first("atezolizumab_bevacizumab")], weight=weight, name=name)
        j = column(result, "first_line")
        per_administration = result.costs["first_line_drugs"][0, j] / (result.life_years[0, j] * 365.25 / 21)
        return per_administration - ATEZOLIZUMAB_PER_ADMINISTRATION

    vials = expected_vials(75.0, 10.0)
    assert 11.7 < vials < 11.8  # vs 12 at the mean weight (1,125 mg)
    spread = bevacizumab_per_administration(("t.kg_75", "t.sd_10"), "weight_spread")
    assert spread == pytest.approx(BEVACIZUMAB_VIAL * vials, rel=1e-3), \
        "bevacizumab per administration is not E[vials] over N(75 kg, 10 kg) × $841"
    # an (almost) fixed weight of 75 kg: 12 vials for every patient
    fixed = bevacizumab_per_administration(("t.kg_75", "t.sd_tiny"), "weight_fixed")
    assert fixed == pytest.approx(12 * BEVACIZUMAB_VIAL, rel=1e-9)
    assert fixed - spread > 150  # the slip would show: $202 an administration


# ---------------------------------------------------------------------------------
# 5. vial sharing: per unit of a multi-unit pack
# ---------------------------------------------------------------------------------

def test_vial_sharing_prices_milligrams_per_unit_of_a_multi_unit_pack(workdir):
    # lenvatinib 8 mg a day below 60 kg (50 kg here), from a pack of 30 capsules of 12 mg at $15,970:
    # shared, 8 mg at $15,970 / (30 × 12) = $44.36 a mg is $354.89 a day; whole capsules, $532.33
    per_day = {}
    for sharing in (True, False):
        _, result = run(workdir, [first("lenvatinib")], weight=("t.kg_50", "t.sd_tiny"),
                        perspective={"vial_sharing": sharing}, name=f"sharing_{sharing}")
        j = column(result, "first_line")
        per_day[sharing] = result.costs["first_line_drugs"][0, j] / (result.life_years[0, j] * 365.25)
    assert per_day[True] == pytest.approx(8 * LENVATINIB_PACK / (30 * 12), rel=1e-9), \
        "shared lenvatinib is not 8 mg a day at the pack price / (30 units × 12 mg)"
    assert per_day[False] == pytest.approx(LENVATINIB_PACK / 30, rel=1e-9)


# ---------------------------------------------------------------------------------
# 6. one-off values on entry after time 0 are discounted
# ---------------------------------------------------------------------------------

def test_one_off_costs_on_entry_after_time_zero_are_discounted(workdir):
    # at 3% a year: terminal care $7,360.16 per death and regorafenib's adverse events per patient
    # starting it, each discounted at the time point of entry, 1.03^−t
    model, result = run(workdir, [first("sorafenib"), REGORAFENIB], discount="t.three_percent", name="discounted")
    factors = 1.03 ** -model.grid.times_years
    dead, two = column(result, "dead"), column(result, "second_line")
    entries = result.trace.entries[0]
    deaths, started = entries[:, dead] @ factors, entries[:, two] @ factors
    assert entries[:, dead].sum() == pytest.approx(1.0, abs=1e-6)  # everyone dies within 20 years
    assert deaths < 0.98  # the discount is visible: 1.03^−t at about a year on average
    assert result.costs["terminal_care"][0, dead] == pytest.approx(TERMINAL_CARE * deaths, rel=1e-9), \
        "terminal care is not discounted at the time of death"
    assert result.costs["adverse_events"][0, two] == pytest.approx(REGORAFENIB_AE_RATE * SEVERE_AE * started,
                                                                    rel=1e-9), \
        "second-line adverse-event costs are not discounted at the time of starting the line"
    # first line's at t = 0: undiscounted
    assert result.costs["adverse_events"][0, column(result, "first_line")] == pytest.approx(
        SORAFENIB_AE_RATE * SEVERE_AE, rel=1e-9)


def test_values_on_entry_by_time_point_are_discounted_at_their_time_point():
    # a 4-cycle trace of half-year cycles, two samples, entries after t = 0 into both states;
    # values per entry given by time point, and by sample and time point: Σ_t a_t e_t 1.05^−t
    grid = TimeGrid(0.5, 4)
    occupancy = np.array([[[1.0, 0.0], [0.7, 0.3], [0.5, 0.5], [0.4, 0.6], [0.2, 0.8]],
                          [[1.0, 0.0], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.1, 0.9]]])
    entries = np.zeros_like(occupancy)
    entries[:, 0] = occupancy[:, 0]
    entries[:, 1:, 1] = np.diff(occupancy[:, :, 1], axis=1)
    entries[0, 3, 0] = 0.05  # some re-entry into the first state after t = 0
    trace = CohortTrace(occupancy, entries, ("well", "sick"))
    factors = 1.05 ** -grid.times_years
    by_time = np.array([[100.0, 0.0], [0.0, 10.0], [0.0, 20.0], [7.0, 30.0], [0.0, 40.0]])
    got = accumulate(trace, grid, on_entry=by_time, discount_rate=0.05)
    expected = np.einsum("tj,stj->sj", by_time * factors[:, None], entries)
    np.testing.assert_allclose(got, expected, rtol=1e-12,
                               err_msg="values on entry by time point are not discounted at their time point")
    assert expected[0, 1] == pytest.approx(0.3 * 10 / 1.05**0.5 + 0.2 * 20 / 1.05 + 0.1 * 30 / 1.05**1.5
                                           + 0.2 * 40 / 1.05**2, rel=1e-12)
    by_sample = np.stack([by_time, 2 * by_time])
    got = accumulate(trace, grid, on_entry=by_sample, discount_rate=0.05)
    np.testing.assert_allclose(got, expected * np.array([[1.0], [2.0]]), rtol=1e-12,
                               err_msg="values on entry by sample and time point are not discounted")
    constant = accumulate(trace, grid, on_entry=[0.0, 10.0], discount_rate=0.05)
    np.testing.assert_allclose(constant[:, 1], 10 * entries[:, :, 1] @ factors, rtol=1e-12)
    assert math.isclose(accumulate(trace, grid, on_entry=by_time)[0, 1], 0.3 * 10 + 0.2 * 20 + 0.1 * 30 + 0.2 * 40)
