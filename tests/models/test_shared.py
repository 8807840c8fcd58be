"""Populations of one evaluation share what depends only on references they name alike
(:class:`markov.models.shared.SharedWork`): general-population survival on the grid and
the curve that curves of the cohort use, the general population's utility by cycle, and
the cost model with its drug acquisition per year. A population's results are those it
gets evaluated alone, whether it shares them or not."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml
from curve_analyses import write_evidence

from markov.inputs import load_analysis
from markov.models import build_model
from markov.models.shared import SharedWork
from markov.survival import GeneralPopulationSurvival

ANALYSES = Path(__file__).resolve().parents[2] / "analyses"
#: Test evidence for a population of its own start age, share of women and body weight.
OWN = {"age": (58.0, "age_years"), "female": (0.4, "proportion"), "kg": (61.0, "kg")}


@pytest.fixture(scope="module")
def shipped():
    return load_analysis(None)


def _analysis(directory, mvi: dict):
    """The shipped base case with ``mvi``'s references overridden (test evidence ``t.``)."""
    write_evidence(directory / "ev", OWN)
    path = directory / "own.yaml"
    path.write_text(yaml.safe_dump({"name": "own", "populations": ["imbrave150", "mvi"],
                                    "evidence_directories": ["ev"], "overrides": {"populations": {"mvi": mvi}}}))
    return load_analysis(path)


@pytest.fixture(scope="module")
def own_demography(tmp_path_factory):
    """mvi with a start age, share of women and body weight of its own."""
    return _analysis(tmp_path_factory.mktemp("own"), {
        "start_age": "t.age", "share_female": "t.female",
        "body_weight_kg": {"mean": "t.kg", "sd": "assumptions.body_weight_sd_kg"}})


@pytest.fixture(scope="module")
def own_weight(tmp_path_factory):
    """mvi with the same demography as imbrave150 and a body weight of its own."""
    return _analysis(tmp_path_factory.mktemp("weight"), {
        "body_weight_kg": {"mean": "t.kg", "sd": "assumptions.body_weight_sd_kg"}})


def _assert_same_results(got, expected):
    assert (got.population, got.strategy, got.state_names) == (expected.population, expected.strategy,
                                                               expected.state_names)
    assert got.costs.keys() == expected.costs.keys()
    for category in expected.costs:
        np.testing.assert_array_equal(got.costs[category], expected.costs[category], err_msg=category)
    np.testing.assert_array_equal(got.life_years, expected.life_years)
    np.testing.assert_array_equal(got.qalys, expected.qalys)
    assert got.floored_cycles == expected.floored_cycles
    assert got.os_calibration_unreachable == expected.os_calibration_unreachable


@pytest.mark.parametrize("which", ["shipped", "own_demography"])
def test_each_population_gets_the_results_it_gets_alone(which, request):
    inputs = request.getfixturevalue(which)
    params = inputs.sample(24, seed=7)
    together = build_model(inputs).evaluate(params, keep_traces=False)
    for name, population in inputs.populations.items():
        alone = build_model(dataclasses.replace(inputs, populations={name: population}))
        expected = alone.evaluate(params, keep_traces=False)
        got = [result for result in together if result.population == name]
        assert len(got) == len(expected) == len(population.strategies)
        for a, b in zip(got, expected, strict=True):
            _assert_same_results(a, b)


@pytest.mark.parametrize("analysis", ["hcc_partitioned_survival", "chancellor"])
def test_a_population_twice_under_two_names_gets_the_same_results_twice(analysis):
    """The partitioned-survival and Markov structures share as the sequencing one does."""
    inputs = load_analysis(ANALYSES / f"{analysis}.yaml")
    (name, population), = inputs.populations.items()
    twice = dataclasses.replace(inputs, populations={name: population, "copy": population})
    params = inputs.sample(5, seed=2)
    once = build_model(inputs).evaluate(params, keep_traces=False)
    results = build_model(twice).evaluate(params, keep_traces=False)
    assert len(results) == 2 * len(once)
    for got, expected in zip(results, once + once, strict=True):
        _assert_same_results(dataclasses.replace(got, population=expected.population), expected)


def test_populations_of_the_same_references_share_their_work(shipped):
    model, params, shared = build_model(shipped), shipped.sample(4, seed=1), SharedWork()
    imbrave, mvi = (model.population(name, shipped.populations[name], params, shared) for name in ("imbrave150", "mvi"))
    assert mvi.general_population is imbrave.general_population and not imbrave.general_population.flags.writeable
    assert mvi.values.costs is imbrave.values.costs
    assert mvi.values.general_population_utility is imbrave.values.general_population_utility
    curve = model.general_population_curve(shipped.populations["mvi"], params, shared)
    assert curve is model.general_population_curve(shipped.populations["imbrave150"], params, shared)
    # what they share is each population's own: its start age and share of women, drawn
    population = shipped.populations["mvi"]
    expected = GeneralPopulationSurvival(shipped.perspective.life_table, params[population.start_age],
                                         params[population.share_female]).survival_on_grid(model.grid)
    np.testing.assert_allclose(mvi.general_population, expected, rtol=5e-14, atol=0)  # engine/test_kernels.py
    # another evaluation shares nothing with this one
    again = model.population("mvi", population, params, SharedWork())
    assert again.general_population is not mvi.general_population and again.values.costs is not mvi.values.costs


def test_populations_of_other_references_make_their_own(own_demography, own_weight):
    for inputs, demography_shared in ((own_demography, False), (own_weight, True)):
        model, params, shared = build_model(inputs), inputs.sample(4, seed=1), SharedWork()
        imbrave, mvi = (model.population(name, inputs.populations[name], params, shared)
                        for name in ("imbrave150", "mvi"))
        assert (mvi.general_population is imbrave.general_population) == demography_shared
        assert (mvi.values.general_population_utility is imbrave.values.general_population_utility) \
            == demography_shared
        assert mvi.values.costs is not imbrave.values.costs
        component = next(c for c in inputs.treatments["atezolizumab_bevacizumab"].regimen if c.drug == "bevacizumab")
        assert not np.array_equal(mvi.values.costs.drug_per_year(component),  # dosed by weight: another weight's
                                  imbrave.values.costs.drug_per_year(component))
        if not demography_shared:
            # mvi's own start age (58) and share of women (0.4)
            expected = GeneralPopulationSurvival(inputs.perspective.life_table, 58.0, 0.4).survival_on_grid(model.grid)
            np.testing.assert_allclose(mvi.general_population, np.broadcast_to(expected, (4, model.grid.n_cycles + 1)),
                                       rtol=5e-14, atol=0)
            assert not np.array_equal(mvi.general_population, imbrave.general_population)


def test_populations_share_a_curve_made_from_the_same_things(shipped, own_demography):
    """A curve is another population's very curve, with its values on the grid, floors and
    time on treatment, when it is made from the same things: an equal specification
    (estimates read at load included), the very curves it refers to, and the same cohort."""
    model, params, shared = build_model(shipped), shipped.sample(4, seed=3), SharedWork()
    imbrave, mvi = (model.population(name, shipped.populations[name], params, shared) for name in ("imbrave150", "mvi"))
    specs = {name: (imbrave.spec.curves[name], mvi.spec.curves[name]) for name in imbrave.curves if name in mvi.curves}
    same = {name for name in specs if mvi.curves[name] is imbrave.curves[name]}
    assert {"lenvatinib_after_atezo_bev_os", "sorafenib_tot", "atezolizumab_tot"} <= same
    # one fit of the same data for both (one input, drawn once), and what is made from it alike
    assert {"best_supportive_care_os", "regorafenib_after_sorafenib_os"} <= same
    assert {name for name in specs if specs[name][0] != specs[name][1]}.isdisjoint(same)
    # written alike but with estimates of its own (another fit's references): not the same, nor is
    # the same specification on it (the hazard ratio on that BSC)
    bsc = shipped.populations["mvi"].curves["best_supportive_care_os"]
    own = bsc.with_estimates(dataclasses.replace(bsc.estimates, coefficients=bsc.estimates.coefficients[::-1]))
    assert own.model_dump_json() == bsc.model_dump_json()
    mvi_spec = shipped.populations["mvi"]
    mvi_spec = mvi_spec.model_copy(update={"curves": {**mvi_spec.curves, "best_supportive_care_os": own}})
    work = SharedWork()
    first, second = (model.population(name, spec, params, work)
                     for name, spec in (("imbrave150", shipped.populations["imbrave150"]), ("mvi", mvi_spec)))
    assert all(second.curves[name] is not first.curves[name]
               for name in ("best_supportive_care_os", "regorafenib_after_sorafenib_os"))
    for name in same:  # on the grid and floored once, for both
        assert mvi.on_grid[name] is imbrave.on_grid[name]
    floored = [model._floored(prepared, "lenvatinib_after_atezo_bev_os") for prepared in (imbrave, mvi)]
    assert floored[0] is floored[1] and not floored[0][0].flags.writeable
    assert mvi.convolutions is imbrave.convolutions
    # another cohort (start age, share of women): nothing is the other population's
    model, params, shared = build_model(own_demography), own_demography.sample(4, seed=3), SharedWork()
    imbrave, mvi = (model.population(name, own_demography.populations[name], params, shared)
                    for name in ("imbrave150", "mvi"))
    assert not any(mvi.curves[name] is imbrave.curves[name] for name in imbrave.curves if name in mvi.curves)
    assert model._floored(mvi, "sorafenib_tot") is not model._floored(imbrave, "sorafenib_tot")


def test_what_is_shared_by_object_goes_with_the_object_and_an_evaluation_leaves_no_cycles(shipped):
    """Values kept for a curve or an array are dropped when it is freed (by reference
    counting: an evaluation builds no reference cycles), so that a PSA does not hold the
    arrays of populations evaluated already, nor wait for the cyclic collector to free a
    chunk's."""
    import gc
    import weakref

    shared = SharedWork()
    array = np.ones(3)
    value = shared.for_objects("test", (array,), lambda a: a * 2.0, "ref")
    assert shared.for_objects("test", (array,), lambda a: a * 3.0, "ref") is value  # made once
    kept = weakref.ref(value)
    del array, value
    assert kept() is None and not shared._made
    # a value that holds its own object (time on treatment that is the curve itself)
    array = np.ones(3)
    shared.for_objects("itself", (array,), lambda a: a)
    gone = weakref.ref(array)
    del array, shared
    assert gone() is None

    model, params = build_model(shipped), shipped.sample(6, seed=4)
    model.evaluate(params, keep_traces=False)
    gc.collect()
    gc.disable()
    try:
        model.evaluate(params, keep_traces=False)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_cost_model_makes_each_cost_once_for_the_same_things(shipped):
    """What value_trace asks of a population's cost model for each state of each strategy
    is made once per treatment, drugs and state keys: the same read-only array again,
    equal to the method's own; other arguments are other entries."""
    model, params = build_model(shipped), shipped.sample(3, seed=4)
    costs = model.population("imbrave150", shipped.populations["imbrave150"], params, SharedWork()).values.costs
    sorafenib, lenvatinib = shipped.treatments["sorafenib"], shipped.treatments["lenvatinib"]
    drugs = costs.kept(costs.drugs_per_year, sorafenib, None)
    assert costs.kept(costs.drugs_per_year, sorafenib, None) is drugs and not drugs.flags.writeable
    np.testing.assert_array_equal(drugs, costs.drugs_per_year(sorafenib))
    other = costs.kept(costs.drugs_per_year, lenvatinib, None)
    assert other is not drugs and not np.array_equal(other, drugs)
    at_start, per_year = costs.kept(costs.procedures, sorafenib)
    assert not at_start.flags.writeable and not per_year.flags.writeable
    assert costs.kept(costs.procedures, sorafenib)[0] is at_start
    keys = ("second_line", "post_progression")
    care = costs.kept(costs.care_per_year, keys)
    assert costs.kept(costs.care_per_year, ("second_line",) + ("post_progression",)) is care  # equal, another tuple
    np.testing.assert_array_equal(care, costs.care_per_year(keys))
    assert costs.kept(costs.care_per_year, ("first_line",)) is not care
