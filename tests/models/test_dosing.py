"""Treatment and dosing: each drug of a regimen on its own time on treatment, treatment
beyond progression, a stopping rule and oral-drug wastage, against hand calculations.

A minimal analysis is built from the shipped HCC model files by overrides pointing at a
test evidence file, as in ``test_sequencing.py``: the tested lines replace the sorafenib
strategy of the IMbrave150-like population, best supportive care (BSC) follows an
exponential curve (not calibrated), start age 20 (the general-population floor binds
nowhere), no discounting unless a test says otherwise, and body weight 70 kg with a
spread of 1 g, so that bevacizumab 15 mg/kg is 1,050 mg: 11 vials of 100 mg at $841.

Prices (US payer files): atezolizumab 1,200 mg at $9,419.16 a vial and bevacizumab $9,251
an administration, both every 21 days, one infusion at $435.04 every 21 days; sorafenib
400 mg twice a day from 200 mg tablets at $174 = $696 a day; regorafenib 160 mg on 21 of 28
days from 40 mg tablets, 84 for $9,350. Closed forms (λ = ln 2 / median, per year): an
exponential's restricted mean over 20 years is (1 − e^{−20λ})/λ; the trapezoid rule on a
one-day grid is within (λΔ)²/12 < 1e-5 of it, relatively.
"""
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from curve_analyses import write_evidence
from pydantic import ValidationError

from markov import InputError
from markov.inputs import load_analysis
from markov.inputs.schema import OralWastage
from markov.models import build_model

DAY = 1.0 / 365.25
ATEZOLIZUMAB_PER_YEAR = 9419.16 * 365.25 / 21
BEVACIZUMAB_PER_YEAR = 11 * 841.0 * 365.25 / 21
INFUSION_PER_YEAR = 435.04 * 365.25 / 21
SORAFENIB_PER_DAY = 4 * 174.0
REGORAFENIB_HALF_PACK = 9350.0 / 2  # 28-day supply: 84 tablets for $9,350, half of it wasted on stopping

#: The test evidence file ``t``: name -> (value, unit). Medians in months.
VALUES = {"pfs": (6.0, "months"), "pfs_long": (120.0, "months"), "bsc": (9.0, "months"),
          "bsc_long": (600.0, "months"), "bsc_short": (1.0, "months"), "tot_9": (9.0, "months"),
          "tot_6": (6.0, "months"), "tot_3": (3.0, "months"), "regorafenib_pfs": (3.0, "months"),
          "d1": (0.3, "proportion"), "d2": (0.25, "proportion"), "s": (0.4, "proportion"),
          "age": (20, "age_years"), "zero": (0.0, "rate_per_year"), "three_percent": (0.03, "rate_per_year"),
          "sd_tiny": (0.001, "kg"), "two_years": (2.0, "years"), "supply_30": (30.0, "days"),
          "share": (0.5, "proportion")}


def rmst(median_months: float, horizon: float = 20.0) -> float:
    """Restricted mean of an exponential with this median over the horizon, in years."""
    rate = math.log(2) / (median_months / 12)
    return -math.expm1(-rate * horizon) / rate


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dosing")
    write_evidence(root / "ev", VALUES)
    return root


CURVES = {name: {"family": "exp", "median": f"t.{name}"} for name in VALUES
          if name.startswith(("pfs", "bsc", "tot_", "regorafenib_pfs"))}


def settings(lines: list[dict], *, bsc="bsc", days=1.0, method="trapezoid", discount="t.zero",
             perspective: dict | None = None, treatments: dict | None = None) -> dict:
    strategies = {"sorafenib": {"lines": lines}}
    overrides = {
        "populations": {"imbrave150": {
            "start_age": "t.age", "body_weight_kg": {"mean": "chiang_2021.body_weight_kg", "sd": "t.sd_tiny"},
            "curves": CURVES, "post_progression_survival": bsc, "strategies": strategies}},
        "perspectives": {"us_payer": {"discount_rate_costs": discount, "discount_rate_effects": discount,
                                      **(perspective or {})}},
    }
    if treatments:
        overrides["treatments"] = treatments
    return {"name": "dosing", "populations": ["imbrave150"], "cycle_length_days": days, "horizon_years": 20.0,
            "cycle_correction": method, "evidence_directories": ["ev"], "overrides": overrides, "scenarios": {}}


def run(workdir: Path, lines: list[dict], **options):
    path = workdir / "dosing.yaml"
    path.write_text(yaml.safe_dump(settings(lines, **options)))
    inputs = load_analysis(path)
    model = build_model(inputs)
    result = {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]
    assert result.floored_cycles == 0
    return model, result


def atezo_bev(tot: dict, pfs="pfs") -> dict:
    return {"treatment": "atezolizumab_bevacizumab", "progression_free": pfs, "pre_progression_death_share": "t.d1",
            "time_on_treatment": tot}


def sorafenib(tot: dict | None = None, pfs="pfs") -> dict:
    line = {"treatment": "sorafenib", "progression_free": pfs, "pre_progression_death_share": "t.d1"}
    return {**line, "time_on_treatment": tot} if tot else line


NO_WASTAGE = {"oral_wastage": {"method": "none"}}
BY_DRUG = {"atezolizumab": {"curve": "tot_9"}, "bevacizumab": {"curve": "tot_3"}}


# ---------------------------------------------------------------------------------
# each drug on its own time on treatment
# ---------------------------------------------------------------------------------

def test_each_drug_is_costed_on_its_own_time_on_treatment(workdir):
    # PFS median 120 months is above both curves (medians 9 and 3) at every time: neither is capped
    model, result = run(workdir, [atezo_bev({"by_drug": BY_DRUG}, pfs="pfs_long")])
    assert result.state_names[:2] == ("first_line_on_treatment", "first_line_off_treatment")
    drugs = result.costs["first_line_drugs"][0]
    expected = ATEZOLIZUMAB_PER_YEAR * rmst(9.0) + BEVACIZUMAB_PER_YEAR * rmst(3.0)
    assert expected == pytest.approx(177_263.33 + 58_032.88, abs=0.01)  # $163,826/yr × 1.082 + $160,901/yr × 0.361
    assert drugs.sum() == pytest.approx(expected, rel=1e-5)
    # one line's curve for both drugs would cost bevacizumab as long as atezolizumab: $116,000 more
    assert abs(drugs.sum() - (ATEZOLIZUMAB_PER_YEAR + BEVACIZUMAB_PER_YEAR) * rmst(9.0)) > 100_000
    assert drugs[0] == drugs.sum()  # reported with the on-treatment state
    # one infusion per visit while on either drug: on atezolizumab, the longer-lasting one
    assert result.costs["administration"][0].sum() == pytest.approx(INFUSION_PER_YEAR * rmst(9.0), rel=1e-5)
    # the on-treatment state holds those on any drug: atezolizumab's curve, inside PFS
    on = result.trace.occupancy[0, :, 0]
    np.testing.assert_allclose(on, np.exp(-math.log(2) / 0.75 * model.grid.times_years), rtol=1e-12)
    assert result.life_years[0, 0] == pytest.approx(rmst(9.0), rel=1e-5)


def test_a_drug_s_time_on_treatment_is_capped_at_progression_free_survival(workdir):
    # PFS median 6: atezolizumab (9) is costed as PFS, bevacizumab (3) as its own
    model, result = run(workdir, [atezo_bev({"by_drug": BY_DRUG})])
    expected = ATEZOLIZUMAB_PER_YEAR * rmst(6.0) + BEVACIZUMAB_PER_YEAR * rmst(3.0)
    assert result.costs["first_line_drugs"][0].sum() == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(result.trace.occupancy[0, :, 0] + result.trace.occupancy[0, :, 1],
                               np.exp(-math.log(2) / 0.5 * model.grid.times_years), rtol=1e-12)
    np.testing.assert_allclose(result.trace.occupancy[0, :, 1], 0.0, atol=1e-15)  # on atezolizumab till progression


def test_a_drug_left_out_of_by_drug_follows_the_line_and_a_drug_may_have_its_own_stop(workdir):
    tot = {"curve": "tot_3", "by_drug": {"atezolizumab": {"curve": "tot_9", "max_duration": "t.two_years"}}}
    _, result = run(workdir, [atezo_bev(tot, pfs="pfs_long")], method="start")
    q = math.exp(-math.log(2) / 0.75 * DAY)  # atezolizumab: stopped from day 731 (the first at or after 2 years)
    atezolizumab = ATEZOLIZUMAB_PER_YEAR * DAY * -math.expm1(731 * math.log(q)) / -math.expm1(math.log(q))
    q3 = math.exp(-math.log(2) / 0.25 * DAY)
    bevacizumab = BEVACIZUMAB_PER_YEAR * DAY * -math.expm1(7305 * math.log(q3)) / -math.expm1(math.log(q3))
    assert result.costs["first_line_drugs"][0].sum() == pytest.approx(atezolizumab + bevacizumab, rel=1e-12)


# ---------------------------------------------------------------------------------
# a stopping rule
# ---------------------------------------------------------------------------------

def test_a_two_year_stopping_rule_on_an_exponential_time_on_treatment_is_a_geometric_sum(workdir):
    # ToT median 6 months, PFS median 120 (not binding), stopped at 2 years; "start" correction on a
    # one-day grid: cost = $696 × Σ_{c < 730.5} q^c = $696 × (1 − q^731)/(1 − q), q = e^{−λΔ}
    _, result = run(workdir, [sorafenib({"curve": "tot_6", "max_duration": "t.two_years"}, pfs="pfs_long")],
                    method="start", perspective=NO_WASTAGE)
    q = math.exp(-math.log(2) / 0.5 * DAY)
    expected = SORAFENIB_PER_DAY * -math.expm1(731 * math.log(q)) / -math.expm1(math.log(q))
    assert result.costs["first_line_drugs"][0].sum() == pytest.approx(expected, rel=1e-12)
    # in continuous time $696 × 365.25 × (1 − e^{−2λ})/λ = $183,376.64 × (1 − 1/16); the rule saves 1/16
    continuous = SORAFENIB_PER_DAY * 365.25 * 0.5 / math.log(2) * (1 - 2.0**-4)
    # the "start" correction counts each cycle at its start, half a day more per patient treated,
    # and the grid stops at day 731, half a day after 2 years, for the 1/16 still on treatment
    assert expected - continuous == pytest.approx(SORAFENIB_PER_DAY / 2 * (1 - 2.0**-4 + 2.0**-4), rel=1e-3)
    _, without = run(workdir, [sorafenib({"curve": "tot_6"}, pfs="pfs_long")], method="start",
                     perspective=NO_WASTAGE)
    saved = without.costs["first_line_drugs"][0].sum() - expected
    assert saved == pytest.approx(SORAFENIB_PER_DAY * q**731 / -math.expm1(math.log(q)), rel=1e-9)


# ---------------------------------------------------------------------------------
# treatment beyond progression
# ---------------------------------------------------------------------------------

def test_treatment_beyond_progression_is_costed_up_to_survival(workdir):
    # PFS median 6; atezolizumab 9 and bevacizumab 3 months; BSC median 50 years, so that overall
    # survival stays above atezolizumab's curve: its whole curve is costed, 3 months beyond PFS
    tot = {"by_drug": BY_DRUG, "beyond_progression": True}
    _, result = run(workdir, [atezo_bev(tot)], bsc="bsc_long")
    expected = ATEZOLIZUMAB_PER_YEAR * rmst(9.0) + BEVACIZUMAB_PER_YEAR * rmst(3.0)
    assert result.costs["first_line_drugs"][0].sum() == pytest.approx(expected, rel=1e-5)
    _, capped = run(workdir, [atezo_bev({"by_drug": BY_DRUG})], bsc="bsc_long")
    more = result.costs["first_line_drugs"][0].sum() - capped.costs["first_line_drugs"][0].sum()
    assert more == pytest.approx(ATEZOLIZUMAB_PER_YEAR * (rmst(9.0) - rmst(6.0)), rel=1e-4)  # $59,088
    assert result.costs["administration"][0].sum() == pytest.approx(INFUSION_PER_YEAR * rmst(9.0), rel=1e-5)
    # the states are those of the capped model: on treatment while progression-free
    np.testing.assert_array_equal(result.trace.occupancy, capped.trace.occupancy)
    np.testing.assert_array_equal(result.life_years, capped.life_years)


def test_treatment_beyond_progression_never_exceeds_survival(workdir):
    # BSC median 1 month: overall survival falls below atezolizumab's curve, which is cut there
    tot = {"by_drug": BY_DRUG, "beyond_progression": True}
    model, result = run(workdir, [atezo_bev(tot)], bsc="bsc_short")
    occupancy, times = result.trace.occupancy[0], model.grid.times_years
    alive = 1.0 - occupancy[:, -1]
    atezolizumab = np.minimum(np.exp(-math.log(2) / 0.75 * times), alive)
    assert (np.exp(-math.log(2) / 0.75 * times) > alive + 0.01).any()  # the cap binds
    step = model.grid.cycle_length_years
    years = step * (atezolizumab[:-1] + atezolizumab[1:]).sum() / 2
    bevacizumab = BEVACIZUMAB_PER_YEAR * rmst(3.0)  # below PFS (median 6) throughout
    assert result.costs["first_line_drugs"][0].sum() == pytest.approx(ATEZOLIZUMAB_PER_YEAR * years + bevacizumab,
                                                                       rel=1e-5)


def test_treatment_beyond_progression_in_the_partitioned_survival_structure(workdir):
    first = {"state": "first_line", "survival": "pfs", "treatment": "atezolizumab_bevacizumab",
             "death_share": "t.d1", "time_on_treatment": {"by_drug": BY_DRUG}}
    second = {"state": "progressed", "survival": "bsc_long"}  # OS median 50 years: above every ToT
    analysis = settings([sorafenib()])
    analysis.update(structure="partitioned_survival",
                    strategies={"imbrave150": {"sorafenib": {"label": "Tested", "partitions": [first, second]},
                                               "atezo_bev": {"label": "Other", "partitions": [second]}}})
    overrides = analysis["overrides"]
    overrides["populations"]["imbrave150"].pop("strategies")
    overrides["perspectives"]["us_payer"]["state_costs"] = {"progressed": [
        {"label": "Other care", "cost": "chiang_2021.cost_other_care"}]}
    overrides["utilities"] = {"by_state": {"progressed": "su_2021.utility_progressed"}}
    costs = {}
    for beyond in (False, True):
        first["time_on_treatment"]["beyond_progression"] = beyond
        path = workdir / f"psm_{beyond}.yaml"
        path.write_text(yaml.safe_dump(analysis))
        inputs = load_analysis(path)
        result = {r.strategy: r for r in build_model(inputs).evaluate(inputs.base_case())}["sorafenib"]
        costs[beyond] = result.costs["first_line_drugs"][0].sum()
    assert costs[False] == pytest.approx(ATEZOLIZUMAB_PER_YEAR * rmst(6.0) + BEVACIZUMAB_PER_YEAR * rmst(3.0),
                                         rel=1e-5)
    assert costs[True] == pytest.approx(ATEZOLIZUMAB_PER_YEAR * rmst(9.0) + BEVACIZUMAB_PER_YEAR * rmst(3.0),
                                        rel=1e-5)


# ---------------------------------------------------------------------------------
# oral-drug wastage
# ---------------------------------------------------------------------------------

def test_a_stop_wastes_half_a_supply_that_is_not_a_whole_number_of_cycles(workdir):
    # a 30-day supply on a weekly grid (4.29 cycles): each stop wastes 15 days of sorafenib, $10,440;
    # with ToT exponential (median 3 months) discounted at 3%, stops in cycle c are q^{c−1}(1 − q),
    # counted at t_c: Σ_{c=1..N} q^{c−1}(1 − q) v^c = (1 − q) v (1 − (qv)^N)/(1 − qv), v = 1.03^{−Δ}
    wastage = {"oral_wastage": {"method": "half_supply_on_stopping", "supply_days": {"sorafenib": "t.supply_30"}}}
    model, result = run(workdir, [sorafenib({"curve": "tot_3"})], days=7.0, discount="t.three_percent",
                        perspective=wastage)
    _, without = run(workdir, [sorafenib({"curve": "tot_3"})], days=7.0, discount="t.three_percent",
                     perspective=NO_WASTAGE)
    step, n = model.grid.cycle_length_years, model.grid.n_cycles
    q, v = math.exp(-math.log(2) / 0.25 * step), 1.03**-step
    stops = (1 - q) * v * (1 - (q * v) ** n) / (1 - q * v)
    waste = result.costs["first_line_drugs"][0].sum() - without.costs["first_line_drugs"][0].sum()
    assert SORAFENIB_PER_DAY * 15 == 10_440.0
    assert waste == pytest.approx(10_440.0 * stops, rel=1e-12)
    assert 0.98 * 10_440 < waste < 10_440  # nearly everyone stops early, little discounted
    # undiscounted, every patient who starts stops within the horizon: $10,440 each
    _, plain = run(workdir, [sorafenib({"curve": "tot_3"})], days=7.0, perspective=wastage)
    _, plain_without = run(workdir, [sorafenib({"curve": "tot_3"})], days=7.0, perspective=NO_WASTAGE)
    waste = plain.costs["first_line_drugs"][0].sum() - plain_without.costs["first_line_drugs"][0].sum()
    assert waste == pytest.approx(10_440.0, rel=1e-12)


def test_an_oral_drug_of_a_combination_wastes_its_supply_when_it_stops_not_when_the_regimen_does(workdir):
    # sorafenib with atezolizumab (a test regimen), each on its own time on treatment: sorafenib's
    # (median 3 months) ends before atezolizumab's (capped at PFS, 6 months). Half of a 30-day supply
    # of sorafenib is wasted at each of its stops, discounted when sorafenib stops: the closed form of
    # the test above (stops at its 3-month median, not the regimen's 6), 3% a year on a weekly grid
    regimen = {"sorafenib_atezolizumab": {"label": "Sorafenib + atezolizumab (test)", "regimen": [
        {"drug": "sorafenib", "dose_mg": "sharp_llovet_2008.sorafenib_dose_mg",
         "administrations": "sharp_llovet_2008.sorafenib_administrations_per_day",
         "cycle_days": "sharp_llovet_2008.one_day"},
        {"drug": "atezolizumab", "dose_mg": "imbrave150_finn_2020.atezolizumab_dose_mg",
         "administrations": "imbrave150_finn_2020.one_administration",
         "cycle_days": "imbrave150_finn_2020.cycle_days"}]}}
    line = {"treatment": "sorafenib_atezolizumab", "progression_free": "pfs", "pre_progression_death_share": "t.d1",
            "time_on_treatment": {"by_drug": {"sorafenib": {"curve": "tot_3"}, "atezolizumab": {"curve": "tot_9"}}}}
    wastage = {"oral_wastage": {"method": "half_supply_on_stopping", "supply_days": {"sorafenib": "t.supply_30"}}}
    options = {"days": 7.0, "discount": "t.three_percent", "treatments": regimen}
    model, result = run(workdir, [line], perspective=wastage, **options)
    _, without = run(workdir, [line], perspective=NO_WASTAGE, **options)
    step, n = model.grid.cycle_length_years, model.grid.n_cycles
    v = 1.03**-step

    def stops(median_years):
        q = math.exp(-math.log(2) / median_years * step)
        return (1 - q) * v * (1 - (q * v) ** n) / (1 - q * v)

    waste = result.costs["first_line_drugs"][0].sum() - without.costs["first_line_drugs"][0].sum()
    assert waste == pytest.approx(10_440.0 * stops(0.25), rel=1e-12), \
        "sorafenib's waste is not counted when sorafenib stops"
    assert abs(stops(0.5) / stops(0.25) - 1) > 5e-3  # the regimen's stops would show


def test_wastage_of_a_later_line_is_half_a_supply_per_patient_who_starts_it(workdir):
    # regorafenib second line (no time on treatment of its own: costed throughout its state), its
    # 28-day pack of the shipped files: half a pack, $4,675, per patient starting it, s(1 − d1) = 0.28
    second = {"options": [{"treatment": "regorafenib", "share": "t.s", "pre_progression_death_share": "t.d2",
                           "progression_free": "regorafenib_pfs"}]}
    _, result = run(workdir, [sorafenib(), second])
    shipped = {"oral_wastage": {"method": "half_supply_on_stopping",
                                "supply_days": {"regorafenib": "biocentury_2012_regorafenib_price.regorafenib_supply_days"}}}
    _, only_regorafenib = run(workdir, [sorafenib(), second], perspective=shipped)
    _, none = run(workdir, [sorafenib(), second], perspective=NO_WASTAGE)
    waste = only_regorafenib.costs["second_line_drugs"][0].sum() - none.costs["second_line_drugs"][0].sum()
    started = only_regorafenib.trace.entries[0, :, only_regorafenib.state_names.index("second_line")].sum()
    assert started == pytest.approx(0.4 * 0.7, rel=1e-6)
    assert REGORAFENIB_HALF_PACK == pytest.approx(4 * 9350 / 84 * 21 / 28 * 14, rel=1e-15)
    assert waste == pytest.approx(REGORAFENIB_HALF_PACK * started, rel=1e-9)
    # the shipped files waste sorafenib too: half its 28-day pack, $9,744, per patient starting it
    shipped_first = result.costs["first_line_drugs"][0].sum() - none.costs["first_line_drugs"][0].sum()
    assert shipped_first == pytest.approx(14 * SORAFENIB_PER_DAY, rel=1e-9)


# ---------------------------------------------------------------------------------
# errors name the field, the value and the rule
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "options", "message"), [
    ([atezo_bev({"by_drug": {"nivolumab": {"curve": "tot_9"}}})], {},
     (r"time_on_treatment\.by_drug\.nivolumab: 'nivolumab' is not a drug of the treatment's regimen "
      r"\(atezolizumab, bevacizumab\)")),
    ([atezo_bev({"by_drug": {"atezolizumab": {}}})], {},
     r"by_drug\.atezolizumab.*give curve, max_duration or beyond_progression"),
    ([sorafenib({"beyond_progression": True})], {}, r"beyond_progression is true but no time-on-treatment curve"),
    ([atezo_bev({"beyond_progression": True, "by_drug": {"atezolizumab": {"curve": "tot_9"}}})], {},
     r"beyond_progression is true but drug 'bevacizumab' has no time-on-treatment curve"),
    ([atezo_bev({"curve": "tot_3", "by_drug": BY_DRUG})], {},
     r"time_on_treatment\.curve = 'tot_3': every drug of the regimen has its own curve"),
    ([sorafenib(), {"options": [{"treatment": "regorafenib", "share": "t.s", "progression_free": "regorafenib_pfs",
                                 "pre_progression_death_share": "t.d2",
                                 "time_on_treatment": {"curve": "tot_3", "beyond_progression": True}}]}], {},
     r"lines\[1\]\.options\[0\]\.time_on_treatment: beyond_progression is capped by survival since the start"),
    ([atezo_bev({"by_drug": {"atezolizumab": {"curve": "no_such_curve"}}})], {},
     r"time_on_treatment\.by_drug\.atezolizumab\.curve = 'no_such_curve': no curve of that name"),
    ([sorafenib()], {"perspective": {"oral_wastage": {"supply_days": {"imatinib": "t.supply_30"}}}},
     r"oral_wastage\.supply_days\.imatinib: drug_prices has no price for 'imatinib'"),
    ([sorafenib()], {"perspective": {"oral_wastage": {"supply_days": {"sorafenib": "t.share"}}}},
     r"oral_wastage\.supply_days\.sorafenib = 't\.share': has unit 'proportion'; supply_days needs days or "),
    ([sorafenib()], {"perspective": {"oral_wastage": {"method": "whole_packs"}}},
     r"oral_wastage\.method.*half_supply_on_stopping.*none"),
])
def test_bad_dosing_inputs_are_refused_with_the_field_and_the_rule(workdir, lines, options, message):
    with pytest.raises(InputError, match=message):
        run(workdir, lines, **options)


def test_oral_wastage_needs_its_supplies():
    with pytest.raises(ValidationError, match=r"method 'half_supply_on_stopping' needs supply_days"):
        OralWastage.model_validate({"method": "half_supply_on_stopping"})
    assert OralWastage.model_validate({"method": "none"}).supply_days == {}


def test_the_shipped_scenarios_of_dosing_change_what_they_say(workdir):
    """No oral wastage lowers only oral drugs' costs; the stopping rule lowers only
    Atezo-Bev's; beyond progression raises Atezo-Bev's (its curves exceed the modelled PFS)."""
    from markov.api import load

    analysis = load()
    base = analysis.base_case().table.set_index(["population", "strategy"])["cost"]
    tables = {name: analysis.scenario(name).base_case().table.set_index(["population", "strategy"])["cost"]
              for name in ("no_oral_wastage", "immunotherapy_stopping_rule", "treatment_beyond_progression")}
    assert (tables["no_oral_wastage"] < base).all()  # every strategy has an oral drug in some line
    stop = tables["immunotherapy_stopping_rule"] - base
    assert (stop.loc[[("imbrave150", "atezo_bev"), ("mvi", "atezo_bev")]] < 0).all()
    others = [("imbrave150", "atezo_bev"), ("mvi", "atezo_bev")]
    assert (stop.drop(others).abs() < 1e-6).all()
    beyond = tables["treatment_beyond_progression"] - base
    assert beyond[("imbrave150", "atezo_bev")] > 10_000 and abs(beyond[("imbrave150", "sorafenib")]) < 1e-6


@pytest.mark.parametrize("rates", [[0.03, 0.0, 0.05], [0.03, 0.0, 0.0]])
def test_wastage_and_drugs_on_their_own_curves_with_discount_rates_varying_by_sample(rates):
    """A one-way analysis of the discount rate evaluates samples in groups by rate: each
    sample's costs are those of evaluating it alone (wasted supplies and drugs on their own
    time on treatment included), with three groups or two."""
    inputs = load_analysis()
    model = build_model(inputs)
    mixed = model.evaluate(inputs.with_values({"assumptions.discount_rate_us": np.array(rates)}, 3))
    for k, rate in enumerate(rates):
        alone = model.evaluate(inputs.with_values({"assumptions.discount_rate_us": np.array([rate])}, 1))
        for together, single in zip(mixed, alone, strict=True):
            for category, values in together.costs.items():
                np.testing.assert_allclose(values[k], single.costs[category][0], rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(together.life_years[k], single.life_years[0], rtol=1e-12)
            np.testing.assert_allclose(together.qalys[k], single.qalys[0], rtol=1e-12, atol=1e-15)
