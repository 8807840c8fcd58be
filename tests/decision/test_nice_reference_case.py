"""The NICE reference case: the UK NHS perspective, confidential discounts, the severity
modifier and money in any ISO 4217 currency."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from markov import InputError
from markov.cli import main
from markov.decision.discounts import DISCOUNTED, LIST_PRICE, discount_thresholds, price_basis
from markov.decision.severity import general_population_qalys, severity_weight, shortfall
from markov.inputs import load_analysis
from markov.inputs.money import check_currency
from markov.models import build_model
from markov.runs.tables import thresholds_of

ROOT = Path(__file__).resolve().parents[2]
NICE = ROOT / "analyses" / "nice_reference_case.yaml"


@pytest.fixture(scope="module")
def nice():
    return load_analysis(NICE)


def _cutoffs(inputs):
    modifier = inputs.perspective.severity_modifier
    value = lambda ref: inputs.evidence[ref].value.value
    return ([value(r) for r in modifier.absolute_cutoffs], [value(r) for r in modifier.proportional_cutoffs],
            [value(r) for r in modifier.weights])


# --------------------------------------------------------------------------- severity

def test_the_shipped_cutoffs_are_those_printed_by_the_source(nice):
    assert _cutoffs(nice) == ([12, 18], [0.85, 0.95], [1.2, 1.7])


@pytest.mark.parametrize("proportional, weight", [
    (0.0, 1.0), (0.8499, 1.0), (0.85, 1.2), (0.8501, 1.2), (0.9499, 1.2), (0.95, 1.7), (0.9501, 1.7), (1.0, 1.7)])
def test_weight_at_and_either_side_of_each_proportional_cutoff(nice, proportional, weight):
    absolute_cutoffs, proportional_cutoffs, weights = _cutoffs(nice)
    assert severity_weight(1.0, proportional, absolute_cutoffs, proportional_cutoffs, weights) == weight


@pytest.mark.parametrize("absolute, weight", [
    (0.0, 1.0), (11.99, 1.0), (12.0, 1.2), (12.01, 1.2), (17.99, 1.2), (18.0, 1.7), (18.01, 1.7), (30.0, 1.7)])
def test_weight_at_and_either_side_of_each_absolute_cutoff(nice, absolute, weight):
    absolute_cutoffs, proportional_cutoffs, weights = _cutoffs(nice)
    assert severity_weight(absolute, 0.10, absolute_cutoffs, proportional_cutoffs, weights) == weight


def test_the_higher_weight_of_the_two_measures_applies():
    cut = ([12, 18], [0.85, 0.95], [1.2, 1.7])
    assert severity_weight(5.0, 0.96, *cut) == 1.7      # proportional alone
    assert severity_weight(12.5, 0.50, *cut) == 1.2     # absolute alone
    assert severity_weight(18.0, 0.90, *cut) == 1.7     # absolute 1.7 beats proportional 1.2
    np.testing.assert_array_equal(severity_weight(np.array([1, 13, 19]), np.array([0.1, 0.1, 0.1]), *cut),
                                  [1.0, 1.2, 1.7])


def test_shortfall_hand_worked():
    # general population 10 QALYs, 1 QALY with current care: 9 lost, 90% of what was to come
    absolute, proportional = shortfall(10.0, 1.0)
    assert absolute == 9.0 and proportional == pytest.approx(0.9)
    assert severity_weight(absolute, proportional, [12, 18], [0.85, 0.95], [1.2, 1.7]) == 1.2
    absolute, proportional = shortfall(4.0, 0.1)   # 3.9 lost, 97.5%: the proportional shortfall decides
    assert severity_weight(absolute, proportional, [12, 18], [0.85, 0.95], [1.2, 1.7]) == 1.7


def test_cutoffs_must_ascend():
    with pytest.raises(InputError, match="ascending"):
        severity_weight(1.0, 0.5, [18, 12], [0.85, 0.95], [1.2, 1.7])


def test_general_population_life_expectancy_matches_the_life_table():
    # utility 1, no discounting: life expectancy at 65 of England 2021-23, which the life
    # table's sidecar computes as 18.6421 (men) and 21.1475 (women) with deaths mid-year
    common = {"intercept": 1.0, "male": 0.0, "age": 0.0, "age_squared": 0.0, "discount_rate": 0.0}
    men = general_population_qalys("england_2021_2023", 65, 0.0, **common)
    women = general_population_qalys("england_2021_2023", 65, 1.0, **common)
    assert men[0] == pytest.approx(18.6421, abs=0.02)
    assert women[0] == pytest.approx(21.1475, abs=0.02)
    mixed = general_population_qalys("england_2021_2023", 65, 0.25, **common)
    assert mixed[0] == pytest.approx(0.75 * men[0] + 0.25 * women[0])


def test_general_population_qalys_hand_worked_utility_and_discounting():
    # a constant utility scales QALYs; discounting lowers them; the Ara & Brazier norms at 65
    # (0.8150 men, 0.7938 women, UK_NHS.md) lie between the utility at 65 and at later ages
    common = {"male": 0.0, "age": 0.0, "age_squared": 0.0}
    full = general_population_qalys("england_2021_2023", 65, 0.0, intercept=1.0, discount_rate=0.0, **common)
    half = general_population_qalys("england_2021_2023", 65, 0.0, intercept=0.5, discount_rate=0.0, **common)
    discounted = general_population_qalys("england_2021_2023", 65, 0.0, intercept=1.0, discount_rate=0.035, **common)
    assert half[0] == pytest.approx(0.5 * full[0])
    assert discounted[0] < full[0]
    norms = general_population_qalys("england_2021_2023", 65, 0.0, intercept=0.9508566, male=0.0212126,
                                     age=-0.0002587, age_squared=-0.0000332, discount_rate=0.0)
    assert 0.6 * full[0] < norms[0] < 0.8150 * full[0]


def test_severity_table_of_the_nice_reference_case(nice, tmp_path):
    assert main(["run", str(NICE), "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "severity_modifier.csv")
    assert {"population", "comparator", "absolute_shortfall", "proportional_shortfall", "qaly_weight"} <= set(table)
    row = table.set_index("population").loc["imbrave150"]
    assert row["comparator"] == "sorafenib"
    assert row["absolute_shortfall"] == pytest.approx(row["general_population_qalys"] - row["comparator_qalys"])
    absolute_cutoffs, proportional_cutoffs, weights = _cutoffs(nice)
    assert row["qaly_weight"] == severity_weight(row["absolute_shortfall"], row["proportional_shortfall"],
                                                 absolute_cutoffs, proportional_cutoffs, weights)
    assert (tmp_path / "discount_thresholds.csv").is_file() and (tmp_path / "severity_weighted.csv").is_file()
    results = pd.read_csv(tmp_path / "results_imbrave150.csv")
    assert (results["prices"] == LIST_PRICE).all()
    assert (pd.read_csv(tmp_path / "incremental_imbrave150.csv")["prices"] == LIST_PRICE).all()


# --------------------------------------------------------------------------- the UK perspective

def test_the_uk_perspective_follows_the_nice_reference_case(nice):
    perspective = nice.perspective
    assert perspective.currency == "GBP" and perspective.life_table == "england_2021_2023"
    for ref in (perspective.discount_rate_costs, perspective.discount_rate_effects):
        assert nice.evidence[ref].value.value == 0.035
    assert sorted(nice.evidence[ref].value.value for ref in perspective.thresholds) == [20000, 30000]
    # every money value the UK perspective uses is in GBP and every [R]/[N] input is an assumption
    for ref in nice.references:
        value = nice.evidence[ref].value
        if value.unit == "money":
            assert value.currency == "GBP", ref
    assert nice.evidence["uk_nhs_assumptions.price_lenvatinib_4mg_30_capsules_gbp"].value.status == "assumption"


def test_nice_second_lines_have_no_ramucirumab_and_no_regorafenib_after_lenvatinib(nice):
    strategies = nice.populations["imbrave150"].strategies
    after = {name: [o.treatment for o in s.lines[1].options] for name, s in strategies.items()}
    assert sorted(after["sorafenib"]) == ["cabozantinib", "regorafenib"]
    assert after["lenvatinib"] == ["sorafenib"]
    assert not any("ramucirumab" in options for options in after.values())


# --------------------------------------------------------------------------- confidential discounts

def _costs(inputs, values):
    model = build_model(inputs)
    return {(r.population, r.strategy): ({c: float(v.sum()) for c, v in r.costs.items()}, float(r.qalys.sum()))
            for r in model.evaluate(inputs.with_values(values, 1))}


def test_one_discount_changes_only_that_drugs_acquisition_cost(nice):
    ref = "uk_confidential_discounts.atezolizumab"
    at_list, discounted, free = (_costs(nice, {ref: d}) for d in (0.0, 0.3, 1.0))
    changed = set()
    for key, (costs, qalys) in at_list.items():
        assert discounted[key][1] == qalys and free[key][1] == qalys  # effects never change
        for category, amount in costs.items():
            saving = amount - discounted[key][0][category]
            if saving:
                changed.add((key, category))
                # linear in the discount: 30% of atezolizumab's whole acquisition cost
                assert saving == pytest.approx(0.3 * (amount - free[key][0][category]))
    # only the first-line drugs of the strategies that start with atezolizumab
    assert changed == {(("imbrave150", "atezo_bev"), "first_line_drugs"), (("mvi", "atezo_bev"), "first_line_drugs"),
                       (("mvi", "tace_rt"), "second_line_drugs")}
    bevacizumab = _costs(nice, {"uk_confidential_discounts.bevacizumab": 0.3})
    key = ("imbrave150", "atezo_bev")
    drugs = at_list[key][0]["first_line_drugs"]
    atezo_only = drugs - discounted[key][0]["first_line_drugs"]
    bev_only = drugs - bevacizumab[key][0]["first_line_drugs"]
    assert atezo_only > 0 and bev_only > 0 and atezo_only != pytest.approx(bev_only)


def test_results_say_which_prices_they_use(nice):
    assert price_basis(nice) == LIST_PRICE
    assert price_basis(nice, {"uk_confidential_discounts.sorafenib": 0.2}) == DISCOUNTED


def test_discount_thresholds_make_the_intervention_cost_effective(nice):
    thresholds = thresholds_of(nice)
    table = discount_thresholds(nice, thresholds, {"imbrave150": 1.2})
    row = table[(table.population == "imbrave150") & (table.intervention == "atezo_bev")
                & (table.threshold == "30000_GBP") & (table.qaly_weight == 1.0)].iloc[0]
    assert row["drugs"] == "atezolizumab, bevacizumab" and 0 < row["discount_threshold"] < 1
    values = {"uk_confidential_discounts.atezolizumab": row["discount_threshold"],
              "uk_confidential_discounts.bevacizumab": row["discount_threshold"]}
    costs = _costs(nice, values)
    d_cost = sum(costs[("imbrave150", "atezo_bev")][0].values()) - sum(costs[("imbrave150", "sorafenib")][0].values())
    d_qalys = costs[("imbrave150", "atezo_bev")][1] - costs[("imbrave150", "sorafenib")][1]
    assert d_cost == pytest.approx(30000 * d_qalys, rel=1e-6)   # the ICER is the threshold there
    weighted = table[(table.population == "imbrave150") & (table.intervention == "atezo_bev")
                     & (table.threshold == "30000_GBP") & (table.qaly_weight == 1.2)].iloc[0]
    assert weighted["discount_threshold"] < row["discount_threshold"]  # weighting lowers the discount needed


# --------------------------------------------------------------------------- money as data

@pytest.mark.parametrize("code", ["GBP", "USD", "CAD", "EUR", "AUD", "JPY"])
def test_iso_4217_codes_are_accepted(code):
    assert check_currency(code) == code


@pytest.mark.parametrize("code", ["cad", "CA", "CADD", "ABC", "£", ""])
def test_other_currency_codes_are_refused(code):
    with pytest.raises(ValueError, match="ISO 4217"):
        check_currency(code)


def _cad_perspective(tmp_path: Path) -> Path:
    """A synthetic Canadian payer: the UK perspective's structure with every price replaced
    by a made-up CAD value of an evidence file of the test (not evidence of anything)."""
    costs = yaml.safe_load((ROOT / "params" / "hcc" / "costs.yaml").read_text())["perspectives"]["uk_nhs"]
    evidence = ROOT / "params" / "evidence"
    values, renamed = {}, {}

    def cad(ref):
        stem, name = ref.split(".")
        item = yaml.safe_load((evidence / f"{stem}.yaml").read_text())["values"][name]
        if item["unit"] != "money":
            return ref
        key = f"{stem}_{name}"
        values[key] = {**item, "currency": "CAD", "status": "assumption", "range": [item["value"], item["value"]],
                       "note": "synthetic test value"}
        values[key].pop("where", None)
        renamed[ref] = f"synthetic_cad.{key}"
        return renamed[ref]

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return cad(node) if isinstance(node, str) and "." in node and " " not in node and node.count(".") == 1 else node

    perspective = {**walk(costs), "label": "Synthetic Canadian payer", "currency": "CAD", "life_table": "uk_2021_2023"}
    directory = tmp_path / "evidence"
    directory.mkdir()
    (directory / "synthetic_cad.yaml").write_text(yaml.safe_dump(
        {"source": {"citation": "Synthetic values for a test", "kind": "assumptions"}, "values": values}))
    analysis = tmp_path / "cad.yaml"
    analysis.write_text(yaml.safe_dump({
        "name": "cad_test", "perspective": "ca_payer", "populations": ["imbrave150"],
        "evidence_directories": [str(directory)], "overrides": {"perspectives": {"ca_payer": perspective}}}))
    return analysis


def test_a_cad_perspective_loads_and_runs(tmp_path):
    analysis = _cad_perspective(tmp_path)
    inputs = load_analysis(analysis)
    assert inputs.perspective.currency == "CAD"
    results = build_model(inputs).evaluate(inputs.base_case())
    assert all(r.total_cost[0] > 0 for r in results)
    assert main(["run", str(analysis), "--out", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "run.json").read_text())["currency"] == "CAD"


def test_a_price_in_another_currency_is_refused(tmp_path):
    analysis = _cad_perspective(tmp_path)
    content = yaml.safe_load(analysis.read_text())
    gbp = "georghiou_2014_end_of_life.cost_hospital_care_last_3_months"
    content["overrides"]["perspectives"]["ca_payer"]["terminal_care"] = gbp
    analysis.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match="priced in GBP"):
        load_analysis(analysis)


def test_a_perspective_with_a_bad_currency_is_refused(tmp_path):
    analysis = _cad_perspective(tmp_path)
    content = yaml.safe_load(analysis.read_text())
    content["overrides"]["perspectives"]["ca_payer"]["currency"] = "CDN"
    analysis.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match="ISO 4217"):
        load_analysis(analysis)
