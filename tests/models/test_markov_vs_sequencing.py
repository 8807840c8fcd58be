"""A four-line treatment sequence agrees with the equivalent Markov model to 1e-10.

The test writes, in a temporary directory, one evidence file, one set of model files and
two analysis files on them:

* ``sequence.yaml`` (``structure: sequencing``): four lines of treatment, the first and
  second with two options each (shares of those progressing on the line before; the rest
  go to best supportive care, BSC), the third and fourth with one; every option's
  progression-free curve exponential, a share of its events deaths; then BSC, an
  exponential survival. A young starting age keeps the general-population floor from
  binding (``floored_cycles == 0``), so the sequencing model is exactly its curves.
* ``markov.yaml`` (``structure: markov``): one state per option, BSC and dead, with the
  per-cycle probabilities the test computes from the same rates and writes as evidence:
  leaving option j in a cycle is ``p_j = 1 − exp(−λ_j Δ)``, the exponential's one-cycle
  conditional event probability; a share ``d_j`` of those events are deaths and the rest
  progressions, split between the next line's options by their shares (the remainder to
  BSC); BSC is left by death only.

Why they agree: the sequencing engine fills line k as the convolution of its entries
with its progression-free curve, ``O_k(t) = Σ_{u ≤ t} E_k(u) S_k(t − u)``. With
``S_k(u) = q_kᵘ`` (q_k = 1 − p_k) this is ``O_k(t) = q_k O_k(t − 1) + E_k(t)``: those in
line k stay with probability q_k each cycle whatever their time since entry, and the
entrants at t are the progressions of the cycle ending at t — exactly the Markov
recursion ``m(t) = m(t − 1) P``. So every state's occupancy at every time point, every
entry and hence every cost, life-year and QALY agree to rounding (the FFT convolution of
241 time points adds about 1e-15).
"""
import math

import numpy as np
import pytest
import yaml

from markov.inputs import load_analysis
from markov.models import build_model

CYCLE_DAYS = 30.4375  # one month
#: Options by line: (state, treatment, rate per month, share of those reaching the line, death share).
LINES = [
    [("first_line_drug_a", "drug_a", 0.10, 0.60, 0.10), ("first_line_drug_b", "drug_b", 0.13, 0.35, 0.15)],
    [("second_line_drug_c", "drug_c", 0.20, 0.50, 0.20), ("second_line_drug_d", "drug_d", 0.25, 0.20, 0.25)],
    [("third_line", "drug_e", 0.30, 0.60, 0.30)],
    [("fourth_line", "drug_f", 0.35, 0.40, 0.30)],
]
BSC, BSC_RATE = "best_supportive_care", 0.40
#: The second strategy starts with the first line's shares swapped.
SHARES_SWAPPED = {"drug_a": 0.35, "drug_b": 0.60}
OPTIONS = [option for line in LINES for option in line]
STATES = [state for state, *_ in OPTIONS] + [BSC, "dead"]


def _value(v, unit):
    return {"value": v, "unit": unit, "status": "verified", "where": "test"}


def _money(v, per):
    return {**_value(v, "money"), "currency": "GBP", "price_year": 2024, "per": per}


def markov_probabilities(step_months: float) -> dict[str, dict[str, float]]:
    """Rows of the Markov matrix, from the rates, death shares and shares above."""
    rows = {}
    for k, line in enumerate(LINES):
        following = LINES[k + 1] if k + 1 < len(LINES) else []
        for state, _, rate, _, death in line:
            p = 1.0 - math.exp(-rate * step_months)
            row = {"dead": p * death}
            for target, _, _, share, _ in following:
                row[target] = p * (1 - death) * share
            row[BSC] = p * (1 - death) * (1 - sum(share for _, _, _, share, _ in following))
            rows[state] = row
    rows[BSC] = {"dead": 1.0 - math.exp(-BSC_RATE * step_months)}
    return rows


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("four_lines")
    step_months = CYCLE_DAYS / 365.25 * 12.0
    rows = markov_probabilities(step_months)
    values = {"age": _value(20, "age_years"), "female": _value(0.5, "proportion"),
              "rate": _value(0.035, "rate_per_year"), "wtp": _money(30_000.0, "QALY"),
              "terminal": _money(4_000.0, "death"), "bsc_rate": _value(BSC_RATE, "coefficient"),
              "u_bsc": _value(0.5, "utility"), "care_bsc": _money(300.0, "month")}
    for j, (state, treatment, rate, share, death) in enumerate(OPTIONS):
        values.update({f"rate_{treatment}": _value(rate, "coefficient"), f"share_{treatment}": _value(share, "proportion"),
                       f"death_{treatment}": _value(death, "proportion"), f"cost_{treatment}": _money(1000.0 + 250 * j, "month"),
                       f"u_{state}": _value(0.8 - 0.05 * j, "utility"), f"care_{state}": _money(200.0 + 20 * j, "month")})
    values.update({f"swapped_{t}": _value(v, "proportion") for t, v in SHARES_SWAPPED.items()})
    values.update({f"p_{origin}_to_{target}": _value(p, "proportion")
                   for origin, row in rows.items() for target, p in row.items()})
    (root / "ev").mkdir()
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump(
        {"source": {"citation": "four-line test", "url": "https://example.org/test", "kind": "trial"},
         "values": values}))

    def lines(first_shares):
        return [{"options": [{"treatment": t, "share": first_shares.get(t, f"t.share_{t}") if k == 0 else f"t.share_{t}",
                              "progression_free": f"{t}_pfs", "pre_progression_death_share": f"t.death_{t}"}
                             for _, t, *_ in line]} for k, line in enumerate(LINES)]

    curves = {f"{t}_pfs": {"family": "exp", "time_unit": "months", "parameters": {"rate": f"t.rate_{t}"}}
              for _, t, *_ in OPTIONS}
    curves["bsc_os"] = {"family": "exp", "time_unit": "months", "parameters": {"rate": "t.bsc_rate"}}
    swapped = {t: f"t.swapped_{t}" for t in SHARES_SWAPPED}
    population = {
        "label": "four lines", "source": "test", "comparison": {"intervention": "as_given", "comparator": "swapped"},
        "start_age": "t.age", "share_female": "t.female", "curves": curves, "post_progression_survival": "bsc_os",
        "states": STATES,
        "transitions": {"monthly": {"cycle_length_years": CYCLE_DAYS / 365.25, "probabilities": {
            origin: {**{target: f"t.p_{origin}_to_{target}" for target in row}, origin: "rest"}
            for origin, row in rows.items()}}},
        "strategies": {"as_given": {"label": "As given", "lines": lines({})},
                       "swapped": {"label": "First-line shares swapped", "lines": lines(swapped)}},
    }
    model = root / "model"
    model.mkdir()
    files = {
        "populations": {"populations": {"four": population}},
        "treatments": {"treatments": {t: {"label": t, "cost_per_period": [{"label": t, "cost": f"t.cost_{t}"}]}
                                      for _, t, *_ in OPTIONS}},
        "costs": {"perspectives": {"nhs": {
            "label": "NHS", "currency": "GBP", "price_year": "2024", "discount_rate_costs": "t.rate",
            "discount_rate_effects": "t.rate", "thresholds": ["t.wtp"], "life_table": "uk_2021_2023",
            "terminal_care": "t.terminal",
            "state_costs": {**{state: [{"label": "care", "cost": f"t.care_{state}"}] for state, *_ in OPTIONS},
                            BSC: [{"label": "care", "cost": "t.care_bsc"}]}}}},
        "utilities": {"utilities": {"by_state": {**{state: f"t.u_{state}" for state, *_ in OPTIONS},
                                                 BSC: "t.u_bsc"}}},
    }
    for name, content in files.items():
        (model / f"{name}.yaml").write_text(yaml.safe_dump(content, sort_keys=False))

    def markov_strategy(label, first_shares):
        first = {state: first_shares.get(t, f"t.share_{t}") for state, t, *_ in LINES[0]}
        return {"label": label, "periods": [{"transitions": "monthly"}], "initial": {**first, BSC: "rest"},
                "treatments": [{"treatment": t, "states": [state]} for state, t, *_ in OPTIONS]}

    common = {"model": "model", "perspective": "nhs", "cycle_length_days": CYCLE_DAYS, "horizon_years": 20,
              "cycle_correction": "trapezoid", "evidence_directories": ["ev"]}
    analyses = {
        "sequence": {**common, "name": "sequence", "structure": "sequencing"},
        "markov": {**common, "name": "markov", "structure": "markov", "strategies": {"four": {
            "as_given": markov_strategy("As given", {}), "swapped": markov_strategy("First-line shares swapped",
                                                                                    swapped)}}},
    }
    results = {}
    for name, settings in analyses.items():
        path = root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(settings, sort_keys=False))
        inputs = load_analysis(path)
        results[name] = {r.strategy: r for r in build_model(inputs).evaluate(inputs.base_case())}
    return results


@pytest.mark.verification(
    kind="another engine",
    against="the Markov model (markov structure) equivalent to a four-line sequence with options and shares",
    tolerance="atol 1e-10")
@pytest.mark.parametrize("strategy", ["as_given", "swapped"])
def test_every_state_at_every_time_point_agrees(both, strategy):
    sequence, markov = both["sequence"][strategy], both["markov"][strategy]
    assert sequence.floored_cycles == 0  # the general-population floor binds nowhere
    assert sequence.trace.state_names == markov.trace.state_names == tuple(STATES)
    assert sequence.trace.n_cycles == 240
    np.testing.assert_allclose(markov.trace.occupancy, sequence.trace.occupancy, rtol=0, atol=1e-10)
    deaths = (sequence.trace.entries[..., -1], markov.trace.entries[..., -1])
    np.testing.assert_allclose(*deaths, rtol=0, atol=1e-10)
    # every line is reached: the comparison is not empty
    assert (sequence.trace.occupancy[0].max(axis=0)[:-1] > 0.01).all()


@pytest.mark.verification(
    kind="another engine",
    against="costs, life-years and QALYs of the same two models",
    tolerance="rtol 1e-10")
@pytest.mark.parametrize("strategy", ["as_given", "swapped"])
def test_costs_life_years_and_qalys_agree(both, strategy):
    sequence, markov = both["sequence"][strategy], both["markov"][strategy]
    by_state = (sum(values for values in sequence.costs.values()), sum(values for values in markov.costs.values()))
    np.testing.assert_allclose(*by_state, rtol=1e-10, atol=1e-10)
    assert markov.total_cost[0] == pytest.approx(sequence.total_cost[0], rel=1e-10)
    np.testing.assert_allclose(markov.life_years, sequence.life_years, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(markov.qalys, sequence.qalys, rtol=1e-10, atol=1e-12)
    assert markov.costs["terminal_care"].sum() == pytest.approx(sequence.costs["terminal_care"].sum(), rel=1e-10)
    assert 10_000 < sequence.total_cost[0] < 100_000 and 0.5 < sequence.qalys.sum() < 2  # a real cohort
