"""Post-progression survival by the treatment progressed on (markov/models/sequencing.py),
against the discrete chain written out by hand.

The shipped HCC files with a test evidence file, monthly cycles and no discounting:
sorafenib first line (exponential PFS median M1, a share D1 of events deaths); a share S
of progressors start regorafenib (exponential PFS median M3, death share D2); those who
progress on regorafenib follow their own post-progression survival (exponential, median
M4), everyone else best supportive care's (median M2). With exponential curves the model
on its grid is exactly the Markov chain whose per-cycle survival is q = exp(−λΔ) and
whose progressions enter the next state at the end of the cycle; the chain is computed
here with a plain loop (tolerance: rounding and the FFT, 1e-10 relative).
"""
import math

import numpy as np
import pytest
import yaml

from markov import InputError
from markov.inputs import load_analysis
from markov.models import build_model

MONTH_DAYS = 30.4375
M1, M2, M3, M4 = 6.0, 9.0, 3.0, 10.0  # months
D1, D2, S = 0.3, 0.25, 0.4
RATES = {name: math.log(2) / median for name, median in zip(("a", "b", "l", "r"), (M1, M2, M3, M4), strict=True)}


def _value(v, unit):
    return {"value": v, "unit": unit, "status": "verified", "where": "test"}


def analysis(root, share=S, calibrated=False, days=MONTH_DAYS):
    (root / "ev").mkdir(parents=True, exist_ok=True)
    values = {"m1": _value(M1, "months"), "m2": _value(M2, "months"), "m3": _value(M3, "months"),
              "m4": _value(M4, "months"), "d1": _value(D1, "proportion"), "d2": _value(D2, "proportion"),
              "s": _value(share, "proportion"), "age": _value(20, "age_years"), "zero": _value(0.0, "rate_per_year")}
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump({
        "source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"}, "values": values}))
    sorafenib = {"lines": [
        {"treatment": "sorafenib", "progression_free": "sorafenib_pfs", "pre_progression_death_share": "t.d1"},
        {"options": [{"treatment": "regorafenib", "share": "t.s", "pre_progression_death_share": "t.d2",
                      "progression_free": "regorafenib_after_sorafenib_pfs",
                      "post_progression_survival": "after_regorafenib_os"}]}],
        "post_progression": {"calibrated_to": "sorafenib" if calibrated else None}}
    strategies = {"sorafenib": sorafenib}
    overrides = {
        "populations": {"imbrave150": {
            "start_age": "t.age",
            "curves": {"sorafenib_pfs": {"family": "exp", "median": "t.m1"},
                       "test_bsc_os": {"family": "exp", "median": "t.m2"},
                       "regorafenib_after_sorafenib_pfs": {"family": "exp", "median": "t.m3"},
                       "after_regorafenib_os": {"family": "exp", "median": "t.m4"}},
            "post_progression_survival": "test_bsc_os",
            "strategies": strategies}},
        "perspectives": {"us_payer": {"discount_rate_costs": "t.zero", "discount_rate_effects": "t.zero"}},
    }
    path = root / f"pps_{share}.yaml"
    path.write_text(yaml.safe_dump({"name": "pps", "populations": ["imbrave150"], "cycle_length_days": days,
                                    "horizon_years": 20, "evidence_directories": ["ev"], "overrides": overrides}))
    return load_analysis(path)


def sorafenib(inputs):
    model = build_model(inputs)
    result = {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]
    assert result.floored_cycles == 0  # the general-population floor binds nowhere at age 20
    return model, result


def chain(n_cycles, step_years, share):
    """First line A, second line L, BSC B (from A), BSC after regorafenib R, dead D."""
    q = {name: math.exp(-rate * 12 * step_years) for name, rate in RATES.items()}
    A, L, B, R, D = [1.0], [0.0], [0.0], [0.0], [0.0]
    for _ in range(n_cycles):
        a, l_, b, r, d = A[-1], L[-1], B[-1], R[-1], D[-1]
        leave_a, leave_l, leave_b, leave_r = a * (1 - q["a"]), l_ * (1 - q["l"]), b * (1 - q["b"]), r * (1 - q["r"])
        A.append(a * q["a"])
        L.append(l_ * q["l"] + share * (1 - D1) * leave_a)
        B.append(b * q["b"] + (1 - share) * (1 - D1) * leave_a)
        R.append(r * q["r"] + (1 - D2) * leave_l)
        D.append(d + D1 * leave_a + D2 * leave_l + leave_b + leave_r)
    return {name: np.array(v) for name, v in zip("ALBRD", (A, L, B, R, D), strict=True)}


@pytest.mark.verification(
    kind="closed form",
    against="the discrete chain with survival by prior treatment written out by hand",
    tolerance="rtol 1e-10")
def test_each_state_is_the_chain_with_survival_by_prior_treatment(tmp_path):
    model, result = sorafenib(analysis(tmp_path))
    states = result.state_names
    assert states == ("first_line", "second_line", "best_supportive_care_after_regorafenib_os",
                      "best_supportive_care", "dead")
    expected = chain(model.grid.n_cycles, model.grid.cycle_length_years, S)
    for name, letter in zip(states, "ALRBD", strict=True):
        np.testing.assert_allclose(result.trace.state(name)[0], expected[letter], rtol=1e-10, atol=1e-13,
                                   err_msg=name)
    np.testing.assert_allclose(result.trace.occupancy.sum(axis=2), 1.0, atol=1e-12)
    # the state after regorafenib is valued as best supportive care (utility, costs of care)
    by_state = dict(zip(states, result.qalys[0], strict=True))
    years = dict(zip(states, result.life_years[0], strict=True))
    assert by_state["best_supportive_care_after_regorafenib_os"] / years["best_supportive_care_after_regorafenib_os"] \
        == pytest.approx(by_state["best_supportive_care"] / years["best_supportive_care"], rel=1e-12)


@pytest.mark.verification(
    kind="closed form",
    against="the continuous-time closed form of the life-years a second-line share adds",
    tolerance="1e-6 years")
def test_a_second_line_share_changes_overall_survival_as_the_closed_form_says(tmp_path):
    """Continuous time: LYs = 1/λa + (1 − d1)[(1 − s)/λb + s(1/λl + (1 − d2)/λr)], so raising s
    by Δs changes LYs by Δs·(1 − d1)·[1/λl + (1 − d2)/λr − 1/λb]: here (3 + 0.75 × 10 − 9)
    months/ln 2 per unit share, a gain, because regorafenib and survival after it outlast
    best supportive care. On a one-day grid each state entered at a cycle's end gains Δ/2,
    so the difference gains Δs·(1 − d1)(1 − d2)·Δ/2 (second-order terms below 1e-6 years)."""
    low, high = (sorafenib(analysis(tmp_path / str(s), share=s, days=1.0))[1].life_years[0].sum()
                 for s in (0.2, 0.9))
    step = 1 / 365.25
    expected = 0.7 * (1 - D1) * ((M3 + (1 - D2) * M4 - M2) / 12 / math.log(2) + (1 - D2) * step / 2)
    assert expected > 0 and high - low == pytest.approx(expected, abs=1e-6)


def test_calibration_to_one_median_and_survival_by_prior_treatment_do_not_mix(tmp_path):
    with pytest.raises(InputError, match="calibration solves one post-progression survival"):
        analysis(tmp_path, calibrated=True)


def test_care_after_an_option_is_valued_from_the_sums_written_with_it_as_from_the_trace(tmp_path, monkeypatch):
    """The state of care after regorafenib (its own survival) gets its discounted years,
    exits and entries from the sums the steps wrote with it: the same costs, life-years
    and QALYs by state as valued from the trace, at 3.5% a year."""
    from markov.models.valuation import PopulationValues

    inputs = analysis(tmp_path).with_changes({"t.zero": 0.035})
    fused = sorafenib(inputs)[1]
    monkeypatch.setattr(PopulationValues, "state_sum_weights", property(lambda self: None))
    from_trace = sorafenib(inputs)[1]
    assert fused.state_names[2] == "best_supportive_care_after_regorafenib_os" and fused.life_years[0, 2] > 0.05
    for name in ("life_years", "qalys"):
        np.testing.assert_allclose(getattr(fused, name), getattr(from_trace, name), rtol=1e-13, err_msg=name)
    for category, values in fused.costs.items():
        np.testing.assert_allclose(values, from_trace.costs[category], rtol=1e-13, atol=1e-9, err_msg=category)
