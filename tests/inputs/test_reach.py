"""Inputs that no strategy of an analysis uses (markov/inputs/reach.py) are listed with the
inputs but are not uncertain: not drawn in a PSA, not columns of a global sensitivity
design or of an EVPPI, not rows of a one-way analysis. That they cannot change a result is
checked by changing each of them and comparing every result, bit for bit."""
import numpy as np
import pytest
import yaml

from markov.decision import dsa, gsa
from markov.inputs import load_analysis
from markov.models import build_model
from markov.probabilistic.psa import run_psa
from markov.runs import inputs_table

#: Drawn, but used by no strategy of the shipped base case: targets shown beside the model's
#: results (a 12-month OS landmark, a PFS median, an OS median that only calibration would use).
UNUSED = ["imbrave150_finn_2020.os_12_months_atezo_bev", "imbrave150_cheng_2022.pfs_median_atezo_bev",
          "imbrave150_cheng_2022.os_median_atezo_bev"]
#: Drawn and used: hazard ratios, a utility.
USED = ["imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib",
        "kim_2025.pfs_hazard_ratio_atezo_bev_vs_locoregional", "su_2021.utility_progression_free"]


@pytest.fixture(scope="module")
def small_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("reach") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    return path


@pytest.fixture(scope="module")
def small(small_path):
    return load_analysis(small_path)


def test_an_unused_input_with_a_distribution_is_not_uncertain(small):
    for ref in UNUSED + USED:
        assert ref in small.uses and ref in small.references, ref  # still an input: listed, settable
        assert type(small.distributions[ref]).__name__ != "Fixed", ref  # it has a distribution
    assert set(UNUSED) <= small.unused and not set(USED) & small.unused
    assert not set(UNUSED) & set(small.uncertain) and set(USED) <= set(small.uncertain)
    # ramucirumab is given by no strategy (no US price): none of its inputs is used
    assert {ref for ref in small.references if ref.startswith("reach2_zhu_2019.")} <= small.unused
    # draws leave it at its estimate
    draws = small.sample(200, seed=1)
    for ref in UNUSED:
        assert (draws[ref] == small.evidence[ref].value.value).all(), ref
    table = inputs_table(small).set_index("reference")
    assert not table.loc[UNUSED, "used"].any() and table.loc[USED, "used"].all()


def test_the_global_sensitivity_design_and_the_one_way_rows_leave_it_out(small):
    morris = gsa.morris(small, 2, wtp=150_000)
    assert not set(UNUSED) & set(morris["parameter"]) and set(USED) <= set(morris["parameter"])
    assert set(morris["parameter"]) == set(small.uncertain)
    assert {ref for refs in gsa.groups_by_source(small).values() for ref in refs} == set(small.uncertain)
    ranges = dsa.input_ranges(small)
    assert not set(UNUSED) & set(ranges["reference"]) and set(USED) <= set(ranges["reference"])


def test_the_psa_stores_and_the_evppi_reads_only_uncertain_inputs(small):
    psa = run_psa(small, 60, seed=2)
    assert list(psa.parameters.columns) == small.uncertain
    assert not set(UNUSED) & set(psa.parameters.columns)


def test_a_scenario_that_uses_it_draws_it(small):
    """Calibrated to the reported OS medians (a scenario), best supportive care uses them."""
    calibrated = small.scenario("os_calibration")
    ref = "imbrave150_cheng_2022.os_median_atezo_bev"
    assert ref not in calibrated.unused and ref in calibrated.uncertain
    assert "imbrave150_finn_2020.os_12_months_atezo_bev" in calibrated.unused


def test_only_the_populations_of_the_analysis_count(small_path, tmp_path):
    path = tmp_path / "imbrave150.yaml"
    path.write_text(yaml.safe_dump({"name": "imbrave150", "cycle_length_days": 30.4375, "horizon_years": 10,
                                    "populations": ["imbrave150"]}))
    inputs = load_analysis(path)
    mvi = "kim_2025.pfs_hazard_ratio_atezo_bev_vs_locoregional"
    assert mvi not in inputs.uses and mvi not in inputs.uncertain
    # TACE ± RT is given in the MVI population only: its inputs are there in the treatments file, unused
    assert "assumptions.radiotherapy_share_locoregional" in inputs.unused
    assert "assumptions.radiotherapy_share_locoregional" in load_analysis(small_path).uncertain


@pytest.mark.parametrize("analysis", [None, "analyses/hcc_three_lines.yaml", "analyses/hcc_partitioned_survival.yaml",
                                      "analyses/chancellor.yaml"])
def test_changing_an_unused_input_changes_no_result(analysis, small_path):
    """Every unused input at twice its value (0.5 for a share), one per row: every cost,
    life-year and QALY of every row equals the base case's exactly."""
    inputs = load_analysis(small_path if analysis is None else analysis)
    unused = sorted(inputs.unused)
    if not unused:
        assert analysis == "analyses/chancellor.yaml"  # every input of the textbook model is used
        return
    n = 1 + len(unused)
    values = {}
    for j, ref in enumerate(unused, start=1):
        item = inputs.evidence[ref].value
        changed = 0.5 if item.unit in ("proportion", "utility") else 2 * item.value + 1
        values[ref] = np.full(n, item.value)
        values[ref][j] = changed
    results = build_model(inputs).evaluate(inputs.with_values(values, n), keep_traces=False)
    for result in results:
        for measure in (result.total_cost, result.life_years.sum(axis=1), result.qalys.sum(axis=1)):
            assert (measure == measure[0]).all(), (result.population, result.strategy, unused)
