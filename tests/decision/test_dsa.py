"""Deterministic sensitivity analysis (markov/dsa.py) against separate model runs,
hand-made quadrant cases and the linearity of costs in a price."""
import numpy as np
import pandas as pd
import pytest
import yaml

from markov.decision import dsa
from markov._validate import InputError
from markov.cli import main
from markov.models import build_model
from markov.inputs import load_analysis
from markov.inputs.evidence import JointDraw
from markov.inputs.evidence import Decrement
from markov.uncertainty import Fixed


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    return load_analysis(path)


def _totals(inputs, values: dict) -> dict:
    """(population, strategy) -> (cost, qalys) of one separate run at ``values``."""
    results = build_model(inputs).evaluate(inputs.with_values(values, 1))
    return {(r.population, r.strategy): (r.total_cost[0], r.qalys.sum()) for r in results}


def test_ranges_follow_the_stated_rules(small):
    ranges = dsa.input_ranges(small).set_index("reference")
    assert not set(small.perspective.thresholds) & set(ranges.index)
    drawn_from = {block.parent for block in small.joint} | {
        d.source for d in small.distributions.values() if isinstance(d, Decrement)}
    for ref in small.references:
        item, distribution = small.evidence[ref].value, small.distributions[ref]
        if ref in small.perspective.thresholds:
            continue
        read = any(place.split(".")[0] in ("treatments", "populations", "perspectives", "utilities")
                   for place in small.uses[ref])
        if ref in small.unused or not (read or ref in drawn_from):
            # no strategy uses it, or the model does not read it (a Dirichlet's concentration, its rest)
            assert ref not in ranges.index, ref
            continue
        if isinstance(distribution, Decrement) and item.range is None:
            # the decrement varies, its source at its estimate
            source = small.evidence[distribution.source].value.value
            high, low = source - distribution.decrement.ppf([0.025, 0.975])
            assert (ranges.at[ref, "low"], ranges.at[ref, "high"]) == pytest.approx((low, high), rel=1e-12)
            continue
        if item.range is not None and item.range[0] < item.range[1]:
            assert ranges.at[ref, "basis"] == "evidence range"
            assert ranges.at[ref, "low"] == item.range[0]
            assert ranges.at[ref, "high"] <= item.range[1]
        elif isinstance(distribution, Fixed):
            assert ref not in ranges.index
        else:
            low, high = (distribution.one_at_a_time(ref, [0.025, 0.975]) if isinstance(distribution, JointDraw)
                         else distribution.ppf([0.025, 0.975]))
            assert (ranges.at[ref, "low"], ranges.at[ref, "high"]) == (low, high)
    # a log-normal from a CI is varied over the CI's quantiles: estimate × (upper/lower)^(∓1/2)
    hr = "imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib"
    lower, upper = small.evidence[hr].value.ci95
    estimate = small.evidence[hr].value.value
    assert ranges.at[hr, "low"] == pytest.approx(estimate * np.sqrt(lower / upper), rel=1e-9)
    # shares capped so that a strategy's second-line shares never exceed 1
    for ref in ("assumptions.regorafenib_after_sorafenib", "assumptions.cabozantinib_after_sorafenib"):
        other = 0.335
        assert ranges.at[ref, "high"] == pytest.approx(1 - other)
        assert "capped" in ranges.at[ref, "note"]


def test_one_way_rows_equal_separate_runs(small):
    ranges = dsa.input_ranges(small)
    chosen = ranges[ranges["reference"].isin(["assumptions.discount_rate_us", "su_2021.utility_progressed",
                                              "chiang_2021.terminal_care"])]
    table = dsa.one_way(small, chosen)
    base = _totals(small, {})
    rows = table[table["level"] == "base"]
    for row in rows.itertuples():
        assert (row.cost, row.qalys) == pytest.approx(base[(row.population, row.strategy)], rel=1e-12)
    for spec in chosen.itertuples():
        for level, value in (("low", spec.low), ("high", spec.high)):
            expected = _totals(small, {spec.reference: value})
            rows = table[(table["reference"] == spec.reference) & (table["level"] == level)]
            assert (rows["input_value"] == value).all()
            for row in rows.itertuples():
                # the discount-rate rows are computed apart from the others: same numbers
                assert (row.cost, row.qalys) == pytest.approx(expected[(row.population, row.strategy)], rel=1e-12)


def _synthetic(deltas: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A one-way table where the comparator costs 0 with 0 QALYs and the intervention
    has the given (Δcost, ΔQALY) at each reference and level."""
    rows, ranges = [], []
    for (ref, level), (d_cost, d_qaly) in deltas.items():
        for strategy, cost, qalys in (("new", d_cost, d_qaly), ("old", 0.0, 0.0)):
            rows.append({"reference": ref, "level": level, "input_value": 1.0, "population": "p",
                         "strategy": strategy, "label": strategy, "cost": cost, "life_years": qalys, "qalys": qalys})
        if ref and level == "low":
            ranges.append({"reference": ref, "label": ref, "base": 1.0, "low": 0.5, "high": 1.5,
                           "basis": "evidence range", "note": ""})
    return pd.DataFrame(rows), pd.DataFrame(ranges)


def test_icer_tornado_labels_dominance_and_the_sw_quadrant():
    one_way, ranges = _synthetic({
        ("", "base"): (10_000.0, 0.5),
        ("a", "low"): (20_000.0, 0.5), ("a", "high"): (5_000.0, 0.5),      # NE both: 40k and 10k
        ("b", "low"): (-1_000.0, 0.2), ("b", "high"): (3_000.0, -0.1),     # dominant, dominated
        ("c", "low"): (-6_000.0, -0.2), ("c", "high"): (10_000.0, 0.5),    # SW (saves 30k per QALY lost)
    })
    table = dsa.tornado_table(one_way, ranges, "p", "new", "old", measure="icer").set_index("reference")
    assert table.attrs["base"] == pytest.approx(20_000.0)
    assert (table.at["a", "outcome_low"], table.at["a", "outcome_high"]) == pytest.approx((40_000.0, 10_000.0))
    assert np.isnan(table.at["b", "outcome_low"]) and table.at["b", "note_low"] == "dominant"
    assert np.isnan(table.at["b", "outcome_high"]) and table.at["b", "note_high"] == "dominated"
    assert np.isnan(table.at["c", "outcome_low"]) and "SW quadrant: saves 30,000" in table.at["c", "note_low"]
    # NaN swings sort first; then by |high - low|
    assert list(table.index) == ["b", "c", "a"]
    nmb = dsa.tornado_table(one_way, ranges, "p", "new", "old", measure="nmb", wtp=30_000).set_index("reference")
    assert nmb.attrs["base"] == pytest.approx(30_000 * 0.5 - 10_000)
    assert nmb.at["b", "outcome_high"] == pytest.approx(30_000 * -0.1 - 3_000)
    with pytest.raises(InputError, match="wtp is None"):
        dsa.tornado_table(one_way, ranges, "p", "new", "old", measure="nmb")
    with pytest.raises(InputError, match="intervention 'newer'"):
        dsa.tornado_table(one_way, ranges, "p", "newer", "old", measure="icer")


def test_threshold_price_sets_the_icer_to_the_threshold(small):
    """Costs are linear in a price (vials counted first, then priced), so the threshold
    price is also p0 − INMB(p0)/slope from two separate runs; Brent's answer must agree
    to its tolerance, and at that price the ICER equals the threshold."""
    price, wtp = "reuters_2018_lenvatinib_price.price_lenvatinib_30_day_supply", 150_000.0
    result = dsa.threshold_price(small, price, "imbrave150", "lenvatinib", "sorafenib", wtp)

    def inmb(value):
        totals = _totals(small, {price: value})
        (ca, qa), (cb, qb) = totals[("imbrave150", "lenvatinib")], totals[("imbrave150", "sorafenib")]
        return wtp * (qa - qb) - (ca - cb), (ca - cb) / (qa - qb)

    base = small.evidence[price].value.value
    at_base, _ = inmb(base)
    at_half, _ = inmb(base / 2)
    closed = base - at_base / ((at_base - at_half) / (base / 2))
    assert result["threshold_price"] == pytest.approx(closed, abs=0.05)
    _, icer = inmb(result["threshold_price"])
    assert icer == pytest.approx(wtp, rel=1e-6)
    assert result["ratio_to_base"] == pytest.approx(closed / base, rel=1e-5)
    with pytest.raises(InputError, match="unit is 'hazard_ratio'"):
        dsa.threshold_price(small, "imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib", "imbrave150",
                            "atezo_bev", "sorafenib", wtp)


def test_threshold_price_reports_when_no_price_is_low_enough(small):
    """At a WTP of 0 only costs count, and Atezo-Bev costs more than sorafenib even with
    atezolizumab free (bevacizumab, administration): no price breaks even."""
    result = dsa.threshold_price(small, "chiang_2021.price_atezolizumab_1200mg", "imbrave150", "atezo_bev",
                                 "sorafenib", 0.0)
    assert np.isnan(result["threshold_price"]) and "zero" in result["note"]


def test_two_way_grid_corners_equal_separate_runs(small):
    x, y = "imbrave150_cheng_2022.os_median_atezo_bev", "chiang_2021.terminal_care"
    table = dsa.two_way(small, x, y, points=3)
    xs, ys, z, best, labels = dsa.two_way_grid(table, "imbrave150", "atezo_bev", "sorafenib", 150_000.0)
    assert z.shape == (3, 3) and best.shape == (3, 3)
    totals = _totals(small, {x: xs[2], y: ys[0]})
    (ca, qa), (cb, qb) = totals[("imbrave150", "atezo_bev")], totals[("imbrave150", "sorafenib")]
    assert z[0, 2] == pytest.approx(150_000 * (qa - qb) - (ca - cb), rel=1e-10)
    assert set(best.ravel()) <= set(range(len(labels)))
    with pytest.raises(InputError, match="with itself"):
        dsa.two_way(small, x, x)


def test_scenarios_table_holds_the_base_case_and_each_scenario(small):
    table = dsa.run_scenarios(small, ["vial_sharing", "monthly_cycles"])
    assert list(dict.fromkeys(table["scenario"])) == ["base_case", "vial_sharing", "monthly_cycles"]
    base = _totals(small, {})
    for row in table[table["scenario"] == "base_case"].itertuples():
        assert (row.cost, row.qalys) == pytest.approx(base[(row.population, row.strategy)], rel=1e-12)
    key = ["population", "strategy"]
    b = table[table["scenario"] == "base_case"].set_index(key)
    v = table[table["scenario"] == "vial_sharing"].set_index(key)
    # sharing vials removes wastage from the weight-based Atezo-Bev (bevacizumab 15 mg/kg) only
    assert v.at[("imbrave150", "atezo_bev"), "cost"] < b.at[("imbrave150", "atezo_bev"), "cost"]
    assert v.at[("imbrave150", "sorafenib"), "cost"] == pytest.approx(b.at[("imbrave150", "sorafenib"), "cost"])
    # the small analysis already has monthly cycles: the scenario changes nothing
    m = table[table["scenario"] == "monthly_cycles"].set_index(key)
    np.testing.assert_allclose(m["cost"], b["cost"], rtol=1e-12)
    with pytest.raises(InputError, match="scenario 'nope'"):
        dsa.run_scenarios(small, ["nope"])


def test_every_shipped_scenario_loads():
    inputs = load_analysis()
    for name in inputs.analysis.scenarios:
        scenario = inputs.scenario(name)
        assert scenario.analysis.name == f"hcc_base_case.{name}"


def test_cli_dsa_writes_tornados_scenarios_and_prices(tmp_path):
    analysis = tmp_path / "small.yaml"
    analysis.write_text(yaml.safe_dump({
        "name": "small", "cycle_length_days": 30.4375, "horizon_years": 10, "populations": ["imbrave150"],
        "scenarios": {"ten_years": {"label": "10 years", "changes": {"horizon_years": 5}}}}))
    out = tmp_path / "dsa"
    assert main(["dsa", str(analysis), "--out", str(out), "--points", "3"]) == 0
    for stem in ("tornado_nmb_imbrave150", "tornado_icer_imbrave150", "two_way_imbrave150",
                 "two_way_optimal_imbrave150"):
        assert (out / f"{stem}.svg").stat().st_size > 0
    prices = pd.read_csv(out / "threshold_prices.csv")
    assert set(prices["price"]) == {"chiang_2021.price_atezolizumab_1200mg", "su_2021.price_bevacizumab_100mg"}
    assert set(pd.read_csv(out / "scenarios.csv")["scenario"]) == {"base_case", "ten_years"}
    assert main(["dsa", str(analysis), "--out", str(out), "--points", "1"]) == 2


def test_threshold_price_names_the_best_strategy_there(small):
    """Against sorafenib at $150,000 the lenvatinib threshold is a maximum price; at it,
    another strategy may still have the higher NMB, and the result says which. Atezo-Bev's
    QALY gain is too small for any atezolizumab price to reach $50,000 per QALY: it says so."""
    price = "reuters_2018_lenvatinib_price.price_lenvatinib_30_day_supply"
    result = dsa.threshold_price(small, price, "imbrave150", "lenvatinib", "sorafenib", 150_000.0)
    assert result["direction"] == "maximum price"
    totals = _totals(small, {price: result["threshold_price"]})
    nmb = {s: 150_000 * q - c for (p, s), (c, q) in totals.items() if p == "imbrave150"}
    best = max(nmb, key=nmb.get)
    assert result["best_strategy_at_threshold_price"] == small.populations["imbrave150"].strategies[best].label
    if best != "lenvatinib":
        assert "against the comparator only" in result["note"]
    free = dsa.threshold_price(small, "chiang_2021.price_atezolizumab_1200mg", "imbrave150", "atezo_bev",
                               "sorafenib", 50_000.0)
    assert np.isnan(free["threshold_price"]) and free["note"] == "not cost-effective even at a price of zero"
    at_zero = _totals(small, {"chiang_2021.price_atezolizumab_1200mg": 0.0})
    (ca, qa), (cb, qb) = at_zero[("imbrave150", "atezo_bev")], at_zero[("imbrave150", "sorafenib")]
    assert 50_000 * (qa - qb) - (ca - cb) < 0


def test_a_comparison_needs_two_strategies():
    overrides = {"populations": {"mvi": {"comparison": {"intervention": "tace_rt", "comparator": "tace_rt"}}}}
    with pytest.raises(InputError, match="must differ"):
        load_analysis(overrides=overrides)
