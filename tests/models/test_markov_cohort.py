"""The markov structure (markov/models/markov_cohort.py) against independent calculations.

A toy model is written in a temporary directory: states well, sick and dead; yearly
probabilities with a 'rest' per row; a new treatment that multiplies every transition out
of a state by a relative risk for two years and is costed for those two years only; an
initial occupancy with a 'rest'. The model's trace, costs, life-years and QALYs are
recomputed by plain-Python loops (tolerance: rounding, 1e-12 relative). A curve-driven
matrix is checked against closed forms: leaving a state by a survival curve S keeps
S(t) in it, whatever the curve. Dirichlet rows of the Chancellor model are checked
against the observed proportions within Monte-Carlo error, and bad input gives one clear
error each.
"""
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from markov import InputError
from markov.inputs import load_analysis
from markov.models import build_model
from markov.models.markov_cohort import MarkovModel

ANALYSES = Path(__file__).resolve().parents[2] / "analyses"
P_WS, P_WD, P_SW, P_SD = 0.10, 0.02, 0.05, 0.15
RR, SHARE_WELL, YEARS_TREATED = 0.6, 0.8, 2.0
DRUG, CARE_WELL, CARE_SICK = 1200.0, 500.0, 3000.0
U_WELL, U_SICK, RATE = 0.9, 0.6, 0.035
WEIBULL_SHAPE, WEIBULL_SCALE, DEATH_SHARE = 1.4, 3.0, 0.3


def _value(v, unit, **extra):
    return {"value": v, "unit": unit, "status": "verified", "where": "test", **extra}


def _money(v, per="year"):
    return _value(v, "money", currency="USD", price_year=2020, per=per)


EVIDENCE = {
    "p_ws": _value(P_WS, "proportion"), "p_wd": _value(P_WD, "proportion"), "p_sw": _value(P_SW, "proportion"),
    "p_sd": _value(P_SD, "proportion"), "share_well": _value(SHARE_WELL, "proportion"),
    "rr": _value(RR, "ratio", ci95=[0.4, 0.9]), "treated": _value(YEARS_TREATED, "years"),
    "drug": _money(DRUG), "care_well": _money(CARE_WELL), "care_sick": _money(CARE_SICK),
    "u_well": _value(U_WELL, "utility"), "u_sick": _value(U_SICK, "utility"), "rate": _value(RATE, "rate_per_year"),
    "wtp": _money(50_000.0, per="QALY"), "shape": _value(WEIBULL_SHAPE, "coefficient"),
    "scale": _value(WEIBULL_SCALE, "coefficient"), "death_share": _value(DEATH_SHARE, "proportion"),
    "too_big": _value(0.95, "proportion"),
    "pill_price": _value(300.0, "money", currency="USD", price_year=2020, per="pack of 30",
                         pack={"strength_mg": 10, "units": 30}),
    "pill_mg": _value(10.0, "mg"), "once": _value(1, "count"), "day": _value(1.0, "days"),
    "supply": _value(30.0, "days"),
}


def _population(**changes):
    population = {
        "label": "toy", "source": "test", "comparison": {"intervention": "new", "comparator": "usual"},
        "states": ["well", "sick", "dead"],
        "curves": {"os": {"family": "weibull", "time_unit": "years",
                          "parameters": {"shape": "t.shape", "scale": "t.scale"}}},
        "transitions": {
            "yearly": {"cycle_length_years": 1.0, "probabilities": {
                "well": {"sick": "t.p_ws", "dead": "t.p_wd", "well": "rest"},
                "sick": {"well": "t.p_sw", "dead": "t.p_sd", "sick": "rest"}}},
            "by_curve": {"cycle_length_years": 1.0, "probabilities": {
                "well": {"dead": {"curve": "os", "share": "t.death_share"}, "sick": {"curve": "os", "share": "rest"},
                         "well": "rest"}}},
        },
        "strategies": {
            "usual": {"label": "Usual care", "periods": [{"transitions": "yearly"}]},
            "new": {"label": "New drug",
                    "periods": [{"transitions": "yearly", "until": "t.treated", "relative_risk": "t.rr"},
                                {"transitions": "yearly"}],
                    "treatments": [{"treatment": "drug", "states": ["well", "sick"], "until": "t.treated"}],
                    "initial": {"well": "t.share_well", "sick": "rest"}},
            "curve": {"label": "Curve-driven", "periods": [{"transitions": "by_curve"}]},
        },
    }
    population.update(changes)
    return population


def write_toy(root: Path, population: dict | None = None, treatments: dict | None = None, **analysis) -> Path:
    """Evidence, model files and an analysis file of the toy model under ``root``."""
    (root / "ev").mkdir(parents=True, exist_ok=True)
    (root / "model").mkdir(exist_ok=True)
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump({
        "source": {"citation": "toy values", "url": "https://example.org/toy", "kind": "trial"},
        "values": EVIDENCE}))
    files = {
        "populations": {"populations": {"toy": population or _population()}},
        "treatments": {"treatments": treatments or {
            "drug": {"label": "Drug", "cost_per_period": [{"label": "Drug", "cost": "t.drug"}]}}},
        "costs": {"perspectives": {"payer": {
            "label": "Payer", "currency": "USD", "price_year": "2020", "discount_rate_costs": "t.rate",
            "discount_rate_effects": "t.rate", "thresholds": ["t.wtp"],
            "state_costs": {"well": [{"label": "Care", "cost": "t.care_well"}],
                            "sick": [{"label": "Care", "cost": "t.care_sick"}]}}}},
        "utilities": {"utilities": {"by_state": {"well": "t.u_well", "sick": "t.u_sick"}}},
    }
    for name, content in files.items():
        (root / "model" / f"{name}.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    settings = {"name": "toy", "model": "model", "structure": "markov", "perspective": "payer",
                "cycle_length_days": 365.25, "horizon_years": 10, "cycle_correction": "trapezoid",
                "evidence_directories": ["ev"], **analysis}
    path = root / "analysis.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    inputs = load_analysis(write_toy(tmp_path_factory.mktemp("toy")))
    model = build_model(inputs)
    return inputs, model, {r.strategy: r for r in model.evaluate(inputs.base_case())}


def hand_loop(strategy: str, n_cycles: int = 10):
    """Occupancy (well, sick, dead) at each time point, by plain lists and loops."""
    m = [SHARE_WELL, 1 - SHARE_WELL, 0.0] if strategy == "new" else [1.0, 0.0, 0.0]
    trace = [m]
    for c in range(n_cycles):
        rr = RR if strategy == "new" and c < YEARS_TREATED else 1.0
        ws, wd, sw, sd = P_WS * rr, P_WD * rr, P_SW * rr, P_SD * rr
        well, sick, dead = trace[-1]
        trace.append([well * (1 - ws - wd) + sick * sw, well * ws + sick * (1 - sw - sd), dead + well * wd + sick * sd])
    return trace


def trapezoid(trace, per_year_by_cycle):
    """Σ_c Δ/2 [v_c m_c D(t_c) + v_c m_{c+1} D(t_{c+1})] with Δ = 1 year."""
    total = 0.0
    for c, values in enumerate(per_year_by_cycle):
        start = sum(v * m for v, m in zip(values, trace[c])) / (1 + RATE) ** c
        end = sum(v * m for v, m in zip(values, trace[c + 1])) / (1 + RATE) ** (c + 1)
        total += 0.5 * (start + end)
    return total


@pytest.mark.parametrize("strategy", ["usual", "new"])
def test_trace_costs_and_qalys_match_a_hand_loop(toy, strategy):
    _, _, results = toy
    result = results[strategy]
    trace = hand_loop(strategy)
    assert result.trace.state_names == ("well", "sick", "dead")
    np.testing.assert_allclose(result.trace.occupancy[0], trace, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.trace.occupancy.sum(axis=2), 1.0, rtol=1e-12)
    care = [[CARE_WELL, CARE_SICK, 0.0]] * 10
    drug = [[DRUG, DRUG, 0.0] if strategy == "new" and c < YEARS_TREATED else [0.0] * 3 for c in range(10)]
    assert result.costs["monitoring_and_care"].sum() == pytest.approx(trapezoid(trace, care), rel=1e-12)
    assert result.costs["drug_drugs"].sum() == pytest.approx(trapezoid(trace, drug), rel=1e-12)
    assert result.total_cost[0] == pytest.approx(trapezoid(trace, care) + trapezoid(trace, drug), rel=1e-12)
    assert result.qalys.sum() == pytest.approx(trapezoid(trace, [[U_WELL, U_SICK, 0.0]] * 10), rel=1e-12)
    assert result.life_years.sum() == pytest.approx(trapezoid(trace, [[1.0, 1.0, 0.0]] * 10), rel=1e-12)
    # two of ten cycles of drug: the window is per cycle, nothing after year 2
    if strategy == "new":
        assert 0 < result.costs["drug_drugs"].sum() < 2 * DRUG


def test_a_drug_given_in_states_counts_no_oral_wastage(tmp_path):
    # a 10 mg pill a day ($300 for 30) in well and sick, with half a 30-day supply wasted per stop in
    # the perspective: moving between states treated alike is no stop, so the drug costs $10 a day
    # of the (discounted) years in those states, and nothing more
    pill = {"pill": {"label": "Pill", "regimen": [{"drug": "pill", "dose_mg": "t.pill_mg", "administrations": "t.once",
                                                   "cycle_days": "t.day"}]}}
    strategies = {"usual": {"label": "Usual care", "periods": [{"transitions": "yearly"}]},
                  "new": {"label": "Pill", "periods": [{"transitions": "yearly"}],
                          "treatments": [{"treatment": "pill", "states": ["well", "sick"]}]}}
    payer = {"drug_prices": {"pill": ["t.pill_price"]},
             "oral_wastage": {"method": "half_supply_on_stopping", "supply_days": {"pill": "t.supply"}}}
    path = write_toy(tmp_path, _population(strategies=strategies), pill, overrides={"perspectives": {"payer": payer}})
    inputs = load_analysis(path)
    result = {r.strategy: r for r in build_model(inputs).evaluate(inputs.base_case())}["new"]
    years = dict(zip(result.state_names, result.life_years[0], strict=True))
    drugs = result.costs["pill_drugs"][0]
    assert drugs.sum() == pytest.approx(10.0 * 365.25 * (years["well"] + years["sick"]), rel=1e-12)


def test_the_relative_risk_period_uses_two_matrices_not_one_per_cycle(toy):
    inputs, model, _ = toy
    prepared = model.population("toy", inputs.populations["toy"], inputs.base_case())
    matrices, cycle_matrix = model.transitions(prepared, inputs.populations["toy"].strategies["new"])
    assert matrices.shape == (1, 2, 3, 3)
    assert list(cycle_matrix) == [0, 0] + [1] * 8
    expected = [[1 - RR * (P_WS + P_WD), RR * P_WS, RR * P_WD], [RR * P_SW, 1 - RR * (P_SW + P_SD), RR * P_SD],
                [0, 0, 1]]
    np.testing.assert_allclose(matrices[0, 0], expected, rtol=1e-15)


def test_periods_ending_at_different_cycles_by_sample(toy):
    """A period's end that varies by sample gives each sample its own cycles: each equals
    the analysis run with that end alone."""
    inputs, model, _ = toy
    ends = np.array([1.0, 2.0, 3.5])
    both = {r.strategy: r for r in model.evaluate(inputs.with_values({"t.treated": ends}, 3))}["new"]
    for i, end in enumerate(ends):
        alone = {r.strategy: r for r in model.evaluate(inputs.with_values({"t.treated": end}, 1))}["new"]
        np.testing.assert_allclose(both.trace.occupancy[i], alone.trace.occupancy[0], rtol=1e-14)
        assert both.total_cost[i] == pytest.approx(alone.total_cost[0], rel=1e-14)
    # 3.5 years: cycles 0-3 start before it (t = 0, 1, 2, 3)
    assert both.costs["drug_drugs"][2].sum() > both.costs["drug_drugs"][1].sum() > both.costs["drug_drugs"][0].sum()


def test_leaving_by_a_survival_curve_keeps_the_curve_in_the_state(toy):
    """P(leave in cycle c) = 1 − S(t_{c+1})/S(t_c), so the product telescopes: well(t) =
    S(t) exactly; of those leaving a share d die, the rest fall sick (absorbing here):
    sick(t) = (1 − d)(1 − S(t)) and dead(t) = d(1 − S(t))."""
    inputs, model, results = toy
    occupancy = results["curve"].trace.occupancy[0]
    t = model.grid.times_years
    survival = np.exp(-(t / WEIBULL_SCALE) ** WEIBULL_SHAPE)  # flexsurv weibull(shape, scale)
    np.testing.assert_allclose(occupancy[:, 0], survival, rtol=1e-12)
    np.testing.assert_allclose(occupancy[:, 1], (1 - DEATH_SHARE) * (1 - survival), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(occupancy[:, 2], DEATH_SHARE * (1 - survival), rtol=1e-12, atol=1e-15)
    prepared = model.population("toy", inputs.populations["toy"], inputs.base_case())
    assert prepared.matrices["by_curve"].shape == (1, model.grid.n_cycles, 3, 3)  # one matrix per cycle


def test_a_curve_that_reaches_zero_empties_its_state():
    survival = np.array([[1.0, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(MarkovModel._events(survival), [[0.5, 1.0, 1.0]])


def test_dirichlet_rows_of_the_chancellor_psa_have_the_observed_proportions():
    """Each row is Dirichlet over its counts α: mean α_j / Σα, standard deviation
    sqrt(p(1 − p)/(Σα + 1)). 20,000 draws: the means agree within 4 standard errors."""
    inputs = load_analysis(ANALYSES / "chancellor.yaml")
    model = build_model(inputs)
    population = inputs.populations["hiv"]
    n = 20_000
    drawn = model.population("hiv", population, inputs.sample(n, seed=11)).matrices["observed"][:, 0]
    counts = np.array([[1251, 350, 116, 17], [0, 731, 512, 15], [0, 0, 1312, 437], [0, 0, 0, 1]], dtype=float)
    expected = counts / counts.sum(axis=1, keepdims=True)
    sd = np.sqrt(expected * (1 - expected) / (counts.sum(axis=1, keepdims=True) + 1))
    assert np.all(np.abs(drawn.mean(axis=0) - expected) <= 4 * sd / math.sqrt(n) + 1e-15)
    np.testing.assert_allclose(drawn.std(axis=0), sd, rtol=0.03, atol=1e-15)
    np.testing.assert_allclose(drawn.sum(axis=2), 1.0, rtol=1e-12)
    assert (drawn[:, 1, 0] == 0).all() and (drawn[:, 3, 3] == 1).all()  # impossible moves stay impossible


# ---------------------------------------------------------------------------------
# bad input: one clear error each, naming the file, the field, the value and the rule
# ---------------------------------------------------------------------------------

def _rows(well: dict) -> dict:
    population = _population()
    population["transitions"]["yearly"]["probabilities"]["well"] = well
    return population


@pytest.mark.parametrize("population, analysis, message", [
    (_rows({"sick": "t.p_ws", "dead": "t.too_big"}), {},
     (r"populations\.yaml: populations\.toy\.transitions\.yearly\.probabilities\.well: sums to 1\.05 \(sick 0\.1 "
      r"\+ dead 0\.95\); a row must sum to 1 within 1e-09, or give one target 'rest'")),
    (_rows({"sick": "t.too_big", "dead": "t.too_big", "well": "rest"}), {},
     (r"probabilities\.well: sums to 1\.9 \(sick 0\.95 \+ dead 0\.95\); the probabilities besides 'rest' "
      r"cannot exceed 1")),
    (_rows({"ill": "t.p_ws", "well": "rest"}), {},
     (r"populations\.toy\.transitions\.yearly\.probabilities\.well: state 'ill' is not one of the "
      r"population's states \['well', 'sick', 'dead'\]")),
    (_population(), {"cycle_length_days": 30.4375},
     (r"populations\.toy\.transitions\.yearly\.cycle_length_years = 1\.0: the analysis's cycles are "
      r"0\.08333\d* years \(cycle_length_days\); transition probabilities must be given per cycle of the "
      r"analysis \(they are never converted\)")),
    (_rows({"sick": {"curve": "pfs"}, "well": "rest"}), {},
     r"probabilities\.well\.sick\.curve = 'pfs': no curve of that name in this population"),
    (_rows({"sick": {"curve": "os"}}), {}, r"probabilities\.well: a row with a curve needs one target 'rest'"),
    (_population(states=["well", "sick"]), {},
     r"states = \['well', 'sick'\]: the markov structure needs distinct states, 'dead' among them"),
])
def test_bad_markov_inputs_give_one_clear_error(tmp_path, population, analysis, message):
    with pytest.raises(InputError, match=message):
        load_analysis(write_toy(tmp_path, population, **analysis))


def test_bad_strategies_are_named(tmp_path):
    population = _population()
    population["strategies"]["new"]["initial"] = {"well": "t.share_well", "sick": "t.share_well"}
    with pytest.raises(InputError, match=r"populations\.toy\.strategies\.new\.initial: sums to 1\.6 \(well 0\.8 \+ "
                                         r"sick 0\.8\); a row must sum to 1"):
        load_analysis(write_toy(tmp_path / "a", population))
    population = _population()
    population["strategies"]["new"]["treatments"][0]["states"] = ["well", "dead"]
    with pytest.raises(InputError, match=r"strategies\.new\.treatments\[0\]\.states: a treatment cannot be given in "
                                         r"'dead'"):
        load_analysis(write_toy(tmp_path / "b", population))
    treatments = {"drug": {"label": "Drug", "cost_per_period": [{"label": "Drug", "cost": "t.drug"}],
                           "adverse_events": {"rash": "t.p_ws"}}}
    with pytest.raises(InputError, match=r"treatments\[0\]\.treatment = 'drug': has one-off costs on starting"):
        load_analysis(write_toy(tmp_path / "c", None, treatments))


def test_a_relative_risk_that_moves_more_than_everyone_is_refused(toy):
    inputs, model, _ = toy
    with pytest.raises(InputError, match=r"populations\.toy\.strategies\.new\.periods\[0\]\.relative_risk = 9\.0: "
                                         r"makes the probability of leaving 'sick' exceed 1 \(by 0\.8.*sample 1\)"):
        model.evaluate(inputs.with_values({"t.rr": np.array([1.0, 9.0])}, 2))
