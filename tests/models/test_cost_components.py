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

Components checked the same way since: administration, a unit cost per administration whatever
the dose intensity (7); procedures, at the start of a line once per patient starting it and
recurring ones per year on it (8); costs of care by state and a later line's drugs (9); a
partitioned survival model's subsequent treatments, every component once per patient entering
alive (10); and utilities capped at the general population's by age and sex, with and without
age adjustment (11); with, beside the tests above, doses by weight band (a patient at a band's
threshold is not below it), a confidential discount and a utility set without adverse-event
disutility; and what valuing makes once and shares, read-only: a cost model per body weight, a
drug's cost per year and the general population's utility by cycle (13). Several of these kill
mutants that survived the rest of the suite (tools/mutation.py).

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

from markov import InputError, TimeGrid, accumulate
from markov.engine import CohortTrace
from markov.inputs import load_analysis
from markov.models import build_model
from markov.models.shared import SharedWork
from markov.models.valuation import Course, PopulationValues, State, dead_state, value_trace
from markov.outcomes.costing import weight_nodes

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
          "three_months": (3.0, "months"), "ninety_days": (90.0, "days"), "os": (15.0, "months"),
          "on_a": (4.0, "months"), "on_b": (2.0, "months"), "age_70": (70, "age_years"),
          "female": (0.3, "proportion"), "u_high": (0.9, "utility"),
          "visit": (250.0, "money", {"currency": "USD", "price_year": 2020, "per": "visit"}),
          "kg_55": (55.0, "kg"), "kg_60": (60.0, "kg"), "mg_4": (4.0, "mg"),
          "mg_8": (8.0, "mg"), "mg_12": (12.0, "mg"), "quarter": (0.25, "proportion"),
          "one_and_a_half_percent": (0.015, "rate_per_year"),
          # the 101st of the 200 equally likely weights of N(60 kg, 10 kg), exactly (a band's threshold)
          "kg_101st_of_60": (float(weight_nodes(np.array([60.0]), np.array([10.0]))[0, 100]), "kg")}
CURVES = {name: {"family": "exp", "median": f"t.{name}"}
          for name in ("pfs", "bsc", "regorafenib_pfs", "os", "on_a", "on_b")}


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
        perspective: dict | None = None, overrides: dict | None = None, name="components", age="t.age"):
    population = {"start_age": age, "share_female": "t.female", "body_weight_kg": {"mean": weight[0], "sd": weight[1]},
                  "curves": CURVES, "post_progression_survival": "bsc", "strategies": {"sorafenib": {"lines": lines}}}
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


def test_a_confidential_discount_lowers_drug_acquisition_and_the_drug_wasted_only(workdir):
    # 25% off sorafenib's price: $522 a day on it, and half a 28-day supply wasted at each stop
    # (everyone stops within the horizon, undiscounted: one stop per patient), 0.75 × $9,744;
    # its adverse events are costed as before
    perspective = {"discounts": {"sorafenib": "t.quarter"},
                   "oral_wastage": {"method": "half_supply_on_stopping",
                                    "supply_days": {"sorafenib": "nice_ta474_sorafenib.sorafenib_supply_days"}}}
    _, result = run(workdir, [first("sorafenib")], perspective=perspective, name="discount")
    j = column(result, "first_line")
    drugs = result.costs["first_line_drugs"][0, j]
    assert drugs == pytest.approx(0.75 * SORAFENIB_PER_DAY * (365.25 * result.life_years[0, j] + 14), rel=1e-9), \
        "a 25% discount does not take a quarter off sorafenib's acquisition and waste"
    assert result.costs["adverse_events"][0, j] == pytest.approx(SORAFENIB_AE_RATE * SEVERE_AE, rel=1e-9)


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

@pytest.mark.parametrize(("duration", "years", "capped"), [("t.two_weeks", 14 / 365.25, True),
                                                           ("t.three_months", 0.25, False)])
def test_adverse_event_qaly_loss_lasts_its_duration(workdir, duration, years, capped):
    # first line: utility 0.76 a year in it, less 0.16 × duration × 0.32 events per patient
    # starting sorafenib (two weeks is two cycles here; three months neither a cycle nor a year);
    # capped at the general population's or not (at 20 the cap does not bind)
    utilities = {"utilities": {"adverse_events": {"duration": duration}, "cap_at_general_population": capped}}
    _, result = run(workdir, [first("sorafenib")], overrides=utilities, name=f"ae_qaly_{duration[2:]}")
    j = column(result, "first_line")
    loss = UTILITY_PROGRESSION_FREE * result.life_years[0, j] - result.qalys[0, j]
    assert loss == pytest.approx(AE_DISUTILITY * years * SORAFENIB_AE_RATE, rel=1e-9), \
        f"first-line QALY loss from adverse events is not 0.16 × {years:.4f} years × 0.32 events"


def test_without_an_adverse_event_disutility_no_qalys_are_lost(workdir):
    _, result = run(workdir, [first("sorafenib")], overrides={"utilities": {"adverse_events": None}},
                    name="no_ae_disutility")
    j = column(result, "first_line")
    assert result.qalys[0, j] == pytest.approx(UTILITY_PROGRESSION_FREE * result.life_years[0, j], rel=1e-12)


@pytest.mark.parametrize(("overrides", "perspective", "message"), [
    ({"utilities": {"by_state": {"best_supportive_care": None}}}, None, r"utilities\.yaml by_state"),
    (None, {"state_costs": {"best_supportive_care": None}}, r"costs\.yaml state_costs")])
def test_a_state_without_a_utility_or_costs_of_care_is_one_error_naming_the_table(workdir, overrides, perspective,
                                                                                  message):
    with pytest.raises(InputError, match=message + r" has no entry for state 'best_supportive_care'"):
        run(workdir, [first("sorafenib")], overrides=overrides, perspective=perspective, name="missing")


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


def lenvatinib_mg_a_day(workdir, weight, name, overrides=None) -> float:
    """Lenvatinib's mean daily dose over the weight distribution, from its shared cost."""
    _, result = run(workdir, [first("lenvatinib")], weight=weight, perspective={"vial_sharing": True},
                    overrides=overrides, name=name)
    j = column(result, "first_line")
    return result.costs["first_line_drugs"][0, j] / (result.life_years[0, j] * 365.25) / (LENVATINIB_PACK / 360)


def test_doses_by_weight_band_follow_each_patient_s_band(workdir):
    # lenvatinib 8 mg below 60 kg, 12 mg from 60 kg (8 mg at 50 kg: test above)
    assert lenvatinib_mg_a_day(workdir, ("t.kg_70", "t.sd_tiny"), "band_70") == pytest.approx(12.0, rel=1e-9)
    # three bands (4 mg below 55 kg, 8 mg below 70 kg, 12 mg above) over N(60 kg, 10 kg): of the 200
    # equally likely weights, the quantiles (k + 0.5) / 200, 62 are below 55 kg (Φ(−0.5) = 0.3085) and
    # 32 from 70 kg (1 − Φ(1) = 0.1587): (62 × 4 + 106 × 8 + 32 × 12) / 200 = 7.4 mg a day
    bands = [{"below_kg": "t.kg_55", "dose_mg": "t.mg_4"}, {"below_kg": "t.kg_70", "dose_mg": "t.mg_8"},
             {"dose_mg": "t.mg_12"}]
    three = {"treatments": {"lenvatinib": {"regimen": {0: {"dose_by_weight": bands}}}}}
    assert lenvatinib_mg_a_day(workdir, ("t.kg_60", "t.sd_10"), "three_bands", three) == pytest.approx(7.4, rel=1e-9)


def test_a_patient_weighing_a_band_s_threshold_is_not_below_it(workdir):
    # 8 mg below the 101st of the 200 weights of N(60 kg, 10 kg) (60.06 kg), 12 mg from it: the 100
    # lighter get 8 mg and the patient at the threshold and the 99 heavier 12 mg, (100 × 8 + 100 × 12) / 200
    # = 10 mg a day (9.98 if the patient at the threshold counted as below it)
    bands = [{"below_kg": "t.kg_101st_of_60", "dose_mg": "t.mg_8"}, {"dose_mg": "t.mg_12"}]
    at = {"treatments": {"lenvatinib": {"regimen": {0: {"dose_by_weight": bands}}}}}
    assert lenvatinib_mg_a_day(workdir, ("t.kg_60", "t.sd_10"), "band_at_a_weight", at) == pytest.approx(10.0, rel=1e-9)


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


# ---------------------------------------------------------------------------------
# 7. administration: a unit cost per administration, not scaled by dose intensity
# ---------------------------------------------------------------------------------

IV_ADMINISTRATION = 435.04  # chiang_2021, per administration
TACE_COURSE, RT_COURSE = 17000.0, 13402.0  # rostambeigi_2014, moore_2019 (20 fractions)
CT_EVERY_6_WEEKS, OTHER_CARE_A_WEEK = 1543.0, 174.5  # chiang_2021
REGORAFENIB_PER_DAY = 4 * 9350 / 84 * 21 / 28  # 160 mg from 40 mg tablets (84 for $9,350), 21 days of 28


def test_administration_is_a_unit_cost_per_administration_whatever_the_dose_intensity(workdir):
    # Atezo-Bev every 21 days at RDI 0.8: one IV administration ($435.04) every 21 days while in the
    # first line, whatever the dose given; none in best supportive care
    treatments = {"treatments": {"atezolizumab_bevacizumab": {"relative_dose_intensity": "t.rdi"}}}
    _, result = run(workdir, [first("atezolizumab_bevacizumab")], overrides=treatments, name="administration")
    j = column(result, "first_line")
    administration = result.costs["administration"][0]
    assert administration[j] == pytest.approx(IV_ADMINISTRATION * 365.25 / 21 * result.life_years[0, j], rel=1e-9), \
        "administration is not $435.04 every 21 days × years in the first line"
    assert administration.sum() == administration[j]
    # the drugs, by contrast, are 0.8 of $9,419.16 + 12 vials of bevacizumab at 70 kg (1,050 mg: 11 vials)
    drugs = result.costs["first_line_drugs"][0, j]
    assert drugs == pytest.approx(0.8 * (ATEZOLIZUMAB_PER_ADMINISTRATION + 11 * BEVACIZUMAB_VIAL) * 365.25 / 21
                                  * result.life_years[0, j], rel=1e-9)


# ---------------------------------------------------------------------------------
# 8. procedures: at the start of a line once per patient starting it, recurring ones per year on it
# ---------------------------------------------------------------------------------

def test_procedures_at_the_start_of_a_line_are_once_per_patient_and_recurring_ones_per_year(workdir):
    # first line: Atezo-Bev with on-demand TACE (a quarter of patients, one course at the start) and,
    # added here, a radiotherapy course every 90 days for 40% of patients on it; second line (0.4 × 0.7
    # start it): TACE ± RT, one TACE course and half of patients one RT course, at its start
    extra = {"item": "radiotherapy_course", "share": "t.s", "every_days": "t.ninety_days"}
    overrides = {"treatments": {"atezolizumab_bevacizumab_ihlrt": {"procedures": {1: extra}}}}
    tace_rt = {"options": [{"treatment": "tace_rt", "share": "t.s", "pre_progression_death_share": "t.d2",
                            "progression_free": "regorafenib_pfs"}]}
    _, result = run(workdir, [first("atezolizumab_bevacizumab_ihlrt"), tace_rt], overrides=overrides,
                    name="procedures")
    one, two = column(result, "first_line"), column(result, "second_line")
    procedures = result.costs["procedures"][0]
    started = result.trace.entries[0, :, two].sum()
    assert started == pytest.approx(0.4 * 0.7, rel=1e-9)
    assert procedures[one] == pytest.approx(
        0.25 * TACE_COURSE + 0.4 * RT_COURSE * 365.25 / 90 * result.life_years[0, one], rel=1e-9), \
        "first-line procedures are not 0.25 × $17,000 once plus 0.4 × $13,402 every 90 days on treatment"
    assert procedures[two] == pytest.approx(started * (TACE_COURSE + 0.5 * RT_COURSE), rel=1e-9), \
        "second-line procedures are not ($17,000 + 0.5 × $13,402) per patient starting TACE ± RT"
    assert procedures.sum() == pytest.approx(procedures[one] + procedures[two], rel=1e-12)
    assert result.costs["administration"][0, two] == 0.0  # TACE ± RT has no drug to administer


# ---------------------------------------------------------------------------------
# 9. costs of care and a later line's drugs, per year in each state
# ---------------------------------------------------------------------------------

def test_costs_of_care_and_later_lines_are_per_year_in_each_state(workdir):
    # on a line: CT every 6 weeks ($1,543) and other care ($174.50 a week); in best supportive care,
    # other care and, added here, a $250 visit every 90 days; none when dead. Regorafenib in the
    # second line: $9,350 for 84 tablets of 40 mg, 160 mg on 21 days of 28
    visits = {"state_costs": {"best_supportive_care": [
        {"label": "Other care", "cost": "chiang_2021.cost_other_care"},
        {"label": "Visit", "cost": "t.visit", "every": "t.ninety_days"}]}}
    _, result = run(workdir, [first("sorafenib"), REGORAFENIB], perspective=visits, name="care")
    years = dict(zip(result.state_names, result.life_years[0], strict=True))
    care = dict(zip(result.state_names, result.costs["monitoring_and_care"][0], strict=True))
    on_a_line = CT_EVERY_6_WEEKS * 365.25 / 42 + OTHER_CARE_A_WEEK * 365.25 / 7
    assert care["first_line"] == pytest.approx(on_a_line * years["first_line"], rel=1e-9)
    assert care["second_line"] == pytest.approx(on_a_line * years["second_line"], rel=1e-9), \
        "the second line's costs of care are not those of a line (CT every 6 weeks and other care)"
    assert care["best_supportive_care"] == pytest.approx(
        (OTHER_CARE_A_WEEK * 365.25 / 7 + 250.0 * 365.25 / 90) * years["best_supportive_care"], rel=1e-9), \
        "best supportive care is not $174.50 a week plus $250 every 90 days"
    assert care["dead"] == 0.0
    second = result.costs["second_line_drugs"][0]
    assert second[column(result, "second_line")] == pytest.approx(
        REGORAFENIB_PER_DAY * 365.25 * years["second_line"], rel=1e-9)
    assert second.sum() == second[column(result, "second_line")]


# ---------------------------------------------------------------------------------
# 10. subsequent treatments of a partitioned survival model: once per patient entering alive
# ---------------------------------------------------------------------------------

def run_partitioned(workdir: Path, partitions: list[dict], name: str):
    """A partitioned survival analysis of the same files (strategy ``partitions``, beside a
    one-state comparator): US payer, with oral wastage (half a supply per stop), no
    discounting, 75 kg, a weekly grid."""
    us_payer = {"discount_rate_costs": "t.zero", "discount_rate_effects": "t.zero",
                "state_costs": {"progressed": [{"label": "Other care", "cost": "chiang_2021.cost_other_care"}]}}
    population = {"start_age": "t.age", "share_female": "t.female", "curves": CURVES,
                  "body_weight_kg": {"mean": "t.kg_75", "sd": "t.sd_tiny"}}
    analysis = {"name": name, "structure": "partitioned_survival", "populations": ["imbrave150"],
                "cycle_length_days": 7.0, "horizon_years": 20.0, "evidence_directories": ["ev"], "scenarios": {},
                "strategies": {"imbrave150": {"sorafenib": {"label": "Tested", "partitions": partitions},
                                              "atezo_bev": {"label": "Comparator",
                                                            "partitions": [{"state": "first_line", "survival": "os"}]}}},
                "overrides": {"populations": {"imbrave150": population}, "perspectives": {"us_payer": us_payer},
                              "utilities": {"by_state": {"progressed": "su_2021.utility_progressed"}}}}
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(analysis))
    inputs = load_analysis(path)
    model = build_model(inputs)
    return model, {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]


def test_subsequent_treatments_cost_every_component_once_per_patient_entering_alive(workdir):
    # on progression (30% of those leaving the first state die): 30% start Atezo-Bev with on-demand TACE
    # for a mean of its 4-month-median exponential curve, 40% sorafenib for its 2-month curve's mean
    subsequent = [{"treatment": "atezolizumab_bevacizumab_ihlrt", "share": "t.d1", "duration": "on_a"},
                  {"treatment": "sorafenib", "share": "t.s", "duration": "on_b"}]
    partitions = [{"state": "first_line", "survival": "pfs", "death_share": "t.d1"},
                  {"state": "progressed", "survival": "os", "subsequent_treatments": subsequent}]
    model, result = run_partitioned(workdir, partitions, "subsequent")
    horizon = model.grid.horizon_years

    def mean_years(median_months):  # restricted mean of an exponential over the horizon
        rate = math.log(2) / (median_months / 12)
        return -math.expm1(-rate * horizon) / rate

    atezo_bev_ae, sorafenib_ae = 0.152 + 0.018 + 0.024, SORAFENIB_AE_RATE
    atezo_bev = ((ATEZOLIZUMAB_PER_ADMINISTRATION + 12 * BEVACIZUMAB_VIAL + IV_ADMINISTRATION) * 365.25 / 21
                 * mean_years(4.0) + 0.25 * TACE_COURSE + atezo_bev_ae * SEVERE_AE)
    sorafenib = SORAFENIB_PER_DAY * 365.25 * mean_years(2.0) + sorafenib_ae * SEVERE_AE + SORAFENIB_PER_DAY * 28 / 2
    j = column(result, "progressed")
    entering = result.trace.entries[0, :, j].sum()
    assert entering == pytest.approx(0.7 * -math.expm1(-math.log(2) / 0.5 * horizon), rel=1e-12)
    subsequent_cost = result.costs["subsequent_treatment"][0]
    assert subsequent_cost[j] == pytest.approx(entering * (0.3 * atezo_bev + 0.4 * sorafenib), rel=1e-9), \
        "subsequent treatments are not Σ share × (per year × mean years + at start + adverse events + waste)"
    assert subsequent_cost.sum() == subsequent_cost[j]
    # their adverse events: 0.16 for a month per event, once per patient entering alive
    loss = entering * 0.16 / 12 * (0.3 * atezo_bev_ae + 0.4 * sorafenib_ae)
    assert result.qalys[0, j] == pytest.approx(0.68 * result.life_years[0, j] - loss, rel=1e-9)


# ---------------------------------------------------------------------------------
# 11. utilities capped at the general population's, by age and sex, cycle by cycle
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("age_adjusted", "capped"), [(False, True), (True, True), (True, False)])
def test_utilities_are_capped_at_the_general_population_s_by_age_and_sex(workdir, age_adjusted, capped):
    # from age 70, 70% men: Ara & Brazier's 0.9508566 + 0.0212126 male − 0.0002587 age − 0.0000332 age²,
    # 0.7849 at 70 and falling, caps a first-line utility of 0.9 from the start (and best supportive
    # care's 0.68 from about 89, when few are alive); age-adjusted, each utility is first scaled by the norm at its age over
    # the norm at 70. Each cycle's utility is at the age at its start.
    utilities = {"utilities": {"by_state": {"first_line": "t.u_high"}, "age_adjusted": age_adjusted,
                               "cap_at_general_population": capped}}
    model, result = run(workdir, [first("sorafenib")], overrides=utilities, age="t.age_70",
                        name=f"cap_{age_adjusted}_{capped}")
    age = 70 + model.grid.times_years[:-1]
    norm = 0.9508566 + 0.0212126 * 0.7 - 0.0002587 * age - 0.0000332 * age**2
    assert norm[0] == pytest.approx(0.7849, abs=1e-4)
    step = model.grid.cycle_length_years
    occupancy = result.trace.occupancy[0]
    for state, utility in (("first_line", 0.9), ("best_supportive_care", 0.68)):
        j = column(result, state)
        per_cycle = utility * norm / norm[0] if age_adjusted else np.full_like(norm, utility)
        years = step / 2 * (occupancy[:-1, j] + occupancy[1:, j])  # trapezoid, undiscounted
        loss = AE_DISUTILITY / 12 * SORAFENIB_AE_RATE if state == "first_line" else 0.0
        expected = years @ (np.minimum(per_cycle, norm) if capped else per_cycle) - loss
        assert result.qalys[0, j] == pytest.approx(expected, rel=1e-9), \
            f"{state}'s QALYs are not its utility capped at the age- and sex-matched norm cycle by cycle"
        if state == "first_line" and capped:  # the cap shows: 13% here
            assert years @ per_cycle - loss > 1.1 * expected


# ---------------------------------------------------------------------------------
# 12. several treatments costed in one state add up
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize("windows", [False, True])
def test_treatments_costed_in_one_state_add_up(workdir, windows):
    # sorafenib ($696 a day) and regorafenib in the first-line state of a trace, valued directly:
    # throughout, each costs per year in the state and half a 28-day supply per stop (everyone stops
    # within the horizon, undiscounted: $696 × 14 + $9,350 / 2); for the first year and half year
    # only, each costs in the cycles starting before then, and nothing is wasted
    wastage = {"oral_wastage": {"method": "half_supply_on_stopping", "supply_days": {
        "sorafenib": "nice_ta474_sorafenib.sorafenib_supply_days",
        "regorafenib": "biocentury_2012_regorafenib_price.regorafenib_supply_days"}}}
    model, result = run(workdir, [first("sorafenib")], perspective=wastage, name="one_state")
    inputs, grid = model.inputs, model.grid
    untils = (np.array([1.0]), np.array([0.5])) if windows else (None, None)
    courses = tuple(Course(name, "first_line_drugs", until) for name, until in zip(("sorafenib", "regorafenib"),
                                                                                     untils, strict=True))
    states = [State("first_line", ("first_line",), courses=courses),
              State("best_supportive_care", ("best_supportive_care",)), dead_state()]
    assert result.state_names == tuple(state.name for state in states)
    values = PopulationValues(inputs, inputs.populations["imbrave150"], inputs.base_case(), grid)
    costs, _, _ = value_trace(values, result.trace, states, model.categories)
    occupancy = result.trace.occupancy[0, :, 0]
    years = grid.cycle_length_years / 2 * (occupancy[:-1] + occupancy[1:])  # by cycle, trapezoid
    starts = grid.times_years[:-1]
    per_day = (SORAFENIB_PER_DAY, REGORAFENIB_PER_DAY)
    if windows:
        expected = sum(day * 365.25 * years[starts < until[0]].sum() for day, until in zip(per_day, untils))
    else:
        expected = sum(per_day) * 365.25 * years.sum() + SORAFENIB_PER_DAY * 14 + 9350 / 2
    assert costs["first_line_drugs"][0, 0] == pytest.approx(expected, rel=1e-9), \
        "two treatments in one state do not add up"


def test_a_state_s_own_one_off_values_add_to_those_of_the_treatment_started_in_it(workdir):
    # sorafenib started on entry to the first line (everyone, at t = 0): its adverse events, 0.32 ×
    # $15,709 and 0.16 for a month each, and the state's own $1,000 and −0.01 QALYs per entry on top
    model, result = run(workdir, [first("sorafenib")], name="own_one_off")
    inputs = model.inputs
    states = [State("first_line", ("first_line",), entered_treatment="sorafenib",
                    on_entry={"adverse_events": np.array([1000.0])}, qalys_on_entry=np.array([-0.01])),
              State("best_supportive_care", ("best_supportive_care",)), dead_state()]
    values = PopulationValues(inputs, inputs.populations["imbrave150"], inputs.base_case(), model.grid)
    costs, life_years, qalys = value_trace(values, result.trace, states, model.categories)
    assert costs["adverse_events"][0, 0] == pytest.approx(SORAFENIB_AE_RATE * SEVERE_AE + 1000.0, rel=1e-12)
    assert qalys[0, 0] == pytest.approx(UTILITY_PROGRESSION_FREE * life_years[0, 0]
                                        - AE_DISUTILITY / 12 * SORAFENIB_AE_RATE - 0.01, rel=1e-12)


def test_costs_and_effects_are_discounted_at_their_own_rates(workdir):
    # costs at 3% and effects at 1.5% a year (NICE's differential discounting): the trapezoid rule
    # on the discounted first-line occupancy, by hand, for its years and its drug acquisition
    rates = {"discount_rate_costs": "t.three_percent", "discount_rate_effects": "t.one_and_a_half_percent"}
    model, result = run(workdir, [first("sorafenib")], perspective=rates, name="differential")
    times, step = model.grid.times_years, model.grid.cycle_length_years
    occupancy = result.trace.occupancy[0, :, column(result, "first_line")]

    def discounted_years(rate):
        weighted = occupancy * (1 + rate) ** -times
        return step / 2 * (weighted[:-1] + weighted[1:]).sum()

    j = column(result, "first_line")
    assert result.life_years[0, j] == pytest.approx(discounted_years(0.015), rel=1e-9)
    assert result.costs["first_line_drugs"][0, j] == pytest.approx(
        SORAFENIB_PER_DAY * 365.25 * discounted_years(0.03), rel=1e-9)
    assert discounted_years(0.015) / discounted_years(0.03) > 1.005  # the rates' difference shows


# ---------------------------------------------------------------------------------
# 13. what valuing makes once: a cost model per body weight, a drug's cost per year, utility norms
# ---------------------------------------------------------------------------------

BEVACIZUMAB_PER_YEAR_A_VIAL = BEVACIZUMAB_VIAL * 365.25 / 21  # a 100 mg vial every 21 days


def two_weights(workdir: Path):
    """imbrave150 at 70 kg and mvi at 50 kg (sd 0.001 kg each), the same in all else."""
    path = workdir / "two_weights.yaml"
    weights = {name: {"body_weight_kg": {"mean": mean, "sd": "t.sd_tiny"}}
               for name, mean in (("imbrave150", "t.kg_70"), ("mvi", "t.kg_50"))}
    path.write_text(yaml.safe_dump({"name": "two_weights", "populations": ["imbrave150", "mvi"],
                                    "evidence_directories": ["ev"], "overrides": {"populations": weights}}))
    inputs = load_analysis(path)
    return inputs, inputs.populations["imbrave150"], inputs.populations["mvi"]


def test_populations_share_a_cost_model_only_with_those_of_the_same_body_weight(workdir):
    # bevacizumab 15 mg/kg every 21 days: 1,050 mg, 11 vials of 100 mg, at 70 kg; 750 mg, 8 vials, at 50 kg
    inputs, heavy, light = two_weights(workdir)
    params, grid, shared = inputs.base_case(), TimeGrid(7 / 365.25, 10), SharedWork()
    values, again, lighter = (PopulationValues(inputs, population, params, grid, shared)
                              for population in (heavy, heavy, light))
    assert again.costs is values.costs and lighter.costs is not values.costs
    bevacizumab = next(c for c in inputs.treatments["atezolizumab_bevacizumab"].regimen if c.drug == "bevacizumab")
    np.testing.assert_allclose(values.costs.drug_per_year(bevacizumab), [11 * BEVACIZUMAB_PER_YEAR_A_VIAL], rtol=1e-12)
    np.testing.assert_allclose(lighter.costs.drug_per_year(bevacizumab), [8 * BEVACIZUMAB_PER_YEAR_A_VIAL], rtol=1e-12)


def test_a_drug_s_cost_per_year_and_the_utility_norms_are_made_once_and_read_only(workdir):
    # every strategy of a population (and every population of its body weight or demography) reads
    # the same arrays: one written into would change the others' results
    inputs, heavy, _ = two_weights(workdir)
    values = PopulationValues(inputs, heavy, inputs.base_case(), TimeGrid(7 / 365.25, 10))
    bevacizumab = next(c for c in inputs.treatments["atezolizumab_bevacizumab"].regimen if c.drug == "bevacizumab")
    per_year = values.costs.drug_per_year(bevacizumab)
    np.testing.assert_allclose(per_year, [11 * BEVACIZUMAB_PER_YEAR_A_VIAL], rtol=1e-12)
    assert values.costs.drug_per_year(bevacizumab) is per_year and not per_year.flags.writeable
    factor, cap = values.general_population_utility
    assert values.general_population_utility[1] is cap
    assert not factor.flags.writeable and not cap.flags.writeable
